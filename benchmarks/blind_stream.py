"""Per-frame cost of a blind-SR model in its streaming form next to the default model, side by side.

The streaming form runs the encoder graph once every ``--every`` frames and the conditional graph
on every frame with the representation it gave; the default model runs alone. Both are timed in
one process, interleaved round by round (:func:`edgesr.timing.interleaved`), on the same frames,
with ONNX Runtime's CPU provider and the thread settings of the runtime. A round is ``--every``
frames of each. Prints milliseconds per frame of each and their ratio.

    python benchmarks/blind_stream.py BLIND.encoder.onnx BLIND.conditional.onnx [--against DEFAULT.onnx]
    python benchmarks/blind_stream.py aidn-da      # a shipped blind model's INT8 x86 file, split in memory
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np

from edgesr.lazy import require
from edgesr.meta import REPRESENTATION
from edgesr.onnx.sessions import session
from edgesr.onnx.split_encoder import split_model
from edgesr.shipped import find
from edgesr.sizes import parse_hw
from edgesr.timing import interleaved


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("encoder", help="the encoder graph, or a shipped blind model's name (its INT8 x86 file is split)")
    p.add_argument("conditional", nargs="?", help="the conditional graph (not with a shipped name)")
    p.add_argument("--against", help="the model to compare with (default: the shipped default's INT8 x86 file)")
    p.add_argument("--every", type=int, default=30, help="frames per representation (default 30)")
    p.add_argument("--input", default="180x320", help="LR frame HEIGHTxWIDTH (default 180x320)")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    h, w = parse_hw(args.input, "--input")
    frames = [np.random.default_rng(i).random((1, 3, h, w), dtype=np.float32) for i in range(args.every)]

    def open_(path):
        return session(path, threads=args.threads, spinning=False, quiet=True)

    if args.conditional is None:
        onnx = require("onnx")
        encoder, conditional, _ = split_model(onnx.load(str(find(args.encoder).int8("x86"))))
        enc, cond = open_(encoder), open_(conditional)
    else:
        enc, cond = open_(args.encoder), open_(args.conditional)
    base = open_(args.against or str(find(None).int8("x86")))
    names = [i.name for i in base.get_inputs()][0], [i.name for i in cond.get_inputs()][0]

    def default_scene() -> None:
        for x in frames:
            base.run(None, {names[0]: x})

    def blind_scene() -> None:
        rep = enc.run(None, {names[1]: frames[0]})[0]
        for x in frames:
            cond.run(None, {names[1]: x, REPRESENTATION: rep})

    samples = interleaved({"default": default_scene, "blind": blind_scene}, rounds=args.rounds, warmup=1)
    per_frame = {k: [1000 * s / args.every for s in v] for k, v in samples.items()}
    for k, v in per_frame.items():
        print(f"{k:8s} {statistics.median(v):7.2f} ms/frame (rounds: {', '.join(f'{x:.1f}' for x in v)})")
    ratios = [b / d for b, d in zip(per_frame["blind"], per_frame["default"])]
    print(
        f"blind / default per frame: median {statistics.median(ratios):.3f} (per round: "
        f"{', '.join(f'{r:.2f}' for r in ratios)}); encoder every {args.every} frames, input {h}x{w}"
    )


if __name__ == "__main__":
    main()
