"""A router artifact (``*.router.json``, :mod:`edgesr.routing`) on ONNX Runtime: several models, one
of them per scene.

The expert that carries a degradation encoder estimates the frame's degradation (once per scene,
as any blind-SR model in a stream: :class:`edgesr.runtime.scene.SceneRepresentation`); the router
turns the vector into the expert to run, and every tile of the frame goes to that expert (with
the vector, when it is the blind one). The experts must agree on scale, value range, channel order
and input type; their outputs are handed over as floats (no per-model lookup table), so one
:class:`ModelSpec` serves all of them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from edgesr.errors import InputError, ModelError
from edgesr.log import logger
from edgesr.routing import read_artifact
from edgesr.runtime.onnxruntime_runner import OnnxRuntimeRunner
from edgesr.runtime.runners import Runner
from edgesr.runtime.scene import Representation, SceneRepresentation

_SHARED = ("scale", "value_range", "channel_order", "dtype")


@dataclass
class Route:
    """A frame's condition: the expert to run and the degradation representation behind the choice."""

    expert: int
    representation: Representation


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
            if not files[name].is_file():
                raise ModelError(
                    f"{self.path.name}: expert {name}'s file {files[name]} is missing; run with --model "
                    f"{record.get('name', 'auto')} again to resolve it"
                )
            blind = name == self.router.encoder
            options = replace(self.options, lookup_output=False, reestimate=self.options.reestimate if blind else None)
            runner = OnnxRuntimeRunner(files[name], options)
            runner.activate()
            self.experts.append(runner)
        blind = self.experts[self.router.experts.index(self.router.encoder)]
        if blind.scene is None:
            raise ModelError(f"{self.path.name}: {self.router.encoder} has no degradation encoder to route by")
        self._check_alike()
        self.scene: SceneRepresentation = blind.scene
        self.scene.routes = dict.fromkeys(self.router.experts, 0)
        self._blind = blind
        first = self.experts[0].spec
        self.spec = replace(
            first,
            size_multiple=math.lcm(*(e.spec.size_multiple for e in self.experts)),
            precision="/".join(sorted({e.spec.precision for e in self.experts})),
            notes=(f"routes per scene among {', '.join(self.router.experts)} ({self.path.name})",),
            output_table=None,
        )
        logger.info("%s: %s, chosen per scene", self.path.name, ", ".join(self.router.experts))

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
        representation = super().estimate(image)
        expert = self.router.pick(representation.vector)
        self.scene.routes[self.router.experts[expert]] += 1
        return Route(expert, representation)

    def infer(self, batch: np.ndarray, condition: Route | None = None) -> np.ndarray:
        """``condition``: the frame's :class:`Route` from :meth:`estimate`; without it the route is
        chosen from the batch's first image."""
        if condition is None:
            representation = self._blind.encode(batch)
            condition = Route(self.router.pick(representation.vector), representation)
        expert = self.experts[condition.expert]
        return expert.infer(batch, condition.representation if expert is self._blind else None)

    def deactivate(self) -> None:
        for expert in getattr(self, "experts", []):
            expert.deactivate()
