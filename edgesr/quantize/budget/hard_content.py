"""Validation images of the content INT8 hurts most, drawn in code (no licence, no download).

Natural photos understate the INT8 drop on screen content and sharp, saturated graphics: the
quantization noise is largest where activations span their whole range, and those images
have it everywhere (on Set14, the slide ppt3 loses several times the mean drop). The budget's
validation set therefore holds, beside the photos, two images drawn here: text and UI-like
graphics on flat backgrounds, and overlapping saturated shapes with hard edges. Both are
seeded, so every run measures the same pixels.
"""

from __future__ import annotations

import numpy as np

from edgesr.lazy import require

SIDE = 256
WORDS = (
    "edge",
    "deploy",
    "INT8",
    "Jetson",
    "super",
    "resolution",
    "0.1 dB",
    "stream",
    "camera",
    "x4",
    "Orin",
    "TensorRT",
    "ONNX",
    "frame",
    "budget",
)


def screen(side: int = SIDE, seed: int = 0) -> np.ndarray:
    """Text of several sizes and colours, lines, boxes and a gradient bar: a slide or a UI."""
    pil = require("PIL.Image")
    draw_mod, font_mod = require("PIL.ImageDraw"), require("PIL.ImageFont")
    rng = np.random.default_rng(seed)
    img = pil.new("RGB", (side, side), (250, 250, 246))
    draw = draw_mod.Draw(img)
    ramp = np.linspace(0, 255, side, dtype=np.uint8)
    img.paste(
        pil.fromarray(np.stack([ramp, ramp[::-1], np.full(side, 128, np.uint8)], axis=1)[None].repeat(12, 0)),
        (0, side - 12),
    )
    y = 4
    while y < side - 40:
        size = int(rng.integers(9, 26))
        font = font_mod.load_default(size=size)
        colour = tuple(int(c) for c in rng.integers(0, 160, 3))
        text = " ".join(rng.choice(WORDS, size=4))
        draw.text((int(rng.integers(2, 20)), y), text, fill=colour, font=font)
        y += size + int(rng.integers(3, 10))
        if rng.random() < 0.3:
            draw.line((4, y, side - 4, y), fill=colour, width=1)
            y += 3
    for _ in range(3):
        x0, y0 = (int(v) for v in rng.integers(0, side - 60, 2))
        draw.rectangle((x0, y0, x0 + 50, y0 + 24), outline=tuple(int(c) for c in rng.integers(0, 255, 3)), width=2)
    return np.asarray(img, dtype=np.uint8).copy()


def shapes(side: int = SIDE, seed: int = 1) -> np.ndarray:
    """Overlapping saturated polygons and ellipses with hard edges, on a dark textured ground."""
    pil = require("PIL.Image")
    draw_mod = require("PIL.ImageDraw")
    rng = np.random.default_rng(seed)
    ground = rng.integers(10, 50, (side, side, 3), dtype=np.uint8)
    img = pil.fromarray(ground)
    draw = draw_mod.Draw(img)
    for _ in range(40):
        colour = tuple(int(c) for c in rng.choice([0, 255], 3) * rng.uniform(0.6, 1.0, 3))
        if rng.random() < 0.5:
            points = [tuple(int(v) for v in rng.integers(0, side, 2)) for _ in range(int(rng.integers(3, 6)))]
            draw.polygon(points, fill=colour)
        else:
            x0, y0 = (int(v) for v in rng.integers(0, side - 20, 2))
            w, h = (int(v) for v in rng.integers(8, 70, 2))
            draw.ellipse((x0, y0, x0 + w, y0 + h), fill=colour, outline=(255, 255, 255), width=1)
    return np.asarray(img, dtype=np.uint8).copy()


IMAGES = {"drawn-screen.png": screen, "drawn-shapes.png": shapes}
