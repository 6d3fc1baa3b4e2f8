"""What rknn-toolkit2 accepts from an ONNX model, per Rockchip NPU target: opsets and operator types.

Sources (rknn-toolkit2 v2.3.2, github.com/airockchip/rknn-toolkit2):
- doc/RKNNToolKit2_OP_Support-2.3.2.md, "ONNX OPs supported by RKNN Toolkit2": every ONNX operator
  whose remark is not "Not Supported". Ops it supports on the NPU run there; the others fall back
  to the CPU of RK3562/RK3566/RK3568/RK3576/RK3588.
- doc/05_RKNN_Compiler_Support_Operator_List_V2.3.2.pdf: chapter 3 (NPU operators per platform)
  and note 4.1, which says RV1103/RV1106 run only a few operators on the CPU and RK2118 none.
Shape-only operators (Shape, Constant, Cast, Squeeze...) are folded or turned into Reshape at
compile time, so they are kept for every target.
"""
from __future__ import annotations

# CHANGELOG.md v1.6.0 "Support ONNX model of OPSET 12~19", still the range in 2.x
# (doc/RKNNToolKit2_OP_Support-2.3.2.md: "the corresponding ONNX opset version is 19").
OPSET_RANGE = (12, 19)

RK_ONNX_OPS = frozenset({
    "Add", "And", "ArgMax", "ArgMin", "AveragePool", "BatchNormalization", "Cast", "Clip", "Concat",
    "Constant", "ConstantOfShape", "Conv", "ConvTranspose", "Cos", "DepthToSpace", "DequantizeLinear",
    "Div", "Dropout", "Elu", "Equal", "Erf", "Exp", "Expand", "Flatten", "Floor", "Gather",
    "GatherElements", "Gemm", "GlobalAveragePool", "GlobalMaxPool", "Greater", "GreaterOrEqual", "GRU",
    "HardSigmoid", "HardSwish", "Identity", "InstanceNormalization", "LayerNormalization", "LeakyRelu",
    "Less", "LessOrEqual", "Log", "LogSoftmax", "LpNormalization", "LRN", "LSTM", "MatMul", "Max",
    "MaxPool", "MaxRoiPool", "MaxUnpool", "MeanVarianceNormalization", "Min", "Mish", "Mod", "Mul",
    "Pad", "Pow", "PRelu", "QuantizeLinear", "ReduceMax", "ReduceMean", "ReduceMin", "ReduceSum", "Relu",
    "Reshape", "Resize", "ReverseSequence", "RoiAlign", "ScatterND", "Shape", "Sigmoid", "Sin", "Size",
    "Slice", "Softmax", "Softplus", "SpaceToDepth", "Split", "Sqrt", "Squeeze", "Sub", "Tanh", "Tile",
    "Transpose", "Unsqueeze", "Where",
})
# Left out although the list names them: If and EyeLike are supported "only with constant input",
# which this check cannot see; an exported detector's If is data-dependent.

# Computing operators with neither an NPU entry for RV1103/RV1106 (chapter 3.4) nor a place in the
# CPU operators those chips run (note 4.1: Concat, DataConvert, Div, exLayerNorm, Exp, Gather,
# ReduceL2, ReduceMax, Reshape, ScatterND, Softmax). The toolkit may still rewrite a few of them
# (a ReduceMean over H and W becomes a GlobalAveragePool), so this side errs on refusing.
NOT_ON_RV110X = frozenset({
    "And", "ArgMax", "ArgMin", "Cos", "DepthToSpace", "Equal", "Erf", "Floor", "GatherElements",
    "Greater", "GreaterOrEqual", "GRU", "InstanceNormalization", "Less", "LessOrEqual", "Log",
    "LogSoftmax", "LpNormalization", "LRN", "MaxRoiPool", "MaxUnpool", "MeanVarianceNormalization",
    "Mod", "ReduceMean", "ReduceMin", "ReduceSum", "ReverseSequence", "RoiAlign", "Sin", "SpaceToDepth",
    "Sqrt",
})
# RK2118 runs no operator on the CPU (note 4.1) and its NPU (chapter 3.6) lacks these too.
NOT_ON_RK2118 = NOT_ON_RV110X | {"Exp", "Gather", "LayerNormalization", "ReduceMax", "ScatterND"}

TARGET_OPS = {
    **dict.fromkeys(("rk3562", "rk3566", "rk3568", "rk3576", "rk3588"), RK_ONNX_OPS),
    **dict.fromkeys(("rv1103", "rv1106"), RK_ONNX_OPS - NOT_ON_RV110X),
    "rk2118": RK_ONNX_OPS - NOT_ON_RK2118,
}

# Detection post-processing that exporters put in the graph and no target converts.
POSTPROCESSING_OPS = frozenset({"NonMaxSuppression", "TopK", "NonZero", "Loop", "If", "Scan", "Range", "GatherND"})


def supported_ops(target: str) -> frozenset[str]:
    """ONNX operator types (default domain) rknn-toolkit2 converts for `target`."""
    return TARGET_OPS[target]
