import contextlib
import io
import sys
import tempfile
import unittest
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent))

import convert  # noqa: E402


class FakeRKNN:
    calls: list = []
    fail_at: str | None = None

    def __init__(self, verbose=False):
        FakeRKNN.calls.append(("init", verbose))

    def _step(self, name, **kwargs):
        FakeRKNN.calls.append((name, kwargs))
        return -1 if FakeRKNN.fail_at == name else 0

    def config(self, **kwargs):
        FakeRKNN.calls.append(("config", kwargs))

    def load_onnx(self, model):
        return self._step("load_onnx", model=model)

    def build(self, do_quantization, dataset):
        return self._step("build", do_quantization=do_quantization, dataset=dataset)

    def export_rknn(self, path):
        Path(path).write_bytes(b"rknn")
        return self._step("export_rknn", path=path)

    def release(self):
        FakeRKNN.calls.append(("release", {}))


class ConvertTest(unittest.TestCase):
    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.root = Path(tmp.name)
        (self.root / "best.onnx").write_bytes(b"onnx")
        (self.root / "calib.txt").write_text("a.jpg\n")
        FakeRKNN.calls, FakeRKNN.fail_at = [], None

    def test_calls_the_toolkit_in_order_with_the_arguments(self):
        args = convert.parse_args(["--model", str(self.root / "best.onnx"), "--output", str(self.root / "m" / "model.rknn"),
                                   "--target", "rk3566", "--quantize", "--dataset", str(self.root / "calib.txt")])
        out = convert.convert(FakeRKNN, args)
        names = [c[0] for c in FakeRKNN.calls]
        self.assertEqual(names, ["init", "config", "load_onnx", "build", "export_rknn", "release"])
        self.assertEqual(FakeRKNN.calls[1][1]["target_platform"], "rk3566")
        self.assertEqual(FakeRKNN.calls[3][1], {"do_quantization": True, "dataset": str(self.root / "calib.txt")})
        self.assertEqual(out.read_bytes(), b"rknn")

    def test_a_failing_step_is_reported_and_the_toolkit_released(self):
        FakeRKNN.fail_at = "build"
        args = convert.parse_args(["--model", str(self.root / "best.onnx"), "--output", str(self.root / "x.rknn")])
        with self.assertRaises(convert.ConversionFailed) as ctx:
            convert.convert(FakeRKNN, args)
        self.assertIn("build returned -1", str(ctx.exception))
        self.assertEqual(FakeRKNN.calls[-1][0], "release")

    def test_quantize_needs_a_dataset_and_targets_are_checked(self):
        with contextlib.redirect_stderr(io.StringIO()):
            with self.assertRaises(SystemExit):
                convert.parse_args(["--model", "m", "--output", "o", "--quantize"])
            with self.assertRaises(SystemExit):
                convert.parse_args(["--model", "m", "--output", "o", "--target", "rk9999"])

    def test_missing_toolkit_fails_at_once_naming_it(self):
        err = io.StringIO()
        with mock.patch.dict(sys.modules, {"rknn": None, "rknn.api": None}), contextlib.redirect_stderr(err):
            code = convert.main(["--model", str(self.root / "best.onnx"), "--output", str(self.root / "o.rknn")])
        self.assertEqual(code, 3)
        self.assertIn("lacks rknn-toolkit2", err.getvalue())

    def test_missing_model_is_one_clear_error(self):
        err = io.StringIO()
        with mock.patch.object(convert, "load_toolkit", return_value=FakeRKNN), contextlib.redirect_stderr(err):
            code = convert.main(["--model", str(self.root / "none.onnx"), "--output", str(self.root / "o.rknn")])
        self.assertEqual(code, 1)
        self.assertIn("model not found", err.getvalue())


if __name__ == "__main__":
    unittest.main()
