"""The quantize stage: float ONNX in, budgeted symmetric INT8 Q/DQ ONNX out, with its record.

Order (each step logged and timed): load and check -> calibration data -> statistics ->
placement (which nodes become INT8 units) -> activation ranges -> weights (adaptive rounding,
bias correction) -> validation reference -> per-tensor noise and fallback to the budget
-> optional quantization-aware fine-tune -> latency against FP32 -> atomic write of the model
(its metadata records the recipe) and of a JSON record beside it.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from edgesr import __version__, fileio, meta
from edgesr.errors import InputError, ModelError
from edgesr.lazy import require
from edgesr.log import logger, stage
from edgesr.onnx.cpu_rewrites import for_onnxruntime_cpu
from edgesr.quantize import budget as budget_mod
from edgesr.quantize import calibration, evaluate, noise, placement, qdq, ranges, recentre
from edgesr.quantize.graph import GraphIndex, constants_to_initializers, unique_names
from edgesr.quantize.observe import collect_stats

QUANT_PREFIX = "edgesr.quant."
QUANTIZED_OPS = {"QuantizeLinear", "DequantizeLinear", "QLinearConv", "QLinearMatMul", "ConvInteger", "MatMulInteger",
                 "DynamicQuantizeLinear", "QLinearAdd", "QLinearMul"}
ROUNDINGS = ("gptq", "nearest")
FALLBACK_ORDERS = ("cost", "damage", "tensor")


@dataclass
class QuantizeOptions:
    """Settings of :class:`Quantize`; ``None`` means the documented default, resolved in the stage."""

    calib: str | os.PathLike | calibration.CalibrationSpec | None = None  # None: the shipped default set
    val: str | os.PathLike | None = None  # HR images for the budget; None: the shipped samples
    val_degrade: tuple[str, ...] = ()  # degradations of the validation LR (edgesr.degrade); (): clean bicubic
    method: str = "mse"
    max_drop: float | None = 0.1  # dB on the validation set; None: no budget (every eligible unit INT8)
    input_shape: tuple[int, int] | None = None  # calibration patch (LR HxW) for dynamic-shape models
    count: int = calibration.DEFAULT_COUNT
    rounding: str = "gptq"
    bias_correction: bool = True
    equalize: bool = False  # cross-layer equalisation of conv -> activation -> conv pairs
    smooth: bool = True  # per-channel ranges equalised around conv -> GELU -> conv (edgesr.quantize.smooth)
    # "tensor": whole tensors made float by a per-tensor noise model, most noise removed per latency
    # added first (see edgesr.quantize.noise); "cost": units by their damage quantized alone per
    # latency added; "damage": the most damaging units first
    fallback_order: str = "tensor"
    finetune_steps: int = 0  # quantization-aware fine-tune (needs torch); 0: off
    recentre_output: bool = True  # the output image on all 255 INT8 codes (see edgesr.quantize.recentre)
    scale: int | None = None  # only for models without edgesr metadata
    latency: bool = True
    latency_shape: tuple[int, int] = evaluate.LATENCY_SHAPE
    latency_rounds: int = 10
    threads: int = 2  # for the latency measurement (ratios, same process)
    validation_max_side: int = calibration.VALIDATION_MAX_SIDE
    validation_count: int = calibration.VALIDATION_COUNT


@dataclass
class QuantizeResult:
    model: object = field(repr=False)  # onnx.ModelProto as written
    path: Path | None
    record: dict = field(repr=False)

    @property
    def kept(self) -> list[str]:
        return [k["node"] for k in self.record["kept"]]

    @property
    def drop(self) -> float:
        return self.record["validation"]["drop_db"]

    @property
    def speedup(self) -> float | None:
        lat = self.record.get("latency")
        return lat["speedup"] if lat else None


def check_float_model(model, path: Path) -> None:
    quantized = sorted({n.op_type for n in model.graph.node if n.op_type in QUANTIZED_OPS})
    if quantized:
        raise ModelError(f"{path} is already quantized (it contains {', '.join(quantized)}); "
                         "pass the float model that 'edgesr convert' wrote")
    inp = [i for i in model.graph.input if i.name not in {t.name for t in model.graph.initializer}]
    if inp and inp[0].type.tensor_type.elem_type == 10:
        raise ModelError(f"{path} takes float16 input; quantize the float32 model instead")


class Quantize:
    """``Quantize(model_path, out_path, options)()`` runs the stage; see :func:`quantize`."""

    def __init__(self, model_path: str | os.PathLike, out_path: str | os.PathLike | None,
                 options: QuantizeOptions | None = None):
        self.model_path = Path(model_path)
        self.out_path = Path(out_path) if out_path is not None else None
        self.options = options if options is not None else QuantizeOptions()

    def __call__(self) -> QuantizeResult:  # noqa: C901 - the stage order, written out
        from edgesr.onnx.loading import check_image_output, image_input, load

        opts = self.options
        ranges.check_method(opts.method)
        if opts.rounding not in ROUNDINGS:
            raise InputError(f"unknown rounding '{opts.rounding}'; choose one of: {', '.join(ROUNDINGS)}")
        if opts.fallback_order not in FALLBACK_ORDERS:
            raise InputError(f"unknown fallback order '{opts.fallback_order}'; choose one of: "
                             f"{', '.join(FALLBACK_ORDERS)}")
        if opts.max_drop is not None and not np.isfinite(opts.max_drop):
            raise InputError(f"--max-drop must be a finite number of dB, got {opts.max_drop}")
        if self.out_path is not None:
            if self.out_path.suffix.lower() != ".onnx":
                raise InputError(f"output {self.out_path} must end in .onnx")
            if self.model_path.exists() and self.out_path.exists() and self.out_path.resolve() == self.model_path.resolve():
                raise InputError(f"the output {self.out_path} would overwrite the input model; choose another -o")
            fileio.check_writable_dir(self.out_path.parent if str(self.out_path.parent) else Path("."))
        timings: dict[str, float] = {}
        started = time.perf_counter()

        with stage("load") as info:
            model = load(self.model_path)
            check_float_model(model, self.model_path)
            unique_names(model)
            constants_to_initializers(model)
            inp = image_input(model)
            check_image_output(model)
            mm = meta.read(model)
            scale = mm.scale if mm.known else opts.scale
            if not scale:
                raise InputError(f"{self.model_path} has no edgesr metadata giving its scale; pass --scale")
            value_range = mm.value_range
            recentred = []
            if opts.recentre_output:
                model, recentred = recentre.recentre_output(model, value_range)
            idx = GraphIndex.of(model)
            info["outcome"] = f"{len(model.graph.node)} nodes, x{scale}, input {inp.shape_text}"
        timings["load"] = info["seconds"]

        patch = self._patch(inp, mm)
        with stage("calibration data") as info:
            spec = calibration.spec_from(opts.calib, patch=patch, count=opts.count)
            cal = calibration.load_calibration(spec, scale=scale, channels=inp.channels, value_range=value_range)
            info["outcome"] = f"{len(cal)} inputs {'x'.join(map(str, cal.shape))} from {spec.name}"
        timings["calibration"] = info["seconds"]

        reference_model = model
        smoothed = []
        if opts.smooth:
            from edgesr.quantize.smooth import smooth

            with stage("GELU smoothing") as info:
                model, smoothed = smooth(model, inp.name, cal.arrays)
                if smoothed:
                    idx = GraphIndex.of(model)
                info["outcome"] = f"{sum(len(s.amax) for s in smoothed)} tensor(s) of conv -> GELU -> conv smoothed"
            timings["smoothing"] = info["seconds"]
        fixed_amax = {t: a for s in smoothed for t, a in s.amax.items()}

        with stage("statistics") as info:
            # produced by a node: value_info may still name tensors a rewrite removed
            tensors = [inp.name] + [t for t in idx.elem_type if idx.is_float(t) and not idx.is_const(t)
                                    and t in idx.producer]
            stats = collect_stats(model, inp.name, cal.arrays, tensors)
            sizes = {t: s.numel for t, s in stats.items()}
            info["outcome"] = f"{len(stats)} float tensors"
        timings["statistics"] = info["seconds"]
        equalized = []
        if opts.equalize:
            from edgesr.quantize.equalize import equalize

            with stage("cross-layer equalisation") as info:
                model, equalized = equalize(model, stats)
                if equalized:
                    idx = GraphIndex.of(model)
                    stats = collect_stats(model, inp.name, cal.arrays, tensors)
                info["outcome"] = f"{len(equalized)} conv pairs balanced"
            timings["equalisation"] = info["seconds"]

        with stage("placement") as info:
            full = placement.place(idx, sizes)
            info["outcome"] = (f"{len(full.int8)} INT8 units of {len(full.eligible)} eligible, cost-model speed-up "
                               f"{full.predicted_speedup:.2f}x")
        consumers = self._consumers(idx) if opts.method == "mse" else {}
        amax = {t: ranges.amax(s, opts.method, consumers.get(t)) for t, s in stats.items()}
        amax.update(fixed_amax)
        clipped = _clip_outputs(idx, amax, value_range)

        with stage("weights") as info:
            qweights, bias_delta = self._weights(model, idx, inp.name, cal, full, opts)
            info["outcome"] = f"{len(qweights)} convolutions, rounding {opts.rounding}" + (
                ", bias correction" if opts.bias_correction else "")
        timings["weights"] = info["seconds"]

        val = calibration.load_validation(opts.val, scale=scale, max_side=opts.validation_max_side,
                                          count=opts.validation_count, degradations=opts.val_degrade)
        reference = evaluate.run_validation(evaluate.Runner(reference_model, value_range=value_range), val)

        def build(keep: tuple[str, ...] | set[str], *, amax_=None, model_=None, weights_=None, bias_=None,
                  encoding: str = "int8"):
            pl = placement.place(idx, sizes, keep=set(keep))
            float_images = [r for r in recentred if not pl.int8.intersection(recentre.chain(idx, r))]
            if float_images:
                model_ = recentre.undo(model_ or model, float_images)
            plan = qdq.QdqPlan(int8=pl.int8, amax=amax_ or amax, weights=weights_ if weights_ is not None else qweights,
                               bias_delta=bias_ if bias_ is not None else bias_delta)
            return qdq.build(model_ or model, plan, encoding=encoding), pl

        def score(qmodel) -> evaluate.Drop:
            # Evaluations run the UINT8 encoding of the same grid: fully fused, so fast, on x86.
            cand = evaluate.run_validation(evaluate.Runner(x86_encoding(qmodel), value_range=value_range), val)
            return evaluate.compare(reference, cand, value_range, scale)

        def trial(keep: tuple[str, ...]) -> budget_mod.Trial:
            qm, pl = build(keep, encoding="uint8")
            return budget_mod.Trial(tuple(keep), len(pl.int8), score(qm))

        with stage("budget") as info:
            all_int8 = trial(())
            if opts.max_drop is None:
                fit = budget_mod.BudgetResult([], all_int8.drop, True, [], [all_int8])
            elif all_int8.drop.drop <= opts.max_drop:
                fit = budget_mod.BudgetResult([], all_int8.drop, True, [], [all_int8])
            else:
                units = sorted(full.int8)

                probe = calibration.ValidationSet(val.pairs[: max(4, len(val) // 2)], val.names, val.scale, val.source)
                probe_ref = evaluate.Outputs(reference.sr[: len(probe)], reference.psnr[: len(probe)])

                def alone(u: str) -> evaluate.Drop:
                    # ranking only: half the validation images are enough
                    plan = qdq.QdqPlan(int8={u}, amax=amax, weights=qweights, bias_delta=bias_delta)
                    q = qdq.build(model, plan, encoding="uint8")
                    cand = evaluate.run_validation(evaluate.Runner(q, value_range=value_range), probe)
                    return evaluate.compare(probe_ref, cand, value_range)

                if opts.fallback_order == "tensor":
                    def noise_of(m) -> float:
                        cand = evaluate.run_validation(evaluate.Runner(m, value_range=value_range), probe)
                        return evaluate.output_mse(probe_ref, cand) / value_range ** 2

                    eff = qdq.effective_amax(idx, qdq.QdqPlan(int8=full.int8, amax=amax))
                    damages = noise.order(idx, sizes, full, noise.measure(idx, model, full.int8, eff, qweights, noise_of))
                else:
                    damages = budget_mod.sensitivity(units, lambda u: idx.node(u).op_type, alone)
                if opts.fallback_order == "cost":
                    damages = _cost_order(damages, idx, sizes, full)
                fit = budget_mod.fit(damages, opts.max_drop, trial, first=all_int8)
            info["outcome"] = (f"{len(fit.kept)} unit(s) kept in higher precision, drop {fit.drop.drop:.3f} dB "
                               + ("(within budget)" if fit.met else "(BUDGET NOT MET)"))
        timings["budget"] = info["seconds"]

        final_model, final_pl = build(fit.kept)
        finetune_summary = None
        if opts.finetune_steps > 0:
            final_model, final_pl, fit, finetune_summary = self._finetune(
                model, idx, sizes, cal, fit, amax, fixed_amax, opts, build, score, value_range, inp.name, tensors)
        final_drop = score(final_model)

        latency = None
        if opts.latency:
            with stage("latency") as info:
                lat = evaluate.latency({"fp32": reference_model, "int8": final_model,
                                        "int8_x86": x86_encoding(final_model)},
                                       shape=opts.latency_shape, threads=opts.threads, rounds=opts.latency_rounds,
                                       value_range=value_range, channels=inp.channels)
                latency = {**lat.as_dict(), "runtime": f"onnxruntime {require('onnxruntime').__version__} CPU",
                           "speedup": round(lat.ratio("fp32", "int8_x86"), 3),
                           "speedup_int8_encoding": round(lat.ratio("fp32", "int8"), 3)}
                info["outcome"] = (f"INT8 {latency['speedup']:.2f}x FP32 at {opts.latency_shape[0]}x{opts.latency_shape[1]} "
                                   f"(UINT8 encoding; {latency['speedup_int8_encoding']:.2f}x as symmetric INT8)")
            timings["latency"] = info["seconds"]

        damage_of = {d.name: d for d in fit.damages}
        kept_record = []
        for k in fit.kept:
            d = damage_of.get(k)
            entry = d.as_dict() if d else {"node": k, "op": idx.node(k).op_type}
            added = _keep_cost(idx, sizes, full, k) / full.cost
            entry["keep_cost"] = f"{100 * added:+.1f}% INT8 time (cost model)"
            if d is None:
                why = "kept"
            elif opts.fallback_order == "tensor":
                why = (f"with the units kept in the same step it leaves a tensor unquantized, removing noise of "
                       f"{d.output_psnr:.1f} dB output PSNR")
            else:
                why = f"quantized alone it moves the output to {d.output_psnr:.1f} dB PSNR vs float"
            order = {"cost": "most output noise removed per latency added", "damage": "most damaging",
                     "tensor": "most tensor noise removed per latency added"}[opts.fallback_order]
            entry["reason"] = f"{why}; among the {order} units needed to fit the budget"
            kept_record.append(entry)
        record = {
            "edgesr_version": __version__,
            "source": {"path": str(self.model_path), "sha256": fileio.sha256(self.model_path)},
            "format": {"activations": "int8 symmetric, zero point 0, per tensor",
                       "weights": "int8 symmetric, zero point 0, per output channel (axis 0)",
                       "bias": "int32, scale = input scale x weight scale (see edgesr.quantize.for_tensorrt)",
                       "opset": next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)},
            "recipe": {"method": opts.method, "consumer_aware_ranges": opts.method == "mse",
                       "equalized_pairs": [f"{e.first} -> {e.second}" for e in equalized],
                       "smoothed_gelus": [sm.as_dict() for sm in smoothed],
                       "fallback_order": opts.fallback_order,
                       "clipped_outputs": clipped,
                       "recentred_outputs": [r.as_dict() for r in recentred
                                             if final_pl.int8.intersection(recentre.chain(idx, r))],
                       "rounding": opts.rounding, "bias_correction": opts.bias_correction,
                       "finetune": finetune_summary,
                       "placement": "units ONNX Runtime and TensorRT fuse, one shared Q/DQ pair per tensor"},
            "calibration": {**spec.describe(), "inputs": len(cal), "skipped": cal.skipped},
            "validation": {"source": val.source, "images": len(val), "max_side": opts.validation_max_side,
                           "budget_db": opts.max_drop, "met": fit.met, **final_drop.as_dict()},
            "int8_units": len(final_pl.int8),
            "int8_convolutions": sum(1 for n in final_pl.int8 if idx.node(n).op_type in placement.WEIGHTED),
            "convolutions": sum(1 for n in idx.nodes if n.op_type in placement.WEIGHTED),
            "kept": kept_record,
            "float_by_placement": _float_reasons(idx, final_pl, sizes, set(fit.kept)),
            "sensitivity": [d.as_dict() for d in fit.damages],
            "budget_trials": [t.as_dict() for t in fit.trials],
            "latency": latency,
            "timings_s": {k: round(v, 2) for k, v in timings.items()},
            "seconds": round(time.perf_counter() - started, 1),
        }
        if not fit.met:
            logger.warning("the %.3f dB budget cannot be met on %s even with %d unit(s) in higher precision; "
                           "keeping the best INT8 result (drop %.3f dB)", opts.max_drop, val.source,
                           len(fit.kept), final_drop.drop)
        _write_metadata(final_model, reference_model, record)
        if self.out_path is not None:
            with stage(f"write {self.out_path}"):
                x86 = x86_encoding(final_model)
                _write_metadata(x86, reference_model, record, encoding="uint8")
                record["files"] = {"int8": str(self.out_path), "x86": str(x86_path(self.out_path)),
                                   "record": str(record_path(self.out_path))}
                fileio.write_bytes(self.out_path, final_model.SerializeToString())
                fileio.write_bytes(x86_path(self.out_path), x86.SerializeToString())
                fileio.write_json(record_path(self.out_path), record)
        return QuantizeResult(final_model, self.out_path, record)

    # -- helpers ----------------------------------------------------------------------------

    def _patch(self, inp, mm) -> tuple[int, int] | None:
        opts = self.options
        fixed = tuple(d for d in inp.dims[2:] if isinstance(d, int))
        if len(fixed) == 2:
            if opts.input_shape is not None and tuple(opts.input_shape) != fixed:
                raise InputError(f"the model's input is fixed at {fixed[0]}x{fixed[1]}; --input-shape "
                                 f"{opts.input_shape[0]}x{opts.input_shape[1]} does not match it")
            if fixed[0] * fixed[1] > calibration.MAX_FIXED_PIXELS:
                raise InputError(f"the model's input is fixed at {fixed[0]}x{fixed[1]}, over the "
                                 f"{calibration.MAX_FIXED_PIXELS} pixels calibration runs whole; convert it with "
                                 "a smaller --input-shape (or a dynamic one) first")
            return fixed  # type: ignore[return-value]
        shape = tuple(opts.input_shape) if opts.input_shape is not None else calibration.DEFAULT_PATCH
        m = max(1, mm.size_multiple)
        if shape[0] % m or shape[1] % m:
            raise InputError(f"input shape {shape[0]}x{shape[1]} is not a multiple of the model's size multiple {m}")
        return shape  # type: ignore[return-value]

    @staticmethod
    def _consumers(idx: GraphIndex) -> dict:
        """Tensor -> the elementwise function all its readers apply, for consumer-aware ranges:
        a single reader such as LeakyRelu or Sigmoid, or exactly the two reads of an erf GELU."""
        from edgesr.onnx.gelu_pattern import erf_gelus

        helper = require("onnx").helper
        out = {}
        for tensor, cons in idx.consumers.items():
            if len(cons) == 1 and tensor not in idx.graph_outputs:
                fn = ranges.consumer_function(cons[0].op_type,
                                              {a.name: helper.get_attribute_value(a) for a in cons[0].attribute})
                if fn is not None:
                    out[tensor] = fn
        for g in erf_gelus(idx.model.graph)[0]:
            readers = sorted(n.output[0] for n in idx.consumers.get(g.x, []))
            if g.x not in idx.graph_outputs and readers == sorted([g.div.output[0], g.mul.output[0]]):
                out[g.x] = ranges.gelu
        return out

    def _weights(self, model, idx, input_name, cal, full, opts):
        from edgesr.quantize import weights as wq

        numpy_helper = require("onnx.numpy_helper")
        convs = [n.name for n in idx.nodes if n.op_type in placement.WEIGHTED and n.name in full.eligible]
        stats = {}
        if opts.rounding == "gptq" or opts.bias_correction:
            stats = wq.conv_input_stats(model, input_name, cal.arrays[: min(len(cal), 32)], convs)
        qweights, bias_delta = {}, {}
        for name in convs:
            w = numpy_helper.to_array(idx.inits[idx.node(name).input[1]]).astype(np.float32)
            st = stats.get(name)
            qw = wq.gptq(w, st) if opts.rounding == "gptq" and st is not None else qdq.quantize_weight(w)
            qweights[name] = qw
            if opts.bias_correction and st is not None:
                bias_delta[name] = wq.bias_correction(w, qw, st)
        return qweights, bias_delta

    def _finetune(self, model, idx, sizes, cal, fit, amax, fixed_amax, opts, build, score, value_range, inp_name,
                  tensors):
        """Fine-tune the budgeted placement, then give kept units back to INT8 while the budget holds."""
        from edgesr.quantize.finetune import FinetuneOptions, finetune

        with stage("quantization-aware fine-tune") as info:
            pl = placement.place(idx, sizes, keep=set(fit.kept))
            plan = qdq.QdqPlan(int8=pl.int8, amax=amax)
            ft = finetune(model, plan, cal.arrays, FinetuneOptions(steps=opts.finetune_steps), value_range=value_range)
            tuned_stats = collect_stats(ft.model, inp_name, cal.arrays, tensors, progress=None)
            consumers = self._consumers(idx) if opts.method == "mse" else {}
            tuned_amax = {t: ranges.amax(st, opts.method, consumers.get(t)) for t, st in tuned_stats.items()}
            tuned_amax.update(fixed_amax)
            tuned_amax.update(ft.amax)
            _clip_outputs(idx, tuned_amax, value_range)

            def make(keep):
                return build(keep, amax_=tuned_amax, model_=ft.model, weights_={}, bias_={}, encoding="uint8")

            qm, pl2 = make(fit.kept)
            drop = score(qm)
            info["outcome"] = f"drop {fit.drop.drop:.3f} -> {drop.drop:.3f} dB ({ft.summary()['seconds']} s)"
        if opts.max_drop is not None and drop.drop > max(fit.drop.drop, opts.max_drop):
            logger.warning("the fine-tune did not help on the validation set; keeping the post-training result")
            qm, pl2 = build(fit.kept)
            return qm, pl2, fit, {**ft.summary(), "used": False}
        kept, trials = list(fit.kept), list(fit.trials)
        if opts.max_drop is not None and drop.drop <= opts.max_drop:
            with stage("fallback after fine-tune") as info:
                for name in list(reversed(kept)):
                    trial_keep = [k for k in kept if k != name]
                    tq, tpl = make(trial_keep)
                    d = score(tq)
                    trials.append(budget_mod.Trial(tuple(trial_keep), len(tpl.int8), d))
                    if d.drop <= opts.max_drop:
                        kept, qm, pl2, drop = trial_keep, tq, tpl, d
                info["outcome"] = f"{len(kept)} unit(s) still kept, drop {drop.drop:.3f} dB"
        final, pl2 = build(kept, amax_=tuned_amax, model_=ft.model, weights_={}, bias_={})
        met = opts.max_drop is None or drop.drop <= opts.max_drop
        new_fit = budget_mod.BudgetResult(kept, drop, met, fit.damages, trials)
        return final, pl2, new_fit, {**ft.summary(), "used": True}


def _clip_outputs(idx: GraphIndex, amax: dict[str, float], value_range: float) -> list[str]:
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


def _keep_cost(idx: GraphIndex, sizes: dict, full: placement.Placement, name: str) -> float:
    """Cost-model time added by turning unit ``name`` of ``full`` back to float (neighbours unchanged)."""
    return placement.total_cost(idx, full.int8 - {name}, sizes) - full.cost


def _cost_order(damages: list, idx: GraphIndex, sizes: dict, full: placement.Placement) -> list:
    """Damages re-ordered by output noise removed per cost-model latency added when kept."""

    def key(d):
        noise = 10 ** (-d.output_psnr / 10)
        return -noise / max(_keep_cost(idx, sizes, full, d.name), 1e-9 * full.cost)

    return sorted(damages, key=key)


def x86_encoding(qmodel):
    """The UINT8 encoding of a Q/DQ model (what ONNX Runtime fuses on x86), recentring offsets
    folded into zero points, then ONNX Runtime's CPU rewrites (edgesr.onnx.cpu_rewrites: pixel
    shuffle split, channels padded to multiples of four, GELUs fused)."""
    fast = qdq.reencode(qmodel, "uint8")
    recentre.fold_offsets(fast)
    for_onnxruntime_cpu(fast)
    return fast


def _float_reasons(idx: GraphIndex, pl: placement.Placement, sizes: dict, kept: set[str]) -> dict[str, int]:
    """Why the remaining compute ops are float: counts per reason (the record's overview)."""
    reasons: dict[str, int] = {}
    fixed = placement.float_groups(idx)
    for n in idx.nodes:
        if n.name in pl.int8 or n.name in kept or n.op_type in ("Shape", "Constant"):
            continue
        if n.name in fixed:
            key = f"{n.op_type}: {fixed[n.name]}"
            reasons[key] = reasons.get(key, 0) + 1
            continue
        if n.op_type not in placement.WEIGHTED and placement.op_costs(n.op_type) is None:
            continue
        if not placement.eligible(idx, n, sizes):
            why = "no INT8 form for its inputs (constants, integer or non-float data)"
        else:
            why = "INT8 would add more conversions than it saves (cost model)"
        key = f"{n.op_type}: {why}"
        reasons[key] = reasons.get(key, 0) + 1
    return reasons


def _write_metadata(qmodel, source, record: dict, encoding: str = "int8") -> None:
    props = {p.key: p.value for p in source.metadata_props}
    summary = {
        "method": record["recipe"]["method"], "rounding": record["recipe"]["rounding"],
        "equalized_pairs": len(record["recipe"]["equalized_pairs"]),
        "bias_correction": record["recipe"]["bias_correction"],
        "finetune": bool(record["recipe"]["finetune"] and record["recipe"]["finetune"].get("used")),
        "kept": [k["node"] for k in record["kept"]], "int8_units": record["int8_units"],
        "validation_drop_db": record["validation"]["drop_db"], "budget_db": record["validation"]["budget_db"],
        "budget_met": record["validation"]["met"], "calibration": record["calibration"]["name"],
        "source_sha256": record["source"]["sha256"],
    }
    props[QUANT_PREFIX + "precision"] = "int8-qdq"
    props[QUANT_PREFIX + "activation_encoding"] = {
        "int8": "int8, zero point 0 (TensorRT, ONNX Runtime on ARM)",
        "uint8": "uint8, zero point 128 (0 after a ReLU): the grid of symmetric int8 (ONNX Runtime on x86)"}[encoding]
    props[QUANT_PREFIX + "recipe"] = json.dumps(summary, separators=(",", ":"))
    del qmodel.metadata_props[:]
    for k, v in props.items():
        e = qmodel.metadata_props.add()
        e.key, e.value = k, v


def x86_path(out_path: Path) -> Path:
    """The UINT8-encoded copy (same grid, zero point 128) that ONNX Runtime runs fused on x86."""
    return out_path.with_name(out_path.stem + ".x86.onnx")


def record_path(out_path: Path) -> Path:
    return out_path.with_name(out_path.stem + ".quant.json")


def quantize(model_path: str | os.PathLike, out_path: str | os.PathLike | None = None, *,
             calib=None, method: str = "mse", max_drop: float | None = 0.1, **options) -> QuantizeResult:
    """Quantize ``model_path`` to a budgeted INT8 Q/DQ model (written to ``out_path`` if given).

    Keyword options are the fields of :class:`QuantizeOptions`; a misspelt one fails.
    """
    known = {f for f in QuantizeOptions.__dataclass_fields__}
    unknown = sorted(set(options) - known)
    if unknown:
        import difflib

        hints = [f"'{u}'" + (f" (did you mean '{c[0]}'?)" if (c := difflib.get_close_matches(u, known, n=1)) else "")
                 for u in unknown]
        raise InputError(f"unknown quantize option(s) {', '.join(hints)}")
    opts = QuantizeOptions(calib=calib, method=method, max_drop=max_drop, **options)
    return Quantize(model_path, out_path, opts)()


def options_dict(opts: QuantizeOptions) -> dict:
    d = asdict(opts)
    d["calib"] = str(opts.calib) if opts.calib is not None else None
    return d
