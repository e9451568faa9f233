"""The runner interface and the table that picks a runner from an artifact's suffix.

A runner is a context manager (``activate`` on enter, ``deactivate`` on exit) with one call,
``infer(batch) -> batch``: N x C x H x W in the model's value range and dtype in, N x 3 x sH x sW
out. After activation ``spec`` says how to feed it. A runner of a blind-SR model also has a
``scene`` and ``estimate(frame)``, whose result the pipeline passes to ``infer(batch, condition)``.

The table maps a suffix to ``"module:Class"``, imported only when an artifact of that kind is
opened, so a backend's heavy imports (TensorRT, CUDA) cost nothing to users of the others. A
new backend is one row, or one :func:`register_runner` call. The TensorRT runner (``.engine``,
``.plan``) reads scale and value range from the engine's JSON sidecar through the foundation's
:mod:`edgesr.sidecar` (never the build stage), reconciles them with the user's flags through
:func:`edgesr.runtime.model_spec.declare`, and fills the same :class:`ModelSpec` as the ONNX Runtime
runner; the pipeline, tiling and CLI do not know which backend runs.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgesr.errors import InputError
from edgesr.runtime.model_spec import ModelSpec
from edgesr.runtime.scene import ReestimatePolicy, Representation, SceneRepresentation


@dataclass
class RunnerOptions:
    """Settings every runner accepts.

    ``scale`` and ``value_range`` declare what a model without edgesr metadata expects (and are
    checked against the metadata when it has some). ``providers`` names ONNX Runtime execution
    providers in order of preference, None for the best available; ``threads`` caps the CPU
    threads of one inference, None for the backend's default.

    For a blind-SR model (a degradation encoder; :mod:`edgesr.runtime.blind_parts`): ``encoder``
    is the encoder graph of a split model given as its conditional graph (default: the file beside
    it), ``reestimate`` when the degradation is estimated again (default: every 30 frames and on a
    scene change). Either given for another model is refused: it would do nothing.

    ``lookup_output`` lets a quantized model hand over its output's uint8 codes for a table lookup
    (same pixels, a quarter of the bytes); a runner that mixes several models' outputs turns it off.
    """

    scale: int | None = None
    value_range: float | None = None
    providers: tuple[str, ...] | None = None
    threads: int | None = None
    encoder: str | None = None
    reestimate: ReestimatePolicy | None = None
    lookup_output: bool = True


class Runner:
    """Base class of the backends. Subclasses implement :meth:`activate`, :meth:`infer` and
    :meth:`deactivate`, and set ``self.spec`` in :meth:`activate`."""

    scene: SceneRepresentation | None = None  # a blind-SR model's degradation across the stream, when it runs one

    def __init__(self, path: str | os.PathLike, options: RunnerOptions | None = None):
        self.path = Path(path)
        self.options = options if options is not None else RunnerOptions()
        self.spec: ModelSpec | None = None

    def estimate(self, image: np.ndarray) -> Representation:
        """The degradation representation for the whole frame ``image`` (H x W x 3 uint8 RGB), from
        :attr:`scene`: the pipeline calls it once per frame, in order, before tiling, and hands the
        result to every :meth:`infer` call of that frame as ``condition``."""
        return self.scene(image[None].transpose(0, 3, 1, 2))

    def set_reestimate(self, policy: ReestimatePolicy) -> None:
        """When the degradation is estimated again from now on (a blind-SR model's scene)."""
        self.scene.policy = policy

    def picture_condition(self, image: np.ndarray) -> object | None:
        """The condition of one picture on its own (H x W x 3 uint8 RGB): its own estimate, leaving the
        stream's scene state alone (a runner shared by several users, one picture each); None for a
        model without one. Pass it to every :meth:`infer` call of the picture's tiles."""
        return None

    def activate(self) -> None:
        raise NotImplementedError

    def infer(self, batch: np.ndarray, condition: Representation | None = None) -> np.ndarray:
        raise NotImplementedError

    def deactivate(self) -> None:
        """Release the session or engine; safe to call twice."""

    def __enter__(self) -> Runner:
        self.activate()
        return self

    def __exit__(self, *exc) -> None:
        self.deactivate()


RUNNERS: dict[str, str | type[Runner]] = {
    ".onnx": "edgesr.runtime.onnxruntime_runner:OnnxRuntimeRunner",
    ".engine": "edgesr.runtime.tensorrt_runner:TensorRTRunner",
    ".plan": "edgesr.runtime.tensorrt_runner:TensorRTRunner",
    ".router.json": "edgesr.runtime.routed_runner:RoutedRunner",  # see edgesr.routing
}


def register_runner(suffix: str, target: str | type[Runner]) -> None:
    """Run artifacts ending in ``suffix`` with ``target`` (a class, or ``"module:Class"`` to import lazily)."""
    RUNNERS[suffix.lower()] = target


def runner_suffix(path: str | os.PathLike) -> str | None:
    """The longest suffix of the table that ``path``'s name ends with (``.router.json`` is one), or None."""
    name = Path(path).name.lower()
    return max((s for s in RUNNERS if name.endswith(s)), key=len, default=None)


def runner_class(path: str | os.PathLike) -> type[Runner]:
    suffix = runner_suffix(path)
    if suffix is None:
        raise InputError(
            f"no runner for '{Path(path).suffix.lower() or Path(path).name}' files; edgesr runs "
            f"{', '.join(sorted(RUNNERS))} artifacts "
            "(make one with: edgesr export NAME -o m.onnx, then edgesr convert m.onnx -o DIR)"
        )
    target = RUNNERS[suffix]
    if not isinstance(target, str):
        return target
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def open_runner(path: str | os.PathLike, options: RunnerOptions | None = None) -> Runner:
    """The runner for the artifact at ``path`` (not activated yet: use it in a ``with`` block)."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"model {p} does not exist; pass an .onnx file or a TensorRT .engine with --model")
    if not p.is_file():
        raise InputError(f"model {p} is not a file; pass the .onnx or .engine file itself")
    return runner_class(p)(p, options)
