"""DLA builds: what a DLA request needs, how the builder is set up for it, and which layers run where.

DLA runs FP16 and INT8 only, on static shapes; a layer it cannot run goes to the GPU when GPU
fallback is on -- silently, in TensorRT, so the report here names every such layer. Placement is
asked of the builder per layer (``IBuilderConfig.can_run_on_DLA``) before the build. TensorRT 11
runs DLA only from 11.4.1, on Jetson AGX Orin with JetPack 7.2.2 (TensorRT 11.4.1 release notes);
elsewhere the builder reports no DLA core and the request fails here.
"""

from __future__ import annotations

from dataclasses import dataclass

from edgesr.engine.build_log import BuildLog
from edgesr.errors import DeviceError

MAX_NAMED = 12  # layers named in a message; the rest are counted


@dataclass(frozen=True)
class Placement:
    """Which layers the builder can put on the DLA core, and which go to the GPU instead."""

    dla_layers: tuple[str, ...]
    gpu_layers: tuple[str, ...]

    def summary(self) -> str:
        total = len(self.dla_layers) + len(self.gpu_layers)
        if not self.gpu_layers:
            return f"all {total} layers can run on DLA"
        return f"{len(self.gpu_layers)} of {total} layers run on the GPU instead of DLA: {_names(self.gpu_layers)}"


def _names(names: tuple[str, ...]) -> str:
    shown = ", ".join(names[:MAX_NAMED])
    more = len(names) - MAX_NAMED
    return shown + (f" and {more} more" if more > 0 else "")


def check_request(precision: str, shapes, dla_core: int | None) -> None:
    """Refuse DLA requests no TensorRT can honour (checked without TensorRT, for bundles too)."""
    if dla_core is None:
        return
    if precision == "fp32":
        raise DeviceError("DLA runs FP16 and INT8 only; build fp16 or int8 for DLA, or drop the DLA core")
    if shapes is not None and not (shapes[0] == shapes[1] == shapes[2]):
        raise DeviceError(
            "DLA needs a static input shape (a dynamic profile sends every DLA layer to the GPU); "
            "build with min = opt = max, or without DLA"
        )


def configure(trt, builder, network, config, *, core: int, gpu_fallback: bool, log: BuildLog) -> Placement:
    """Point ``config`` at DLA core ``core`` and report where each layer will run."""
    available = builder.num_DLA_cores
    if not 0 <= core < available:
        have = f"cores 0..{available - 1}" if available else "no DLA core"
        raise DeviceError(
            f"TensorRT {trt.__version__} sees {have} on this device; DLA core {core} does not exist "
            "(TensorRT 11 runs DLA only from 11.4.1 on AGX Orin); build for the GPU instead"
        )
    config.default_device_type = trt.DeviceType.DLA
    config.DLA_core = core
    if gpu_fallback:
        config.set_flag(trt.BuilderFlag.GPU_FALLBACK)
    placement = placement_of(network, config)
    if placement.gpu_layers and not gpu_fallback:
        raise DeviceError(
            f"{len(placement.gpu_layers)} layers cannot run on DLA ({_names(placement.gpu_layers)}) "
            "and GPU fallback is off; allow GPU fallback or change those layers"
        )
    if placement.gpu_layers:
        log.note(f"DLA core {core}: {placement.summary()}")
    return placement


def placement_of(network, config) -> Placement:
    dla, gpu = [], []
    for i in range(network.num_layers):
        layer = network.get_layer(i)
        (dla if config.can_run_on_DLA(layer) else gpu).append(layer.name)
    return Placement(tuple(dla), tuple(gpu))
