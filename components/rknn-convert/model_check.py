"""Check an ONNX model against what rknn-toolkit2 accepts for a target, before converting it.

Finds every problem at once, so one run tells the whole story: the ONNX checker's verdict, the
opset, the single fixed-shape NCHW float32 input the NPU is fed, and operator types that the
target cannot run (nodes of subgraphs and local functions included). Needs the `onnx` package.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import onnx
from rknn_operators import OPSET_RANGE, POSTPROCESSING_OPS, RK_ONNX_OPS, supported_ops

DEFAULT_DOMAINS = ("", "ai.onnx")
AXES = ("batch", "channels", "height", "width")
FIXED_SHAPE_HINT = "re-export with a fixed 1x3xHxW dummy input and no dynamic_axes (YOLOv5: export.py without --dynamic)"
Dim = int | str | None


@dataclass
class ModelCheck:
    model: str
    target: str
    opset: int | None = None
    input_name: str | None = None
    input_shape: list[Dim] = field(default_factory=list)
    input_dtype: str | None = None
    operators: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def input_text(self) -> str:
        shape = "x".join("?" if d is None else str(d) for d in self.input_shape) or "?"
        return f"{self.input_name} {shape} {self.input_dtype or '?'}"

    def summary(self, with_names: bool = True) -> str:
        names = f" ({', '.join(sorted(self.operators))})" if with_names else ""
        return f"opset {self.opset}, input {self.input_text()}, {len(self.operators)} operator types{names}"

    def as_dict(self) -> dict:
        return {
            "opset": self.opset,
            "opset_range": list(OPSET_RANGE),
            "input": {"name": self.input_name, "shape": self.input_shape, "dtype": self.input_dtype},
            "operators": dict(sorted(self.operators.items())),
            "problems": list(self.problems),
        }


def check_model(path: Path, target: str) -> ModelCheck:
    result = ModelCheck(model=str(path), target=target)
    try:
        # Weights are not needed to judge the graph; the checker below reads them from the path.
        model = onnx.load(str(path), load_external_data=False)
    except Exception as e:  # protobuf raises DecodeError, a RuntimeWarning subclass, for non-ONNX bytes
        result.problems.append(f"not a readable ONNX model: {e}")
        return result
    if model.ir_version == 0:
        result.problems.append("not an ONNX model: it sets no ir_version (an empty or foreign file)")
        return result
    try:
        onnx.checker.check_model(str(path))
    except Exception as e:  # onnx.checker.ValidationError, or a shape/type error from the C++ side
        result.problems.append(f"onnx.checker rejects it: {' '.join(str(e).split())}")
    _check_opset(model, result)
    _check_input(model.graph, result)
    _check_operators(model, target, result)
    return result


def _check_opset(model: onnx.ModelProto, result: ModelCheck) -> None:
    versions = [o.version for o in model.opset_import if o.domain in DEFAULT_DOMAINS]
    if not versions:
        result.problems.append("declares no opset for the default ONNX domain")
        return
    result.opset = versions[0]
    low, high = OPSET_RANGE
    if not low <= result.opset <= high:
        result.problems.append(
            f"opset {result.opset} is outside {low}..{high}, the range rknn-toolkit2 accepts: re-export with "
            f"torch.onnx.export(..., opset_version={high if result.opset > high else low}) or upgrade it with "
            f"onnx.version_converter.convert_version(model, {low})"
        )


def _graph_inputs(graph: onnx.GraphProto) -> list[onnx.ValueInfoProto]:
    # Old exporters also list the weights as inputs; those have initializers and are not fed.
    weights = {t.name for t in graph.initializer}
    return [i for i in graph.input if i.name not in weights]


def _dims(tensor_type: onnx.TypeProto.Tensor) -> list[Dim]:
    return [
        d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else (d.dim_param or None)
        for d in tensor_type.shape.dim
    ]


def _dtype_name(elem_type: int) -> str:
    try:
        return str(onnx.helper.tensor_dtype_to_np_dtype(elem_type))
    except (KeyError, ValueError, TypeError):
        return onnx.TensorProto.DataType.Name(elem_type).lower()


def _check_input(graph: onnx.GraphProto, result: ModelCheck) -> None:
    inputs = _graph_inputs(graph)
    if len(inputs) != 1:
        names = ", ".join(i.name for i in inputs) or "none"
        result.problems.append(f"has {len(inputs)} inputs ({names}); the NPU is fed exactly one image tensor")
        if not inputs:
            return
    first = inputs[0]
    result.input_name = first.name
    if not first.type.HasField("tensor_type"):
        result.problems.append(f"input {first.name!r} is not a tensor")
        return
    tensor = first.type.tensor_type
    result.input_dtype = _dtype_name(tensor.elem_type)
    if result.input_dtype != "float32":
        result.problems.append(
            f"input {first.name!r} is {result.input_dtype}, not float32: export the float model "
            "(rknn-toolkit2 quantizes it itself with --quantize)"
        )
    if not tensor.HasField("shape"):
        result.problems.append(f"input {first.name!r} has no shape: {FIXED_SHAPE_HINT}")
        return
    result.input_shape = _dims(tensor)
    _check_shape(first.name, result.input_shape, result.problems)


def _check_shape(name: str, shape: list[Dim], problems: list[str]) -> None:
    if len(shape) != 4:
        problems.append(f"input {name!r} has {len(shape)} dimensions; the NPU takes a 4-D NCHW image (1x3xHxW)")
        return
    for index, (axis, dim) in enumerate(zip(AXES, shape, strict=True)):
        if not isinstance(dim, int):
            label = f"dynamic ({dim!r})" if dim else "of unknown size"
            problems.append(f"input {name!r} dimension {index} ({axis}) is {label}: {FIXED_SHAPE_HINT}")
    batch, channels = shape[0], shape[1]
    if isinstance(batch, int) and batch != 1:
        problems.append(f"input {name!r} has batch {batch}; rknn-convert converts batch 1: {FIXED_SHAPE_HINT}")
    if isinstance(channels, int) and channels != 3:
        problems.append(
            f"input {name!r} has {channels} at dimension 1 where NCHW puts 3 colour channels: "
            "re-export the model with an NCHW (1x3xHxW) RGB input"
        )


def _op_key(node: onnx.NodeProto) -> str:
    return node.op_type if node.domain in DEFAULT_DOMAINS else f"{node.domain}:{node.op_type}"


def count_operators(model: onnx.ModelProto) -> Counter[str]:
    """Operator types of every node, in subgraphs (If, Loop...) and local functions too."""
    local_functions = {(f.domain, f.name) for f in model.functions}
    counts: Counter[str] = Counter()

    def visit(nodes) -> None:
        for node in nodes:
            # A call of a local function is judged by the function's body, counted below.
            if (node.domain, node.op_type) not in local_functions:
                counts[_op_key(node)] += 1
            for attr in node.attribute:
                if attr.type == onnx.AttributeProto.GRAPH:
                    visit(attr.g.node)
                elif attr.type == onnx.AttributeProto.GRAPHS:
                    for graph in attr.graphs:
                        visit(graph.node)

    visit(model.graph.node)
    for function in model.functions:
        visit(function.node)
    return counts


def _check_operators(model: onnx.ModelProto, target: str, result: ModelCheck) -> None:
    counts = count_operators(model)
    result.operators = dict(sorted(counts.items()))
    unsupported = sorted(op for op in counts if op not in supported_ops(target))
    if not unsupported:
        return
    listed = ", ".join(f"{op} x{counts[op]}" for op in unsupported)
    kinds = f"{len(unsupported)} operator type{'s' if len(unsupported) > 1 else ''}"
    result.problems.append(f"{kinds} not supported on {target}: {listed}; {_hint(unsupported, target)}")


def _hint(unsupported: list[str], target: str) -> str:
    hints = []
    if POSTPROCESSING_OPS.intersection(unsupported):
        hints.append(
            "detection post-processing does not convert: export the raw head outputs "
            "(no NMS, TopK or NonZero in the graph) and decode boxes and run NMS on the host"
        )
    elsewhere = [op for op in unsupported if op in RK_ONNX_OPS]
    if elsewhere:
        hints.append(f"{', '.join(elsewhere)} convert for RK3566/RK3588-class chips but not for {target}")
    if set(unsupported) - POSTPROCESSING_OPS - RK_ONNX_OPS:
        hints.append("replace the others with supported operators or cut the graph before them (list: rknn_operators.py)")
    return "; ".join(hints)
