"""Reading checkpoints safely and matching them to an architecture.

Only ``torch.load(weights_only=True)`` is used: a checkpoint is data, and unpickling arbitrary
objects would run code from the file. Training frameworks wrap state dicts in different ways
(BasicSR ``params``/``params_ema``, Lightning ``state_dict``, others ``model``) and
``DataParallel`` prefixes keys with ``module.``; both are undone here.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import pickletools
import re
import warnings
import zipfile
from pathlib import Path
from types import ModuleType

from edgesr.errors import InputError, ModelError
from edgesr.lazy import require
from edgesr.log import logger
from edgesr.models import registry

# Globals a weights-only load accepts: a plain pickle naming only these is broken, not hostile.
_LOADABLE = ("torch.", "collections.OrderedDict")
# Wrapper keys in order of preference: an EMA copy of the weights is the one to deploy.
WRAPPERS = ("params_ema", "params", "state_dict", "model")
# A truncated zip, a text file or random bytes each fail differently inside torch.load.
UNREADABLE = (RuntimeError, EOFError, OSError, ValueError, KeyError, zipfile.BadZipFile)


def read_state_dict(path: str | os.PathLike) -> dict:
    """The tensors of a checkpoint file as a flat ``{key: tensor}`` dict."""
    require("torch")  # a missing PyTorch is said before anything about the file
    p = Path(path)
    if not p.is_file():
        raise InputError(f"checkpoint {p} does not exist; check the path")
    if p.stat().st_size == 0:
        raise ModelError(f"checkpoint {p} is empty (0 bytes); copy it again")
    try:
        obj = load_weights_only(p)
    except UNREADABLE as exc:
        raise ModelError(
            f"checkpoint {p} cannot be read ({type(exc).__name__}: {unreadable_reason(exc)}); it is truncated "
            "or not a PyTorch file, copy it again"
        ) from None
    return _unwrap(obj, p)


def unreadable_reason(exc: Exception) -> str:
    """The first line of why a checkpoint could not be read, or the error's type when it says nothing."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def load_weights_only(path: Path):
    """``torch.load(weights_only=True)`` on the CPU; a refused pickle is a :class:`ModelError`.

    torch's warnings are logged at debug level: it warns about the pickle protocol of files it
    then loads or refuses, and a refusal must stay one line.
    """
    torch = require("torch")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            return torch.load(path, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as exc:
            found = _python_object(exc, Path(path))
            if found:
                raise ModelError(
                    f"checkpoint {path} holds Python objects, not just tensors ({found}); edgesr "
                    "loads weights without running pickled code: re-save it with "
                    "torch.save(model.state_dict())"
                ) from None
            raise ModelError(
                f"checkpoint {path} cannot be read ({_unpickler_reason(exc)}); it is corrupt or not a PyTorch file"
            ) from None
        finally:
            for w in caught:
                logger.debug("%s: torch: %s", Path(path).name, w.message)


def _python_object(exc: Exception, path: Path) -> str | None:
    """What a refused checkpoint wanted to import, or None when it did not (it is merely broken).

    torch names the global it blocked; a plain pickle of protocol 4 or later is refused for its
    framing before torch sees a global, so its opcodes are scanned (parsed, never executed).
    """
    match = re.search(r"unsupported GLOBAL (\S+?)(?: whose|\.?\s|\.?$)|Unsupported global: GLOBAL (\S+)", str(exc))
    if match:
        return f"GLOBAL {match.group(1) or match.group(2)}"
    if zipfile.is_zipfile(path):
        return None
    strings: list[str] = []
    try:
        with path.open("rb") as f:
            for op, arg, _ in pickletools.genops(f):
                if isinstance(arg, str):
                    strings.append(arg)
                name = (
                    str(arg).replace(" ", ".")
                    if op.name in ("GLOBAL", "INST")
                    else ".".join(strings[-2:])
                    if op.name == "STACK_GLOBAL"
                    else None
                )
                if name and not name.startswith(_LOADABLE):
                    return f"GLOBAL {name}"
    except (ValueError, EOFError, OSError):
        return None
    return None


def _unpickler_reason(exc: Exception) -> str:
    """The line of torch's long weights_only message that says what was refused."""
    _, _, tail = str(exc).partition("WeightsUnpickler error:")
    lines = [ln.strip() for ln in tail.splitlines() if ln.strip()]
    return lines[0].split(" was not an allowed")[0] if lines else "not a weights-only pickle"


def _unwrap(obj, p: Path) -> dict:
    torch = require("torch")
    if isinstance(obj, dict):
        for key in WRAPPERS:
            if isinstance(obj.get(key), dict):
                logger.debug("%s: using the state dict under '%s'", p.name, key)
                obj = obj[key]
                break
    if not isinstance(obj, dict) or not obj:
        kind = "an empty dict" if isinstance(obj, dict) else f"a {type(obj).__name__}"
        raise ModelError(
            f"checkpoint {p} holds {kind}, not a state dict of named tensors; "
            "save one with torch.save(model.state_dict())"
        )
    bad = [k for k, v in obj.items() if not isinstance(k, str) or not isinstance(v, torch.Tensor)]
    if bad:
        raise ModelError(
            f"checkpoint {p} is not a state dict: entry {bad[0]!r} is not a named tensor "
            f"({len(bad)} such entries); save one with torch.save(model.state_dict())"
        )
    return {k.removeprefix("module."): v for k, v in obj.items()}


def arch_modules() -> list[tuple[str, ModuleType]]:
    """``(registry name of the module's first row, module)`` for every architecture module present."""
    seen: dict[str, tuple[str, ModuleType]] = {}
    for row in registry.ARCHS:
        if row.module in seen:
            continue
        try:
            seen[row.module] = (row.name, registry.module(row.name))
        except ModuleNotFoundError as exc:
            if exc.name != f"edgesr.models.{row.module}":
                raise
            logger.debug("architecture module edgesr.models.%s is not installed; skipping", row.module)
    return list(seen.values())


def detect(sd: dict) -> tuple[str, object]:
    """The registry name and inferred config of the one architecture whose shapes fit ``sd``."""
    fits = []
    for name, mod in arch_modules():
        try:
            cfg = mod.config_from_state_dict(sd)
        except (ModelError, InputError):
            continue
        fits.append((variant_for(mod, name, cfg), cfg))
    if len(fits) == 1:
        return fits[0]
    if not fits:
        sample = ", ".join(list(sd)[:4])
        raise ModelError(
            f"no known architecture matches this checkpoint (first keys: {sample}); "
            f"name the architecture explicitly to see what does not match"
        )
    raise ModelError(f"the checkpoint fits several architectures ({', '.join(n for n, _ in fits)}); name the one it is")


def variant_for(mod: ModuleType, default: str, cfg) -> str:
    """The registry name whose default config equals ``cfg`` up to scale, else ``default``."""
    for name, variant in mod.VARIANTS.items():
        if dataclasses.replace(variant, scale=cfg.scale) == cfg:
            return name
    return default


def describe(sd: dict) -> str:
    """What a checkpoint looks like, for error messages: 'it looks like a rlfn x4 checkpoint' or ''."""
    try:
        name, cfg = detect(sd)
    except ModelError:
        return ""
    scale = f" x{cfg.scale}" if getattr(registry.module(name), "SCALE_IN_WEIGHTS", True) else ""
    return f"it looks like a {name}{scale} checkpoint"
