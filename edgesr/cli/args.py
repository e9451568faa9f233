"""Argument types shared by several subcommands."""

from __future__ import annotations

import argparse


def height_width(text: str) -> tuple[int, int]:
    """``180x320`` -> (180, 320); argparse reports anything else as a usage error."""
    parts = text.lower().split("x")
    if len(parts) != 2 or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise argparse.ArgumentTypeError(f"'{text}' is not HEIGHTxWIDTH, e.g. 180x320")
    return int(parts[0]), int(parts[1])
