"""The written report: a self-contained HTML page, JSON and Markdown, with the same tables."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

from edgesr.errors import InputError
from edgesr.report import validate
from edgesr.report.files import NAMES


class _Page(HTMLParser):
    """Collects what a browser would fetch or show: links, images, tables, SVG elements."""

    def __init__(self):
        super().__init__()
        self.refs: list[str] = []
        self.tags: dict[str, int] = {}

    def handle_starttag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1
        self.refs += [v for k, v in attrs if k in ("src", "href", "srcset", "data", "poster") and v is not None]


@pytest.fixture(scope="module")
def written(models, photos, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "nested" / "out"
    report = validate(
        [models["fp32"], models["fp16"], models["int8"], models["noise"]],
        [photos],
        max_drop=0.5,
        out_dir=out,
        repeats=2,
        warmup=1,
        latency_size=(16, 24),
    )
    return report, out


def test_writes_three_files_and_nothing_else(written):
    _, out = written
    assert sorted(p.name for p in out.iterdir()) == sorted(NAMES.values())


def test_html_is_self_contained_and_complete(written):
    report, out = written
    html = (out / "report.html").read_text()
    page = _Page()
    page.feed(html)
    assert page.refs and all(r.startswith("data:image/png;base64,") for r in page.refs)
    assert not re.search(r"url\(|@import|<script|<link", html)
    # summary, artifacts, latency, one per-image table per data set
    assert page.tags["table"] == 4 and page.tags["svg"] == 1
    images = len(report.datasets[0].image_names)
    assert page.tags["img"] == images * (6 + 3)  # 6 tiles and 3 difference maps per image
    assert "FAIL: noise.onnx exceeds the 0.50 dB budget" in html
    assert "edgesr.quant.calibration = 3 photos" in html and "other.key" not in html
    for variant in ("tiny.onnx (reference)", "tiny_fp16.onnx", "tiny_int8.onnx", "noise.onnx", "bicubic"):
        assert variant in html


def test_svg_chart_is_well_formed(written):
    html = (written[1] / "report.html").read_text()
    svg = ET.fromstring(re.search(r"<svg.*?</svg>", html, re.S).group(0))
    bars = [
        e
        for e in svg.iter("{http://www.w3.org/2000/svg}rect")
        if e.find("{http://www.w3.org/2000/svg}title") is not None
    ]
    assert len(bars) == 3 * (3 + 1)  # three candidates on three images and the mean
    assert "budget 0.5 dB" in "".join(svg.itertext())


def test_json_matches_the_report(written):
    report, out = written
    data = json.loads((out / "report.json").read_text())
    assert data == json.loads(json.dumps(report.to_dict()))
    assert [v["name"] for v in data["variants"]] == [v.name for v in report.variants]


def test_markdown_has_the_same_tables(written):
    report, out = written
    md = (out / "report.md").read_text()
    tables = [block for block in md.split("\n\n") if block.startswith("| ")]
    assert len(tables) == 4
    summary = tables[0].splitlines()
    assert summary[0].startswith("| variant | precision | ") and f"{report.datasets[0].name} PSNR" in summary[0]
    assert set(summary[1].replace("|", "").split()) <= {"---", "---:"}
    assert len(summary) == 2 + len(report.variants)
    assert "**FAIL**" in tables[0] and "**FAIL: noise.onnx exceeds the 0.50 dB budget**" in md
    per_image = tables[3].splitlines()
    assert len(per_image) == 2 + len(report.datasets[0].image_names) + 1 and "**mean (3)**" in per_image[-1]
    assert "`edgesr.quant.calibration = 3 photos`" in tables[1]


def test_unwritable_output_fails_before_any_work(models, photos, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(InputError, match="not a directory"):
        validate([models["fp32"], models["fp16"]], [photos], out_dir=blocker, repeats=0)
