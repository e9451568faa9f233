"""The quantize stage's budget steps (see :mod:`edgesr.quantize.stage`): which INT8 units go back to
higher precision until the drop on the validation images fits the budget, the optional
quantization-aware fine-tune after it, and the final model's drop."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from edgesr.log import logger
from edgesr.quantize import calibration, placement, qdq
from edgesr.quantize.budget import evaluate, noise, sensitivity
from edgesr.quantize.observe import collect_stats
from edgesr.quantize.prepare import activation_ranges, clip_outputs

if TYPE_CHECKING:
    from edgesr.quantize.stage import Context


def fit_budget(ctx: Context) -> None:
    """The fewest units kept in higher precision for the drop to fit ``max_drop``, and the model they give."""
    max_drop = ctx.opts.max_drop
    with ctx.step("budget", "budget") as info:
        all_int8 = ctx.trial(())
        if max_drop is None or all_int8.drop.drop <= max_drop:
            ctx.fit = sensitivity.BudgetResult([], all_int8.drop, True, [], [all_int8])
        else:
            ctx.fit = sensitivity.fit(_damages(ctx), max_drop, ctx.trial, first=all_int8)
        info["outcome"] = f"{len(ctx.fit.kept)} unit(s) kept in higher precision, drop {ctx.fit.drop.drop:.3f} dB " + (
            "(within budget)" if ctx.fit.met else "(BUDGET NOT MET)"
        )
    ctx.final_model, ctx.final_pl = ctx.build(ctx.fit.kept)


def _damages(ctx: Context) -> list[sensitivity.UnitDamage]:
    """The units in the order they go back to higher precision (options.FALLBACK_ORDERS)."""
    idx, full = ctx.idx, ctx.full
    probe = _Probe.of(ctx)
    if ctx.opts.fallback_order == "tensor":
        amax = qdq.effective_amax(idx, qdq.QdqPlan(int8=full.int8, amax=ctx.amax))
        measured = noise.measure(idx, ctx.model, full.int8, amax, ctx.qweights, probe.noise)
        return noise.order(idx, ctx.sizes, full, measured)

    def alone(unit: str) -> evaluate.Drop:
        plan = qdq.QdqPlan(int8={unit}, amax=ctx.amax, weights=ctx.qweights, bias_delta=ctx.bias_delta)
        return probe.drop(qdq.build(ctx.model, plan, encoding="uint8"))

    damages = sensitivity.sensitivity(sorted(full.int8), lambda u: idx.node(u).op_type, alone)
    return _cost_order(ctx, damages) if ctx.opts.fallback_order == "cost" else damages


@dataclass
class _Probe:
    """The first half of the validation images (at least four): enough to rank units and tensors."""

    val: calibration.ValidationSet
    reference: evaluate.Outputs
    value_range: float

    @classmethod
    def of(cls, ctx: Context) -> _Probe:
        val = ctx.val
        probe = calibration.ValidationSet(val.pairs[: max(4, len(val) // 2)], val.names, val.scale, val.source)
        reference = evaluate.Outputs(ctx.reference.sr[: len(probe)], ctx.reference.psnr[: len(probe)])
        return cls(probe, reference, ctx.value_range)

    def _outputs(self, model) -> evaluate.Outputs:
        return evaluate.run_validation(evaluate.Runner(model, value_range=self.value_range), self.val)

    def drop(self, model) -> evaluate.Drop:
        return evaluate.compare(self.reference, self._outputs(model), self.value_range)

    def noise(self, model) -> float:
        return evaluate.output_mse(self.reference, self._outputs(model)) / self.value_range**2


def _cost_order(ctx: Context, damages: list[sensitivity.UnitDamage]) -> list[sensitivity.UnitDamage]:
    """Damages re-ordered by output noise removed per cost-model latency added when kept."""

    def key(d):
        removed = 10 ** (-d.output_psnr / 10)
        return -removed / max(ctx.keep_cost(d.name), 1e-9 * ctx.full.cost)

    return sorted(damages, key=key)


def fine_tune(ctx: Context) -> None:
    """Fine-tune the budgeted placement, then give kept units back to INT8 while the budget holds."""
    fit, max_drop = ctx.fit, ctx.opts.max_drop
    with ctx.step("quantization-aware fine-tune") as info:
        tuned, amax = _tune(ctx)

        def make(keep, encoding: str = "uint8"):
            return ctx.build(keep, amax=amax, model=tuned.model, weights={}, bias={}, encoding=encoding)

        drop = ctx.score(make(fit.kept)[0])
        info["outcome"] = f"drop {fit.drop.drop:.3f} -> {drop.drop:.3f} dB ({tuned.summary()['seconds']} s)"
    if max_drop is not None and drop.drop > max(fit.drop.drop, max_drop):
        logger.warning("the fine-tune did not help on the validation set; keeping the post-training result")
        ctx.finetune_summary = {**tuned.summary(), "used": False}
        return  # the model fit_budget built stays
    kept, trials = list(fit.kept), list(fit.trials)
    if max_drop is not None and drop.drop <= max_drop:
        with ctx.step("fallback after fine-tune") as info:
            for name in list(reversed(kept)):
                trial_keep = [k for k in kept if k != name]
                qm, pl = make(trial_keep)
                d = ctx.score(qm)
                trials.append(sensitivity.Trial(tuple(trial_keep), len(pl.int8), d))
                if d.drop <= max_drop:
                    kept, drop = trial_keep, d
            info["outcome"] = f"{len(kept)} unit(s) still kept, drop {drop.drop:.3f} dB"
    ctx.final_model, ctx.final_pl = make(kept, encoding="int8")
    met = max_drop is None or drop.drop <= max_drop
    ctx.fit = sensitivity.BudgetResult(kept, drop, met, fit.damages, trials)
    ctx.finetune_summary = {**tuned.summary(), "used": True}


def _tune(ctx: Context):
    """The fine-tuned float model (edgesr.quantize.qat.finetune) and its activation ranges: calibrated again,
    then the learnt ones where the fine-tune learnt them."""
    from edgesr.quantize.qat.finetune import FinetuneOptions, finetune

    pl = placement.place(ctx.idx, ctx.sizes, keep=set(ctx.fit.kept))
    plan = qdq.QdqPlan(int8=pl.int8, amax=ctx.amax)
    tuned = finetune(
        ctx.model, plan, ctx.cal.arrays, FinetuneOptions(steps=ctx.opts.finetune_steps), value_range=ctx.value_range
    )
    stats = collect_stats(tuned.model, ctx.inp.name, ctx.cal.arrays, ctx.tensors, progress=None)
    amax = activation_ranges(ctx, stats)
    amax.update(tuned.amax)
    clip_outputs(ctx.idx, amax, ctx.value_range)
    return tuned, amax


def score_final(ctx: Context) -> None:
    ctx.final_drop = ctx.score(ctx.final_model)
    if not ctx.fit.met:
        logger.warning(
            "the %.3f dB budget cannot be met on %s even with %d unit(s) in higher precision; "
            "keeping the best INT8 result (drop %.3f dB)",
            ctx.opts.max_drop,
            ctx.val.source,
            len(ctx.fit.kept),
            ctx.final_drop.drop,
        )
