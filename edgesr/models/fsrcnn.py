"""FSRCNN: fast super-resolution CNN, RGB variant.

Dong, Loy and Tang, "Accelerating the Super-Resolution Convolutional Neural Network",
ECCV 2016. The paper works on luma; this variant takes and returns RGB in [0, 1]. Layout as
the paper: 5x5 feature extraction (d), 1x1 shrinking (s), m 3x3 mapping layers, 1x1 expanding
(d), all with PReLU, then a 9x9 transposed convolution with stride ``scale``.

The transposed convolution's weights are the same shape for every scale, so a checkpoint does
not record its scale; loading one needs the scale given explicitly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import nn

from edgesr.models.common import count_blocks, expect, shape

ARCH = "FSRCNN"
SCALE_IN_WEIGHTS = False
DECONV_KERNEL = 9


@dataclass
class Config:
    scale: int = 4
    d: int = 56
    s: int = 12
    m: int = 4


VARIANTS: dict[str, Config] = {"fsrcnn": Config()}


def _conv_prelu(cin: int, cout: int, kernel: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, kernel, padding=kernel // 2), nn.PReLU(cout)]


class Net(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.first_part = nn.Sequential(*_conv_prelu(3, cfg.d, 5))
        mapping = [layer for _ in range(cfg.m) for layer in _conv_prelu(cfg.s, cfg.s, 3)]
        self.mid_part = nn.Sequential(*_conv_prelu(cfg.d, cfg.s, 1), *mapping, *_conv_prelu(cfg.s, cfg.d, 1))
        # output = (h - 1) * scale - 2 * 4 + 9 + (scale - 1) = h * scale
        self.last_part = nn.ConvTranspose2d(
            cfg.d, 3, DECONV_KERNEL, stride=cfg.scale, padding=DECONV_KERNEL // 2, output_padding=cfg.scale - 1
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.last_part(self.mid_part(self.first_part(x)))


def config_from_state_dict(sd: Mapping[str, torch.Tensor]) -> Config:
    d = shape(sd, "first_part.0.weight", ARCH)[0]
    expect(sd, "first_part.0.weight", (d, 3, 5, 5), ARCH)
    s = shape(sd, "mid_part.0.weight", ARCH)[0]
    expect(sd, "mid_part.0.weight", (s, d, 1, 1), ARCH)
    # mid_part holds (conv, PReLU) pairs: shrink, m mappings, expand.
    m = count_blocks(sd, "mid_part.{}.weight", 0, ARCH) // 2 - 2
    expect(sd, "last_part.weight", (d, 3, DECONV_KERNEL, DECONV_KERNEL), ARCH)
    return Config(d=d, s=s, m=m)
