"""Writing a report: HTML, JSON and Markdown side by side, each atomically."""

from __future__ import annotations

import os
from pathlib import Path

from edgesr.fileio import write_json, write_text
from edgesr.log import logger
from edgesr.report import html_page, markdown
from edgesr.report.results import ValidationReport

NAMES = {"html": "report.html", "json": "report.json", "markdown": "report.md"}


def write_report(report: ValidationReport, out_dir: str | os.PathLike) -> dict[str, Path]:
    """Write the three files into ``out_dir`` (created if needed); returns format -> path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {fmt: out / name for fmt, name in NAMES.items()}
    write_text(paths["html"], html_page.render(report))
    write_json(paths["json"], report.to_dict())
    write_text(paths["markdown"], markdown.render(report))
    logger.info("wrote %s", ", ".join(str(p) for p in paths.values()))
    return paths
