"""convert.py's arguments and flow with a fake toolkit and a fake checker: no onnx or rknn-toolkit2 needed."""
import contextlib
import io
import json
import sys
import tempfile
import unittest
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent))

import convert  # noqa: E402


class FakeRKNN:
    """Records every call; export_rknn writes the file as the real toolkit does."""

    calls: list = []
    fail_at: str | None = None
    writes: bytes = b"rknn"

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
        Path(path).write_bytes(FakeRKNN.writes)
        return self._step("export_rknn", path=path)

    def release(self):
        FakeRKNN.calls.append(("release", {}))


class FakeCheck:
    def __init__(self, problems=()):
        self.problems = list(problems)
        self.ok = not self.problems

    def summary(self, with_names=True):
        return "opset 17, input images 1x3x64x64 float32, 2 operator types" + (" (Conv, Relu)" if with_names else "")

    def as_dict(self):
        return {"opset": 17, "input": {"name": "images", "shape": [1, 3, 64, 64], "dtype": "float32"},
                "operators": {"Conv": 1, "Relu": 1}, "problems": self.problems}


def fake_checker(problems=()):
    return SimpleNamespace(check_model=lambda path, target: FakeCheck(problems))


class Run:
    """convert.main's exit code, stdout and stderr."""

    def __init__(self, argv):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            self.code = convert.main(argv)
        self.out, self.err = out.getvalue(), err.getvalue()


class ConvertTest(unittest.TestCase):
    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.root = Path(tmp.name)
        (self.root / "best.onnx").write_bytes(b"onnx")
        (self.root / "calib.txt").write_text("a.jpg\n")
        FakeRKNN.calls, FakeRKNN.fail_at, FakeRKNN.writes = [], None, b"rknn"

    def argv(self, *extra):
        return ["--model", str(self.root / "best.onnx"), "--output", str(self.root / "m" / "model.rknn"),
                "--report", str(self.root / "report.json"), *extra]

    def report(self):
        return json.loads((self.root / "report.json").read_text())

    def patched(self, checker=None, toolkit=FakeRKNN):
        stack = contextlib.ExitStack()
        stack.enter_context(mock.patch.object(convert, "load_checker", return_value=checker or fake_checker()))
        if toolkit is None:
            stack.enter_context(mock.patch.object(convert, "load_toolkit", side_effect=convert.ToolkitMissing("this image lacks rknn-toolkit2")))
        else:
            stack.enter_context(mock.patch.object(convert, "load_toolkit", return_value=toolkit))
        self.addCleanup(stack.close)

    def test_calls_the_toolkit_in_order_with_the_arguments(self):
        args = convert.parse_args(["--model", str(self.root / "best.onnx"), "--output", str(self.root / "m" / "model.rknn"),
                                   "--target", "rk3566", "--quantize", "--dataset", str(self.root / "calib.txt")])
        out = convert.convert(FakeRKNN, args)
        names = [c[0] for c in FakeRKNN.calls]
        self.assertEqual(names, ["init", "config", "load_onnx", "build", "export_rknn", "release"])
        self.assertEqual(FakeRKNN.calls[1][1]["target_platform"], "rk3566")
        self.assertEqual(FakeRKNN.calls[2][1], {"model": str(self.root / "best.onnx")})
        self.assertEqual(FakeRKNN.calls[3][1], {"do_quantization": True, "dataset": str(self.root / "calib.txt")})
        self.assertEqual(out.read_bytes(), b"rknn")
        self.assertEqual(sorted(p.name for p in out.parent.iterdir()), ["model.rknn"])

    def test_a_failing_step_is_reported_the_toolkit_released_and_nothing_left(self):
        FakeRKNN.fail_at = "export_rknn"
        args = convert.parse_args(["--model", str(self.root / "best.onnx"), "--output", str(self.root / "o" / "x.rknn")])
        with self.assertRaises(convert.ConversionFailed) as ctx:
            convert.convert(FakeRKNN, args)
        self.assertIn("export_rknn returned -1", str(ctx.exception))
        self.assertEqual(FakeRKNN.calls[-1][0], "release")
        self.assertEqual(list((self.root / "o").iterdir()), [])

    def test_an_empty_export_is_a_failure_not_a_model(self):
        FakeRKNN.writes = b""
        args = convert.parse_args(["--model", str(self.root / "best.onnx"), "--output", str(self.root / "x.rknn")])
        with self.assertRaises(convert.ConversionFailed) as ctx:
            convert.convert(FakeRKNN, args)
        self.assertIn("wrote nothing", str(ctx.exception))
        self.assertFalse((self.root / "x.rknn").exists())

    def test_quantize_needs_a_dataset_and_targets_are_checked(self):
        with contextlib.redirect_stderr(io.StringIO()):
            with self.assertRaises(SystemExit):
                convert.parse_args(["--model", "m", "--output", "o", "--quantize"])
            with self.assertRaises(SystemExit):
                convert.parse_args(["--model", "m", "--output", "o", "--target", "rk9999"])

    def test_without_onnx_it_fails_at_once_naming_onnx_and_the_toolkit(self):
        with mock.patch.dict(sys.modules, {"onnx": None, "rknn": None, "rknn.api": None}):
            run = Run(["--model", str(self.root / "none.onnx"), "--output", str(self.root / "o.rknn"),
                       "--report", str(self.root / "report.json")])
        self.assertEqual(run.code, 3)
        self.assertIn("rknn-convert: error: this image lacks rknn-toolkit2", run.err)
        self.assertIn("onnx", run.err)
        self.assertIn("PIP_INDEX_URL", run.err)
        self.assertFalse((self.root / "o.rknn").exists())
        report = self.report()
        self.assertEqual((report["onnx"], report["toolkit"], report["converted"], report["exit_code"]), ("absent", "absent", False, 3))

    def test_a_valid_model_is_converted_and_reported(self):
        self.patched()
        run = Run(self.argv("--target", "rv1106"))
        self.assertEqual(run.code, 0, run.err)
        self.assertIn(f"rknn-convert: {self.root / 'best.onnx'}: opset 17, input images 1x3x64x64 float32, 2 operator types (Conv, Relu), all supported on rv1106", run.out)
        self.assertIn("rknn-convert: wrote", run.out)
        report = self.report()
        self.assertEqual((report["validated"], report["toolkit"], report["converted"], report["exit_code"]), (True, "present", True, 0))
        self.assertEqual(report["output"], str(self.root / "m" / "model.rknn"))
        self.assertEqual(report["output_bytes"], 4)

    def test_an_invalid_model_fails_with_every_problem_before_the_toolkit(self):
        self.patched(checker=fake_checker(["opset 9 is outside 12..19", "input 'x' dimension 0 (batch) is dynamic"]))
        run = Run(self.argv())
        self.assertEqual(run.code, 4)
        self.assertIn("is not valid for rk3588 (2 problems):\n  - opset 9 is outside 12..19\n  - input 'x'", run.err)
        self.assertEqual(FakeRKNN.calls, [])
        report = self.report()
        self.assertEqual((report["validated"], report["toolkit"], report["converted"]), (False, "not checked", False))
        self.assertEqual(len(report["problems"]), 2)

    def test_missing_toolkit_after_validation_is_one_message_and_no_model(self):
        self.patched(toolkit=None)
        run = Run(self.argv())
        self.assertEqual(run.code, 3)
        errors = run.err.strip().splitlines()
        self.assertEqual(len(errors), 1)
        self.assertIn("this image lacks rknn-toolkit2, so no .rknn was written", errors[0])
        self.assertIn("was validated for rk3588 (opset 17, input images 1x3x64x64 float32, 2 operator types)", errors[0])
        self.assertIn("BASE_IMAGE / PIP_INDEX_URL", errors[0])
        self.assertFalse((self.root / "m").exists())
        report = self.report()
        self.assertEqual((report["validated"], report["toolkit"], report["converted"], report["exit_code"]), (True, "absent", False, 3))

    def test_missing_model_is_one_clear_error(self):
        self.patched()
        run = Run(["--model", str(self.root / "none.onnx"), "--output", str(self.root / "o.rknn")])
        self.assertEqual(run.code, 1)
        self.assertIn("model not found", run.err)

    def test_a_failed_conversion_exits_1_and_reports_it(self):
        FakeRKNN.fail_at = "build"
        self.patched()
        run = Run(self.argv())
        self.assertEqual(run.code, 1)
        self.assertIn("rknn-toolkit2 build returned -1", run.err)
        report = self.report()
        self.assertEqual((report["converted"], report["error"]), (False, "rknn-toolkit2 build returned -1"))

    def test_a_toolkit_that_raises_still_leaves_a_report(self):
        class Exploding(FakeRKNN):
            def build(self, do_quantization, dataset):
                raise RuntimeError("E build: unsupported shape")

        self.patched(toolkit=Exploding)
        with self.assertRaises(RuntimeError), contextlib.redirect_stdout(io.StringIO()):
            convert.main(self.argv())
        report = self.report()
        self.assertEqual((report["exit_code"], report["error"]), (None, "RuntimeError: E build: unsupported shape"))

    def test_the_report_is_replaced_whole(self):
        (self.root / "report.json").write_text("old")
        self.patched()
        Run(self.argv())
        self.assertEqual(self.report()["exit_code"], 0)
        self.assertEqual(sorted(p.name for p in self.root.iterdir() if p.name.startswith(".")), [])


if __name__ == "__main__":
    unittest.main()
