"""An engine's identity: everything that changes the engine (docs/background.md, Engine identity).

The identity names the artifact directory and is stored in the sidecar; a rebuild is skipped
only when a stored identity matches exactly, and loading checks it against the host.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields

from edgesr.errors import ModelError


@dataclass(frozen=True)
class Identity:
    model: str
    scale: int
    onnx_sha256: str  # of the ONNX the builder consumes (FP32, FP16 or Q/DQ variant)
    precision: str  # fp32 | fp16 | int8
    kept_layers: tuple[str, ...]  # layers held in higher precision inside an INT8 build
    input: str  # "1x3x180x320" (static) or "1x3x64x64:1x3x180x320:1x3x1080x1920" (min:opt:max)
    device: str
    compute_capability: str | None
    tensorrt: str | None  # None for ONNX Runtime artifacts and for bundles not yet built on the device
    dla_core: int | None = None
    workspace_mb: int | None = None
    opt_level: int | None = None

    @property
    def key(self) -> str:
        """A short stable hash of every field."""
        blob = json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    @property
    def shape_label(self) -> str:
        """``180x320`` for a static input, ``64x64-1080x1920`` for a range: HEIGHTxWIDTH, as every size flag."""
        hw = ["x".join(d.split("x")[2:4]) for d in self.input.split(":")]
        return hw[0] if len(hw) == 1 else f"{hw[0]}-{hw[-1]}"

    @property
    def dirname(self) -> str:
        dla = f"-dla{self.dla_core}" if self.dla_core is not None else ""
        return f"{self.model}-x{self.scale}-{self.precision}-{self.shape_label}{dla}"

    def with_tensorrt(self, version: str | None) -> Identity:
        data = asdict(self)
        data["tensorrt"] = version
        return Identity(**data)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["kept_layers"] = list(self.kept_layers)
        return d

    @classmethod
    def from_dict(cls, data: dict) -> Identity:
        names = {f.name for f in fields(cls)}
        missing = names - set(data)
        if missing:
            raise ModelError(f"sidecar identity lacks {', '.join(sorted(missing))}; rebuild the artifact")
        d = {k: data[k] for k in names}
        d["kept_layers"] = tuple(d["kept_layers"])
        return cls(**d)


def input_text(shapes) -> str:
    """``(1, 3, 180, 320)`` or a (min, opt, max) triple of shapes -> the identity's input string."""
    if isinstance(shapes[0], int):
        return "x".join(map(str, shapes))
    return ":".join("x".join(map(str, s)) for s in shapes)
