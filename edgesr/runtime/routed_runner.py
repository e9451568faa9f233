"""A router artifact (``*.router.json``, :mod:`edgesr.routing`) on ONNX Runtime: several models, one
of them per scene.

The router's encoder estimates the frame's degradation (once per scene, as any blind-SR model in a
stream: :class:`edgesr.runtime.scene.SceneRepresentation`); the router turns the vector into the
expert to run, and every tile of the frame goes to that expert. The encoder is the one the router
was fitted with, the blind expert's FP32 graph (the artifact's ``encoder_file``), so a quantized
expert does not move the choice (docs/decisions.md, The default routes among three models); when
the blind expert runs, it gets the representation of its own encoder. The experts must agree on
scale, value range, channel order and input type; their outputs are handed over as floats (no
per-model lookup table), so one :class:`ModelSpec` serves all of them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from edgesr.errors import InputError, ModelError
from edgesr.log import logger
from edgesr.onnx import loading, sessions
from edgesr.onnx.split_encoder import encoder_view, has_encoder, split_model
from edgesr.routing import read_artifact
from edgesr.runtime.onnxruntime_runner import OnnxRuntimeRunner, encoder_session
from edgesr.runtime.runners import Runner
from edgesr.runtime.scene import ReestimatePolicy, Representation, SceneRepresentation
from edgesr.runtime.tensors import to_model

_SHARED = ("scale", "value_range", "channel_order", "dtype")


@dataclass
class Route:
    """A frame's condition: the expert to run and the degradation representation behind the choice."""

    expert: int
    representation: Representation | None  # the blind expert's own, when it is the one to run


class RoutedRunner(Runner):
    """Runs the experts a router names, choosing one per scene."""

    def activate(self) -> None:
        if self.options.encoder is not None:
            raise InputError(f"--encoder does not apply to the router {self.path.name}; drop it")
        self.router, files, record = read_artifact(self.path)
        self.experts: list[OnnxRuntimeRunner] = []
        for name in self.router.experts:
            if files[name].suffix.lower() != ".onnx":
                raise ModelError(f"{self.path.name}: expert {name} is {files[name].name}; a router runs .onnx models")
            _exists(files[name], f"expert {name}'s file", self.path, record)
            blind = name == self.router.encoder
            options = replace(self.options, lookup_output=False, reestimate=self.options.reestimate if blind else None)
            runner = OnnxRuntimeRunner(files[name], options)
            runner.activate()
            self.experts.append(runner)
        self._blind = self.experts[self.router.experts.index(self.router.encoder)]
        if self._blind.scene is None:
            raise ModelError(f"{self.path.name}: {self.router.encoder} has no degradation encoder to route by")
        self._check_alike()
        first = self.experts[0].spec
        self.spec = replace(
            first,
            size_multiple=math.lcm(*(e.spec.size_multiple for e in self.experts)),
            precision="/".join(sorted({e.spec.precision for e in self.experts})),
            notes=(f"routes per scene among {', '.join(self.router.experts)} ({self.path.name})",),
            output_table=None,
        )
        self._start_encoder(record)
        logger.info("%s: %s, chosen per scene", self.path.name, ", ".join(self.router.experts))

    def _start_encoder(self, record: dict) -> None:
        """The routing encoder (the artifact's ``encoder_file``, split in memory) and its scene state."""
        if record.get("encoder_file") is None:
            raise ModelError(
                f"{self.path.name} names no encoder_file to route by; run with --model {record.get('name', 'auto')} "
                "to resolve a router"
            )
        path = Path(record["encoder_file"])
        _exists(path, "routing encoder's file", self.path, record)
        model = loading.load(path)
        if not has_encoder(model):
            raise ModelError(f"{self.path.name}: its encoder_file {path.name} holds no degradation encoder")
        encoder, _, pair = split_model(model)
        providers = sessions.choose_providers(self.options.providers)  # as the experts run
        self._encoder = encoder_session(encoder, providers, self.options.threads, f"{path.name} (encoder)")
        self._encoder_input = self._encoder.get_inputs()[0].name
        self.scene = SceneRepresentation(self._encode_frame, pair, 255.0, self.options.reestimate or ReestimatePolicy())
        self.scene.routes = dict.fromkeys(self.router.experts, 0)

    def _encode(self, batch: np.ndarray) -> np.ndarray:
        """Model-range N x 3 x H x W -> the routing vector of its first image."""
        return self._encoder.run(None, {self._encoder_input: np.ascontiguousarray(encoder_view(batch[:1]))})[0]

    def _encode_frame(self, frame: np.ndarray) -> np.ndarray:
        """1 x 3 x H x W uint8 RGB (a view of the frame) -> the routing vector."""
        return self._encode(to_model(encoder_view(frame).transpose(0, 2, 3, 1), self.spec))

    def _check_alike(self) -> None:
        first = self.experts[0]
        for other in self.experts[1:]:
            for key in _SHARED:
                a, b = getattr(first.spec, key), getattr(other.spec, key)
                if a != b:
                    raise ModelError(
                        f"{self.path.name}: {first.path.name} and {other.path.name} differ in {key} ({a} vs {b}); "
                        "a router's experts must take and give the same images"
                    )

    def estimate(self, image: np.ndarray) -> Route:
        expert = self.router.pick(super().estimate(image).vector)
        self.scene.routes[self.router.experts[expert]] += 1
        if self.experts[expert] is not self._blind:
            return Route(expert, None)
        return Route(expert, self._blind.estimate(image))

    def set_reestimate(self, policy: ReestimatePolicy) -> None:
        """For the routing encoder's scene and the blind expert's own alike."""
        super().set_reestimate(policy)
        self._blind.set_reestimate(policy)

    def picture_condition(self, image: np.ndarray) -> Route:
        expert = self.router.pick(self._encode_frame(image[None].transpose(0, 3, 1, 2)))
        return Route(expert, self.experts[expert].picture_condition(image))

    def infer(self, batch: np.ndarray, condition: Route | None = None) -> np.ndarray:
        """``condition``: the frame's :class:`Route` from :meth:`estimate`; without it the route is
        chosen from the batch's first image."""
        if condition is None:
            expert = self.router.pick(self._encode(batch))
            own = self._blind.encode(batch) if self.experts[expert] is self._blind else None
            condition = Route(expert, own)
        return self.experts[condition.expert].infer(batch, condition.representation)

    def deactivate(self) -> None:
        for expert in getattr(self, "experts", []):
            expert.deactivate()
        self._encoder = None


def _exists(path: Path, what: str, router: Path, record: dict) -> None:
    if not path.is_file():
        raise ModelError(
            f"{router.name}: {what} {path} is missing; run with --model {record.get('name', 'auto')} again "
            "to resolve it"
        )
