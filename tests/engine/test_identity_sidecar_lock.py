import multiprocessing
import os
import time

import pytest

from edgesr import lock
from edgesr.engine import sidecar_writer
from edgesr.engine.identity import Identity, input_text
from edgesr.errors import DeviceError, InputError


def ident(**over):
    base = dict(
        model="rfdn",
        scale=4,
        onnx_sha256="ab" * 32,
        precision="int8",
        kept_layers=("/conv_1/Conv",),
        input="1x3x180x320",
        device="orin-agx",
        compute_capability="8.7",
        tensorrt="10.3.0",
    )
    base.update(over)
    return Identity(**base)


def test_key_changes_with_every_field():
    a = ident()
    assert a.key == ident().key
    for field, value in [
        ("precision", "fp16"),
        ("kept_layers", ()),
        ("tensorrt", "10.4.0"),
        ("device", "orin-nx"),
        ("dla_core", 0),
        ("workspace_mb", 512),
        ("opt_level", 5),
        ("input", "1x3x90x160"),
    ]:
        assert ident(**{field: value}).key != a.key, field


def test_names():
    assert ident().dirname == "rfdn-x4-int8-180x320"
    rng = ident(input=input_text(((1, 3, 64, 64), (1, 3, 180, 320), (1, 3, 1080, 1920))), dla_core=0)
    assert rng.dirname == "rfdn-x4-int8-64x64-1080x1920-dla0"


def test_sidecar_round_trip_and_match(tmp_path):
    art = tmp_path / "m.engine"
    art.write_bytes(b"engine")
    sidecar_writer.write(art, ident(), built_at="now")
    data = sidecar_writer.read(art)
    assert data["identity"] == ident() and data["built_at"] == "now"
    assert sidecar_writer.matches(art, ident())
    assert not sidecar_writer.matches(art, ident(precision="fp16"))
    assert not sidecar_writer.matches(tmp_path / "other.engine", ident())


def test_host_checks_before_loading(tmp_path):
    art = tmp_path / "m.engine"
    art.write_bytes(b"engine")
    sidecar_writer.write(art, ident())
    sidecar_writer.check_host(art, tensorrt="10.3.0", device="orin-agx", compute_capability="8.7")
    with pytest.raises(DeviceError, match="built with TensorRT 10.3.0, this machine has 8.6.2.*rebuild"):
        sidecar_writer.check_host(art, tensorrt="8.6.2", device="orin-agx", compute_capability="8.7")
    with pytest.raises(DeviceError, match="compute capability 8.7"):
        sidecar_writer.check_host(art, tensorrt="10.3.0", device="xavier-nx", compute_capability="7.2")
    with pytest.raises(DeviceError, match="built for orin-agx, this machine is orin-nano"):
        sidecar_writer.check_host(art, tensorrt="10.3.0", device="orin-nano", compute_capability="8.7")


def test_missing_or_bad_sidecar(tmp_path):
    art = tmp_path / "m.engine"
    art.write_bytes(b"x")
    with pytest.raises(InputError, match="has no sidecar"):
        sidecar_writer.read(art)
    sidecar_writer.path_for(art).write_text("{not json")
    with pytest.raises(Exception, match="unreadable"):
        sidecar_writer.read(art)


def _hold(directory, ready, release):
    with lock.locked(directory):
        ready.set()
        release.wait(10)


def test_lock_excludes_a_second_build(tmp_path):
    ctx = multiprocessing.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    p = ctx.Process(target=_hold, args=(tmp_path, ready, release))
    p.start()
    try:
        assert ready.wait(10)
        with pytest.raises(lock.BusyError, match=f"pid {p.pid}"):
            with lock.locked(tmp_path):
                pass
    finally:
        release.set()
        p.join(10)
    with lock.locked(tmp_path):
        pass


def test_lock_is_released_when_the_holder_dies(tmp_path):
    ctx = multiprocessing.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    p = ctx.Process(target=_hold, args=(tmp_path, ready, release))
    p.start()
    assert ready.wait(10)
    p.kill()
    p.join(10)
    time.sleep(0.05)
    with lock.locked(tmp_path):
        pass


def test_a_released_lock_leaves_no_file(tmp_path):
    """A finished output folder holds only what was written to it (filelock keeps its lock file)."""
    with lock.locked(tmp_path):
        assert (tmp_path / lock.LOCK_NAME).read_text() == str(os.getpid())
    assert list(tmp_path.iterdir()) == []
