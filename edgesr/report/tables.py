"""The report's tables as plain data, so the HTML page and the Markdown file show the same numbers."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from edgesr.report.results import (
    BASELINE,
    CANDIDATE,
    REFERENCE,
    DatasetReport,
    ValidationReport,
    Variant,
)
from edgesr.texttable import align


@dataclass(frozen=True)
class Cell:
    text: str  # may hold several lines, separated by "\n"
    tone: str = ""  # "good", "bad", "muted" or "code": how a renderer may set it apart
    numeric: bool = False  # right-aligned
    path: str = ""  # a file path shown under the text, in a fixed-width font


@dataclass
class Table:
    headers: list[str]
    rows: list[list[Cell]]
    # Header groups over consecutive columns: (label, span). HTML draws them as a second
    # header row; Markdown, which has one header row, prefixes each column with its group.
    groups: list[tuple[str, int]] = field(default_factory=list)
    total_rows: int = 0  # trailing rows that summarise the others (means)

    def flat_headers(self) -> list[str]:
        if not self.groups:
            return list(self.headers)
        labels = [label for label, span in self.groups for _ in range(span)]
        return [f"{g} {h}" if g else h for g, h in zip(labels, self.headers)]


def db(x: float, signed: bool = False) -> str:
    if not math.isfinite(x):
        return str(x)
    if signed:
        return f"{0.0 if abs(x) < 0.005 else x:+.2f}"  # no "-0.00" for a drop that rounds to nothing
    return f"{x:.2f}"


def ssim(x: float) -> str:
    return f"{x:.4f}"


def _num(text: str, tone: str = "") -> Cell:
    return Cell(text, tone, numeric=True)


def _drop_cell(drop: float, budget: float, judged: bool) -> Cell:
    tone = ("good" if drop <= budget else "bad") if judged else "muted"
    return _num(db(drop, signed=True), tone)


def _variant_label(v: Variant) -> str:
    return f"{v.name} (reference)" if v.role == REFERENCE else v.name


def summary(report: ValidationReport) -> Table:
    """One row per variant: mean scores and drop per data set, latency, verdict."""
    groups = [("", 2)] + [(d.name, 3) for d in report.datasets] + [("latency", 2), ("", 1)]
    headers = ["variant", "precision"] + ["PSNR", "SSIM", "drop"] * len(report.datasets) + ["ms", "x ref", "verdict"]
    rows = []
    for v in report.variants:
        row = [Cell(_variant_label(v)), Cell(v.precision, "muted" if v.role == BASELINE else "")]
        for d in report.datasets:
            s = d.scores[v.name]
            drop = (
                Cell("-", "muted", True)
                if v.role == REFERENCE
                else _drop_cell(d.drop(v.name), report.max_drop, v.role == CANDIDATE)
            )
            row += [_num(db(s.mean_psnr)), _num(ssim(s.mean_ssim)), drop]
        ratio = report.latency_ratio(v)
        row += [
            _num(f"{v.latency.median_ms:.1f}") if v.latency else Cell("-", "muted", True),
            _num(f"{ratio:.2f}") if ratio is not None else Cell("-", "muted", True),
        ]
        verdict = report.verdict(v)
        row.append(
            Cell(
                verdict.upper() if v.role == CANDIDATE else verdict,
                {"pass": "good", "fail": "bad"}.get(verdict, "muted"),
            )
        )
        rows.append(row)
    return Table(headers, rows, groups)


def artifacts(report: ValidationReport) -> Table:
    """What each artifact is: precision as recognised from its content, size, edgesr metadata."""
    rows = []
    for v in report.variants:
        if v.info is None:
            continue
        metadata = "\n".join(f"{k} = {val}" for k, val in sorted(v.info.metadata.items())) or "(none)"
        runs_on = "\n".join([v.backend, *(f"note: {n}" for n in v.notes)])
        rows.append(
            [
                Cell(_variant_label(v), path=str(v.info.path)),
                Cell(v.info.precision),
                Cell(v.info.detail),
                _num(f"{v.info.size_bytes / 1e6:.2f} MB"),
                Cell(runs_on),
                Cell(metadata, "code"),
            ]
        )
    return Table(["variant", "precision", "recognised from", "size", "ran on", "edgesr metadata"], rows)


def latency(report: ValidationReport) -> Table:
    rows = []
    for v in report.variants:
        if v.latency is None:
            continue
        t = v.latency
        rows.append(
            [
                Cell(_variant_label(v)),
                Cell(v.precision),
                _num(f"{t.median_ms:.1f}"),
                _num(f"{t.p25_ms:.1f} - {t.p75_ms:.1f}"),
                _num(f"{t.min_ms:.1f}"),
                _num(f"{report.latency_ratio(v):.2f}"),
                _num(str(t.repeats)),
            ]
        )
    return Table(["variant", "precision", "median ms", "p25 - p75 ms", "min ms", "x ref", "runs"], rows)


def per_image(report: ValidationReport, data: DatasetReport) -> Table:
    """One row per image: every variant's PSNR/SSIM and each candidate's drop; the mean last."""
    groups: list[tuple[str, int]] = [("", 2)]
    headers = ["image", "HxW"]
    for v in report.variants:
        judged = v.role == CANDIDATE
        groups.append((_variant_label(v), 3 if judged else 2))
        headers += ["PSNR", "SSIM", "drop"] if judged else ["PSNR", "SSIM"]
    rows = []
    for i, name in enumerate(data.image_names):
        ref = data.scores[data.reference].images[i]
        row = [Cell(name), _num(f"{ref.height}x{ref.width}")]
        for v in report.variants:
            s = data.scores[v.name].images[i]
            row += [_num(db(s.psnr)), _num(ssim(s.ssim))]
            if v.role == CANDIDATE:
                row.append(_drop_cell(ref.psnr - s.psnr, report.max_drop, True))
        rows.append(row)
    mean = [Cell(f"mean ({len(data.image_names)})"), Cell("")]
    for v in report.variants:
        s = data.scores[v.name]
        mean += [_num(db(s.mean_psnr)), _num(ssim(s.mean_ssim))]
        if v.role == CANDIDATE:
            mean.append(_drop_cell(data.drop(v.name), report.max_drop, True))
    rows.append(mean)
    return Table(headers, rows, groups, total_rows=1)


def text(table: Table) -> str:
    """``table`` as aligned plain text for the terminal."""
    return align([table.flat_headers(), *[[cell.text for cell in row] for row in table.rows]])


def headline(report: ValidationReport) -> str:
    """The verdict in one line."""
    if report.passed:
        return f"PASS: every candidate is within the {report.max_drop:.2f} dB budget on every data set"
    failed = list(dict.fromkeys(f.variant for f in report.failures))
    return (
        f"FAIL: {', '.join(failed)} {'exceeds' if len(failed) == 1 else 'exceed'} the {report.max_drop:.2f} dB budget"
    )


def failure_lines(report: ValidationReport) -> list[str]:
    return [
        f"{f.variant}: mean Y-PSNR drop {db(f.drop)} dB on {f.dataset} (budget {report.max_drop:.2f} dB)"
        for f in report.failures
    ]
