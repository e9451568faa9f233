"""ONNX ops as torch calls, for the fine-tuning interpreter (:mod:`edgesr.quantize.qat.torchgraph`).

``OPS`` maps an op type to its translator, ``translate(node, attrs, ins) -> outputs``: the ONNX
node (its name for messages, its outputs for Split), its decoded attributes and its input tensors
(``None`` for an omitted optional input). Only the ops edgesr's model zoo and typical SR exports
use are covered; :func:`translate` names any other op in a :class:`ModelError`. To cover an op,
write its translator and add it to ``OPS``.

Importing this module imports torch; only the interpreter imports it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from edgesr.errors import ModelError
from edgesr.lazy import require

torch = require("torch")
numpy_helper = require("onnx.numpy_helper")
F = torch.nn.functional

Translator = Callable[[object, dict, list], list]

# ONNX TensorProto data types Cast may target
_CAST = {1: torch.float32, 6: torch.int32, 7: torch.int64, 9: torch.bool, 10: torch.float16, 11: torch.float64}


def translate(node, attrs: dict, ins: list) -> list:
    """The outputs of ``node`` on ``ins``, in the order of ``node.output``."""
    translator = OPS.get(node.op_type)
    if translator is None:
        raise ModelError(f"op {node.op_type} (node '{node.name}') is not supported by the fine-tuning interpreter")
    return translator(node, attrs, ins)


def _ints(t) -> list[int]:
    return [int(v) for v in t.reshape(-1).tolist()]


def _given(ins: list, k: int) -> bool:
    return len(ins) > k and ins[k] is not None


def _pad_sym(x, pads, value=0.0):
    """``x`` and torch's symmetric padding for ONNX ``pads``: uneven padding is applied here."""
    n = len(pads) // 2
    begin, end = pads[:n], pads[n:]
    if begin == end:
        return x, list(begin)
    torch_pads = []
    for i in reversed(range(n)):
        torch_pads += [begin[i], end[i]]
    return F.pad(x, torch_pads, value=value), [0] * n


def _unary(f) -> Translator:
    return lambda node, attrs, ins: [f(ins[0])]


def _binary(f) -> Translator:
    return lambda node, attrs, ins: [f(ins[0], ins[1])]


def _variadic(f) -> Translator:
    def fold(node, attrs, ins):
        out = ins[0]
        for v in ins[1:]:
            out = f(out, v)
        return [out]

    return fold


def _conv(node, attrs, ins):
    x, w = ins[0], ins[1]
    b = ins[2] if len(ins) > 2 else None
    k = list(w.shape[2:])
    x, p = _pad_sym(x, attrs.get("pads", [0] * 2 * len(k)))
    conv = F.conv2d if len(k) == 2 else F.conv1d
    return [conv(x, w, b, attrs.get("strides", 1), p, attrs.get("dilations", 1), attrs.get("group", 1))]


def _gemm(node, attrs, ins):
    a = ins[0].t() if attrs.get("transA", 0) else ins[0]
    b = ins[1].t() if attrs.get("transB", 0) else ins[1]
    y = attrs.get("alpha", 1.0) * (a @ b)
    if _given(ins, 2):
        y = y + attrs.get("beta", 1.0) * ins[2]
    return [y]


def _leaky_relu(node, attrs, ins):
    return [F.leaky_relu(ins[0], attrs.get("alpha", 0.01))]


def _gelu(node, attrs, ins):
    return [F.gelu(ins[0], approximate="tanh" if attrs.get("approximate", b"none") == b"tanh" else "none")]


def _div(node, attrs, ins):
    if not ins[0].is_floating_point() and not ins[1].is_floating_point():
        return [torch.div(ins[0], ins[1], rounding_mode="trunc")]  # ONNX integer division truncates
    return [ins[0] / ins[1]]


def _clip(node, attrs, ins):
    lo = ins[1] if _given(ins, 1) else None
    hi = ins[2] if _given(ins, 2) else None
    return [torch.clamp(ins[0], lo, hi)]


def _where(node, attrs, ins):
    return [torch.where(ins[0], ins[1], ins[2])]


def _concat(node, attrs, ins):
    return [torch.cat(ins, dim=attrs["axis"])]


def _split(node, attrs, ins):
    x = ins[0]
    axis = attrs.get("axis", 0)
    if _given(ins, 1):
        sizes = _ints(ins[1])
    elif "split" in attrs:
        sizes = list(attrs["split"])
    else:  # equal parts, the last one smaller (opset 18's num_outputs)
        n = attrs.get("num_outputs", len(node.output))
        size = -(-x.shape[axis] // n)
        sizes = [size] * (n - 1) + [x.shape[axis] - size * (n - 1)]
    return list(torch.split(x, sizes, dim=axis))


def _slice(node, attrs, ins):
    x = ins[0]
    starts, ends = _ints(ins[1]), _ints(ins[2])
    axes = _ints(ins[3]) if _given(ins, 3) else list(range(len(starts)))
    steps = _ints(ins[4]) if _given(ins, 4) else [1] * len(starts)
    idx = [slice(None)] * x.dim()
    for s, e, ax, st in zip(starts, ends, axes, steps):
        dim = x.shape[ax]
        if st < 0:
            raise ModelError(f"Slice '{node.name}' with a negative step is not supported for fine-tuning")
        s = max(0, min(dim, s + dim if s < 0 else s))
        e = max(0, min(dim, e + dim if e < 0 else e))
        idx[ax] = slice(s, e, st)
    return [x[tuple(idx)]]


def _gather(node, attrs, ins):
    x, ind = ins[0], ins[1].long()
    axis = attrs.get("axis", 0) % x.dim()
    ind = torch.where(ind < 0, ind + x.shape[axis], ind)
    flat = x.index_select(axis, ind.reshape(-1))
    return [flat.reshape(list(x.shape[:axis]) + list(ind.shape) + list(x.shape[axis + 1 :]))]


def _shape(node, attrs, ins):
    shape = torch.tensor(list(ins[0].shape), dtype=torch.int64)
    return [shape[attrs.get("start", 0) : attrs.get("end", None)]]


def _unsqueeze(node, attrs, ins):
    axes = _ints(ins[1]) if len(ins) > 1 else list(attrs["axes"])  # an input from opset 13, an attribute before
    x = ins[0]
    rank = x.dim() + len(axes)
    for ax in sorted(ax % rank for ax in axes):
        x = x.unsqueeze(ax)
    return [x]


def _squeeze(node, attrs, ins):
    axes = _ints(ins[1]) if _given(ins, 1) else attrs.get("axes")
    x = ins[0]
    if axes is None:
        return [x.squeeze()]
    for ax in sorted((ax % x.dim() for ax in axes), reverse=True):
        x = x.squeeze(ax)
    return [x]


def _reshape(node, attrs, ins):
    shape = [ins[0].shape[k] if v == 0 else v for k, v in enumerate(_ints(ins[1]))]  # 0 copies the input's size
    return [ins[0].reshape(shape)]


def _flatten(node, attrs, ins):
    ax = attrs.get("axis", 1)
    return [ins[0].reshape(int(np.prod(ins[0].shape[:ax])), -1)]


def _transpose(node, attrs, ins):
    return [ins[0].permute(*attrs["perm"])]


def _expand(node, attrs, ins):
    return [ins[0] * torch.ones(_ints(ins[1]), dtype=ins[0].dtype)]


def _tile(node, attrs, ins):
    return [ins[0].repeat(*_ints(ins[1]))]


def _constant(node, attrs, ins):
    return [torch.from_numpy(numpy_helper.to_array(attrs["value"]).copy())]


def _constant_of_shape(node, attrs, ins):
    value = numpy_helper.to_array(attrs["value"]) if "value" in attrs else np.zeros(1, np.float32)
    return [torch.full(_ints(ins[0]), float(value.reshape(-1)[0]), dtype=torch.from_numpy(value.copy()).dtype)]


def _range(node, attrs, ins):
    return [torch.arange(ins[0].item(), ins[1].item(), ins[2].item(), dtype=ins[0].dtype)]


def _cast(node, attrs, ins):
    return [ins[0].to(_CAST[attrs["to"]])]


def _pool_args(attrs):
    k = attrs["kernel_shape"]
    s = attrs.get("strides", [1] * len(k))
    pads = attrs.get("pads", [0] * 2 * len(k))
    d = attrs.get("dilations", [1] * len(k))
    return k, s, pads, d


def _max_pool(node, attrs, ins):
    k, s, pads, d = _pool_args(attrs)
    x, p = _pad_sym(ins[0], pads, value=-float("inf"))
    return [F.max_pool2d(x, k, s, p, d, ceil_mode=bool(attrs.get("ceil_mode", 0)))]


def _average_pool(node, attrs, ins):
    k, s, pads, _ = _pool_args(attrs)
    x, p = _pad_sym(ins[0], pads)
    return [
        F.avg_pool2d(
            x,
            k,
            s,
            p,
            ceil_mode=bool(attrs.get("ceil_mode", 0)),
            count_include_pad=bool(attrs.get("count_include_pad", 0)),
        )
    ]


def _global_average_pool(node, attrs, ins):
    return [ins[0].mean(dim=tuple(range(2, ins[0].dim())), keepdim=True)]


def _reduce(f) -> Translator:
    """A Reduce* op: axes from the attribute (before opset 18) or the input, all axes when neither."""

    def reduce(node, attrs, ins):
        axes = attrs.get("axes")
        if axes is None and _given(ins, 1):
            axes = _ints(ins[1])
        dims = tuple(axes) if axes is not None else tuple(range(ins[0].dim()))
        return [f(ins[0], dims, bool(attrs.get("keepdims", 1)))]

    return reduce


def _resize(node, attrs, ins):
    _, scales, sizes = (list(ins[1:]) + [None] * (4 - len(ins)))[:3]  # roi is not read
    x = ins[0]
    mode = attrs.get("mode", b"nearest").decode()
    ctm = attrs.get("coordinate_transformation_mode", b"half_pixel").decode()
    if sizes is not None and sizes.numel():
        kw = {"size": _ints(sizes)[2:]}
    else:
        kw = {"scale_factor": [float(v) for v in scales.reshape(-1).tolist()][2:], "recompute_scale_factor": False}
    if mode == "nearest":
        nm = attrs.get("nearest_mode", b"round_prefer_floor").decode()
        if ctm != "asymmetric" or nm != "floor":
            raise ModelError(f"Resize '{node.name}': nearest with {ctm}/{nm} is not supported for fine-tuning")
        return [F.interpolate(x, mode="nearest", **kw)]
    if mode == "linear":
        if ctm not in ("half_pixel", "pytorch_half_pixel", "align_corners"):
            raise ModelError(f"Resize '{node.name}': linear with {ctm} is not supported for fine-tuning")
        return [
            F.interpolate(x, mode="bilinear" if x.dim() == 4 else "linear", align_corners=ctm == "align_corners", **kw)
        ]
    if mode == "cubic":
        if (
            ctm != "half_pixel"
            or abs(attrs.get("cubic_coeff_a", -0.75) + 0.75) > 1e-6
            or attrs.get("exclude_outside", 0)
        ):
            raise ModelError(f"Resize '{node.name}': this cubic variant is not supported for fine-tuning")
        return [F.interpolate(x, mode="bicubic", align_corners=False, **kw)]
    raise ModelError(f"Resize '{node.name}': mode {mode} is not supported for fine-tuning")


def _depth_to_space(node, attrs, ins):
    bs = attrs["blocksize"]
    x = ins[0]
    if attrs.get("mode", b"DCR") == b"CRD":
        return [F.pixel_shuffle(x, bs)]
    n, c, h, w = x.shape
    x = x.reshape(n, bs, bs, c // bs**2, h, w).permute(0, 3, 4, 1, 5, 2)
    return [x.reshape(n, c // bs**2, h * bs, w * bs)]


def _pad(node, attrs, ins):
    pads = _ints(ins[1])
    value = float(ins[2].item()) if _given(ins, 2) and ins[2].numel() else 0.0
    mode = attrs.get("mode", b"constant").decode()
    n = len(pads) // 2
    torch_pads = []
    for k in reversed(range(n)):
        torch_pads += [pads[k], pads[k + n]]
    # torch pads only the last dimensions in the non-constant modes: drop the unpadded outer ones
    while torch_pads and torch_pads[-2:] == [0, 0] and mode != "constant":
        torch_pads = torch_pads[:-2]
    return [
        F.pad(
            ins[0],
            torch_pads,
            mode={"edge": "replicate"}.get(mode, mode),
            **({"value": value} if mode == "constant" else {}),
        )
    ]


OPS: dict[str, Translator] = {
    "Conv": _conv,
    "Gemm": _gemm,
    "MatMul": _binary(torch.matmul),
    "Relu": _unary(F.relu),
    "LeakyRelu": _leaky_relu,
    "Gelu": _gelu,
    "Sigmoid": _unary(torch.sigmoid),
    "Tanh": _unary(torch.tanh),
    "Erf": _unary(torch.erf),
    "Exp": _unary(torch.exp),
    "Abs": _unary(torch.abs),
    "Sqrt": _unary(torch.sqrt),
    "Neg": _unary(torch.neg),
    "Reciprocal": _unary(torch.reciprocal),
    "Floor": _unary(torch.floor),
    "Ceil": _unary(torch.ceil),
    "Not": _unary(torch.logical_not),
    "Identity": _unary(lambda v: v),
    "Add": _binary(torch.add),
    "Sub": _binary(torch.sub),
    "Mul": _binary(torch.mul),
    "Div": _div,
    "Pow": _binary(torch.pow),
    "Equal": _binary(torch.eq),
    "Less": _binary(torch.lt),
    "Greater": _binary(torch.gt),
    "And": _binary(torch.logical_and),
    "Or": _binary(torch.logical_or),
    "Max": _variadic(torch.maximum),
    "Min": _variadic(torch.minimum),
    "Clip": _clip,
    "Where": _where,
    "Concat": _concat,
    "Split": _split,
    "Slice": _slice,
    "Gather": _gather,
    "Shape": _shape,
    "Unsqueeze": _unsqueeze,
    "Squeeze": _squeeze,
    "Reshape": _reshape,
    "Flatten": _flatten,
    "Transpose": _transpose,
    "Expand": _expand,
    "Tile": _tile,
    "Constant": _constant,
    "ConstantOfShape": _constant_of_shape,
    "Range": _range,
    "Cast": _cast,
    "MaxPool": _max_pool,
    "AveragePool": _average_pool,
    "GlobalAveragePool": _global_average_pool,
    "ReduceMean": _reduce(lambda x, dims, keep: x.mean(dim=dims, keepdim=keep)),
    "ReduceSum": _reduce(lambda x, dims, keep: x.sum(dim=dims, keepdim=keep)),
    "ReduceMax": _reduce(lambda x, dims, keep: x.amax(dim=dims, keepdim=keep)),
    "ReduceL2": _reduce(lambda x, dims, keep: torch.sqrt((x * x).sum(dim=dims, keepdim=keep))),
    "Resize": _resize,
    "DepthToSpace": _depth_to_space,
    "Pad": _pad,
}
