"""A benchmark as ``bench.json`` (everything, every sample) and ``bench.md`` (the table, with the
host, power mode and clocks in the header), both written atomically."""

from __future__ import annotations

import os
from pathlib import Path

from edgesr import __version__
from edgesr.bench.run import ArtifactResult, BenchReport
from edgesr.fileio import write_json, write_text
from edgesr.log import logger

NAMES = {"json": "bench.json", "markdown": "bench.md"}


def write_report(report: BenchReport, out_dir: str | os.PathLike) -> dict[str, Path]:
    """Write both files into ``out_dir`` (created if needed); returns format -> path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {fmt: out / name for fmt, name in NAMES.items()}
    write_json(paths["json"], report.to_dict())
    write_text(paths["markdown"], markdown(report))
    logger.info("wrote %s", ", ".join(str(p) for p in paths.values()))
    return paths


def markdown(report: BenchReport) -> str:
    host, o = report.host, report.options
    if host.jetson:
        jetson = f"{host.jetson} ({host.device}), {host.jetpack or 'L4T release unknown'}"
        power = f"**Power mode:** {host.power_mode or 'unknown'}; **clocks:** {host.clocks or 'unknown'}"
    else:
        jetson = "not a Jetson"
        power = "**Power mode:** n/a (no nvpmodel: not a Jetson; clocks follow the OS governor)"
    lines = [
        "# edgesr benchmark",
        "",
        f"**Host:** {host.hostname}, {host.platform}, {host.cpu} ({host.cpu_count} CPUs)  ",
        f"**Jetson:** {jetson}  ",
        f"{power}  ",
        f"**Run:** {report.created}, edgesr {__version__}; {o.warmup} warm-up + {o.repeat} timed calls per "
        "artifact, one artifact at a time  ",
        f"**Telemetry:** {_telemetry_line(report.telemetry)}",
        "",
        _table(report),
        "",
        "Milliseconds per `infer` call on the same random frame (the model alone: no decoding, tiling or "
        "encoding). p10-p90 and IQR show how steady the runs were; fps = frames per call / median; "
        "x first = median relative to the first artifact's (meaningful between rows with the same input), the "
        "figure to compare across machines.",
        "",
    ]
    notes = [(r.artifact, note) for r in report.results for note in r.notes]
    if notes:
        lines += ["## Notes", "", *[f"- `{Path(a).name}`: {note}" for a, note in notes], ""]
    return "\n".join(lines)


def _table(report: BenchReport) -> str:
    header = [
        "artifact",
        "backend",
        "precision",
        "input",
        "output",
        "median ms",
        "p10-p90 ms",
        "IQR ms",
        "fps",
        "x first",
        "GPU load %",
        "power W",
    ]
    base = report.results[0].latency.median
    rows = [header, ["---", "---", "---", "---", "---", "---:", "---:", "---:", "---:", "---:", "---:", "---:"]]
    for r in report.results:
        rows.append(
            [
                f"`{Path(r.artifact).name}`",
                r.backend,
                r.precision,
                _shape(r.input),
                _shape(r.output),
                f"{r.latency.median:.2f}",
                f"{r.latency.p10:.2f}-{r.latency.p90:.2f}",
                f"{r.latency.iqr:.2f}",
                f"{r.fps:.1f}",
                f"{r.latency.median / base:.2f}" if base > 0 else "-",
                *_telemetry_cells(r),
            ]
        )
    return "\n".join("| " + " | ".join(cells) + " |" for cells in rows)


def _shape(dims: tuple[int, ...]) -> str:
    return "x".join(str(d) for d in dims)


def _telemetry_cells(result: ArtifactResult) -> list[str]:
    t = result.telemetry
    if not t.get("available") or not t.get("samples"):
        return ["-", "-"]
    load = t.get("gpu_load_pct")
    power = t.get("power_w")
    return [f"{load['mean']:.0f}" if load else "n/a", f"{power['mean']:.2f}" if power else "n/a"]


def _telemetry_line(t: dict) -> str:
    if not t.get("available"):
        return f"not recorded: {t.get('reason')}"
    text = f"`{t['source']}`, {t['samples']} samples"
    if t.get("power_rail"):
        text += f"; power is {t['power_rail']}"
    return text
