"""AIDN-RT: the real-time AIDN, built so that INT8 pays on every runtime (edgesr seed, docs/background.md).

It keeps AIDN's edge-map input and asymmetric convolutions, and drops what costs more than it
computes once quantised: AIDN-tiny's channel splits, concatenations, narrow 1xk / kx1
convolutions, attention fusion of several residuals and LeakyReLU.

So the asymmetric convolutions sit *beside* the square one (the seed design allows both): during
training every convolution is the sum of a kxk, a 1xk and a kx1 branch, which trains better
than the kxk alone; all three read the same zero-padded input, so their sum is exactly one kxk
convolution and :meth:`Net.fold` turns the trained network into a plain stack of convolutions
for deployment. Exported models and shipped weights are folded.

The global skip is carried, not added (``carry``, the shipped default): three of the feature
channels are the LR image itself, which the reconstruction convolution turns into the skip it
learns (nearest-neighbour upscaling at the start). AIDN's bicubic residual, kept with
``carry=False``, cost a float grouped 5x5 convolution, a padding and an add at every frame once
quantised. The carried form gains more from INT8 than the bicubic form for a small loss of quality
(docs/decisions.md, AIDN-RT carries the LR image instead of adding a bicubic residual; the shipped
card's ``image_skip`` study). The image shares its tensors' INT8 grid with the features, which is
why ``edgesr build`` fine-tunes this model's INT8 weights (models table).

ReLU after every convolution and no normalisation make it sensitive to the learning rate: too high
a rate kills whole channels (never positive), so the architecture's default in the models table is
lower than the trainer's (docs/decisions.md, AIDN-RT trains at a peak learning rate of 5e-4; the
shipped card's ``learning_rate`` study).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace

import torch
import torch.nn.functional as F
from torch import nn

from edgesr.errors import InputError, ModelError
from edgesr.models.aidn import EdgeMap
from edgesr.models.common import (
    check_state_dict,
    conv,
    count_blocks,
    scale_from_channels,
    shape,
)

ARCH = "AIDN-RT"
IMAGE = 3  # RGB channels of the LR image


@dataclass
class Config:
    scale: int = 4
    channels: int = 32
    convs: int = 6  # body convolutions between the head and the reconstruction
    kernel: int = 3
    folded: bool = False  # True: each asymmetric triple is already one kxk convolution
    # True: the LR image rides in the last 3 of the feature channels to the reconstruction
    # convolution, which learns the global skip, instead of a bicubic residual added after it.
    carry: bool = False

    def __post_init__(self) -> None:
        problems = []
        if self.scale < 1:
            problems.append(f"scale must be a positive integer, not {self.scale}")
        if min(self.channels, self.convs) < 1:
            problems.append("channels and convs must be at least 1")
        if self.carry and self.channels <= IMAGE:
            problems.append(f"carry needs more than {IMAGE} channels, not {self.channels}")
        if self.kernel < 1 or self.kernel % 2 == 0:
            problems.append(f"kernel must be odd so the feature map keeps its size, not {self.kernel}")
        if problems:
            raise InputError("AIDN-RT config: " + "; ".join(problems))


VARIANTS: dict[str, Config] = {"aidn-rt": Config(carry=True)}


class AsymTriple(nn.Module):
    """kxk + 1xk + kx1 convolutions of one input, summed; :meth:`fold` makes them one kxk conv."""

    def __init__(self, cin: int, cout: int, k: int) -> None:
        super().__init__()
        self.square = conv(cin, cout, k)
        self.hor = nn.Conv2d(cin, cout, (1, k), padding=(0, k // 2), bias=False)
        self.ver = nn.Conv2d(cin, cout, (k, 1), padding=(k // 2, 0), bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.square(x) + self.hor(x) + self.ver(x)

    def fold(self) -> nn.Conv2d:
        k = self.square.kernel_size[0]
        out = conv(self.square.in_channels, self.square.out_channels, k)
        mid = k // 2
        with torch.no_grad():
            w = self.square.weight.clone()
            w[:, :, mid : mid + 1, :] += self.hor.weight
            w[:, :, :, mid : mid + 1] += self.ver.weight
            out.weight.copy_(w)
            out.bias.copy_(self.square.bias)
        return out.to(self.square.weight.device)


def _layer(cfg: Config, cin: int, cout: int) -> nn.Module:
    return conv(cin, cout, cfg.kernel) if cfg.folded else AsymTriple(cin, cout, cfg.kernel)


class Net(nn.Module):
    """AIDN-RT: N x 3 x H x W RGB in [0, 1] -> N x 3 x sH x sW."""

    arch_title = ARCH

    def __init__(self, cfg: Config) -> None:
        super().__init__()
        self.cfg = cfg
        c = cfg.channels
        learned = c - IMAGE if cfg.carry else c
        self.edge = EdgeMap()
        self.head = _layer(cfg, 4, learned)  # RGB and the edge map, as four input channels
        self.body = nn.ModuleList(_layer(cfg, c, learned if i == cfg.convs - 1 else c) for i in range(cfg.convs))
        self.recon = _layer(cfg, c, 3 * cfg.scale**2)
        self.shuffle = nn.PixelShuffle(cfg.scale)
        # ReLU, not LeakyReLU: quantised convolutions absorb it (a clamp of the output range) on
        # ONNX Runtime and TensorRT, where a LeakyReLU stays a separate INT8 op on ONNX Runtime.
        self.act = nn.ReLU()
        if cfg.carry:
            k, mid = cfg.kernel, cfg.kernel // 2
            # Folded, the image channels are extra output rows of the head (identity taps: ReLU
            # keeps an image in [0, 1]) and zero rows of the last body conv, so the exported graph
            # stays a plain chain of convolutions: no concatenation, slice or residual add.
            carry_in = torch.zeros(IMAGE, 4, k, k)
            carry_in[range(IMAGE), range(IMAGE), mid, mid] = 1.0
            self.register_buffer("carry_in", carry_in, persistent=False)
            self.register_buffer("carry_zero", torch.zeros(IMAGE, c, k, k), persistent=False)
            if not cfg.folded:
                self.add_nearest()

    def add_nearest(self) -> None:
        """Add nearest-neighbour upscaling of the carried image to the reconstruction (training starts there)."""
        s2, mid, first = self.cfg.scale**2, self.cfg.kernel // 2, self.cfg.channels - IMAGE
        weight = self.recon.weight if self.cfg.folded else self.recon.square.weight
        with torch.no_grad():
            for colour in range(IMAGE):  # every phase of a colour copies that colour's LR pixel
                weight[colour * s2 : (colour + 1) * s2, first + colour, mid, mid] += 1.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._upscale(x, None)

    def _upscale(self, x: torch.Tensor, cond: object) -> torch.Tensor:
        """The network's output; ``cond`` goes to :meth:`_body_layer` (subclasses condition the body on it)."""
        inp = torch.cat([x, self.edge(x)], dim=1)
        if self.cfg.carry:
            return self.shuffle(self.recon(self._carried(x, inp, cond)))
        f = self.act(self.head(inp))
        h = f
        for i, layer in enumerate(self.body):
            h = self._body_layer(i, layer, h, cond)
        residual = self.shuffle(self.recon(h + f))
        return residual + F.interpolate(x, scale_factor=self.cfg.scale, mode="bicubic", align_corners=False)

    def _body_layer(self, index: int, layer: nn.Module, h: torch.Tensor, cond: object) -> torch.Tensor:
        return self.act(layer(h))

    def _carried(self, x: torch.Tensor, inp: torch.Tensor, cond: object) -> torch.Tensor:
        """The reconstruction's input: body output plus head features, then the image channels."""
        if self.cfg.folded:
            f = self.act(_with_rows(self.head, inp, self.carry_in))
            h = f
            for i, layer in enumerate(self.body[:-1]):
                h = self._body_layer(i, layer, h, cond)
            return self.act(_with_rows(self.body[-1], h, self.carry_zero)) + f
        f = torch.cat([self.act(self.head(inp)), x], dim=1)
        h = f
        for i, layer in enumerate(self.body):
            h = self._body_layer(i, layer, h, cond)
        return torch.cat([h + f[:, :-IMAGE], f[:, -IMAGE:]], dim=1)

    def load_folded(self, sd: Mapping[str, torch.Tensor]) -> None:
        """Start from folded weights: each kxk convolution becomes the square branch, the 1xk and kx1
        branches start at zero, so the network computes exactly what the folded one did."""
        if self.cfg.folded:
            self.load_state_dict(sd)
            return
        unfolded = dict(self.state_dict())
        for key in unfolded:
            if ".hor." in key or ".ver." in key:
                unfolded[key] = torch.zeros_like(unfolded[key])
        for key, value in sd.items():
            name = key.rsplit(".", 1)
            target = f"{name[0]}.square.{name[1]}"
            if target not in unfolded:
                target = key  # a layer without asymmetric branches (a subclass's) loads as it is
            if target not in unfolded or unfolded[target].shape != value.shape:
                raise ModelError(
                    f"{self.arch_title}: folded weight {key} {tuple(value.shape)} does not fit this network"
                )
            unfolded[target] = value
        self.load_state_dict(unfolded)

    def fold(self) -> Net:
        """The same function as a plain stack of kxk convolutions (a copy; ``self`` is unchanged)."""
        if self.cfg.folded:
            return self
        out = copy.deepcopy(self)
        out.cfg = replace(self.cfg, folded=True)
        out.head = self.head.fold()
        out.body = nn.ModuleList(layer.fold() for layer in self.body)
        out.recon = self.recon.fold()
        if hasattr(out, "config"):  # attributes set by edgesr.models for export metadata
            out.config = out.cfg
        return out


def _with_rows(layer: nn.Conv2d, x: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """``layer(x)`` with extra output channels of weights ``rows`` and zero bias (one convolution)."""
    weight = torch.cat([layer.weight, rows])
    bias = torch.cat([layer.bias, rows.new_zeros(rows.shape[0])])
    return F.conv2d(x, weight, bias, padding=layer.padding)


def config_from_state_dict(sd: Mapping[str, torch.Tensor]) -> Config:
    """The :class:`Config` whose :class:`Net` has exactly the keys and shapes of ``sd`` (folded or not)."""
    folded = "head.weight" in sd
    suffix = "weight" if folded else "square.weight"
    try:
        head = shape(sd, f"head.{suffix}", ARCH)
        if head[1] != 4:
            raise ModelError(f"{ARCH} checkpoint: head.{suffix} takes {head[1]} channels, not RGB + edge (4)")
        recon = shape(sd, f"recon.{suffix}", ARCH)
        cfg = Config(
            scale=scale_from_channels(recon[0], f"recon.{suffix}", ARCH),
            channels=recon[1],
            convs=count_blocks(sd, "body.{}.", 0, ARCH),
            kernel=head[-1],
            folded=folded,
            carry=recon[1] == head[0] + IMAGE,  # the head computes all but the carried image channels
        )
    except InputError as exc:
        raise ModelError(f"{ARCH} checkpoint: {exc}") from None
    with torch.device("meta"):  # shapes only: no memory, no draw from the random generator
        check_state_dict(Net(cfg), sd, ARCH, asdict(cfg))
    return cfg
