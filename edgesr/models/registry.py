"""The model table: every architecture edgesr knows, one row each.

Rows are plain data so ``edgesr models --help`` and name validation need no torch; the
architecture module (which imports torch) is loaded only when a model is created.
"""

from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass

from edgesr.errors import InputError


@dataclass(frozen=True)
class Arch:
    name: str
    module: str  # edgesr.models.<module> defines Config, Net, config_from_state_dict
    title: str
    value_range: float  # 1.0: RGB in [0, 1]; 255.0: RGB in [0, 255], as the authors' code
    seed: bool = False  # one of edgesr's own seed architectures (docs/background.md, Seed architectures)
    lr: float | None = None  # peak training learning rate where the trainer's default does not suit it
    # quantization-aware fine-tune steps `edgesr build` runs for this architecture's INT8 model:
    # set where it was measured to help and costs under a minute on a laptop CPU
    qat_steps: int = 0
    encoder: bool = False  # has a degradation encoder (``net.encoder``; trained contrastively, edgesr.train)


ARCHS: tuple[Arch, ...] = (
    Arch("rfdn", "rfdn", "RFDN, residual feature distillation network (AIM 2020)", 255.0),
    Arch("rlfn", "rlfn", "RLFN, residual local feature network (NTIRE 2022)", 255.0),
    Arch("safmn", "safmn", "SAFMN, spatially-adaptive feature modulation (NTIRE 2023 variant)", 1.0),
    Arch("imdn", "imdn", "IMDN, information multi-distillation network", 1.0),
    Arch("fsrcnn", "fsrcnn", "FSRCNN, fast SR CNN (RGB variant)", 1.0),
    Arch("espcn", "espcn", "ESPCN, efficient sub-pixel CNN (RGB variant)", 1.0),
    Arch("aidn", "aidn", "AIDN, asymmetric information distillation network (edgesr seed)", 1.0, seed=True),
    Arch("aidn-tiny", "aidn", "AIDN tiny real-time variant (edgesr seed)", 1.0, seed=True),
    # ReLU after every convolution and no normalisation: a higher lr kills whole channels
    # (docs/decisions.md, AIDN-RT trains at a peak learning rate of 5e-4). The image carried in its
    # features is quantised with them, which a short fine-tune repairs (docs/decisions.md, AIDN-RT's
    # INT8 model is fine-tuned for 200 steps).
    Arch(
        "aidn-rt",
        "aidnrt",
        "AIDN real-time: plain convolutions once folded, for INT8 (edgesr seed)",
        1.0,
        seed=True,
        lr=5e-4,
        qat_steps=200,
    ),
    # blind SR: AIDN-RT adapted to an estimate of its input's degradation (edgesr.models.aidnda); its
    # INT8 model is fine-tuned as AIDN-RT's is (docs/decisions.md, AIDN-DA's INT8 model is fine-tuned too)
    Arch(
        "aidn-da",
        "aidnda",
        "AIDN-RT with a contrastive degradation encoder and degradation-aware attention (blind SR, edgesr seed)",
        1.0,
        seed=True,
        lr=5e-4,
        qat_steps=200,
        encoder=True,
    ),
    Arch("epfdn", "epfdn", "feature distillation network with enhanced pixel attention (edgesr seed)", 1.0, seed=True),
    Arch("epfdn-tiny", "epfdn", "tiny real-time variant of epfdn (edgesr seed)", 1.0, seed=True),
)

_BY_NAME = {a.name: a for a in ARCHS}


def names() -> list[str]:
    return [a.name for a in ARCHS]


def get(name: str) -> Arch:
    key = name.strip().lower()
    if key in _BY_NAME:
        return _BY_NAME[key]
    close = difflib.get_close_matches(key, names(), n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    raise InputError(f"unknown architecture '{name}'; {hint}choose one of: {', '.join(names())}")


def module(name: str):
    """The architecture module for ``name`` (imports torch)."""
    from edgesr.lazy import require

    require("torch")
    return importlib.import_module(f"edgesr.models.{get(name).module}")
