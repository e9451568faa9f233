"""Bad input, as a new user or an attacker gives it: every case must end in one stderr line that
names the problem and the fix, the right exit code, no traceback, and nothing left behind.

Each case runs ``edgesr.cli.main`` in-process with ``-q`` (warnings and errors only) on tiny
generated files; outputs go under a fresh folder that must be empty or absent afterwards.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from edgesr import devices, host, lock
from edgesr.cli import main
from edgesr.engine import sidecar_writer
from edgesr.engine.identity import Identity
from tests.doubles import tensorrt_double
from tests.doubles.cuda_double import FakeCudart, install
from tests.tiny_models import save, sr_model

# A path no one can write to, even root: /proc takes no new files.
UNWRITABLE = "/proc/edgesr-unwritable"


def _graph_model(inputs, outputs, nodes, opset: int = 17) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "bad", inputs, outputs)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)


def _external(folder: Path, name: str, location: str | None) -> None:
    """A model with its weights in an external file; ``location`` rewritten (None: the file removed)."""
    path = folder / f"{name}.onnx"
    onnx.save(
        sr_model(channels=4),
        str(path),
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location=f"{name}.data",
        size_threshold=0,
    )
    if location is None:
        (folder / f"{name}.data").unlink()
        return
    model = onnx.load(str(path), load_external_data=False)
    for t in model.graph.initializer:
        for entry in t.external_data:
            if entry.key == "location":
                entry.value = location
    onnx.save(model, str(path))


class _Evil:
    def __reduce__(self):
        import os

        return os.system, ("touch /tmp/edgesr-pwned",)


def _models(d: Path) -> None:
    good = sr_model(scale=2, channels=4)
    save(good, d / "tiny.onnx")
    (d / "text.onnx").write_text("this is not a model\n")
    (d / "empty.onnx").write_bytes(b"")
    data = good.SerializeToString()
    (d / "truncated.onnx").write_bytes(data[: len(data) // 2])
    (d / "random.onnx").write_bytes(np.random.default_rng(0).bytes(4096))
    (d / "folder.onnx").mkdir()
    _external(d, "ext_missing", None)
    _external(d, "ext_traversal", "../../../etc/hostname")
    _external(d, "ext_absolute", "/etc/hostname")
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, "h", "w"])
    y2 = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])
    onnx.save(
        _graph_model([x], [y2], [helper.make_node("ReduceMean", ["input"], ["y"], axes=[2, 3], keepdims=0)]),
        str(d / "rank2.onnx"),
    )
    a = helper.make_tensor_value_info("a", TensorProto.FLOAT, [1, 3, 8, 8])
    b = helper.make_tensor_value_info("b", TensorProto.FLOAT, [1, 3, 8, 8])
    s = helper.make_tensor_value_info("s", TensorProto.FLOAT, [1, 3, 8, 8])
    onnx.save(_graph_model([a, b], [s], [helper.make_node("Add", ["a", "b"], ["s"])]), str(d / "two_inputs.onnx"))
    i = helper.make_tensor_value_info("i", TensorProto.INT64, [1, 3, 8, 8])
    io_ = helper.make_tensor_value_info("o", TensorProto.INT64, [1, 3, 8, 8])
    onnx.save(_graph_model([i], [io_], [helper.make_node("Identity", ["i"], ["o"])]), str(d / "int_input.onnx"))
    r3 = helper.make_tensor_value_info("r", TensorProto.FLOAT, [3, 8, 8])
    r3o = helper.make_tensor_value_info("q", TensorProto.FLOAT, [3, 8, 8])
    onnx.save(_graph_model([r3], [r3o], [helper.make_node("Identity", ["r"], ["q"])]), str(d / "rank3.onnx"))
    c5 = helper.make_tensor_value_info("c", TensorProto.FLOAT, [1, 5, 8, 8])
    c5o = helper.make_tensor_value_info("co", TensorProto.FLOAT, [1, 5, 8, 8])
    onnx.save(_graph_model([c5], [c5o], [helper.make_node("Identity", ["c"], ["co"])]), str(d / "five_ch.onnx"))
    (d / "garbage.engine").write_bytes(b"\x00" * 256)
    bad_meta = sr_model(scale=2, channels=4)
    next(p for p in bad_meta.metadata_props if p.key == "edgesr.scale").value = "two"
    save(bad_meta, d / "bad_meta.onnx")
    with (d / "evil.pth").open("wb") as f:
        pickle.dump({"state_dict": _Evil()}, f)
    (d / "notckpt.pth").write_text("not a checkpoint")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
    (d / "truncated.pth").write_bytes(buf.getvalue()[:40])


def _images(d: Path) -> None:
    from PIL import Image

    rgb = np.random.default_rng(1).integers(0, 255, (24, 32, 3), np.uint8)
    Image.fromarray(rgb).save(d / "ok.png")
    png = (d / "ok.png").read_bytes()
    (d / "truncated.png").write_bytes(png[: len(png) // 2])
    (d / "empty.png").write_bytes(b"")
    (d / "text.png").write_text("not an image")
    (d / "text.jpg").write_text("not an image")
    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 10, np.uint8)])
    Image.fromarray(rgba, "RGBA").save(d / "transparent.png")
    Image.fromarray(rgb[..., 0].astype(np.float32), "F").save(d / "float.tiff")
    Image.fromarray(np.zeros((400, 400, 3), np.uint8)).save(d / "big.png")
    folder = d / "one_corrupt"
    folder.mkdir()
    for k in range(3):
        Image.fromarray(rgb).save(folder / f"a{k}.png")
    (folder / "b_corrupt.png").write_bytes(png[:60])
    (d / "no_images").mkdir()
    (d / "text.mp4").write_text("not a video")
    (d / "empty.mp4").write_bytes(b"")
    (d / "random.avi").write_bytes(np.random.default_rng(2).bytes(8192))
    (d / "a_file").write_text("x")


TRT = tensorrt_double.VERSIONS["10.3"]  # what the TensorRT double of this machine reports


def _engines(d: Path) -> None:
    """x2 engines for an Orin Nano with TensorRT ``TRT``, their sidecars each wrong in one way."""
    good = dict(
        model="tiny",
        scale=2,
        onnx_sha256="ab" * 32,
        precision="fp16",
        kept_layers=(),
        input="1x3x8x8:1x3x32x32:4x3x64x64",
        device="orin-nano",
        compute_capability="8.7",
        tensorrt=TRT,
    )
    for name, change in (
        ("other_trt", {"tensorrt": tensorrt_double.VERSIONS["8.6"]}),
        ("other_device", {"device": "orin-agx"}),
        ("other_gpu", {"device": "xavier-nx", "compute_capability": "7.2"}),
        ("unbuilt", {"tensorrt": None}),
    ):
        path = d / f"{name}.engine"
        path.write_bytes(tensorrt_double.plan(TRT))
        sidecar_writer.write(path, Identity(**{**good, **change}), kind="engine")
    raw = json.dumps({"schema": 1, "identity": {**good, "kept_layers": []}})
    for name, text in (
        ("no_sidecar", None),
        ("text_sidecar", "built on Tuesday"),
        ("empty_sidecar", ""),
        ("list_sidecar", "[1, 2]"),
        ("schema_sidecar", raw.replace('"schema": 1', '"schema": 7')),
        ("partial_sidecar", json.dumps({"schema": 1, "identity": {"model": "tiny"}})),
        ("scale_sidecar", raw.replace('"scale": 2', '"scale": "two"')),
        ("input_sidecar", raw.replace('"1x3x8x8:', '"big:')),
        ("garbled", raw),
    ):
        path = d / f"{name}.engine"
        path.write_bytes(b"not an engine" if name == "garbled" else tensorrt_double.plan(TRT))
        if text is not None:
            sidecar_writer.path_for(path).write_text(text)
    sidecar_writer.path_for(d / "binary_sidecar.engine").write_bytes(b"\xff\xfe\x00\x01")
    (d / "binary_sidecar.engine").write_bytes(tensorrt_double.plan(TRT))


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("bad")
    _models(d)
    _images(d)
    _engines(d)
    return d


@pytest.fixture
def orin_nano(monkeypatch):
    """This machine as an Orin Nano with TensorRT ``TRT``, through the CUDA and TensorRT doubles."""
    gpu = FakeCudart(compute_capability=(8, 7))
    install(monkeypatch, gpu)
    monkeypatch.setattr(host, "jetson", lambda *a: devices.get("orin-nano"))
    monkeypatch.setitem(sys.modules, "tensorrt", tensorrt_double.make(TRT, cuda=gpu))


def _run(argv: list[str], files: Path, out: Path, capsys) -> tuple[int, list[str], str]:
    argv = [a.replace("{f}", str(files)).replace("{out}", str(out)) for a in argv]
    try:
        code = main(["-q", *argv])
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    return code, [line for line in err.splitlines() if line.strip()], err


def _check(case, files, tmp_path, capsys) -> None:
    argv, code, pattern = case
    out = tmp_path / "out"
    got, lines, err = _run(argv, files, out, capsys)
    assert "Traceback" not in err, err
    assert len(lines) == 1, err
    assert got == code, (got, err)
    assert re.search(pattern, lines[0]), lines[0]
    assert not out.exists() or not any(out.rglob("*")), sorted(out.rglob("*"))


M = ["--model", "{f}/tiny.onnx"]
UP = ["upscale", "{f}/ok.png", "-o", "{out}/o.png", *M]
ST = ["stream", "--source", "test://32x24?frames=2", "--sink", "null://", *M]

USAGE = [  # argparse: exit 2
    *[(UP + ["--threads", v], 2, "--threads: '.*' is not a whole number >= 1") for v in ("-1", "0", "abc", "1.5")],
    *[
        (UP + ["--tile", v], 2, "--tile: (.* is not HEIGHTxWIDTH|expected one argument)")
        for v in ("0x5", "5x0", "12", "axb", "-3x4", "1x2x3", "99999999x1", "", "x", "12x", "1e3x4")
    ],
    (UP + ["--tile-overlap", "-1"], 2, "--tile-overlap"),
    (UP + ["--batch", "0"], 2, "--batch"),
    (UP + ["--crf", "-1"], 2, "--crf"),
    (UP + ["--scale", "0"], 2, "--scale"),
    (UP + ["--memory-budget", "0"], 2, "--memory-budget"),
    (UP + ["--memory-budget", "-5"], 2, "--memory-budget"),
    (UP + ["--codec", "h265"], 2, "invalid choice"),
    (UP + ["--value-range", "7"], 2, "--value-range"),
    (UP + ["--bogus"], 2, "unrecognized arguments"),
    (["upscale", "{f}/ok.png"], 2, "required: -o"),
    *[
        (ST + [flag, v], 2, flag)
        for flag, v in (
            ("--reconnect-retries", "-1"),
            ("--stall-timeout", "-3"),
            ("--stall-timeout", "0"),
            ("--stall-timeout", "nan"),
            ("--stall-timeout", "inf"),
            ("--reconnect-delay", "-1"),
            ("--reconnect-max-delay", "-0.5"),
            ("--open-timeout", "0"),
            ("--fps", "0"),
            ("--fps", "-30"),
            ("--max-frames", "0"),
            ("--duration", "-1"),
            ("--queue", "0"),
            ("--telemetry-interval", "-1"),
            ("--stats-every", "-2"),
            ("--threads", "-1"),
        )
    ],
    (ST + ["--drop", "sometimes"], 2, "invalid choice"),
    (["stream", "--sink", "null://"], 2, "required: --source"),
    *[
        (["quantize", "{f}/tiny.onnx", "-o", "{out}/q.onnx", flag, v], 2, flag)
        for flag, v in (
            ("--max-drop", "-1"),
            ("--max-drop", "nan"),
            ("--max-drop", "x"),
            ("--count", "0"),
            ("--input-shape", "0x0"),
            ("--input-shape", "64"),
            ("--finetune", "-1"),
            ("--scale", "0"),
        )
    ],
    (["quantize", "{f}/tiny.onnx", "-o", "{out}/q.onnx", "--method", "magic"], 2, "invalid choice"),
    *[
        (["convert", "{f}/tiny.onnx", "-o", "{out}", "--input-shape", v], 2, "NxCxHxW")
        for v in ("1x3x180", "axbxcxd", "1x3x0x5", "1x3x-1x5", "", "1x3x180x320x1")
    ],
    (["convert", "{f}/tiny.onnx", "-o", "{out}", "--atol", "-1"], 2, "--atol"),
    (["convert", "{f}/tiny.onnx", "-o", "{out}", "--atol", "0"], 2, "--atol"),
    (["convert", "{f}/tiny.onnx"], 2, "required: -o"),
    *[
        (["bench", "{f}/tiny.onnx", "-o", "{out}", flag, v], 2, flag)
        for flag, v in (
            ("--shape", "0x1"),
            ("--shape", "big"),
            ("--warmup", "-1"),
            ("--threads", "0"),
            ("--telemetry-interval", "-1"),
        )
    ],
    *[(["eval", "bicubic", "--data", "{f}/one_corrupt", "--scale", v], 2, "--scale") for v in ("0", "-4", "x4")],
    *[
        (["build", "--device", "cpu", "-o", "{out}", flag, v], 2, flag)
        for flag, v in (
            ("--max-drop", "x"),
            ("--dla", "-1"),
            ("--workspace", "0"),
            ("--scale", "0"),
            ("--precision", "int4"),
        )
    ],
    (["build", "--device", "cpu", "--input-size", "8x8", "--input", "8x8"], 2, "not allowed with"),
    (["nope"], 2, "invalid choice"),
    (["--bogus"], 2, "unrecognized arguments"),
]

BUILD = [  # refused before any work: exit 1, nothing written
    (["build", "--device", "cpu", "-o", "{out}", "--input", "320x180"], 1, "write --input-size 180x320"),
    (
        ["build", "--device", "cpu", "-o", "{out}", "--input-range", "64x64:480x270"],
        1,
        "write --input-size-range 64x64:270x480",
    ),
    (["build", "--device", "cpu", "-o", "{out}", "--input", "100000x100000"], 1, "over the .* pixels.*--input-size"),
    (["build", "--device", "cpu", "-o", "{out}", "--input-size", "100000x100000"], 1, "smaller --input-size"),
    (["build", "--device", "cpu", "-o", "{out}", "--input-size", "0x5"], 1, "HEIGHTxWIDTH"),
    (["build", "--device", "cpu", "-o", "{out}", "--input-size", "180by320"], 1, "HEIGHTxWIDTH"),
    (["build", "--device", "cpu", "-o", "{out}", "--input-size-range", "64x64:1x1"], 1, "grow from MIN to MAX"),
    (["build", "--device", "cpu", "-o", "{out}", "--input-size-range", "64x64"], 1, "MIN:MAX"),
    (["build", "--device", "cpu", "-o", "{out}", "--max-drop", "-1"], 1, "--max-drop must be >= 0"),
    (["build", "--device", "cpu", "-o", "{out}", "--finetune", "-5"], 1, "--finetune"),
    (["build", "--device", "orim", "-o", "{out}"], 1, "did you mean 'orin'"),
    (["build", "-o", "{out}"], 1, "pass --device"),
    (["build", "--device", "cpu", "--precision", "fp16", "-o", "{out}"], 1, "no fast FP16"),
    (["build", "--device", "orin-nano", "--dla", "0", "-o", "{out}"], 1, "no DLA cores"),
    (
        ["build", "--device", "orin-agx", "--dla", "0", "--input-size-range", "64x64:270x480", "-o", "{out}"],
        1,
        "--input-size HxW",
    ),
    (["build", "--device", "cpu", "--model", "nope", "-o", "{out}"], 1, "no shipped model named 'nope'"),
    (["build", "--device", "cpu", "--onnx", "{f}/missing.onnx", "-o", "{out}"], 1, "does not exist"),
    (["build", "--device", "cpu", "--arch", "rfdn", "-o", "{out}"], 1, "--arch goes with --weights"),
    (["build", "--device", "cpu", "-o", "{f}/a_file"], 1, "not a directory"),
    (["build", "--device", "cpu", "-o", UNWRITABLE], 1, "writable -o"),
]

MODELS = [  # convert of bad ONNX files: exit 1
    *[
        (["convert", f"{{f}}/{name}", "-o", "{out}"], 1, pattern)
        for name, pattern in (
            ("text.onnx", "not an ONNX model"),
            ("empty.onnx", "is empty"),
            ("truncated.onnx", "not an ONNX model"),
            ("random.onnx", "not an ONNX model|not a valid ONNX"),
            ("folder.onnx", "is not a file"),
            ("missing.onnx", "does not exist"),
            ("ext_missing.onnx", "external weights"),
            ("ext_traversal.onnx", "outside the directory"),
            ("ext_absolute.onnx", "absolute path"),
            ("rank2.onnx", "rank 2 .*pass a super-resolution model"),
            ("two_inputs.onnx", "exactly one image input"),
            ("int_input.onnx", "not a float32/float16"),
            ("rank3.onnx", "rank 3"),
            ("five_ch.onnx", "5 channels"),
            ("ok.png", "not an ONNX model|not a valid ONNX"),
        )
    ],
    (["convert", "{f}/tiny.onnx", "-o", "{out}", "--target", "nope"], 1, "unknown device|did you mean"),
    (["convert", "{f}/tiny.onnx", "-o", "{f}/a_file"], 1, "not a directory"),
    (["convert", "{f}/tiny.onnx", "-o", UNWRITABLE], 1, "writable -o"),
    (["convert", "{f}/tiny.onnx", "-o", "{out}", "--input-shape", "1x5x8x8"], 1, "conflicts with the model's fixed"),
    (["convert", "{f}/tiny.onnx", "-o", "{out}", "--images", "{f}/no_images"], 1, "no image"),
    *[
        (["quantize", f"{{f}}/{name}", "-o", "{out}/q.onnx"], 1, pattern)
        for name, pattern in (
            ("text.onnx", "not an ONNX model"),
            ("truncated.onnx", "not an ONNX model"),
            ("missing.onnx", "does not exist"),
            ("ext_traversal.onnx", "outside the directory"),
            ("rank2.onnx", "rank 2"),
        )
    ],
    (
        ["validate", "{f}/tiny.onnx", "{f}/text.onnx", "--data", "{f}/one_corrupt", "--out", "{out}"],
        1,
        "not an ONNX model",
    ),
    (
        ["upscale", "{f}/ok.png", "-o", "{out}/o.png", "--model", "{f}/rank2.onnx"],
        1,
        "rank 2 .*super-resolution model|not an image-to-image model",
    ),
    (["upscale", "{f}/ok.png", "-o", "{out}/o.png", "--model", "{f}/text.onnx"], 1, "not an ONNX model|cannot"),
    (["upscale", "{f}/ok.png", "-o", "{out}/o.png", "--model", "{f}/missing.onnx"], 1, "does not exist|no such"),
    (
        ["upscale", "{f}/ok.png", "-o", "{out}/o.png", "--model", "{f}/garbage.engine"],
        1,
        "has no sidecar garbage.engine.json",
    ),
    (
        ["upscale", "{f}/ok.png", "-o", "{out}/o.png", "--model", "{f}/bad_meta.onnx"],
        1,
        "bad_meta.onnx records edgesr metadata that does not parse",
    ),
    (["bench", "{f}/text.onnx", "-o", "{out}"], 1, "not an ONNX model|cannot"),
    (["bench", "{f}/tiny.onnx", "-o", "{out}", "--repeat", "0"], 1, "--repeat must be at least 1"),
]

IMAGES = [  # upscale of bad images and outputs: exit 1
    *[
        (["upscale", f"{{f}}/{name}", "-o", "{out}/o.png", *M], 1, pattern)
        for name, pattern in (
            ("truncated.png", "cannot decode image"),
            ("empty.png", "cannot decode image|empty"),
            ("text.png", "cannot decode image"),
            ("text.jpg", "cannot decode image"),
            ("transparent.png", "transparent pixels"),
            ("float.tiff", "floating-point samples"),
            ("missing.png", "does not exist"),
        )
    ],
    (["upscale", "{f}/one_corrupt", "-o", "{out}/imgs", *M], 1, "cannot decode image"),
    (["upscale", "{f}/no_images", "-o", "{out}/imgs", *M], 1, "no image"),
    (
        ["upscale", "{f}/big.png", "-o", "{out}/o.png", *M, "--memory-budget", "1"],
        1,
        "over the 1 MB memory budget; raise --memory-budget",
    ),
    (["upscale", "{f}/ok.png", "-o", UNWRITABLE + "/o.png", *M], 1, "writable -o"),
    (["upscale", "{f}/ok.png", "-o", "{f}/a_file/o.png", *M], 1, "not a directory|writable -o"),
    (["upscale", "{f}/ok.png", "-o", "{f}/ok.png", *M], 1, "overwrite the input"),
    (["upscale", "{f}/ok.png", "-o", "{out}/o.xyz", *M], 1, "cannot tell what to write"),
    (["upscale", "{f}/ok.png", "-o", "{out}/o.png", *M, "--tile", "16x16", "--tile-overlap", "16"], 1, "overlap"),
    (["upscale", "{f}/ok.png", "-o", "{out}/imgs", *M, "--image-format", "gif"], 1, "cannot write images as"),
    (["upscale", "{f}/ok.png", "-o", "{out}/o.png", *M, "--resume"], 1, "--resume continues image files"),
    *[
        (["upscale", f"{{f}}/{name}", "-o", "{out}/o.mp4", *M], 1, "cannot|not a video|no video|decode|open")
        for name in ("text.mp4", "empty.mp4", "random.avi")
    ],
    (["upscale", "test://32x24?fps=30", "-o", "{out}/o.mp4", *M], 1, "live source; use .edgesr stream"),
]

URIS = [  # stream sources and sinks: exit 1
    *[
        (["stream", "--source", src, "--sink", "null://", *M, "--open-timeout", "1"], 1, pattern)
        for src, pattern in (
            ("ftp://example.com/x", "ftp"),
            ("test://0x0", "positive|size"),
            ("test://axb", "WIDTHxHEIGHT"),
            ("test://32x24?fps=abc", "fps"),
            ("test://32x24?bogus=1", "bogus"),
            ("csi://abc", "csi"),
            ("v4l2:///dev/edgesr-no-such-camera", "camera|video|v4l2"),
            ("{f}/missing.mp4", "does not exist"),
            ("{f}/a_file", "cannot tell what"),
            ("rtsp://127.0.0.1:1/none", "cannot open stream"),
            ("http://", "http"),
            ("://x", "URI|scheme|cannot"),
        )
    ],
    *[
        (["stream", "--source", "test://32x24?frames=2", "--sink", sink, *M], 1, pattern)
        for sink, pattern in (
            (UNWRITABLE + "/s.mp4", "writable --sink"),
            (UNWRITABLE + "/frames", "writable --sink"),
            ("{f}/a_file/s.mp4", "--sink"),
            ("ftp://x/y", "unknown scheme"),
            ("null://x?bad=1", "bad"),
            ("file://{out}/s.mp4?codec=h265", "unknown codec"),
            ("file://{out}/s.mp4?fps=x", "option fps=.x. is not"),
            ("{out}/s.xyz", "cannot tell what"),
            ("file://{out}/frames?format=xyz", "cannot write images as"),
        )
    ],
]

CASES = USAGE + BUILD + MODELS + IMAGES + URIS

REBUILD = "rebuild the artifact with 'edgesr build'"
ENGINES = [  # engines and their sidecars on an Orin Nano with TensorRT TRT: exit 1, refused before deserialising
    *[
        (["upscale", "{f}/ok.png", "-o", "{out}/o.png", "--model", f"{{f}}/{name}.engine"], 1, pattern)
        for name, pattern in (
            ("other_trt", f"built with TensorRT 8.6.2.3, this machine has {TRT}; .*edgesr build --device orin-nano"),
            ("other_device", "built for orin-agx, this machine is orin-nano; .*edgesr build --device orin-nano"),
            ("other_gpu", "compute capability 7.2 .xavier-nx., this GPU is 8.7; .*edgesr build --device orin-nano"),
            ("unbuilt", "never built by TensorRT .a bundle.; .*edgesr build --device orin-nano"),
            ("no_sidecar", "has no sidecar no_sidecar.engine.json; copy the sidecar beside it or rebuild"),
            ("text_sidecar", f"text_sidecar.engine.json is unreadable .*; {REBUILD}"),
            ("empty_sidecar", f"empty_sidecar.engine.json is unreadable .*; {REBUILD}"),
            ("binary_sidecar", f"binary_sidecar.engine.json is unreadable .*; {REBUILD}"),
            ("list_sidecar", f"unknown format; {REBUILD}"),
            ("schema_sidecar", f"unknown format; {REBUILD}"),
            ("partial_sidecar", f"lacks scale, precision, input, device, compute_capability, tensorrt; {REBUILD}"),
            ("scale_sidecar", f"records scale 'two', not a whole number >= 1; {REBUILD}"),
            ("input_sidecar", f"records input 'big:.*', not NxCxHxW or MIN:OPT:MAX shapes; {REBUILD}"),
            ("garbled", "could not deserialise garbled.engine .*edgesr build --device orin-nano"),
        )
    ],
    (
        ["stream", "--source", "test://32x24?frames=2", "--sink", "{out}/s.mp4", "--model", "{f}/other_trt.engine"],
        1,
        "built with TensorRT 8.6.2.3",
    ),
    (["bench", "{f}/other_device.engine", "-o", "{out}"], 1, "built for orin-agx, this machine is orin-nano"),
]


@pytest.mark.parametrize("case", CASES, ids=[" ".join(c[0])[:90] for c in CASES])
def test_bad_input_is_one_line(case, files, tmp_path, capsys):
    _check(case, files, tmp_path, capsys)


def test_count_of_cases():
    assert len(CASES) >= 150


@pytest.mark.parametrize("case", ENGINES, ids=[" ".join(c[0])[:90] for c in ENGINES])
def test_bad_engine_is_one_line(case, files, orin_nano, tmp_path, capsys):
    _check(case, files, tmp_path, capsys)


@pytest.mark.parametrize("name", ["evil.pth", "notckpt.pth", "truncated.pth"])
def test_bad_checkpoints(name, files, tmp_path, capsys):
    pytest.importorskip("torch")
    marker = Path("/tmp/edgesr-pwned")
    marker.unlink(missing_ok=True)
    _check(
        (["export", "rfdn", "--weights", f"{{f}}/{name}", "-o", "{out}/m.onnx"], 1, "checkpoint|weights|pickle|cannot"),
        files,
        tmp_path,
        capsys,
    )
    assert not marker.exists()


@pytest.mark.parametrize(
    "command",
    [["export", "rfdn", "--weights", "{ckpt}", "-o", "{out}/m.onnx"], ["train", "--resume", "{ckpt}"]],
    ids=["export", "train"],
)
@pytest.mark.parametrize("protocol", [2, 5, "torch.save"])
def test_malicious_checkpoint_is_one_line_outside_pytest(command, protocol, tmp_path):
    """Run as a user runs it, where pytest's warning capture does not hide PyTorch's own warnings."""
    torch = pytest.importorskip("torch")
    ckpt, out, marker = tmp_path / "evil.pth", tmp_path / "out", Path("/tmp/edgesr-pwned")
    marker.unlink(missing_ok=True)
    if protocol == "torch.save":
        torch.save({"state_dict": _Evil()}, ckpt)
    else:
        ckpt.write_bytes(pickle.dumps({"state_dict": _Evil()}, protocol=protocol))
    argv = [a.replace("{ckpt}", str(ckpt)).replace("{out}", str(out)) for a in command]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
    proc = subprocess.run([sys.executable, "-m", "edgesr", *argv], capture_output=True, text=True, env=env, timeout=120)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 1 and len(lines) == 1, proc.stderr
    assert re.search(
        r"holds Python objects, not just tensors \(GLOBAL posix\.system\); edgesr loads weights "
        r"without running pickled code",
        lines[0],
    ), lines[0]
    assert not marker.exists() and not out.exists()


def test_concurrent_build_is_refused(files, tmp_path, capsys):
    out = tmp_path / "engines"
    with lock.locked(out / "cpu" / ".work" / "tiny"):
        got, lines, err = _run(
            ["build", "--device", "cpu", "--onnx", "{f}/tiny.onnx", "--precision", "fp32", "-o", str(out)],
            files,
            tmp_path / "unused",
            capsys,
        )
    assert got == 1 and len(lines) == 1 and "another edgesr process" in lines[0], err
    assert not any(p.name != lock.LOCK_NAME for p in out.rglob("*") if p.is_file())


def test_refused_folder_leaves_no_output(files, tmp_path, capsys):
    out = tmp_path / "imgs"
    got, lines, err = _run(["upscale", "{f}/one_corrupt", "-o", str(out), *M, "--no-progress"], files, out, capsys)
    assert got == 1 and len(lines) == 1 and not out.exists(), err


def test_huge_declared_input_converts_bounded(tmp_path, capsys):
    import time

    src = save(sr_model(channels=4, dims=(1, 3, 100000, 100000)), tmp_path / "huge.onnx")
    start = time.process_time()  # CPU time: the bound holds however busy the machine is
    assert main(["-q", "convert", str(src), "-o", str(tmp_path / "out")]) == 0
    assert time.process_time() - start < 10
    report = json.loads((tmp_path / "out" / "huge.convert.json").read_text())
    assert report["parity"]["input_shapes"] == ["1x3x256x256"] and "bounded" in report["parity"]["bounded"]
    assert "parity ran at 256x256" in capsys.readouterr().out
