"""Does a degradation encoder see the degradation? A nearest-centroid probe and a 2-D projection.

Held-out HR images (never training data) are degraded with every combination of a blur width, a
noise level and a compression (:data:`BLURS` x :data:`NOISES` x :data:`JPEGS`, bicubic x4 after the
blur, JPEG last, as the quality grid), and LR patches of the size the encoder pre-trains on are cut
at seeded places on the 8x8 grid, so a patch's JPEG blocks start where the image's do. The images
are split in two: class centroids (per blur width, per noise level, per compression) are fitted on
the vectors of one half and the patches of the other half are classified by their nearest
centroid; blur and noise among the uncompressed patches, compression (none or JPEG 50) among all.
The same probe on an untrained encoder of the same shape is the reference: what features of the
pixels alone, through random convolutions, already tell.
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
JPEGS = (None, 50)  # JPEG quality; None: not compressed
GRID = 8  # JPEG block size: patches start on it


@dataclass
class ProbeResult:
    blur_accuracy: float  # share of held-out patches whose blur width is the nearest centroid's
    noise_accuracy: float
    compression_accuracy: float
    chance: dict[str, float]
    patches: dict[str, int]  # fitted and tested
    # 2-D projection of the held-out vectors (principal components of the fitted half): x, y, blur, noise
    points: list[list[float]] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "blur_accuracy": self.blur_accuracy,
            "noise_accuracy": self.noise_accuracy,
            "compression_accuracy": self.compression_accuracy,
            "chance": self.chance,
            "patches": self.patches,
        }


def degradation_patches(folders: list[str | os.PathLike], scale: int, per_image: int, seed: int = 0):
    """LR patches N x 3 x p x p in [0, 1], their blur, noise and compression class indices, and their image index."""
    images = [p for folder in folders for p in list_images(folder)]
    rng = np.random.default_rng(seed)
    patches, labels, image = [], [], []
    p = ENCODER_PATCH
    for k, path in enumerate(images):
        hr = read_rgb(path)
        hr = hr[: hr.shape[0] - hr.shape[0] % scale, : hr.shape[1] - hr.shape[1] % scale]
        for b, sigma in enumerate(BLURS):
            for n, level in enumerate(NOISES):
                for j, quality in enumerate(JPEGS):
                    d = Degradation(blur=Blur("iso", sigma) if sigma else None, noise=level, jpeg=quality)
                    lr = degrade(hr, d, scale, seed=seed + 1000 * k + 100 * j + 10 * b + n)
                    if min(lr.shape[:2]) < p:
                        continue
                    for _ in range(per_image):
                        top = int(rng.integers(0, (lr.shape[0] - p) // GRID + 1)) * GRID
                        left = int(rng.integers(0, (lr.shape[1] - p) // GRID + 1)) * GRID
                        patches.append(lr[top : top + p, left : left + p])
                        labels.append((b, n, j))
                        image.append(k)
    x = np.stack(patches).transpose(0, 3, 1, 2).astype(np.float32) / 255.0
    blur, noise, compression = np.asarray(labels).T
    return x, blur, noise, compression, np.asarray(image)


def probe(encoder, folders: list[str | os.PathLike], scale: int = 4, per_image: int = 4, seed: int = 0) -> ProbeResult:
    """Nearest-centroid accuracy of ``encoder``'s vectors for blur, noise and compression on held-out images."""
    torch = require("torch")
    x, blur, noise, compression, image = degradation_patches(folders, scale, per_image, seed)
    with torch.inference_mode():
        vectors = torch.cat([encoder(torch.from_numpy(x[i : i + 256])) for i in range(0, len(x), 256)]).numpy()
    fit = image % 2 == 0
    plain = compression == 0  # blur and noise are probed on uncompressed patches, compression on all
    mean, std = vectors[fit].mean(axis=0), vectors[fit].std(axis=0) + 1e-8
    z = (vectors - mean) / std
    accuracy = {
        name: _nearest_centroid(z[plain], labels[plain], fit[plain])
        for name, labels in (("blur", blur), ("noise", noise))
    }
    accuracy["compression"] = _nearest_centroid(z, compression, fit)
    _, _, axes = np.linalg.svd(z[fit & plain] - z[fit & plain].mean(axis=0), full_matrices=False)
    tested = ~fit & plain
    xy = z[tested] @ axes[:2].T
    points = [[float(a), float(b), BLURS[i], NOISES[j]] for (a, b), i, j in zip(xy, blur[tested], noise[tested])]
    return ProbeResult(
        accuracy["blur"],
        accuracy["noise"],
        accuracy["compression"],
        {"blur": 1 / len(BLURS), "noise": 1 / len(NOISES), "compression": 1 / len(JPEGS)},
        {"fitted": int((fit & plain).sum()), "tested": int(tested.sum()), "compression_tested": int((~fit).sum())},
        points,
    )


def _nearest_centroid(z: np.ndarray, labels: np.ndarray, fit: np.ndarray) -> float:
    classes = np.unique(labels[fit])
    centroids = np.stack([z[fit & (labels == c)].mean(axis=0) for c in classes])
    dist = ((z[~fit, None, :] - centroids[None]) ** 2).sum(axis=2)
    return float((classes[dist.argmin(axis=1)] == labels[~fit]).mean())
