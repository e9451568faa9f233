"""Training SR networks: aligned LR/HR patches, L1 loss, Adam with cosine decay, EMA weights,
budgets in iterations, LR pixels or time, resumable checkpoints, and the multiscale hot start.

``import edgesr.train`` is light: the loop (and torch) load on first use of ``train``,
``resume``, ``Trainer`` or ``TrainResult``.
"""

from __future__ import annotations

from edgesr.train.config import TrainConfig

__all__ = ["TrainConfig", "TrainResult", "Trainer", "resume", "train"]

_LOOP = ("TrainResult", "Trainer", "resume", "train")


def __getattr__(name: str):
    if name in _LOOP:
        from edgesr.train import loop

        return getattr(loop, name)
    raise AttributeError(f"module 'edgesr.train' has no attribute '{name}'")
