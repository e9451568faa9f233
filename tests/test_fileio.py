import os

import pytest

from edgesr import fileio
from edgesr.errors import InputError


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "artifact.bin"
    with pytest.raises(RuntimeError):
        with fileio.atomic_path(target) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("crash mid-write")
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_replaces_whole(tmp_path):
    target = tmp_path / "a.json"
    fileio.write_json(target, {"x": 1})
    fileio.write_json(target, {"x": 2})
    assert target.read_text().strip().endswith("}") and '"x": 2' in target.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_atomic_write_makes_missing_folders(tmp_path):
    target = tmp_path / "new" / "deeper" / "a.json"
    fileio.check_writable_dir(target.parent)
    fileio.write_json(target, {"x": 1})
    assert '"x": 1' in target.read_text()
    assert [p.name for p in target.parent.iterdir()] == ["a.json"]


def test_check_writable_dir_creates_nothing(tmp_path):
    out = tmp_path / "new" / "deeper"
    fileio.check_writable_dir(out)
    assert not (tmp_path / "new").exists()


def test_output_under_a_file_is_refused(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(InputError, match="not a directory"):
        fileio.check_writable_dir(blocker)
    with pytest.raises(InputError, match="cannot write"):
        fileio.check_writable_dir(blocker / "sub")


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to read-only directories")
def test_read_only_dir_is_refused(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(InputError, match="cannot write"):
            fileio.check_writable_dir(ro / "out")
    finally:
        ro.chmod(0o700)


def test_artifacts_get_umask_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        path = fileio.write_text(tmp_path / "r.txt", "x")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644
