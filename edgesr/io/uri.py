"""Source and sink addresses: URIs in the jetson-utils style, with plain paths and camera numbers
normalised to them.

    clip.mp4, file://clip.mp4      a file, folder or glob (file:// URIs may carry ?key=value options)
    0, /dev/video0                 v4l2:///dev/video0
    csi://0?width=1920&height=1080&fps=30
    rtsp://host:8554/stream        (the query string stays part of the stream URL)
    test://320x180?fps=25&frames=100
    display://0, null://
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from edgesr.errors import InputError

# Schemes whose query string is edgesr options; for the others it belongs to the address.
_OPTION_SCHEMES = ("file", "v4l2", "csi", "test", "display", "null")
_NETWORK_SCHEMES = ("rtsp", "rtsps")


@dataclass(frozen=True)
class Uri:
    scheme: str
    location: str  # a path for file and v4l2, the whole URL for network streams, a number or size otherwise
    options: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        if self.scheme in _NETWORK_SCHEMES:
            return self.location
        query = "&".join(f"{k}={v}" for k, v in self.options.items())
        return f"{self.scheme}://{self.location}" + (f"?{query}" if query else "")

    def check_options(self, allowed: tuple[str, ...]) -> None:
        """Refuse option keys this source or sink does not read, suggesting the closest one."""
        for key in self.options:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f"did you mean '{close[0]}'? " if close else ""
                known = ", ".join(allowed) or "none"
                raise InputError(f"{self}: unknown option '{key}'; {hint}options here: {known}")

    def int_option(self, key: str, default: int | None = None) -> int | None:
        return _number(self, key, default, int)

    def float_option(self, key: str, default: float | None = None) -> float | None:
        return _number(self, key, default, float)


def parse(text: str | Path) -> Uri:
    """Normalise a source or sink address (see the module docstring for the accepted forms)."""
    s = str(text).strip()
    if not s:
        raise InputError("an empty source or sink address was given; pass a path or a URI such as csi://0")
    if re.fullmatch(r"\d+", s):
        return Uri("v4l2", f"/dev/video{s}")
    if re.fullmatch(r"/dev/video\d+", s):
        return Uri("v4l2", s)
    match = re.match(r"([a-zA-Z][a-zA-Z0-9+.-]*)://(.*)", s)
    if match is None:
        return Uri("file", s)
    scheme = match.group(1).lower()
    if scheme in _NETWORK_SCHEMES:
        return Uri(scheme, s)
    if scheme not in _OPTION_SCHEMES:
        known = ", ".join(f"{k}://" for k in _OPTION_SCHEMES + _NETWORK_SCHEMES)
        raise InputError(f"unknown scheme in {s!r}; use a path or one of {known}")
    try:
        parts = urlsplit(s)
    except ValueError as exc:  # e.g. an unclosed '[' read as an IPv6 host
        raise InputError(f"cannot read the address {s!r} ({exc}); check its spelling") from None
    location = parts.netloc + parts.path
    return Uri(scheme, location, dict(parse_qsl(parts.query, keep_blank_values=True)))


def _number(uri: Uri, key: str, default, kind):
    raw = uri.options.get(key)
    if raw is None:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise InputError(f"{uri}: option {key}={raw!r} is not a {kind.__name__}") from None
    if value <= 0:
        raise InputError(f"{uri}: option {key} must be positive, not {raw}")
    return value
