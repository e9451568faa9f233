"""Random degradations for training: a named mix draws one :class:`Degradation` per patch.

``real`` covers what camera and stream frames carry, wide enough to hold every column of the
quality grid (blur widths to 4, Gaussian noise to 20, JPEG down to quality 35) with a share of
clean frames so that clean input does not get worse. ``clean`` is the benchmark LR alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgesr.degrade.spec import Blur, Degradation, suggest
from edgesr.errors import InputError


@dataclass(frozen=True)
class Mix:
    """Probabilities and ranges of each step; each patch draws its own values."""

    clean: float = 0.15  # share of patches with the benchmark LR alone
    blur: float = 0.8  # of the others: blurred at all
    aniso: float = 0.4  # of the blurred: anisotropic
    sigma: tuple[float, float] = (0.2, 4.0)  # HR pixels, each axis of an anisotropic kernel alike
    down: tuple[tuple[str, float], ...] = (("bicubic", 0.7), ("bilinear", 0.15), ("area", 0.15))
    noise: float = 0.7
    noise_sigma: tuple[float, float] = (1.0, 20.0)
    grey: float = 0.2  # of the noised: one noise field for all channels
    shot: float = 0.2
    shot_sigma: tuple[float, float] = (1.0, 10.0)
    jpeg: float = 0.6
    quality: tuple[int, int] = (35, 95)

    def sample(self, rng: np.random.Generator) -> Degradation:
        if rng.random() < self.clean:
            return Degradation()
        blur = None
        if rng.random() < self.blur:
            if rng.random() < self.aniso:
                sx, sy = rng.uniform(*self.sigma, size=2)
                blur = Blur("aniso", round(float(sx), 3), round(float(sy), 3), round(float(rng.uniform(0, 180)), 1))
            else:
                blur = Blur("iso", round(float(rng.uniform(*self.sigma)), 3))
        methods, weights = zip(*self.down)
        down = str(rng.choice(methods, p=np.asarray(weights) / sum(weights)))
        noise = float(rng.uniform(*self.noise_sigma)) if rng.random() < self.noise else 0.0
        kind = "grey" if noise and rng.random() < self.grey else "color"
        shot = float(rng.uniform(*self.shot_sigma)) if rng.random() < self.shot else 0.0
        quality = int(rng.integers(self.quality[0], self.quality[1] + 1)) if rng.random() < self.jpeg else None
        return Degradation(blur, down, round(noise, 2), kind, round(shot, 2), quality)


MIXES: dict[str, Mix] = {
    "real": Mix(),
    "clean": Mix(clean=1.0),
}


def get_mix(name: str) -> Mix:
    key = name.strip().lower()
    if key not in MIXES:
        raise InputError(
            f"unknown degradation mix '{name}'{suggest(key, list(MIXES))}; mixes: {', '.join(MIXES)}, or give a fixed "
            "spec such as blur=iso:1.2,noise=10"
        )
    return MIXES[key]
