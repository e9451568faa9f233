"""``edgesr stream``: a live source through a model into a sink, with statistics."""

from __future__ import annotations

import json

from edgesr.cli.args import nonneg_float, nonneg_int, positive_float, positive_int
from edgesr.cli.upscale import add_model_args, model_path, runner_options

HELP = "upscale a camera, stream or file live, with fps and latency statistics"


def add_parser(sub) -> None:
    p = sub.add_parser(
        "stream",
        help=HELP,
        description="Read --source, upscale with the model, write --sink. Live sources drop stale frames instead "
        "of building latency, and a lost camera or stream is reconnected with backoff. Statistics "
        "(fps, per-stage and end-to-end latency, drops, reconnects) are logged periodically and "
        "printed as JSON at the end. Ctrl-C stops cleanly and finalises the output.",
    )
    p.add_argument(
        "--source",
        required=True,
        metavar="URI",
        help="csi://0, v4l2:///dev/video0 (or 0), rtsp://..., test://WxH?fps=30, a file, folder or glob",
    )
    p.add_argument(
        "--sink",
        required=True,
        metavar="URI",
        help="display://0, null://, a video file (file://out.mp4?codec=h264), an image folder",
    )
    add_model_args(p)
    _add_live_args(p)
    _add_output_args(p)
    p.set_defaults(run=run)


def _add_live_args(p) -> None:
    from edgesr.io.sources import ReconnectPolicy as Reconnect
    from edgesr.io.sources import SourceOptions
    from edgesr.runtime.streaming import (
        DROP_POLICIES,
        FILE_QUEUE_SIZE,
        LIVE_QUEUE_SIZE,
        PipelineOptions,
    )

    g = p.add_argument_group("live behaviour")
    g.add_argument(
        "--drop",
        choices=DROP_POLICIES,
        default=PipelineOptions.drop,
        help="when the model falls behind a live source: drop the oldest queued frame, the new one, "
        f"or never drop (latency grows) (default {PipelineOptions.drop}; files never drop)",
    )
    g.add_argument(
        "--queue",
        type=positive_int,
        metavar="N",
        help=f"queue depth between stages (default {LIVE_QUEUE_SIZE} live, {FILE_QUEUE_SIZE} files)",
    )
    g.add_argument(
        "--reconnect-retries",
        type=nonneg_int,
        default=Reconnect.retries,
        metavar="N",
        help=f"reconnect attempts per outage of a live source; 0 fails at the first drop (default {Reconnect.retries})",
    )
    g.add_argument(
        "--reconnect-delay",
        type=nonneg_float,
        default=Reconnect.delay,
        metavar="S",
        help=f"wait before the first attempt, doubled after each failure (default {Reconnect.delay:g})",
    )
    g.add_argument(
        "--reconnect-max-delay",
        type=nonneg_float,
        default=Reconnect.max_delay,
        metavar="S",
        help=f"longest wait (default {Reconnect.max_delay:g})",
    )
    g.add_argument(
        "--stall-timeout",
        type=positive_float,
        default=Reconnect.stall_timeout,
        metavar="S",
        help=f"seconds without a frame after which a live source counts as lost (default {Reconnect.stall_timeout:g})",
    )
    g.add_argument(
        "--open-timeout",
        type=positive_float,
        default=SourceOptions.open_timeout,
        metavar="S",
        help="network stream open timeout",
    )


def _add_output_args(p) -> None:
    from edgesr.io.sinks import CODECS, SinkOptions
    from edgesr.runtime.jobs import StreamOptions
    from edgesr.runtime.monitored import TELEMETRY_INTERVAL_MS

    every = StreamOptions().pipeline.report_every
    g = p.add_argument_group("output and reporting")
    g.add_argument("--codec", choices=CODECS, default=SinkOptions.codec, help="codec of a video file sink")
    g.add_argument("--fps", type=positive_float, help="frame rate written to a video file sink (default: the source's)")
    g.add_argument(
        "--stats-every",
        type=nonneg_float,
        default=every,
        metavar="S",
        help=f"seconds between statistics lines; 0 for none (default {every:g})",
    )
    g.add_argument("--max-frames", type=positive_int, metavar="N", help="stop after N frames")
    g.add_argument("--duration", type=positive_float, metavar="S", help="stop after S seconds")
    g.add_argument("--json", metavar="STATS.json", help="also write the final statistics to this JSON file")
    g.add_argument(
        "--telemetry-interval",
        type=nonneg_int,
        default=TELEMETRY_INTERVAL_MS,
        metavar="MS",
        help="tegrastats period on a Jetson: GPU load, power and temperatures join the statistics "
        f"(elsewhere they say tegrastats is absent); 0 turns it off (default {TELEMETRY_INTERVAL_MS})",
    )


def run(args) -> int:
    from edgesr.fileio import write_json
    from edgesr.io.sinks import SinkOptions
    from edgesr.io.sources import ReconnectPolicy, SourceOptions
    from edgesr.runtime.jobs import StreamOptions
    from edgesr.runtime.monitored import monitored_stream
    from edgesr.runtime.streaming import PipelineOptions

    options = StreamOptions(
        runner=runner_options(args),
        pipeline=PipelineOptions(
            queue_size=args.queue,
            drop=args.drop,
            tile=args.tile,
            tile_overlap=args.tile_overlap,
            batch=args.batch,
            max_frames=args.max_frames,
            max_seconds=args.duration,
            report_every=args.stats_every or None,
            memory_budget_mb=args.memory_budget,
        ),
        reconnect=ReconnectPolicy(
            retries=args.reconnect_retries,
            delay=args.reconnect_delay,
            max_delay=args.reconnect_max_delay,
            stall_timeout=args.stall_timeout,
        ),
        source=SourceOptions(open_timeout=args.open_timeout),
        sink=SinkOptions(fps=args.fps, codec=args.codec),
    )
    monitored = monitored_stream(
        args.source,
        args.sink,
        model_path(args.model, args.precision, options.runner.providers),
        options,
        args.telemetry_interval,
    )
    data = monitored.to_dict()
    print(json.dumps(data, indent=2))
    if args.json:
        write_json(args.json, data)
    return 130 if monitored.result.interrupted else 0
