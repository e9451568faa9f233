"""``edgesr bench``: time artifacts (median and spread) with host, power mode and telemetry; JSON and Markdown."""

from __future__ import annotations

from pathlib import Path

from edgesr.cli.args import height_width, nonneg_int, positive_int, provider_list
from edgesr.cli.upscale import model_path

HELP = "time artifacts: warm-up, repetitions, median and spread, with power mode and telemetry"
DEFAULT_OUT = Path("out/bench")


def add_parser(sub) -> None:
    from edgesr.bench.run import DEFAULT_SHAPE
    from edgesr.bench.run import BenchOptions as Defaults

    p = sub.add_parser(
        "bench",
        help=HELP,
        description="Run each artifact through its runtime runner on a fixed random frame: --warmup untimed calls, "
        "then --repeat timed ones; report the median, p10-p90 and IQR in milliseconds and fps, with the "
        "host, power mode, clocks and tegrastats telemetry (GPU load, power, temperatures) taken while "
        "each artifact ran. Writes bench.json and bench.md into -o.",
    )
    p.add_argument(
        "artifacts",
        nargs="+",
        metavar="ARTIFACT",
        help="an .onnx file, an engine, or a shipped model's name ('edgesr models'); several are compared",
    )
    p.add_argument(
        "--shape",
        type=height_width,
        metavar="HxW",
        help="LR input size, HEIGHTxWIDTH (default: the model's fixed size, else "
        f"{DEFAULT_SHAPE[0]}x{DEFAULT_SHAPE[1]})",
    )
    p.add_argument(
        "--warmup",
        type=nonneg_int,
        default=Defaults.warmup,
        metavar="N",
        help=f"untimed calls first (default {Defaults.warmup})",
    )
    p.add_argument(
        "--repeat", type=int, default=Defaults.repeat, metavar="N", help=f"timed calls (default {Defaults.repeat})"
    )
    p.add_argument(
        "--providers",
        type=provider_list,
        metavar="LIST",
        help="ONNX Runtime execution providers, best first: tensorrt, cuda, cpu (default: the best present)",
    )
    p.add_argument("--threads", type=positive_int, help="CPU threads per inference (default: ONNX Runtime's)")
    p.add_argument(
        "--telemetry-interval",
        type=nonneg_int,
        default=Defaults.telemetry_interval_ms,
        metavar="MS",
        help="tegrastats period in ms while benchmarking; 0 turns telemetry off "
        f"(default {Defaults.telemetry_interval_ms})",
    )
    p.add_argument(
        "-o",
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        metavar="DIR",
        help=f"folder for bench.json and bench.md (default: {DEFAULT_OUT})",
    )
    p.set_defaults(run=run)


def run(args) -> int:
    from edgesr.bench.files import write_report
    from edgesr.bench.run import Bench, BenchOptions
    from edgesr.fileio import check_writable_dir
    from edgesr.runtime.runners import RunnerOptions

    check_writable_dir(args.out)
    options = BenchOptions(
        shape=args.shape,
        warmup=args.warmup,
        repeat=args.repeat,
        runner=RunnerOptions(providers=args.providers, threads=args.threads),
        telemetry_interval_ms=args.telemetry_interval,
    )
    report = Bench([model_path(a) for a in args.artifacts], options)()
    paths = write_report(report, args.out)
    print(report.host.headline())
    for r in report.results:
        lat = r.latency
        print(
            f"  {Path(r.artifact).name}: median {lat.median:.2f} ms (p10 {lat.p10:.2f}, p90 {lat.p90:.2f}, "
            f"IQR {lat.iqr:.2f}), {r.fps:.1f} fps, {r.precision}, {r.backend}"
        )
    tele = report.telemetry
    print(
        f"  telemetry: {tele['samples']} tegrastats samples"
        if tele.get("available")
        else f"  telemetry: not recorded: {tele.get('reason')}"
    )
    print(f"wrote {paths['json']} and {paths['markdown']}")
    return 0
