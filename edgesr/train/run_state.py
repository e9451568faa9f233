"""The state of a run, and the resumable checkpoint that holds it.

A checkpoint holds everything that decides what the next iteration computes: model, EMA and
optimizer tensors, the position (stage, iteration), the compute spent, the loss window and the
global random generators. The learning rate is a function of the position, so no scheduler
object is stored. The EMA weights sit under ``params_ema``, the key
:func:`edgesr.models.load` prefers, so a checkpoint also loads as a model.

Files are read with ``torch.load(weights_only=True)``: only tensors and plain containers,
never pickled code.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgesr.errors import ModelError
from edgesr.fileio import atomic_path
from edgesr.lazy import require
from edgesr.models.checkpoint import UNREADABLE, load_weights_only, unreadable_reason
from edgesr.train.config import TrainConfig

torch = require("torch")

FORMAT = "edgesr-train-1"


@dataclass
class StageRecord:
    """What one stage was asked to do and what it actually did."""

    patch: int
    planned_iterations: int | None
    planned_seconds: float | None
    peak_lr: float
    images: int = 0  # training images large enough for the patch
    iterations: int = 0
    patches: int = 0
    lr_pixels: int = 0
    train_seconds: float = 0.0  # wall time of the training steps
    # CPU time of the training steps, all threads: on a shared machine wall time depends on the
    # other jobs, CPU time much less, so this is what compares runs made there.
    cpu_seconds: float = 0.0
    val_psnr: float | None = None
    weights_in: str = ""  # fingerprints: a hot-started stage's weights_in is the previous weights_out
    weights_out: str = ""
    ended_by: str = ""  # "iterations" or "time"
    kind: str = "reconstruction"  # or "encoder" (edgesr.train.stages.StagePlan.kind)
    # the encoder stage's loss is contrastive: the share of patches that found their partner
    contrastive_accuracy: float | None = None


@dataclass
class TrainState:
    stage: int = 0  # index of the stage being trained; len(stages) once all are done
    iteration: int = 0  # iterations done in that stage
    step: int = 0  # iterations done in the run
    status: str = "running"  # running, interrupted or complete
    data_fingerprint: str = ""
    records: list[StageRecord] = field(default_factory=list)
    val_history: list[dict] = field(default_factory=list)  # {step, stage, iteration, psnr}
    losses: list[list[float]] = field(default_factory=list)  # [step, mean L1 over the window]
    window_sum: float = 0.0  # L1 summed over the open loss window
    window_count: int = 0
    val_seconds: float = 0.0
    wall_seconds: float = 0.0

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> TrainState:
        return cls(**{**d, "records": [StageRecord(**r) for r in d["records"]]})


@dataclass
class Checkpoint:
    path: Path
    config: TrainConfig
    state: TrainState
    params: dict
    params_ema: dict
    optimizer: dict
    rng: dict


def rng_state() -> dict:
    _, key, pos, has_gauss, gauss = np.random.get_state()
    version, internal, gauss_next = random.getstate()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": {"key": [int(k) for k in key], "pos": int(pos), "has_gauss": int(has_gauss), "gauss": float(gauss)},
        "python": [version, list(internal), gauss_next],
    }


def set_rng_state(rng: dict) -> None:
    torch.set_rng_state(rng["torch"])
    if rng["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])
    n = rng["numpy"]
    np.random.set_state(("MT19937", np.array(n["key"], dtype=np.uint32), n["pos"], n["has_gauss"], n["gauss"]))
    version, internal, gauss_next = rng["python"]
    random.setstate((version, tuple(internal), gauss_next))


def save_checkpoint(path: Path, config: TrainConfig, state: TrainState, model, ema, optimizer) -> Path:
    obj = {
        "format": FORMAT,
        "config": config.to_dict(),
        "state": state.to_dict(),
        "params": model.state_dict(),
        "params_ema": ema.state_dict(),
        "optimizer": optimizer.state_dict(),
        "rng": rng_state(),
    }
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)
    return path


def load_checkpoint(path: str | Path) -> Checkpoint:
    p = Path(path)
    if not p.is_file():
        raise ModelError(f"checkpoint {p} does not exist; give the checkpoint.pt of a training run")
    try:
        obj = load_weights_only(p)
    except UNREADABLE as exc:
        raise ModelError(
            f"checkpoint {p} cannot be read ({unreadable_reason(exc)}); "
            "it is truncated or not an edgesr training checkpoint"
        ) from None
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise ModelError(f"{p} is not an edgesr training checkpoint ({FORMAT}): it holds no training state to continue")
    return Checkpoint(
        p,
        TrainConfig.from_dict(obj["config"]),
        TrainState.from_dict(obj["state"]),
        obj["params"],
        obj["params_ema"],
        obj["optimizer"],
        obj["rng"],
    )
