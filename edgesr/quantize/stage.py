"""The quantize stage: float ONNX in, budgeted symmetric INT8 Q/DQ ONNX out, with its record.

:func:`quantize` runs the named :data:`STEPS` in order on one :class:`Context`, which holds what the
steps share; each step reads what earlier steps left there and adds its own part:

1. load and calibrate (:mod:`edgesr.quantize.prepare`): load and check the float model, calibration
   data, GELU smoothing, statistics, cross-layer equalisation, placement (which nodes become INT8
   units) and activation ranges, weights (adaptive rounding, bias correction), the float model's
   outputs on the validation images;
2. fit the budget (:mod:`edgesr.quantize.budget.fallback`): per-tensor noise and fallback to the budget, the
   optional quantization-aware fine-tune, the final model's drop;
3. encode for each runtime and write (:mod:`edgesr.quantize.outputs`): latency against FP32, the
   record (:mod:`edgesr.quantize.record`, also summarised in the model's metadata), atomic writes of
   the model, its x86 encoding and the record, and on request TensorRT's ONNX, a TensorRT calibration
   cache and the FP16 variant.
"""

from __future__ import annotations

import difflib
import math
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from edgesr import fileio
from edgesr.errors import InputError
from edgesr.log import logger, stage
from edgesr.onnx.graph_index import GraphIndex
from edgesr.quantize import outputs, placement, prepare, qdq, ranges, record
from edgesr.quantize.budget import evaluate, fallback, sensitivity
from edgesr.quantize.options import FALLBACK_ORDERS, ROUNDINGS, QuantizeOptions
from edgesr.quantize.passes import recentre


@dataclass
class QuantizeResult:
    """What :func:`quantize` made: the final model, where it was written, its record and the other outputs."""

    model: object = field(repr=False)  # onnx.ModelProto as written
    path: Path | None
    record: dict = field(repr=False)
    tensorrt_onnx: Path | None = None  # the other outputs, where asked for
    trt_cache: Path | None = None
    fp16: object = None  # edgesr.quantize.variants.Fp16Result

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


@dataclass
class Context:
    """One run of the stage: its inputs, then what the steps leave for the steps after them (in step order)."""

    source: Path
    out: Path | None
    opts: QuantizeOptions
    started: float = field(default_factory=time.perf_counter)
    timings: dict[str, float] = field(default_factory=dict)  # the record's seconds per step
    # load
    model: object = None  # the float model the Q/DQ model is made from (recentred, smoothed, equalised)
    reference_model: object = None  # the float model as recentred: the accuracy and latency reference
    model_meta: object = None  # edgesr.meta.ModelMeta of the model
    inp: object = None  # its image input (edgesr.onnx.loading.ImageInput)
    scale: int = 0
    value_range: float = 1.0
    recentred: list = field(default_factory=list)  # edgesr.quantize.passes.recentre.Recentred
    idx: GraphIndex | None = None  # of model
    # calibrate, smooth, statistics, equalize
    spec: object = None  # edgesr.quantize.calibration.CalibrationSpec
    cal: object = None  # edgesr.quantize.calibration.CalibrationData
    smoothed: list = field(default_factory=list)
    fixed_amax: dict[str, float] = field(default_factory=dict)  # the ranges smoothing set
    tensors: list[str] = field(default_factory=list)  # the float tensors observed
    stats: dict = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    equalized: list = field(default_factory=list)
    # place, weights, reference
    full: placement.Placement | None = None  # every unit INT8 that can be
    amax: dict[str, float] = field(default_factory=dict)
    clipped: list[str] = field(default_factory=list)
    qweights: dict = field(default_factory=dict)
    bias_delta: dict = field(default_factory=dict)
    val: object = None  # edgesr.quantize.calibration.ValidationSet
    reference: evaluate.Outputs | None = None  # the reference model's outputs on val
    # fit the budget, fine-tune, score
    fit: sensitivity.BudgetResult | None = None
    final_model: object = None
    final_pl: placement.Placement | None = None
    finetune_summary: dict | None = None
    final_drop: evaluate.Drop | None = None
    # latency, record, other outputs
    latency: dict | None = None
    record: dict = field(default_factory=dict)
    tensorrt_onnx: Path | None = None
    trt_cache: Path | None = None
    fp16: object = None

    @contextmanager
    def step(self, title: str, timing: str | None = None) -> Iterator[dict]:
        """A logged stage (:func:`edgesr.log.stage`), its seconds kept for the record under ``timing``."""
        with stage(title) as info:
            yield info
        if timing:
            self.timings[timing] = info["seconds"]

    def build(
        self,
        keep,
        *,
        amax: dict | None = None,
        model=None,
        weights: dict | None = None,
        bias: dict | None = None,
        encoding: str = "int8",
    ):
        """The Q/DQ model with every unit but ``keep`` INT8, and its placement. The keywords replace the
        context's ranges, float model, weights and bias corrections (the fine-tune brings its own)."""
        pl = placement.place(self.idx, self.sizes, keep=set(keep))
        model = model if model is not None else self.model
        float_images = [r for r in self.recentred if not pl.int8.intersection(recentre.chain(self.idx, r))]
        if float_images:
            model = recentre.undo(model, float_images)
        plan = qdq.QdqPlan(
            int8=pl.int8,
            amax=amax if amax is not None else self.amax,
            weights=weights if weights is not None else self.qweights,
            bias_delta=bias if bias is not None else self.bias_delta,
        )
        return qdq.build(model, plan, encoding=encoding), pl

    def score(self, qmodel) -> evaluate.Drop:
        """``qmodel``'s drop against the reference on the validation images."""
        # Evaluations run the UINT8 encoding of the same grid: fully fused, so fast, on x86.
        runner = evaluate.Runner(outputs.x86_encoding(qmodel), value_range=self.value_range)
        return evaluate.compare(self.reference, evaluate.run_validation(runner, self.val), self.value_range, self.scale)

    def trial(self, keep) -> sensitivity.Trial:
        qm, pl = self.build(keep, encoding="uint8")
        return sensitivity.Trial(tuple(keep), len(pl.int8), self.score(qm))

    def keep_cost(self, name: str) -> float:
        """Cost-model time added by turning unit ``name`` of the full placement back to float (neighbours
        unchanged)."""
        return placement.total_cost(self.idx, self.full.int8 - {name}, self.sizes) - self.full.cost


def _always(ctx: Context) -> bool:
    return True


@dataclass(frozen=True)
class Step:
    """A named step of the stage: ``run(ctx)`` when ``when(ctx)`` holds."""

    name: str
    run: Callable[[Context], None]
    when: Callable[[Context], bool] = _always


STEPS: tuple[Step, ...] = (
    Step("load", prepare.load),
    Step("calibrate", prepare.calibrate),
    Step("smooth", prepare.smooth, lambda ctx: ctx.opts.smooth),
    Step("statistics", prepare.statistics),
    Step("equalize", prepare.equalize, lambda ctx: ctx.opts.equalize),
    Step("place", prepare.place),
    Step("weights", prepare.weights),
    Step("reference", prepare.reference),
    Step("fit the budget", fallback.fit_budget),
    Step("fine-tune", fallback.fine_tune, lambda ctx: ctx.opts.finetune_steps > 0),
    Step("score", fallback.score_final),
    Step("latency", outputs.latency, lambda ctx: ctx.opts.latency),
    Step("record", record.make),
    Step("write", outputs.write, lambda ctx: ctx.out is not None),
    Step("TensorRT ONNX", outputs.tensorrt_onnx, lambda ctx: bool(ctx.opts.tensorrt_onnx)),
    Step("TensorRT calibration cache", outputs.trt_cache, lambda ctx: bool(ctx.opts.trt_cache)),
    Step("FP16 variant", outputs.fp16, lambda ctx: bool(ctx.opts.fp16)),
)


def quantize(model_path: str | os.PathLike, out_path: str | os.PathLike | None = None, **options) -> QuantizeResult:
    """Quantize ``model_path`` to a budgeted INT8 Q/DQ model (written to ``out_path`` if given).

    Keyword options are the fields of :class:`~edgesr.quantize.options.QuantizeOptions`; a misspelt one fails.
    """
    known = set(QuantizeOptions.__dataclass_fields__)
    unknown = sorted(set(options) - known)
    if unknown:
        hints = [
            f"'{u}'" + (f" (did you mean '{c[0]}'?)" if (c := difflib.get_close_matches(u, known, n=1)) else "")
            for u in unknown
        ]
        raise InputError(f"unknown quantize option(s) {', '.join(hints)}")
    opts = QuantizeOptions(**options)
    source, out = Path(model_path), Path(out_path) if out_path is not None else None
    check_options(opts, source, out)
    ctx = Context(source, out, opts)
    for step in STEPS:
        if step.when(ctx):
            logger.debug("quantize step: %s", step.name)
            step.run(ctx)
    return QuantizeResult(ctx.final_model, out, ctx.record, ctx.tensorrt_onnx, ctx.trt_cache, ctx.fp16)


def check_options(opts: QuantizeOptions, source: Path, out: Path | None) -> None:
    """Refuse bad options and outputs before any work."""
    from edgesr.degrade import expand

    ranges.check_method(opts.method)
    if opts.rounding not in ROUNDINGS:
        raise InputError(f"unknown rounding '{opts.rounding}'; choose one of: {', '.join(ROUNDINGS)}")
    if opts.fallback_order not in FALLBACK_ORDERS:
        raise InputError(f"unknown fallback order '{opts.fallback_order}'; choose one of: {', '.join(FALLBACK_ORDERS)}")
    if opts.max_drop is not None and not math.isfinite(opts.max_drop):
        raise InputError(f"--max-drop must be a finite number of dB, got {opts.max_drop}")
    expand(opts.val_degrade)  # a bad spec fails now, not after calibration
    if opts.trt_cache:
        from edgesr.quantize.tensorrt.trtcache import trt_version_int

        trt_version_int(opts.trt_cache)
    if out is not None:
        if out.suffix.lower() != ".onnx":
            raise InputError(f"output {out} must end in .onnx")
        if source.exists() and out.exists() and out.resolve() == source.resolve():
            raise InputError(f"the output {out} would overwrite the input model; choose another -o")
        fileio.check_writable_dir(out.parent if str(out.parent) else Path("."))
