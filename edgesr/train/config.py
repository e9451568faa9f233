"""Settings of a training run and the parsers for its budgets; no torch here (the CLI imports it)."""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from edgesr.errors import InputError
from edgesr.log import logger
from edgesr.models import registry

# Benchmark sets a model is scored on; training on them makes its scores meaningless.
BENCHMARKS = ("set5", "set14", "urban100", "bsd100", "b100", "manga109")
# Training sets that overlap a benchmark: allowed, but that benchmark may not be reported.
OVERLAPS = {"bsd68": "B100 (BSD68 is a subset of BSD100)"}
# Settings that may change when a run is continued: where it runs and how often it saves.
OPERATIONAL = ("out", "device", "checkpoint_every", "cache_dir", "cache")

DEFAULT_LR = 1e-3
POSITIVES = ("other-image", "same-image")  # where a degradation encoder's contrastive positive comes from
_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*([hms]?)")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600}
_MULTIPLIERS = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}


@dataclass
class TrainConfig:
    """One training run. A budget is required: ``iterations`` or ``budget_pixels``, and/or ``time``.

    Each stage trains on LR patches of one side length (``stages``); a stage after the first
    starts from the previous stage's EMA weights (the multiscale hot start). When several
    budgets are given a stage ends at whichever runs out first, and the learning-rate schedule
    follows that one.
    """

    arch: str
    data: tuple[str, ...]
    out: str  # run directory: checkpoint, weights, summary.json
    scale: int = 4
    stages: tuple[int, ...] = (48,)  # LR patch side of each stage
    batch: int = 16
    iterations: tuple[int, ...] | None = None  # per stage: one value for all, or one each
    budget_pixels: int | None = None  # LR pixels over the whole run, split evenly among stages
    time: float | None = None  # seconds of training steps over the whole run, split evenly
    lr: float | None = None  # None: the architecture's own (models table), else DEFAULT_LR
    min_lr: float = 1e-6
    stage_lr_decay: float = 0.5  # stage i peaks at lr * stage_lr_decay**i
    ema: float = 0.999
    seed: int = 0
    val: str | None = None  # held-out HR folder; None: the photos shipped with edgesr
    val_every: int = 0  # iterations between validations inside a stage; 0: at stage ends only
    checkpoint_every: int = 500
    log_every: int = 50  # iterations per entry of the loss log
    device: str = "auto"
    model: dict[str, str | int | float | bool] = field(default_factory=dict)  # hyper-parameters, e.g. act
    init: str | None = None  # weights to start from (a checkpoint of this architecture); None: random
    # None: the benchmark LR (MATLAB bicubic); else a training mix (e.g. real) or a fixed degradation
    # spec: each patch's LR is made from its HR patch that way (edgesr.degrade)
    degrade: str | None = None
    # contrastive pre-training of a degradation encoder (architectures with one, e.g. aidn-da) before
    # the reconstruction stages, in iterations; 0: none
    encoder_iterations: int = 0
    contrastive: float = 0.1  # weight of the contrastive loss beside L1 in the stages of such an architecture
    # where a contrastive positive comes from: another image under the same degradation (content cannot
    # match it), or another place of the same image (edgesr.train.degraded.PairedDegradedPatchSampler)
    positives: str = "other-image"
    cache: bool = True  # keep the LR of each training image on disk, keyed by the image's content
    cache_dir: str | None = None  # None: $XDG_CACHE_HOME/edgesr/train-lr
    allow_benchmark_data: bool = False

    def __post_init__(self) -> None:
        if self.lr is None:
            self.lr = registry.get(self.arch).lr or DEFAULT_LR
        self.data = tuple(str(d) for d in self.data)
        self.stages = tuple(int(p) for p in self.stages)
        if self.iterations is not None:
            self.iterations = tuple(int(n) for n in self.iterations)

    def check(self) -> None:
        """Raise :class:`InputError` naming every setting that cannot work."""
        problems = []
        if not self.data:
            problems.append("give at least one training folder (--data)")
        if self.scale < 1:
            problems.append(f"scale must be a positive integer, not {self.scale}")
        if not self.stages or min(self.stages) < 2:
            problems.append(f"stages are LR patch sides of at least 2 px, not {list(self.stages)}")
        if self.batch < 1:
            problems.append(f"batch must be at least 1, not {self.batch}")
        problems += self._budget_problems()
        if not 0 < self.min_lr <= self.lr:
            problems.append(f"need 0 < min_lr ({self.min_lr}) <= lr ({self.lr})")
        if not 0 < self.stage_lr_decay <= 1:
            problems.append(f"stage_lr_decay must lie in (0, 1], not {self.stage_lr_decay}")
        if not 0 <= self.ema < 1:
            problems.append(f"ema must lie in [0, 1), not {self.ema}")
        if self.seed < 0:
            problems.append(f"seed must be non-negative, not {self.seed}")
        if min(self.val_every, self.checkpoint_every - 1, self.log_every - 1) < 0:
            problems.append("val_every must be >= 0, checkpoint_every and log_every >= 1")
        problems += self._encoder_problems()
        if problems:
            raise InputError("training settings: " + "; ".join(problems))
        if self.degrade is not None:
            from edgesr.train.degraded import check_degrade

            check_degrade(self.degrade)

    def _budget_problems(self) -> list[str]:
        problems = []
        if self.iterations is None and self.budget_pixels is None and self.time is None:
            problems.append("give a budget: --iterations, --budget-pixels and/or --time")
        if self.iterations is not None and self.budget_pixels is not None:
            problems.append("--iterations and --budget-pixels both set the length of a stage; give one")
        if self.iterations is not None and (
            len(self.iterations) not in (1, len(self.stages)) or min(self.iterations) < 1
        ):
            problems.append(
                f"iterations must be one positive count or one per stage ({len(self.stages)}), "
                f"not {list(self.iterations)}"
            )
        if self.budget_pixels is not None and self.budget_pixels < 1:
            problems.append("budget_pixels must be positive")
        if self.time is not None and self.time <= 0:
            problems.append("time must be positive")
        return problems

    def _encoder_problems(self) -> list[str]:
        if self.encoder_iterations < 0 or self.contrastive < 0:
            return ["encoder_iterations and contrastive must be >= 0"]
        if self.positives not in POSITIVES:
            return [f"positives must be one of {', '.join(POSITIVES)}, not {self.positives!r}"]
        has_encoder = registry.get(self.arch).encoder
        if self.encoder_iterations and not has_encoder:
            return [
                f"--encoder-iterations: {self.arch} has no degradation encoder "
                f"(architectures with one: {', '.join(a.name for a in registry.ARCHS if a.encoder)})"
            ]
        if self.encoder_iterations and self.degrade is None:
            return ["--encoder-iterations needs degraded training data: pass --degrade (e.g. real)"]
        if self.paired() and self.batch % 2:
            return [f"a degradation encoder trains on pairs of patches: --batch must be even, not {self.batch}"]
        return []

    def paired(self) -> bool:
        """Batches come in pairs of one image under one degradation (the contrastive loss's positives)."""
        return registry.get(self.arch).encoder and self.degrade is not None

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        for key in ("data", "stages", "iterations"):
            if d[key] is not None:
                d[key] = list(d[key])
        return d

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        if "encoder_iterations" in d and "positives" not in d:
            d = {**d, "positives": "same-image"}  # runs from before the setting existed
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise InputError(
                f"checkpoint settings have unknown keys {unknown}; it was written by another edgesr version"
            )
        return cls(**d)

    def differences(self, other: TrainConfig) -> list[str]:
        """``'key: mine vs other'`` for every setting that defines the run and differs."""
        a, b = self.to_dict(), other.to_dict()
        return [f"{k}: {a[k]!r} vs {b[k]!r}" for k in a if k not in OPERATIONAL and a[k] != b[k]]


def benchmark_folders(folders: tuple[str, ...]) -> list[str]:
    """The folders among ``folders`` that are (or lie inside) a benchmark set, by name."""
    return [f for f in folders if any(part.lower() in BENCHMARKS for part in Path(f).parts)]


def overlap_notes(folders: tuple[str, ...]) -> list[str]:
    """What may not be reported for a model trained on ``folders``."""
    notes = []
    for f in folders:
        for part in Path(f).parts:
            if part.lower() in OVERLAPS:
                notes.append(f"trained on {f}: report no {OVERLAPS[part.lower()]} scores for this model")
    return notes


def data_notes(cfg: TrainConfig) -> list[str]:
    """Refuse benchmark sets as training data (unless allowed, then warn loudly); note overlaps."""
    notes = []
    for folder in benchmark_folders(cfg.data):
        if not cfg.allow_benchmark_data:
            raise InputError(
                f"{folder} is a benchmark set: a model trained on it cannot be scored on it; train on "
                "other images (e.g. datasets/train), or pass --allow-benchmark-data to do it anyway"
            )
        notes.append(f"TRAINED ON BENCHMARK DATA {folder}: no score of this model on that benchmark is valid")
    notes += overlap_notes(cfg.data)
    for note in notes:
        logger.warning("%s", note)
    return notes


def parse_duration(text: str) -> float:
    """Seconds in '2h', '90m', '1h30m', '45s' or a plain number of seconds."""
    s = text.strip().lower().replace(" ", "")
    parts = _DURATION.findall(s)
    if not s or "".join(n + u for n, u in parts) != s or len({u or "s" for _, u in parts}) != len(parts):
        raise InputError(f"'{text}' is not a duration; write e.g. 2h, 90m, 1h30m or 45s")
    seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    if seconds <= 0:
        raise InputError(f"duration '{text}' must be positive")
    return seconds


def parse_count(text: str) -> int:
    """An integer from '2e9', '500M', '2G', '1.5T' or '12000'."""
    s = text.strip().lower()
    suffix = s[-1:] if s[-1:].isalpha() else ""
    try:
        value = float(s[: len(s) - len(suffix)]) * _MULTIPLIERS[suffix]
    except (ValueError, KeyError):
        value = math.nan
    if not (math.isfinite(value) and value >= 1):
        raise InputError(f"'{text}' is not a positive count; write e.g. 2e9, 500M or 2G")
    return int(round(value))


def parse_sizes(text: str) -> tuple[int, ...]:
    """'48,64,96' -> (48, 64, 96)."""
    try:
        sizes = tuple(int(p) for p in text.split(","))
    except ValueError:
        raise InputError(f"'{text}' is not a comma-separated list of integers, e.g. 48,64,96") from None
    if min(sizes) < 1:
        raise InputError(f"'{text}': every value must be positive")
    return sizes


def parse_setting(text: str) -> tuple[str, str]:
    """'act=gelu' -> ('act', 'gelu'); the value is typed later, against the architecture's config."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip() or not value.strip():
        raise InputError(f"'{text}' is not KEY=VALUE, e.g. act=gelu")
    return key.strip(), value.strip()
