"""SAFMN: spatially-adaptive feature modulation network, NTIRE 2023 efficient-SR variant.

Sun et al., "Spatially-Adaptive Feature Modulation for Efficient Image Super-Resolution",
ICCV 2023. The challenge variant differs from the paper's network: a global response
normalisation (GRN) after the first conv instead of per-block LayerNorm, and a bilinear
upscale of the input added to the output. Input and output are RGB in [0, 1].

Each block's SAFM splits the channels into four levels; level ``i > 0`` is max-pooled to
``1/2**(i+1)`` of the input size, filtered by a depthwise 3x3, and resized back with nearest
neighbour. The pooling and resizing use :mod:`edgesr.models.pooling` so an ONNX export keeps
dynamic height and width and computes exactly what PyTorch's adaptive pooling computes. The
coarsest level pools by 16, so inputs must be at least 16 pixels a side. GRN divides by an
L2 norm over the whole image, which makes tiled inference differ slightly from whole-frame.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from edgesr.errors import ModelError
from edgesr.models.common import conv, count_blocks, expect, scale_from_channels, shape
from edgesr.models.pooling import adaptive_max_pool, upsample_nearest

ARCH = "SAFMN"


@dataclass
class Config:
    scale: int = 4
    dim: int = 36
    blocks: int = 8
    hidden: int = 72  # width of the channel mixer's 3x3 conv (ffn_scale 2.0 upstream)
    levels: int = 4


VARIANTS: dict[str, Config] = {"safmn": Config()}


class GRN(nn.Module):
    """Global response normalisation: scale each channel by its L2 norm over the image,
    relative to the mean norm across channels."""

    def __init__(self, dim: int):
        super().__init__()
        self.gamma = nn.Parameter(torch.zeros(1, dim, 1, 1))
        self.beta = nn.Parameter(torch.zeros(1, dim, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gx = torch.norm(x, p=2, dim=(2, 3), keepdim=True)
        nx = gx / (gx.mean(dim=1, keepdim=True) + 1e-6)
        return self.gamma * (x * nx) + self.beta + x


class SAFM(nn.Module):
    def __init__(self, dim: int, levels: int):
        super().__init__()
        self.levels = levels
        chunk = dim // levels
        self.mfr = nn.ModuleList(nn.Conv2d(chunk, chunk, 3, padding=1, groups=chunk, bias=False) for _ in range(levels))
        self.aggr = nn.Conv2d(dim, dim, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        parts = x.chunk(self.levels, dim=1)
        out = [self.mfr[0](parts[0])]
        for i in range(1, self.levels):
            coarse = self.mfr[i](adaptive_max_pool(parts[i], 2 ** (i + 1)))
            out.append(upsample_nearest(coarse, h, w))
        return F.gelu(self.aggr(torch.cat(out, dim=1))) * x


class CCM(nn.Module):
    """Convolutional channel mixer: 3x3 expand, GELU, 1x1 project."""

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.ccm = nn.Sequential(
            nn.Conv2d(dim, hidden, 3, padding=1, bias=False), nn.GELU(), nn.Conv2d(hidden, dim, 1, bias=False)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.ccm(x)


class AttBlock(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.safm = SAFM(cfg.dim, cfg.levels)
        self.ccm = CCM(cfg.dim, cfg.hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.safm(x) + x
        return self.ccm(x) + x


class Net(nn.Module):
    min_size = 16

    def __init__(self, cfg: Config):
        super().__init__()
        self.scale_factor = cfg.scale
        self.norm = GRN(cfg.dim)
        self.to_feat = conv(3, cfg.dim, 3)
        self.feats = nn.Sequential(*(AttBlock(cfg) for _ in range(cfg.blocks)))
        self.to_img = nn.Sequential(conv(cfg.dim, 3 * cfg.scale**2, 3), nn.PixelShuffle(cfg.scale))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        base = F.interpolate(x, scale_factor=self.scale_factor, mode="bilinear", align_corners=False)
        return self.to_img(self.feats(self.norm(self.to_feat(x)))) + base


def config_from_state_dict(sd: Mapping[str, torch.Tensor]) -> Config:
    dim = shape(sd, "to_feat.weight", ARCH)[0]
    expect(sd, "to_feat.weight", (dim, 3, 3, 3), ARCH)
    expect(sd, "norm.gamma", (1, dim, 1, 1), ARCH)
    blocks = count_blocks(sd, "feats.{}.", 0, ARCH)
    levels = len([k for k in sd if k.startswith("feats.0.safm.mfr.")])
    if levels < 1 or dim % levels:
        raise ModelError(f"{ARCH} checkpoint: {levels} multi-scale levels do not divide {dim} channels")
    hidden = shape(sd, "feats.0.ccm.ccm.0.weight", ARCH)[0]
    out = shape(sd, "to_img.0.weight", ARCH)
    expect(sd, "to_img.0.weight", (out[0], dim, 3, 3), ARCH)
    return Config(
        scale=scale_from_channels(out[0], "to_img.0.weight", ARCH), dim=dim, blocks=blocks, hidden=hidden, levels=levels
    )
