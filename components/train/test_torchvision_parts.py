"""Tests of the torchvision trainer's parts: the exported head, early stopping, failures and seeds.

Skipped where torch, torchvision, onnx or onnxruntime are missing, unless HELMET_REQUIRE_ML=1.
"""
import contextlib
import io
import json
import sys
import unittest
import warnings
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_ml_support import CLASSES, MLTestCase, write_synthetic_dataset  # noqa: E402


class RawHeadOutputsTest(MLTestCase):
    def test_the_exported_module_computes_torchvisions_head_outputs(self):
        import torch

        from ssdlite_model import ModelSettings, RawHeadOutputs, anchors_xyxy, build_model

        torch.manual_seed(0)
        model = build_model(ModelSettings(classes=CLASSES, image_size=96)).eval()
        images = torch.rand(2, 3, 96, 96)
        with torch.no_grad():
            normalised, _ = model.transform(list(images))
            expected = model.head(list(model.backbone(normalised.tensors).values()))
            boxes, scores = RawHeadOutputs(model)(images)
        torch.testing.assert_close(boxes, expected["bbox_regression"], atol=1e-5, rtol=1e-4)
        torch.testing.assert_close(scores, expected["cls_logits"], atol=1e-5, rtol=1e-4)
        self.assertEqual(scores.shape, (2, anchors_xyxy(model, 96).shape[0], len(CLASSES) + 1))


class EarlyStoppingTest(MLTestCase):
    """run_epochs with scripted val mAPs: which epoch is kept and when training stops."""

    def run_epochs(self, maps, patience):
        import argparse

        import torch

        import torchvision_backend as tb
        from detection_metrics import Evaluation
        from ssdlite_model import ModelSettings

        scripted = iter(Evaluation(map=m, ap_per_class={0: m}) for m in maps)
        saved = []
        with mock.patch.object(tb, "train_one_epoch", return_value=1.5), \
                mock.patch.object(tb, "recalibrate_batchnorm"), \
                mock.patch.object(tb, "evaluate_model", side_effect=lambda *a: next(scripted)), \
                mock.patch.object(tb, "save_checkpoint", side_effect=lambda path, model, settings, epoch, m: saved.append(epoch)), \
                contextlib.redirect_stdout(io.StringIO()) as out, warnings.catch_warnings():
            # No real optimizer step is taken here, which the scheduler would warn about.
            warnings.filterwarnings("ignore", message="Detected call of `lr_scheduler.step()`")
            result = tb.run_epochs(
                torch.nn.Linear(2, 2), ModelSettings(classes=CLASSES, image_size=64), (None, None),
                torch.device("cpu"), argparse.Namespace(epoch=len(maps), patience=patience), Path("unused"),
            )
        return result, saved, out.getvalue()

    def test_best_epoch_ties_go_to_the_later_and_patience_stops(self):
        result, saved, log = self.run_epochs([0.2, 0.5, 0.5, 0.4, 0.3, 0.9], patience=2)
        self.assertEqual(saved, [1, 2, 3])
        self.assertEqual((result["best_epoch"], result["map50"], result["stopped_early"]), (3, 0.5, True))
        self.assertEqual([e["epoch"] for e in result["epochs"]], [1, 2, 3, 4, 5])
        self.assertEqual(result["epochs"][0]["val_ap50_per_class"], {"hat": 0.2})
        self.assertIn("stopping early (--patience 2)", log)

    def test_patience_0_never_stops_and_the_last_epoch_is_not_early(self):
        result, _, _ = self.run_epochs([0.5, 0.1, 0.1, 0.1], patience=0)
        self.assertEqual((len(result["epochs"]), result["stopped_early"]), (4, False))
        result, _, _ = self.run_epochs([0.5, 0.1, 0.1], patience=2)
        self.assertEqual((len(result["epochs"]), result["stopped_early"]), (3, False))


class ShapeShifter:
    """A module that computes x * 2 while being exported and x * 3 afterwards: ONNX must disagree."""

    @staticmethod
    def make():
        import torch

        class Module(torch.nn.Module):
            calls = 0

            def forward(self, images):
                Module.calls += 1
                factor = 2.0 if Module.calls == 1 else 3.0
                return images * factor, images.mean(dim=(2, 3)) * factor

        return Module()


class TorchvisionFailureTest(MLTestCase):
    """Each failure is caught before or after training with the exit code the pipeline expects."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.with_dataset(images=5, val=1, seed=3)

    def main(self, *extra, data=None):
        import train_pipeline as tp

        out = self.root / f"out-{self.id().rsplit('.', 1)[-1]}"
        stdout, stderr = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code = tp.main([
                "--epoch", "1", "--device", "cpu", "--workers", "0", "--output_dir", str(out),
                "--data", str(data or self.data), "--batch", "2", "--img", "64", "--framework", "torchvision", *extra,
            ])
        return code, stdout.getvalue(), stderr.getvalue(), out

    def test_missing_data_exits_1(self):
        code, _, err, out = self.main(data=self.root / "none.yaml")
        self.assertEqual(code, 1)
        self.assertIn("run the prepare step first", err)
        self.assertFalse(out.exists())

    def test_no_validation_image_exits_1(self):
        voc = self.root / "no-val"
        data = write_synthetic_dataset(voc, images=3, val=0)
        code, _, err, _ = self.main(data=data)
        self.assertEqual(code, 1)
        self.assertIn("--val-ratio", err)

    def test_cuda_without_cuda_exits_2_naming_cpu(self):
        with mock.patch("torch.cuda.is_available", return_value=False):
            code, _, err, out = self.main("--device", "0,1")
        self.assertEqual(code, 2)
        self.assertIn("torch.cuda.is_available() is False", err)
        self.assertIn("--device cpu", err)
        self.assertFalse(out.exists())

    def test_batch_of_one_exits_2(self):
        code, _, err, _ = self.main("--batch", "1")
        self.assertEqual(code, 2)
        self.assertIn("--batch must be at least 2", err)

    def test_onnx_that_disagrees_with_pytorch_is_caught(self):
        import torch

        import onnx_export
        from step_errors import OnnxMismatch

        path = self.root / "shifter.onnx"
        with self.assertRaisesRegex(OnnxMismatch, "disagree"):
            onnx_export.export_and_check(ShapeShifter.make(), 8, torch.rand(1, 3, 8, 8), path)

    def test_a_failed_onnx_check_fails_the_step_without_best_onnx(self):
        from step_errors import OnnxMismatch

        with mock.patch("torchvision_backend.export_and_check", side_effect=OnnxMismatch("they disagree")):
            code, _, err, out = self.main()
        self.assertEqual(code, 1)
        self.assertIn("train: error: they disagree", err)
        self.assertTrue((out / "best.pt").is_file())
        self.assertEqual(sorted(p.name for p in out.iterdir()), ["best.pt"])

    def test_same_seed_same_run_and_continuing_from_best_pt(self):
        import torch

        runs = [self.main("--seed", "5") for _ in range(2)]
        self.assertEqual([r[0] for r in runs], [0, 0], runs[0][2])
        metrics = [json.loads((r[3] / "metrics.json").read_text()) for r in runs]
        self.assertEqual(metrics[0]["epochs"][0]["train_loss"], metrics[1]["epochs"][0]["train_loss"])
        states = [torch.load(r[3] / "best.pt", weights_only=True)["state_dict"] for r in runs]
        self.assertTrue(all(torch.equal(states[0][k], states[1][k]) for k in states[0]))

        best = runs[0][3] / "best.pt"
        code, _, err, out = self.main("--weights", str(best), "--img", "96")
        self.assertEqual(code, 0, err)
        self.assertEqual(json.loads((out / "metrics.json").read_text())["weights"], str(best))

        other = self.root / "other"
        data = write_synthetic_dataset(other, images=3, val=1)
        (other / "data.yaml").write_text((other / "data.yaml").read_text().replace('["hat", "person"]', '["helmet", "head"]'))
        code, _, err, _ = self.main("--weights", str(best), data=data)
        self.assertEqual(code, 1)
        self.assertIn("for classes ['hat', 'person']", err)


if __name__ == "__main__":
    unittest.main()
