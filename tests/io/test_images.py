import numpy as np
import pytest
from PIL import Image

from edgesr.errors import InputError
from edgesr.io import images


def test_samples_ship_and_decode():
    paths = images.sample_images()
    assert len(paths) >= 5
    for p in paths:
        rgb = images.read_rgb(p)
        assert rgb.dtype == np.uint8 and rgb.ndim == 3 and rgb.shape[2] == 3 and min(rgb.shape[:2]) >= 256


def test_grayscale_becomes_rgb(tmp_path):
    p = tmp_path / "g.png"
    Image.fromarray(np.full((8, 9), 77, np.uint8), "L").save(p)
    rgb = images.read_rgb(p)
    assert rgb.shape == (8, 9, 3) and (rgb == 77).all()


def test_sixteen_bit_is_converted_with_a_warning(tmp_path, caplog):
    p = tmp_path / "deep.png"
    Image.fromarray(np.full((4, 4), 65535, np.uint16)).save(p)
    rgb = images.read_rgb(p)
    assert (rgb == 255).all()
    assert "16-bit" in caplog.text


def test_opaque_rgba_is_accepted_transparent_is_refused(tmp_path):
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 3] = 255
    Image.fromarray(rgba, "RGBA").save(tmp_path / "opaque.png")
    assert images.read_rgb(tmp_path / "opaque.png").shape == (4, 4, 3)
    rgba[0, 0, 3] = 10
    Image.fromarray(rgba, "RGBA").save(tmp_path / "clear.png")
    with pytest.raises(InputError, match="transparent"):
        images.read_rgb(tmp_path / "clear.png")


def test_corrupt_image(tmp_path):
    p = tmp_path / "bad.png"
    p.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    with pytest.raises(InputError, match="cannot decode"):
        images.read_rgb(p)


def test_list_images_errors(tmp_path):
    with pytest.raises(InputError, match="no images"):
        images.list_images(tmp_path)
    with pytest.raises(InputError, match="does not exist"):
        images.list_images(tmp_path / "missing")


def test_fit_and_to_nchw():
    rgb = np.random.default_rng(0).integers(0, 256, (50, 60, 3), dtype=np.uint8)
    assert images.fit(rgb, 40, 30).shape == (40, 30, 3)
    assert images.fit(rgb, 100, 100).shape == (100, 100, 3)
    x = images.to_nchw(rgb, value_range=255.0)
    assert x.shape == (1, 3, 50, 60) and x.dtype == np.float32 and x.max() <= 255.0
    y = images.to_nchw(rgb, channels=1)
    assert y.shape == (1, 1, 50, 60) and 0.0 <= y.min() and y.max() <= 1.0


def test_write_round_trip(tmp_path):
    rgb = np.random.default_rng(1).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    images.write_rgb(tmp_path / "o.png", rgb)
    assert (images.read_rgb(tmp_path / "o.png") == rgb).all()


def test_sixteen_bit_colour_png_is_flagged(tmp_path, caplog):
    import struct
    import zlib

    rows = b"".join(b"\x00" + struct.pack(">3H", 65535, 0, 32768) * 2 for _ in range(2))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 16, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
    p = tmp_path / "rgb16.png"
    p.write_bytes(png)
    rgb = images.read_rgb(p)
    assert rgb.shape == (2, 2, 3) and rgb[0, 0, 0] == 255 and rgb[0, 0, 1] == 0
    assert "16-bit" in caplog.text
