"""Which TensorRT is here, and which of its API generations a version speaks.

``tensorrt`` is imported here, lazily, and only through :func:`load`; the rest of
``edgesr.engine`` receives the module from it. Three generations matter on Jetson
(docs/background.md, TensorRT and Jetson), and they differ in the calls a build makes:

========  ======================  =====================================================================
trt8      8.5 (JetPack 5.1),      networks need ``NetworkDefinitionCreationFlag.EXPLICIT_BATCH``;
          8.6 (JetPack 6.0);      precision by ``BuilderFlag.FP16/INT8``; implicit INT8 through a
          8.0/8.2 as nearest      calibrator; ``builder_optimization_level`` from 8.6 only; ONNX
                                  parser errors carry a node index, not its name
trt10     10.3 (JetPack 6.1/6.2), explicit batch is the only mode (``EXPLICIT_BATCH`` deprecated and
          10.13+ (JetPack 7)      ignored); ``STRONGLY_TYPED`` network flag; calibrators deprecated
                                  (10.1); ``platform_has_fast_*`` deprecated (10.5); the weak-typing
                                  precision flags deprecated (10.12); parser errors name the node
trt11     11.4.1 (JetPack 7.2.2)  strongly typed only: no ``BuilderFlag.FP16/INT8``, no calibrators,
                                  no ``platform_has_fast_*``, no ``EXPLICIT_BATCH``; precision comes
                                  from the ONNX's tensor types and Q/DQ nodes
========  ======================  =====================================================================

Sources: the TensorRT Python bindings (``python/src/infer/pyCore.cpp`` of the 8.5 branch),
the TensorRT 10.x and 11.x Python API references, "Migrating from TensorRT 10.x to 11.x"
(Python API reference, TensorRT 11.4.1 docs), the TensorRT C++ deprecated list (10.x), the
10.12.0 release notes, and onnx-tensorrt ``docs/Changelog.md`` (``IParserError`` gained node
names in 9.1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import ModuleType

from edgesr.errors import DependencyError, EdgeSRError
from edgesr.lazy import require

GENERATIONS: tuple[str, ...] = ("trt8", "trt10", "trt11")
_MAJOR_TO_GENERATION = {8: "trt8", 10: "trt10", 11: "trt11"}


class BuildError(EdgeSRError):
    """TensorRT could not build the engine, or the request needs API this TensorRT lacks.

    The message says what TensorRT reported and what to do instead.
    """


def load() -> ModuleType:
    """The ``tensorrt`` module, or :class:`DependencyError` naming how to install it."""
    return require("tensorrt")


def tensorrt_version() -> str | None:
    """The installed TensorRT version, or None when ``tensorrt`` cannot be imported."""
    try:
        trt = load()
    except DependencyError:
        return None
    return str(trt.__version__)


def generation(version: str) -> str:
    """``"8.6.2.3"`` -> ``"trt8"``; also accepts a generation name and returns it unchanged."""
    return Target.parse(version).generation


@dataclass(frozen=True)
class Target:
    """A TensorRT version as far as it is known: a generation, and the minor release when given.

    ``minor`` is None when only the generation was named (``"trt8"``): a question that depends
    on the minor release then answers None, and the caller must ask for the exact version.
    """

    generation: str
    major: int
    minor: int | None
    text: str

    @classmethod
    def parse(cls, target: str) -> Target:
        text = str(target).strip()
        if text in GENERATIONS:
            return cls(text, int(text[3:]), None, text)
        match = re.fullmatch(r"(\d+)(?:\.(\d+))?(?:\.\d+)*(?:[.\-+]?\w*)?", text)
        if match is None:
            raise BuildError(
                f"'{target}' is not a TensorRT version or generation; "
                f"give a version such as 8.6.2 or one of {', '.join(GENERATIONS)}"
            )
        major = int(match.group(1))
        minor = int(match.group(2)) if match.group(2) is not None else None
        gen = _MAJOR_TO_GENERATION.get(major)
        if gen is None:
            raise BuildError(
                f"TensorRT {text} is not supported; edgesr builds with TensorRT 8.x (JetPack 4.6 to 6.0), "
                "10.x (JetPack 6.1 to 7.2) or 11.x (JetPack 7.2.2)"
            )
        return cls(gen, major, minor, text)

    def at_least(self, major: int, minor: int) -> bool | None:
        """Whether this is ``major.minor`` or newer; None when the minor release is unknown and matters."""
        if self.major != major:
            return self.major > major
        if self.minor is None:
            return None
        return self.minor >= minor

    @property
    def label(self) -> str:
        return f"TensorRT {self.text}" if self.minor is not None else f"TensorRT {self.major}.x"

    # --- what each generation has (see the module docstring for the sources) ---

    @property
    def needs_explicit_batch_flag(self) -> bool:
        return self.generation == "trt8"

    @property
    def has_precision_flags(self) -> bool:
        """``BuilderFlag.FP16`` / ``BuilderFlag.INT8`` exist (removed in 11.0)."""
        return self.generation != "trt11"

    @property
    def has_calibrators(self) -> bool:
        """Implicit INT8 (``IInt8Calibrator``, ``config.int8_calibrator``) exists (removed in 11.0)."""
        return self.generation != "trt11"

    @property
    def has_platform_queries(self) -> bool:
        """``builder.platform_has_fast_fp16/int8`` exist (deprecated 10.5, removed in 11.0)."""
        return self.generation != "trt11"

    @property
    def has_opt_level(self) -> bool | None:
        """``config.builder_optimization_level`` exists (added in 8.6)."""
        return self.at_least(8, 6)

    @property
    def weak_typing_deprecated(self) -> bool | None:
        """The FP16/INT8 builder flags are deprecated in favour of strong typing (10.12 release notes)."""
        if self.generation == "trt11":
            return True
        return self.at_least(10, 12)
