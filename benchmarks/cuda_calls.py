"""CPU cost per frame of the CUDA calls around one TensorRT execution: edgesr's against Polygraphy's.

    python benchmarks/cuda_calls.py [--stub] [--input 1x3x64x64] [--scale 4] [--frames 200] [--rounds 15]

Per frame the TensorRT runner stages the input in pinned memory, queues its copy to the device,
queues the output's copy back and synchronises the stream. Three ways of making those calls are
timed, interleaved so that machine noise hits them alike, on the same pinned and device buffers:

- edgesr: ``StagedBuffer.upload`` / ``download`` and ``Cuda.synchronize`` (typed ctypes calls);
- polygraphy arrays: ``DeviceArray.copy_from`` / ``copy_to`` and ``Stream.synchronize``;
- polygraphy memcpy: ``wrapper().memcpy`` and ``Stream.synchronize``.

Polygraphy's calls run inside ``Cuda.calls``, as the runner would have to run them: its logger
prints a failure's bare status number, which edgesr replaces with an actionable error.
With --stub, a libcudart whose every call returns at once is compiled (needs a C compiler) and
loaded instead of the real one, so only the callers' own CPU time is measured: the copies
themselves are the same driver calls in all three ways.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from edgesr.onnx.loading import parse_shape
from edgesr.runtime.cuda import Cuda, StagedBuffer
from edgesr.timing import interleaved

STUB = """
#include <stdlib.h>
int cudaGetDevice(int *d) { *d = 0; return 0; }
int cudaDeviceGetAttribute(int *v, int attr, int dev) { *v = attr == 75 ? 8 : 7; return 0; }
const char *cudaGetErrorString(int s) { return "stub"; }
int cudaGetLastError(void) { return 0; }
int cudaMalloc(void **p, size_t n) { *p = malloc(n ? n : 1); return 0; }
int cudaFree(void *p) { free(p); return 0; }
int cudaMallocHost(void **p, size_t n) { *p = malloc(n ? n : 1); return 0; }
int cudaFreeHost(void *p) { free(p); return 0; }
static int stream;
int cudaStreamCreate(void **s) { *s = &stream; return 0; }
int cudaStreamDestroy(void *s) { return 0; }
int cudaStreamSynchronize(void *s) { return 0; }
int cudaMemcpyAsync(void *d, const void *s, size_t n, int k, void *st) { return 0; }
int cudaMemcpy(void *d, const void *s, size_t n, int k) { return 0; }
"""


def use_stub(folder: Path) -> None:
    """Compile the no-op libcudart into ``folder`` and put it first on Polygraphy's search path."""
    (folder / "stub.c").write_text(STUB)
    subprocess.run(
        ["cc", "-O2", "-shared", "-fPIC", "-o", str(folder / "libcudart.so"), str(folder / "stub.c")], check=True
    )
    os.environ["LD_LIBRARY_PATH"] = f"{folder}{os.pathsep}{os.environ.get('LD_LIBRARY_PATH', '')}"


def frame_calls(cuda: Cuda, shape: tuple[int, ...], scale: int, frames: int) -> dict:
    """The three ways, each a call that runs ``frames`` frames."""
    pg = cuda.polygraphy
    out_shape = (shape[0], shape[1], shape[2] * scale, shape[3] * scale)
    x = np.random.default_rng(0).random(shape, dtype=np.float32)
    inp, out = StagedBuffer(cuda, np.float32), StagedBuffer(cuda, np.float32)
    inp.resize(shape)
    out.resize(out_shape)
    staged_in, staged_out = inp.staging(), out.staging()
    stream = cuda.create_stream()

    def edgesr():
        for _ in range(frames):
            inp.upload(x, stream)
            out.download(stream)
            cuda.synchronize(stream)

    def polygraphy_arrays():
        for _ in range(frames):
            np.copyto(staged_in, x)
            with cuda.calls("cudaMemcpyAsync"):
                inp.device.copy_from(staged_in, stream)
            with cuda.calls("cudaMemcpyAsync"):
                out.device.copy_to(staged_out, stream)
            with cuda.calls("cudaStreamSynchronize"):
                stream.synchronize()

    def polygraphy_memcpy():
        wrapper = pg.wrapper()
        for _ in range(frames):
            np.copyto(staged_in, x)
            with cuda.calls("cudaMemcpyAsync"):
                wrapper.memcpy(
                    inp.device.ptr, staged_in.ctypes.data, staged_in.nbytes, pg.MemcpyKind.HostToDevice, stream.ptr
                )
            with cuda.calls("cudaMemcpyAsync"):
                wrapper.memcpy(
                    staged_out.ctypes.data, out.device.ptr, staged_out.nbytes, pg.MemcpyKind.DeviceToHost, stream.ptr
                )
            with cuda.calls("cudaStreamSynchronize"):
                stream.synchronize()

    return {"edgesr": edgesr, "polygraphy arrays": polygraphy_arrays, "polygraphy memcpy": polygraphy_memcpy}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stub", action="store_true", help="time against a no-op libcudart (no GPU needed)")
    ap.add_argument("--input", default="1x3x64x64", help="input shape N x C x H x W (default 1x3x64x64)")
    ap.add_argument("--scale", type=int, default=4)
    ap.add_argument("--frames", type=int, default=200, help="frames per timed call")
    ap.add_argument("--rounds", type=int, default=15)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.stub:
            use_stub(Path(tmp))
        cuda = Cuda()
        calls = frame_calls(cuda, parse_shape(args.input), args.scale, args.frames)
        samples = interleaved(calls, rounds=args.rounds, warmup=2)
    per_frame = {name: 1e6 * statistics.median(s) / args.frames for name, s in samples.items()}
    library = "no-op libcudart" if args.stub else "libcudart"
    print(f"input {args.input}, x{args.scale}, {library}: median CPU time per frame over {args.rounds} rounds")
    for name, us in per_frame.items():
        print(f"  {name:18} {us:7.1f} us  ({us / per_frame['edgesr']:.2f}x edgesr)")


if __name__ == "__main__":
    main()
