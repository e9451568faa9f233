"""edgesr's EMA against torch's ``AveragedModel`` doing the same ramped average: same weights? cost per step?

    python benchmarks/ema_update.py [--arch rfdn] [--updates 200] [--device auto] [--batch 16] [--patch 48]
                                    [--iterations 20] [--rounds 5] [--data FOLDER] [--degrade SPEC]

First the weights: ``AveragedModel`` with a ``multi_avg_fn`` taking the ramped decay
``min(decay, (1 + step) / (10 + step))`` (``get_ema_multi_avg_fn``), after one update spent at
construction (its first update copies instead of averaging), is compared with edgesr's EMA over
``--updates`` random steps on the CPU; both updates are timed there.
Then the training step: ``--iterations`` iterations of edgesr's loop (sample a batch, upload it,
L1, backward, Adam, EMA update) with each EMA, interleaved, on ``--device``. On a GPU this is
where they can differ: ``AveragedModel.update_parameters`` moves its CPU update counter to the
device at every update, a blocking copy that waits for the GPU, so the next batch is no longer
sampled while the GPU finishes the step. Training data: ``--data`` (default: the sample photos
edgesr ships), the benchmark LR, or a ``--degrade`` mix or spec.
"""

from __future__ import annotations

import argparse
import statistics
import time
from importlib import resources

import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from edgesr import models
from edgesr.timing import interleaved, repeated
from edgesr.train.data import PatchSampler, load_training_set
from edgesr.train.ema import EMA
from edgesr.train.net import resolve_device

DECAY = 0.999


class AveragedEMA:
    """edgesr's EMA interface over ``AveragedModel``: the ramp follows the step passed in."""

    def __init__(self, model, decay: float, prime: bool = True):
        self.decay, self.now = decay, decay
        self.averaged = AveragedModel(model, multi_avg_fn=lambda a, c, n: get_ema_multi_avg_fn(self.now)(a, c, n))
        if prime:
            self.averaged.update_parameters(model)  # the copying first update, spent on an identical copy
        self.module = self.averaged.module.eval().requires_grad_(False)

    def update(self, model, step: int) -> None:
        self.now = min(self.decay, (1 + step) / (10 + step))
        self.averaged.update_parameters(model)


def same_weights(arch: str, updates: int) -> None:
    torch.manual_seed(0)
    net = models.create(arch, scale=4).train()
    ours, theirs, unprimed = EMA(net, DECAY), AveragedEMA(net, DECAY), AveragedEMA(net, DECAY, prime=False)
    spent = {"edgesr EMA": 0.0, "AveragedModel": 0.0}
    gen = torch.Generator().manual_seed(1)
    for step in range(updates):
        with torch.no_grad():  # an optimiser step's worth of change
            for p in net.parameters():
                p.add_(torch.randn(p.shape, generator=gen) * 1e-3)
        for name, ema in (("edgesr EMA", ours), ("AveragedModel", theirs)):
            start = time.perf_counter()
            ema.update(net, step)
            spent[name] += time.perf_counter() - start
        unprimed.update(net, step)

    def diff(other):
        return max(
            (a - b).abs().max().item()
            for a, b in zip(ours.module.state_dict().values(), other.module.state_dict().values())
        )

    print(
        f"{arch}, {updates} updates on the CPU: max |edgesr EMA - AveragedModel| = {diff(theirs):g} "
        f"({diff(unprimed):g} when AveragedModel's first update is a copy)"
    )
    for name, seconds in spent.items():
        print(f"  {name:14} {1e6 * seconds / updates:7.0f} us per update")


def make_sampler(args):
    """edgesr train's sampler for ``--batch`` LR patches of ``--patch`` px, and the time one batch takes."""
    folders = [args.data] if args.data else [str(resources.files("edgesr") / "data" / "samples")]
    data = load_training_set(folders, 4, None)
    if args.degrade:
        from edgesr.train.degraded import DegradedPatchSampler

        need = DegradedPatchSampler.need(args.patch, args.degrade, 4)
        fits = [i for i, p in enumerate(data.pairs) if min(p.lr.shape[:2]) >= need]
        sampler = DegradedPatchSampler(data, fits, args.patch, args.batch, 0, 0, args.degrade)
    else:
        fits = [i for i, p in enumerate(data.pairs) if min(p.lr.shape[:2]) >= args.patch]
        sampler = PatchSampler(data, fits, args.patch, args.batch, 0, 0)
    samples, _ = repeated(lambda: sampler(0), 10)
    print(
        f"sampling a batch ({args.batch} LR {args.patch} px patches, {args.degrade or 'benchmark LR'}): "
        f"{1e3 * statistics.median(samples):.1f} ms on the CPU, the work that overlaps the GPU's step"
    )
    return sampler


def training_step(args, sampler, device) -> None:
    runs = {}
    for name, kind in (("edgesr EMA", EMA), ("AveragedModel", AveragedEMA)):
        torch.manual_seed(0)
        net = models.create(args.arch, scale=4).to(device).train()
        runs[name] = _loop(net, kind(net, DECAY), sampler, device, args.iterations)
    samples = interleaved(runs, rounds=args.rounds, warmup=1)
    per_step = {name: 1e3 * statistics.median(s) / args.iterations for name, s in samples.items()}
    print(f"training step on {device} ({args.arch}): median of {args.rounds} rounds")
    for name, ms in per_step.items():
        print(f"  {name:14} {ms:8.2f} ms per step  ({ms / per_step['edgesr EMA']:.2f}x edgesr EMA)")


def _loop(net, ema, sampler, device, iterations):
    opt = torch.optim.Adam(net.parameters(), lr=1e-4, betas=(0.9, 0.99))
    step = [0]

    def run():
        for _ in range(iterations):
            lr, hr = sampler(step[0])
            x = torch.from_numpy(lr).to(device).float().div_(255.0)
            y = torch.from_numpy(hr).to(device).float().div_(255.0)
            loss = (net(x) - y).abs().mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            ema.update(net, step[0])
            step[0] += 1
        if device.type == "cuda":
            torch.cuda.synchronize()

    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", default="rfdn")
    ap.add_argument("--updates", type=int, default=200, help="EMA updates compared on the CPU")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--patch", type=int, default=48, help="LR patch side")
    ap.add_argument("--iterations", type=int, default=20, help="training iterations per timed call; 0: skip")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--data", help="folder of training images (default: edgesr's sample photos)")
    ap.add_argument("--degrade", help="degradation mix or spec for the LR, as edgesr train --degrade")
    args = ap.parse_args()
    same_weights(args.arch, args.updates)
    sampler = make_sampler(args)
    if args.iterations:
        training_step(args, sampler, resolve_device(args.device))


if __name__ == "__main__":
    main()
