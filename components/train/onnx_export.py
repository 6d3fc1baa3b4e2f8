"""Export the detector's raw head outputs to ONNX for an NPU, and prove the file computes the same.

Opset 12: every rknn-toolkit2 release reads it (1.x documents opset 12 alone; 1.6+ reads 12..19),
and it covers all the network needs. At opset 12 PyTorch writes hardswish as HardSigmoid + Mul
and ReLU6 as Clip, both on rknn-toolkit2's list of supported operators. Shapes are fixed (no dynamic axes) because
NPU compilers plan memory per shape. After export, Constant nodes become initializers and
Identity nodes that only forward an initializer are dropped, so the graph lists only real work.

The exported file is then run in onnxruntime on a real validation image and compared with
PyTorch running the same module; a disagreement fails the step rather than shipping a model
that computes something else.
"""
from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path
from typing import Iterator

import numpy as np
import onnx
import onnxruntime
import torch

from step_errors import OnnxMismatch

OPSET = 12
INPUT_NAME = "images"
OUTPUT_NAMES = ("boxes", "scores")
ABSOLUTE_TOLERANCE = 1e-3
RELATIVE_TOLERANCE = 1e-3
SCHEMA_NOISE = "Schema error: Trying to register schema"


@contextlib.contextmanager
def quiet_duplicate_schema_registration() -> Iterator[None]:
    """Drop the ~1100 harmless "Schema error" lines Debian's torch and onnxruntime print together.

    Both register ONNX's operator schemas in the one shared libonnx; whichever comes second
    reports every schema as already registered on file descriptor 2, and carries on. Everything
    else written there meanwhile is passed on.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            for line in captured.read().decode(errors="replace").splitlines():
                if line.strip() and not line.startswith(SCHEMA_NOISE):
                    print(line, file=sys.stderr)


def export_onnx(module: torch.nn.Module, image_size: int, path: Path) -> None:
    module.eval()
    example = torch.zeros(1, 3, image_size, image_size)
    with torch.no_grad(), quiet_duplicate_schema_registration():
        torch.onnx.export(
            module,
            (example,),
            str(path),
            opset_version=OPSET,
            input_names=[INPUT_NAME],
            output_names=list(OUTPUT_NAMES),
            do_constant_folding=True,
            dynamo=False,
        )


def tidy_graph(model: onnx.ModelProto) -> None:
    """Constant nodes -> initializers; Identity nodes that forward an initializer -> removed."""
    graph = model.graph
    constants = {init.name for init in graph.initializer}
    graph_outputs = {out.name for out in graph.output}
    renamed: dict[str, str] = {}
    kept = []
    for node in graph.node:
        if node.op_type == "Constant" and [a.name for a in node.attribute] == ["value"]:
            tensor = onnx.TensorProto()
            tensor.CopyFrom(node.attribute[0].t)
            tensor.name = node.output[0]
            graph.initializer.append(tensor)
            constants.add(tensor.name)
        elif node.op_type == "Identity" and node.input[0] in constants and node.output[0] not in graph_outputs:
            renamed[node.output[0]] = node.input[0]
            constants.add(node.output[0])
        else:
            kept.append(node)
    for node in kept:
        for i, name in enumerate(node.input):
            while name in renamed:
                name = renamed[name]
            node.input[i] = name
    del graph.node[:]
    graph.node.extend(kept)
    used = {name for node in kept for name in node.input} | graph_outputs
    unused = [init for init in graph.initializer if init.name not in used]
    for init in unused:
        graph.initializer.remove(init)


def _tensor_info(value: onnx.ValueInfoProto) -> dict:
    tensor_type = value.type.tensor_type
    return {
        "name": value.name,
        "shape": [d.dim_value if d.HasField("dim_value") else d.dim_param for d in tensor_type.shape.dim],
        "dtype": onnx.helper.tensor_dtype_to_np_dtype(tensor_type.elem_type).name,
    }


def describe(model: onnx.ModelProto) -> dict:
    """Inputs, outputs and the operator types of a model, as metrics.json records them."""
    return {
        "opset": next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx")),
        "inputs": [_tensor_info(v) for v in model.graph.input],
        "outputs": [_tensor_info(v) for v in model.graph.output],
        "operators": sorted({node.op_type for node in model.graph.node}),
    }


def compare_with_onnxruntime(path: Path, module: torch.nn.Module, sample: torch.Tensor) -> dict:
    """Run `sample` [1,3,S,S] through onnxruntime and PyTorch; the largest differences found."""
    with quiet_duplicate_schema_registration():
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(list(OUTPUT_NAMES), {INPUT_NAME: sample.numpy().astype(np.float32)})
    module.eval()
    with torch.no_grad():
        expected = [t.numpy() for t in module(sample)]
    if any(g.shape != e.shape for g, e in zip(got, expected)):
        max_abs, agrees = float("inf"), False
    else:
        max_abs = max(float(np.max(np.abs(g - e))) for g, e in zip(got, expected))
        agrees = all(
            np.allclose(g, e, atol=ABSOLUTE_TOLERANCE, rtol=RELATIVE_TOLERANCE) for g, e in zip(got, expected)
        )
    return {
        "max_abs_diff": max_abs,
        "tolerance": {"absolute": ABSOLUTE_TOLERANCE, "relative": RELATIVE_TOLERANCE},
        "agrees": agrees,
    }


def export_and_check(module: torch.nn.Module, image_size: int, sample: torch.Tensor, path: Path) -> dict:
    """Write the ONNX file at path and check it; raises OnnxMismatch when it disagrees."""
    module = module.cpu().eval()
    export_onnx(module, image_size, path)
    model = onnx.load(str(path))
    tidy_graph(model)
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, str(path))
    report = {**describe(model), **compare_with_onnxruntime(path, module, sample)}
    if not report["agrees"]:
        raise OnnxMismatch(
            f"onnxruntime and PyTorch disagree on the exported model: max abs difference "
            f"{report['max_abs_diff']:.3g}, beyond {ABSOLUTE_TOLERANCE} + {RELATIVE_TOLERANCE} x |value|; "
            "best.onnx was not written"
        )
    return report

