"""A blind-SR model's degradation representation across a stream: estimated once per scene, then reused.

A model split at its representation (:mod:`edgesr.onnx.split_encoder`) runs its encoder graph on a
frame and its conditional graph on every frame with the representation that came out. The
degradation of a stream (the camera's noise, its optics, the encoder's compression) changes with
the scene, not with every frame, so :class:`SceneRepresentation` estimates it on the first frame,
again every ``every`` frames, and at once when the picture cuts to another: the mean absolute
difference of a small grey thumbnail against the previous frame's, as a share of the full range,
above ``scene_threshold`` (a fast pan across a detailed photo changes it by about 0.03 per frame, a
cut between two photographs by 0.17 or more: docs/decisions.md). The two graphs of one model carry
the same pair id; a representation made by another model's encoder is refused, since it means
nothing to this conditional graph.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from edgesr.errors import InputError, ModelError

THUMBNAIL = (18, 32)  # rows, columns of the grey thumbnail the scene-change test compares


@dataclass(frozen=True)
class ReestimatePolicy:
    every: int = 30  # frames between estimates within one scene
    scene_threshold: float = 0.1  # share of the full range the thumbnail must change by for a new scene

    def __post_init__(self) -> None:
        if isinstance(self.every, bool) or not isinstance(self.every, int) or self.every < 1:
            raise InputError(
                f"--reestimate-every {self.every}: give a whole number of frames of at least 1 "
                "(1 estimates the degradation on every frame)"
            )
        if not 0 < self.scene_threshold <= 1:
            raise InputError(
                f"--scene-threshold {self.scene_threshold}: give a share of the full range in (0, 1], "
                "e.g. 0.1; 1 turns scene-change detection off"
            )


@dataclass
class Representation:
    vector: np.ndarray  # 1 x D
    pair: str  # the pair id of the encoder graph that made it


@dataclass
class SceneRepresentation:
    """Call it with each frame (N x 3 x H x W in the model's range, N = 1); returns the representation to use."""

    encode: Callable[[np.ndarray], np.ndarray]
    pair: str
    value_range: float = 1.0
    policy: ReestimatePolicy = field(default_factory=ReestimatePolicy)
    estimates: int = 0
    scene_changes: int = 0
    routes: dict[str, int] | None = None  # frames per model, where a router chooses among several by it
    _current: Representation | None = None
    _thumbnail: np.ndarray | None = None
    _since: int = 0

    def __call__(self, frame: np.ndarray) -> Representation:
        thumb = thumbnail(frame) / self.value_range
        # against the previous frame, not the last estimate's: motion changes a frame little from
        # one to the next, a cut all at once
        changed = self._thumbnail is not None and float(np.abs(thumb - self._thumbnail).mean()) > (
            self.policy.scene_threshold
        )
        self._thumbnail = thumb
        if self._current is None or changed or self._since >= self.policy.every:
            self._current = Representation(np.asarray(self.encode(frame)), self.pair)
            self._since = 0
            self.estimates += 1
            self.scene_changes += int(changed)
        self._since += 1
        return self._current

    def summary(self) -> dict:
        """For run statistics: how often the representation was estimated, and why (and, under a
        router, how many frames each model ran)."""
        out = {
            "estimates": self.estimates,
            "scene_changes": self.scene_changes,
            "reestimate_every": self.policy.every,
            "scene_threshold": self.policy.scene_threshold,
        }
        if self.routes is not None:
            out["routes"] = dict(self.routes)
        return out


def check_pair(representation: Representation, pair: str) -> np.ndarray:
    """The vector of ``representation``, refused unless the encoder that made it belongs to graph ``pair``."""
    if representation.pair != pair:
        raise ModelError(
            f"this degradation representation comes from another model's encoder (pair {representation.pair}, "
            f"the conditional graph is pair {pair}); estimate it with the encoder graph split from the same model"
        )
    return representation.vector


def thumbnail(frame: np.ndarray) -> np.ndarray:
    """Block means of the frame's grey level on a :data:`THUMBNAIL` grid (a frame smaller than it: itself).

    Read from every ``step``-th pixel (at least 4 per block side), so it costs the same for any
    frame size: a 1080p frame whole took 36 ms."""
    h, w = frame.shape[2:]
    step = max(1, min(h // (4 * THUMBNAIL[0]), w // (4 * THUMBNAIL[1])))
    grey = frame[0, :, ::step, ::step].astype(np.float32).mean(axis=0)
    rows, cols = (max(1, n // t) for n, t in zip(grey.shape, THUMBNAIL))
    h, w = grey.shape[0] // rows * rows, grey.shape[1] // cols * cols
    return grey[:h, :w].reshape(h // rows, rows, w // cols, cols).mean(axis=(1, 3))


def pair_of(encoder_path, conditional_path) -> str:
    """The pair id shared by a split model's encoder and conditional graph files; anything else is refused."""
    from edgesr.lazy import require

    onnx = require("onnx")
    encoder, conditional = (onnx.load(str(p), load_external_data=False) for p in (encoder_path, conditional_path))
    return check_parts(encoder, conditional, encoder_path, conditional_path)


def check_parts(encoder, conditional, encoder_name, conditional_name) -> str:
    """The pair id of an encoder graph and a conditional graph (ONNX models) of one blind-SR model;
    a part in the wrong role, or parts of two models, are refused."""
    from edgesr.meta import GRAPH_KEY, PAIR_KEY, all_props

    props = [all_props(m) for m in (encoder, conditional)]
    for name, got, role in zip((encoder_name, conditional_name), props, ("encoder", "conditional")):
        if got.get(GRAPH_KEY) != role:
            what = f"the {got[GRAPH_KEY]} graph" if GRAPH_KEY in got else "not a split blind-SR graph"
            raise ModelError(f"{name} is {what}, not the {role} graph; split the model with edgesr.onnx.split_encoder")
    if props[0][PAIR_KEY] != props[1][PAIR_KEY]:
        raise ModelError(
            f"{encoder_name} belongs to another model (pair {props[0][PAIR_KEY]}) than {conditional_name} "
            f"(pair {props[1][PAIR_KEY]}); use the encoder graph split from the same model"
        )
    return props[1][PAIR_KEY]
