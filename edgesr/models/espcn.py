"""ESPCN: efficient sub-pixel convolutional network, RGB variant.

Shi et al., "Real-Time Single Image and Video Super-Resolution Using an Efficient Sub-Pixel
Convolutional Neural Network", CVPR 2016. The paper works on luma; this variant takes and
returns RGB in [0, 1]. Layout as the paper: 5x5 (64) and 3x3 (32) convs with tanh, then a 3x3
conv to ``3 * scale**2`` channels and a pixel shuffle.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import nn

from edgesr.models.common import conv, expect, scale_from_channels, shape

ARCH = "ESPCN"


@dataclass
class Config:
    scale: int = 4
    channels: int = 64
    mid_channels: int = 32


VARIANTS: dict[str, Config] = {"espcn": Config()}


class Net(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.first_part = nn.Sequential(
            conv(3, cfg.channels, 5), nn.Tanh(), conv(cfg.channels, cfg.mid_channels, 3), nn.Tanh()
        )
        self.last_part = nn.Sequential(conv(cfg.mid_channels, 3 * cfg.scale**2, 3), nn.PixelShuffle(cfg.scale))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.last_part(self.first_part(x))


def config_from_state_dict(sd: Mapping[str, torch.Tensor]) -> Config:
    nf = shape(sd, "first_part.0.weight", ARCH)[0]
    expect(sd, "first_part.0.weight", (nf, 3, 5, 5), ARCH)
    mid = shape(sd, "first_part.2.weight", ARCH)[0]
    expect(sd, "first_part.2.weight", (mid, nf, 3, 3), ARCH)
    out = shape(sd, "last_part.0.weight", ARCH)[0]
    expect(sd, "last_part.0.weight", (out, mid, 3, 3), ARCH)
    return Config(scale=scale_from_channels(out, "last_part.0.weight", ARCH), channels=nf, mid_channels=mid)
