"""The accuracy budget: find the INT8 units that hurt most and keep them in higher precision.

1. Sensitivity: each candidate unit is quantized *alone* (every other op float) and scored
   by how far the output moves from the float model's on the validation images (output
   PSNR, dB; lower = more damaging). That isolates each unit's own cost. (The pipeline's
   default measures tensors instead and orders whole tensors: :mod:`edgesr.quantize.budget.noise`.)
2. Order: most damaging first, or most output noise removed per unit of latency that keeping
   it in float adds, so cheap units go back to float before the expensive convolutions that
   make INT8 fast.
3. Fallback: the smallest prefix of that order whose full model fits ``max_drop`` (Y-PSNR drop
   on the validation set) is found by binary search on measured drops, then every kept unit
   that can go back to INT8 without breaking the budget does.

Every evaluated configuration is recorded; when even the last resort misses the budget, the
best INT8 result is kept and the result says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from edgesr.log import logger
from edgesr.quantize.budget.evaluate import Drop


@dataclass
class UnitDamage:
    name: str
    op_type: str
    # "alone": model output vs float output with only this unit in INT8, dB; "move": the output
    # noise (as PSNR, dB) that the noise model's step keeping this unit removes (edgesr.quantize.budget.noise)
    output_psnr: float
    kind: str = "alone"

    def as_dict(self) -> dict:
        key = "alone_output_psnr_db" if self.kind == "alone" else "removed_noise_psnr_db"
        return {"node": self.name, "op": self.op_type, key: round(self.output_psnr, 2)}


@dataclass
class Trial:
    kept: tuple[str, ...]
    int8_units: int
    drop: Drop

    def as_dict(self) -> dict:
        return {"kept": len(self.kept), "int8_units": self.int8_units, **self.drop.as_dict()}


@dataclass
class BudgetResult:
    kept: list[str]
    drop: Drop
    met: bool
    damages: list[UnitDamage]
    trials: list[Trial] = field(default_factory=list)


def sensitivity(
    units: list[str], op_of: Callable[[str], str], evaluate_alone: Callable[[str], Drop], progress: bool = True
) -> list[UnitDamage]:
    """Each unit's damage when quantized alone, most damaging first."""
    from edgesr.lazy import require

    tqdm = require("tqdm").tqdm
    out = []
    for u in tqdm(units, desc="per-unit sensitivity", unit="unit", leave=False, disable=None if progress else True):
        out.append(UnitDamage(u, op_of(u), evaluate_alone(u).output_psnr))
    out.sort(key=lambda d: d.output_psnr)
    return out


def fit(
    damages: list[UnitDamage],
    max_drop: float,
    trial: Callable[[tuple[str, ...]], Trial],
    *,
    max_prune: int = 16,
    first: Trial | None = None,
) -> BudgetResult:
    """Keep the fewest units, in ``damages`` order, so that the drop is at most ``max_drop``.

    ``first`` is the already measured all-INT8 trial, if any.
    """
    order = [d.name for d in damages]
    trials: dict[int, Trial] = {0: first} if first is not None else {}

    def at(k: int) -> Trial:
        if k not in trials:
            trials[k] = trial(tuple(order[:k]))
            t = trials[k]
            logger.info(
                "budget: %d kept, %d INT8 units -> drop %.3f dB (output %.1f dB vs float)",
                k,
                t.int8_units,
                t.drop.drop,
                t.drop.output_psnr,
            )
        return trials[k]

    n = len(order)
    if at(0).drop.drop <= max_drop:
        return BudgetResult([], at(0).drop, True, damages, [at(0)])
    lo, hi = 0, n  # at(lo) fails; find the smallest k in (lo, hi] that passes
    if at(n).drop.drop > max_drop:
        # unreachable: the best INT8 result is the one with the most units kept that still has INT8
        for k in range(n - 1, 0, -1):
            if at(k).int8_units:
                break
        best = min(trials.values(), key=lambda t: t.drop.drop if t.int8_units else float("inf"))
        return BudgetResult(list(best.kept), best.drop, False, damages, list(trials.values()))
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if at(mid).drop.drop <= max_drop:
            hi = mid
        else:
            lo = mid
    kept = list(order[:hi])
    best = at(hi)
    log = list(trials.values())
    # prune: give back to INT8 any kept unit the budget can spare, least damaging first
    for name in list(reversed(kept))[:max_prune]:
        trial_keep = tuple(k for k in kept if k != name)
        t = trial(trial_keep)
        log.append(t)
        if t.drop.drop <= max_drop:
            freed = t.int8_units > best.int8_units
            kept = list(trial_keep)
            best = t
            logger.info(
                "budget: %s %s -> drop %.3f dB",
                name,
                "back to INT8" if freed else "needs no keeping (float for speed anyway)",
                t.drop.drop,
            )
    return BudgetResult(kept, best.drop, best.drop.drop <= max_drop, damages, log)
