"""A degradation as a small spec: ``blur=iso:1.2,noise=10,jpeg=50``; presets by name.

The order of the steps is fixed, as camera and stream frames are made: blur the scene (optics,
motion), downsample (sensor, scaler), add noise (sensor), compress (JPEG, H.264). Values are in
pixels of the HR image (blur widths) and 0-255 units (noise), so a spec reads the same as the
published blind-SR protocols (see ``docs/degradations.md``).

No numpy, OpenCV or torch here: parsing a spec is part of argument checking.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, replace

from edgesr.errors import InputError

BLUR_KINDS = ("iso", "aniso", "gen", "plateau")
DOWN_METHODS = ("bicubic", "bilinear", "area", "decimate")
NOISE_KINDS = ("color", "grey")
KEYS = ("blur", "down", "noise", "shot", "jpeg", "h264")
MAX_SIGMA = 20.0  # HR pixels; wider blurs leave nothing a model can restore


@dataclass(frozen=True)
class Blur:
    """A blur kernel: ``iso`` (sigma), ``aniso`` (sigma_x, sigma_y, angle in degrees), ``gen`` and
    ``plateau`` (sigma and shape ``beta``: generalised Gaussian exp(-|x/s|^beta), plateau
    1 / (1 + |x/s|^beta))."""

    kind: str
    sigma: float
    sigma_y: float | None = None  # aniso only
    angle: float = 0.0  # aniso only, degrees
    beta: float = 2.0  # gen and plateau only

    @property
    def widest(self) -> float:
        return max(self.sigma, self.sigma_y or 0.0)

    def text(self) -> str:
        if self.kind == "iso":
            return f"iso:{self.sigma:g}"
        if self.kind == "aniso":
            return f"aniso:{self.sigma:g}:{self.sigma_y:g}:{self.angle:g}"
        return f"{self.kind}:{self.sigma:g}:{self.beta:g}"


@dataclass(frozen=True)
class Degradation:
    """What happens to an HR frame on its way to the model, in this order."""

    blur: Blur | None = None
    down: str = "bicubic"  # how the frame is shrunk by the scale (MATLAB bicubic: the benchmark LR)
    noise: float = 0.0  # Gaussian noise sigma, 0-255 units
    noise_kind: str = "color"  # color: independent per channel; grey: one field for all three
    shot: float = 0.0  # Poisson noise: its sigma at mid-grey (128), 0-255 units
    jpeg: int | None = None  # JPEG quality 1-100
    h264: int | None = None  # H.264 CRF 0-51 (needs PyAV)

    @property
    def is_clean(self) -> bool:
        return self == Degradation(down=self.down)

    def text(self) -> str:
        """The canonical spec; ``parse(d.text()) == d``."""
        parts = []
        if self.blur is not None:
            parts.append(f"blur={self.blur.text()}")
        if self.down != "bicubic":
            parts.append(f"down={self.down}")
        if self.noise:
            parts.append(f"noise={'grey:' if self.noise_kind == 'grey' else ''}{self.noise:g}")
        if self.shot:
            parts.append(f"shot={self.shot:g}")
        if self.jpeg is not None:
            parts.append(f"jpeg={self.jpeg}")
        if self.h264 is not None:
            parts.append(f"h264={self.h264}")
        return ",".join(parts) or "clean"

    def label(self) -> str:
        """A short column title for tables."""
        for name, preset in PRESETS.items():
            if preset == self:
                return name
        return self.text()


# Named degradations. The first eight are the quality grid's columns (``GRID``).
PRESETS: dict[str, Degradation] = {
    "clean": Degradation(),
    "blur1.2": Degradation(blur=Blur("iso", 1.2)),
    "blur2.4": Degradation(blur=Blur("iso", 2.4)),
    "blur3.6": Degradation(blur=Blur("iso", 3.6)),
    "blur1.2+noise10": Degradation(blur=Blur("iso", 1.2), noise=10.0),
    "noise10": Degradation(noise=10.0),
    "jpeg50": Degradation(jpeg=50),
    "aniso+noise5+jpeg70": Degradation(blur=Blur("aniso", 2.0, 0.8, 30.0), noise=5.0, jpeg=70),
    "camera": Degradation(blur=Blur("iso", 1.0), shot=4.0, noise=2.0, jpeg=85),
    "stream": Degradation(blur=Blur("iso", 0.8), down="bilinear", noise=3.0, jpeg=60),
}
GRID: tuple[str, ...] = tuple(list(PRESETS)[:8])
# Names that stand for several degradations at once (``edgesr eval --degrade grid``).
GROUPS: dict[str, tuple[str, ...]] = {"grid": GRID}


def parse(text: str) -> Degradation:
    """A preset name or ``key=value[,key=value...]`` with keys blur, down, noise, shot, jpeg, h264."""
    s = text.strip().lower()
    if s in PRESETS:
        return PRESETS[s]
    if "=" not in s:
        raise InputError(f"unknown degradation '{text}'{suggest(s, list(PRESETS))}; {_help()}")
    d = Degradation()
    seen = set()
    for item in s.split(","):
        key, sep, value = (p.strip() for p in item.partition("="))
        if not sep or not value:
            raise InputError(f"'{item}' in degradation '{text}' is not KEY=VALUE; {_help()}")
        if key not in KEYS:
            raise InputError(f"unknown degradation key '{key}'{suggest(key, list(KEYS))}; {_help()}")
        if key in seen:
            raise InputError(f"degradation '{text}' sets {key} twice; give it once")
        seen.add(key)
        d = _SETTERS[key](d, value, text)
    return d


def expand(texts: list[str] | tuple[str, ...]) -> list[Degradation]:
    """Specs, preset names and group names (``grid``) to degradations, in order, without repeats."""
    out: list[Degradation] = []
    for text in texts:
        group = GROUPS.get(text.strip().lower())
        for d in [PRESETS[n] for n in group] if group else [parse(text)]:
            if d not in out:
                out.append(d)
    return out


def _help() -> str:
    return (
        f"write KEY=VALUE pairs joined by commas (keys: {', '.join(KEYS)}; e.g. blur=iso:1.2,noise=10,jpeg=50) "
        f"or a preset ({', '.join(PRESETS)}) or 'grid'"
    )


def suggest(word: str, choices: list[str]) -> str:
    """A ' (did you mean ...?)' hint naming the closest of ``choices``, or nothing."""
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _number(value: str, what: str, spec: str, low: float, high: float) -> float:
    try:
        x = float(value)
    except ValueError:
        x = math.nan
    if not (math.isfinite(x) and low <= x <= high):
        raise InputError(f"{what} in degradation '{spec}' must be a number from {low:g} to {high:g}, not '{value}'")
    return x


def _blur(d: Degradation, value: str, spec: str) -> Degradation:
    kind, *args = value.split(":")
    if kind not in BLUR_KINDS:
        raise InputError(
            f"blur kind '{kind}'{suggest(kind, list(BLUR_KINDS))} is not one of "
            f"{', '.join(BLUR_KINDS)}; e.g. blur=iso:1.2, blur=aniso:2:0.8:30, blur=gen:1.5:1"
        )
    arity = {"iso": (1,), "aniso": (2, 3), "gen": (2,), "plateau": (2,)}[kind]
    if len(args) not in arity:
        forms = {
            "iso": "iso:SIGMA",
            "aniso": "aniso:SIGMA_X:SIGMA_Y[:ANGLE]",
            "gen": "gen:SIGMA:BETA",
            "plateau": "plateau:SIGMA:BETA",
        }
        raise InputError(f"blur '{value}' in degradation '{spec}': write {forms[kind]}")
    sigma = _number(args[0], "blur sigma", spec, 0.1, MAX_SIGMA)
    if kind == "iso":
        return replace(d, blur=Blur(kind, sigma))
    if kind == "aniso":
        sigma_y = _number(args[1], "blur sigma_y", spec, 0.1, MAX_SIGMA)
        angle = _number(args[2], "blur angle", spec, -360, 360) if len(args) == 3 else 0.0
        return replace(d, blur=Blur(kind, sigma, sigma_y, angle))
    return replace(d, blur=Blur(kind, sigma, beta=_number(args[1], "blur beta", spec, 0.25, 8)))


def _down(d: Degradation, value: str, spec: str) -> Degradation:
    if value not in DOWN_METHODS:
        raise InputError(f"down '{value}'{suggest(value, list(DOWN_METHODS))} is not one of {', '.join(DOWN_METHODS)}")
    return replace(d, down=value)


def _noise(d: Degradation, value: str, spec: str) -> Degradation:
    kind, _, level = value.rpartition(":")
    kind = kind or "color"
    kind = "grey" if kind == "gray" else "color" if kind == "colour" else kind
    if kind not in NOISE_KINDS:
        raise InputError(f"noise kind '{kind}' is not one of {', '.join(NOISE_KINDS)}; e.g. noise=10 or noise=grey:10")
    return replace(d, noise=_number(level, "noise sigma", spec, 0, 100), noise_kind=kind)


def _shot(d: Degradation, value: str, spec: str) -> Degradation:
    return replace(d, shot=_number(value, "shot noise sigma", spec, 0, 100))


def _jpeg(d: Degradation, value: str, spec: str) -> Degradation:
    q = _number(value, "JPEG quality", spec, 1, 100)
    if q != int(q):
        raise InputError(f"JPEG quality in degradation '{spec}' must be a whole number from 1 to 100, not '{value}'")
    return replace(d, jpeg=int(q))


def _h264(d: Degradation, value: str, spec: str) -> Degradation:
    crf = _number(value, "H.264 CRF", spec, 0, 51)
    if crf != int(crf):
        raise InputError(f"H.264 CRF in degradation '{spec}' must be a whole number from 0 to 51, not '{value}'")
    return replace(d, h264=int(crf))


_SETTERS = {"blur": _blur, "down": _down, "noise": _noise, "shot": _shot, "jpeg": _jpeg, "h264": _h264}
