"""The multiscale hot start: the stages of a run, the budget of each, and its learning-rate schedule.

Budgets are split evenly among stages so that runs with different stage lists can be given
the same total compute. ``budget_pixels`` counts LR pixels fed to the network: the cost of a
fully convolutional SR network is proportional to them, so two runs with the same pixel
budget did the same arithmetic whatever their patch sizes. ``time`` counts seconds of
training steps (data, forward, backward, update), not validation or checkpoints.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from edgesr.train.config import TrainConfig

ENCODER_PATCH = 32  # LR patch side of a degradation encoder's pre-training (two per image, in pairs)


@dataclass(frozen=True)
class StagePlan:
    index: int
    patch: int  # LR patch side
    iterations: int | None  # None: the stage is bounded by time only
    seconds: float | None  # None: the stage is bounded by iterations only
    peak_lr: float
    min_lr: float
    kind: str = "reconstruction"  # or "encoder": contrastive pre-training of a degradation encoder

    def progress(self, iterations: int, seconds: float) -> float:
        """Fraction of the stage done: the larger of the fractions of its budgets spent."""
        parts = []
        if self.iterations is not None:
            parts.append(iterations / self.iterations)
        if self.seconds is not None:
            parts.append(seconds / self.seconds)
        return max(parts)

    def lr(self, progress: float) -> float:
        """Cosine decay from ``peak_lr`` to ``min_lr`` over the stage (a warm restart per stage)."""
        p = min(max(progress, 0.0), 1.0)
        return self.min_lr + (self.peak_lr - self.min_lr) * 0.5 * (1.0 + math.cos(math.pi * p))

    def describe(self) -> str:
        budget = []
        if self.iterations is not None:
            budget.append(f"{self.iterations:,} iterations")
        if self.seconds is not None:
            budget.append(f"{self.seconds:,.0f} s")
        what = "degradation encoder (contrastive), " if self.kind == "encoder" else ""
        return (
            f"stage {self.index + 1}: {what}LR patch {self.patch}, "
            + " or ".join(budget)
            + f", peak lr {self.peak_lr:g}"
        )


def plan_stages(cfg: TrainConfig) -> list[StagePlan]:
    """One :class:`StagePlan` per LR patch size in ``cfg.stages``, after the encoder's pre-training if any.

    Budgets in pixels or time are split among the reconstruction stages; the encoder's is its own.
    """
    n = len(cfg.stages)
    plans = []
    if cfg.encoder_iterations:
        plans.append(
            StagePlan(0, ENCODER_PATCH, cfg.encoder_iterations, None, cfg.lr, min(cfg.min_lr, cfg.lr), "encoder")
        )
    for i, patch in enumerate(cfg.stages):
        if cfg.iterations is not None:
            iterations: int | None = cfg.iterations[i if len(cfg.iterations) == n else 0]
        elif cfg.budget_pixels is not None:
            iterations = max(1, round(cfg.budget_pixels / n / (cfg.batch * patch * patch)))
        else:
            iterations = None
        seconds = cfg.time / n if cfg.time is not None else None
        peak = cfg.lr * cfg.stage_lr_decay**i
        plans.append(StagePlan(len(plans), patch, iterations, seconds, peak, min(cfg.min_lr, peak)))
    return plans
