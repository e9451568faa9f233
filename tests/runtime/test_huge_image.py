"""A real 8000x8000 PNG: refused before a pixel is decoded, in one line naming the memory budget and
the flag that raises it, with the peak resident size of the edgesr process measured."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

# Runs one command and prints its peak resident size: this fresh process has no other children, so
# RUSAGE_CHILDREN is that command's alone (pytest's own children would blur it).
_PEAK_RSS = (
    "import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(code)"
)


def _png(path, side: int) -> None:
    from PIL import Image

    ramp = (np.arange(side) % 256).astype(np.uint8)
    rgb = np.empty((side, side, 3), np.uint8)
    rgb[..., 0], rgb[..., 1], rgb[..., 2] = ramp[None, :], ramp[:, None], ramp[::-1][None, :]
    Image.fromarray(rgb).save(path, compress_level=1)


def test_8000x8000_png_is_refused_up_front(models, tmp_path):
    png, out = tmp_path / "huge.png", tmp_path / "out"
    _png(png, 8000)
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            _PEAK_RSS,
            sys.executable,
            "-m",
            "edgesr",
            "-q",
            "upscale",
            str(png),
            "-o",
            str(out / "huge_x4.png"),
            "--model",
            str(models["dynamic"]),
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 1 and len(lines) == 1, proc.stderr
    assert lines[0] == (
        "edgesr: error: a 8000x8000 frame upscales x4 to 32000x32000, 3113 MB as pixels, over the "
        "1024 MB memory budget; raise --memory-budget MB or give smaller frames"
    )
    peak_mib = int(proc.stdout.split()[-1]) / 1024
    assert peak_mib < 250, f"peak RSS {peak_mib:.0f} MiB: the 183 MiB of pixels were decoded before the refusal"
    assert not out.exists() or not any(out.iterdir())
