"""Degrade one image (numpy and OpenCV): HR uint8 RGB in, degraded LR uint8 RGB out.

Blur and downsampling run in float on 0-255 values; the image is rounded to uint8 once, after
the noise (as the blind-SR protocols do), and again by each codec. Every random draw comes
from one generator seeded by the caller, so the same (image, spec, seed) always gives the same
LR, bit for bit.
"""

from __future__ import annotations

import io
import zlib

import numpy as np

from edgesr.degrade.kernels import make_kernel
from edgesr.degrade.spec import Degradation, parse
from edgesr.errors import DependencyError, InputError
from edgesr.lazy import require
from edgesr.quality.imresize import imresize


def image_seed(name: str, seed: int = 0) -> int:
    """The seed of one image's degradation: fixed by its name, so every model sees the same LR."""
    return (zlib.crc32(name.encode()) + 1_000_003 * seed) % 2**32


def degrade(image: np.ndarray, spec: Degradation | str, scale: int = 1, seed: int = 0) -> np.ndarray:
    """``image`` (HxWx3 uint8 RGB) blurred, shrunk ``scale`` times, noised and compressed.

    ``scale`` must divide the size (crop first, as :func:`edgesr.quality.prepare` does);
    ``scale=1`` keeps the size.
    """
    d = parse(spec) if isinstance(spec, str) else spec
    _check(image, d, scale)
    rng = np.random.default_rng(seed)
    if d.blur is None and d.down == "bicubic" and scale > 1:
        # uint8 in: the benchmark protocol's LR exactly, rounded after each axis as MATLAB does
        x = imresize(image, output_shape=(image.shape[0] // scale, image.shape[1] // scale)).astype(np.float32)
    else:
        x = image.astype(np.float32)
        if d.blur is not None:
            x = blur(x, make_kernel(d.blur))
        if scale > 1:
            x = downsample(x, scale, d.down)
    if d.shot:
        x = shot_noise(x, d.shot, rng)
    if d.noise:
        x = gaussian_noise(x, d.noise, d.noise_kind, rng)
    out = np.clip(np.round(x), 0, 255).astype(np.uint8)
    if d.jpeg is not None:
        out = jpeg(out, d.jpeg)
    if d.h264 is not None:
        out = h264(out, d.h264)
    return out


def _check(image: np.ndarray, d: Degradation, scale: int) -> None:
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise InputError(f"degrade takes an HxWx3 uint8 RGB image, not {image.dtype} {image.shape}")
    if scale < 1:
        raise InputError(f"scale must be a positive integer, not {scale}")
    h, w = image.shape[:2]
    if h % scale or w % scale:
        raise InputError(f"a {h}x{w} (HxW) image is not a multiple of the x{scale} scale; crop it first")
    if d.blur is not None:
        k = make_kernel(d.blur).shape[0]
        if min(h, w) < k:
            raise InputError(
                f"a {h}x{w} (HxW) image is smaller than the {k}x{k} kernel of blur={d.blur.text()}; "
                "use a larger image or a narrower blur"
            )


def blur(x: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Correlate each channel with ``kernel``; borders reflected without repeating the edge pixel."""
    cv2 = require("cv2")
    return cv2.filter2D(x, cv2.CV_32F, kernel.astype(np.float32), borderType=cv2.BORDER_REFLECT_101)


def downsample(x: np.ndarray, scale: int, method: str) -> np.ndarray:
    h, w = x.shape[0] // scale, x.shape[1] // scale
    if method == "bicubic":
        return imresize(x, output_shape=(h, w))
    if method == "decimate":
        return np.ascontiguousarray(x[::scale, ::scale])
    cv2 = require("cv2")
    interp = {"bilinear": cv2.INTER_LINEAR, "area": cv2.INTER_AREA}[method]
    return cv2.resize(x, (w, h), interpolation=interp)


def gaussian_noise(x: np.ndarray, sigma: float, kind: str, rng: np.random.Generator) -> np.ndarray:
    shape = x.shape if kind == "color" else x.shape[:2] + (1,)
    return x + rng.standard_normal(shape, dtype=np.float32) * np.float32(sigma)


def shot_noise(x: np.ndarray, sigma_mid: float, rng: np.random.Generator) -> np.ndarray:
    """Poisson noise whose standard deviation is ``sigma_mid`` at value 128 (variance grows with the value)."""
    gain = sigma_mid * sigma_mid / 128.0  # 0-255 units per photon
    photons = rng.poisson(np.clip(x, 0, None) / gain)
    return (photons * gain).astype(np.float32)


def jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    """Encode as JPEG at ``quality`` (OpenCV's libjpeg, 4:2:0) and decode again."""
    cv2 = require("cv2")
    ok, buf = cv2.imencode(".jpg", rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise InputError(f"OpenCV could not JPEG-encode a {rgb.shape[0]}x{rgb.shape[1]} image")
    return np.ascontiguousarray(cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1])


def h264(rgb: np.ndarray, crf: int) -> np.ndarray:
    """Encode as one H.264 intra frame (libx264, yuv420p, CRF ``crf``) and decode again."""
    av = require("av")
    if "libx264" not in av.codecs_available:
        raise DependencyError("this PyAV build has no libx264 encoder; drop h264= from the degradation")
    h, w = rgb.shape[:2]
    padded = np.pad(rgb, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")  # yuv420p needs even sides
    buf = io.BytesIO()
    with av.open(buf, "w", format="h264") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height = padded.shape[1], padded.shape[0]
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(crf), "preset": "veryfast", "tune": "zerolatency"}
        for packet in stream.encode(av.VideoFrame.from_ndarray(padded, format="rgb24")):
            out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    buf.seek(0)
    with av.open(buf, "r", format="h264") as src:
        frame = next(src.decode(video=0))
    return np.ascontiguousarray(frame.to_ndarray(format="rgb24")[:h, :w])
