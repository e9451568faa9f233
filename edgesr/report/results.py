"""The validation report as data: variants, per-data-set scores, drops, latency and the verdict.

Renderers (HTML, Markdown) and the JSON file read only this; nothing here formats text.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from edgesr.quality.protocol import EvalResult
from edgesr.report.artifact_info import ArtifactInfo
from edgesr.report.crops import Crop, Tile
from edgesr.timing import Latency

REFERENCE, CANDIDATE, BASELINE = "reference", "candidate", "baseline"


@dataclass
class Variant:
    """One column of the comparison: an artifact, or the bicubic baseline (``info`` None)."""

    name: str  # unique within the report
    role: str  # REFERENCE, CANDIDATE or BASELINE
    info: ArtifactInfo | None = None
    backend: str = ""  # what ran it, as its runner says
    notes: tuple[str, ...] = ()  # what the runner assumed or changed when loading it
    latency: Latency | None = None

    @property
    def precision(self) -> str:
        return self.info.precision if self.info is not None else "-"


@dataclass
class ImageCrops:
    """One crop of every variant and the ground truth; ``diffs[i]`` is the difference map of the
    variant in ``tiles[i]`` against the reference (None for tiles without one)."""

    image: str
    crop: Crop
    tiles: list[Tile]
    diffs: list[Tile | None]


@dataclass
class DatasetReport:
    """Scores of every variant on one image folder, in the same image order."""

    name: str
    folder: str
    scores: dict[str, EvalResult]  # variant name -> scores
    reference: str
    crops: list[ImageCrops] = field(default_factory=list)  # empty, or one per image in image order

    @property
    def image_names(self) -> list[str]:
        return [s.name for s in self.scores[self.reference].images]

    def drop(self, variant: str) -> float:
        """Mean Y-PSNR of the reference minus that of ``variant``: positive is a loss."""
        return self.scores[self.reference].mean_psnr - self.scores[variant].mean_psnr

    def ssim_drop(self, variant: str) -> float:
        return self.scores[self.reference].mean_ssim - self.scores[variant].mean_ssim

    def image_drops(self, variant: str) -> list[float]:
        return [r.psnr - c.psnr for r, c in zip(self.scores[self.reference].images, self.scores[variant].images)]


@dataclass(frozen=True)
class Failure:
    variant: str
    dataset: str
    drop: float


@dataclass
class ValidationReport:
    variants: list[Variant]  # the reference first, then candidates, then the baseline
    datasets: list[DatasetReport]
    scale: int
    shave: int
    max_drop: float
    latency_input: tuple[int, int] | None  # LR height, width; None when latency was not measured
    created: str  # ISO 8601, UTC
    version: str

    @property
    def reference(self) -> Variant:
        return next(v for v in self.variants if v.role == REFERENCE)

    @property
    def candidates(self) -> list[Variant]:
        return [v for v in self.variants if v.role == CANDIDATE]

    @property
    def failures(self) -> list[Failure]:
        """Every (candidate, data set) whose mean drop exceeds the budget (a NaN drop fails too)."""
        return [
            Failure(v.name, d.name, d.drop(v.name))
            for v in self.candidates
            for d in self.datasets
            if not d.drop(v.name) <= self.max_drop
        ]

    @property
    def passed(self) -> bool:
        return not self.failures

    def verdict(self, variant: Variant) -> str:
        if variant.role != CANDIDATE:
            return variant.role
        return "fail" if any(f.variant == variant.name for f in self.failures) else "pass"

    def latency_ratio(self, variant: Variant) -> float | None:
        """Latency relative to the reference's, paired round by round (below 1 is faster)."""
        ref = self.reference.latency
        if variant.latency is None or ref is None:
            return None
        return variant.latency.ratio_to(ref)

    def to_dict(self) -> dict:
        """Every number in the report, JSON-ready (infinite or undefined values as strings)."""
        return {
            "edgesr_version": self.version,
            "created": self.created,
            "scale": self.scale,
            "shave": self.shave,
            "metric": "Y-channel (BT.601) PSNR/SSIM, MATLAB bicubic LR, output rounded to uint8",
            "max_drop_db": self.max_drop,
            "passed": self.passed,
            "failures": [{"variant": f.variant, "dataset": f.dataset, "drop_db": _num(f.drop)} for f in self.failures],
            "reference": self.reference.name,
            "latency_input": None
            if self.latency_input is None
            else {
                "shape": [1, 3, *self.latency_input],
                "what": "one call: uint8 LR in, uint8 SR out",
            },
            "variants": [self._variant_dict(v) for v in self.variants],
            "datasets": [self._dataset_dict(d) for d in self.datasets],
        }

    def _variant_dict(self, v: Variant) -> dict:
        info = v.info
        return {
            "name": v.name,
            "role": v.role,
            "verdict": self.verdict(v),
            "path": None if info is None else str(info.path),
            "kind": None if info is None else info.kind,
            "precision": None if info is None else info.precision,
            "precision_detail": None if info is None else info.detail,
            "size_bytes": None if info is None else info.size_bytes,
            "backend": v.backend or None,
            "runner_notes": list(v.notes),
            "metadata": {} if info is None else dict(info.metadata),
            "latency_ms": None
            if v.latency is None
            else {
                "median": v.latency.median_ms,
                "p25": v.latency.p25_ms,
                "p75": v.latency.p75_ms,
                "min": v.latency.min_ms,
                "repeats": v.latency.repeats,
                "samples": list(v.latency.samples_ms),
            },
            "latency_ratio": self.latency_ratio(v),
            "datasets": {
                d.name: {
                    "mean_psnr": _num(d.scores[v.name].mean_psnr),
                    "mean_ssim": d.scores[v.name].mean_ssim,
                    "drop_psnr": _num(d.drop(v.name)),
                    "drop_ssim": d.ssim_drop(v.name),
                }
                for d in self.datasets
            },
        }

    def _dataset_dict(self, d: DatasetReport) -> dict:
        images = []
        for i, name in enumerate(d.image_names):
            ref = d.scores[d.reference].images[i]
            entry = {
                "name": name,
                "height": ref.height,
                "width": ref.width,
                "scores": {
                    v: {
                        "psnr": _num(s.images[i].psnr),
                        "ssim": s.images[i].ssim,
                        "drop_psnr": _num(ref.psnr - s.images[i].psnr),
                    }
                    for v, s in d.scores.items()
                },
            }
            if d.crops:  # one per image, in image order
                c = d.crops[i].crop
                entry["crop"] = {"top": c.top, "left": c.left, "size": c.size, "zoom": c.zoom, "reason": c.reason}
            images.append(entry)
        return {"name": d.name, "folder": d.folder, "images": images}


def _num(x: float) -> float | str:
    """JSON has no infinity or NaN; such values are written as strings."""
    return x if math.isfinite(x) else str(x)
