"""What needs PyAV (the ``video`` extra): video encoding (MPEG-4 part 2 and H.264 with libx264),
and carrying an input's audio stream over to the upscaled video without re-encoding it.

OpenCV's PyPI wheel cannot encode H.264, and it drops audio; PyAV's wheel bundles FFmpeg with
libx264 (GPL), which is why it stays optional.

Frames reach the encoder as yuv420p planes made by OpenCV's colour conversion (0.2 ms for a
1280x720 frame) rather than by FFmpeg's scaler from packed RGB (about 1.8 ms): on a CPU that the
model already keeps busy, every millisecond around it is a frame rate lost (docs/decisions.md,
"Video is encoded from OpenCV's yuv420p").
"""

from __future__ import annotations

import heapq
from fractions import Fraction
from pathlib import Path

import numpy as np

from edgesr.errors import DependencyError, InputError
from edgesr.fileio import atomic_path
from edgesr.lazy import require

# MPEG-4 part 2 at a fixed quantiser of 3: on the default model's 720p output, 1.5 dB closer to the
# frames than OpenCV's rate-controlled mp4v writer at 8 % more bytes (docs/decisions.md).
MPEG4_QUANTISER = 3


class _PyAvWriter:
    """One video stream of ``codec`` in the container FFmpeg picks from the suffix; frames in as
    H x W x 3 uint8, RGB or BGR as ``order`` says."""

    def __init__(self, path: Path, fps: float, size: tuple[int, int], codec: str, order: str = "RGB"):
        self._av = require("av")
        self._cv2 = require("cv2")
        self._conversion = self._cv2.COLOR_BGR2YUV_I420 if order == "BGR" else self._cv2.COLOR_RGB2YUV_I420
        try:
            self._container = self._av.open(str(path), "w", format=_container_format(path))
        except (self._av.FFmpegError, ValueError) as exc:
            raise InputError(f"cannot write {path} ({exc}); choose a writable .mp4/.mkv/.mov path") from None
        stream = self._container.add_stream(codec, rate=Fraction(fps).limit_denominator(1001))
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        self._stream = stream

    def write(self, pixels: np.ndarray) -> None:
        planes = self._cv2.cvtColor(pixels, self._conversion)
        frame = self._av.VideoFrame.from_ndarray(planes, format="yuv420p")
        for packet in self._stream.encode(frame):
            self._container.mux(packet)

    def close(self) -> None:
        for packet in self._stream.encode():
            self._container.mux(packet)
        self._container.close()


class Mpeg4Writer(_PyAvWriter):
    """MPEG-4 part 2 (FourCC mp4v), the ``mp4v`` codec: a fixed quantiser, a key frame every second."""

    def __init__(self, path: Path, fps: float, size: tuple[int, int], order: str = "BGR"):
        super().__init__(path, fps, size, "mpeg4", order)
        context = self._stream.codec_context
        context.qmin = context.qmax = MPEG4_QUANTISER
        context.gop_size = max(1, round(fps))
        # One thread: FFmpeg's MPEG-4 threads by slices, which costs bits and no less CPU, and the
        # model's threads hold the other cores.
        context.thread_count = 1


class H264Writer(_PyAvWriter):
    """H.264 with libx264 at a constant rate factor."""

    def __init__(self, path: Path, fps: float, size: tuple[int, int], crf: int = 18, preset: str = "veryfast"):
        av = require("av")
        if "libx264" not in av.codecs_available:
            raise DependencyError("this PyAV build has no libx264 encoder; use the mp4v codec, or PyAV's PyPI wheel")
        super().__init__(path, fps, size, "libx264")
        self._stream.options = {"crf": str(crf), "preset": preset}


def _container_format(path: Path) -> str | None:
    # A temporary name hides the real suffix from FFmpeg's guess; map the ones edgesr writes.
    return {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska", ".avi": "avi"}.get(path.suffix.lower())


def audio_codec(path: Path) -> str | None:
    """The codec name of the first audio stream of ``path``, or None when it has none."""
    av = require("av")
    try:
        with av.open(str(path)) as container:
            streams = container.streams.audio
            return streams[0].codec_context.name if streams else None
    except av.FFmpegError:
        return None


def copy_audio(video: Path, audio_from: Path, output: Path) -> float:
    """Write ``output``: the video stream of ``video`` plus the first audio stream of ``audio_from``,
    both copied without re-encoding, interleaved by time. Audio past the video's end is cut,
    so an interrupted run stays in sync. Returns the seconds of audio kept. Atomic.
    """
    av = require("av")
    with av.open(str(video)) as vin, av.open(str(audio_from)) as ain, atomic_path(output) as tmp:
        v_in, a_in = vin.streams.video[0], ain.streams.audio[0]
        try:
            with av.open(str(tmp), "w", format=_container_format(output)) as out:
                v_out = out.add_stream_from_template(v_in)
                a_out = out.add_stream_from_template(a_in)
                end = _duration(vin, v_in)
                kept = 0.0
                for _, kind, _, packet in heapq.merge(_timed(vin.demux(v_in), "v"), _timed(ain.demux(a_in), "a")):
                    if kind == "a":
                        start = float(packet.pts * packet.time_base) if packet.pts is not None else 0.0
                        if start >= end:
                            continue
                        kept = max(kept, start + float((packet.duration or 0) * packet.time_base))
                    packet.stream = v_out if kind == "v" else a_out
                    out.mux(packet)
        except (av.FFmpegError, ValueError) as exc:
            raise InputError(
                f"cannot put the {a_in.codec_context.name} audio of {audio_from.name} into "
                f"{output.suffix} ({exc}); use --audio drop or an .mkv output"
            ) from None
    return min(kept, end)


def _timed(packets, kind: str):
    """(seconds, kind, sequence number, packet) in decode order, skipping the empty packets demux
    ends with. The sequence number breaks ties so packets themselves are never compared."""
    for n, packet in enumerate(packets):
        if packet.dts is None:
            continue
        yield float(packet.dts * packet.time_base), kind, n, packet


def _duration(container, stream) -> float:
    if stream.duration is not None:
        return float(stream.duration * stream.time_base)
    if stream.frames and stream.average_rate:
        return float(stream.frames / stream.average_rate)
    return float(container.duration or 0) / 1_000_000
