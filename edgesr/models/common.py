"""Layers and state-dict readers shared by the architecture modules.

The readers turn a checkpoint's tensor shapes into hyper-parameters and raise
:class:`ModelError` naming the first key or shape that does not fit, so a wrong checkpoint is
refused before any weights are copied.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from math import isqrt

import torch
import torch.nn.functional as F
from torch import nn

from edgesr.errors import ModelError

# The LeakyReLU slope of the distillation family (IMDN, RFDN, RLFN).
LRELU_SLOPE = 0.05


def conv(cin: int, cout: int, kernel: int, *, stride: int = 1, bias: bool = True, groups: int = 1) -> nn.Conv2d:
    """A square convolution zero-padded so that, at stride 1, it keeps the feature map's size."""
    return nn.Conv2d(cin, cout, kernel, stride, padding=kernel // 2, bias=bias, groups=groups)


class PixelShuffleUpsampler(nn.Sequential):
    """3x3 convolution to ``3 * scale**2`` channels, then pixel shuffle (keys ``0.weight``, ``0.bias``)."""

    def __init__(self, channels: int, scale: int, colors: int = 3):
        super().__init__(conv(channels, colors * scale * scale, 3), nn.PixelShuffle(scale))


class ESA(nn.Module):
    """Enhanced spatial attention (RFANet), as used by RFDN and RLFN.

    A 1x1 squeeze, a strided 3x3 conv and a 7x7/3 max-pool give a small, wide-context map that
    is bilinearly resized back and turned into a sigmoid gate on the block's output. RFDN
    refines the pooled map with three more 3x3 convs (``refine``); RLFN keeps one.
    The strided conv and the pool need inputs of at least :data:`MIN_SIZE` pixels a side.
    """

    MIN_SIZE = 15

    def __init__(self, channels: int, esa_channels: int, *, refine: bool):
        super().__init__()
        f = esa_channels
        self.refine = refine
        self.conv1 = nn.Conv2d(channels, f, 1)
        self.conv_f = nn.Conv2d(f, f, 1)
        if refine:
            self.conv_max = conv(f, f, 3)
        self.conv2 = nn.Conv2d(f, f, 3, stride=2)
        self.conv3 = conv(f, f, 3)
        if refine:
            self.conv3_ = conv(f, f, 3)
        self.conv4 = nn.Conv2d(f, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        squeezed = self.conv1(x)
        pooled = F.max_pool2d(self.conv2(squeezed), kernel_size=7, stride=3)
        if self.refine:
            pooled = F.relu(self.conv_max(pooled))
            context = self.conv3_(F.relu(self.conv3(pooled)))
        else:
            context = self.conv3(pooled)
        context = F.interpolate(context, size=x.shape[-2:], mode="bilinear", align_corners=False)
        return x * torch.sigmoid(self.conv4(context + self.conv_f(squeezed)))


class DistillationNet(nn.Module):
    """The body IMDN and RFDN share: a 3x3 feature conv, ``blocks`` blocks in sequence whose outputs
    are all concatenated, a 1x1 fusion (``c``), a 3x3 conv (``LR_conv``), the global residual and the
    upsampler. Blocks are attributes ``{prefix}1..{prefix}n`` so the state-dict keys match the
    published checkpoints; ``block`` makes one."""

    def __init__(self, channels: int, blocks: int, scale: int, prefix: str, block: Callable[[], nn.Module]):
        super().__init__()
        nf = channels
        self.fea_conv = conv(3, nf, 3)
        self.block_names = [f"{prefix}{i}" for i in range(1, blocks + 1)]
        for name in self.block_names:
            self.add_module(name, block())
        self.c = nn.Sequential(nn.Conv2d(nf * blocks, nf, 1), nn.LeakyReLU(LRELU_SLOPE))
        self.LR_conv = conv(nf, nf, 3)
        self.upsampler = PixelShuffleUpsampler(nf, scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feat = self.fea_conv(x)
        outs, y = [], feat
        for name in self.block_names:
            y = getattr(self, name)(y)
            outs.append(y)
        return self.upsampler(self.LR_conv(self.c(torch.cat(outs, dim=1))) + feat)


def distil(
    x: torch.Tensor, steps: nn.ModuleList, last: nn.Module, act: nn.Module, split: tuple[int, int]
) -> torch.Tensor:
    """The split-and-keep loop of AIDN's and EPFDN's blocks: each step's output keeps ``split[0]``
    channels and hands the rest on, ``last`` distils what remains; the kept parts, concatenated."""
    kept = []
    h = x
    for step in steps:
        k, h = torch.split(act(step(h)), split, dim=1)
        kept.append(k)
    kept.append(act(last(h)))
    return torch.cat(kept, dim=1)


def split_problems(scale: int, channels: int, distilled: int) -> list[str]:
    """What is wrong with the scale and the kept/passed-on split of an AIDN or EPFDN config."""
    problems = []
    if scale < 1:
        problems.append(f"scale must be a positive integer, not {scale}")
    if not 0 < distilled < channels:
        problems.append(f"distilled ({distilled}) must lie between 0 and channels ({channels})")
    return problems


# -- reading hyper-parameters from a state dict ---------------------------------------------


def shape(sd: Mapping[str, torch.Tensor], key: str, arch: str) -> tuple[int, ...]:
    """The shape of ``sd[key]``; a missing key means the checkpoint is not ``arch``."""
    tensor = sd.get(key)
    if tensor is None:
        raise ModelError(f"not a checkpoint of {arch}: it has no '{key}' tensor")
    return tuple(tensor.shape)


def expect(sd: Mapping[str, torch.Tensor], key: str, want: tuple[int, ...], arch: str) -> None:
    """Refuse the checkpoint unless ``sd[key]`` has shape ``want``."""
    got = shape(sd, key, arch)
    if got != want:
        raise ModelError(f"{arch} checkpoint: '{key}' has shape {list(got)}, expected {list(want)}")


def indices(sd: Mapping[str, torch.Tensor], pattern: str) -> list[int]:
    """The sorted integers ``i`` for which some key starts with ``pattern.format(i)``.

    ``pattern`` holds one ``{}``, e.g. ``"B{}."`` or ``"feats.{}."``.
    """
    head, tail = pattern.split("{}")
    rx = re.compile(re.escape(head) + r"(\d+)" + re.escape(tail))
    return sorted({int(m.group(1)) for k in sd if (m := rx.match(k))})


def count_blocks(sd: Mapping[str, torch.Tensor], pattern: str, first: int, arch: str) -> int:
    """How many numbered blocks ``pattern`` names, requiring them to run ``first, first+1, ...``."""
    found = indices(sd, pattern)
    if not found:
        raise ModelError(f"not a checkpoint of {arch}: no '{pattern.format('N')}*' tensors")
    if found != list(range(first, first + len(found))):
        raise ModelError(
            f"{arch} checkpoint: blocks {pattern.format('N')} are numbered {found}, "
            f"expected {first}..{first + len(found) - 1} without gaps"
        )
    return len(found)


def scale_from_channels(channels: int, key: str, arch: str, colors: int = 3) -> int:
    """The upscale factor ``s`` of a pixel-shuffle conv with ``colors * s**2`` output channels."""
    s = isqrt(channels // colors)
    if s < 1 or colors * s * s != channels:
        raise ModelError(
            f"{arch} checkpoint: '{key}' has {channels} output channels, "
            f"which is not {colors} x s^2 for an integer scale s"
        )
    return s


def upsampler_scale(sd: Mapping[str, torch.Tensor], channels: int, arch: str) -> int:
    """The scale of the :class:`PixelShuffleUpsampler` at ``upsampler`` after ``channels`` features."""
    out = shape(sd, "upsampler.0.weight", arch)[0]
    expect(sd, "upsampler.0.weight", (out, channels, 3, 3), arch)
    return scale_from_channels(out, "upsampler.0.weight", arch)


def check_state_dict(net: nn.Module, sd: Mapping[str, torch.Tensor], arch: str, config: object) -> None:
    """Refuse ``sd`` unless it has every key of ``net``, no other, each with its shape.

    ``net`` may live on the ``meta`` device: only shapes are compared.
    """
    expected = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in sd.items()}
    problems = [f"missing '{k}'" for k in sorted(expected.keys() - got.keys())]
    problems += [f"unexpected '{k}'" for k in sorted(got.keys() - expected.keys())]
    problems += [
        f"'{k}' has shape {list(got[k])}, expected {list(expected[k])}"
        for k in sorted(expected.keys() & got.keys())
        if got[k] != expected[k]
    ]
    if problems:
        more = f" and {len(problems) - 3} more" if len(problems) > 3 else ""
        raise ModelError(f"{arch} checkpoint does not fit {config}: {'; '.join(problems[:3])}{more}")
