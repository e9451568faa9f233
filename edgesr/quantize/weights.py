"""Weight quantization beyond round-to-nearest: adaptive rounding and bias correction.

Both use the statistics of each convolution's *input* on the calibration data, collected in
one pass (:func:`conv_input_stats`): the mean of the im2col columns and their second-moment
matrix ``H = E[x x^T]`` (per group; ``K = cin/groups * kh * kw`` is at most a few hundred).

- Adaptive rounding (:func:`gptq`): the per-channel scales stay ``max|w| / 127``; each weight
  is rounded in turn and the rounding error is pushed onto the not-yet-rounded weights of the
  same output channel through ``H^-1`` (Frantar et al., GPTQ / OBQ), which minimises the
  error of the layer's output ``E||(W_q - W) x||^2`` instead of each weight's own error.
- Bias correction (:func:`bias_correction`): the rounding error's mean effect on the output,
  ``(W_q - W) E[x]``, is subtracted from the bias (Nagel et al., data-free quantization).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgesr.lazy import require
from edgesr.onnx.graph_index import GraphIndex
from edgesr.quantize.observe import run_collect
from edgesr.quantize.qdq import QMAX, QuantWeight, quantize_weight

PIXELS_PER_SAMPLE = 1024  # im2col rows sampled per calibration input per layer


@dataclass
class ConvInputStats:
    groups: int
    kernel: tuple[int, ...]
    mean: np.ndarray  # [groups, K]
    second: np.ndarray  # [groups, K, K]
    count: int = 0


def _conv_attrs(node, w_shape) -> dict:
    helper = require("onnx").helper
    a = {x.name: helper.get_attribute_value(x) for x in node.attribute}
    k = list(w_shape[2:])
    return {
        "group": a.get("group", 1),
        "strides": a.get("strides", [1] * len(k)),
        "pads": a.get("pads", [0] * 2 * len(k)),
        "dilations": a.get("dilations", [1] * len(k)),
        "kernel": k,
    }


def im2col(x: np.ndarray, attrs: dict, rows: int | None, rng: np.random.Generator) -> np.ndarray:
    """``x`` (1 x C x H x W) -> sampled rows of [positions, C, kh, kw]."""
    kh, kw = attrs["kernel"]
    sh, sw = attrs["strides"]
    dh, dw = attrs["dilations"]
    top, left, bottom, right = attrs["pads"]
    xp = np.pad(x[0], ((0, 0), (top, bottom), (left, right)))
    c, hp, wp = xp.shape
    oh = (hp - (dh * (kh - 1) + 1)) // sh + 1
    ow = (wp - (dw * (kw - 1) + 1)) // sw + 1
    n = oh * ow
    pick = np.arange(n) if rows is None or rows >= n else rng.choice(n, size=rows, replace=False)
    oy, ox = pick // ow, pick % ow
    ky = np.arange(kh) * dh
    kx = np.arange(kw) * dw
    ys = (oy * sh)[:, None, None] + ky[None, :, None]
    xs = (ox * sw)[:, None, None] + kx[None, None, :]
    cols = xp[:, ys, xs]  # C x P x kh x kw
    return np.ascontiguousarray(cols.transpose(1, 0, 2, 3)).astype(np.float64)


def conv_input_stats(
    model, input_name: str, data: list[np.ndarray], convs: list[str], *, threads: int | None = None, seed: int = 0
) -> dict[str, ConvInputStats]:
    """Mean and second moment of each conv's im2col columns over ``data`` (float model)."""
    numpy_helper = require("onnx.numpy_helper")
    idx = GraphIndex.of(model)
    rng = np.random.default_rng(seed)
    specs = {}
    for name in convs:
        n = idx.node(name)
        w = numpy_helper.to_array(idx.inits[n.input[1]])
        a = _conv_attrs(n, w.shape)
        if len(a["kernel"]) != 2:
            continue
        g = a["group"]
        k = w.shape[1] * int(np.prod(a["kernel"]))
        specs[name] = (n.input[0], a, ConvInputStats(g, tuple(a["kernel"]), np.zeros((g, k)), np.zeros((g, k, k))))
    tensors = sorted({s[0] for s in specs.values()})

    def visit(values):
        for t, a, st in specs.values():
            cols = im2col(values[t], a, PIXELS_PER_SAMPLE, rng)  # P x C x kh x kw
            p = cols.shape[0]
            cg = cols.shape[1] // st.groups
            for gi in range(st.groups):
                m = cols[:, gi * cg : (gi + 1) * cg].reshape(p, -1)
                st.mean[gi] += m.sum(axis=0)
                st.second[gi] += m.T @ m
            st.count += p

    run_collect(
        model,
        input_name,
        data,
        tensors,
        visit,
        threads=threads,
        progress="convolution input statistics",
        total=len(data),
    )
    out = {}
    for name, (_, _, st) in specs.items():
        if st.count:
            st.mean /= st.count
            st.second /= st.count
            out[name] = st
    return out


def gptq(w: np.ndarray, st: ConvInputStats, *, damp: float = 0.01, block: int = 128) -> QuantWeight:
    """Adaptive rounding of conv weight ``w`` [cout, cin/g, kh, kw] with input statistics ``st``."""
    cout = w.shape[0]
    g = st.groups
    rows_per_group = cout // g
    base = quantize_weight(w)  # scales: max|w| per output channel
    scale = base.scale.astype(np.float64)
    q_all = np.empty(w.shape, np.int8)
    for gi in range(g):
        rows = slice(gi * rows_per_group, (gi + 1) * rows_per_group)
        W = w[rows].reshape(rows_per_group, -1).astype(np.float64).copy()
        s = scale[rows][:, None]
        H = st.second[gi].copy()
        k = H.shape[0]
        dead = np.diag(H) <= 0
        H[dead, dead] = 1.0
        W[:, dead] = 0.0
        H += np.eye(k) * damp * max(np.mean(np.diag(H)), 1e-12)
        try:
            L = np.linalg.cholesky(np.linalg.inv(H))
            Hinv = L.T  # upper Cholesky factor of H^-1
        except np.linalg.LinAlgError:
            q_all[rows] = base.q[rows]
            continue
        Q = np.zeros_like(W)
        for b0 in range(0, k, block):
            b1 = min(b0 + block, k)
            W1 = W[:, b0:b1].copy()
            Err = np.zeros_like(W1)
            Hb = Hinv[b0:b1, b0:b1]
            for j in range(b1 - b0):
                col = W1[:, j]
                q = np.clip(np.round(col / s[:, 0]), -QMAX, QMAX)
                Q[:, b0 + j] = q
                e = (col - q * s[:, 0]) / Hb[j, j]
                W1[:, j:] -= np.outer(e, Hb[j, j:])
                Err[:, j] = e
            W[:, b1:] -= Err @ Hinv[b0:b1, b1:]
        q_all[rows] = Q.reshape(w[rows].shape).astype(np.int8)
    return QuantWeight(q=q_all, scale=base.scale)


def bias_correction(w: np.ndarray, qw: QuantWeight, st: ConvInputStats) -> np.ndarray:
    """The float bias change that cancels the mean output shift ``(W_q - W) E[x]``."""
    cout = w.shape[0]
    rows_per_group = cout // st.groups
    deq = qw.q.astype(np.float64) * qw.scale.reshape(-1, *[1] * (w.ndim - 1)).astype(np.float64)
    err = (deq - w.astype(np.float64)).reshape(cout, -1)
    delta = np.empty(cout)
    for gi in range(st.groups):
        rows = slice(gi * rows_per_group, (gi + 1) * rows_per_group)
        delta[rows] = err[rows] @ st.mean[gi]
    return (-delta).astype(np.float32)


def output_error(w: np.ndarray, qw: QuantWeight, st: ConvInputStats) -> float:
    """``E||(W_q - W) x||^2`` per output element: what adaptive rounding minimises."""
    cout = w.shape[0]
    rows_per_group = cout // st.groups
    deq = qw.q.astype(np.float64) * qw.scale.reshape(-1, *[1] * (w.ndim - 1)).astype(np.float64)
    err = (deq - w.astype(np.float64)).reshape(cout, -1)
    total = 0.0
    for gi in range(st.groups):
        e = err[gi * rows_per_group : (gi + 1) * rows_per_group]
        total += float(np.einsum("ij,jk,ik->", e, st.second[gi], e))
    return total / cout
