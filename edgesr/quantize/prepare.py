"""The quantize stage's steps up to the budget (see :mod:`edgesr.quantize.stage`): load and check the
float model, calibration data, GELU smoothing, statistics, cross-layer equalisation, placement and
activation ranges, weights, and the reference outputs on the validation images."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from edgesr import meta
from edgesr.errors import InputError, ModelError
from edgesr.lazy import require
from edgesr.onnx.graph_index import GraphIndex
from edgesr.onnx.quantized_ops import QUANTIZED_OPS
from edgesr.quantize import calibration, placement, qdq, ranges
from edgesr.quantize.budget import evaluate
from edgesr.quantize.graph import constants_to_initializers, unique_names
from edgesr.quantize.observe import collect_stats
from edgesr.quantize.passes import recentre

if TYPE_CHECKING:
    from edgesr.quantize.stage import Context


def check_float_model(model, path: Path) -> None:
    quantized = sorted({n.op_type for n in model.graph.node if n.op_type in QUANTIZED_OPS})
    if quantized:
        raise ModelError(
            f"{path} is already quantized (it contains {', '.join(quantized)}); "
            "pass the float model that 'edgesr convert' wrote"
        )
    inp = [i for i in model.graph.input if i.name not in {t.name for t in model.graph.initializer}]
    if inp and inp[0].type.tensor_type.elem_type == 10:
        raise ModelError(f"{path} takes float16 input; quantize the float32 model instead")


def load(ctx: Context) -> None:
    """The float model, checked, with unique names, its output image recentred (edgesr.quantize.passes.recentre)."""
    from edgesr.onnx.loading import check_image_output, image_input
    from edgesr.onnx.loading import load as load_onnx

    with ctx.step("load", "load") as info:
        model = load_onnx(ctx.source)
        check_float_model(model, ctx.source)
        unique_names(model)
        constants_to_initializers(model)
        ctx.inp = image_input(model)
        check_image_output(model)
        ctx.model_meta = mm = meta.read(model)
        ctx.scale = mm.scale if mm.known else ctx.opts.scale
        if not ctx.scale:
            raise InputError(f"{ctx.source} has no edgesr metadata giving its scale; pass --scale")
        ctx.value_range = mm.value_range
        if ctx.opts.recentre_output:
            model, ctx.recentred = recentre.recentre_output(model, ctx.value_range)
        ctx.model = ctx.reference_model = model
        ctx.idx = GraphIndex.of(model)
        info["outcome"] = f"{len(model.graph.node)} nodes, x{ctx.scale}, input {ctx.inp.shape_text}"


def calibrate(ctx: Context) -> None:
    patch = input_patch(ctx.inp.dims, ctx.model_meta.size_multiple, ctx.opts.input_shape)
    with ctx.step("calibration data", "calibration") as info:
        ctx.spec = calibration.spec_from(ctx.opts.calib, patch=patch, count=ctx.opts.count)
        ctx.cal = calibration.load_calibration(
            ctx.spec, scale=ctx.scale, channels=ctx.inp.channels, value_range=ctx.value_range
        )
        info["outcome"] = f"{len(ctx.cal)} inputs {'x'.join(map(str, ctx.cal.shape))} from {ctx.spec.name}"


def input_patch(dims, size_multiple: int, input_shape: tuple[int, int] | None) -> tuple[int, int]:
    """The calibration input's LR height and width: the model's fixed input, else ``input_shape`` or the
    default patch, which must then fit the model's size multiple."""
    fixed = tuple(d for d in dims[2:] if isinstance(d, int))
    if len(fixed) == 2:
        if input_shape is not None and tuple(input_shape) != fixed:
            raise InputError(
                f"the model's input is fixed at {fixed[0]}x{fixed[1]}; --input-shape "
                f"{input_shape[0]}x{input_shape[1]} does not match it"
            )
        if fixed[0] * fixed[1] > calibration.MAX_FIXED_PIXELS:
            raise InputError(
                f"the model's input is fixed at {fixed[0]}x{fixed[1]}, over the "
                f"{calibration.MAX_FIXED_PIXELS} pixels calibration runs whole; convert it with "
                "a smaller --input-shape (or a dynamic one) first"
            )
        return fixed  # type: ignore[return-value]
    shape = tuple(input_shape) if input_shape is not None else calibration.DEFAULT_PATCH
    m = max(1, size_multiple)
    if shape[0] % m or shape[1] % m:
        raise InputError(f"input shape {shape[0]}x{shape[1]} is not a multiple of the model's size multiple {m}")
    return shape  # type: ignore[return-value]


def smooth(ctx: Context) -> None:
    from edgesr.quantize.passes.smooth import smooth as smooth_gelus

    with ctx.step("GELU smoothing", "smoothing") as info:
        ctx.model, ctx.smoothed = smooth_gelus(ctx.model, ctx.inp.name, ctx.cal.arrays)
        if ctx.smoothed:
            ctx.idx = GraphIndex.of(ctx.model)
        info["outcome"] = f"{sum(len(s.amax) for s in ctx.smoothed)} tensor(s) of conv -> GELU -> conv smoothed"
    ctx.fixed_amax = {t: a for s in ctx.smoothed for t, a in s.amax.items()}


def statistics(ctx: Context) -> None:
    idx = ctx.idx
    with ctx.step("statistics", "statistics") as info:
        # produced by a node: value_info may still name tensors a rewrite removed
        ctx.tensors = [ctx.inp.name] + [
            t for t in idx.elem_type if idx.is_float(t) and not idx.is_const(t) and t in idx.producer
        ]
        ctx.stats = collect_stats(ctx.model, ctx.inp.name, ctx.cal.arrays, ctx.tensors)
        ctx.sizes = {t: s.numel for t, s in ctx.stats.items()}
        info["outcome"] = f"{len(ctx.stats)} float tensors"


def equalize(ctx: Context) -> None:
    from edgesr.quantize.passes.equalize import equalize as balance

    with ctx.step("cross-layer equalisation", "equalisation") as info:
        ctx.model, ctx.equalized = balance(ctx.model, ctx.stats)
        if ctx.equalized:
            ctx.idx = GraphIndex.of(ctx.model)
            ctx.stats = collect_stats(ctx.model, ctx.inp.name, ctx.cal.arrays, ctx.tensors)
        info["outcome"] = f"{len(ctx.equalized)} conv pairs balanced"


def place(ctx: Context) -> None:
    """Every unit INT8 that can be (the budget takes units back from it), and the activation ranges."""
    with ctx.step("placement") as info:
        ctx.full = full = placement.place(ctx.idx, ctx.sizes)
        info["outcome"] = (
            f"{len(full.int8)} INT8 units of {len(full.eligible)} eligible, cost-model speed-up "
            f"{full.predicted_speedup:.2f}x"
        )
    ctx.amax = activation_ranges(ctx, ctx.stats)
    ctx.clipped = clip_outputs(ctx.idx, ctx.amax, ctx.value_range)


def activation_ranges(ctx: Context, stats: dict) -> dict[str, float]:
    """Each tensor's clipping magnitude by the chosen method, then the ranges smoothing set."""
    consumers = consumer_functions(ctx.idx) if ctx.opts.method == "mse" else {}
    amax = {t: ranges.amax(s, ctx.opts.method, consumers.get(t)) for t, s in stats.items()}
    amax.update(ctx.fixed_amax)
    return amax


def consumer_functions(idx: GraphIndex) -> dict:
    """Tensor -> the elementwise function all its readers apply, for consumer-aware ranges:
    a single reader such as LeakyRelu or Sigmoid, or exactly the two reads of an erf GELU."""
    from edgesr.onnx.gelu_pattern import erf_gelus

    helper = require("onnx").helper
    out = {}
    for tensor, cons in idx.consumers.items():
        if len(cons) == 1 and tensor not in idx.graph_outputs:
            fn = ranges.consumer_function(
                cons[0].op_type, {a.name: helper.get_attribute_value(a) for a in cons[0].attribute}
            )
            if fn is not None:
                out[tensor] = fn
    for g in erf_gelus(idx.model.graph)[0]:
        readers = sorted(n.output[0] for n in idx.consumers.get(g.x, []))
        if g.x not in idx.graph_outputs and readers == sorted([g.div.output[0], g.mul.output[0]]):
            out[g.x] = ranges.gelu
    return out


def clip_outputs(idx: GraphIndex, amax: dict[str, float], value_range: float) -> list[str]:
    """Cap the range of tensors that *are* the output image (reached through data movement and
    the recentring offset only) at what ``[0, value_range]`` needs: post-processing clips anything
    beyond it, so INT8 steps spent on overshoot are wasted. A recentred image is set to exactly
    half the range, so that its offset is a whole number of steps (see recentre.fold_offsets).
    Returns the capped tensors."""
    capped = []
    for t, (lo, hi) in recentre.output_interval(idx, value_range).items():
        cap = max(abs(lo), abs(hi))
        if t in amax and (amax[t] > cap or lo < 0):
            amax[t] = cap
            capped.append(t)
    return capped


def weights(ctx: Context) -> None:
    """INT8 weights of the eligible convolutions (adaptive rounding) and their bias corrections."""
    from edgesr.quantize import weights as wq

    opts, idx = ctx.opts, ctx.idx
    numpy_helper = require("onnx.numpy_helper")
    with ctx.step("weights", "weights") as info:
        convs = [n.name for n in idx.nodes if n.op_type in placement.WEIGHTED and n.name in ctx.full.eligible]
        stats = {}
        if opts.rounding == "gptq" or opts.bias_correction:
            stats = wq.conv_input_stats(ctx.model, ctx.inp.name, ctx.cal.arrays[: min(len(ctx.cal), 32)], convs)
        for name in convs:
            w = numpy_helper.to_array(idx.inits[idx.node(name).input[1]]).astype(np.float32)
            st = stats.get(name)
            qw = wq.gptq(w, st) if opts.rounding == "gptq" and st is not None else qdq.quantize_weight(w)
            ctx.qweights[name] = qw
            if opts.bias_correction and st is not None:
                ctx.bias_delta[name] = wq.bias_correction(w, qw, st)
        info["outcome"] = f"{len(ctx.qweights)} convolutions, rounding {opts.rounding}" + (
            ", bias correction" if opts.bias_correction else ""
        )


def reference(ctx: Context) -> None:
    """The validation images and the reference model's outputs on them, which every drop is measured against."""
    opts = ctx.opts
    ctx.val = calibration.load_validation(
        opts.val,
        scale=ctx.scale,
        max_side=opts.validation_max_side,
        count=opts.validation_count,
        degradations=opts.val_degrade,
    )
    runner = evaluate.Runner(ctx.reference_model, value_range=ctx.value_range)
    ctx.reference = evaluate.run_validation(runner, ctx.val)
