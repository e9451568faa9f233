"""Which file a run uses when the user names a shipped model, or none.

With no model, ``edgesr upscale`` and ``edgesr stream`` run the default model's INT8 ONNX Runtime
artifact; ``--precision fp32`` gives the FP32 file back, and a shipped name runs its FP32 file
unless ``--precision int8`` asks for its INT8 one. The INT8 artifact is the one shipped beside
the model (``<name>.int8.onnx``, and ``<name>.int8.x86.onnx``, the same grid in the encoding ONNX
Runtime fuses on x86), written with its card's ``int8`` entry by ``edgesr models --ship-int8
NAME``. That file is used only while the card's record of the FP32 file it was made from matches
the shipped FP32 file; otherwise (say, the default model was replaced and the INT8 file not
remade) the same recipe builds it once into ``$XDG_CACHE_HOME/edgesr/int8``, in an entry keyed by
the FP32 file's hash and a fingerprint of everything else that decides the output: the code of
the conversion and quantize stages, their calibration and validation images, the versions of the
libraries they run on, and the recipe. A stale entry is never used: it has another key.

An explicit model file always runs as given.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from edgesr import fileio, lock, routing, shipped
from edgesr.errors import EdgeSRError, InputError
from edgesr.log import logger, stage
from edgesr.quality.protocol import DEFAULT_MAX_DROP_DB

PRECISIONS = ("int8", "fp32")
ENCODINGS = ("int8", "x86")  # edgesr quantize's two files: symmetric INT8, and UINT8 for x86
# The one recipe of shipped and cached INT8 artifacts: edgesr quantize's budget on its default
# calibration and validation sets, after edgesr convert --target cpu.
RECIPE = {"convert_target": "cpu", "max_drop_db": DEFAULT_MAX_DROP_DB}
# A model trained for degraded input has its budget measured on the quality grid's degradations of
# the validation images (clean among them): the content it is made for.
DEGRADED_VALIDATION = ("grid",)
SHIP_COMMAND = "edgesr models --ship-int8 {name}"
_PACKAGE = Path(__file__).parent
# What the conversion and quantize stages read besides the FP32 file (measured: the edgesr
# modules loaded by convert + quantize); any change to them can change the INT8 file.
_FINGERPRINT_TREES = ("onnx", "quantize", "quality", "degrade", "data/samples")
_FINGERPRINT_FILES = ("meta.py", "io/images.py", "fileio.py", "artifacts.py")
_FINGERPRINT_DISTS = ("numpy", "onnx", "onnxruntime", "onnxsim", "onnxslim")
_X86 = ("x86_64", "amd64", "i386", "i686", "x86")
_LOCK_POLL = 0.2


@dataclass(frozen=True)
class Resolved:
    """The file to run, its precision (None for a file given by path) and what it is, in words."""

    path: Path
    precision: str | None
    what: str


def resolve(model: str | None, precision: str | None = None, providers: tuple[str, ...] | None = None) -> Resolved:
    """The artifact for ``--model`` (a path, a shipped model's or router's name, or None for the default:
    the default router where one ships, else the default model) and ``--precision``."""
    if precision is not None and precision not in PRECISIONS:
        raise InputError(f"unknown precision '{precision}'; choose one of {', '.join(PRECISIONS)}")
    names = {m.name for m in shipped.shipped()}
    routers = routing.shipped_routers()
    if model is not None and (Path(model).exists() or model not in names | set(routers)):
        if precision is not None:
            raise InputError(
                f"--precision picks among a shipped model's files, and {model} runs as given; drop "
                "--precision (make an INT8 file of your own with 'edgesr quantize')"
            )
        return Resolved(Path(model), None, "as given")
    default_router = next((name for name, r in routers.items() if r.get("default")), None)
    if model in routers or (model is None and default_router is not None):
        return routed_artifact(model or default_router, routers, precision, providers, default=model is None)
    m = shipped.find(model)
    label = f"{'default ' if model is None else ''}model {m.name}"
    wanted = precision or ("int8" if model is None else "fp32")
    if wanted == "fp32":
        found = Resolved(m.onnx, "fp32", f"the shipped {label}, FP32")
    else:
        found = int8_artifact(m, label, ort_encoding(providers))
    hint = " (--precision fp32 for the FP32 file)" if found.precision == "int8" else ""
    logger.info("model: %s: %s%s", found.what, found.path, hint)
    return found


def routed_artifact(
    name: str, routers: dict[str, dict], precision: str | None, providers: tuple[str, ...] | None, default: bool
) -> Resolved:
    """The shipped router ``name`` with each expert resolved at ``precision`` (default INT8), as a
    ``*.router.json`` in the cache named by its content, so a run opens exactly the files chosen here."""
    router = routing.Router.from_dict(routers[name].get("router") or {}, f"the shipped router {name}")
    wanted = precision or "int8"
    found = {expert: resolve(expert, wanted, providers) for expert in router.experts}
    got = sorted({f.precision for f in found.values()})
    record = {
        "format": routing.FORMAT,
        "name": name,
        "router": router.to_dict(),
        "files": {expert: str(f.path.resolve()) for expert, f in found.items()},
        # the encoder the router was fitted with, whatever precision the experts run at
        "encoder_file": str(shipped.find(router.encoder).onnx.resolve()),
    }
    text = json.dumps(record, indent=1, sort_keys=True)
    path = cache_root().parent / "routers" / f"{name}-{hashlib.sha256(text.encode()).hexdigest()[:16]}{routing.SUFFIX}"
    if not path.is_file():
        fileio.write_text(path, text)
    what = (
        f"the shipped {'default ' if default else ''}router {name}: per scene one of "
        f"{', '.join(router.experts)}, {'/'.join(p.upper() for p in got)}"
    )
    logger.info("model: %s: %s", what, path)
    return Resolved(path, "/".join(got), what)


def ort_encoding(providers: tuple[str, ...] | None = None) -> str:
    """``x86`` (UINT8 encoding) where ONNX Runtime's CPU provider runs on an x86 CPU, else ``int8``.

    On x86 the symmetric INT8 file runs slower than FP32 and the x86 file much faster, because ONNX
    Runtime's x86 kernels fuse Q/DQ convolutions only with unsigned activations (docs/decisions.md,
    ONNX Runtime on x86 runs the UINT8 encoding). TensorRT and ARM run symmetric INT8.
    """
    if platform.machine().lower() not in _X86:
        return "int8"
    from edgesr.onnx.sessions import ALIASES, PREFERENCE

    if providers:
        first = ALIASES.get(providers[0].lower(), providers[0])
    else:
        from edgesr.lazy import require

        available = require("onnxruntime").get_available_providers()
        first = next(p for p in PREFERENCE if p in available)
    return "x86" if first == "CPUExecutionProvider" else "int8"


def shipped_int8(model: shipped.ShippedModel, encoding: str) -> tuple[Path | None, str]:
    """The shipped INT8 file of ``model`` if its card proves it was made from the shipped FP32
    file; otherwise None and why not."""
    entry = model.card.get("int8")
    if not entry:
        return None, "no INT8 file ships with it"
    if entry.get("source", {}).get("sha256") != fileio.sha256(model.onnx):
        return None, f"its shipped INT8 file was made from another FP32 file than {model.onnx.name}"
    path = model.int8(encoding)
    recorded = entry.get("files", {}).get(path.name, {}).get("sha256")
    if not path.is_file() or recorded != fileio.sha256(path):
        return None, f"its shipped {path.name} is missing or differs from its card"
    return path, ""


def int8_artifact(model: shipped.ShippedModel, label: str, encoding: str) -> Resolved:
    """The shipped INT8 file when valid, else the cached one (built on first use); the FP32 file,
    said in a warning, when neither can be had."""
    kind = "x86 encoding" if encoding == "x86" else "symmetric"
    path, why = shipped_int8(model, encoding)
    if path is not None:
        return Resolved(path, "int8", f"the shipped {label}, INT8 ({kind})")
    try:
        path = cached_int8(model, encoding, why)
    except (EdgeSRError, OSError) as exc:
        logger.warning(
            "model: no INT8 file for %s (%s) and building one failed (%s); running FP32 %s",
            model.name,
            why,
            exc,
            model.onnx,
        )
        return Resolved(model.onnx, "fp32", f"the shipped {label}, FP32 (INT8 unavailable)")
    return Resolved(path, "int8", f"the {label}, INT8 ({kind}) built into the cache")


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "edgesr" / "int8"


def recipe(model: shipped.ShippedModel) -> dict:
    """The INT8 recipe of ``model``: :data:`RECIPE`, validated on degraded LR when the model was trained on it."""
    lr_method = str(model.card.get("training", {}).get("data", {}).get("lr_method") or "")
    return {**RECIPE, "val_degrade": list(DEGRADED_VALIDATION)} if lr_method.startswith("degraded") else dict(RECIPE)


def cache_key(fp32: Path, how: dict | None = None) -> str:
    """What decides the INT8 file: the FP32 file, the code and data that make it, the recipe."""
    parts = {"fp32": fileio.sha256(fp32), "code": fingerprint(), "recipe": RECIPE if how is None else how}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def fingerprint() -> str:
    """SHA-256 over the conversion and quantize stages' code and data and their libraries' versions."""
    h = hashlib.sha256()
    files = [
        p
        for tree in _FINGERPRINT_TREES
        for p in (_PACKAGE / tree).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    ]
    files += [_PACKAGE / f for f in _FINGERPRINT_FILES]
    for p in sorted(files):
        h.update(str(p.relative_to(_PACKAGE)).encode() + b"\0" + p.read_bytes() + b"\0")
    for dist in _FINGERPRINT_DISTS:
        try:
            version = metadata.version(dist)
        except metadata.PackageNotFoundError:
            version = "absent"
        h.update(f"{dist}={version}\0".encode())
    return h.hexdigest()


def cached_int8(model: shipped.ShippedModel, encoding: str, why: str) -> Path:
    """The cache entry's INT8 file for ``model``, built first if the entry is missing or stale."""
    how = recipe(model)
    key = cache_key(model.onnx, how)
    entry = cache_root() / f"{model.name}-{key[:16]}"
    if not _complete(entry, key, model.name):
        with _build_lock(entry):
            if not _complete(entry, key, model.name):
                logger.info(
                    "model: %s, so its INT8 artifact is built once into %s (about half a minute; later runs reuse it)",
                    why,
                    entry,
                )
                with _quiet():
                    record = make_int8(model.onnx, entry, model.name, latency=False, how=how)
                fileio.write_json(
                    entry / "key.json", {"key": key, "source": record["source"], "validation": record["validation"]}
                )
        _prune(model.name, entry)
    return entry / model.int8(encoding).name


def make_int8(fp32: Path, folder: Path, name: str, *, latency: bool, how: dict | None = None) -> dict:
    """Run the recipe ``how`` (default :data:`RECIPE`) on ``fp32``: write ``<name>.int8.onnx`` and
    ``<name>.int8.x86.onnx`` into ``folder`` (atomically) and return edgesr quantize's record."""
    from edgesr.onnx.convert import convert
    from edgesr.quantize import quantize

    how = RECIPE if how is None else how
    with tempfile.TemporaryDirectory(prefix="edgesr-int8-") as tmp:
        converted = convert(fp32, Path(tmp) / "convert", target=how["convert_target"]).onnx_path
        result = quantize(
            converted,
            Path(tmp) / "model.int8.onnx",
            max_drop=how["max_drop_db"],
            latency=latency,
            val_degrade=tuple(how.get("val_degrade", ())),
        )
        files = result.record["files"]
        for encoding in ENCODINGS:
            fileio.write_bytes(folder / shipped.int8_name(name, encoding), Path(files[encoding]).read_bytes())
    record = dict(result.record)
    record["source"] = {"path": fp32.name, "sha256": fileio.sha256(fp32)}
    return record


def ship_int8(name: str) -> dict:
    """Make the shipped model ``name``'s INT8 files beside it and record them in its card."""
    m = shipped.find(name)
    how = recipe(m)
    record = make_int8(m.onnx, m.onnx.parent, m.name, latency=True, how=how)
    v = record["validation"]
    if not v["met"]:
        raise InputError(
            f"the INT8 model of {m.name} loses {v['drop_db']:.3f} dB, over the {RECIPE['max_drop_db']} dB "
            "budget; it was not recorded in the card (improve the model's INT8 behaviour first)"
        )
    lat = record.get("latency") or {}
    files = {p.name: {"sha256": fileio.sha256(p), "bytes": p.stat().st_size} for p in (m.int8(e) for e in ENCODINGS)}
    entry = {
        "made_by": SHIP_COMMAND.format(name=m.name),
        "source": record["source"],
        "fingerprint": fingerprint(),
        "recipe": {**how, "calibration": record["calibration"]["name"], "rounding": record["recipe"]["rounding"]},
        "validation": {
            "images": v["images"],
            "source": v["source"],
            "budget_db": v["budget_db"],
            "drop_db": round(v["drop_db"], 4),
            "int8_units": record["int8_units"],
            "kept_in_float": [k["node"] for k in record["kept"]],
        },
        "latency": {
            "shape": lat.get("shape"),
            "threads": lat.get("threads"),
            "runtime": lat.get("runtime"),
            "x86_vs_fp32": lat.get("speedup"),
            "int8_vs_fp32": lat.get("speedup_int8_encoding"),
        },
        "files": files,
    }
    fileio.write_json(m.onnx.with_suffix(".json"), {**m.card, "int8": entry})
    return entry


ROUTER_EXPERTS = ("aidn-rt", "aidn-rt-real", "aidn-da")


def ship_router(
    name: str,
    train: list[Path],
    evaluate: list[Path],
    *,
    experts: tuple[str, ...] = ROUTER_EXPERTS,
    per_image: int = 4,
    ridge: float = 1.0,
    default: bool | None = None,
) -> dict:
    """Fit the router ``name`` over the shipped ``experts`` on crops of the ``train`` folders, measure
    it on the quality grid of the ``evaluate`` folders beside bicubic and each expert, and write it to
    ``edgesr/data/routers/NAME.json`` (``default`` None keeps the file's own flag)."""
    from edgesr import __version__
    from edgesr.degrade.spec import GRID, PRESETS
    from edgesr.onnx import loading
    from edgesr.onnx.split_encoder import has_encoder
    from edgesr.quality.routing import Experts, RoutedUpscaler, fit_router, training_scores
    from edgesr.quality.scoring import score_grid

    blind = [e for e in experts if has_encoder(loading.load(shipped.find(e).onnx))]
    if len(blind) != 1 or len(experts) < 2:
        raise InputError(
            f"a router needs two or more shipped models, exactly one of them blind (with a degradation encoder); "
            f"{', '.join(experts)} has {len(blind)}"
        )
    pool = Experts(tuple(experts), blind[0])
    with stage(f"router {name}: scores of {', '.join(experts)} on degraded crops") as info:
        vectors, scores = training_scores(pool, train, per_image=per_image)
        info["outcome"] = f"{len(vectors)} crops"
    router = fit_router(pool, vectors, scores, ridge)
    routed = RoutedUpscaler(name, router, pool)
    grid = score_grid([routed, *pool.upscalers], [str(f) for f in evaluate], [PRESETS[g] for g in GRID])
    path = routing.FOLDER / f"{name}.json"
    old = routing.shipped_routers().get(name, {})
    data = {
        "name": name,
        "default": bool(old.get("default")) if default is None else default,
        "made_by": f"edgesr models --ship-router {name}",
        "router": router.to_dict(),
        "fit": {
            "folders": [f.name for f in train],
            "crops": len(vectors),
            "per_image": per_image,
            "mix": "real",
            "ridge": ridge,
            "best_expert_counts": dict(zip(experts, np.bincount(scores.argmax(1), minlength=len(experts)).tolist())),
        },
        "degradation_grid": grid.to_dict(),
        "picks_on_grid": dict(routed.picks),
        "edgesr_version": __version__,
    }
    fileio.write_json(path, data)
    return data


def _complete(entry: Path, key: str, name: str) -> bool:
    """The entry holds both files under ``key`` (key.json is written last: it marks a finished build)."""
    try:
        stamp = json.loads((entry / "key.json").read_text())
    except (OSError, ValueError):
        return False
    return stamp.get("key") == key and all((entry / shipped.int8_name(name, e)).is_file() for e in ENCODINGS)


def _prune(name: str, keep: Path) -> None:
    """Remove the model's finished cache entries made under other keys (stale: never used again)."""
    for other in keep.parent.glob(f"{name}-*"):
        if other != keep and other.is_dir() and (other / "key.json").is_file():
            shutil.rmtree(other, ignore_errors=True)


@contextlib.contextmanager
def _build_lock(entry: Path) -> Iterator[None]:
    """The entry's lock; a second process building the same entry waits for the first, then reuses it."""
    told = False
    with contextlib.ExitStack() as stack:
        while True:
            try:
                stack.enter_context(lock.locked(entry))
                break
            except lock.BusyError:
                if not told:
                    logger.info("model: waiting for another edgesr process building %s", entry)
                    told = True
                time.sleep(_LOCK_POLL)
        yield


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """The stages' own progress lines hidden: the build is announced in one line."""
    level = logger.level
    logger.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        logger.setLevel(level)
