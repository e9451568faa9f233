"""ONNX operator support per deployment target, and a checker for concrete nodes and graphs.

Targets: ``trt8`` (TensorRT 8.5/8.6: JetPack 5.1 / 6.0), ``trt10`` (TensorRT 10.x), ``trt11``
(TensorRT 11.x, strongly typed: INT8 only through Q/DQ), ``dla`` (TensorRT on the Xavier/Orin DLA:
FP16/INT8 only, static shapes only; with GPU fallback on, a layer DLA cannot run moves to the GPU)
and ``ort-cpu`` (ONNX Runtime's CPU execution provider).

Each table maps an op to its status for that target; where the restriction depends on attributes or
constant inputs, a check in ``_CHECKS`` makes the finding exact for a concrete node. An op in no table
is ``unknown``: nothing here says whether it runs. ``onnx`` is imported only inside functions.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from edgesr.errors import InputError, ModelError

if TYPE_CHECKING:
    import onnx

    from edgesr.devices import Device

TARGETS: tuple[str, ...] = ("trt8", "trt10", "trt11", "dla", "ort-cpu")

Status = Literal["supported", "partial", "unsupported", "unknown"]

_DLA_FALLBACK = "falls back to GPU (with GPU fallback on)"


@dataclass(frozen=True)
class Support:
    """What a table (or a node check) says about one op on one target."""

    status: Status
    note: str = ""


@dataclass(frozen=True)
class Finding:
    """The verdict for one op on one target, with the names of the nodes it concerns."""

    op: str
    target: str
    status: Status
    note: str = ""
    nodes: tuple[str, ...] = ()

    @property
    def blocking(self) -> bool:
        """True when the target cannot run the node at all; never for DLA, which falls back to the GPU."""
        return self.status == "unsupported" and self.target != "dla"


def _ok(note: str = "") -> Support:
    return Support("supported", note)


def _partial(note: str) -> Support:
    return Support("partial", note)


def _no(note: str) -> Support:
    return Support("unsupported", note)


# Every op an SR network or its export uses; each table below covers all of them.
SR_OPS: tuple[str, ...] = (
    "Conv",
    "ConvTranspose",
    "Relu",
    "LeakyRelu",
    "PRelu",
    "Sigmoid",
    "HardSigmoid",
    "HardSwish",
    "Tanh",
    "Elu",
    "Selu",
    "Softplus",
    "Mish",
    "Gelu",
    "Erf",
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Pow",
    "Sqrt",
    "Reciprocal",
    "Abs",
    "Neg",
    "Exp",
    "Log",
    "Min",
    "Max",
    "Clip",
    "Floor",
    "Ceil",
    "Round",
    "Concat",
    "Split",
    "Slice",
    "Reshape",
    "Transpose",
    "Flatten",
    "Squeeze",
    "Unsqueeze",
    "Expand",
    "Tile",
    "Pad",
    "DepthToSpace",
    "SpaceToDepth",
    "Resize",
    "Upsample",
    "MaxPool",
    "AveragePool",
    "GlobalAveragePool",
    "GlobalMaxPool",
    "ReduceMean",
    "ReduceMax",
    "ReduceSum",
    "ReduceL2",
    "ReduceSumSquare",
    "LpNormalization",
    "BatchNormalization",
    "InstanceNormalization",
    "LayerNormalization",
    "GroupNormalization",
    "Softmax",
    "MatMul",
    "Gemm",
    "Einsum",
    "Shape",
    "Gather",
    "Constant",
    "ConstantOfShape",
    "Cast",
    "Identity",
    "Dropout",
    "Where",
    "Equal",
    "Greater",
    "Less",
    "Range",
    "QuantizeLinear",
    "DequantizeLinear",
)


def _all_supported() -> dict[str, Support]:
    return {op: _ok() for op in SR_OPS}


# Source: onnx-tensorrt docs/operators.md as of TensorRT 8.5 ("supports operators up to Opset 17"),
# plus docs/Changelog.md entries for 8.2 EA (Pad edge/reflect) and 8.6 EA (LayerNormalization,
# GroupNormalization). JetPack 5.1 ships 8.5.2, JetPack 6.0 ships 8.6.2.
_TRT8: dict[str, Support] = {
    **_all_supported(),
    "Mish": _no("not in the TensorRT 8.5 table; Mish is an opset-18 op and TensorRT 8.x parses opsets <= 17"),
    "Gelu": _no("opset-20 op; TensorRT 8.x parses opsets <= 17 (export at opset <= 17 to get the Erf form)"),
    "LayerNormalization": _partial("TensorRT 8.6 only (JetPack 6.0); 8.5 (JetPack 5.1) has no importer"),
    "GroupNormalization": _partial("TensorRT 8.6 only (opset-18 form); 8.5 has no importer"),
    "InstanceNormalization": _partial("scale and B must be initializers; input rank 3 to 5"),
    "Slice": _partial("axes must be an initializer"),
    "Squeeze": _partial("axes must be an initializer"),
    "Unsqueeze": _partial("axes must be a constant"),
    "Einsum": _partial("no ellipsis, no diagonal, no broadcasting between inputs"),
    "QuantizeLinear": _partial("y_zero_point must be 0; per-channel scales only on weights"),
    "DequantizeLinear": _partial("x_zero_point must be 0; per-channel scales only on weights"),
}

# Source: onnx-tensorrt docs/operators.md as of TensorRT 10.15 (opsets 9 to 24), the parser's
# onnxOpCheckers.cpp / onnxOpImporters.cpp at the 10.6 release, and docs/Changelog.md for the 10.x
# release that added a feature. JetPack 6.1/6.2 ship 10.3, JetPack 7.0/7.1 ship 10.13.
_TRT10: dict[str, Support] = {
    **_all_supported(),
    "Gelu": _partial("in the TensorRT 10.6+ parser; whether 10.3 (JetPack 6.1/6.2) has it is unconfirmed"),
    "LayerNormalization": _partial("only the first output Y is supported"),
    "Squeeze": _partial("axes must resolve to a constant (dynamic axes from TensorRT 10.7)"),
    "Unsqueeze": _partial("axes must resolve to a constant (dynamic axes from TensorRT 10.7)"),
    "QuantizeLinear": _partial("y_zero_point must be 0; per-channel scales only on weights"),
    "DequantizeLinear": _partial("x_zero_point must be 0; per-channel scales only on weights"),
}

# Source: TensorRT 11.x "ONNX Opset Guide" (ONNX 1.20, opsets 9 to 25; operator list = onnx-tensorrt
# operators.md) and the newest operators.md readable here (TensorRT 10.15). No SR op lost support in 11;
# what changed is typing: FP16 means FP16 tensors in the ONNX, INT8 means Q/DQ nodes.
_TRT11: dict[str, Support] = {
    **_all_supported(),
    "LayerNormalization": _partial("only the first output Y is supported"),
    "Squeeze": _partial("axes must resolve to a constant"),
    "Unsqueeze": _partial("axes must resolve to a constant"),
    "QuantizeLinear": _partial("y_zero_point must be 0; per-channel scales only on weights"),
    "DequantizeLinear": _partial("x_zero_point must be 0; per-channel scales only on weights"),
}

# Source: NVIDIA Deep-Learning-Accelerator-SW operators/README.md, "Orin DLA support through TensorRT"
# (TensorRT 8.5.2 on JetPack 5.1.1 and 8.6 on DRIVE OS); TensorRT NvInfer.h DLA notes (10.x) for layer
# limits; the TensorRT Python API IResizeLayer docstring for DLA resize; and the current TensorRT
# developer guide page "DLA Supported Layers and Restrictions" (ElementWise adds Min/Div/Pow,
# comparisons Equal/Greater/Less). "RFE" in the DLA-SW table means TensorRT does not expose it on DLA.
_DLA_NOT_EXPOSED = "not exposed on DLA by TensorRT (DLA-SW operator table)"
_DLA_NEWER = "not on DLA with TensorRT 8.5/8.6; newer TensorRT runs it on DLA (current DLA layer page)"
_DLA: dict[str, Support] = {
    **{op: _no(_DLA_NOT_EXPOSED) for op in SR_OPS},
    "Conv": _partial("2-D; kernel 1..32, stride 1..8, pads 0..31 and < kernel, dilation 1..32, groups <= 8192"),
    "ConvTranspose": _partial("2-D; kernel and stride 1..32 (or 64/96/128 x 1); pads 0; group 1; no dilation"),
    "Relu": _ok(),
    "LeakyRelu": _ok(),
    "Sigmoid": _ok(),
    "Tanh": _ok(),
    "Clip": _ok(),
    "PRelu": _partial("slope must be a build-time constant"),
    "Abs": _ok("Unary layer"),
    "Add": _ok(),
    "Sub": _ok(),
    "Mul": _ok(),
    "Max": _ok(),
    "Min": _partial(_DLA_NEWER),
    "Div": _partial(_DLA_NEWER),
    "Pow": _partial(_DLA_NEWER),
    "Equal": _partial("INT8 only; output must be cast to FP16/INT8 right away"),
    "Greater": _partial(f"INT8 only, output cast to FP16/INT8 right away; {_DLA_NEWER}"),
    "Less": _partial(f"INT8 only, output cast to FP16/INT8 right away; {_DLA_NEWER}"),
    "Concat": _partial("channel axis only"),
    "Split": _ok("imported as Slice layers"),
    "Slice": _ok("DLA Slice layer restrictions apply"),
    "Reshape": _ok("Shuffle layer"),
    "Transpose": _ok("Shuffle layer"),
    "Resize": _partial("nearest or linear; integer H/W scales (1..32 nearest, 1..4 linear)"),
    "Upsample": _partial("nearest or linear; integer H/W scales (1..32 nearest, 1..4 linear)"),
    "MaxPool": _partial("2-D; window 1..8, stride 1..16, pads 0..7"),
    "AveragePool": _partial("2-D; window 1..8, stride 1..16, pads 0..7"),
    "BatchNormalization": _ok("Scale layer"),
    "Softmax": _partial("axis C/H/W, not batch; axis size <= 8192 (<= 1024 if other dims > 1)"),
    "MatMul": _partial("second input must be a constant"),
    "Gemm": _partial("second input must be a constant"),
    "Constant": _ok("folded into the DLA layers that use it"),
    "Shape": _ok("inferred at build time"),
    "ConstantOfShape": _ok("inferred at build time"),
    "DepthToSpace": _no("TensorRT does not run it on DLA; DLA-SW shows a Conv/Transpose reconstruction"),
    "SpaceToDepth": _no("TensorRT does not run it on DLA; DLA-SW shows a Conv/Transpose reconstruction"),
    "Neg": _no("TensorRT does not run it on DLA; reconstructible as Mul by -1"),
    "Identity": _no("TensorRT does not run it on DLA; reconstructible as an identity BatchNormalization"),
    "QuantizeLinear": _no("not on DLA; DLA-SW collapses Q/DQ into INT8 scales (implicit quantization)"),
    "DequantizeLinear": _no("not on DLA; DLA-SW collapses Q/DQ into INT8 scales (implicit quantization)"),
    "Gelu": _no("not in the DLA operator table"),
    "Einsum": _no("not in the DLA operator table"),
    "Cast": _no("not in the DLA operator table"),
    "Dropout": _no("not in the DLA operator table"),
    "Range": _no("not in the DLA operator table"),
}

# Source: ONNX Runtime docs/OperatorKernels.md, "Operators implemented by CPUExecutionProvider",
# checked against the kernels registered in onnxruntime 1.31.1. Ops with no CPU kernel that are ONNX
# functions run as their function body.
_FUNCTION_BODY = "no dedicated CPU kernel; ONNX Runtime runs the ONNX function body"
_ORT_CPU: dict[str, Support] = {
    **_all_supported(),
    "HardSwish": _ok(_FUNCTION_BODY),
    "Mish": _ok(_FUNCTION_BODY),
    "GroupNormalization": _ok(_FUNCTION_BODY),
    "Constant": _ok("becomes an initializer"),
    "Upsample": _partial("kernels for opsets 7 to 9 only (Upsample is deprecated from opset 10)"),
    "QuantizeLinear": _partial("per-axis scales need opset >= 13"),
    "DequantizeLinear": _partial("per-axis scales need opset >= 13"),
}

TABLES: dict[str, dict[str, Support]] = {
    "trt8": _TRT8,
    "trt10": _TRT10,
    "trt11": _TRT11,
    "dla": _DLA,
    "ort-cpu": _ORT_CPU,
}

_TRT = ("trt8", "trt10", "trt11")


@dataclass(frozen=True)
class _Node:
    """One node in the context a check needs: target, opset and the graph's constant tensors."""

    proto: onnx.NodeProto
    target: str
    opset: int
    constants: Mapping[str, onnx.TensorProto] | None  # None: not known (check_node called alone)

    def attr(self, name: str, default: Any = None) -> Any:
        import onnx

        for a in self.proto.attribute:
            if a.name == name:
                value = onnx.helper.get_attribute_value(a)
                return value.decode() if isinstance(value, bytes) else value
        return default

    def input(self, index: int) -> str:
        """The input's name, or "" when the node omits it."""
        return self.proto.input[index] if index < len(self.proto.input) else ""

    def is_const(self, index: int) -> bool | None:
        """Whether an input is a build-time constant; None when the graph's constants are unknown."""
        if self.constants is None:
            return None
        return self.input(index) in self.constants

    def const_values(self, index: int) -> list[float] | None:
        """The flattened values of a constant input, or None when it is not a known, loaded constant."""
        if not self.constants or self.input(index) not in self.constants:
            return None
        import onnx

        tensor = self.constants[self.input(index)]
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            return None  # external data not loaded: the values are unknown here
        return [float(v) for v in onnx.numpy_helper.to_array(tensor).ravel()]

    def const_dims(self, index: int) -> tuple[int, ...] | None:
        if not self.constants or self.input(index) not in self.constants:
            return None
        return tuple(self.constants[self.input(index)].dims)


def _ints(values: Any) -> list[int]:
    return [int(v) for v in values] if values else []


def _outside(values: list[int], lo: int, hi: int) -> bool:
    return any(not lo <= v <= hi for v in values)


def _check_resize(n: _Node) -> Support | None:
    mode = n.attr("mode", "nearest")
    if n.proto.op_type == "Upsample" or n.opset < 11:
        coord, nearest = "asymmetric", "floor"  # Upsample and Resize-10: asymmetric, floor rounding
    else:
        coord = n.attr("coordinate_transformation_mode", "half_pixel")
        nearest = n.attr("nearest_mode", "round_prefer_floor")
    if n.target == "ort-cpu":
        # docs/background.md, Deployment rewrites: the CPU cubic kernel dominated a whole SR run.
        return (
            _ok("cubic is slow on CPU; express a fixed bicubic upscale as Conv + DepthToSpace")
            if mode == "cubic"
            else _ok()
        )
    if n.target == "dla":
        return _check_resize_dla(n, mode, coord, nearest)
    if mode not in ("nearest", "linear", "bilinear", "cubic"):
        return _no(f"mode {mode!r} is not supported")
    if n.attr("antialias", 0):
        return _no("antialias=1 is not supported")
    if n.attr("keep_aspect_ratio_policy", "stretch") != "stretch":
        return _no("only keep_aspect_ratio_policy='stretch' is supported")
    known = ("half_pixel", "pytorch_half_pixel", "tf_half_pixel_for_nn", "asymmetric", "align_corners")
    if coord not in known:
        return _no(f"coordinate_transformation_mode {coord!r} is not supported (only {', '.join(known)})")
    if coord == "tf_half_pixel_for_nn" and nearest != "round_prefer_floor" and n.target != "trt8":
        return _no("tf_half_pixel_for_nn needs nearest_mode='round_prefer_floor'")
    if mode == "cubic":
        if n.target == "trt8":
            return _no("cubic is not supported (TensorRT 8.5 operators.md: nearest and linear only)")
        return _partial(
            "cubic: accepted by the 10.x parser on the 2 innermost dims; operators.md lists only nearest and linear"
        )
    return _ok()


def _check_resize_dla(n: _Node, mode: str, coord: str, nearest: str) -> Support:
    # ONNX half_pixel -> HALF_PIXEL+FORMULA, pytorch_half_pixel -> HALF_PIXEL+UPPER (onnx-tensorrt importer).
    if mode == "nearest":
        allowed = {("asymmetric", "floor"), ("half_pixel", "round_prefer_floor"), ("half_pixel", "round_prefer_ceil")}
        if (coord, nearest) not in allowed:
            return _no(
                f"nearest resize on DLA needs asymmetric+floor or half_pixel+round_prefer_*; got {coord}+{nearest}"
            )
        top = 32
    elif mode in ("linear", "bilinear"):
        if coord not in ("half_pixel", "pytorch_half_pixel"):
            return _no(f"linear resize on DLA needs half_pixel or pytorch_half_pixel; got {coord}")
        top = 4
    else:
        return _no(f"{mode} resize: DLA resizes nearest or linear only")
    scales_at = 1 if n.proto.op_type == "Upsample" or n.opset < 11 else 2
    if n.proto.op_type == "Upsample" and n.opset < 9:
        scales = [float(s) for s in n.attr("scales", [])]
    else:
        scales = n.const_values(scales_at)
    if scales is None or not scales:
        if n.constants is not None and n.input(scales_at) and not n.is_const(scales_at):
            return _no("resize scales are not a build-time constant")
        return _partial(f"needs 4 scales [1, 1, s, s] with integer s in 1..{top}; not verifiable from this node alone")
    hw = scales[2:]
    if len(scales) != 4 or scales[:2] != [1.0, 1.0] or any(s != int(s) or not 1 <= s <= top for s in hw):
        return _no(f"DLA needs 4 scales [1, 1, s, s] with integer s in 1..{top}; got {scales}")
    return _ok()


def _check_pad(n: _Node) -> Support | None:
    mode = n.attr("mode", "constant")
    if n.target == "trt8" and mode == "wrap":
        return _no("mode 'wrap' needs TensorRT >= 10.0 (8.x: constant, reflect, edge)")
    return None


def _conv_geometry(n: _Node) -> tuple[list[int], list[int], list[int], list[int]]:
    """kernel, strides, pads, dilations; kernel from the weights when the attribute is absent."""
    kernel = _ints(n.attr("kernel_shape"))
    if not kernel:
        dims = n.const_dims(1)
        kernel = list(dims[2:]) if dims else []
    return kernel, _ints(n.attr("strides")), _ints(n.attr("pads")), _ints(n.attr("dilations"))


def _check_conv(n: _Node) -> Support | None:
    if n.target != "dla":
        return None
    kernel, strides, pads, dilations = _conv_geometry(n)
    if not kernel:
        return None  # shape unknown here: the table's restriction note stands
    if len(kernel) != 2:
        return _no(f"{len(kernel)}-D convolution; DLA runs 2-D only")
    problems = []
    if _outside(kernel, 1, 32):
        problems.append(f"kernel {kernel} outside 1..32")
    if _outside(strides, 1, 8):
        problems.append(f"stride {strides} outside 1..8")
    if _outside(dilations, 1, 32):
        problems.append(f"dilation {dilations} outside 1..32")
    if _outside(pads, 0, 31) or any(p >= kernel[i % 2] for i, p in enumerate(pads)):
        problems.append(f"pads {pads} outside 0..31 or not below the kernel")
    if int(n.attr("group", 1)) > 8192:
        problems.append("more than 8192 groups")
    out_maps = n.const_dims(1)
    if out_maps and not 1 <= out_maps[0] <= 8192:
        problems.append(f"{out_maps[0]} output channels outside 1..8192")
    return _no("; ".join(problems)) if problems else _ok()


def _deconv_size_ok(values: list[int]) -> bool:
    # NvInfer.h: each of H, W in 1..32, or one of them 64/96/128 with the other 1.
    return all(1 <= v <= 32 for v in values) or (sorted(values)[0] == 1 and sorted(values)[1] in (64, 96, 128))


def _check_conv_transpose(n: _Node) -> Support | None:
    if n.target != "dla":
        return None
    kernel, strides, pads, dilations = _conv_geometry(n)
    problems = []
    if kernel and len(kernel) != 2:
        return _no(f"{len(kernel)}-D deconvolution; DLA runs 2-D only")
    if kernel and not _deconv_size_ok(kernel):
        problems.append(f"kernel {kernel} not in 1..32 (or 64/96/128 x 1)")
    if strides and not _deconv_size_ok(strides):
        problems.append(f"stride {strides} not in 1..32 (or 64/96/128 x 1)")
    if any(pads):
        problems.append(f"pads {pads} (DLA needs 0)")
    if int(n.attr("group", 1)) != 1:
        problems.append("grouped deconvolution")
    if any(d != 1 for d in dilations):
        problems.append(f"dilation {dilations}")
    if problems:
        return _no("; ".join(problems))
    return _ok() if kernel else None


def _check_pool(n: _Node) -> Support | None:
    kernel = _ints(n.attr("kernel_shape"))
    dilations = _ints(n.attr("dilations"))
    if n.target in _TRT:
        if kernel and len(kernel) not in (2, 3):
            return _no(f"{len(kernel)}-D pooling; TensorRT pools 2-D or 3-D")
        if any(d != 1 for d in dilations):
            return _no(f"dilations {dilations}: TensorRT pooling has no dilation")
        if n.proto.op_type == "MaxPool" and len(n.proto.output) > 1 and n.proto.output[1]:
            return _no("the Indices output is not supported")
        return None
    if n.target != "dla":
        return None
    if len(kernel) != 2:
        return _no(f"{len(kernel)}-D pooling; DLA pools 2-D only")
    problems = []
    if _outside(kernel, 1, 8):
        problems.append(f"window {kernel} outside 1..8")
    if _outside(_ints(n.attr("strides")), 1, 16):
        problems.append(f"stride {_ints(n.attr('strides'))} outside 1..16")
    if _outside(_ints(n.attr("pads")), 0, 7):
        problems.append(f"pads {_ints(n.attr('pads'))} outside 0..7")
    if any(d != 1 for d in dilations):
        problems.append(f"dilations {dilations}")
    return _no("; ".join(problems)) if problems else _ok()


def _check_layer_norm(n: _Node) -> Support | None:
    if n.target not in ("trt10", "trt11"):
        return None
    if any(n.proto.output[1:]):
        return _no("only the first output Y is supported (Mean/InvStdDev are training outputs)")
    return _ok()


def _check_group_norm(n: _Node) -> Support | None:
    if n.opset < 21:
        return None
    if n.target == "trt8":
        return _no("opset-21 GroupNormalization is not parsed by TensorRT 8.x")
    if n.target == "trt10":
        return _partial("opset-21 form needs TensorRT >= 10.9 (JetPack 6.1/6.2 ship 10.3)")
    return None


def _check_batch_norm(n: _Node) -> Support | None:
    if n.target in ("trt10", "trt11") and n.attr("training_mode", 0):
        return _no("training_mode=1 is not supported")
    return None


def _check_einsum(n: _Node) -> Support | None:
    if n.target not in ("trt8", "trt10"):
        return None
    equation = str(n.attr("equation", "")).replace(" ", "")
    operands = equation.split("->")[0].split(",")
    fancy = "..." in equation or any(len(set(op)) != len(op) for op in operands)
    if n.target == "trt8":
        if fancy:
            return _no("ellipsis or diagonal (repeated label) equations are not supported")
        return _partial("no broadcasting between inputs")
    return _partial("ellipsis/diagonal/broadcasting need TensorRT >= 10.12") if fancy else _ok()


def _const_input_check(index: int, what: str) -> Callable[[_Node], Support | None]:
    """TensorRT 8.x needs this input (when present) to be an initializer."""

    def check(n: _Node) -> Support | None:
        if n.target != "trt8" or not n.input(index):
            return None
        known = n.is_const(index)
        if known is None:
            return None
        return _ok() if known else _no(f"{what} must be an initializer")

    return check


def _check_squeeze(n: _Node) -> Support | None:
    if n.opset < 13 or not n.input(1):
        return _ok() if n.target in _TRT else None  # axes as an attribute, or absent
    if n.target == "trt8":
        return _const_input_check(1, "axes")(n)
    if n.target in ("trt10", "trt11") and n.is_const(1):
        return _ok()
    return None


def _check_instance_norm(n: _Node) -> Support | None:
    if n.target != "trt8" or n.constants is None:
        return None
    if not (n.is_const(1) and n.is_const(2)):
        return _no("scale and B must be initializers")
    return _partial("input rank must be 3 to 5")


def _check_qdq(n: _Node) -> Support | None:
    if n.target == "dla":
        return None
    scale = n.const_values(1)
    per_channel = scale is not None and len(scale) > 1
    if n.target == "ort-cpu":
        if n.opset >= 13 or (scale is not None and not per_channel):
            return _ok()
        return _no("per-axis scales need opset >= 13") if per_channel else None
    if n.constants is None:
        return None
    if scale is None:
        return _no("the scale must be a build-time constant")
    zero_point = n.const_values(2)
    if n.input(2) and zero_point is None:
        return _no("the zero point must be a build-time constant")
    if zero_point and any(zero_point):
        return _no("the zero point must be 0: TensorRT quantizes symmetrically")
    if per_channel and not n.is_const(0):
        if n.proto.op_type == "QuantizeLinear":
            return _no("per-channel quantization applies to weights only, not activations")
        return _partial("per-channel dequantization must be rooted at weights (Q of an initializer)")
    return _ok()


def _check_dla_axis(n: _Node) -> Support | None:
    if n.target != "dla":
        return None
    if n.proto.op_type == "Concat":
        axis = int(n.attr("axis", 1))
        return _ok() if axis in (1, -3) else _no(f"concat axis {axis}; DLA concatenates on the channel axis only")
    axis = int(n.attr("axis", 1 if n.opset < 13 else -1))
    return _no("softmax over the batch axis") if axis == 0 else None


def _check_dla_const_input(n: _Node) -> Support | None:
    if n.target != "dla":
        return None
    known = n.is_const(1)
    if known is None:
        return None
    what = "the slope" if n.proto.op_type == "PRelu" else "the second input"
    return _ok() if known else _no(f"{what} must be a build-time constant")


def _check_upsample(n: _Node) -> Support | None:
    if n.target == "ort-cpu":
        return _ok() if n.opset <= 9 else _no("Upsample is deprecated from opset 10; use Resize")
    return _check_resize(n)


def _check_gelu(n: _Node) -> Support | None:
    if n.target == "ort-cpu" and n.opset < 20:
        return _no("Gelu exists from opset 20")
    return None


# Node checks refine a table entry for a concrete node; they return None to keep the table's verdict.
_CHECKS: dict[str, Callable[[_Node], Support | None]] = {
    "Resize": _check_resize,
    "Upsample": _check_upsample,
    "Pad": _check_pad,
    "Conv": _check_conv,
    "ConvTranspose": _check_conv_transpose,
    "MaxPool": _check_pool,
    "AveragePool": _check_pool,
    "LayerNormalization": _check_layer_norm,
    "GroupNormalization": _check_group_norm,
    "BatchNormalization": _check_batch_norm,
    "Einsum": _check_einsum,
    "Slice": _const_input_check(3, "axes"),
    "Squeeze": _check_squeeze,
    "Unsqueeze": _check_squeeze,
    "InstanceNormalization": _check_instance_norm,
    "QuantizeLinear": _check_qdq,
    "DequantizeLinear": _check_qdq,
    "Concat": _check_dla_axis,
    "Softmax": _check_dla_axis,
    "MatMul": _check_dla_const_input,
    "Gemm": _check_dla_const_input,
    "PRelu": _check_dla_const_input,
    "Gelu": _check_gelu,
}


def _validate_target(target: str) -> None:
    if target not in TARGETS:
        close = difflib.get_close_matches(target, TARGETS, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise InputError(f"unknown target '{target}'; {hint}choose one of: {', '.join(TARGETS)}")


def check_node(
    node: onnx.NodeProto,
    target: str,
    *,
    opset: int,
    dynamic: bool,
    constants: Mapping[str, onnx.TensorProto] | None = None,
) -> Finding:
    """The support finding for one node on one target.

    ``opset`` is the model's default-domain opset; ``dynamic`` says whether the model's input H or W is
    symbolic (DLA cannot run any layer then). ``constants`` maps the names of the graph's initializers and
    Constant outputs to their tensors; without it, checks that need constant inputs report ``partial``.
    """
    _validate_target(target)
    op = node.op_type
    names = (node.name,) if node.name else ()
    if node.domain not in ("", "ai.onnx"):
        return Finding(op, target, "unknown", f"op from domain '{node.domain}': no support data", names)
    rule = TABLES[target].get(op)
    if rule is None:
        note = f"{op} is not in the {target} support table; only a real build can tell"
        return Finding(op, target, "unknown", note, names)
    if target == "dla" and dynamic:
        rule = _no("dynamic input H/W; DLA needs static shapes")
    elif rule.status != "unsupported" and op in _CHECKS:
        rule = _CHECKS[op](_Node(node, target, opset, constants)) or rule
    note = rule.note
    if target == "dla" and rule.status == "unsupported":
        note = f"{note}; {_DLA_FALLBACK}" if note else _DLA_FALLBACK
    return Finding(op, target, rule.status, note, names)


def check_graph(model: onnx.ModelProto, target: str) -> list[Finding]:
    """Findings for every node of the main graph, one per (op, status, note), with all its node names.

    Subgraphs and the tensors inside Constant nodes are not visited. The model counts as dynamic when a
    graph input's H or W (its last two dims, rank >= 3) is not a fixed integer.
    """
    _validate_target(target)
    opsets = [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")]
    if not opsets:
        raise ModelError("the model declares no default-domain opset; re-export it with an opset_import")
    graph = model.graph
    constants = _constants(graph)
    dynamic = _is_dynamic(graph, set(constants))
    grouped: dict[tuple[str, str, str], list[str]] = {}
    for i, node in enumerate(graph.node):
        finding = check_node(node, target, opset=max(opsets), dynamic=dynamic, constants=constants)
        grouped.setdefault((finding.op, finding.status, finding.note), []).append(node.name or f"{node.op_type}#{i}")
    return [
        Finding(op, target, status, note, tuple(nodes))  # type: ignore[arg-type]
        for (op, status, note), nodes in grouped.items()
    ]


def _constants(graph: onnx.GraphProto) -> dict[str, onnx.TensorProto]:
    """Initializers and Constant-node outputs, by tensor name."""
    import onnx

    found = {t.name: t for t in graph.initializer}
    for node in graph.node:
        if node.op_type != "Constant" or node.domain not in ("", "ai.onnx") or not node.output:
            continue
        for a in node.attribute:
            if a.name == "value":
                found[node.output[0]] = a.t
            elif a.name in ("value_float", "value_floats", "value_int", "value_ints"):
                value = onnx.helper.get_attribute_value(a)
                dtype = onnx.TensorProto.FLOAT if "float" in a.name else onnx.TensorProto.INT64
                dims = [len(value)] if a.name.endswith("s") else []
                found[node.output[0]] = onnx.helper.make_tensor(node.output[0], dtype, dims, value if dims else [value])
    return found


def _is_dynamic(graph: onnx.GraphProto, initializers: set[str]) -> bool:
    for value in graph.input:
        if value.name in initializers:
            continue  # old IR versions list initializers among the inputs
        tensor = value.type.tensor_type
        if not tensor.HasField("shape"):
            return True
        dims = tensor.shape.dim
        if len(dims) >= 3 and any(not d.HasField("dim_value") for d in dims[-2:]):
            return True
    return False


def targets_for_device(device: Device) -> tuple[str, ...]:
    """The support targets that matter for a device: one per TensorRT major it ships, plus DLA.

    Derived from ``Device.tensorrt_versions`` and ``Device.has_dla``; the host CPU gets ``ort-cpu``.
    TensorRT 8.0/8.2 (JetPack 4.6 on Nano, TX2 and Xavier) have no table of their own: the ``trt8``
    table (8.5/8.6) is the nearest, and 8.0/8.2 may lack ops added since (Reciprocal, HardSwish, ...).
    """
    if not device.is_jetson:
        return ("ort-cpu",)
    by_major = {"8": "trt8", "10": "trt10", "11": "trt11"}
    targets: list[str] = []
    for version in device.tensorrt_versions:
        major = version.split(".")[0]
        if major not in by_major:
            raise ValueError(f"no support table for TensorRT {version} (device {device.id}); add one")
        if by_major[major] not in targets:
            targets.append(by_major[major])
    if device.has_dla:
        targets.append("dla")
    return tuple(targets)
