"""Can aidn-da's degradation vector choose, per image, the best of the shipped x4 models?

    python benchmarks/route_experts.py [--per-image 4] [--ridge 1.0]

The experts are the shipped aidn-rt (clean-trained), aidn-rt-real (trained on the ``real`` mix)
and aidn-da (blind), each in FP32. The router is a ridge regression from aidn-da's 64-d
representation of the whole LR image to each expert's PSNR gain over aidn-rt; it picks the largest
predicted gain, aidn-rt when none is positive. It is fitted on crops of the training folders, each
degraded by a draw from the ``real`` mix, and scored on the quality grid of Set5 and Set14 (other
images; each image's LR seeded by its name, as ``edgesr eval --degrade grid`` makes it).

Printed per grid cell: Y-PSNR of bicubic, of each expert, of the routed choice and of the oracle
(the best expert per image), the routed gain over bicubic and over aidn-rt, and how often each
expert was picked.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from edgesr import shipped
from edgesr.degrade import degrade
from edgesr.degrade.apply import image_seed
from edgesr.degrade.mix import get_mix
from edgesr.degrade.spec import GRID, PRESETS
from edgesr.io.images import IMAGE_SUFFIXES, read_rgb
from edgesr.onnx import loading
from edgesr.onnx.sessions import session
from edgesr.onnx.split_encoder import split_model
from edgesr.quality.metrics import psnr_y
from edgesr.quality.protocol import prepare
from edgesr.quality.scoring import load_upscalers
from edgesr.quality.upscalers import Bicubic, to_model_input

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
EXPERTS = ("aidn-rt", "aidn-rt-real", "aidn-da")
SCALE, SHAVE = 4, 4


class Experts:
    """The three upscalers and aidn-da's encoder, split from its one graph."""

    def __init__(self):
        self.upscalers = load_upscalers(list(EXPERTS))
        encoder, _, _ = split_model(loading.load(shipped.find("aidn-da").onnx))
        self.encoder = session(encoder, quiet=True)
        self.value_range = self.upscalers[EXPERTS.index("aidn-da")].meta.value_range

    def vector(self, lr: np.ndarray) -> np.ndarray:
        x = to_model_input(lr, self.value_range)
        return self.encoder.run(None, {self.encoder.get_inputs()[0].name: x})[0].reshape(-1)

    def scores(self, lr: np.ndarray, hr: np.ndarray) -> list[float]:
        return [psnr_y(up(lr), hr, SHAVE) for up in self.upscalers]


def images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def training_set(experts: Experts, folders: list[Path], per_image: int, crop: int, seed: int):
    """(vectors, per-expert PSNR) of random crops under draws from the ``real`` mix."""
    rng, mix = np.random.default_rng(seed), get_mix("real")
    vectors, scores = [], []
    for path in [p for f in folders for p in images(f)]:
        image = read_rgb(path)
        h, w = image.shape[:2]
        for _ in range(per_image):
            y, x = rng.integers(0, max(1, h - crop)), rng.integers(0, max(1, w - crop))
            hr = image[y : y + crop, x : x + crop]
            hr = hr[: hr.shape[0] - hr.shape[0] % SCALE, : hr.shape[1] - hr.shape[1] % SCALE]
            lr = degrade(hr, mix.sample(rng), SCALE, seed=int(rng.integers(1 << 30)))
            vectors.append(experts.vector(lr))
            scores.append(experts.scores(lr, hr))
    return np.array(vectors), np.array(scores)


class Router:
    """Ridge regression: standardised vector -> each expert's gain over the first."""

    def __init__(self, vectors: np.ndarray, scores: np.ndarray, ridge: float):
        self.mean, self.std = vectors.mean(0), vectors.std(0) + 1e-6
        f = self._features(vectors)
        a = f.T @ f + ridge * np.diag([1.0] * (f.shape[1] - 1) + [0.0])  # the bias is not shrunk
        self.weights = np.linalg.solve(a, f.T @ (scores - scores[:, :1]))

    def _features(self, v: np.ndarray) -> np.ndarray:
        return np.concatenate([(v - self.mean) / self.std, np.ones((len(v), 1))], axis=1)

    def pick(self, vector: np.ndarray) -> int:
        gains = (self._features(vector[None]) @ self.weights)[0]
        return int(gains.argmax()) if gains.max() > 0 else 0


def grid_rows(experts: Experts, router: Router, folder: Path) -> list[list[str]]:
    bicubic = Bicubic(SCALE)
    rows = []
    for name in GRID:
        cell = []  # per image: bicubic, experts..., routed, oracle, pick
        for path in images(folder):
            _, hr = prepare(read_rgb(path), SCALE)
            lr = degrade(hr, PRESETS[name], SCALE, seed=image_seed(path.name, 0))
            s = experts.scores(lr, hr)
            pick = router.pick(experts.vector(lr))
            cell.append([psnr_y(bicubic(lr), hr, SHAVE), *s, s[pick], max(s), pick])
        c = np.array(cell)
        m = c[:, :-1].mean(0)
        picks = np.bincount(c[:, -1].astype(int), minlength=len(EXPERTS))
        routed, bic, default = m[-2], m[0], m[1]
        rows.append(
            [folder.name, name, *(f"{v:.2f}" for v in m), f"{routed - bic:+.2f}", f"{routed - default:+.2f}"]
            + ["/".join(str(int(p)) for p in picks)]
        )
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--train", nargs="+", type=Path, default=[SHARED / "train/bsd68", SHARED / "train/sunhays80"])
    p.add_argument("--eval", nargs="+", type=Path, default=[SHARED / "Set5", SHARED / "Set14"])
    p.add_argument("--per-image", type=int, default=4, help="crops per training image (default 4)")
    p.add_argument("--crop", type=int, default=384, help="HR crop side (default 384)")
    p.add_argument("--ridge", type=float, default=1.0, help="ridge penalty (default 1.0)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    start = time.perf_counter()
    experts = Experts()
    vectors, scores = training_set(experts, args.train, args.per_image, args.crop, args.seed)
    best = np.bincount(scores.argmax(1), minlength=len(EXPERTS))
    print(
        f"router fitted on {len(vectors)} degraded crops ({', '.join(f.name for f in args.train)}); best expert "
        + ", ".join(f"{n} {b}" for n, b in zip(EXPERTS, best))
    )
    router = Router(vectors, scores, args.ridge)
    head = ["set", "LR", "bicubic", *EXPERTS, "routed", "oracle", "routed-bicubic", "routed-aidn-rt", "picks"]
    rows = [head] + [r for folder in args.eval for r in grid_rows(experts, router, folder)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    for r in rows:
        print("  ".join(v.rjust(w) if i > 1 else v.ljust(w) for i, (v, w) in enumerate(zip(r, widths))))
    print(f"{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
