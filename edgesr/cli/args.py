"""Argument types shared by the subcommands: the library's parsers (sizes in one order, see
:mod:`edgesr.sizes`) and numbers with the range the option allows, so a negative count or timeout is a
usage error, not a silent run."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import TypeVar

from edgesr import sizes
from edgesr.errors import InputError

T = TypeVar("T")


def library_type(parse: Callable[[str], T], name: str) -> Callable[[str], T]:
    """An argparse type from a library parser: its :class:`InputError` becomes a usage error."""

    def convert(text: str) -> T:
        try:
            return parse(text)
        except InputError as exc:
            # argparse names the flag itself; a parser given no flag name leaves a leading space.
            raise argparse.ArgumentTypeError(str(exc).strip()) from None

    convert.__name__ = name  # argparse names the type in its messages
    return convert


# ``180x320`` -> (180, 320), height first like every size flag.
height_width = library_type(lambda t: sizes.parse_hw(t, ""), "height_width")
nchw = library_type(lambda t: sizes.parse_nchw(t, ""), "nchw")


def provider_list(text: str) -> tuple[str, ...] | None:
    """``'tensorrt, cuda'`` -> ('tensorrt', 'cuda'): ONNX Runtime execution providers, best first; None when empty."""
    return tuple(p.strip() for p in text.split(",") if p.strip()) or None


def number(kind, low: float, inclusive: bool, what: str):
    """An argparse type: ``kind(text)``, finite and from ``low`` up (``low`` itself when ``inclusive``);
    anything else is refused as not ``what``."""

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


positive_int = number(int, 1, True, "a whole number >= 1")
nonneg_int = number(int, 0, True, "a whole number >= 0")
positive_float = number(float, 0.0, False, "a number > 0")
nonneg_float = number(float, 0.0, True, "a number >= 0")
