"""Degrade a batch of HR patches in torch, each with its own :class:`Degradation`.

The same steps as :func:`edgesr.degrade.apply.degrade`, batched: one grouped convolution blurs
every patch with its own kernel, downsampling runs once per method in use (MATLAB's bicubic as
its exact fixed filter at integer scales), noise is drawn for the whole batch, and only JPEG and
H.264 go patch by patch through their codecs (small LR patches: a fraction of a millisecond
each). Borders are reflected; callers crop a margin off the result so that no border effect
reaches a training pair (:class:`edgesr.train.data.DegradedPatchSampler`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from edgesr.degrade.apply import h264, jpeg
from edgesr.degrade.kernels import kernel_size, make_kernel
from edgesr.degrade.spec import Degradation
from edgesr.lazy import require
from edgesr.quality.imresize import contributions

torch = require("torch")
F = require("torch.nn.functional")


@functools.lru_cache(maxsize=8)
def bicubic_taps(scale: int) -> tuple[np.ndarray, int]:
    """MATLAB's antialiased bicubic shrink by an integer ``scale`` as one 1-D filter: (taps, offset).

    Away from the borders every output pixel ``j`` is ``sum_t taps[t] * x[j * scale + offset + t]``.
    """
    n = 64 * scale
    weights, indices = contributions(n, n // scale, 1.0 / scale)
    j = (n // scale) // 2
    keep = weights[j] != 0
    taps, idx = weights[j][keep], indices[j][keep]
    if not np.array_equal(idx, np.arange(idx[0], idx[0] + len(idx))):
        raise AssertionError("MATLAB bicubic taps are not contiguous in the interior")
    return taps.astype(np.float32), int(idx[0] - j * scale)


def down_taps(scale: int, method: str) -> tuple[np.ndarray, int]:
    """Each downsampling method at an integer scale as one 1-D filter read at stride ``scale``: (taps, offset)."""
    if method == "bicubic":
        return bicubic_taps(scale)
    if method == "area":
        return np.full(scale, 1.0 / scale, np.float32), 0
    if method == "decimate":
        return np.ones(1, np.float32), 0
    centre = (scale - 1) / 2  # bilinear without antialiasing samples each output pixel's centre
    first = int(centre)
    frac = centre - first
    return np.array([1 - frac, frac], np.float32), first


def margin(degradations: Sequence[Degradation], scale: int) -> int:
    """LR pixels at each border that the blur and the shrink filter can reach: crop them off."""
    blur = max((kernel_size(d.blur) // 2 for d in degradations if d.blur is not None), default=0)
    taps, offset = bicubic_taps(scale)
    reach = blur + max(-offset, len(taps) + offset)
    return -(-reach // scale) + 1


def degrade_batch(hr, degradations: Sequence[Degradation], scale: int, generator) -> np.ndarray:
    """``hr`` (B x 3 x H x W float tensor, 0-255) to the degraded LR, B x 3 x H/s x W/s uint8 numpy."""
    if hr.shape[0] != len(degradations):
        raise ValueError(f"{hr.shape[0]} patches but {len(degradations)} degradations")
    x = _blur_and_shrink(hr, degradations, scale)
    x = _noise(x, degradations, generator)
    out = x.round_().clamp_(0, 255).to(torch.uint8).numpy()
    for i, d in enumerate(degradations):
        if d.jpeg is None and d.h264 is None:
            continue
        rgb = np.ascontiguousarray(out[i].transpose(1, 2, 0))
        if d.jpeg is not None:
            rgb = jpeg(rgb, d.jpeg)
        if d.h264 is not None:
            rgb = h264(rgb, d.h264)
        out[i] = rgb.transpose(2, 0, 1)
    return out


def composite_kernel(d: Degradation, scale: int) -> tuple[np.ndarray, int]:
    """Blur then shrink as one kernel read at stride ``scale``: (kernel, offset of its first tap).

    Both steps are linear and shift-invariant at integer scales, so their composition is one
    strided convolution: far cheaper than blurring every HR pixel and shrinking after. Without
    a blur, or with an isotropic Gaussian, the kernel is separable and comes back 1-D.
    """
    taps, offset = down_taps(scale, d.down)
    if d.blur is None:
        return taps.astype(np.float64), offset
    blur = make_kernel(d.blur)
    half = blur.shape[0] // 2
    if d.blur.kind == "iso":
        row = blur[half] / blur[half].sum()  # a Gaussian is the outer product of its middle row, normalised
        return np.convolve(taps, row), offset - half
    k = np.outer(taps, taps)
    full = np.zeros((k.shape[0] + blur.shape[0] - 1,) * 2)
    for i in range(k.shape[0]):  # full 2-D convolution of two small kernels
        for j in range(k.shape[1]):
            full[i : i + blur.shape[0], j : j + blur.shape[1]] += k[i, j] * blur
    return full, offset - half


def _blur_and_shrink(hr, degradations: Sequence[Degradation], scale: int):
    kernels = [composite_kernel(d, scale) for d in degradations]
    first = min(off for _, off in kernels)
    size = max(off + k.shape[0] for k, off in kernels) - first
    b, c, height, width = hr.shape
    h, w = height // scale, width // scale
    left = -first
    right = max(0, (h - 1) * scale + first + size - height)
    padded = F.pad(hr, (left, right, left, right), mode="reflect")
    out = torch.empty(b, c, h, w)
    for separable in (True, False):
        rows = [i for i, (k, _) in enumerate(kernels) if (k.ndim == 1) == separable]
        if not rows:
            continue
        shape = (len(rows), size) if separable else (len(rows), size, size)
        stack = np.zeros(shape, np.float32)
        for n, i in enumerate(rows):
            k, off = kernels[i]
            at = slice(off - first, off - first + k.shape[0])
            stack[(n, at) if separable else (n, at, at)] = k
        weight = torch.from_numpy(stack).repeat_interleave(c, dim=0).unsqueeze(1)
        x = padded[rows].reshape(1, len(rows) * c, *padded.shape[2:])
        if separable:
            x = F.conv2d(x, weight.unsqueeze(3), stride=(scale, 1), groups=len(rows) * c)
            x = F.conv2d(x, weight.unsqueeze(2), stride=(1, scale), groups=len(rows) * c)
        else:
            x = F.conv2d(x, weight, stride=scale, groups=len(rows) * c)
        out[rows] = x[:, :, :h, :w].reshape(len(rows), c, h, w)
    return out


def _noise(x, degradations: Sequence[Degradation], generator):
    shot = [i for i, d in enumerate(degradations) if d.shot]
    if shot:
        gain = torch.tensor([degradations[i].shot ** 2 / 128.0 for i in shot]).view(-1, 1, 1, 1)
        x[shot] = torch.poisson(x[shot].clamp(min=0) / gain, generator=generator) * gain
    for kind, channels in (("color", x.shape[1]), ("grey", 1)):
        rows = [i for i, d in enumerate(degradations) if d.noise and d.noise_kind == kind]
        if rows:
            sigma = torch.tensor([degradations[i].noise for i in rows]).view(-1, 1, 1, 1)
            x[rows] += torch.randn((len(rows), channels, *x.shape[2:]), generator=generator) * sigma
    return x
