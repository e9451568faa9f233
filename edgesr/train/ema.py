"""Exponential moving average of a network's weights: the copy that is validated and shipped."""

from __future__ import annotations

import copy

from edgesr.lazy import require

torch = require("torch")


class EMA:
    """A frozen copy of ``model`` whose parameters trail the trained ones.

    The decay ramps up as ``(1 + step) / (10 + step)`` until it reaches ``decay``, so early
    weights, which are mostly initialisation, do not linger in short runs. Buffers (such as
    epfdn's ``act_id``) are copied, not averaged.
    """

    def __init__(self, model, decay: float) -> None:
        self.module = copy.deepcopy(model).eval().requires_grad_(False)
        self.decay = decay

    def update(self, model, step: int) -> None:
        d = min(self.decay, (1 + step) / (10 + step))
        with torch.no_grad():
            for mine, theirs in zip(self.module.parameters(), model.parameters()):
                mine.lerp_(theirs, 1.0 - d)
            for mine, theirs in zip(self.module.buffers(), model.buffers()):
                mine.copy_(theirs)

    def state_dict(self) -> dict:
        return self.module.state_dict()

    def load_state_dict(self, sd: dict) -> None:
        self.module.load_state_dict(sd)
