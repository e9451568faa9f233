"""EPFDN: efficient feature distillation network with enhanced pixel attention (edgesr seed).

docs/background.md, Seed architectures, the thesis network. A 3x3 head, a stack of feature distillation blocks,
a 3x3 body conv with a global residual back to the head features, and a 3x3 conv + pixel
shuffle upsampler. Each block splits its feature map: part is kept (distilled), the rest is
refined and split again; the kept parts are concatenated, mixed by a 1x1 conv, and weighted by
the enhanced pixel attention module (1x1 reduce, activation, 1x1 expand, sigmoid: one weight
per pixel and channel).

The activation is a hyper-parameter (``ACTIVATIONS``) because the thesis studies it. Weights
do not reveal it, so the network stores its index in the persistent buffer ``act_id``: a
checkpoint carries its activation, :func:`config_from_state_dict` recovers it, and loading a
checkpoint into a network built with another activation fails instead of computing the wrong
function. The buffer is unused by ``forward`` and never reaches the ONNX graph.

For deployment (docs/background.md, Deployment rewrites) prefer "relu" or "lrelu": both fuse into the preceding
convolution and quantise well; "gelu" and "silu" are there for the study. The tiny variant
uses ReLU and one sigmoid gate per block. The global residual is in feature space, as in the
thesis; section 5 lists such skips among the INT8 risks, for sensitivity analysis to weigh.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from edgesr.errors import InputError, ModelError
from edgesr.models.common import (
    LRELU_SLOPE,
    PixelShuffleUpsampler,
    check_state_dict,
    conv,
    count_blocks,
    distil,
    scale_from_channels,
    shape,
    split_problems,
)

ARCH = "EPFDN"

# act_id indexes this table's keys: append new activations, never reorder or remove them.
ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU,
    "lrelu": lambda: nn.LeakyReLU(LRELU_SLOPE),
    "silu": nn.SiLU,
    "gelu": nn.GELU,
}
_ACT_NAMES = tuple(ACTIVATIONS)


@dataclass
class Config:
    scale: int = 4
    channels: int = 48  # feature width
    distilled: int = 12  # channels each refinement step keeps (distils) in a block
    steps: int = 3  # progressive refinement steps per block
    blocks: int = 4
    attn_channels: int = 12  # width of the pixel attention squeeze
    act: str = "lrelu"

    def __post_init__(self) -> None:
        problems = split_problems(self.scale, self.channels, self.distilled)
        if min(self.steps, self.blocks, self.attn_channels) < 1:
            problems.append("steps, blocks and attn_channels must be at least 1")
        if self.act not in ACTIVATIONS:
            problems.append(f"act '{self.act}' is not one of {', '.join(_ACT_NAMES)}")
        if problems:
            raise InputError("EPFDN config: " + "; ".join(problems))


VARIANTS: dict[str, Config] = {
    "epfdn": Config(),
    # Real-time variant: half the width, three blocks of two steps, ReLU (fuses into convs on every target).
    "epfdn-tiny": Config(channels=24, distilled=6, steps=2, blocks=3, attn_channels=6, act="relu"),
}


class PixelAttention(nn.Module):
    """Enhanced pixel attention: squeeze and excite the channels of every pixel on its own.

    Unlike channel attention it pools nothing, so the weights are local (tiling-safe) and the
    module is two 1x1 convolutions and one sigmoid.
    """

    def __init__(self, channels: int, hidden: int, act: str) -> None:
        super().__init__()
        self.reduce = nn.Conv2d(channels, hidden, 1)
        self.act = ACTIVATIONS[act]()
        self.expand = nn.Conv2d(hidden, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(self.expand(self.act(self.reduce(x))))


class Block(nn.Module):
    """Feature distillation block: split and concatenate instead of refining every channel.

    Each step refines its input with a 3x3 conv, keeps ``distilled`` channels and hands the
    rest to the next step, so later steps are narrower; a last 3x3 conv distils what remains.
    """

    def __init__(self, cfg: Config) -> None:
        super().__init__()
        rest = cfg.channels - cfg.distilled
        self.split = (cfg.distilled, rest)
        self.steps = nn.ModuleList(conv(cfg.channels if i == 0 else rest, cfg.channels, 3) for i in range(cfg.steps))
        self.last = conv(rest, cfg.distilled, 3)
        self.fuse = nn.Conv2d(cfg.distilled * (cfg.steps + 1), cfg.channels, 1)
        self.attn = PixelAttention(cfg.channels, cfg.attn_channels, cfg.act)
        self.act = ACTIVATIONS[cfg.act]()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.attn(self.fuse(distil(x, self.steps, self.last, self.act, self.split)))


class Net(nn.Module):
    """EPFDN: N x 3 x H x W RGB in [0, 1] -> N x 3 x sH x sW."""

    def __init__(self, cfg: Config) -> None:
        super().__init__()
        self.cfg = cfg
        c = cfg.channels
        self.head = conv(3, c, 3)
        self.blocks = nn.Sequential(*(Block(cfg) for _ in range(cfg.blocks)))
        self.body = conv(c, c, 3)
        self.upsample = PixelShuffleUpsampler(c, cfg.scale)
        self.register_buffer("act_id", torch.tensor(_ACT_NAMES.index(cfg.act)))
        self.register_load_state_dict_pre_hook(_check_activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.head(x)
        return self.upsample(self.body(self.blocks(f)) + f)


def _check_activation(module: Net, state_dict: Mapping[str, Any], prefix: str, *_: Any) -> None:
    stored = state_dict.get(prefix + "act_id")
    if stored is not None and int(stored) != int(module.act_id):
        raise ModelError(
            f"the checkpoint was trained with act '{_act_name(stored)}' but the network was built "
            f"with '{module.cfg.act}'; build it from config_from_state_dict(checkpoint)"
        )


def _act_name(act_id: Any) -> str:
    i = int(act_id)
    if not 0 <= i < len(_ACT_NAMES):
        raise ModelError(
            f"{ARCH} checkpoint has act_id {i}; this edgesr knows 0..{len(_ACT_NAMES) - 1} "
            f"({', '.join(_ACT_NAMES)}); upgrade edgesr"
        )
    return _ACT_NAMES[i]


def config_from_state_dict(sd: Mapping[str, torch.Tensor]) -> Config:
    """The :class:`Config` whose :class:`Net` has exactly the keys and shapes of ``sd``.

    The activation comes from the ``act_id`` buffer. A state dict saved without it (weights
    from elsewhere) is refused: add ``sd["act_id"] = torch.tensor(i)``, ``i`` the position of
    the training activation in ``ACTIVATIONS`` (relu 0, lrelu 1, silu 2, gelu 3).
    """
    out = shape(sd, "upsample.0.weight", ARCH)[0]
    channels = shape(sd, "head.weight", ARCH)[0]
    if "act_id" not in sd:
        raise ModelError(
            f"{ARCH} checkpoint has no 'act_id', so its activation is unknown; set "
            f"sd['act_id'] = torch.tensor(i), i its position in {', '.join(_ACT_NAMES)}"
        )
    try:
        cfg = Config(
            scale=scale_from_channels(out, "upsample.0.weight", ARCH),
            channels=channels,
            distilled=shape(sd, "blocks.0.last.weight", ARCH)[0],
            steps=count_blocks(sd, "blocks.0.steps.{}.", 0, ARCH),
            blocks=count_blocks(sd, "blocks.{}.", 0, ARCH),
            attn_channels=shape(sd, "blocks.0.attn.reduce.weight", ARCH)[0],
            act=_act_name(sd["act_id"]),
        )
    except InputError as exc:
        raise ModelError(f"{ARCH} checkpoint: {exc}") from None
    with torch.device("meta"):  # shapes only: no memory, no draw from the random generator
        check_state_dict(Net(cfg), sd, ARCH, asdict(cfg))
    return cfg
