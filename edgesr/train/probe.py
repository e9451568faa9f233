"""Does a degradation encoder see the degradation? A nearest-centroid probe and a 2-D projection.

Held-out HR images (never training data) are degraded with every combination of a blur width
and a noise level (:data:`BLURS` x :data:`NOISES`, bicubic x4 after the blur, as the quality
grid), and LR patches of the size the encoder pre-trains on are cut at seeded places. The images
are split in two: class centroids (per blur width, per noise level) are fitted on the vectors of
one half and the patches of the other half are classified by their nearest centroid. The same
probe on an untrained encoder of the same shape is the reference: what features of the pixels
alone, through random convolutions, already tell.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from edgesr.degrade.apply import degrade
from edgesr.degrade.spec import Blur, Degradation
from edgesr.io.images import list_images, read_rgb
from edgesr.lazy import require
from edgesr.train.stages import ENCODER_PATCH

BLURS = (0.0, 1.2, 2.4, 3.6)  # isotropic Gaussian sigma in HR pixels; 0: none
NOISES = (0.0, 10.0, 20.0)  # Gaussian noise sigma in 8-bit levels


@dataclass
class ProbeResult:
    blur_accuracy: float  # share of held-out patches whose blur width is the nearest centroid's
    noise_accuracy: float
    chance: dict[str, float]
    patches: dict[str, int]  # fitted and tested
    # 2-D projection of the held-out vectors (principal components of the fitted half): x, y, blur, noise
    points: list[list[float]] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "blur_accuracy": self.blur_accuracy,
            "noise_accuracy": self.noise_accuracy,
            "chance": self.chance,
            "patches": self.patches,
        }


def degradation_patches(folders: list[str | os.PathLike], scale: int, per_image: int, seed: int = 0):
    """LR patches N x 3 x p x p in [0, 1], their blur and noise class indices, and their image index."""
    images = [p for folder in folders for p in list_images(folder)]
    rng = np.random.default_rng(seed)
    patches, blur, noise, image = [], [], [], []
    p = ENCODER_PATCH
    for k, path in enumerate(images):
        hr = read_rgb(path)
        hr = hr[: hr.shape[0] - hr.shape[0] % scale, : hr.shape[1] - hr.shape[1] % scale]
        for b, sigma in enumerate(BLURS):
            for n, level in enumerate(NOISES):
                d = Degradation(blur=Blur("iso", sigma) if sigma else None, noise=level)
                lr = degrade(hr, d, scale, seed=seed + 1000 * k + 10 * b + n)
                if min(lr.shape[:2]) < p:
                    continue
                for _ in range(per_image):
                    top = int(rng.integers(0, lr.shape[0] - p + 1))
                    left = int(rng.integers(0, lr.shape[1] - p + 1))
                    patches.append(lr[top : top + p, left : left + p])
                    blur.append(b)
                    noise.append(n)
                    image.append(k)
    x = np.stack(patches).transpose(0, 3, 1, 2).astype(np.float32) / 255.0
    return x, np.asarray(blur), np.asarray(noise), np.asarray(image)


def probe(encoder, folders: list[str | os.PathLike], scale: int = 4, per_image: int = 4, seed: int = 0) -> ProbeResult:
    """Nearest-centroid accuracy of ``encoder``'s vectors for blur width and noise level on held-out images."""
    torch = require("torch")
    x, blur, noise, image = degradation_patches(folders, scale, per_image, seed)
    with torch.inference_mode():
        vectors = torch.cat([encoder(torch.from_numpy(x[i : i + 256])) for i in range(0, len(x), 256)]).numpy()
    fit = image % 2 == 0
    mean, std = vectors[fit].mean(axis=0), vectors[fit].std(axis=0) + 1e-8
    z = (vectors - mean) / std
    accuracy = {name: _nearest_centroid(z, labels, fit) for name, labels in (("blur", blur), ("noise", noise))}
    _, _, axes = np.linalg.svd(z[fit] - z[fit].mean(axis=0), full_matrices=False)
    xy = z[~fit] @ axes[:2].T
    points = [[float(a), float(b), BLURS[i], NOISES[j]] for (a, b), i, j in zip(xy, blur[~fit], noise[~fit])]
    return ProbeResult(
        accuracy["blur"],
        accuracy["noise"],
        {"blur": 1 / len(BLURS), "noise": 1 / len(NOISES)},
        {"fitted": int(fit.sum()), "tested": int((~fit).sum())},
        points,
    )


def _nearest_centroid(z: np.ndarray, labels: np.ndarray, fit: np.ndarray) -> float:
    classes = np.unique(labels[fit])
    centroids = np.stack([z[fit & (labels == c)].mean(axis=0) for c in classes])
    dist = ((z[~fit, None, :] - centroids[None]) ** 2).sum(axis=2)
    return float((classes[dist.argmin(axis=1)] == labels[~fit]).mean())
