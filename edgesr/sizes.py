"""Sizes given on the command line: one parser and one order, HEIGHTxWIDTH, as image tensors are laid
out (N x C x H x W). Every size flag of every command goes through here."""

from __future__ import annotations

import re

from edgesr.errors import InputError

ORDER = "HEIGHTxWIDTH"
# Larger sides are typing mistakes; refusing them here keeps later shape arithmetic small.
MAX_SIDE = 1 << 20

_HW = re.compile(r"\s*(\d{1,8})\s*[xX]\s*(\d{1,8})\s*")


def parse_hw(text: str, flag: str, example: str = "180x320") -> tuple[int, int]:
    """``'180x320'`` -> (180, 320): height first."""
    m = _HW.fullmatch(text)
    if not m or not all(1 <= int(g) <= MAX_SIDE for g in m.groups()):
        raise InputError(f"{flag} {text!r} is not {ORDER} with sides from 1 to {MAX_SIDE}, e.g. {example}")
    return int(m.group(1)), int(m.group(2))


def parse_hw_range(text: str, flag: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """``'64x64:270x480'`` -> ((64, 64), (270, 480)): smallest and largest size, each HEIGHTxWIDTH."""
    parts = text.split(":")
    if len(parts) != 2:
        raise InputError(f"{flag} {text!r} is not MIN:MAX sizes ({ORDER}), e.g. 64x64:270x480")
    low, high = parse_hw(parts[0], flag, "64x64:270x480"), parse_hw(parts[1], flag, "64x64:270x480")
    if not (low[0] <= high[0] and low[1] <= high[1]):
        raise InputError(f"{flag} {text!r} must grow from MIN to MAX on both sides, e.g. 64x64:270x480")
    return low, high


def parse_nchw(text: str, flag: str) -> tuple[int, int, int, int]:
    """``'1x3x180x320'`` -> (1, 3, 180, 320)."""
    parts = text.strip().lower().split("x")
    if len(parts) != 4 or not all(p.strip().isdigit() and 1 <= int(p) <= MAX_SIDE for p in parts):
        raise InputError(
            f"{flag} {text!r} is not NxCxHxW (batch, channels, HEIGHT, WIDTH) with positive integers, e.g. 1x3x180x320"
        )
    return tuple(int(p) for p in parts)  # type: ignore[return-value]


def legacy_wh(text: str, flag: str, new_flag: str) -> tuple[int, int]:
    """A size in the old WIDTHxHEIGHT order: kept where it cannot be misread (square), else refused
    with the same size written for ``new_flag``."""
    h, w = parse_hw(text, flag, "320x320")
    if h != w:
        raise InputError(f"{flag} took WIDTHxHEIGHT, unlike every other size flag; write {new_flag} {w}x{h} ({ORDER})")
    return h, w


def legacy_wh_range(text: str, flag: str, new_flag: str) -> tuple[tuple[int, int], tuple[int, int]]:
    parts = text.split(":")
    if len(parts) != 2:
        raise InputError(
            f"{flag} {text!r} is not MIN:MAX sizes; write {new_flag} MIN:MAX ({ORDER}), e.g. 64x64:270x480"
        )
    sizes = [parse_hw(p, flag, "64x64:320x320") for p in parts]
    if any(h != w for h, w in sizes):
        swapped = ":".join(f"{w}x{h}" for h, w in sizes)
        raise InputError(
            f"{flag} took WIDTHxHEIGHT, unlike every other size flag; write {new_flag} {swapped} ({ORDER})"
        )
    return parse_hw_range(text, flag)
