"""Degradations of real footage: blur, downsampling, sensor noise, compression.

``parse`` reads a spec or preset (no heavy imports); ``degrade`` makes one degraded LR image
(numpy/OpenCV); :mod:`edgesr.degrade.mix` draws random degradations for training and
:mod:`edgesr.degrade.batch` applies them to batches of HR patches in torch.
"""

from edgesr.degrade.spec import GRID, PRESETS, Blur, Degradation, expand, parse


def degrade(image, spec, scale: int = 1, seed: int = 0):
    """See :func:`edgesr.degrade.apply.degrade` (imported on first use: it needs numpy and OpenCV)."""
    from edgesr.degrade.apply import degrade as run

    return run(image, spec, scale, seed)


__all__ = ["GRID", "PRESETS", "Blur", "Degradation", "degrade", "expand", "parse"]
