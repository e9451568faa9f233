"""``edgesr stream`` against a real RTSP server (GStreamer's gst-rtsp-server on 127.0.0.1): frames
arrive, the server is stopped and started again mid-stream, the stream reconnects with backoff,
the gap is counted and the latency after the outage is no larger than before it.

Each frame of the served file carries its index as 16 black/white blocks, so the test knows when
the server sent it (the server logs when playback starts) and when the upscaled frame arrived.
"""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from edgesr.cli import main
from edgesr.io import sinks

SERVER = Path(__file__).with_name("rtsp_server.py")
SYSTEM_PYTHON = "/usr/bin/python3"
FPS, WIDTH, HEIGHT, BITS, BLOCK = 10, 128, 96, 16, 8
BEFORE_S, DOWN_S, AFTER_S = 9.0, 2.0, 8.0


def _server_available() -> str | None:
    if not Path(SYSTEM_PYTHON).exists():
        return f"{SYSTEM_PYTHON} is missing"
    probe = (
        "import gi; gi.require_version('Gst', '1.0'); gi.require_version('GstRtspServer', '1.0'); "
        "from gi.repository import Gst, GstRtspServer; Gst.init(None); "
        "assert all(Gst.ElementFactory.find(e) for e in ('x264enc', 'rtph264pay', 'avidemux', 'jpegdec'))"
    )
    done = subprocess.run([SYSTEM_PYTHON, "-c", probe], capture_output=True, text=True)
    if done.returncode:
        return (
            "GStreamer's RTSP server is not installed (apt-get install gir1.2-gst-rtsp-server-1.0 "
            "python3-gst-1.0 gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly; .ci/run does)"
        )
    return None


pytestmark = pytest.mark.skipif(_server_available() is not None, reason=str(_server_available()))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _video(path: Path, frames: int) -> None:
    cv2 = pytest.importorskip("cv2")
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (WIDTH, HEIGHT))
    for k in range(frames):
        img = np.full((HEIGHT, WIDTH, 3), 60, np.uint8)
        for bit in range(BITS):
            img[:BLOCK, bit * BLOCK : (bit + 1) * BLOCK] = 255 if (k >> bit) & 1 else 0
        writer.write(img)
    writer.release()


def _index(rgb: np.ndarray, scale: int) -> int:
    row = rgb[BLOCK * scale // 2]
    return sum(1 << bit for bit in range(BITS) if row[(bit * BLOCK + BLOCK // 2) * scale].mean() > 128)


def _nearest_x2(path: Path) -> Path:
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, "h", "w"])
    y = helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3, None, None])
    scales = helper.make_tensor("scales", TensorProto.FLOAT, [4], [1, 1, 2, 2])
    node = helper.make_node("Resize", ["input", "", "scales"], ["output"], mode="nearest")
    model = helper.make_model(
        helper.make_graph([node], "x2", [x], [y], [scales]), opset_imports=[helper.make_opsetid("", 17)], ir_version=8
    )
    for k, v in {"edgesr.arch": "nearest", "edgesr.scale": "2", "edgesr.value_range": "1.0"}.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = k, v
    onnx.save(model, str(path))
    return path


class _Server:
    def __init__(self, port: int, video: Path, starts: Path):
        self.args = [SYSTEM_PYTHON, str(SERVER), str(port), str(video), "/test", str(starts)]
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "ready", self.proc.stderr.read()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


class _Recorder(sinks.Sink):
    """Notes the arrival time and the index of every upscaled frame."""

    def __init__(self):
        super().__init__("null://")
        self.arrivals: list[tuple[float, int]] = []

    def write(self, frame) -> None:
        self.arrivals.append((time.time(), _index(frame.image, 2)))
        self.frames_written += 1


def test_stream_survives_a_server_restart(tmp_path, monkeypatch, capsys):
    video, starts = tmp_path / "clip.avi", tmp_path / "starts.txt"
    _video(video, int((BEFORE_S + DOWN_S + AFTER_S + 10) * FPS))
    model = _nearest_x2(tmp_path / "x2.onnx")
    recorder = _Recorder()
    monkeypatch.setitem(sinks._OPENERS, "null", lambda address, options: recorder)
    port = _free_port()
    server = _Server(port, video, starts)
    server.start()
    argv = [
        "-q",
        "stream",
        "--source",
        f"rtsp://127.0.0.1:{port}/test",
        "--sink",
        "null://",
        "--model",
        str(model),
        "--duration",
        str(BEFORE_S + DOWN_S + AFTER_S),
        "--reconnect-delay",
        "0.25",
        "--reconnect-max-delay",
        "1",
        "--reconnect-retries",
        "20",
        "--stall-timeout",
        "1",
        "--open-timeout",
        "3",
        "--stats-every",
        "0",
        "--telemetry-interval",
        "0",
        "--json",
        str(tmp_path / "stats.json"),
    ]
    codes: list[int] = []
    client = threading.Thread(target=lambda: codes.append(main(argv)))
    try:
        client.start()
        time.sleep(BEFORE_S)
        server.stop()
        stopped = time.time()
        time.sleep(DOWN_S)
        server.start()
        restarted = time.time()
        client.join(timeout=BEFORE_S + DOWN_S + AFTER_S + 30)
    finally:
        server.stop()
    assert codes == [0] and not client.is_alive()
    stats = json.loads((tmp_path / "stats.json").read_text())
    sessions = [float(t) for t in starts.read_text().split()]
    before = [(t, k) for t, k in recorder.arrivals if t < stopped]
    after = [(t, k) for t, k in recorder.arrivals if t > restarted]
    assert len(sessions) == 2 and len(before) >= FPS and len(after) >= 2 * FPS, (sessions, len(before), len(after))
    latency_before = [t - (sessions[0] + k / FPS) for t, k in before[len(before) // 2 :]]
    latency_after = [t - (sessions[1] + k / FPS) for t, k in after[-3 * FPS :]]
    reconnect_s = after[0][0] - restarted
    report = {
        "reconnects": stats["reconnects"],
        "gap_s": stats["gap_s"],
        "missed_frames": stats["missed_frames"],
        "reconnect_after_server_up_s": round(reconnect_s, 3),
        "frames_before": len(before),
        "frames_after": len(after),
        "latency_before_ms": round(1000 * float(np.median(latency_before))),
        "latency_after_ms": round(1000 * float(np.median(latency_after))),
    }
    with capsys.disabled():
        print(f"\nRTSP restart: {json.dumps(report)}")
    assert stats["reconnects"] >= 1 and stats["gap_s"] >= DOWN_S and stats["missed_frames"] > 0
    assert reconnect_s < 5.0
    assert np.median(latency_after) < np.median(latency_before) + 0.25
