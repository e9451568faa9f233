"""IMDN: information multi-distillation network.

Hui et al., "Lightweight Image Super-Resolution with Information Multi-distillation Network",
ACM MM 2019. Key-compatible with the authors' IMDN x2/x3/x4 checkpoints, which take RGB in
[0, 1] (their test script divides by 255).

Each block runs four 3x3 convs; after each of the first three it splits off a quarter of the
channels (kept) and passes the rest on. The kept parts are concatenated, weighted by
contrast-aware channel attention (per-channel mean + standard deviation over the whole image,
so tiling changes the result slightly), fused by a 1x1 conv and added to the block input.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from edgesr.models.common import LRELU_SLOPE, DistillationNet, conv, count_blocks, expect, shape, upsampler_scale

ARCH = "IMDN"


@dataclass
class Config:
    scale: int = 4
    channels: int = 64
    blocks: int = 6
    distilled: int = 16  # channels kept at each split: channels // 4 upstream
    attention: int = 4  # hidden width of the channel attention: kept*4 // 16 upstream


VARIANTS: dict[str, Config] = {"imdn": Config()}


class CCALayer(nn.Module):
    """Contrast-aware channel attention: sigmoid gate from per-channel std + mean."""

    def __init__(self, channels: int, hidden: int):
        super().__init__()
        self.conv_du = nn.Sequential(
            nn.Conv2d(channels, hidden, 1), nn.ReLU(), nn.Conv2d(hidden, channels, 1), nn.Sigmoid()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(dim=(2, 3), keepdim=True)
        std = (x - mean).pow(2).mean(dim=(2, 3), keepdim=True).sqrt()
        return x * self.conv_du(std + mean)


class IMDModule(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        nf, kept = cfg.channels, cfg.distilled
        self.split = (kept, nf - kept)
        self.c1 = conv(nf, nf, 3)
        self.c2 = conv(nf - kept, nf, 3)
        self.c3 = conv(nf - kept, nf, 3)
        self.c4 = conv(nf - kept, kept, 3)
        self.c5 = nn.Conv2d(kept * 4, nf, 1)
        self.cca = CCALayer(kept * 4, cfg.attention)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        kept, rest = [], x
        for layer in (self.c1, self.c2, self.c3):
            k, rest = torch.split(F.leaky_relu(layer(rest), LRELU_SLOPE), self.split, dim=1)
            kept.append(k)
        kept.append(self.c4(rest))
        return self.c5(self.cca(torch.cat(kept, dim=1))) + x


class Net(DistillationNet):
    def __init__(self, cfg: Config):
        super().__init__(cfg.channels, cfg.blocks, cfg.scale, "IMDB", lambda: IMDModule(cfg))


def config_from_state_dict(sd: Mapping[str, torch.Tensor]) -> Config:
    nf = shape(sd, "fea_conv.weight", ARCH)[0]
    expect(sd, "fea_conv.weight", (nf, 3, 3, 3), ARCH)
    blocks = count_blocks(sd, "IMDB{}.", 1, ARCH)
    kept = shape(sd, "IMDB1.c4.weight", ARCH)[0]
    hidden = shape(sd, "IMDB1.cca.conv_du.0.weight", ARCH)[0]
    expect(sd, "c.0.weight", (nf, nf * blocks, 1, 1), ARCH)
    return Config(
        scale=upsampler_scale(sd, nf, ARCH),
        channels=nf,
        blocks=blocks,
        distilled=kept,
        attention=hidden,
    )
