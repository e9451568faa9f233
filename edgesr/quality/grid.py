"""The quality grid: models (bicubic among them) x degradations, per image folder.

Every cell is :func:`edgesr.quality.evaluate` of one model on one folder with the LR made by one
degradation; the LR of an image is seeded by its name, so all rows of a column score the same
LR images and their difference is the models' alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from edgesr.degrade.spec import Degradation
from edgesr.quality.protocol import EvalResult, UpscaleFn, evaluate
from edgesr.texttable import align

BASELINE = "bicubic"


@dataclass
class Grid:
    folder: str
    scale: int
    models: list[str]
    degradations: list[Degradation]
    cells: dict[tuple[str, str], EvalResult] = field(default_factory=dict)  # (model, degradation text)

    def psnr(self, model: str, d: Degradation) -> float:
        return self.cells[(model, d.text())].mean_psnr

    def gain(self, model: str, d: Degradation) -> float | None:
        """dB over bicubic of the same LR, where bicubic is a row."""
        if BASELINE not in self.models or model == BASELINE:
            return None
        return self.psnr(model, d) - self.psnr(BASELINE, d)

    def table(self) -> str:
        """PSNR-Y per cell, with the gain over bicubic in brackets; one column per degradation."""
        head = ["model"] + [d.label() for d in self.degradations]
        rows = [head]
        for m in self.models:
            row = [m]
            for d in self.degradations:
                gain = self.gain(m, d)
                row.append(f"{self.psnr(m, d):.2f}" + (f" ({gain:+.2f})" if gain is not None else ""))
            rows.append(row)
        lines = align(rows, right=range(1, len(head))).split("\n")
        lines.insert(1, "-" * len(lines[0]))
        return "\n".join(lines)

    def to_dict(self) -> dict:
        def num(x: float) -> float | str:
            return round(x, 4) if math.isfinite(x) else str(x)

        return {
            "folder": self.folder,
            "scale": self.scale,
            "models": self.models,
            "degradations": [{"label": d.label(), "spec": d.text()} for d in self.degradations],
            "cells": [
                {
                    "model": m,
                    "degradation": d.text(),
                    "psnr": num(self.psnr(m, d)),
                    "ssim": round(self.cells[(m, d.text())].mean_ssim, 5),
                    "gain_db": None if self.gain(m, d) is None else round(self.gain(m, d), 4),
                }
                for m in self.models
                for d in self.degradations
            ],
        }


def run_grid(
    upscalers: Sequence[tuple[str, UpscaleFn]],
    folder: str,
    scale: int,
    degradations: Sequence[Degradation],
    seed: int = 0,
) -> Grid:
    """Score each named upscaler on ``folder`` under each degradation."""
    grid = Grid(str(folder), scale, [name for name, _ in upscalers], list(degradations))
    for d in degradations:
        for name, fn in upscalers:
            grid.cells[(name, d.text())] = evaluate(fn, folder, scale, degradation=d, seed=seed)
    return grid
