"""RLFN: residual local feature network (winner of the NTIRE 2022 efficient SR runtime track).

Kong et al., "Residual Local Feature Network for Efficient Super-Resolution", CVPR 2022
workshops. Input and output are RGB in [0, 255], as in the challenge's test script.

Each block is three 3x3 conv + LeakyReLU layers with a residual over all three, a 1x1 conv,
and a light enhanced spatial attention (one 3x3 conv on the pooled map). Unlike RFDN the
blocks are chained without multi-block fusion.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from edgesr.models.common import (
    ESA,
    LRELU_SLOPE,
    PixelShuffleUpsampler,
    conv,
    count_blocks,
    expect,
    shape,
    upsampler_scale,
)

ARCH = "RLFN"


@dataclass
class Config:
    scale: int = 4
    channels: int = 46
    mid_channels: int = 48
    blocks: int = 4
    esa_channels: int = 16


VARIANTS: dict[str, Config] = {"rlfn": Config()}


class RLFB(nn.Module):
    """Residual local feature block."""

    def __init__(self, cfg: Config):
        super().__init__()
        self.c1_r = conv(cfg.channels, cfg.mid_channels, 3)
        self.c2_r = conv(cfg.mid_channels, cfg.mid_channels, 3)
        self.c3_r = conv(cfg.mid_channels, cfg.channels, 3)
        self.c5 = nn.Conv2d(cfg.channels, cfg.channels, 1)
        self.esa = ESA(cfg.channels, cfg.esa_channels, refine=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x
        for layer in (self.c1_r, self.c2_r, self.c3_r):
            y = F.leaky_relu(layer(y), LRELU_SLOPE)
        return self.esa(self.c5(y + x))


class Net(nn.Module):
    min_size = ESA.MIN_SIZE

    def __init__(self, cfg: Config):
        super().__init__()
        self.conv_1 = conv(3, cfg.channels, 3)
        # Blocks are attributes block_1..block_n so the state-dict keys match the published checkpoints.
        self.block_names = [f"block_{i}" for i in range(1, cfg.blocks + 1)]
        for name in self.block_names:
            self.add_module(name, RLFB(cfg))
        self.conv_2 = conv(cfg.channels, cfg.channels, 3)
        self.upsampler = PixelShuffleUpsampler(cfg.channels, cfg.scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feat = self.conv_1(x)
        y = feat
        for name in self.block_names:
            y = getattr(self, name)(y)
        return self.upsampler(self.conv_2(y) + feat)


def config_from_state_dict(sd: Mapping[str, torch.Tensor]) -> Config:
    nf = shape(sd, "conv_1.weight", ARCH)[0]
    expect(sd, "conv_1.weight", (nf, 3, 3, 3), ARCH)
    blocks = count_blocks(sd, "block_{}.", 1, ARCH)
    mid = shape(sd, "block_1.c1_r.weight", ARCH)[0]
    esa = shape(sd, "block_1.esa.conv1.weight", ARCH)[0]
    return Config(
        scale=upsampler_scale(sd, nf, ARCH),
        channels=nf,
        mid_channels=mid,
        blocks=blocks,
        esa_channels=esa,
    )
