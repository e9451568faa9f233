"""RFDN: residual feature distillation network (winner of the AIM 2020 efficient SR challenge).

Liu, Tang and Wu, "Residual Feature Distillation Network for Lightweight Image
Super-Resolution", ECCV 2020 workshops. Input and output are RGB in [0, 255], as in the
authors' test script.

Each block distils features three times: a 1x1 conv keeps ``channels // 2`` features while a
3x3 conv with a shallow residual refines the full width for the next step; the kept features
and a last 3x3 output are concatenated, fused by a 1x1 conv and gated by enhanced spatial
attention. The outputs of all blocks are fused again before the pixel-shuffle upsampler.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from edgesr.models.common import ESA, LRELU_SLOPE, DistillationNet, conv, count_blocks, expect, shape, upsampler_scale

ARCH = "RFDN"


@dataclass
class Config:
    scale: int = 4
    channels: int = 50
    blocks: int = 4
    esa_channels: int = 12  # channels // 4 upstream


VARIANTS: dict[str, Config] = {"rfdn": Config()}


class RFDB(nn.Module):
    """Residual feature distillation block."""

    def __init__(self, channels: int, esa_channels: int):
        super().__init__()
        kept = channels // 2
        self.c1_d = nn.Conv2d(channels, kept, 1)
        self.c1_r = conv(channels, channels, 3)
        self.c2_d = nn.Conv2d(channels, kept, 1)
        self.c2_r = conv(channels, channels, 3)
        self.c3_d = nn.Conv2d(channels, kept, 1)
        self.c3_r = conv(channels, channels, 3)
        self.c4 = conv(channels, kept, 3)
        self.c5 = nn.Conv2d(kept * 4, channels, 1)
        self.esa = ESA(channels, esa_channels, refine=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        kept = []
        for distil, refine in ((self.c1_d, self.c1_r), (self.c2_d, self.c2_r), (self.c3_d, self.c3_r)):
            kept.append(F.leaky_relu(distil(x), LRELU_SLOPE))
            x = F.leaky_relu(refine(x) + x, LRELU_SLOPE)
        kept.append(F.leaky_relu(self.c4(x), LRELU_SLOPE))
        return self.esa(self.c5(torch.cat(kept, dim=1)))


class Net(DistillationNet):
    min_size = ESA.MIN_SIZE

    def __init__(self, cfg: Config):
        super().__init__(cfg.channels, cfg.blocks, cfg.scale, "B", lambda: RFDB(cfg.channels, cfg.esa_channels))


def config_from_state_dict(sd: Mapping[str, torch.Tensor]) -> Config:
    nf = shape(sd, "fea_conv.weight", ARCH)[0]
    expect(sd, "fea_conv.weight", (nf, 3, 3, 3), ARCH)
    blocks = count_blocks(sd, "B{}.", 1, ARCH)
    esa = shape(sd, "B1.esa.conv1.weight", ARCH)[0]
    expect(sd, "c.0.weight", (nf, nf * blocks, 1, 1), ARCH)
    return Config(scale=upsampler_scale(sd, nf, ARCH), channels=nf, blocks=blocks, esa_channels=esa)
