"""model_check.py and convert.py on real ONNX models built with onnx.helper.

Skipped where `onnx` is not installed (the plain Python image), unless HELMET_REQUIRE_ML=1: then
a missing onnx fails every test instead.
"""
import contextlib
import io
import json
import os
import sys
import tempfile
import unittest
from pathlib import Path
from unittest import mock

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

try:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
except ImportError:
    onnx = None

import convert  # noqa: E402
from test_convert import FakeRKNN  # noqa: E402

REQUIRE_ML = os.environ.get("HELMET_REQUIRE_ML") == "1"
needs_onnx = unittest.skipUnless(onnx is not None or REQUIRE_ML, "onnx is not installed (HELMET_REQUIRE_ML=1 makes this a failure)")


def conv_relu(shape=(1, 3, 32, 32), opset=17, extra_nodes=(), extra_outputs=(), elem_type=None) -> "onnx.ModelProto":
    """images -> Conv(3->4, 3x3) -> Relu -> out, plus any extra nodes and outputs."""
    weight = numpy_helper.from_array(np.ones((4, 3, 3, 3), dtype=np.float32), "w")
    nodes = [helper.make_node("Conv", ["images", "w"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["out"]), *extra_nodes]
    height, width = shape[2], shape[3]
    graph = helper.make_graph(
        nodes, "net",
        [helper.make_tensor_value_info("images", elem_type or TensorProto.FLOAT, list(shape))],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [shape[0], 4, height, width]), *extra_outputs],
        initializer=[weight],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8  # readable by every onnx that rknn-toolkit2 2.x installs
    return model


def with_nms() -> "onnx.ModelProto":
    """Conv+Relu whose output also feeds NonMaxSuppression, as an end-to-end detector export does."""
    nodes = [
        helper.make_node("Reshape", ["out", "box_shape"], ["boxes"]),
        helper.make_node("Reshape", ["out", "score_shape"], ["scores"]),
        helper.make_node("NonMaxSuppression", ["boxes", "scores"], ["keep"]),
    ]
    model = conv_relu(extra_nodes=nodes, extra_outputs=[helper.make_tensor_value_info("keep", TensorProto.INT64, [None, 3])])
    model.graph.initializer.extend([
        numpy_helper.from_array(np.array([1, 1024, 4], dtype=np.int64), "box_shape"),
        numpy_helper.from_array(np.array([1, 1, 4096], dtype=np.int64), "score_shape"),
    ])
    return model


def with_topk_in_a_subgraph() -> "onnx.ModelProto":
    """An If whose branches hold TopK: nodes of subgraphs count too."""
    def branch(name):
        k = helper.make_node("Constant", [], [f"{name}_k"], value=numpy_helper.from_array(np.array([1], dtype=np.int64)))
        topk = helper.make_node("TopK", ["out", f"{name}_k"], [f"{name}_v", f"{name}_i"])
        return helper.make_graph([k, topk], name, [], [helper.make_tensor_value_info(f"{name}_v", TensorProto.FLOAT, None)])

    cond = helper.make_node("Constant", [], ["cond"], value=numpy_helper.from_array(np.array(True)))
    when = helper.make_node("If", ["cond"], ["picked"], then_branch=branch("then"), else_branch=branch("else"))
    return conv_relu(extra_nodes=[cond, when], extra_outputs=[helper.make_tensor_value_info("picked", TensorProto.FLOAT, None)])


@needs_onnx
class ModelCheckTest(unittest.TestCase):
    def setUp(self):
        if onnx is None:
            self.fail("HELMET_REQUIRE_ML=1 but onnx is not importable")
        import model_check

        self.model_check = model_check
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.root = Path(tmp.name)
        FakeRKNN.calls, FakeRKNN.fail_at, FakeRKNN.writes = [], None, b"rknn"

    def save(self, model, name="best.onnx") -> Path:
        path = self.root / name
        onnx.save(model, str(path))
        return path

    def check(self, model, target="rk3588"):
        return self.model_check.check_model(self.save(model), target)

    def run_main(self, model, *extra, toolkit=None):
        path = self.save(model)
        argv = ["--model", str(path), "--output", str(self.root / "model.rknn"), "--report", str(self.root / "r.json"), *extra]
        out, err = io.StringIO(), io.StringIO()
        missing = mock.patch.object(convert, "load_toolkit", side_effect=convert.ToolkitMissing("this image lacks rknn-toolkit2"))
        found = mock.patch.object(convert, "load_toolkit", return_value=toolkit)
        with (found if toolkit else missing), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = convert.main(argv)
        return code, out.getvalue(), err.getvalue(), json.loads((self.root / "r.json").read_text())

    def test_conv_relu_passes_with_its_summary(self):
        result = self.check(conv_relu(shape=(1, 3, 48, 64)))
        self.assertEqual(result.problems, [])
        self.assertEqual((result.opset, result.input_name, result.input_shape, result.input_dtype), (17, "images", [1, 3, 48, 64], "float32"))
        self.assertEqual(result.operators, {"Conv": 1, "Relu": 1})
        self.assertEqual(result.summary(), "opset 17, input images 1x3x48x64 float32, 2 operator types (Conv, Relu)")

    def test_nms_is_refused_with_its_count_and_the_host_side_hint(self):
        result = self.check(with_nms())
        self.assertEqual(len(result.problems), 1, result.problems)
        self.assertIn("1 operator type not supported on rk3588: NonMaxSuppression x1", result.problems[0])
        self.assertIn("run NMS on the host", result.problems[0])
        self.assertEqual(result.operators["Reshape"], 2)

    def test_nodes_inside_subgraphs_are_checked(self):
        result = self.check(with_topk_in_a_subgraph())
        problem = "".join(result.problems)
        self.assertIn("If x1", problem)
        self.assertIn("TopK x2", problem)
        self.assertEqual(result.operators["Constant"], 3)

    def test_a_dynamic_batch_is_named_with_how_to_fix_it(self):
        result = self.check(conv_relu(shape=("batch", 3, 32, 32)))
        self.assertEqual(len(result.problems), 1, result.problems)
        self.assertIn("input 'images' dimension 0 (batch) is dynamic ('batch')", result.problems[0])
        self.assertIn("without --dynamic", result.problems[0])

    def test_batch_channels_and_dtype_are_checked(self):
        problems = self.check(conv_relu(shape=(2, 3, 32, 32))).problems
        self.assertTrue(any("has batch 2" in p for p in problems), problems)
        problems = self.check(conv_relu(elem_type=TensorProto.UINT8)).problems
        self.assertTrue(any("is uint8, not float32" in p for p in problems), problems)

    def test_an_old_opset_is_out_of_range(self):
        result = self.check(conv_relu(opset=9))
        self.assertEqual(len(result.problems), 1, result.problems)
        self.assertIn("opset 9 is outside 12..19", result.problems[0])

    def test_rv1106_refuses_what_only_the_bigger_chips_run(self):
        sqrt = helper.make_node("Sqrt", ["out"], ["root"])
        model = conv_relu(extra_nodes=[sqrt], extra_outputs=[helper.make_tensor_value_info("root", TensorProto.FLOAT, [1, 4, 32, 32])])
        self.assertEqual(self.check(model, "rk3588").problems, [])
        problem = "".join(self.check(model, "rv1106").problems)
        self.assertIn("Sqrt x1", problem)
        self.assertIn("convert for RK3566/RK3588-class chips but not for rv1106", problem)

    def test_bytes_that_are_not_onnx_are_one_problem(self):
        path = self.root / "best.onnx"
        path.write_bytes(b"not a model")
        problems = self.model_check.check_model(path, "rk3588").problems
        self.assertEqual(len(problems), 1, problems)
        self.assertTrue(problems[0].startswith("not "), problems)

    def test_main_prints_the_summary_then_fails_3_without_the_toolkit(self):
        code, out, err, report = self.run_main(conv_relu())
        self.assertEqual(code, 3)
        self.assertIn("opset 17, input images 1x3x32x32 float32, 2 operator types (Conv, Relu), all supported on rk3588", out)
        self.assertIn("this image lacks rknn-toolkit2, so no .rknn was written", err)
        self.assertFalse((self.root / "model.rknn").exists())
        self.assertEqual((report["validated"], report["toolkit"], report["converted"], report["opset"]), (True, "absent", False, 17))
        self.assertEqual(report["input"], {"name": "images", "shape": [1, 3, 32, 32], "dtype": "float32"})

    def test_main_exits_4_listing_every_problem(self):
        code, out, err, report = self.run_main(with_nms(), "--target", "rv1103")
        self.assertEqual(code, 4)
        self.assertIn("is not valid for rv1103 (1 problem)", err)
        self.assertIn("NonMaxSuppression x1", err)
        self.assertEqual(out, "")
        self.assertEqual(report["operators"]["NonMaxSuppression"], 1)
        self.assertEqual((report["validated"], report["exit_code"], report["toolkit"]), (False, 4, "not checked"))

    def test_main_converts_with_the_toolkit_when_it_is_there(self):
        code, out, err, report = self.run_main(conv_relu(), "--target", "rk3576", toolkit=FakeRKNN)
        self.assertEqual(code, 0, err)
        self.assertEqual([c[0] for c in FakeRKNN.calls], ["init", "config", "load_onnx", "build", "export_rknn", "release"])
        self.assertEqual(FakeRKNN.calls[1][1]["target_platform"], "rk3576")
        self.assertEqual((self.root / "model.rknn").read_bytes(), b"rknn")
        self.assertEqual((report["converted"], report["output"], report["toolkit"]), (True, str(self.root / "model.rknn"), "present"))


if __name__ == "__main__":
    unittest.main()
