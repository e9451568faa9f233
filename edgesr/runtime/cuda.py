"""CUDA for TensorRT inference: Polygraphy's ``polygraphy.cuda``, and what it lacks.

Polygraphy (a core dependency) finds and loads ``libcudart``, so the runner and Polygraphy's INT8
calibrator share one CUDA runtime in a process, and it creates and frees the stream and the
device arrays. edgesr adds, over the same library:

- pinned (page-locked) host buffers, which copies need to be asynchronous: Polygraphy copies
  from pageable arrays, which the driver first stages through a buffer of its own;
- the per-frame calls (two copies and a synchronisation) made directly: through Polygraphy's
  checked copies and logger they cost several times as much CPU per frame;
- the GPU's compute capability, checked against an engine's sidecar before deserialisation;
- failures a user can act on (out of memory, an old driver, no GPU) as one-line errors, where
  Polygraphy prints the bare status number and raises.

docs/dependencies.md gives the reasons and the measurement. Nothing here is loaded until a
TensorRT runner activates.
"""

from __future__ import annotations

import contextlib
import ctypes
from collections.abc import Iterator
from ctypes import POINTER, c_char_p, c_int, c_size_t, c_void_p
from types import SimpleNamespace

import numpy as np

from edgesr.errors import DependencyError, DeviceError
from edgesr.lazy import require

HOST_TO_DEVICE = 1  # cudaMemcpyKind
DEVICE_TO_HOST = 2
_COMPUTE_CAPABILITY_MAJOR = 75  # cudaDeviceAttr
_COMPUTE_CAPABILITY_MINOR = 76

# The calls edgesr makes itself. Each gets its C signature before use, so 64-bit pointers are
# never truncated to ``int``.
_SIGNATURES = {
    "cudaGetErrorString": (c_char_p, [c_int]),
    "cudaGetLastError": (c_int, []),
    "cudaGetDevice": (c_int, [POINTER(c_int)]),
    "cudaDeviceGetAttribute": (c_int, [POINTER(c_int), c_int, c_int]),
    "cudaMallocHost": (c_int, [POINTER(c_void_p), c_size_t]),
    "cudaFreeHost": (c_int, [c_void_p]),
    "cudaStreamSynchronize": (c_int, [c_void_p]),
    "cudaMemcpyAsync": (c_int, [c_void_p, c_void_p, c_size_t, c_int, c_void_p]),
}

# Errors a user can act on; any other status is a bug and keeps its traceback.
_USER_ERRORS = {
    2: "out of GPU memory: close other GPU programs, or use an engine built for smaller inputs "
    "(edgesr build --input or --input-range)",
    35: "the NVIDIA driver is older than this CUDA runtime: update JetPack or the driver",
    100: "no CUDA GPU is visible to this process",
}


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence Polygraphy's logger, whose CUDA messages go to stdout and stderr: edgesr says what to do itself."""
    logger = require("polygraphy.logger").G_LOGGER
    with logger.verbosity(logger.CRITICAL + 1):
        yield


def open_library() -> ctypes.CDLL:
    """The ``libcudart`` Polygraphy loads, or :class:`DependencyError` saying where it comes from."""
    polygraphy_cuda = require("polygraphy.cuda")
    try:
        with _quiet():
            return polygraphy_cuda.wrapper().handle
    except OSError:
        raise DependencyError(
            "the CUDA runtime library (libcudart) is not on this machine's loader path; on a "
            "Jetson it comes with JetPack (add /usr/local/cuda/lib64 to LD_LIBRARY_PATH), on x86 "
            "with the CUDA toolkit or NVIDIA's TensorRT wheels"
        ) from None


class Cuda:
    """Polygraphy's CUDA streams and device arrays, with pinned host memory, the per-frame calls,
    the compute capability and actionable errors over the same ``libcudart``."""

    def __init__(self):
        lib = open_library()
        self.polygraphy = require("polygraphy.cuda")
        self._exception = require("polygraphy.exception").PolygraphyException
        # Function pointers of edgesr's own (``lib[name]`` makes a new one): the ones Polygraphy
        # calls, cached as attributes of the shared library, keep their untyped defaults.
        self.fn = SimpleNamespace()
        for name, (restype, argtypes) in _SIGNATURES.items():
            fn = lib[name]
            fn.restype, fn.argtypes = restype, argtypes
            setattr(self.fn, name, fn)

    def check(self, status: int, call: str) -> None:
        if status == 0:
            return
        text = (self.fn.cudaGetErrorString(status) or b"unknown error").decode(errors="replace")
        if status in _USER_ERRORS:
            raise DeviceError(f"CUDA {call} failed ({text}): {_USER_ERRORS[status]}")
        raise RuntimeError(f"CUDA {call} failed with error {status}: {text}")

    @contextlib.contextmanager
    def calls(self, call: str) -> Iterator[None]:
        """Run Polygraphy CUDA calls; a failure is reported as :meth:`check` reports the status it left.

        Polygraphy's exception carries only a message, so the status comes from ``cudaGetLastError``,
        which holds the last failure of a runtime call in this thread.
        """
        try:
            with _quiet():
                yield
        except self._exception:
            self.check(self.fn.cudaGetLastError(), call)
            raise

    def compute_capability(self) -> str:
        """The current GPU's compute capability, ``"8.7"`` on Orin."""
        device, major, minor = c_int(), c_int(), c_int()
        self.check(self.fn.cudaGetDevice(ctypes.byref(device)), "cudaGetDevice")
        self.check(
            self.fn.cudaDeviceGetAttribute(ctypes.byref(major), _COMPUTE_CAPABILITY_MAJOR, device),
            "cudaDeviceGetAttribute",
        )
        self.check(
            self.fn.cudaDeviceGetAttribute(ctypes.byref(minor), _COMPUTE_CAPABILITY_MINOR, device),
            "cudaDeviceGetAttribute",
        )
        return f"{major.value}.{minor.value}"

    def malloc_host(self, nbytes: int) -> int:
        """Page-locked host memory: copies from it run asynchronously, at full bus speed."""
        ptr = c_void_p()
        self.check(self.fn.cudaMallocHost(ctypes.byref(ptr), nbytes), f"cudaMallocHost of {nbytes / 1e6:.1f} MB")
        return ptr.value

    def free_host(self, ptr: int) -> None:
        self.check(self.fn.cudaFreeHost(ptr), "cudaFreeHost")

    def create_stream(self):
        """A Polygraphy ``Stream``; its ``ptr`` is the ``cudaStream_t`` TensorRT enqueues on."""
        with self.calls("cudaStreamCreate"):
            return self.polygraphy.Stream()

    def copy_async(self, dst: int, src: int, nbytes: int, kind: int, stream) -> None:
        self.check(self.fn.cudaMemcpyAsync(dst, src, nbytes, kind, stream.ptr), "cudaMemcpyAsync")

    def synchronize(self, stream) -> None:
        self.check(self.fn.cudaStreamSynchronize(stream.ptr), "cudaStreamSynchronize")

    def destroy_stream(self, stream) -> None:
        with self.calls("cudaStreamDestroy"):
            stream.free()


class StagedBuffer:
    """One I/O tensor's Polygraphy ``DeviceArray``, and a pinned host buffer its copies go through.

    Empty until :meth:`resize`; both halves grow only when a shape would not fit, so steady-state
    inference allocates nothing.
    """

    def __init__(self, cuda: Cuda, dtype: np.dtype):
        self.cuda = cuda
        self.dtype = np.dtype(dtype)
        self.device = cuda.polygraphy.DeviceArray(shape=(0,), dtype=self.dtype)  # shape (0,) allocates nothing
        self._host_ptr = 0
        self._host = np.empty(0, np.uint8)

    @property
    def nbytes(self) -> int:
        """The device array's capacity in bytes."""
        return self.device.allocated_nbytes

    def resize(self, shape: tuple[int, ...]) -> bool:
        """Shape the buffer for a tensor of ``shape``; True when its device address moved (bind it again)."""
        before = self.device.ptr
        nbytes = int(np.prod(shape)) * self.dtype.itemsize
        with self.cuda.calls(f"cudaMalloc of {nbytes / 1e6:.1f} MB"):
            self.device.resize(tuple(shape))
        if nbytes > self._host.nbytes:
            self._free_host()
            self._host_ptr = self.cuda.malloc_host(nbytes)
            self._host = np.frombuffer((ctypes.c_uint8 * nbytes).from_address(self._host_ptr), np.uint8)
        return self.device.ptr != before

    def staging(self) -> np.ndarray:
        """The pinned host buffer as an array of the device array's shape and dtype."""
        shape = self.device.shape
        return self._host[: int(np.prod(shape)) * self.dtype.itemsize].view(self.dtype).reshape(shape)

    def upload(self, array: np.ndarray, stream) -> None:
        """Stage ``array`` in pinned memory, converting it to the tensor's dtype in the same pass, and
        queue its copy to the device on ``stream``."""
        staged = self.staging()
        np.copyto(staged, array, casting="same_kind")
        self.cuda.copy_async(self.device.ptr, staged.ctypes.data, staged.nbytes, HOST_TO_DEVICE, stream)

    def download(self, stream) -> np.ndarray:
        """Queue the copy of the device array into pinned memory on ``stream``; the returned view holds it
        once the stream is synchronised, until the next download."""
        host = self.staging()
        self.cuda.copy_async(host.ctypes.data, self.device.ptr, host.nbytes, DEVICE_TO_HOST, stream)
        return host

    def _free_host(self) -> None:
        self._host = np.empty(0, np.uint8)
        if self._host_ptr:
            self.cuda.free_host(self._host_ptr)
            self._host_ptr = 0

    def free(self) -> None:
        """Release both halves; safe to call twice."""
        self._free_host()
        if self.device.ptr:
            with self.cuda.calls("cudaFree"):
                self.device.free()
