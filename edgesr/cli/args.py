"""Argument types shared by the subcommands: sizes (one order, see :mod:`edgesr.sizes`) and numbers
with the range the option allows, so a negative count or timeout is a usage error, not a silent run."""

from __future__ import annotations

import argparse
import math

from edgesr import sizes
from edgesr.errors import InputError


def _usage(parse, text: str):
    try:
        return parse(text)
    except InputError as exc:
        # argparse names the flag itself; drop the library's copy of it.
        raise argparse.ArgumentTypeError(str(exc).strip()) from None


def height_width(text: str) -> tuple[int, int]:
    """``180x320`` -> (180, 320), height first like every size flag."""
    return _usage(lambda t: sizes.parse_hw(t, ""), text)


def nchw(text: str) -> tuple[int, int, int, int]:
    return _usage(lambda t: sizes.parse_nchw(t, ""), text)


def _number(kind, low: float, inclusive: bool, what: str):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not {what}") from None
        if isinstance(value, float) and not math.isfinite(value) or value < low or (value == low and not inclusive):
            raise argparse.ArgumentTypeError(f"'{text}' is not {what}")
        return value

    parse.__name__ = what  # argparse names the type in its messages
    return parse


positive_int = _number(int, 1, True, "a whole number >= 1")
nonneg_int = _number(int, 0, True, "a whole number >= 0")
positive_float = _number(float, 0.0, False, "a number > 0")
nonneg_float = _number(float, 0.0, True, "a number >= 0")
