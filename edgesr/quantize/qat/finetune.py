"""A short quantization-aware fine-tune, by distillation from the float model (needs torch).

The ONNX graph itself is run in PyTorch (:mod:`edgesr.quantize.qat.torchgraph`), so no training
code or checkpoint of the architecture is needed: the ONNX weights are the starting point.
Fake quantization sits exactly where the Q/DQ model quantizes (the same units, the same
per-consumer pairs, shared scales for data-movement units), with straight-through rounding:

- activations: symmetric INT8, ``amax`` learnable (LSQ-style), started from calibration;
- weights of INT8 convolutions: per-output-channel symmetric INT8 with ``max|w|`` scales,
  exactly what :func:`edgesr.quantize.qdq.quantize_weight` stores afterwards.

The loss is the mean squared difference between the fake-quantized model's output and the
float model's output on the calibration patches (flipped and rotated), so no HR images are
needed and the fine-tune pulls the INT8 model towards the float one, not towards new data.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import numpy as np

from edgesr.lazy import require
from edgesr.log import logger
from edgesr.onnx.graph_index import GraphIndex
from edgesr.quantize import placement
from edgesr.quantize.qdq import QMAX, QdqPlan


@dataclass
class FinetuneOptions:
    steps: int = 300
    batch: int = 8
    lr: float = 5e-5  # weights and biases (Adam)
    lr_range: float = 2e-3  # log-amax of the activation quantizers (Adam)
    patch: int = 32  # random crops of this side (LR px) from the calibration inputs: cheap steps
    seed: int = 0
    threads: int | None = None


@dataclass
class FinetuneResult:
    model: object  # float ONNX with the fine-tuned convolution weights
    amax: dict[str, float]
    losses: list[float] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> dict:
        first = float(np.mean(self.losses[:10])) if self.losses else None
        last = float(np.mean(self.losses[-10:])) if self.losses else None
        return {"steps": len(self.losses), "first_loss": first, "last_loss": last, "seconds": round(self.seconds, 1)}


def hooks(idx: GraphIndex, plan: QdqPlan) -> tuple[set[str], dict[str, set[str]], dict[str, str]]:
    """The fake-quant points of ``plan`` as :func:`edgesr.quantize.qdq.build` places them:
    (tensors quantized for every reader, tensor -> INT8 readers of a float tensor, tensor -> scale key)."""
    act, edges, key = set(), {}, {}
    out_quantized = {n.name for n in idx.nodes if n.name in plan.int8 and n.name not in plan.float_outputs}
    for n in idx.nodes:
        if n.name not in plan.int8:
            continue
        for t in idx.activation_inputs(n):
            p = idx.producer.get(t)
            if p is None or p.name not in out_quantized:
                edges.setdefault(t, set()).add(n.name)
                key.setdefault(t, t)
        if n.name in out_quantized:
            for o in n.output:
                if o:
                    act.add(o)
                    key[o] = key.get(n.input[0], n.input[0]) if placement.is_pass(n.op_type) else o
    for t, relu in placement.absorbed(idx, out_quantized).items():  # the pair follows the ReLU
        act.discard(t)
        r = idx.node(relu).output[0]
        act.add(r)
        key[r] = r
    return act, edges, key


def finetune(
    model, plan: QdqPlan, patches: list[np.ndarray], options: FinetuneOptions | None = None, *, value_range: float = 1.0
) -> FinetuneResult:
    """Fine-tune ``model`` (float ONNX) under ``plan``'s quantization on ``patches`` (1xCxHxW each)."""
    import time

    torch = require("torch")
    from edgesr.quantize.qat.torchgraph import build_module

    opts = options or FinetuneOptions()
    start = time.perf_counter()
    torch.manual_seed(opts.seed)
    threads = opts.threads or max(1, min(os.cpu_count() or 1, 8))
    torch.set_num_threads(threads)
    idx = GraphIndex.of(model)
    act, edges, key = hooks(idx, plan)
    student = build_module(model)
    teacher = build_module(model, trainable_convs=False).eval()
    student.act_hooks = act
    student.edge_hooks = edges
    student.weight_hooks = {n for n in plan.int8 if idx.node(n).op_type in placement.WEIGHTED}
    keys = sorted(set(key.values()))
    log_amax = torch.nn.Parameter(torch.tensor([math.log(max(plan.amax[k], 1e-8)) for k in keys], dtype=torch.float32))
    slot = {k: i for i, k in enumerate(keys)}

    def fake_quant(x, amax):
        s = amax / QMAX
        xc = torch.clamp(x / s, -QMAX, QMAX)
        return (xc + (torch.round(xc) - xc).detach()) * s

    student.quantizer = lambda name, x: fake_quant(x, torch.exp(log_amax[slot[key[name]]]))

    def weight_quant(name, w):
        peak = w.detach().abs().reshape(w.shape[0], -1).amax(dim=1).clamp_min(1e-12)
        s = (peak / QMAX).reshape(-1, *[1] * (w.dim() - 1))
        wc = torch.clamp(w / s, -QMAX, QMAX)
        return (wc + (torch.round(wc) - wc).detach()) * s

    student.weight_quantizer = weight_quant
    optim = torch.optim.Adam(
        [{"params": list(student.params.values()), "lr": opts.lr}, {"params": [log_amax], "lr": opts.lr_range}]
    )
    sched = torch.optim.lr_scheduler.LambdaLR(optim, lambda k: 0.5 * (1 + math.cos(math.pi * k / max(1, opts.steps))))
    data = torch.from_numpy(np.concatenate(patches).astype(np.float32))
    rng = np.random.default_rng(opts.seed)
    tqdm = require("tqdm").tqdm
    losses = []
    norm = float(value_range) ** 2
    for _ in tqdm(range(opts.steps), desc="quantization-aware fine-tune", unit="step", leave=False, disable=None):
        pick = rng.choice(len(data), size=min(opts.batch, len(data)), replace=False)
        x = data[pick]
        h, w = x.shape[2:]
        if opts.patch and opts.patch < min(h, w):
            y0, x0 = int(rng.integers(0, h - opts.patch + 1)), int(rng.integers(0, w - opts.patch + 1))
            x = x[:, :, y0 : y0 + opts.patch, x0 : x0 + opts.patch]
        k = int(rng.integers(0, 8))
        x = torch.rot90(x, k % 4, dims=(2, 3))
        if k >= 4:
            x = torch.flip(x, dims=(3,))
        with torch.no_grad():
            target = teacher(x)
        loss = torch.mean((student(x) - target) ** 2) / norm
        optim.zero_grad()
        loss.backward()
        optim.step()
        sched.step()
        losses.append(float(loss.item()))
    logger.debug("fine-tune loss %.3g -> %.3g", np.mean(losses[:10]), np.mean(losses[-10:]))
    tuned = _with_weights(model, student.weights())
    amax = dict(plan.amax)
    learned = torch.exp(log_amax).detach().numpy()
    for t, k in key.items():
        amax[t] = float(learned[slot[k]])
    return FinetuneResult(tuned, amax, losses, time.perf_counter() - start)


def _with_weights(model, weights: dict[str, np.ndarray]):
    onnx = require("onnx")
    from onnx import numpy_helper

    out = onnx.ModelProto()
    out.CopyFrom(model)
    for t in out.graph.initializer:
        if t.name in weights:
            t.CopyFrom(numpy_helper.from_array(weights[t.name].astype(np.float32), t.name))
    return out
