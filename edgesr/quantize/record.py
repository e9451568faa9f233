"""The quantize record: what the stage did and measured, written beside the model (``OUT.quant.json``), and
its summary in the model's metadata (``edgesr.quant.*``)."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

from edgesr import __version__, fileio
from edgesr.meta import all_props
from edgesr.onnx.graph_index import GraphIndex
from edgesr.quantize import placement
from edgesr.quantize.passes import recentre

if TYPE_CHECKING:
    from edgesr.quantize.stage import Context

QUANT_PREFIX = "edgesr.quant."
FORMAT = {
    "activations": "int8 symmetric, zero point 0, per tensor",
    "weights": "int8 symmetric, zero point 0, per output channel (axis 0)",
    "bias": "int32, scale = input scale x weight scale (see edgesr.quantize.for_tensorrt)",
}
PLACEMENT = "units ONNX Runtime and TensorRT fuse, one shared Q/DQ pair per tensor"
# what each fallback order (options.FALLBACK_ORDERS) puts first, for the kept units' reasons
ORDER_TEXT = {
    "cost": "most output noise removed per latency added",
    "damage": "most damaging",
    "tensor": "most tensor noise removed per latency added",
}
ENCODING_TEXT = {
    "int8": "int8, zero point 0 (TensorRT, ONNX Runtime on ARM)",
    "uint8": "uint8, zero point 128 (0 after a ReLU): the grid of symmetric int8 (ONNX Runtime on x86)",
}


def make(ctx: Context) -> None:
    """The record, also summarised in the final model's metadata."""
    ctx.record = build(ctx)
    write_metadata(ctx.final_model, ctx.reference_model, ctx.record)


def build(ctx: Context) -> dict:
    idx, opts, fit, final_pl = ctx.idx, ctx.opts, ctx.fit, ctx.final_pl
    return {
        "edgesr_version": __version__,
        "source": {"path": str(ctx.source), "sha256": fileio.sha256(ctx.source)},
        "format": {
            **FORMAT,
            "opset": next((o.version for o in ctx.model.opset_import if o.domain in ("", "ai.onnx")), None),
        },
        "recipe": _recipe(ctx),
        "calibration": {**ctx.spec.describe(), "inputs": len(ctx.cal), "skipped": ctx.cal.skipped},
        "validation": {
            "source": ctx.val.source,
            "images": len(ctx.val),
            "max_side": opts.validation_max_side,
            "budget_db": opts.max_drop,
            "met": fit.met,
            **ctx.final_drop.as_dict(),
        },
        "int8_units": len(final_pl.int8),
        "int8_convolutions": sum(1 for n in final_pl.int8 if idx.node(n).op_type in placement.WEIGHTED),
        "convolutions": sum(1 for n in idx.nodes if n.op_type in placement.WEIGHTED),
        "kept": _kept(ctx),
        "float_by_placement": float_reasons(idx, final_pl, ctx.sizes, set(fit.kept)),
        "sensitivity": [d.as_dict() for d in fit.damages],
        "budget_trials": [t.as_dict() for t in fit.trials],
        "latency": ctx.latency,
        "timings_s": {k: round(v, 2) for k, v in ctx.timings.items()},
        "seconds": round(time.perf_counter() - ctx.started, 1),
    }


def _recipe(ctx: Context) -> dict:
    opts = ctx.opts
    return {
        "method": opts.method,
        "consumer_aware_ranges": opts.method == "mse",
        "equalized_pairs": [f"{e.first} -> {e.second}" for e in ctx.equalized],
        "smoothed_gelus": [sm.as_dict() for sm in ctx.smoothed],
        "fallback_order": opts.fallback_order,
        "clipped_outputs": ctx.clipped,
        "recentred_outputs": [
            r.as_dict() for r in ctx.recentred if ctx.final_pl.int8.intersection(recentre.chain(ctx.idx, r))
        ],
        "rounding": opts.rounding,
        "bias_correction": opts.bias_correction,
        "finetune": ctx.finetune_summary,
        "placement": PLACEMENT,
    }


def _kept(ctx: Context) -> list[dict]:
    """The units kept in higher precision: their damage, what keeping them costs, and why."""
    order = ctx.opts.fallback_order
    damage_of = {d.name: d for d in ctx.fit.damages}
    entries = []
    for k in ctx.fit.kept:
        d = damage_of.get(k)
        entry = d.as_dict() if d else {"node": k, "op": ctx.idx.node(k).op_type}
        added = ctx.keep_cost(k) / ctx.full.cost
        entry["keep_cost"] = f"{100 * added:+.1f}% INT8 time (cost model)"
        if d is None:
            why = "kept"
        elif order == "tensor":
            why = (
                f"with the units kept in the same step it leaves a tensor unquantized, removing noise of "
                f"{d.output_psnr:.1f} dB output PSNR"
            )
        else:
            why = f"quantized alone it moves the output to {d.output_psnr:.1f} dB PSNR vs float"
        entry["reason"] = f"{why}; among the {ORDER_TEXT[order]} units needed to fit the budget"
        entries.append(entry)
    return entries


def float_reasons(idx: GraphIndex, pl: placement.Placement, sizes: dict, kept: set[str]) -> dict[str, int]:
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


def write_metadata(qmodel, source, record: dict, encoding: str = "int8") -> None:
    """``qmodel``'s metadata: ``source``'s, plus the precision, the activation encoding and the recipe's summary."""
    props = all_props(source)
    recipe = record["recipe"]
    summary = {
        "method": recipe["method"],
        "rounding": recipe["rounding"],
        "equalized_pairs": len(recipe["equalized_pairs"]),
        "bias_correction": recipe["bias_correction"],
        "finetune": bool(recipe["finetune"] and recipe["finetune"].get("used")),
        "kept": [k["node"] for k in record["kept"]],
        "int8_units": record["int8_units"],
        "validation_drop_db": record["validation"]["drop_db"],
        "budget_db": record["validation"]["budget_db"],
        "budget_met": record["validation"]["met"],
        "calibration": record["calibration"]["name"],
        "source_sha256": record["source"]["sha256"],
    }
    props[QUANT_PREFIX + "precision"] = "int8-qdq"
    props[QUANT_PREFIX + "activation_encoding"] = ENCODING_TEXT[encoding]
    props[QUANT_PREFIX + "recipe"] = json.dumps(summary, separators=(",", ":"))
    del qmodel.metadata_props[:]
    for k, v in props.items():
        e = qmodel.metadata_props.add()
        e.key, e.value = k, v
