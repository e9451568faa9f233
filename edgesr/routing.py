"""A router: per scene, the one of several SR models that suits the frame's degradation.

A blind-SR model's encoder (:mod:`edgesr.runtime.scene`) describes the degradation of a whole frame
as a vector. A ridge regression from that vector (standardised) to each model's Y-PSNR gain over
the first model, fitted on degraded training crops, predicts which model gains most; the first
model runs when none is predicted to gain. Models that are each best on different input (clean,
blurred, noisy or compressed) then serve as one (docs/decisions.md, The default routes among
three models).

Two JSON forms: the shipped router (``edgesr/data/routers/NAME.json``: the regression, the expert
names and how it was fitted and measured) and the artifact a run opens (``*.router.json``: the same
regression with the file of each expert resolved for one precision).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgesr.errors import ModelError

FORMAT = "edgesr-router/1"
SUFFIX = ".router.json"
FOLDER = Path(__file__).parent / "data" / "routers"


@dataclass(frozen=True)
class Router:
    experts: tuple[str, ...]  # model names; the first is the fallback
    encoder: str  # the expert whose degradation encoder makes the vector
    mean: np.ndarray  # D
    std: np.ndarray  # D
    weights: np.ndarray  # (D + 1) x len(experts): predicted gain over the first expert, bias last

    def gains(self, vector: np.ndarray) -> np.ndarray:
        v = (np.asarray(vector, np.float64).reshape(-1) - self.mean) / self.std
        return np.append(v, 1.0) @ self.weights

    def pick(self, vector: np.ndarray) -> int:
        """The index of the expert to run for a frame of this degradation vector."""
        gains = self.gains(vector)
        return int(gains.argmax()) if gains.max() > 0 else 0

    def to_dict(self) -> dict:
        return {
            "experts": list(self.experts),
            "encoder": self.encoder,
            "mean": self.mean.tolist(),
            "std": self.std.tolist(),
            "weights": self.weights.tolist(),
        }

    @classmethod
    def from_dict(cls, d: dict, where: str) -> Router:
        try:
            experts = tuple(str(e) for e in d["experts"])
            mean, std, weights = (np.asarray(d[k], np.float64) for k in ("mean", "std", "weights"))
            encoder = str(d["encoder"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(
                f"{where} is not an edgesr router ({exc}); remake it with edgesr models --ship-router"
            ) from None
        dims = mean.shape[0] if mean.ndim == 1 else -1
        if (
            len(experts) < 2
            or encoder not in experts
            or std.shape != mean.shape
            or weights.shape != (dims + 1, len(experts))
        ):
            raise ModelError(
                f"{where}: the router's sizes do not agree ({len(experts)} experts, mean {mean.shape}, "
                f"std {std.shape}, weights {weights.shape}); remake it with edgesr models --ship-router"
            )
        if not (np.all(np.isfinite(weights)) and np.all(std > 0)):
            raise ModelError(f"{where}: the router holds non-finite weights or a zero spread; remake it")
        return cls(experts, encoder, mean, std, weights)


def fit(experts: tuple[str, ...], encoder: str, vectors: np.ndarray, scores: np.ndarray, ridge: float) -> Router:
    """Ridge regression from ``vectors`` (N x D) to each expert's gain over the first (``scores``:
    N x E Y-PSNR); the bias is not shrunk."""
    mean, std = vectors.mean(0), vectors.std(0) + 1e-6
    f = np.concatenate([(vectors - mean) / std, np.ones((len(vectors), 1))], axis=1)
    penalty = ridge * np.diag([1.0] * (f.shape[1] - 1) + [0.0])
    weights = np.linalg.solve(f.T @ f + penalty, f.T @ (scores - scores[:, :1]))
    return Router(tuple(experts), encoder, mean, std, weights)


def shipped_routers(folder: Path | None = None) -> dict[str, dict]:
    """The routers edgesr ships, by name (the file's stem)."""
    folder = FOLDER if folder is None else folder
    return {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))} if folder.is_dir() else {}


def read_artifact(path: Path) -> tuple[Router, dict[str, Path], dict]:
    """A ``*.router.json`` artifact: its router, each expert's file, and the whole record."""
    try:
        record = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read the router {path} ({exc}); remake it by running with --model auto") from None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise ModelError(
            f"{Path(path).name} is a JSON file but not an edgesr router ({FORMAT}); pass an .onnx or .engine model"
        )
    router = Router.from_dict(record.get("router") or {}, Path(path).name)
    files = record.get("files") or {}
    missing = [e for e in router.experts if e not in files]
    if missing:
        raise ModelError(
            f"{Path(path).name} names no file for {', '.join(missing)}; remake it by running with --model auto"
        )
    return router, {e: Path(files[e]) for e in router.experts}, record
