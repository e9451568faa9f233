"""Generated media for tests: short videos of a real photograph."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def make_video(
    path: Path, frames: int = 12, size: tuple[int, int] = (64, 48), fps: float = 25.0, fourcc: str = "mp4v"
) -> Path:
    """A video of a real photograph panning left, so codecs see natural content."""
    import cv2

    from edgesr.io.images import fit, read_rgb, sample_images

    w, h = size
    photo = fit(read_rgb(sample_images()[0]), h, w + 4 * frames)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (w, h))
    assert writer.isOpened()
    for i in range(frames):
        writer.write(np.ascontiguousarray(photo[:, 4 * i : 4 * i + w, ::-1]))
    writer.release()
    return path


def count_frames(path: Path) -> tuple[int, tuple[int, int]]:
    import cv2

    cap = cv2.VideoCapture(str(path))
    n, size = 0, (0, 0)
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        n, size = n + 1, (frame.shape[1], frame.shape[0])
    cap.release()
    return n, size


def make_video_with_audio(path: Path, frames: int = 25, size: tuple[int, int] = (64, 48), fps: int = 25) -> Path:
    """MPEG-4 video of the panning photograph plus a 440 Hz AAC tone as long as the video (needs PyAV)."""
    import av

    from edgesr.io.images import fit, read_rgb, sample_images

    w, h = size
    photo = fit(read_rgb(sample_images()[0]), h, w + 4 * frames)
    rate = 44100
    with av.open(str(path), "w") as out:
        video = out.add_stream("mpeg4", rate=fps)
        video.width, video.height, video.pix_fmt = w, h, "yuv420p"
        audio = out.add_stream("aac", rate=rate)
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(photo[:, 4 * i : 4 * i + w]), format="rgb24")
            out.mux(video.encode(frame))
        out.mux(video.encode())
        t = np.arange(int(rate * frames / fps)) / rate
        tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        for start in range(0, tone.size, 1024):
            chunk = av.AudioFrame.from_ndarray(tone[None, start : start + 1024], format="flt", layout="mono")
            chunk.sample_rate = rate
            chunk.pts = start
            out.mux(audio.encode(chunk))
        out.mux(audio.encode())
    return path
