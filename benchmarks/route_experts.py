"""Can aidn-da's degradation vector choose, per image, the best of the shipped x4 models?

    python benchmarks/route_experts.py [--per-image 4] [--ridge 1.0]

The experts are the shipped aidn-rt (clean-trained), aidn-rt-real (trained on the ``real`` mix)
and aidn-da (blind), each in FP32. The router (:mod:`edgesr.routing`, fitted by
:mod:`edgesr.quality.routing` as ``edgesr models --ship-router`` fits the shipped one) is a ridge
regression from aidn-da's 64-d representation of the whole LR image to each expert's PSNR gain over
aidn-rt; it picks the largest predicted gain, aidn-rt when none is positive. It is fitted on crops
of the training folders, each degraded by a draw from the ``real`` mix, and scored on the quality
grid of Set5 and Set14 (other images; each image's LR seeded by its name, as ``edgesr eval
--degrade grid`` makes it), beside the oracle: the best expert per image, which ``edgesr eval``
cannot show. Options change the fit (crops per image, crop size, ridge penalty, seed).

Printed per grid cell: Y-PSNR of bicubic, of each expert, of the routed choice and of the oracle
(the best expert per image), the routed gain over bicubic and over aidn-rt, and how often each
expert was picked.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from edgesr.degrade import degrade
from edgesr.degrade.apply import image_seed
from edgesr.degrade.spec import GRID, PRESETS
from edgesr.io.images import list_images, read_rgb
from edgesr.quality.metrics import psnr_y
from edgesr.quality.protocol import prepare
from edgesr.quality.routing import Experts, fit_router, training_scores
from edgesr.quality.upscalers import Bicubic

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
EXPERTS = ("aidn-rt", "aidn-rt-real", "aidn-da")
SCALE, SHAVE = 4, 4


def grid_rows(experts: Experts, router, folder: Path) -> list[list[str]]:
    bicubic = Bicubic(SCALE)
    rows = []
    for name in GRID:
        cell = []  # per image: bicubic, experts..., routed, oracle, pick
        for path in list_images(folder):
            _, hr = prepare(read_rgb(path), SCALE)
            lr = degrade(hr, PRESETS[name], SCALE, seed=image_seed(path.name, 0))
            s = experts.scores(lr, hr, SHAVE)
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
    experts = Experts(EXPERTS, "aidn-da")
    vectors, scores = training_scores(experts, args.train, per_image=args.per_image, crop=args.crop, seed=args.seed)
    best = np.bincount(scores.argmax(1), minlength=len(EXPERTS))
    print(
        f"router fitted on {len(vectors)} degraded crops ({', '.join(f.name for f in args.train)}); best expert "
        + ", ".join(f"{n} {b}" for n, b in zip(EXPERTS, best))
    )
    router = fit_router(experts, vectors, scores, args.ridge)
    head = ["set", "LR", "bicubic", *EXPERTS, "routed", "oracle", "routed-bicubic", "routed-aidn-rt", "picks"]
    rows = [head] + [r for folder in args.eval for r in grid_rows(experts, router, folder)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    for r in rows:
        print("  ".join(v.rjust(w) if i > 1 else v.ljust(w) for i, (v, w) in enumerate(zip(r, widths))))
    print(f"{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
