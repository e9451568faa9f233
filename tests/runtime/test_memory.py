"""Memory stays flat over a long run: 2,000 frames, resident size after warm-up vs at the end."""

import pytest

from edgesr.io.sinks import open_sink
from edgesr.io.sources import open_source
from edgesr.runtime.runners import open_runner
from edgesr.runtime.streaming import Pipeline, PipelineOptions

FRAMES = 2000
WARM_UP = 200

pytest.importorskip("cv2", reason="the run writes a video file, which needs OpenCV (the 'video' extra)")


def rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    pytest.skip("no /proc/self/status on this system")


@pytest.mark.slow
def test_rss_is_flat_over_2000_frames(models, tmp_path):
    samples: dict[int, float] = {}

    def sample(written: int) -> None:
        if written >= WARM_UP and "warm" not in samples:
            samples["warm"] = rss_mib()
        samples["peak"] = max(samples.get("peak", 0.0), rss_mib())

    source = open_source(f"test://64x48?frames={FRAMES}")
    sink = open_sink(str(tmp_path / "long.mp4"))
    with source, open_runner(models["dynamic"]) as runner, sink:
        result = Pipeline(source, runner, sink, PipelineOptions(), on_progress=sample)()
    end = rss_mib()
    assert result.stats["frames_written"] == FRAMES
    growth = end - samples["warm"]
    print(
        f"RSS after {WARM_UP} frames {samples['warm']:.1f} MiB, at {FRAMES} frames {end:.1f} MiB "
        f"(peak {samples['peak']:.1f} MiB, growth {growth:+.1f} MiB)"
    )
    assert growth < 10.0
