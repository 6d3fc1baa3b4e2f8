"""End-to-end test of the torchvision trainer: 2 epochs on a tiny data set drawn with PIL.

Skipped where torch, torchvision, onnx or onnxruntime are missing, unless HELMET_REQUIRE_ML=1.
"""
import contextlib
import io
import json
import math
import socket
import sys
import unittest
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_ml_support import CLASSES, MLTestCase, no_network  # noqa: E402


class TorchvisionTrainTest(MLTestCase):
    """One 2-epoch run shared by the tests: training is the slow part."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        import train_pipeline as tp

        cls.with_dataset(images=8, val=2)
        cls.out = cls.root / "out"
        stdout, stderr = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr), \
                mock.patch("torch.hub.download_url_to_file", no_network), \
                mock.patch.object(socket.socket, "connect", no_network):
            cls.code = tp.main([
                "--epoch", "2", "--device", "cpu", "--workers", "0", "--output_dir", str(cls.out),
                "--data", str(cls.data), "--batch", "4", "--img", "96", "--framework", "torchvision",
            ])
        cls.stdout, cls.stderr = stdout.getvalue(), stderr.getvalue()
        cls.metrics = json.loads((cls.out / "metrics.json").read_text()) if cls.code == 0 else {}

    def test_run_succeeds_and_logs_each_epoch(self):
        self.assertEqual(self.code, 0, self.stderr)
        epoch_lines = [line for line in self.stdout.splitlines() if line.startswith("train: epoch ")]
        self.assertEqual(len(epoch_lines), 2, self.stdout)
        self.assertIn("val mAP@0.5", epoch_lines[0])

    def test_metrics_record_every_epoch(self):
        m = self.metrics
        self.assertEqual((m["framework"], m["model"], m["image_size"]), ("torchvision", "ssdlite_mobilenet_v3_large", 96))
        self.assertEqual((m["classes"], m["train_images"], m["val_images"]), (CLASSES, 6, 2))
        self.assertEqual([e["epoch"] for e in m["epochs"]], [1, 2])
        for epoch in m["epochs"]:
            self.assertTrue(math.isfinite(epoch["train_loss"]) and epoch["train_loss"] > 0)
            self.assertTrue(0.0 <= epoch["val_map50"] <= 1.0)
            self.assertTrue(set(epoch["val_ap50_per_class"]) <= set(CLASSES))
        best = max(e["val_map50"] for e in m["epochs"])
        self.assertEqual(m["map50"], best)
        self.assertEqual(m["epochs"][m["best_epoch"] - 1]["val_map50"], best)
        self.assertFalse(m["stopped_early"])

    def test_best_pt_rebuilds_the_model(self):
        import torch

        from ssdlite_model import ModelSettings, build_model

        doc = torch.load(self.out / "best.pt", weights_only=True)
        settings = ModelSettings.from_dict(doc["settings"])
        self.assertEqual((settings.classes, settings.image_size), (CLASSES, 96))
        self.assertEqual(doc["epoch"], self.metrics["best_epoch"])
        build_model(settings).load_state_dict(doc["state_dict"])

    def test_onnx_is_checked_and_loads_with_the_declared_shapes(self):
        import numpy as np
        import onnxruntime

        report = self.metrics["onnx"]
        self.assertEqual((report["file"], report["opset"]), ("best.onnx", 12))
        self.assertTrue(report["agrees"])
        self.assertLess(report["max_abs_diff"], 1e-2)
        self.assertEqual(report["tolerance"], {"absolute": 1e-3, "relative": 1e-3})
        session = onnxruntime.InferenceSession(str(self.out / "best.onnx"), providers=["CPUExecutionProvider"])
        (image_input,) = session.get_inputs()
        self.assertEqual((image_input.name, image_input.shape), ("images", [1, 3, 96, 96]))
        self.assertEqual(report["inputs"], [{"name": "images", "shape": [1, 3, 96, 96], "dtype": "float32"}])
        boxes, scores = session.run(["boxes", "scores"], {"images": np.zeros((1, 3, 96, 96), np.float32)})
        anchors = json.loads((self.out / "anchors.json").read_text())["anchors"]
        self.assertEqual(boxes.shape, (1, len(anchors), 4))
        self.assertEqual(scores.shape, (1, len(anchors), len(CLASSES) + 1))
        self.assertEqual([o["shape"] for o in report["outputs"]], [list(boxes.shape), list(scores.shape)])
        for op in ("Identity", "Constant", "Shape", "Gather", "NonMaxSuppression"):
            self.assertNotIn(op, report["operators"])
        self.assertFalse(list(self.out.glob("*.tmp")))


if __name__ == "__main__":
    unittest.main()
