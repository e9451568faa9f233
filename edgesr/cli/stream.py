"""``edgesr stream``: a live source through a model into a sink, with statistics."""

from __future__ import annotations

import json

from edgesr.cli.args import nonneg_float, nonneg_int, positive_float, positive_int
from edgesr.cli.upscale import add_model_args, model_path, runner_options


def add_parser(sub) -> None:
    p = sub.add_parser(
        "stream", help="upscale a camera, stream or file live, with fps and latency statistics",
        description="Read --source, upscale with the model, write --sink. Live sources drop stale frames instead "
                    "of building latency, and a lost camera or stream is reconnected with backoff. Statistics "
                    "(fps, per-stage and end-to-end latency, drops, reconnects) are logged periodically and "
                    "printed as JSON at the end. Ctrl-C stops cleanly and finalises the output.")
    p.add_argument("--source", required=True, metavar="URI",
                   help="csi://0, v4l2:///dev/video0 (or 0), rtsp://..., test://WxH?fps=30, a file, folder or glob")
    p.add_argument("--sink", required=True, metavar="URI",
                   help="display://0, null://, a video file (file://out.mp4?codec=h264), an image folder")
    add_model_args(p)
    g = p.add_argument_group("live behaviour")
    g.add_argument("--drop", choices=("oldest", "newest", "never"), default="oldest",
                   help="when the model falls behind a live source: drop the oldest queued frame, the new one, "
                        "or never drop (latency grows) (default oldest; files never drop)")
    g.add_argument("--queue", type=positive_int, metavar="N", help="queue depth between stages (default 1 live, 4 files)")
    g.add_argument("--reconnect-retries", type=nonneg_int, default=10, metavar="N",
                   help="reconnect attempts per outage of a live source; 0 fails at the first drop (default 10)")
    g.add_argument("--reconnect-delay", type=nonneg_float, default=0.5, metavar="S",
                   help="wait before the first attempt, doubled after each failure (default 0.5)")
    g.add_argument("--reconnect-max-delay", type=nonneg_float, default=8.0, metavar="S", help="longest wait (default 8)")
    g.add_argument("--stall-timeout", type=positive_float, default=5.0, metavar="S",
                   help="seconds without a frame after which a live source counts as lost (default 5)")
    g.add_argument("--open-timeout", type=positive_float, default=10.0, metavar="S", help="network stream open timeout")
    g = p.add_argument_group("output and reporting")
    g.add_argument("--codec", choices=("mp4v", "h264"), default="mp4v", help="codec of a video file sink")
    g.add_argument("--fps", type=positive_float, help="frame rate written to a video file sink (default: the source's)")
    g.add_argument("--stats-every", type=nonneg_float, default=5.0, metavar="S",
                   help="seconds between statistics lines; 0 for none (default 5)")
    g.add_argument("--max-frames", type=positive_int, metavar="N", help="stop after N frames")
    g.add_argument("--duration", type=positive_float, metavar="S", help="stop after S seconds")
    g.add_argument("--json", metavar="STATS.json", help="also write the final statistics to this JSON file")
    g.add_argument("--telemetry-interval", type=nonneg_int, default=1000, metavar="MS",
                   help="tegrastats period on a Jetson: GPU load, power and temperatures join the statistics "
                        "(elsewhere they say tegrastats is absent); 0 turns it off (default 1000)")
    p.set_defaults(run=run)


def run(args) -> int:
    from edgesr.fileio import write_json
    from edgesr.io.sinks import SinkOptions
    from edgesr.io.sources import ReconnectPolicy, SourceOptions
    from edgesr.jetson.facts import gather
    from edgesr.jetson.telemetry import Telemetry
    from edgesr.log import logger
    from edgesr.runtime.jobs import Stream, StreamOptions
    from edgesr.runtime.pipeline import PipelineOptions

    options = StreamOptions(
        runner=runner_options(args),
        pipeline=PipelineOptions(queue_size=args.queue, drop=args.drop, tile=args.tile,
                                 tile_overlap=args.tile_overlap, batch=args.batch, max_frames=args.max_frames,
                                 max_seconds=args.duration, report_every=args.stats_every or None,
                                 memory_budget_mb=args.memory_budget),
        reconnect=ReconnectPolicy(retries=args.reconnect_retries, delay=args.reconnect_delay,
                                  max_delay=args.reconnect_max_delay, stall_timeout=args.stall_timeout),
        source=SourceOptions(open_timeout=args.open_timeout),
        sink=SinkOptions(fps=args.fps, codec=args.codec),
    )
    with Telemetry(args.telemetry_interval) as telemetry:
        def report(stats) -> None:
            line = stats.line(stream.pipeline.source)
            logger.info("%s", f"{line} | {telemetry.brief()}" if telemetry.available else line)

        stream = Stream(args.source, args.sink, model_path(args.model, args.precision, options.runner.providers),
                        options, on_report=report)
        result = stream()
    data = {**result.to_dict(), "host": gather().to_dict(), "telemetry": telemetry.summary()}
    print(json.dumps(data, indent=2))
    if args.json:
        write_json(args.json, data)
    return 130 if result.interrupted else 0
