import contextlib
import io
import sys
import tempfile
import types
import unittest
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent))

import train_pipeline as tp  # noqa: E402


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


class TrainTest(unittest.TestCase):
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
        tp.train(types.SimpleNamespace(YOLO=FakeYOLO), self.args("--batch", "8", "--img", "320", "--patience", "5"))
        kind, kwargs = FakeYOLO.calls[1]
        self.assertEqual(kind, "train")
        self.assertEqual(
            {k: kwargs[k] for k in ("epochs", "device", "workers", "batch", "imgsz", "patience")},
            {"epochs": 3, "device": "cpu", "workers": 2, "batch": 8, "imgsz": 320, "patience": 5},
        )
        self.assertEqual(FakeYOLO.calls[0], ("init", "yolov5s.pt"))
        self.assertEqual(FakeYOLO.calls[-1], ("export", {"format": "onnx", "imgsz": 320}))
        out = self.root / "out"
        self.assertEqual((out / "best.pt").read_bytes(), b"weights")
        self.assertEqual((out / "best.onnx").read_bytes(), b"onnx")
        self.assertIn("mAP50", (out / "metrics.json").read_text())

    def test_missing_framework_fails_at_once_naming_it(self):
        err = io.StringIO()
        with mock.patch.dict(sys.modules, {"ultralytics": None}), contextlib.redirect_stderr(err):
            code = tp.main(["--epoch", "1", "--device", "0", "--workers", "1", "--output_dir", str(self.root / "o")])
        self.assertEqual(code, 3)
        self.assertIn("lacks ultralytics", err.getvalue())
        self.assertFalse((self.root / "o").exists())

    def test_missing_data_file_is_a_clear_error(self):
        with self.assertRaises(FileNotFoundError) as ctx:
            tp.train(types.SimpleNamespace(YOLO=FakeYOLO), tp.parse_args(
                ["--epoch", "1", "--device", "0", "--workers", "1", "--output_dir", "o", "--data", str(self.root / "none.yaml")]))
        self.assertIn("run the prepare step first", str(ctx.exception))

    def test_argument_validation(self):
        with contextlib.redirect_stderr(io.StringIO()):
            with self.assertRaises(SystemExit):
                tp.parse_args(["--epoch", "0", "--device", "0", "--workers", "1", "--output_dir", "o"])
            with self.assertRaises(SystemExit):
                tp.parse_args(["--device", "0", "--workers", "1", "--output_dir", "o"])


if __name__ == "__main__":
    unittest.main()
