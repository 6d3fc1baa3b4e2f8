"""Tests of the command line, the framework choice, exit codes and the ultralytics backend (faked)."""
import contextlib
import io
import json
import sys
import tempfile
import types
import unittest
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent))

import train_pipeline as tp  # noqa: E402
import ultralytics_backend as ub  # noqa: E402

NO_TORCHVISION = {name: None for name in tp.TORCHVISION_MODULES}


class FakeYOLO:
    """Records what the trainer is asked to do; writes the files ultralytics would write."""

    calls: list = []

    def __init__(self, weights):
        self.weights = weights
        FakeYOLO.calls.append(("init", weights))

    def train(self, **kwargs):
        FakeYOLO.calls.append(("train", kwargs))
        best = Path(kwargs["project"]) / kwargs["name"] / "weights" / "best.pt"
        best.parent.mkdir(parents=True, exist_ok=True)
        best.write_bytes(b"weights")
        self.trainer = types.SimpleNamespace(best=str(best))
        return types.SimpleNamespace(results_dict={"metrics/mAP50(B)": 0.5})

    def export(self, **kwargs):
        FakeYOLO.calls.append(("export", kwargs))
        onnx = Path(self.weights).with_suffix(".onnx")
        onnx.write_bytes(b"onnx")
        return str(onnx)


def fake_ultralytics() -> types.ModuleType:
    module = types.ModuleType("ultralytics")
    module.YOLO = FakeYOLO
    return module


class UltralyticsBackendTest(unittest.TestCase):
    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.root = Path(tmp.name)
        (self.root / "data.yaml").write_text("nc: 2\n")
        FakeYOLO.calls = []

    def args(self, *extra):
        return tp.parse_args(
            ["--epoch", "3", "--device", "cpu", "--workers", "2", "--output_dir", str(self.root / "out"),
             "--data", str(self.root / "data.yaml"), *extra]
        )

    def test_calls_ultralytics_with_the_arguments(self):
        ub.train(fake_ultralytics(), self.args("--batch", "8", "--img", "320", "--patience", "5"))
        kind, kwargs = FakeYOLO.calls[1]
        self.assertEqual(kind, "train")
        self.assertEqual(
            {k: kwargs[k] for k in ("epochs", "device", "workers", "batch", "imgsz", "patience", "seed")},
            {"epochs": 3, "device": "cpu", "workers": 2, "batch": 8, "imgsz": 320, "patience": 5, "seed": 0},
        )
        self.assertEqual(FakeYOLO.calls[0], ("init", "yolov5s.pt"))
        self.assertEqual(FakeYOLO.calls[-1], ("export", {"format": "onnx", "imgsz": 320}))
        out = self.root / "out"
        self.assertEqual((out / "best.pt").read_bytes(), b"weights")
        self.assertEqual((out / "best.onnx").read_bytes(), b"onnx")
        metrics = json.loads((out / "metrics.json").read_text())
        self.assertEqual(metrics["framework"], "ultralytics")
        self.assertEqual(metrics["metrics"], {"metrics/mAP50(B)": 0.5})
        self.assertFalse(list(out.glob("*.tmp")))

    def test_given_weights_are_used(self):
        ub.train(fake_ultralytics(), self.args("--weights", "yolov5n.pt"))
        self.assertEqual(FakeYOLO.calls[0], ("init", "yolov5n.pt"))

    def test_missing_data_file_is_a_clear_error(self):
        with self.assertRaises(FileNotFoundError) as ctx:
            ub.train(fake_ultralytics(), tp.parse_args(
                ["--epoch", "1", "--device", "0", "--workers", "1", "--output_dir", "o", "--data", str(self.root / "none.yaml")]))
        self.assertIn("run the prepare step first", str(ctx.exception))

    def test_main_trains_with_ultralytics_when_it_is_installed(self):
        out = io.StringIO()
        with mock.patch.dict(sys.modules, {"ultralytics": fake_ultralytics()}), contextlib.redirect_stdout(out):
            code = tp.main(["--epoch", "1", "--device", "cpu", "--workers", "0", "--output_dir", str(self.root / "o"),
                            "--data", str(self.root / "data.yaml")])
        self.assertEqual(code, 0)
        self.assertIn("train: wrote", out.getvalue())

    def test_main_exits_1_for_missing_data(self):
        err = io.StringIO()
        with mock.patch.dict(sys.modules, {"ultralytics": fake_ultralytics()}), contextlib.redirect_stderr(err):
            code = tp.main(["--epoch", "1", "--device", "cpu", "--workers", "0", "--output_dir", str(self.root / "o"),
                            "--data", str(self.root / "none.yaml"), "--framework", "ultralytics"])
        self.assertEqual(code, 1)
        self.assertIn("train: error: data file not found", err.getvalue())


class FrameworkChoiceTest(unittest.TestCase):
    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.out = Path(tmp.name) / "o"

    def main(self, *extra):
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = tp.main(["--epoch", "1", "--device", "0", "--workers", "1", "--output_dir", str(self.out), *extra])
        return code, err.getvalue()

    def test_missing_ultralytics_fails_at_once_naming_it(self):
        with mock.patch.dict(sys.modules, {"ultralytics": None}):
            code, err = self.main("--framework", "ultralytics")
        self.assertEqual(code, 3)
        self.assertIn("lacks ultralytics", err)
        self.assertFalse(self.out.exists())

    def test_missing_torchvision_names_the_packages_to_install(self):
        with mock.patch.dict(sys.modules, NO_TORCHVISION):
            code, err = self.main("--framework", "torchvision")
        self.assertEqual(code, 3)
        self.assertIn("lacks torch, torchvision, onnx, onnxruntime, numpy, PIL", err)
        self.assertIn("apt-get install python3-torch python3-torchvision python3-onnx python3-onnxruntime", err)
        self.assertIn("pip install torch torchvision onnx onnxruntime numpy Pillow", err)
        self.assertFalse(self.out.exists())

    def test_auto_without_any_framework_names_both(self):
        with mock.patch.dict(sys.modules, {"ultralytics": None, **NO_TORCHVISION}):
            code, err = self.main()
        self.assertEqual(code, 3)
        self.assertIn("lacks ultralytics", err)
        self.assertIn("python3-torch", err)
        self.assertFalse(self.out.exists())

    def test_auto_prefers_ultralytics(self):
        module = fake_ultralytics()
        with mock.patch.dict(sys.modules, {"ultralytics": module}):
            self.assertEqual(tp.choose_framework("auto"), ("ultralytics", module))

    def test_auto_falls_back_to_torchvision(self):
        with mock.patch.dict(sys.modules, {"ultralytics": None}), \
                mock.patch.object(tp, "require_torchvision") as require, contextlib.redirect_stdout(io.StringIO()) as out:
            self.assertEqual(tp.choose_framework("auto"), ("torchvision", None))
        require.assert_called_once_with()
        self.assertIn("training with torchvision", out.getvalue())

    def test_explicit_torchvision_never_imports_ultralytics(self):
        with mock.patch.object(tp, "require_torchvision"), mock.patch.object(tp, "load_ultralytics") as load:
            self.assertEqual(tp.choose_framework("torchvision"), ("torchvision", None))
        load.assert_not_called()


class ArgumentTest(unittest.TestCase):
    BASE = ["--epoch", "2", "--device", "0", "--workers", "1", "--output_dir", "o"]

    def rejects(self, argv):
        with contextlib.redirect_stderr(io.StringIO()), self.assertRaises(SystemExit) as ctx:
            tp.parse_args(argv)
        self.assertEqual(ctx.exception.code, 2)

    def test_defaults(self):
        args = tp.parse_args(self.BASE)
        self.assertEqual(
            (args.framework, args.seed, args.weights, args.patience, args.batch, args.img, args.data),
            ("auto", 0, None, 50, 16, 640, "/VOCdevkit/VOC2028/data.yaml"),
        )

    def test_required_and_ranges(self):
        self.rejects(["--device", "0", "--workers", "1", "--output_dir", "o"])
        for flag, value in (("--epoch", "0"), ("--workers", "-1"), ("--batch", "0"), ("--img", "0"), ("--patience", "-1")):
            with self.subTest(flag=flag):
                self.rejects([*self.BASE, flag, value])
        self.assertEqual(tp.parse_args([*self.BASE, "--workers", "0", "--patience", "0"]).patience, 0)

    def test_device_forms(self):
        for device in ("cpu", "0", "0,1", "1, 2"):
            with self.subTest(device=device):
                self.assertEqual(tp.parse_args([*self.BASE, "--device", device]).device, device.replace(" ", ""))
        for device in ("gpu", "cuda", "0,", "-1", ""):
            with self.subTest(device=device):
                self.rejects([*self.BASE, "--device", device])

    def test_framework_and_seed(self):
        args = tp.parse_args([*self.BASE, "--framework", "torchvision", "--seed", "7"])
        self.assertEqual((args.framework, args.seed), ("torchvision", 7))
        self.rejects([*self.BASE, "--framework", "tensorflow"])

    def test_help_says_torchvision_uses_the_first_device(self):
        with contextlib.redirect_stdout(io.StringIO()) as out, self.assertRaises(SystemExit):
            tp.parse_args(["--help"])
        text = " ".join(out.getvalue().split())
        self.assertIn("torchvision trains on the first index given", text)
        self.assertIn("3 the framework is not installed", text)


if __name__ == "__main__":
    unittest.main()
