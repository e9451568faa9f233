"""What the browser may choose from: models and data folders in the configured places only.

The page never takes a server path from the user; it offers the entries listed here and gets
them back by index. Each artifact in the models folder is inspected once (per size and
modification time); one that cannot be read is listed as unusable with the reason.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from edgesr import shipped
from edgesr.errors import EdgeSRError
from edgesr.io.images import IMAGE_SUFFIXES, sample_images
from edgesr.runtime.runners import runner_suffix

CHECKPOINT_SUFFIXES = (".pth", ".pt")
MAX_DEPTH = 4  # build outputs sit at models/<device>/<identity>/file
MAX_FILES = 500


@dataclass(frozen=True)
class Entry:
    """One model file the app can offer."""

    label: str  # what the page shows
    family: str  # files of one model (one build directory, or one shipped model)
    path: Path
    precision: str  # "fp32", "fp16", "int8", or "?" when only its runner can tell
    source: str  # "shipped" or "models folder"
    reason: str = ""  # why it cannot be used; empty when usable

    @property
    def usable(self) -> bool:
        return not self.reason


@dataclass(frozen=True)
class Catalog:
    artifacts: list[Entry]  # runnable models, usable or not
    checkpoints: list[Path]  # PyTorch weights in the models folder, for Build
    note: str  # a message about the models folder itself, empty when it is fine

    @property
    def usable(self) -> list[Entry]:
        return [e for e in self.artifacts if e.usable]

    @property
    def unusable(self) -> list[Entry]:
        return [e for e in self.artifacts if not e.usable]

    def families(self) -> list[str]:
        return list(dict.fromkeys(e.family for e in self.usable))

    def in_family(self, family: str) -> list[Entry]:
        return [e for e in self.usable if e.family == family]


_inspected: dict[tuple[Path, int, int], tuple[str, str]] = {}
_inspect_lock = threading.Lock()


def _precision(path: Path) -> tuple[str, str]:
    """(precision, reason it is unusable) of one artifact, remembered per size and mtime."""
    from edgesr.report.artifact_info import inspect

    st = path.stat()
    k = (path, st.st_size, st.st_mtime_ns)
    with _inspect_lock:
        if k in _inspected:
            return _inspected[k]
    try:
        info = inspect(path)
        found = (info.precision if info is not None else "?", "")
    except EdgeSRError as exc:
        found = ("?", str(exc))
    except Exception as exc:  # a file the ONNX parser chokes on is unusable, not a crash
        found = ("?", f"cannot read it ({type(exc).__name__}: {exc})")
    with _inspect_lock:
        _inspected[k] = found
    return found


def _files(root: Path) -> list[Path]:
    """Files under ``root`` down to MAX_DEPTH, skipping hidden folders (a build's work files)."""
    out: list[Path] = []
    level = [root]
    for _ in range(MAX_DEPTH):
        nxt = []
        for d in level:
            for p in sorted(d.iterdir()):
                if p.name.startswith("."):
                    continue
                if p.is_dir() and not p.is_symlink():
                    nxt.append(p)
                elif p.is_file():
                    out.append(p)
        level = nxt
    return out[:MAX_FILES]


def shipped_routers() -> list[Entry]:
    """The routers edgesr ships, the default first, each resolved over its models' INT8 files as
    ``upscale`` runs it (:func:`edgesr.artifacts.resolve`)."""
    from edgesr import artifacts, routing

    entries = []
    for name, data in sorted(routing.shipped_routers().items(), key=lambda item: not item[1].get("default")):
        label = f"{name} (shipped router: one of {', '.join(data['router']['experts'])} per picture)"
        try:
            entries.append(Entry(label, name, artifacts.resolve(name).path, "int8", "shipped"))
        except (EdgeSRError, OSError) as exc:
            entries.append(Entry(label, name, routing.FOLDER / f"{name}.json", "int8", "shipped", str(exc)))
    return entries


def discover(models_dir: Path) -> Catalog:
    models = sorted(shipped.shipped(), key=lambda m: not m.card.get("default"))  # the default model first
    entries = shipped_routers()
    entries += [Entry(f"{m.name} (shipped, fp32)", m.name, m.onnx, "fp32", "shipped") for m in models]
    if not models_dir.is_dir():
        what = "is not a folder" if models_dir.exists() else "does not exist"
        return Catalog(
            entries,
            [],
            f"models folder {models_dir} {what}; only the shipped models are offered "
            "(Build creates it, or pass an existing folder with --models-dir)",
        )
    checkpoints = []
    for p in _files(models_dir):
        rel = p.relative_to(models_dir)
        if p.suffix.lower() in CHECKPOINT_SUFFIXES:
            checkpoints.append(p)
        elif runner_suffix(p) is not None:
            precision, reason = _precision(p)
            family = str(rel.parent) if rel.parent != Path(".") else p.stem
            # paths in messages relative to the models folder: the browser needs no server layout
            entries.append(
                Entry(f"{rel} ({precision})", family, p, precision, "models folder", reason.replace(str(p), str(rel)))
            )
    return Catalog(entries, checkpoints, "")


def data_folders(data_dirs: tuple[Path, ...]) -> dict[str, Path]:
    """Label -> folder of HR images: the shipped samples, each configured folder that holds images,
    and each of its sub-folders that does (so ``--data-dir datasets`` offers Set5 and Set14)."""
    found = {"shipped samples": sample_images()[0].parent}
    for d in data_dirs:
        if not d.is_dir():
            continue
        for folder in [d, *sorted(p for p in d.iterdir() if p.is_dir() and not p.name.startswith("."))]:
            if any(f.suffix.lower() in IMAGE_SUFFIXES for f in folder.iterdir() if f.is_file()):
                found[folder.name if folder != d else d.name] = folder
    return found
