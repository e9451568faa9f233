"""AIDN-DA: blind SR for real frames, AIDN-RT conditioned on an estimate of how its input was degraded.

Two branches, as in the blind-SR design of edgesr's seed thesis:

* the **degradation encoder** maps an LR image to a vector (the *representation*) that describes
  its blur, noise and compression, not its content. It is trained contrastively
  (:mod:`edgesr.train.contrastive`): two patches of one degraded image are a positive pair, patches
  of other images with other degradations are the negatives. Its last step is a global average,
  so it reads a patch or a whole frame alike, and a stream can estimate the representation once
  per scene and reuse it for every frame (``--reestimate-every``);
* the **conditional reconstruction** is AIDN-RT whose body features are adapted to the
  representation by degradation-aware attention after a few body layers: a channel gain computed
  from the representation (channel attention) and a per-pixel gain computed from the features with
  a bias from the representation (spatial attention).

The attention starts as the identity (zero-initialised last layers), so AIDN-RT weights load into
the reconstruction branch (``load_folded``, inherited: layers it does not name keep their
initial values) and the network starts out computing exactly what they did. Everything
the representation decides is a handful of numbers per frame; the per-pixel work it adds is two
multiplications of the modulated feature maps, which stay float between INT8 convolutions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from edgesr.errors import InputError, ModelError
from edgesr.models import aidnrt
from edgesr.models.common import check_state_dict, conv, shape

ARCH = "AIDN-DA"
ENCODER = "encoder."  # state-dict prefix of the degradation encoder
ATTENTION = "attention."


@dataclass
class Config(aidnrt.Config):
    carry: bool = True
    rep: int = 64  # width of the degradation representation
    encoder_channels: int = 32  # the encoder's first width; it doubles after the first downsampling
    # the encoder also reads the image's high-pass residual (image minus its 3x3 mean), where noise,
    # blur and compression show and most content does not
    highpass: bool = True
    encoder_norm: bool = True  # batch normalisation after each encoder convolution
    # features of the high-pass residual read in windows on the 8x8 grid from the frame's origin,
    # where JPEG and video codecs put their block edges (a plain convolution cannot tell an edge
    # on the grid from one beside it); 0: none
    blocks: int = 16
    modulated: int = 1  # body layers followed by degradation-aware attention, spread evenly
    spatial: bool = True  # False: channel attention only (no per-pixel gain)

    def __post_init__(self) -> None:
        super().__post_init__()
        problems = []
        if min(self.rep, self.encoder_channels) < 1:
            problems.append("rep and encoder_channels must be at least 1")
        if self.blocks < 0 or (self.blocks and not self.highpass):
            problems.append("blocks must be 0 or more, and reads the high-pass residual (highpass=True)")
        if not 1 <= self.modulated <= self.convs - 1:
            problems.append(f"modulated must lie in [1, convs - 1 = {self.convs - 1}], not {self.modulated}")
        if problems:
            raise InputError("AIDN-DA config: " + "; ".join(problems))

    def positions(self) -> list[int]:
        """Indices of the modulated body layers: evenly among all but the last (which feeds the skip)."""
        return [(k + 1) * (self.convs - 1) // (self.modulated + 1) for k in range(self.modulated)]


VARIANTS: dict[str, Config] = {"aidn-da": Config()}


class DegradationEncoder(nn.Module):
    """N x 3 x H x W LR in [0, 1] -> N x rep: five convolutions, two of them strided, and a global mean."""

    GRID = 8  # block size of JPEG and of the codecs' transforms

    def __init__(self, channels: int, rep: int, highpass: bool, norm: bool, blocks: int = 0) -> None:
        super().__init__()
        c = channels
        self.highpass = highpass
        layers = []
        for cin, cout, stride in (
            (6 if highpass else 3, c, 1),
            (c, c, 2),
            (c, 2 * c, 1),
            (2 * c, 2 * c, 2),
            (2 * c, 2 * c, 1),
        ):
            layers.append(conv(cin, cout, 3, stride=stride))
            if norm:  # batch statistics keep the pooled features apart from the first step (folded once deployed)
                layers.append(nn.BatchNorm2d(cout))
            layers.append(nn.ReLU())
        self.features = nn.Sequential(*layers)
        # a window of GRID + 2 on the grid holds both sides of a block edge at a fixed place
        g = self.GRID
        self.blocks = nn.Conv2d(3, blocks, g + 2, stride=g, padding=g // 2) if blocks else None
        self.out = nn.Linear(2 * c + blocks, rep)
        # the contrastive loss reads the representation through this head (training only), so the
        # representation itself is not pushed to discard what reconstruction needs
        self.project = nn.Sequential(nn.Linear(rep, rep), nn.ReLU(), nn.Linear(rep, rep))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.highpass:
            return self.out(self.features(x).mean(dim=(2, 3)))
        residual = x - F.avg_pool2d(x, 3, 1, 1, count_include_pad=False)
        pooled = self.features(torch.cat([x, residual], dim=1)).mean(dim=(2, 3))
        if self.blocks is not None:
            pooled = torch.cat([pooled, F.relu(self.blocks(residual)).mean(dim=(2, 3))], dim=1)
        return self.out(pooled)


class DegradationAttention(nn.Module):
    """Degradation-aware channel and spatial attention of one body layer's output."""

    def __init__(self, channels: int, rep: int, spatial: bool) -> None:
        super().__init__()
        self.channel = nn.Sequential(nn.Linear(rep, rep), nn.ReLU(), nn.Linear(rep, channels))
        zeroed = [self.channel[-1]]
        if spatial:
            self.spatial_bias = nn.Linear(rep, 1)
            self.spatial = nn.Conv2d(channels, 1, 1)
            zeroed += [self.spatial_bias, self.spatial]
        for layer in zeroed:  # identity at the start
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def gains(self, rep: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Per-channel gain N x C x 1 x 1 and the spatial logit's bias N x 1 x 1 x 1 (2 sigmoid: 1 at zero)."""
        n = rep.shape[0]
        gain = 2 * torch.sigmoid(self.channel(rep)).view(n, -1, 1, 1)
        return gain, (self.spatial_bias(rep).view(n, 1, 1, 1) if hasattr(self, "spatial") else None)

    def forward(self, h: torch.Tensor, gain: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        if bias is None:
            return h * gain
        return h * gain * (2 * torch.sigmoid(self.spatial(h) + bias))


class Net(aidnrt.Net):
    """AIDN-DA: ``net(lr)`` estimates the representation and upscales; ``net(lr, rep)`` reuses one."""

    arch_title = ARCH

    def __init__(self, cfg: Config) -> None:
        super().__init__(cfg)
        self.encoder = DegradationEncoder(cfg.encoder_channels, cfg.rep, cfg.highpass, cfg.encoder_norm, cfg.blocks)
        self.attention = nn.ModuleDict(
            {str(i): DegradationAttention(cfg.channels, cfg.rep, cfg.spatial) for i in cfg.positions()}
        )

    def forward(self, x: torch.Tensor, rep: torch.Tensor | None = None) -> torch.Tensor:
        if rep is None:
            rep = self.encoder(x)
        if rep.shape[0] == 1 and x.shape[0] > 1:  # one scene's representation serves a batch of its frames
            rep = rep.expand(x.shape[0], -1)
        cond = {key: block.gains(rep) for key, block in self.attention.items()}
        return self._upscale(x, cond)

    def _body_layer(self, index: int, layer: nn.Module, h: torch.Tensor, cond: object) -> torch.Tensor:
        h = self.act(layer(h))
        key = str(index)
        if key in self.attention:
            h = self.attention[key](h, *cond[key])
        return h


def config_from_state_dict(sd: Mapping[str, torch.Tensor]) -> Config:
    """The :class:`Config` whose :class:`Net` has exactly the keys and shapes of ``sd`` (folded or not)."""
    if not any(k.startswith(ENCODER) for k in sd):
        raise ModelError(f"{ARCH} checkpoint: no degradation encoder ({ENCODER}* keys)")
    trunk = {k: v for k, v in sd.items() if not k.startswith((ENCODER, ATTENTION))}
    base = aidnrt.config_from_state_dict(trunk)
    if not base.carry:
        raise ModelError(f"{ARCH} checkpoint: the reconstruction branch must carry the image (carry=True)")
    try:
        first = shape(sd, f"{ENCODER}features.0.weight", ARCH)
        rep = shape(sd, f"{ENCODER}out.weight", ARCH)[0]
        cfg = Config(
            **{
                **asdict(base),
                "rep": rep,
                "encoder_channels": first[0],
                "highpass": first[1] == 6,
                "encoder_norm": f"{ENCODER}features.1.running_mean" in sd,
                "blocks": sd[f"{ENCODER}blocks.weight"].shape[0] if f"{ENCODER}blocks.weight" in sd else 0,
                "modulated": len({k.split(".")[1] for k in sd if k.startswith(ATTENTION)}),
                "spatial": any(k.startswith(ATTENTION) and ".spatial." in k for k in sd),
            }
        )
    except InputError as exc:
        raise ModelError(f"{ARCH} checkpoint: {exc}") from None
    with torch.device("meta"):
        check_state_dict(Net(cfg), sd, ARCH, asdict(cfg))
    return cfg
