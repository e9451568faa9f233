"""A degradation encoder's 2-D projection as inline SVG: one panel coloured by blur width, one by noise level."""

from __future__ import annotations

from html import escape

from edgesr.report.plot import COLOURS

_SIZE, _PAD, _LEGEND = 260, 12, 22


def projection_svg(points: list[list[float]], title: str) -> str:
    """``points`` rows ``[x, y, blur sigma, noise sigma]`` (edgesr.train.probe); two panels side by side."""
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    span = max(x1 - x0, y1 - y0, 1e-9)

    def at(x: float, y: float) -> tuple[float, float]:
        inner = _SIZE - 2 * _PAD
        return _PAD + (x - x0) / span * inner, _PAD + (y1 - y) / span * inner

    width, height = 2 * _SIZE + 3 * _PAD, _SIZE + 2 * _LEGEND + 2 * _PAD
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
        f'font-size="11"><text x="{_PAD}" y="14" font-size="13">{escape(title)}</text>'
    ]
    for panel, (column, label) in enumerate(((2, "blur sigma"), (3, "noise sigma"))):
        values = sorted({p[column] for p in points})
        colour = {v: COLOURS[k % len(COLOURS)] for k, v in enumerate(values)}
        left, top = _PAD + panel * (_SIZE + _PAD), _LEGEND
        parts.append(
            f'<g transform="translate({left},{top})"><rect width="{_SIZE}" height="{_SIZE}" fill="none" stroke="#999"/>'
        )
        for p in points:
            cx, cy = at(p[0], p[1])
            parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="2" fill="{colour[p[column]]}" fill-opacity="0.7"/>')
        for k, v in enumerate(values):
            lx = k * 64
            parts.append(
                f'<rect x="{lx}" y="{_SIZE + 8}" width="9" height="9" fill="{colour[v]}"/>'
                f'<text x="{lx + 12}" y="{_SIZE + 16}">{v:g}</text>'
            )
        parts.append(f'<text x="0" y="{_SIZE + 32}">colour: {label}</text></g>')
    parts.append("</svg>")
    return "".join(parts)
