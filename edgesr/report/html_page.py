"""The report as one self-contained HTML page: inline CSS, SVG charts, crops as data URIs.

Nothing is loaded from elsewhere, so the file can be mailed, archived in a bundle or opened on
a device without network access.
"""

from __future__ import annotations

from html import escape

from edgesr.report import tables
from edgesr.report.crops import TILE_GAP, Tile
from edgesr.report.plot import drop_chart
from edgesr.report.results import DatasetReport, ImageCrops, ValidationReport

_CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", sans-serif;
       color: #1d1d1f; background: #fff; max-width: 1360px; margin: 24px auto; padding: 0 24px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 36px 0 8px; padding-bottom: 4px; border-bottom: 1px solid #ddd; }
h3 { font-size: 15px; margin: 22px 0 6px; }
p { margin: 4px 0 8px; }
.meta, .note { color: #555; }
.note { font-size: 13px; max-width: 980px; }
.banner { padding: 10px 14px; border-radius: 6px; font-weight: 600; margin: 14px 0; font-size: 15px; }
.banner ul { margin: 6px 0 0; padding-left: 22px; font-weight: 400; }
.banner.pass { background: #e8f5ec; color: #14532d; border: 1px solid #8fcba1; }
.banner.fail { background: #fdecea; color: #7f1d1d; border: 1px solid #f0a39b; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin: 6px 0 10px; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 10px; border-bottom: 1px solid #e6e6e6; text-align: left; vertical-align: top; }
thead th { background: #f3f4f6; font-weight: 600; white-space: nowrap; }
thead tr:last-child th { border-bottom: 2px solid #c8c8c8; }
thead tr.groups th { text-align: center; border-bottom: 1px solid #d5d5d5; }
tbody tr:nth-child(even) { background: #fafbfc; }
.sep { border-left: 1px solid #d5d5d5; }
td.num, th.num { text-align: right; white-space: nowrap; }
td.good { color: #146c2e; font-weight: 600; }
td.bad { color: #b00020; font-weight: 600; background: #fdecea; }
td.muted { color: #8a8a8a; }
td.code, code.path { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
td.code { min-width: 330px; overflow-wrap: anywhere; }
code.path { color: #555; }
tr.total td { border-top: 2px solid #c8c8c8; font-weight: 600; background: #f6f7f8; }
.chart { overflow-x: auto; margin: 4px 0 8px; }
.crop { margin: 12px 0 22px; }
.crop h4 { margin: 0 0 6px; font-size: 14px; }
.crop h4 span { font-weight: 400; color: #555; }
.tiles { display: grid; row-gap: 10px; }
figure { margin: 0; }
figure img { display: block; image-rendering: pixelated; border: 1px solid #bbb; }
figcaption { font-size: 12px; line-height: 1.3; margin-top: 4px; overflow-wrap: anywhere; }
figcaption span { color: #555; }
footer { margin: 40px 0 12px; color: #666; font-size: 12px; }
"""


def render(report: ValidationReport) -> str:
    ref = report.reference
    names = ", ".join(c.name for c in report.candidates)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>edgesr validate: {escape(ref.name)} vs {escape(names)}</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>edgesr validation report</h1>",
        f'<p class="meta">reference <b>{escape(ref.name)}</b> ({escape(ref.precision)}) &middot; '
        f"x{report.scale} &middot; Y-channel PSNR/SSIM, {report.shave} px shaved &middot; "
        f"budget: mean Y-PSNR drop &le; {report.max_drop:g} dB on every data set &middot; "
        f"{escape(report.created)} &middot; edgesr {escape(report.version)}</p>",
        _banner(report),
        "<h2>Summary</h2>",
        _table(tables.summary(report)),
        '<p class="note">drop = reference Y-PSNR minus the variant\'s (positive is a loss). '
        + _latency_note(report)
        + "</p>",
        "<h2>Artifacts</h2>",
        _table(tables.artifacts(report)),
        '<p class="note">Precision is read from each file\'s content (Q/DQ nodes, float16 tensors), '
        "not from its name.</p>",
    ]
    if report.latency_input is not None:
        parts += ["<h2>Latency</h2>", _table(tables.latency(report)), f'<p class="note">{_latency_note(report)}</p>']
    for data in report.datasets:
        parts += _dataset_section(report, data)
    parts.append(
        "<footer>Protocol: HR cropped to a multiple of the scale, LR by MATLAB-compatible bicubic imresize, "
        "output clipped and rounded to uint8, PSNR/SSIM on BT.601 Y with the scale shaved at each border "
        "(SSIM: 11x11 Gaussian window, sigma 1.5).</footer>"
    )
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _banner(report: ValidationReport) -> str:
    tone = "pass" if report.passed else "fail"
    items = "".join(f"<li>{escape(line)}</li>" for line in tables.failure_lines(report))
    return f'<div class="banner {tone}">{escape(tables.headline(report))}{f"<ul>{items}</ul>" if items else ""}</div>'


def _latency_note(report: ValidationReport) -> str:
    if report.latency_input is None:
        return "Latency was not measured."
    h, w = report.latency_input
    runs = report.reference.latency.repeats if report.reference.latency else 0
    return (
        f"Latency: {runs} interleaved runs per variant in one process on a 1x3x{h}x{w} LR frame "
        "(uint8 in, uint8 out) on the machine that made this report. x ref is the median of per-run "
        "ratios to the reference run beside it (below 1 is faster); compare it, not the milliseconds, "
        "across machines."
    )


def _dataset_section(report: ValidationReport, data: DatasetReport) -> list[str]:
    n = len(data.image_names)
    parts = [
        f'<h2>{escape(data.name)} <span class="meta">({n} image{"s" * (n != 1)}, {escape(data.folder)})</span></h2>',
        "<h3>Per image</h3>",
        _table(tables.per_image(report, data)),
    ]
    if report.candidates:
        parts += ["<h3>Drop per image</h3>", f'<div class="chart">{drop_chart(report, data)}</div>']
    if data.crops:
        parts += [
            "<h3>Crops</h3>",
            '<p class="note">Each crop is where the candidates differ most from the reference, enlarged by '
            "pixel repetition only. Numbers under a crop are its Y-PSNR against the ground truth; the "
            "difference tiles show |candidate - reference| on Y, amplified.</p>",
        ]
        parts += [_crop_html(c) for c in data.crops]
    return parts


def _crop_html(c: ImageCrops) -> str:
    crop = c.crop
    side = crop.size * crop.zoom
    cells = [_figure(t, side) for t in c.tiles]
    if any(d is not None for d in c.diffs):
        cells += [_figure(d, side) if d is not None else "<div></div>" for d in c.diffs]
    where = f"{crop.size}x{crop.size} px at row {crop.top}, column {crop.left}, shown x{crop.zoom}; {crop.reason}"
    grid = f"grid-template-columns: repeat({len(c.tiles)}, {side}px); column-gap: {TILE_GAP}px"
    return (
        f'<div class="crop"><h4>{escape(c.image)} <span>{escape(where)}</span></h4>'
        f'<div class="tiles" style="{grid}">{"".join(cells)}</div></div>'
    )


def _figure(t: Tile, side: int) -> str:
    note = f"<br><span>{escape(t.note)}</span>" if t.note else ""
    return (
        f'<figure><img src="{t.data_uri}" width="{side}" height="{side}" alt="{escape(t.label)}">'
        f"<figcaption>{escape(t.label)}{note}</figcaption></figure>"
    )


def _table(table: tables.Table) -> str:
    starts = set()  # first column of every group after the first: drawn with a separator
    col = 0
    for i, (_, span) in enumerate(table.groups):
        if i > 0:
            starts.add(col)
        col += span
    head = []
    if table.groups:
        cells = []
        col = 0
        for label, span in table.groups:
            sep = ' class="sep"' if col in starts else ""
            cells.append(f'<th colspan="{span}"{sep}>{escape(label)}</th>')
            col += span
        head.append(f'<tr class="groups">{"".join(cells)}</tr>')
    first_row = table.rows[0] if table.rows else []
    head.append(
        "<tr>"
        + "".join(
            f"<th{_classes(i in starts, i < len(first_row) and first_row[i].numeric)}>{escape(h)}</th>"
            for i, h in enumerate(table.headers)
        )
        + "</tr>"
    )
    body = []
    for r, row in enumerate(table.rows):
        total = r >= len(table.rows) - table.total_rows
        cells = "".join(
            f"<td{_classes(i in starts, cell.numeric, cell.tone)}>{_cell_html(cell)}</td>" for i, cell in enumerate(row)
        )
        body.append(f'<tr class="total">{cells}</tr>' if total else f"<tr>{cells}</tr>")
    return f'<div class="scroll"><table><thead>{"".join(head)}</thead><tbody>{"".join(body)}</tbody></table></div>'


def _cell_html(cell: tables.Cell) -> str:
    text = escape(cell.text).replace("\n", "<br>")
    # A long path may break after a slash, never inside a file name.
    path = escape(cell.path).replace("/", "/<wbr>")
    return text + (f'<br><code class="path">{path}</code>' if cell.path else "")


def _classes(sep: bool, numeric: bool, tone: str = "") -> str:
    names = [n for n, on in (("sep", sep), ("num", numeric), (tone, bool(tone))) if on]
    return f' class="{" ".join(names)}"' if names else ""
