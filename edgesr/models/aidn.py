"""AIDN: asymmetric information distillation network (edgesr seed, docs/background.md).

The network sees the low-resolution image and its edge map. The edge map is computed inside
the graph by a fixed Sobel filter on luma, so the deployed model has one RGB input. Shallow
features of image and edges are fused, then a stack of asymmetric information distillation
blocks maps them. Every ``blocks // taps`` blocks the features are tapped and reconstructed
into a residual image (a conv to 3 x scale^2 channels); attention weights computed from the
residuals themselves fuse them, per pixel and colour, into one, which is pixel-shuffled and
added to a bicubic upscale of the input.

Deployment choices (docs/background.md, Deployment rewrites): LeakyReLU only; few sigmoid gates (one per block in
the standard variant, none in the tiny one's blocks, plus taps - 1 for the fusion); no Exp,
normalisation, resize inside attention or feature-space global skip. The bicubic upscale stays
a plain ``F.interpolate`` so the conversion stage can recognise it and rewrite it into an exact
convolution + depth-to-space.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from edgesr.errors import InputError, ModelError
from edgesr.models.common import (
    LRELU_SLOPE,
    check_state_dict,
    conv,
    count_blocks,
    distil,
    scale_from_channels,
    shape,
    split_problems,
)

ARCH = "AIDN"


@dataclass
class Config:
    scale: int = 4
    channels: int = 40  # feature width
    edge_channels: int = 8  # shallow features taken from the edge map
    distilled: int = 10  # channels each refinement step keeps (distils) in a block
    steps: int = 3  # progressive refinement steps per block
    kernel: int = 3  # k of the asymmetric 1xk / kx1 pairs and of each block's last, square conv
    blocks: int = 6
    taps: int = 3  # residual images reconstructed, one after each of `taps` equal groups of blocks
    attention: bool = True  # a pixel-attention gate closing each block

    def __post_init__(self) -> None:
        problems = split_problems(self.scale, self.channels, self.distilled)
        if min(self.edge_channels, self.steps) < 1:
            problems.append("edge_channels and steps must be at least 1")
        if self.kernel < 1 or self.kernel % 2 == 0:
            problems.append(f"kernel must be odd so the feature map keeps its size, not {self.kernel}")
        if self.taps < 1 or self.blocks % self.taps:
            problems.append(f"blocks ({self.blocks}) must be a positive multiple of taps ({self.taps})")
        if problems:
            raise InputError("AIDN config: " + "; ".join(problems))


VARIANTS: dict[str, Config] = {
    "aidn": Config(),
    # Real-time variant: 24 channels, two groups of two blocks, no gates inside the blocks.
    "aidn-tiny": Config(channels=24, edge_channels=4, distilled=6, steps=2, blocks=4, taps=2, attention=False),
}


class EdgeMap(nn.Module):
    """|d/dx| + |d/dy| of BT.601 luma, by a fixed Sobel filter (not a parameter, never trained).

    Luma weights and both Sobel kernels fold into one 3->2 convolution followed by Abs and an
    add: ops that every TensorRT version, INT8 and DLA run, unlike sqrt. The kernels are divided
    by 4 so a step of height h in luma reads as h on the two pixels beside it. Zero padding,
    like every other convolution here, avoids a Pad op; the image border then reads as an edge,
    the same way in training and deployment.
    """

    def __init__(self) -> None:
        super().__init__()
        sobel = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]) / 4.0
        luma = torch.tensor([0.299, 0.587, 0.114])
        weight = torch.stack([sobel, sobel.t()])[:, None] * luma[None, :, None, None]
        # Not persistent: a constant of the architecture, so checkpoints cannot alter it.
        self.register_buffer("weight", weight, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        g = F.conv2d(x, self.weight, padding=1).abs()
        return g[:, :1] + g[:, 1:]


class AsymConv(nn.Module):
    """A kxk receptive field from a 1xk then a kx1 convolution, at about 2/k of the kxk cost."""

    def __init__(self, cin: int, cout: int, k: int) -> None:
        super().__init__()
        self.h = nn.Conv2d(cin, cout, (1, k), padding=(0, k // 2))
        self.v = nn.Conv2d(cout, cout, (k, 1), padding=(k // 2, 0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.v(self.h(x))


class Block(nn.Module):
    """Asymmetric information distillation block.

    Each step refines its input with an asymmetric pair, keeps ``distilled`` channels and
    hands the rest to the next step; a square kxk conv distils what remains. The kept parts
    are concatenated, mixed by a 1x1 conv, optionally gated per pixel, and added to the input.
    """

    def __init__(self, cfg: Config) -> None:
        super().__init__()
        rest = cfg.channels - cfg.distilled
        self.split = (cfg.distilled, rest)
        self.steps = nn.ModuleList(
            AsymConv(cfg.channels if i == 0 else rest, cfg.channels, cfg.kernel) for i in range(cfg.steps)
        )
        self.last = conv(rest, cfg.distilled, cfg.kernel)
        self.fuse = nn.Conv2d(cfg.distilled * (cfg.steps + 1), cfg.channels, 1)
        self.attn = nn.Conv2d(cfg.channels, cfg.channels, 1) if cfg.attention else None
        # LeakyReLU throughout: it fuses into the preceding conv in TensorRT and runs on DLA.
        self.act = nn.LeakyReLU(LRELU_SLOPE)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.fuse(distil(x, self.steps, self.last, self.act, self.split))
        if self.attn is not None:
            y = y * torch.sigmoid(self.attn(y))
        return x + y


class ResidualFusion(nn.Module):
    """Attention fusion of residual images into one, as a per-pixel, per-colour weighted average.

    Residuals are folded in from shallow to deep: residual t takes the share
    ``sigmoid(gate_t([fused, residual_t]))`` of the running fusion, so every weight is positive
    and they sum to one (for two residuals this is exactly a softmax over two scores). Unlike a
    Softmax it needs only Sigmoid, Sub, Mul and Add: DLA lacks Exp, ONNX Runtime transposes for
    a Softmax over any axis but the last, and a sigmoid cannot overflow in FP16.

    Inputs are residuals before the pixel shuffle (3 colours x scale^2 sub-pixels per position),
    so a 1x1 gate sees the whole scale x scale output cell, at scale^2 fewer positions.
    """

    def __init__(self, channels: int, count: int) -> None:
        super().__init__()
        self.gates = nn.ModuleList(nn.Conv2d(2 * channels, channels, 1) for _ in range(count - 1))

    def forward(self, residuals: list[torch.Tensor]) -> torch.Tensor:
        fused = residuals[0]
        for gate, r in zip(self.gates, residuals[1:]):
            fused = fused + torch.sigmoid(gate(torch.cat([fused, r], dim=1))) * (r - fused)
        return fused


class Net(nn.Module):
    """AIDN: N x 3 x H x W RGB in [0, 1] -> N x 3 x sH x sW."""

    def __init__(self, cfg: Config) -> None:
        super().__init__()
        self.cfg = cfg
        c = cfg.channels
        self.edge = EdgeMap()
        self.head_img = conv(3, c, 3)
        self.head_edge = conv(1, cfg.edge_channels, 3)
        self.head_fuse = nn.Conv2d(c + cfg.edge_channels, c, 1)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.blocks))
        sub = 3 * cfg.scale**2
        self.recon = nn.ModuleList(conv(c, sub, 3) for _ in range(cfg.taps))
        self.fusion = ResidualFusion(sub, cfg.taps)
        self.shuffle = nn.PixelShuffle(cfg.scale)
        self.act = nn.LeakyReLU(LRELU_SLOPE)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.head_fuse(torch.cat([self.head_img(x), self.act(self.head_edge(self.edge(x)))], dim=1))
        group = self.cfg.blocks // self.cfg.taps
        taps = []
        for i, block in enumerate(self.blocks):
            f = block(f)
            if (i + 1) % group == 0:
                taps.append(f)
        residual = self.shuffle(self.fusion([recon(t) for recon, t in zip(self.recon, taps)]))
        return residual + F.interpolate(x, scale_factor=self.cfg.scale, mode="bicubic", align_corners=False)


def config_from_state_dict(sd: Mapping[str, torch.Tensor]) -> Config:
    """The :class:`Config` whose :class:`Net` has exactly the keys and shapes of ``sd``."""
    out = shape(sd, "recon.0.weight", ARCH)[0]
    try:
        cfg = Config(
            scale=scale_from_channels(out, "recon.0.weight", ARCH),
            channels=shape(sd, "head_img.weight", ARCH)[0],
            edge_channels=shape(sd, "head_edge.weight", ARCH)[0],
            distilled=shape(sd, "blocks.0.last.weight", ARCH)[0],
            steps=count_blocks(sd, "blocks.0.steps.{}.", 0, ARCH),
            kernel=shape(sd, "blocks.0.steps.0.h.weight", ARCH)[-1],
            blocks=count_blocks(sd, "blocks.{}.", 0, ARCH),
            taps=count_blocks(sd, "recon.{}.", 0, ARCH),
            attention="blocks.0.attn.weight" in sd,
        )
    except InputError as exc:
        raise ModelError(f"{ARCH} checkpoint: {exc}") from None
    with torch.device("meta"):  # shapes only: no memory, no draw from the random generator
        check_state_dict(Net(cfg), sd, ARCH, asdict(cfg))
    return cfg
