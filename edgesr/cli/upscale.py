"""``edgesr upscale``: upscale a video file, an image, a folder or a glob with a model artifact."""

from __future__ import annotations

import argparse
import json
import sys

from edgesr.cli.args import height_width, nonneg_int, positive_int, provider_list

HELP = "upscale a video, an image, or a folder of images with a model"


def add_model_args(p: argparse.ArgumentParser) -> None:
    """The options that choose and feed the model (shared with ``edgesr stream``)."""
    from edgesr.artifacts import PRECISIONS
    from edgesr.meta import ModelMeta
    from edgesr.runtime.model_spec import VALUE_RANGES
    from edgesr.runtime.tiling import DEFAULT_MEMORY_BUDGET_MB, DEFAULT_OVERLAP

    g = p.add_argument_group("model")
    g.add_argument(
        "-m",
        "--model",
        "--artifact",
        dest="model",
        metavar="MODEL",
        help="the artifact to run: an .onnx file or a TensorRT .engine built by 'edgesr build' (its JSON "
        "sidecar beside it), or the name of a model or router shipped with edgesr (default: the router "
        "'auto', which picks per scene among the shipped models)",
    )
    g.add_argument(
        "--precision",
        choices=PRECISIONS,
        help="which file of a shipped model runs (default: int8 for the default router's models, whose INT8 "
        "ONNX Runtime files ship or are built once into the user cache; fp32 for a model named)",
    )
    g.add_argument(
        "--scale",
        type=positive_int,
        help="upscale factor, for a model that does not record it (otherwise inferred from a probe run)",
    )
    g.add_argument(
        "--value-range",
        type=float,
        choices=VALUE_RANGES,
        metavar="{" + ",".join(f"{v:g}" for v in VALUE_RANGES) + "}",
        help=f"input/output peak, for a model that does not record it (default {ModelMeta.value_range:g})",
    )
    g.add_argument(
        "--providers",
        type=provider_list,
        metavar="LIST",
        help="ONNX Runtime execution providers, best first, comma-separated: tensorrt, cuda, cpu "
        "(default: the best this onnxruntime has)",
    )
    g.add_argument("--threads", type=positive_int, help="CPU threads per inference (default: ONNX Runtime's)")
    g.add_argument(
        "--tile",
        type=height_width,
        metavar="HxW",
        help="cut frames into tiles of this input size, HEIGHTxWIDTH (fixed-shape models always tile at their shape)",
    )
    g.add_argument(
        "--tile-overlap",
        type=nonneg_int,
        default=DEFAULT_OVERLAP,
        metavar="PX",
        help="input pixels shared by neighbouring tiles; half of it must cover the model's receptive "
        f"field for seam-free output (default {DEFAULT_OVERLAP})",
    )
    g.add_argument(
        "--memory-budget",
        type=positive_int,
        metavar="MB",
        help="memory one frame may take; a larger frame is tiled automatically to fit, and one whose "
        f"upscaled pixels alone exceed it is refused (default {DEFAULT_MEMORY_BUDGET_MB}, for a "
        "Jetson Orin Nano 8 GB)",
    )
    g.add_argument("--batch", type=positive_int, help="tiles per inference call (default: all tiles of a frame)")
    add_blind_args(p)


def add_blind_args(p: argparse.ArgumentParser) -> None:
    from edgesr.runtime.scene import ReestimatePolicy

    g = p.add_argument_group(
        "blind SR (models with a degradation encoder, e.g. aidn-da)",
        "the degradation is estimated on the whole frame, then reused for the following frames",
    )
    g.add_argument(
        "--encoder",
        metavar="ENCODER.onnx",
        help="the encoder graph, when --model is the conditional graph of a split model (default: "
        "NAME.encoder.onnx beside NAME.conditional.onnx; a one-graph model is split in memory)",
    )
    g.add_argument(
        "--reestimate-every",
        type=int,
        metavar="N",
        help=f"estimate the degradation again every N frames of a video or stream (default {ReestimatePolicy.every}; "
        "1: every frame; separate images each get their own)",
    )
    g.add_argument(
        "--scene-threshold",
        type=float,
        metavar="SHARE",
        help="and at once when a small grey thumbnail of the frame changes by more than this share of the "
        f"full range, in (0, 1] (default {ReestimatePolicy.scene_threshold:g}; 1: never)",
    )


def model_path(text: str | None, precision: str | None = None, providers: tuple[str, ...] | None = None) -> str:
    """The artifact to run: a path as given, or a shipped model by name (None: the default one, as INT8
    unless ``precision`` says fp32); see :mod:`edgesr.artifacts`."""
    from edgesr.artifacts import resolve

    return str(resolve(text, precision, providers).path)


def runner_options(args):
    from edgesr.runtime.runners import RunnerOptions
    from edgesr.runtime.scene import ReestimatePolicy

    policy = None
    if args.reestimate_every is not None or args.scene_threshold is not None:
        given = {"every": args.reestimate_every, "scene_threshold": args.scene_threshold}
        policy = ReestimatePolicy(**{k: v for k, v in given.items() if v is not None})
    return RunnerOptions(
        scale=args.scale,
        value_range=args.value_range,
        providers=args.providers,
        threads=args.threads,
        encoder=args.encoder,
        reestimate=policy,
    )


def degradation_text(stats: dict) -> str:
    """How often a blind-SR model estimated the degradation, for the run's summary line ('' otherwise)."""
    d = stats.get("degradation")
    if d is None:
        return ""
    text = f", degradation estimated {d['estimates']} times ({d['scene_changes']} on a scene change)"
    routes = {name: n for name, n in d.get("routes", {}).items() if n}
    if routes:
        text += ", frames per model: " + ", ".join(f"{name} {n}" for name, n in routes.items())
    return text


def add_parser(sub) -> None:
    from edgesr.io.sinks import CODECS
    from edgesr.runtime.jobs import AUDIO_POLICIES
    from edgesr.runtime.jobs import UpscaleOptions as Defaults

    p = sub.add_parser(
        "upscale",
        help=HELP,
        description="Run every frame of INPUT (a video file, an image, a folder or a glob) through the model in a "
        "threaded pipeline and write OUTPUT: a video file, an image, or a folder. Video audio is "
        "copied when PyAV is installed (--audio).",
    )
    p.add_argument("input", metavar="INPUT", help="video file, image, folder or glob (quote it)")
    p.add_argument(
        "-o", "--output", required=True, metavar="OUTPUT", help="video file (.mp4, .mkv, ...), image file, or folder"
    )
    add_model_args(p)
    g = p.add_argument_group("output")
    g.add_argument(
        "--codec",
        choices=CODECS,
        default=Defaults.codec,
        help=f"video codec: mp4v (MPEG-4 part 2) or h264 (libx264, from PyAV) (default {Defaults.codec})",
    )
    g.add_argument(
        "--crf", type=nonneg_int, default=Defaults.crf, help=f"H.264 quality, lower is better (default {Defaults.crf})"
    )
    g.add_argument(
        "--audio",
        choices=AUDIO_POLICIES,
        default=Defaults.audio,
        help="a video's audio: auto copies it when PyAV can and warns when not, copy fails rather "
        f"than lose it, drop writes video only (default {Defaults.audio})",
    )
    g.add_argument(
        "--image-format", default=Defaults.image_format, metavar="EXT", help="format of images written to a folder"
    )
    g.add_argument("--json", metavar="STATS.json", help="also write the run statistics to this JSON file")
    g.add_argument("--no-progress", action="store_true", help="no progress bar")
    g.add_argument(
        "--resume",
        action="store_true",
        help="images into a folder: skip the inputs whose output image is already there",
    )
    p.set_defaults(run=run)


def run(args) -> int:
    from edgesr.fileio import write_json
    from edgesr.runtime.jobs import Upscale, UpscaleOptions

    options = UpscaleOptions(
        runner=runner_options(args),
        tile=args.tile,
        tile_overlap=args.tile_overlap,
        batch=args.batch,
        codec=args.codec,
        crf=args.crf,
        audio=args.audio,
        image_format=args.image_format,
        progress=not args.no_progress,
        resume=args.resume,
        memory_budget_mb=args.memory_budget,
    )
    result = Upscale(
        args.input, args.output, model_path(args.model, args.precision, options.runner.providers), options
    )()
    stats = result.stats
    e2e = stats["end_to_end"]
    print(
        f"{args.input} -> {args.output}: {stats['frames_written']} frames, {stats['fps']:.1f} fps, "
        f"latency p50 {e2e['p50_ms']:.0f} ms ({result.ended})"
        + (f", audio {stats['audio']}" if "audio" in stats else "")
        + degradation_text(stats)
    )
    if args.json:
        write_json(args.json, result.to_dict())
    elif args.verbose:
        print(json.dumps(result.to_dict(), indent=2))
    if result.interrupted:
        kept = stats.get("partial")
        print(
            "edgesr: interrupted; "
            + (
                f"the frames written are kept as {kept}"
                if kept
                else "the images written so far are kept (image inputs resume with --resume)"
            ),
            file=sys.stderr,
        )
        return 130
    return 0
