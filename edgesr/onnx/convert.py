"""The conversion stage: ONNX in, a simplified, checked, deployment-ready ONNX out, with proof.

Order (each step logged and timed): load -> sanitise -> simplify -> deployment rewrites ->
full check + strict shape inference -> op support per target -> parity on real images ->
atomic write of the model and a JSON report. Nothing is written unless every step passes.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from edgesr import __version__, devices, fileio, meta
from edgesr.errors import InputError, ModelError, UnsupportedOpError
from edgesr.lazy import require
from edgesr.log import logger, stage
from edgesr.onnx import checks, graph_parity, loading, sessions, simplify, support
from edgesr.onnx.rewrite_bicubic import rewrite_bicubic_resizes
from edgesr.onnx.rewrite_gelu import restore_gelu_halves
from edgesr.onnx.rewrite_shuffle import merge_shuffled_adds

# Default parity tolerance, relative to the model's value range (1.0 or 255).
RELATIVE_ATOL = 1e-4


@dataclass
class ConvertOptions:
    """Settings of :class:`Convert`. ``atol`` None means ``RELATIVE_ATOL`` x the value range."""

    target: str = "cpu"
    input_shape: tuple[int, int, int, int] | None = None
    rewrite: bool = True
    atol: float | None = None
    parity_images: list[Path] | None = None


@dataclass
class ConvertResult:
    model: object  # onnx.ModelProto as written
    onnx_path: Path
    report_path: Path
    report: dict = field(repr=False)


class Convert:
    """``Convert(model_path, out_dir, options)()`` runs the stage; see :func:`convert`."""

    def __init__(
        self, model_path: str | os.PathLike, out_dir: str | os.PathLike, options: ConvertOptions | None = None
    ):
        self.model_path = Path(model_path)
        self.out_dir = Path(out_dir)
        self.options = options if options is not None else ConvertOptions()

    def __call__(self) -> ConvertResult:
        opts = self.options
        device = devices.get(opts.target)
        out_onnx, out_report = self._outputs()
        timings: dict[str, float] = {}

        def timed(name: str):
            return _Timed(name, timings)

        with timed("load"):
            original = loading.load(self.model_path)
        source_opset = loading.opset_of(original)
        before = _stats(original)
        with timed("sanitise"):
            model, inp, notes = loading.sanitise(original, opts.input_shape)
        model_meta = meta.read(model)
        if not model_meta.known:
            logger.info("no edgesr metadata in the model: assuming RGB input in [0, 1]")
        with timed("simplify") as info:
            model, simplifier, simplify_notes = simplify.simplify(model)
            info["outcome"] = f"{simplifier}, {before['nodes']} -> {len(model.graph.node)} nodes"
        notes += simplify_notes
        rewrites, skipped, shuffle_merges, gelu_halves = _rewrite(model, timed) if opts.rewrite else ([], [], [], [])
        with timed("check"):
            model = checks.check(model)
        with timed("support"):
            findings = {t: support.check_graph(model, t) for t in support.TARGETS}
            verdict = _support_verdict(device, findings, dynamic=inp.dynamic_hw)
        atol = opts.atol if opts.atol is not None else RELATIVE_ATOL * model_meta.value_range
        with timed("parity") as info:
            reference, candidate, parity_inp, bounded = _parity_models(original, model, inp, notes)
            data, names = graph_parity.feeds(
                parity_inp,
                value_range=model_meta.value_range,
                size_multiple=model_meta.size_multiple,
                sources=opts.parity_images,
            )
            result = _run_parity(reference, candidate, data, model_meta.value_range, atol, names)
            info["outcome"] = f"max abs error {result.max_abs_error:.3g}, " + (
                "identical" if result.psnr_db is None else f"output PSNR {result.psnr_db:.1f} dB"
            )
        after = _stats(model)
        report = {
            "edgesr_version": __version__,
            "source": {
                "path": str(self.model_path),
                "sha256": fileio.sha256(self.model_path),
                "opset": source_opset,
                "ir_version": original.ir_version,
            },
            "input": {"name": inp.name, "shape": inp.shape_text, "dtype": inp.dtype, "dynamic_hw": inp.dynamic_hw},
            "metadata": model_meta.to_props() if model_meta.known else None,
            "target": device.id,
            "before": before,
            "after": after,
            "simplifier": simplifier,
            "notes": notes,
            "rewrites": [r.__dict__ for r in rewrites],
            "rewrites_skipped": skipped,
            "shuffle_merges": shuffle_merges,
            "gelu_halves_restored": gelu_halves,
            "support": {t: [{**asdict(f), "blocking": f.blocking} for f in fs] for t, fs in findings.items()},
            "support_verdict": verdict,
            "parity": {**result.as_dict(), "bounded": bounded},
            "timings_s": timings,
        }
        self._write(model, report, out_onnx, out_report)
        return ConvertResult(model, out_onnx, out_report, report)

    def _outputs(self) -> tuple[Path, Path]:
        """The model and report paths, refused when the model would overwrite the input."""
        out_onnx = self.out_dir / f"{self.model_path.stem}.onnx"
        out_report = self.out_dir / f"{self.model_path.stem}.convert.json"
        if self.model_path.exists() and out_onnx.exists() and out_onnx.resolve() == self.model_path.resolve():
            raise InputError(f"the output {out_onnx} would overwrite the input model; choose another -o")
        fileio.check_writable_dir(self.out_dir)
        return out_onnx, out_report

    def _write(self, model, report: dict, out_onnx: Path, out_report: Path) -> None:
        """Record the written model's hash and size in ``report``, then write both."""
        data_bytes = model.SerializeToString()
        report["output"] = {
            "path": str(out_onnx),
            "sha256": hashlib.sha256(data_bytes).hexdigest(),
            "bytes": len(data_bytes),
        }
        self.out_dir.mkdir(parents=True, exist_ok=True)
        fileio.write_bytes(out_onnx, data_bytes)
        fileio.write_json(out_report, report)
        logger.info("wrote %s and %s", out_onnx, out_report)


def convert(model_path: str | os.PathLike, out_dir: str | os.PathLike, **options) -> ConvertResult:
    """Convert ``model_path`` into ``out_dir``; keyword arguments are :class:`ConvertOptions` fields."""
    return Convert(model_path, out_dir, ConvertOptions(**options))()


class _Timed:
    """``stage()`` that also records the duration into a timings dict."""

    def __init__(self, name: str, timings: dict[str, float]):
        self._cm = stage(name)
        self._name = name
        self._timings = timings

    def __enter__(self) -> dict:
        self._info = self._cm.__enter__()
        return self._info

    def __exit__(self, *exc) -> bool:
        try:
            return bool(self._cm.__exit__(*exc))
        finally:
            self._timings[self._name] = round(self._info.get("seconds", 0.0), 4)


def _rewrite(model, timed) -> tuple[list, list, list, list]:
    """The deployment rewrites, in place: bicubic Resizes, adds before a shared DepthToSpace, split GELUs."""
    with timed("rewrite") as info:
        rewrites, skipped = rewrite_bicubic_resizes(model)
        shuffle_merges = merge_shuffled_adds(model)
        gelu_halves = restore_gelu_halves(model)
        info["outcome"] = (
            f"{len(rewrites)} bicubic Resize rewritten, {len(shuffle_merges)} add(s) "
            f"moved before a shared DepthToSpace, {len(gelu_halves)} GELU(s) made whole "
            "again for the runtimes' fusion"
        )
    for why in skipped:
        logger.warning("cubic Resize kept (%s): ONNX Runtime CPU runs it slowly and DLA cannot run it", why)
    return rewrites, skipped, shuffle_merges, gelu_halves


def _stats(model) -> dict:
    return {
        "nodes": len(model.graph.node),
        "initializers": len(model.graph.initializer),
        "ops": checks.op_counts(model),
    }


def _support_verdict(device: devices.Device, findings: dict[str, list], *, dynamic: bool) -> dict:
    """Fail on ops the device cannot run on any TensorRT it ships; warn on partial coverage and DLA fallback."""
    targets = support.targets_for_device(device)
    gpu = [t for t in targets if t != "dla"]
    blocked_by_op: dict[str, dict[str, object]] = {}
    for t in gpu:
        for f in findings[t]:
            if f.blocking:
                entry = blocked_by_op.setdefault(f.op, {"targets": [], "nodes": f.nodes, "note": f.note})
                entry["targets"].append(t)
    errors, warnings = [], []
    for op, entry in blocked_by_op.items():
        nodes = ", ".join(entry["nodes"][:3]) + (" ..." if len(entry["nodes"]) > 3 else "")
        if len(entry["targets"]) == len(gpu):
            fallback = (
                "no fallback exists on this device" if device.is_jetson else "ONNX Runtime has no CPU kernel for it"
            )
            errors.append(
                f"op {op} (nodes {nodes}) cannot run on {device.id} "
                f"[{'/'.join(gpu)}]: {entry['note'] or 'unsupported'}; {fallback}"
            )
        else:
            ok = [t for t in gpu if t not in entry["targets"]]
            warnings.append(
                f"op {op} (nodes {nodes}) is unsupported on {'/'.join(entry['targets'])}; "
                f"use a release with {'/'.join(ok)}"
            )
    dla_fallback = []
    if "dla" in targets:
        dla_fallback = [
            f"{f.op} ({len(f.nodes)} nodes): {f.note}" for f in findings["dla"] if f.status == "unsupported"
        ]
        if dynamic:
            warnings.append(
                "DLA needs static shapes: with dynamic H/W every layer runs on the GPU; "
                "pass --input-shape NxCxHxW to see what DLA can run"
            )
        elif dla_fallback:
            warnings.append(
                f"on DLA {len(dla_fallback)} op types fall back to the GPU: "
                + "; ".join(s.split(":")[0] for s in dla_fallback)
            )
    for w in warnings:
        logger.warning("%s", w)
    if errors:
        raise UnsupportedOpError(errors[0] + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""))
    return {"device": device.id, "targets": list(targets), "warnings": warnings, "dla_fallback": dla_fallback}


def _parity_models(original, model, inp: loading.ImageInput, notes: list[str]):
    """The two graphs parity compares, at a bounded input size when the declared one is too large to run
    (said in ``notes`` and the log)."""
    if not graph_parity.needs_bound(inp):
        return original, model, inp, None
    h, w = graph_parity.BOUNDED_HW
    note = (
        f"parity ran at {h}x{w}, not the declared {inp.shape_text}: inputs over {graph_parity.MAX_PIXELS} pixels "
        "are proven at a bounded size"
    )
    logger.warning("%s", note)
    notes.append(note)
    reference, _ = graph_parity.at_size(original, (h, w))
    candidate, bounded_inp = graph_parity.at_size(model, (h, w))
    return reference, candidate, bounded_inp, note


def _run_parity(reference, model, data, value_range: float, atol: float, names: list[str]):
    ort_errors = sessions.errors(
        require("onnxruntime"),
        ("Fail", "InvalidGraph", "NotImplemented", "InvalidArgument", "RuntimeException", "InvalidProtobuf"),
    )
    try:
        return graph_parity.compare(reference, model, data, value_range=value_range, atol=atol, image_names=names)
    except ort_errors as exc:
        first = str(exc).strip().splitlines()[0]
        raise ModelError(f"ONNX Runtime cannot run the model ({first}); check the ops and the IR version") from None
