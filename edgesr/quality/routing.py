"""Routers on images: fitting one from degraded training crops, and scoring it as one upscaler.

:class:`RoutedUpscaler` is a router (:mod:`edgesr.routing`) over shipped models in FP32: it
estimates each image's degradation with the blind expert's encoder, split from its graph, and
upscales with the expert it picks, so ``edgesr eval`` scores a router as it runs (per image; a
stream decides per scene). :func:`fit_router` makes the regression: crops of training images, each
under one draw of a degradation mix, each expert's Y-PSNR on it, and the vector.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgesr.degrade import degrade
from edgesr.degrade.mix import get_mix
from edgesr.io.images import list_images, read_rgb
from edgesr.onnx import loading, sessions
from edgesr.onnx.split_encoder import encoder_view, split_model
from edgesr.quality.metrics import psnr_y
from edgesr.quality.upscalers import OnnxUpscaler, to_model_input
from edgesr.routing import Router, fit


@dataclass
class Experts:
    """Shipped models as FP32 upscalers, and the degradation encoder of the one named ``encoder``."""

    names: tuple[str, ...]
    encoder: str
    upscalers: list[OnnxUpscaler] = field(init=False)

    def __post_init__(self) -> None:
        from edgesr import shipped

        self.upscalers = [OnnxUpscaler(shipped.find(n).onnx) for n in self.names]
        for name, up in zip(self.names, self.upscalers):
            up.name = name
        blind = self.upscalers[self.names.index(self.encoder)]
        encoder, _, _ = split_model(loading.load(blind.path))
        self._session = sessions.session(encoder, quiet=True, name=f"{self.encoder} encoder")
        self._input = self._session.get_inputs()[0].name
        self._value_range = blind.meta.value_range
        self.scale = blind.scale

    def vector(self, lr: np.ndarray) -> np.ndarray:
        """The degradation vector of a whole LR image (H x W x 3 uint8 RGB)."""
        x = np.ascontiguousarray(encoder_view(to_model_input(lr, self._value_range)))
        return self._session.run(None, {self._input: x})[0].reshape(-1)

    def scores(self, lr: np.ndarray, hr: np.ndarray, shave: int) -> list[float]:
        return [psnr_y(up(lr), hr, shave) for up in self.upscalers]


class RoutedUpscaler:
    """A router as an upscaler: each image through the expert its degradation picks."""

    def __init__(self, name: str, router: Router, experts: Experts | None = None):
        self.name = name
        self.router = router
        self.experts = experts if experts is not None else Experts(router.experts, router.encoder)
        self.scale = self.experts.scale
        self.picks = dict.fromkeys(router.experts, 0)

    def __call__(self, lr: np.ndarray) -> np.ndarray:
        expert = self.router.pick(self.experts.vector(lr))
        self.picks[self.router.experts[expert]] += 1
        return self.experts.upscalers[expert](lr)


def training_scores(
    experts: Experts,
    folders: Sequence[Path],
    *,
    per_image: int = 4,
    crop: int = 384,
    mix: str = "real",
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """(vectors N x D, Y-PSNR N x experts) of ``per_image`` random crops of every image, each crop
    degraded by its own draw from ``mix``; seeded, so the same folders give the same numbers."""
    rng, draws = np.random.default_rng(seed), get_mix(mix)
    files = [p for f in folders for p in list_images(f)]
    scale = experts.scale
    vectors, scores = [], []
    for path in files:
        image = read_rgb(path)
        h, w = image.shape[:2]
        for _ in range(per_image):
            y, x = rng.integers(0, max(1, h - crop)), rng.integers(0, max(1, w - crop))
            hr = image[y : y + crop, x : x + crop]
            hr = hr[: hr.shape[0] - hr.shape[0] % scale, : hr.shape[1] - hr.shape[1] % scale]
            lr = degrade(hr, draws.sample(rng), scale, seed=int(rng.integers(1 << 30)))
            vectors.append(experts.vector(lr))
            scores.append(experts.scores(lr, hr, scale))
    return np.array(vectors), np.array(scores)


def fit_router(experts: Experts, vectors: np.ndarray, scores: np.ndarray, ridge: float = 1.0) -> Router:
    return fit(experts.names, experts.encoder, vectors, scores, ridge)
