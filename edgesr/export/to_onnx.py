"""PyTorch module -> ONNX file with dynamic H/W, embedded weights and edgesr metadata.

torch's legacy (TorchScript-tracing) exporter is used: the default exporter of torch 2.13
writes the weights to a separate ``.onnx.data`` file, and one file is what every later stage
and the device expect. The file is written atomically and only after its output matched the
PyTorch module on real images at the sample size and, when dynamic, at a second, odd size.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

from edgesr import meta
from edgesr.errors import InputError, ModelError
from edgesr.export.torch_parity import check_parity, sample_input
from edgesr.fileio import atomic_path, check_writable_dir
from edgesr.lazy import require
from edgesr.log import stage
from edgesr.models import deployed, meta_for

MIN_OPSET = 17
MAX_OPSET = 20  # the last opset torch 2.13's legacy exporter writes
INPUT, OUTPUT = "input", "output"


@dataclass
class ExportOnnx:
    """Export settings; calling the object exports a module built by :mod:`edgesr.models`."""

    opset: int = MIN_OPSET
    dynamic: bool = True  # dynamic batch, height and width; False fixes them to 1 x sample_hw
    sample_hw: tuple[int, int] = (64, 64)

    def __call__(self, module, path: str | os.PathLike) -> Path:
        torch = require("torch")
        onnx = require("onnx")
        out = Path(path)
        self._validate(module, out)
        module.eval()
        h, w = self.sample_hw
        # A second size, different and odd in both axes here, proves the graph is really dynamic.
        sizes = [(h, w), (h + 17 + h % 2, w + 29 + w % 2)] if self.dynamic else [(h, w)]
        x, _ = sample_input(h, w, module.value_range)
        # The parity check compares the file with ``module`` itself, so it also proves the fold.
        target = deployed(module).eval()
        out.parent.mkdir(parents=True, exist_ok=True)
        with stage(f"export {module.name} to {out.name}") as info, atomic_path(out) as tmp:
            with torch.no_grad(), warnings.catch_warnings():
                # The tracer warns that shape arithmetic becomes constants; the parity check at a
                # second size is what proves it did not. The legacy exporter is a deliberate choice.
                warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
                warnings.filterwarnings("ignore", category=DeprecationWarning)
                try:
                    torch.onnx.export(
                        target,
                        (torch.from_numpy(x),),
                        str(tmp),
                        dynamo=False,
                        opset_version=self.opset,
                        input_names=[INPUT],
                        output_names=[OUTPUT],
                        dynamic_axes=self._dynamic_axes(),
                        do_constant_folding=True,
                    )
                except torch.onnx.errors.OnnxExporterError as exc:
                    # The first line is the reason; the rest is a dump of the traced graph.
                    reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0].split(" Please feel free")[0]
                    raise ModelError(f"torch cannot export {module.arch} to ONNX opset {self.opset}: {reason}") from exc
            model = onnx.load(str(tmp))
            meta.write(model, meta_for(target))
            onnx.checker.check_model(model, full_check=True)
            onnx.save(model, str(tmp))
            parity = check_parity(module, tmp, sizes)
            worst = max(p.max_abs_err for p in parity)
            shapes = "dynamic NxHxW" if self.dynamic else f"static 1x3x{h}x{w}"
            info["outcome"] = (
                f"{shapes}, max abs err {worst:.2e} vs PyTorch at {', '.join(f'{p.height}x{p.width}' for p in parity)}"
            )
        return out

    def _validate(self, module, out: Path) -> None:
        if not MIN_OPSET <= self.opset <= MAX_OPSET:
            raise InputError(f"opset {self.opset} is not supported; choose {MIN_OPSET}..{MAX_OPSET}")
        smallest = getattr(module, "min_size", 1)
        if min(self.sample_hw) < smallest:
            h, w = self.sample_hw
            raise InputError(
                f"{module.arch} needs inputs of at least {smallest}x{smallest}, not {h}x{w}; choose a larger size"
            )
        check_writable_dir(out.parent)

    def _dynamic_axes(self) -> dict | None:
        if not self.dynamic:
            return None
        return {INPUT: {0: "batch", 2: "height", 3: "width"}, OUTPUT: {0: "batch", 2: "out_height", 3: "out_width"}}


def export_onnx(
    module,
    path: str | os.PathLike,
    *,
    opset: int = MIN_OPSET,
    dynamic: bool = True,
    sample_hw: tuple[int, int] = (64, 64),
) -> Path:
    """Export ``module`` to ``path``; see :class:`ExportOnnx`."""
    return ExportOnnx(opset=opset, dynamic=dynamic, sample_hw=sample_hw)(module, path)
