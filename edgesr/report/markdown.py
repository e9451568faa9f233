"""The report as Markdown: the same tables as the HTML page, for pull requests and READMEs."""

from __future__ import annotations

from edgesr.report import tables
from edgesr.report.results import ValidationReport


def render(report: ValidationReport) -> str:
    ref = report.reference
    lines = [
        "# edgesr validation report",
        "",
        f"Reference **{ref.name}** ({ref.precision}), x{report.scale}, Y-channel PSNR/SSIM with {report.shave} px "
        f"shaved; budget: mean Y-PSNR drop <= {report.max_drop:g} dB on every data set. "
        f"{report.created}, edgesr {report.version}.",
        "",
        f"**{tables.headline(report)}**",
        "",
        *[f"- {line}" for line in tables.failure_lines(report)],
        *([""] if report.failures else []),
        "## Summary",
        "",
        _table(tables.summary(report)),
        "",
        "drop = reference Y-PSNR minus the variant's (positive is a loss).",
        "",
        "## Artifacts",
        "",
        _table(tables.artifacts(report)),
        "",
    ]
    if report.latency_input is not None:
        h, w = report.latency_input
        lines += [
            "## Latency",
            "",
            _table(tables.latency(report)),
            "",
            f"Interleaved runs in one process on a 1x3x{h}x{w} LR frame (uint8 in, uint8 out). x ref is the "
            "median of per-run ratios to the reference run beside it; compare it, not the milliseconds, "
            "across machines.",
            "",
        ]
    for data in report.datasets:
        lines += [f"## {data.name}", "", _table(tables.per_image(report, data)), ""]
    lines.append("Crops and the drop-per-image chart are in report.html.")
    return "\n".join(lines) + "\n"


def _table(table: tables.Table) -> str:
    def row(cells: list[str]) -> str:
        return "| " + " | ".join(cells) + " |"

    headers = table.flat_headers()
    first = table.rows[0] if table.rows else []
    align = ["---:" if i < len(first) and first[i].numeric else "---" for i in range(len(headers))]
    out = [row([_escape(h) for h in headers]), row(align)]
    for r, cells in enumerate(table.rows):
        total = r >= len(table.rows) - table.total_rows
        out.append(row([_cell(c, total) for c in cells]))
    return "\n".join(out)


def _cell(cell: tables.Cell, total: bool) -> str:
    lines = [_escape(line) for line in cell.text.split("\n")]
    if cell.tone == "code":
        lines = [f"`{line}`" for line in lines]
    text = "<br>".join(lines)
    text = f"**{text}**" if text and (cell.tone == "bad" or total) else text
    return text + (f"<br>`{_escape(cell.path)}`" if cell.path else "")


def _escape(text: str) -> str:
    return text.replace("|", "\\|")
