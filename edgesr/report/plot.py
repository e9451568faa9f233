"""The drop-per-image bar chart, drawn as inline SVG so the report needs no plotting library."""

from __future__ import annotations

import math
from html import escape

from edgesr.report.results import DatasetReport, ValidationReport
from edgesr.report.tables import db

COLOURS = ("#2471a3", "#d68910", "#229954", "#7d3c98", "#17a5a5", "#5d6d7e")  # no red: that is the budget
BUDGET_COLOUR = "#b00020"
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 16, 44, 84
_PLOT_HEIGHT = 220
_MIN_PLOT_WIDTH = 520
_CHAR_WIDTH = 7  # rough width of a 12 px sans-serif character, to lay out the legend


def _ticks(lo: float, hi: float) -> list[float]:
    """About five round tick values (1, 2 or 5 times a power of ten apart) covering [lo, hi]."""
    raw = (hi - lo) / 5
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.floor(lo / step) * step
    return [first + i * step for i in range(int(math.ceil((hi - first) / step)) + 1)]


def drop_chart(report: ValidationReport, data: DatasetReport) -> str:
    """Each candidate's Y-PSNR drop per image and on the mean, with the budget as a dashed line."""
    candidates = report.candidates
    groups = [*data.image_names, "mean"]
    drops = {c.name: [*data.image_drops(c.name), data.drop(c.name)] for c in candidates}
    ticks = _drop_ticks(report.max_drop, drops)
    lo, hi = ticks[0], ticks[-1]
    legend = [(f"{c.name} ({c.precision})", COLOURS[k % len(COLOURS)]) for k, c in enumerate(candidates)]
    legend_w = sum(20 + _CHAR_WIDTH * len(text) + 24 for text, _ in legend) + 24 + _CHAR_WIDTH * 16
    # Bars stay readable with many candidates; few images are spread over a minimum width.
    group_w = max(16 * len(candidates) + 20, int(max(_MIN_PLOT_WIDTH, legend_w) / (len(groups) + 0.5)))
    gap = group_w // 2  # sets the mean apart from the images
    width = _LEFT + group_w * len(groups) + gap + _RIGHT
    height = _TOP + _PLOT_HEIGHT + _BOTTOM

    def y(v: float) -> float:
        return _TOP + (hi - v) / (hi - lo) * _PLOT_HEIGHT

    def x0(g: int) -> float:
        return _LEFT + g * group_w + (gap if g == len(groups) - 1 else 0)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="Y-PSNR drop per image on {escape(data.name)}" '
        'font-family="system-ui, sans-serif" font-size="12">'
    ]
    for t in ticks:
        out.append(
            f'<line x1="{_LEFT}" x2="{width - _RIGHT}" y1="{y(t):.1f}" y2="{y(t):.1f}" '
            f'stroke="{"#555" if t == 0 else "#e3e3e3"}"/>'
        )
        out.append(f'<text x="{_LEFT - 6}" y="{y(t) + 4:.1f}" text-anchor="end" fill="#444">{t:g}</text>')
    out.append(
        f'<text x="14" y="{_TOP + _PLOT_HEIGHT / 2}" transform="rotate(-90 14 {_TOP + _PLOT_HEIGHT / 2})" '
        'text-anchor="middle" fill="#444">drop vs reference (dB)</text>'
    )
    out += _bars(groups, candidates, drops, group_w, x0, y)
    yb = y(report.max_drop)
    out.append(
        f'<line x1="{_LEFT}" x2="{width - _RIGHT}" y1="{yb:.1f}" y2="{yb:.1f}" stroke="{BUDGET_COLOUR}" '
        'stroke-width="1.5" stroke-dasharray="6 4"/>'
    )
    out += _legend(legend, report.max_drop)
    out.append("</svg>")
    return "\n".join(out)


def _drop_ticks(max_drop: float, drops: dict[str, list[float]]) -> list[float]:
    """The y axis ticks: the budget with room above it, every finite drop, and zero."""
    finite = [x for values in drops.values() for x in values if math.isfinite(x)]
    hi = max([max_drop * 1.25, *finite, 0.01])
    lo = min([0.0, *finite])
    if lo > -0.02 * hi:
        lo = 0.0  # a gain too small to see would otherwise add a whole tick below zero
    return _ticks(lo, hi)


def _bars(groups: list[str], candidates, drops: dict[str, list[float]], group_w: int, x0, y) -> list[str]:
    """One bar per candidate in each group (an image or the mean, whose bars carry their value), then its label."""
    out = []
    bar_w = min(28, (group_w - 12) / max(1, len(candidates)))
    pad = (group_w - bar_w * len(candidates)) / 2
    for g, name in enumerate(groups):
        for k, c in enumerate(candidates):
            v = drops[c.name][g]
            if not math.isfinite(v):
                continue
            top, bottom = sorted((y(v), y(0)))
            left = x0(g) + pad + k * bar_w
            colour = COLOURS[k % len(COLOURS)]
            out.append(
                f'<rect x="{left:.1f}" y="{top:.1f}" width="{bar_w - 2:.1f}" '
                f'height="{max(bottom - top, 0.5):.1f}" fill="{colour}">'
                f"<title>{escape(name)}: {escape(c.name)} {v:+.3f} dB</title></rect>"
            )
            if name == "mean":
                out.append(
                    f'<text x="{left + bar_w / 2 - 1:.1f}" y="{top - 4:.1f}" text-anchor="middle" '
                    f'font-size="11" fill="#222">{db(v, signed=True)}</text>'
                )
        cx = x0(g) + group_w / 2
        weight = ' font-weight="bold"' if name == "mean" else ""
        out.append(
            f'<text x="{cx:.1f}" y="{_TOP + _PLOT_HEIGHT + 14}" text-anchor="end"{weight} '
            f'transform="rotate(-40 {cx:.1f} {_TOP + _PLOT_HEIGHT + 14})" fill="#222">{escape(name)}</text>'
        )
    return out


def _legend(legend: list[tuple[str, str]], max_drop: float) -> list[str]:
    """A swatch per candidate along the top, then the budget's dashed line."""
    out = []
    lx = _LEFT
    for text, colour in legend:
        out.append(f'<rect x="{lx}" y="12" width="12" height="12" fill="{colour}"/>')
        out.append(f'<text x="{lx + 17}" y="22" fill="#222">{escape(text)}</text>')
        lx += 20 + _CHAR_WIDTH * len(text) + 24
    out.append(
        f'<line x1="{lx}" x2="{lx + 20}" y1="18" y2="18" stroke="{BUDGET_COLOUR}" stroke-width="1.5" '
        'stroke-dasharray="6 4"/>'
    )
    out.append(f'<text x="{lx + 25}" y="22" fill="{BUDGET_COLOUR}">budget {max_drop:g} dB</text>')
    return out
