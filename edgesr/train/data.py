"""Training pairs and the patch stream.

The LR of every training image is made once, whole, with the protocol's MATLAB-compatible
bicubic (:func:`edgesr.quality.prepare`), so a patch's LR is exactly what the benchmark LR of
that region would be, and no resize runs per patch. LR images are kept in memory and, unless
disabled, on disk under a content-keyed name, so later runs skip the (numpy, slow) resize.

Patches are drawn from a generator seeded by ``(seed, stage, iteration)``: the stream does not
depend on what ran before, so a resumed run draws exactly the patches an uninterrupted one would.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgesr.errors import InputError
from edgesr.fileio import atomic_path
from edgesr.io.images import list_images, read_rgb, sample_images
from edgesr.lazy import require
from edgesr.log import logger
from edgesr.quality.protocol import prepare

LR_METHOD = "matlab-bicubic"  # part of cache names: an LR made another way must never be reused


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "edgesr" / "train-lr"


def held_out_folder(val: str | None, data: tuple[str, ...]) -> Path:
    """The validation folder: ``val``, or the photos shipped with edgesr; never inside the training data."""
    folder = Path(val) if val else sample_images()[0].parent
    list_images(folder)  # an empty or missing folder fails now, not after the first stage
    resolved = folder.resolve()
    for d in data:
        train = Path(d).resolve()
        if resolved == train or train in resolved.parents or resolved in train.parents:
            raise InputError(
                f"validation folder {folder} overlaps training folder {d}; validate on held-out images (--val)"
            )
    return folder


@dataclass
class Pair:
    name: str
    lr: np.ndarray  # h x w x 3 uint8
    hr: np.ndarray  # scale*h x scale*w x 3 uint8


@dataclass
class TrainingSet:
    pairs: list[Pair]
    scale: int
    fingerprint: str  # of the images' contents and order: a resumed run must see the same data

    def fitting(self, patch: int) -> list[int]:
        """Indices of the pairs whose LR holds a ``patch`` x ``patch`` crop."""
        return [i for i, p in enumerate(self.pairs) if min(p.lr.shape[:2]) >= patch]


class LRCache:
    """LR images on disk, named by the SHA-256 of the HR file, the scale and the resize method."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, digest: str, scale: int) -> Path:
        return self.root / f"{digest}_x{scale}_{LR_METHOD}.npy"

    def get(self, digest: str, scale: int, shape: tuple[int, ...]) -> np.ndarray | None:
        p = self.path(digest, scale)
        if not p.is_file():
            return None
        try:
            lr = np.load(p, allow_pickle=False)
        except (OSError, ValueError) as exc:
            logger.debug("cached LR %s is unreadable (%s); making it again", p, exc)
            return None
        return lr if lr.shape == shape and lr.dtype == np.uint8 else None

    def put(self, digest: str, scale: int, lr: np.ndarray) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        with atomic_path(self.path(digest, scale)) as tmp, open(tmp, "wb") as f:
            np.save(f, lr, allow_pickle=False)


def load_training_set(folders: tuple[str, ...], scale: int, cache: LRCache | None) -> TrainingSet:
    """Every image of ``folders`` as an aligned (LR, HR) pair at ``scale``."""
    paths = [p for folder in folders for p in list_images(folder)]
    tqdm = require("tqdm").tqdm

    def load(path: Path) -> tuple[str, Pair]:
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        rgb = read_rgb(path)
        h, w = (n - n % scale for n in rgb.shape[:2])
        if h == 0 or w == 0:
            raise InputError(
                f"{path} is {rgb.shape[0]}x{rgb.shape[1]} (HxW), smaller than the x{scale} "
                "scale; remove it from the training data"
            )
        lr = cache.get(digest, scale, (h // scale, w // scale, 3)) if cache is not None else None
        if lr is None:
            lr, hr = prepare(rgb, scale)
            if cache is not None:
                cache.put(digest, scale, lr)
        else:
            hr = rgb[:h, :w]
        return digest, Pair(path.name, lr, hr)

    # numpy's resize and Pillow's decoder release the GIL, so threads use every core.
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        loaded = list(
            tqdm(pool.map(load, paths), total=len(paths), desc="training images", unit="img", leave=False, disable=None)
        )
    fingerprint = hashlib.sha256("".join(d for d, _ in loaded).encode()).hexdigest()[:16]
    return TrainingSet([p for _, p in loaded], scale, fingerprint)


class PatchSampler:
    """Batches of aligned patches: LR ``patch`` x ``patch`` and HR ``scale`` times that, in NCHW uint8.

    Each patch comes from an image drawn uniformly (with replacement) from ``indices``, at a
    uniform position, under one of the 8 flips and rotations of the square. The HR patch
    covers exactly the LR patch's area; the protocol's bicubic is symmetric, so flipping or
    rotating both keeps them a true LR/HR pair.
    """

    def __init__(self, data: TrainingSet, indices: list[int], patch: int, batch: int, seed: int, stage: int) -> None:
        if not indices:
            raise InputError(f"no training image holds an LR patch of {patch} px")
        self.data = data
        self.indices = np.asarray(indices)
        self.patch = patch
        self.batch = batch
        self.seed = seed
        self.stage = stage

    def __call__(self, iteration: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng((self.seed, self.stage, iteration))
        p, s = self.patch, self.data.scale
        picks = rng.choice(self.indices, size=self.batch)
        turns = rng.integers(0, 8, size=self.batch)
        lrs, hrs = [], []
        for i, turn in zip(picks, turns):
            pair = self.data.pairs[i]
            top = int(rng.integers(0, pair.lr.shape[0] - p + 1))
            left = int(rng.integers(0, pair.lr.shape[1] - p + 1))
            lr = pair.lr[top : top + p, left : left + p]
            hr = pair.hr[s * top : s * (top + p), s * left : s * (left + p)]
            lrs.append(_dihedral(lr, int(turn)))
            hrs.append(_dihedral(hr, int(turn)))
        return (
            np.ascontiguousarray(np.stack(lrs).transpose(0, 3, 1, 2)),
            np.ascontiguousarray(np.stack(hrs).transpose(0, 3, 1, 2)),
        )


def _dihedral(img: np.ndarray, turn: int) -> np.ndarray:
    """One of the 8 symmetries of the square: ``turn % 4`` quarter turns, mirrored when ``turn >= 4``."""
    out = np.rot90(img, turn % 4, axes=(0, 1))
    return out[:, ::-1] if turn >= 4 else out
