"""Training pairs whose LR is synthesised from the HR patch with a degradation, batch by batch.

Each patch draws its own degradation (a named mix, :mod:`edgesr.degrade.mix`) or shares one
fixed spec. HR crops are taken with a margin of LR pixels on every side, degraded whole in
torch (:func:`edgesr.degrade.batch.degrade_batch`) and cropped back, so the blur and the
shrink filter see real image content at the patch's borders, never a padding.

The stream is seeded by ``(seed, stage, iteration)`` like :class:`edgesr.train.data.PatchSampler`:
a resumed run draws exactly the patches, degradations and noise an uninterrupted one would.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from edgesr.degrade.batch import degrade_batch, margin
from edgesr.degrade.mix import MIXES, get_mix
from edgesr.degrade.spec import PRESETS, Blur, Degradation, parse, suggest
from edgesr.errors import InputError
from edgesr.lazy import require
from edgesr.train.data import TrainingSet, _dihedral

torch = require("torch")

Draw = Callable[[np.random.Generator], Degradation]
STREAM = 1  # keeps these draws apart from the clean sampler's stream of the same (seed, stage, iteration)


def degradation_source(text: str) -> tuple[Draw, int]:
    """A mix name or a fixed spec: (draw one degradation, widest blur sigma it can draw)."""
    if text.strip().lower() in MIXES:
        mix = get_mix(text)
        return mix.sample, max(mix.sigma)
    fixed = parse(text)
    return (lambda rng: fixed), fixed.blur.widest if fixed.blur else 0.0


def check_degrade(text: str) -> None:
    """Refuse a name that is neither a mix, a preset nor a spec (one line with the choices)."""
    key = text.strip().lower()
    if key in MIXES:
        return
    if "=" not in key and key not in PRESETS:
        raise InputError(
            f"--degrade {text}: not a training mix ({', '.join(MIXES)}), preset ({', '.join(PRESETS)}) "
            f"or spec{suggest(key, [*MIXES, *PRESETS])}; e.g. --degrade real or --degrade blur=iso:1.2,noise=10"
        )
    try:
        parse(text)
    except InputError as exc:
        raise InputError(f"--degrade: {exc}") from None


def _margin(degrade: str, scale: int) -> int:
    """LR pixels cut off each side of a degraded crop: the widest blur the source can draw decides."""
    _, widest = degradation_source(degrade)
    return margin([Degradation(blur=Blur("iso", widest))] if widest else [Degradation()], scale)


class DegradedPatchSampler:
    """Batches of (degraded LR, HR) patches in NCHW uint8, LR ``patch`` x ``patch``."""

    def __init__(
        self, data: TrainingSet, indices: list[int], patch: int, batch: int, seed: int, stage: int, degrade: str
    ) -> None:
        self.draw, _ = degradation_source(degrade)
        self.margin = _margin(degrade, data.scale)
        if not indices:
            raise InputError(f"no training image holds an LR patch of {patch} px plus its {self.margin} px margin")
        self.data, self.indices, self.patch, self.batch = data, np.asarray(indices), patch, batch
        self.seed, self.stage = seed, stage

    @staticmethod
    def need(patch: int, degrade: str, scale: int) -> int:
        """The LR side an image must hold to give a patch with its margin."""
        return patch + 2 * _margin(degrade, scale)

    def __call__(self, iteration: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng((self.seed, self.stage, iteration, STREAM))
        picks, turns = rng.choice(self.indices, size=self.batch), rng.integers(0, 8, size=self.batch)
        crops = [self._crop(rng, i, int(t)) for i, t in zip(picks, turns)]
        return self._degrade(rng, crops, [self.draw(rng) for _ in range(self.batch)])

    def _crop(self, rng: np.random.Generator, index: int, turn: int) -> np.ndarray:
        """An HR crop with its margin from training image ``index`` at a random place, flipped or turned."""
        side = (self.patch + 2 * self.margin) * self.data.scale
        hr = self.data.pairs[index].hr
        top = int(rng.integers(0, hr.shape[0] - side + 1))
        left = int(rng.integers(0, hr.shape[1] - side + 1))
        return _dihedral(hr[top : top + side, left : left + side], turn)

    def _degrade(
        self, rng: np.random.Generator, crops: list[np.ndarray], degradations: list[Degradation]
    ) -> tuple[np.ndarray, np.ndarray]:
        s, m, p = self.data.scale, self.margin, self.patch
        hr = np.ascontiguousarray(np.stack(crops).transpose(0, 3, 1, 2))
        generator = torch.Generator().manual_seed(int(rng.integers(0, 2**62)))
        lr = degrade_batch(torch.from_numpy(hr).float(), degradations, s, generator)
        return (
            np.ascontiguousarray(lr[:, :, m : m + p, m : m + p]),
            np.ascontiguousarray(hr[:, :, m * s : (m + p) * s, m * s : (m + p) * s]),
        )


class PairedDegradedPatchSampler(DegradedPatchSampler):
    """Like :class:`DegradedPatchSampler`, in pairs: patches ``2k`` and ``2k + 1`` share one degradation
    (their own noise draws), the positive pair of the contrastive loss. ``batch`` must be even.

    ``positives``: ``"same-image"`` takes both from one training image; ``"other-image"`` takes the
    second from the next pair's image, so every image appears under two degradations in a batch:
    the patch that shares a query's content but not its degradation is one of its negatives, and
    content alone cannot tell a partner apart.
    """

    def __init__(self, *args, positives: str = "other-image", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.positives = positives

    def __call__(self, iteration: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng((self.seed, self.stage, iteration, STREAM))
        pairs = self.batch // 2
        # other-image pairs draw distinct images where there are enough, so a partner is never the same image
        distinct = self.positives == "other-image" and len(self.indices) >= pairs
        picks, turns = rng.choice(self.indices, size=pairs, replace=not distinct), rng.integers(0, 8, size=2 * pairs)
        images = np.repeat(picks, 2) if self.positives == "same-image" else np.stack([picks, np.roll(picks, -1)], 1)
        crops = [self._crop(rng, i, int(t)) for i, t in zip(np.ravel(images), turns)]
        degradations = [d for d in (self.draw(rng) for _ in range(pairs)) for _ in range(2)]
        return self._degrade(rng, crops, degradations)
