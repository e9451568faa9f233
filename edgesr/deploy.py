"""The one module that knows the stage order: model -> ONNX -> convert -> quantize -> validate ->
engine (this host can build for the device), bundle (it cannot) or ONNX Runtime artifact (``cpu``).

Each stage's output is kept in a work folder under ``out/<device>/.work/`` with the key of
what made it, and reused when the key matches; the final artifact directory is named by the
engine identity (docs/background.md, Engine identity) and locked while it is written.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import shutil
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from edgesr import __version__, devices, fileio, host, lock, meta, shipped
from edgesr.engine import bundle, policy, sidecar_writer
from edgesr.engine.identity import Identity, input_text
from edgesr.errors import EdgeSRError, InputError
from edgesr.lazy import available, require
from edgesr.log import logger, stage
from edgesr.quality.protocol import DEFAULT_MAX_DROP_DB

# The default static frame: a 1280x720 output, the stream size edgesr is tuned for.
DEFAULT_OUTPUT_WH = (1280, 720)
# Largest static input a build accepts: a 4K frame (calibration and validation run whole inputs).
MAX_INPUT_PIXELS = 3840 * 2160


class BudgetError(EdgeSRError):
    """The accuracy budget cannot be met by the precision asked for."""


@dataclass
class BuildOptions:
    """Settings of :class:`Build`. Give at most one model source: ``model``, ``onnx`` or ``weights``."""

    device: str = "cpu"  # a device id, or "auto": this Jetson's module (cpu elsewhere)
    model: str | None = None  # a model shipped with edgesr; None with no other source: the default model
    onnx: Path | None = None
    weights: Path | None = None
    arch: str | None = None  # with weights; None detects it from the tensor shapes
    scale: int | None = None
    precision: str = "best"
    input: tuple[int, int] | None = None  # W, H of a static input
    input_range: tuple[tuple[int, int], tuple[int, int]] | None = None  # (min W, H), (max W, H)
    max_drop: float = DEFAULT_MAX_DROP_DB
    calib: Path | None = None
    finetune: int | None = None  # INT8 fine-tune steps; None: the architecture's own (models table), 0: off
    data: list[Path] = field(default_factory=list)  # images for the accuracy report; empty: shipped samples
    dla: int | None = None
    workspace_mb: int | None = None
    opt_level: int | None = None
    out: Path = Path("engines")


@dataclass
class BuildResult:
    kind: str  # "engine" | "bundle" | "onnxruntime"
    directory: Path
    artifact: Path
    identity: Identity
    cached: bool
    accuracy: dict
    next_step: str | None = None


class Build:
    """``Build(options)()`` runs every stage for one device; see :func:`build`."""

    def __init__(self, options: BuildOptions | None = None):
        from edgesr.jetson.target import resolve

        o = options if options is not None else BuildOptions()
        # "auto" becomes this machine's device; a device this Jetson cannot build for is refused here
        self.options = replace(o, device=resolve(o.device).id)

    def __call__(self) -> BuildResult:
        o = self.options
        device = devices.get(o.device)
        plan = policy.plan(device, o.precision, dla_core=o.dla, dynamic=o.input_range is not None)
        if not o.max_drop >= 0:
            raise InputError(f"--max-drop must be >= 0 dB, got {o.max_drop}")
        if o.finetune is not None and o.finetune < 0:
            raise InputError(f"--finetune takes a number of steps >= 0 (0: off), got {o.finetune}")
        largest = o.input_range[1] if o.input_range is not None else o.input
        if largest is not None and largest[0] * largest[1] > MAX_INPUT_PIXELS:
            raise InputError(
                f"input size {largest[1]}x{largest[0]} is over the {MAX_INPUT_PIXELS} pixels edgesr "
                "builds for (calibration and validation run whole inputs); pass a smaller "
                "--input-size: larger frames are tiled at run time"
            )
        fileio.check_writable_dir(o.out)
        data_dirs = [Path(d) for d in o.data] or [_samples_dir()]
        source_key, name = self._source_key()
        work = Path(o.out) / device.id / ".work" / name
        with lock.locked(work):
            request = _key(
                source_key,
                device.id,
                asdict(plan),
                o.input,
                o.input_range,
                o.max_drop,
                o.finetune,
                _calib_key(o.calib),
                [_dir_key(d) for d in data_dirs],
                o.workspace_mb,
                o.opt_level,
                __version__,
                [_code_key(s) for s in sorted(_STAGE_CODE)],
                _code_key_of(_FINISH_CODE),
            )
            hit = self._cache_hit(work, request)
            if hit is not None:
                return hit
            source = self._source_onnx(work, source_key)
            scale = meta.read(require("onnx").load(str(source), load_external_data=False)).scale
            shapes = self._shapes(scale)
            converted = self._convert(work, source, device, shapes)
            precision, candidate, quant = self._choose(work, converted, plan, shapes)
            report = self._report(work, converted, candidate, data_dirs, precision)
            if quant is not None:  # the quantizer's own estimate for unseen content, beside the report's drops
                v = quant["validation"]
                report["estimate"] = {
                    "drop_db": v["drop_db"],
                    "expected_db": v["expected_drop_db"],
                    "margin_db": v["margin_db"],
                    "validation": v["source"],
                }
            result = self._finish(device, plan, name, scale, shapes, precision, converted, candidate, quant, report)
            fileio.write_json(
                work / "request.json",
                {
                    "key": request,
                    "directory": str(result.directory),
                    "artifact": str(result.artifact),
                    "kind": result.kind,
                },
            )
        return result

    # --- sources ---

    def _source_key(self) -> tuple[str, str]:
        o = self.options
        given = [x for x in (o.model, o.onnx, o.weights) if x is not None]
        if len(given) > 1:
            raise InputError("give one model source: --model NAME, --onnx PATH or --weights CKPT (with --arch)")
        if o.arch is not None and o.weights is None:
            raise InputError("--arch goes with --weights CKPT; for an ONNX file use --onnx")
        if o.onnx is not None:
            return _file_key(o.onnx), Path(o.onnx).stem
        if o.weights is not None:
            return _key(_file_key(o.weights), o.arch, o.scale), o.arch or Path(o.weights).stem
        path = shipped_model(o.model)
        return _file_key(path), path.stem

    def _source_onnx(self, work: Path, key: str) -> Path:
        o = self.options
        if o.onnx is not None:
            return Path(o.onnx)
        if o.weights is None:
            return shipped_model(o.model)
        target = work / "export" / "model.onnx"

        def export() -> None:
            from edgesr.export import export_onnx
            from edgesr.models import load

            export_onnx(load(o.arch, o.weights, scale=o.scale), target)

        _reuse(work / "export", _key(key, _code_key("export")), target, export)
        return target

    # --- stages ---

    def _shapes(self, scale: int):
        o = self.options
        if o.input_range is not None:
            (w0, h0), (w1, h1) = o.input_range
            if not (1 <= w0 <= w1 and 1 <= h0 <= h1):
                raise InputError(f"--input-size-range {h0}x{w0}:{h1}x{w1} must grow from min to max")
            return (1, 3, h0, w0), (1, 3, h1, w1), (1, 3, h1, w1)
        w, h = o.input or (DEFAULT_OUTPUT_WH[0] // scale, DEFAULT_OUTPUT_WH[1] // scale)
        return (1, 3, h, w)

    def _convert(self, work: Path, source: Path, device, shapes) -> Path:
        from edgesr.onnx.convert import convert

        fixed = shapes if isinstance(shapes[0], int) and self.options.dla is not None else None
        out = work / "convert"
        target = out / f"{source.stem}.onnx"
        options = {"target": device.id, "input_shape": fixed}
        _reuse(
            out, _key(_file_key(source), options, _code_key("convert")), target, lambda: convert(source, out, **options)
        )
        return target

    def _choose(self, work: Path, converted: Path, plan: policy.Plan, shapes):
        """The first precision of the plan that fits the budget, with its ONNX and quantize record."""
        o = self.options
        for precision in plan.candidates:
            if precision == "fp32":
                return "fp32", converted, None
            if precision == "fp16":
                return "fp16", self._fp16(work, converted), None
            quant = self._int8(work, converted, shapes)
            if quant["validation"]["met"]:
                return "int8", self._int8_file(work / "quantize" / "model.int8.onnx"), quant
            drop = quant["validation"]["drop_db"]
            if plan.requested == "int8":
                raise BudgetError(
                    f"INT8 loses {drop:.3f} dB on the validation images, over --max-drop {o.max_drop} "
                    f"even with {len(quant['kept'])} layers kept in float; raise --max-drop or use "
                    f"--precision {'fp16' if 'fp16' in devices.get(o.device).precisions else 'fp32'} "
                    f"(best result kept in {work / 'quantize'})"
                )
            logger.warning(
                "INT8 loses %.3f dB (> budget %.3f dB) even with %d layers in float: using the next precision",
                drop,
                o.max_drop,
                len(quant["kept"]),
            )
        raise BudgetError("no precision this device runs meets the budget")  # fp32 always ends the plan above

    def _int8_file(self, symmetric: Path) -> Path:
        """The INT8 file to ship: symmetric INT8 for TensorRT and ONNX Runtime on ARM; for an ONNX
        Runtime artifact on x86, the same grid encoded UINT8+128, which ONNX Runtime fuses there."""
        from edgesr.quantize.outputs import x86_path

        if not devices.get(self.options.device).is_jetson and platform.machine().lower() in ("x86_64", "amd64"):
            return x86_path(symmetric)
        return symmetric

    def _int8(self, work: Path, converted: Path, shapes) -> dict:
        from edgesr.quantize import quantize

        o = self.options
        out = work / "quantize"
        target = out / "model.int8.onnx"
        opt = shapes if isinstance(shapes[0], int) else shapes[1]
        patch = (opt[2], opt[3])
        steps = self._finetune_steps(converted)
        options = {"calib": o.calib, "max_drop": o.max_drop, "input_shape": patch, "finetune_steps": steps}
        key = _key(_file_key(converted), _calib_key(o.calib), options, _code_key("int8"))
        _reuse(out, key, target, lambda: quantize(converted, target, **options))
        return json.loads(_record_path(target).read_text())

    def _finetune_steps(self, converted: Path) -> int:
        """--finetune, else the models table's steps for the model's architecture; 0 without PyTorch."""
        from edgesr.models import registry

        if self.options.finetune is not None:
            return self.options.finetune
        arch = meta.read_file(converted).arch
        steps = registry.get(arch).qat_steps if arch in registry.names() else 0
        if steps and not available("torch"):  # the fine-tune imports it next anyway
            logger.warning(
                "PyTorch is not installed, so the INT8 model of %s is built without its %d-step "
                "quantization-aware fine-tune and may lose more dB; pip install 'edgesr[torch]' "
                "for it",
                arch,
                steps,
            )
            return 0
        return steps

    def _fp16(self, work: Path, converted: Path) -> Path:
        from edgesr.quantize import to_fp16

        onnx = require("onnx")
        out = work / "fp16"
        target = out / "model.fp16.onnx"

        def make() -> None:
            out.mkdir(parents=True, exist_ok=True)
            fileio.write_bytes(target, to_fp16(onnx.load(str(converted))).SerializeToString())

        _reuse(out, _key(_file_key(converted), _code_key("fp16")), target, make)
        return target

    def _report(self, work: Path, reference: Path, candidate: Path, data_dirs: list[Path], precision: str) -> dict:
        from edgesr.report import validate

        out = work / f"report-{precision}"
        if candidate == reference:
            return {"precision": precision, "drop_db": {}, "passed": True, "note": "FP32 is the reference"}
        key = _key(
            _file_key(reference),
            _file_key(candidate),
            [_dir_key(d) for d in data_dirs],
            self.options.max_drop,
            _code_key("report"),
        )
        summary = out / "summary.json"

        def run() -> None:
            rep = validate([reference, candidate], data_dirs, max_drop=self.options.max_drop, out_dir=out)
            drops = {d.name: d.drop(rep.candidates[0].name) for d in rep.datasets}
            fileio.write_json(
                summary,
                {"precision": precision, "drop_db": drops, "passed": rep.passed, "data": [str(d) for d in data_dirs]},
            )

        _reuse(out, key, summary, run)
        result = json.loads(summary.read_text())
        if not result["passed"]:
            logger.warning(
                "%s drops %s on the report images, over the %.3f dB budget: see %s",
                precision,
                ", ".join(f"{k} {v:.3f} dB" for k, v in result["drop_db"].items()),
                self.options.max_drop,
                out / "report.html",
            )
        result["report"] = str(out / "report.html")
        return result

    # --- the artifact ---

    def _finish(self, device, plan, name, scale, shapes, precision, converted, candidate, quant, report) -> BuildResult:
        o = self.options
        kept = tuple(k["node"] for k in quant["kept"]) if quant else ()
        base = Identity(
            model=name,
            scale=scale,
            onnx_sha256=_file_key(candidate),
            precision=precision,
            kept_layers=kept,
            input=input_text(shapes),
            device=device.id,
            compute_capability=device.compute_capability,
            tensorrt=None,
            dla_core=plan.dla_core,
            workspace_mb=o.workspace_mb,
            opt_level=o.opt_level,
        )
        directory = Path(o.out) / device.id / base.dirname
        with lock.locked(directory):
            if not device.is_jetson:
                return self._onnxruntime(directory, base, converted, candidate, report)
            if self._can_build_here(device):
                return self._engine(directory, base, candidate, precision, shapes, report)
            return self._bundle(directory, base, device, converted, candidate, precision, shapes, quant, report)

    def _onnxruntime(
        self, directory: Path, ident: Identity, converted: Path, candidate: Path, report: dict
    ) -> BuildResult:
        artifact = directory / f"{ident.dirname}.onnx"
        report, _ = _attach_report(directory, report)
        _copy(candidate, artifact)
        if candidate != converted:
            _copy(converted, directory / f"{ident.model}-x{ident.scale}-fp32.onnx")
        graphs = _split_parts(artifact, directory, ident.dirname)
        sidecar_writer.write(
            artifact,
            ident,
            kind="onnxruntime",
            edgesr_version=__version__,
            accuracy=report,
            **({"graphs": graphs} if graphs else {}),
        )
        return BuildResult("onnxruntime", directory, artifact, ident, False, report)

    @staticmethod
    def _can_build_here(device) -> bool:
        from edgesr.engine.tensorrt_api import tensorrt_version

        here = host.jetson()
        if tensorrt_version() is None:
            logger.info("TensorRT is not importable here: writing a bundle that finishes on the %s", device.id)
            return False
        if here is None or here.id != device.id:
            logger.info(
                "this machine is %s, not a %s: writing a bundle that finishes on the device",
                here.name if here else "not a Jetson",
                device.id,
            )
            return False
        return True

    def _engine_spec(self, onnx_path: Path, precision: str, shapes):
        from edgesr.engine.engine_builder import EngineSpec
        from edgesr.onnx.loading import image_input, load

        o = self.options
        inp = image_input(load(onnx_path))
        if isinstance(shapes[0], int):
            # A static request on a dynamic graph is a one-point profile; a fixed graph needs none.
            shapes = (shapes, shapes, shapes) if inp.dynamic_hw else None
        return EngineSpec(
            onnx_path=onnx_path,
            precision=precision,
            int8_source="qdq" if precision == "int8" else None,
            input_name=inp.name,
            shapes=shapes,
            workspace_mb=o.workspace_mb,
            opt_level=o.opt_level,
            dla_core=o.dla,
        )

    def _engine(
        self, directory: Path, base: Identity, candidate: Path, precision: str, shapes, report: dict
    ) -> BuildResult:
        from edgesr.engine.engine_builder import build_engine
        from edgesr.engine.tensorrt_api import tensorrt_version

        ident = base.with_tensorrt(tensorrt_version())
        engine = directory / bundle.engine_name(ident)
        if sidecar_writer.matches(engine, ident):
            logger.info("cache hit: %s matches the requested identity", engine)
            return BuildResult("engine", directory, engine, ident, True, report)
        onnx_path = self._engine_onnx(directory, candidate, precision, shapes)
        spec = self._engine_spec(onnx_path, precision, shapes)
        spec = type(spec)(
            **{**asdict(spec), "timing_cache": Path(self.options.out) / base.device / f"timing-{ident.tensorrt}.cache"}
        )
        outcome = build_engine(spec)
        report, _ = _attach_report(directory, report)
        _write_engine(engine, ident, outcome, report, meta.read_file(onnx_path).to_props())
        return BuildResult("engine", directory, engine, ident, False, report)

    def _engine_onnx(self, directory: Path, candidate: Path, precision: str, shapes) -> Path:
        """The ONNX TensorRT parses: INT32 bias DQ folded for Q/DQ models, the shape fixed for DLA."""
        onnx = require("onnx")
        model = onnx.load(str(candidate))
        if precision == "int8":
            from edgesr.quantize import for_tensorrt

            model = for_tensorrt(model)
        if self.options.dla is not None:
            from edgesr.onnx.loading import fix_input_shape, image_input

            fix_input_shape(model, image_input(model), shapes)
        target = directory / f"model.{precision}.onnx"
        fileio.write_bytes(target, model.SerializeToString())
        return target

    def _bundle(self, directory, base, device, converted, candidate, precision, shapes, quant, report) -> BuildResult:
        from edgesr.quantize import read_trt_cache, scales_from_qdq, write_trt_cache

        manifest = directory / bundle.MANIFEST
        if manifest.is_file() and bundle.read(directory)["key"] == base.key:
            logger.info("cache hit: bundle %s matches the requested identity", directory)
            return BuildResult(
                "bundle", directory, directory / bundle.SCRIPT, base, True, report, self._next_step(directory, device)
            )
        onnx_path = self._engine_onnx(directory, candidate, precision, shapes)
        files = {"onnx": onnx_path.name}
        _copy(converted, directory / "model.fp32.onnx")
        files["fp32"] = "model.fp32.onnx"
        if quant is not None:
            _copy(candidate, directory / "model.int8.qdq.onnx")
            files["qdq"] = "model.int8.qdq.onnx"
            scales = scales_from_qdq(require("onnx").load(str(candidate)))
            for version in sorted({v for v in device.tensorrt_versions if not v.startswith("11")}):
                cache = directory / f"calibration-trt{version}.cache"
                write_trt_cache(cache, scales, version=version)
                read_trt_cache(cache)
                files[f"calib_trt{version}"] = cache.name
        graphs = _split_parts(onnx_path, directory, onnx_path.stem)
        if graphs:
            files.update({f"{role}_onnx": graphs[role] for role in ("encoder", "conditional")})
        report, copied = _attach_report(directory, report)
        files.update({f"accuracy_{Path(name).suffix[1:]}": name for name in copied})
        spec = self._engine_spec(onnx_path, precision, shapes)
        bundle.write(directory, spec=spec, device=device, identity=base, files=files, report=report)
        return BuildResult(
            "bundle", directory, directory / bundle.SCRIPT, base, False, report, self._next_step(directory, device)
        )

    @staticmethod
    def _next_step(directory: Path, device) -> str:
        return (
            f"copy {directory} to the {device.name} and run: bash build.sh "
            f"(or, with edgesr installed there: edgesr build --bundle {directory.name})"
        )

    def _cache_hit(self, work: Path, request: str) -> BuildResult | None:
        path = work / "request.json"
        if not path.is_file():
            return None
        prior = json.loads(path.read_text())
        artifact = Path(prior["artifact"])
        if prior.get("key") != request or not artifact.exists():
            return None
        directory = Path(prior["directory"])
        if prior["kind"] == "bundle":
            man = bundle.read(directory)
            ident = Identity.from_dict(man["identity"])
            step = self._next_step(directory, devices.get(man["device"]))
            return BuildResult("bundle", directory, artifact, ident, True, man.get("accuracy") or {}, step)
        data = sidecar_writer.read(artifact)
        logger.info("cache hit: %s was built from the same request", artifact)
        return BuildResult(prior["kind"], directory, artifact, data["identity"], True, data.get("accuracy") or {})


def build(**options) -> BuildResult:
    """Run :class:`Build`; keyword arguments are :class:`BuildOptions` fields."""
    return Build(BuildOptions(**options))()


def finish_bundle(directory: str | os.PathLike) -> BuildResult:
    """On the device: build the engine a bundle describes with this machine's TensorRT."""
    from edgesr.engine.engine_builder import EngineSpec, build_engine
    from edgesr.engine.tensorrt_api import tensorrt_version

    d = Path(directory)
    man = bundle.read(d)
    version = tensorrt_version()
    if version is None:
        raise InputError(
            "TensorRT is not importable on this machine; on a Jetson use JetPack's python3-libnvinfer, "
            "or run the bundle's build.sh"
        )
    here = host.jetson()
    if here is not None and here.id != man["device"]:
        raise InputError(
            f"this bundle is for {man['device']}, this machine is {here.id}; "
            f"run 'edgesr build --device {here.id}' instead"
        )
    ident = bundle.finished_identity(man, version)
    engine = d / man["engine"]
    with lock.locked(d):
        if sidecar_writer.matches(engine, ident):
            return BuildResult("engine", d, engine, ident, True, man.get("accuracy") or {})
        fields = {
            **man["spec"],
            "onnx_path": d / man["spec"]["onnx_path"],
            "timing_cache": d / f"timing-{man['device']}.cache",
        }
        if fields["shapes"] is not None:
            fields["shapes"] = tuple(tuple(s) for s in fields["shapes"])
        outcome = build_engine(EngineSpec(**fields))
        _write_engine(engine, ident, outcome, man.get("accuracy"), man.get("meta"))
    return BuildResult("engine", d, engine, ident, False, man.get("accuracy") or {})


def _write_engine(engine: Path, ident: Identity, outcome, accuracy, meta_props) -> None:
    """Write a built engine and the sidecar that records how it was built."""
    fileio.write_bytes(engine, outcome.engine)
    sidecar_writer.write(
        engine,
        ident,
        kind="engine",
        edgesr_version=__version__,
        precision_used=outcome.precision,
        build_seconds=round(outcome.seconds, 2),
        builder_log=outcome.log,
        dla_layers=outcome.dla_layers,
        gpu_fallback_layers=outcome.gpu_fallback_layers,
        accuracy=accuracy,
        meta=meta_props,
    )


def shipped_model(name: str | None) -> Path:
    """A model shipped inside the package: by name, or the one its card marks as the default."""
    return shipped.find(name).onnx


# --- helpers ---


def _reuse(folder: Path, key: str, output: Path, produce) -> None:
    """Run ``produce`` unless ``folder`` already holds ``output`` made under the same ``key``."""
    stamp = folder / ".key"
    if output.is_file() and stamp.is_file() and stamp.read_text() == key:
        logger.info("reusing %s (same inputs)", output)
        return
    folder.mkdir(parents=True, exist_ok=True)
    if stamp.exists():
        stamp.unlink()
    with stage(f"stage {folder.name}"):
        produce()
    fileio.write_text(stamp, key)


# The edgesr code that computes each cached stage (folders and files under edgesr/): its source is
# part of the stage's key, so a build after a code change redoes what that change can affect, even
# while the version number stays the same.
_STAGE_CODE: dict[str, tuple[str, ...]] = {
    "export": ("export", "models", "meta.py"),
    "convert": ("onnx", "io/images.py", "meta.py", "devices.py"),
    "int8": ("quantize", "onnx", "io/images.py", "quality", "meta.py", "models", "train"),
    "fp16": ("quantize", "onnx", "meta.py"),
    "report": ("report", "quality", "runtime", "io", "meta.py"),
}
# Code behind the artifact folder itself (the cache hit of a whole build returns it).
_FINISH_CODE = ("deploy.py", "sidecar.py", "engine", "devices.py", "onnx/split_encoder.py")


def _code_key(stage_name: str) -> str:
    return _code_key_of(_STAGE_CODE[stage_name])


@functools.cache
def _code_key_of(parts: tuple[str, ...]) -> str:
    """SHA-256 over the paths and bytes of the ``.py`` files under ``parts`` of the edgesr package."""
    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for part in parts:
        base = root / part
        for f in sorted(base.rglob("*.py")) if base.is_dir() else [base]:
            h.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


def _key(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _file_key(path: str | os.PathLike) -> str:
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p} does not exist; check the path")
    return fileio.sha256(p)


def _dir_key(path: Path) -> str:
    from edgesr.io.images import list_images

    return _key([(f.name, f.stat().st_size, int(f.stat().st_mtime)) for f in list_images(path)])


def _calib_key(calib: Path | None) -> str | None:
    return None if calib is None else (_dir_key(Path(calib)) if Path(calib).is_dir() else _file_key(calib))


def _samples_dir() -> Path:
    from edgesr.io.images import sample_images

    return sample_images()[0].parent


def _record_path(qdq: Path) -> Path:
    from edgesr.quantize.outputs import record_path

    return record_path(qdq)


def _attach_report(directory: Path, report: dict) -> tuple[dict, list[str]]:
    """Copy the accuracy report next to the artifact; return the summary pointing at the copy."""
    if not report.get("report"):
        return report, []
    copied = []
    for f in sorted(Path(report["report"]).parent.iterdir()):
        if f.suffix in (".html", ".json", ".md"):
            _copy(f, directory / f"accuracy-{f.name}")
            copied.append(f"accuracy-{f.name}")
    return {**report, "report": str(directory / "accuracy-report.html")}, copied


def _split_parts(model: Path, directory: Path, stem: str) -> dict | None:
    """For a blind-SR model, its encoder and conditional graphs beside ``model`` (streams estimate the
    degradation once per scene with them; edgesr.runtime.blind_parts) and what binds them; None otherwise."""
    from edgesr.onnx.split_encoder import has_encoder, split

    if not has_encoder(require("onnx").load(str(model), load_external_data=False)):
        return None
    parts = split(model, directory, stem)
    logger.info("blind-SR model: wrote its encoder and conditional graphs (pair %s)", parts.pair)
    return {
        "encoder": parts.encoder.name,
        "conditional": parts.conditional.name,
        "pair": parts.pair,
        "sha256": {p.name: _file_key(p) for p in (parts.encoder, parts.conditional)},
        "representation": parts.representation,
    }


def _copy(src: Path, dst: Path) -> None:
    with fileio.atomic_path(dst) as tmp:
        shutil.copyfile(src, tmp)
