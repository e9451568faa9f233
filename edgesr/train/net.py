"""The network side of a run: building it, placing it, fingerprinting and validating its weights."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import numpy as np

from edgesr import models
from edgesr.errors import DeviceError, InputError
from edgesr.lazy import require
from edgesr.log import logger
from edgesr.models import registry
from edgesr.quality import EvalResult, evaluate
from edgesr.quality.upscalers import to_model_input, to_uint8

torch = require("torch")

_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def typed_overrides(arch: str, settings: dict) -> dict:
    """``settings`` with string values converted to the types of the architecture's config fields."""
    row = registry.get(arch)
    base = registry.module(row.name).VARIANTS[row.name]
    out = {}
    for key, value in settings.items():
        default = getattr(base, key, None)
        if not isinstance(value, str) or default is None or isinstance(default, str):
            out[key] = value  # unknown keys are left for models.create to refuse with a suggestion
        elif isinstance(default, bool):
            if value.lower() not in _TRUE + _FALSE:
                raise InputError(f"{row.name} setting {key}={value}: expected true or false")
            out[key] = value.lower() in _TRUE
        else:
            try:
                out[key] = type(default)(value)
            except ValueError:
                raise InputError(f"{row.name} setting {key}={value}: expected {type(default).__name__}") from None
    return out


def build_net(arch: str, scale: int, settings: dict, seed: int, init: str | None = None):
    """A fresh network; its initial weights depend on ``seed`` only, or are ``init``'s.

    A training-form network (asymmetric branches) starts from folded weights exactly.
    """
    overrides = typed_overrides(arch, settings)
    torch.manual_seed(seed)
    net = models.create(arch, scale=scale, **overrides)
    if init is not None:
        from edgesr.models.checkpoint import read_state_dict

        sd = read_state_dict(init)
        try:
            net.load_folded(sd) if hasattr(net, "load_folded") else net.load_state_dict(sd)
        except RuntimeError as exc:
            raise InputError(
                f"--init {init} does not fit {arch} with these settings "
                f"({str(exc).splitlines()[0]}); pass weights of the same architecture"
            ) from None
    return net


def resolve_device(name: str):
    """``auto`` (CUDA when available), ``cpu``, ``cuda`` or ``cuda:N``; CUDA that is not there fails."""
    key = name.strip().lower()
    if key == "auto":
        key = "cuda" if torch.cuda.is_available() else "cpu"
        logger.info("training on %s (--device auto)", key)
    if key != "cpu" and not key.startswith("cuda"):
        raise InputError(f"device '{name}' is not one of auto, cpu, cuda, cuda:N")
    if key.startswith("cuda"):
        if not torch.cuda.is_available():
            raise DeviceError(
                f"--device {name}: this torch sees no CUDA GPU (torch {torch.__version__}); pass --device cpu"
            )
        try:
            device = torch.device(key)
        except RuntimeError:
            raise InputError(f"device '{name}' is not one of auto, cpu, cuda, cuda:N") from None
        index = device.index or 0
        if index >= torch.cuda.device_count():
            raise DeviceError(f"--device {name}: only {torch.cuda.device_count()} CUDA device(s) here")
        return device
    return torch.device("cpu")


def describe_device(device) -> str:
    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    return f"cpu ({torch.get_num_threads()} threads)"


def fingerprint(sd: dict) -> str:
    """A short digest of a state dict's names and values, to show which weights a stage started from."""
    h = hashlib.sha256()
    for key in sorted(sd):
        h.update(key.encode())
        h.update(sd[key].detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def cpu_state_dict(module) -> dict:
    return {k: v.detach().cpu().clone() for k, v in module.state_dict().items()}


def validate(module, folder: str | Path, scale: int, device, degradations: list | None = None) -> EvalResult:
    """Y-PSNR/SSIM of ``module`` on ``folder`` under the benchmark protocol, whole images at once.

    With ``degradations``, the folder is scored once per degradation and the result holds every
    (image, degradation) score, so its mean is the mean over the cells.
    """
    value_range = float(module.value_range)

    def upscale(lr: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(to_model_input(lr, value_range)).to(device)
        with torch.inference_mode():
            y = module(x)
        return to_uint8(y[0].permute(1, 2, 0).float().cpu().numpy(), value_range)

    if not degradations:
        return evaluate(upscale, folder, scale)
    results = [evaluate(upscale, folder, scale, degradation=d) for d in degradations]
    merged = results[0]
    merged.degradation = "; ".join(r.degradation for r in results)
    merged.images = [img for r in results for img in r.images]
    return merged
