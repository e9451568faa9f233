"""The few CUDA runtime calls TensorRT inference needs, over ``libcudart`` through ctypes.

A small wrapper in the manner of Polygraphy's ``polygraphy/cuda/cuda.py``: no extra package
(cuda-python, PyCUDA) to install on a Jetson, where ``libcudart`` comes with JetPack. Every
function gets its C signature before use, so 64-bit pointers are never truncated to ``int``.
Nothing here is loaded until a TensorRT runner activates.
"""

from __future__ import annotations

import ctypes
import glob
import importlib.util
import os
from ctypes import POINTER, c_char_p, c_int, c_size_t, c_void_p

import numpy as np

from edgesr.errors import DependencyError, DeviceError

# The dynamic loader's own search first (LD_LIBRARY_PATH, ld.so.cache: JetPack registers CUDA
# there), newest major first; then the usual install folders.
LIBRARY_NAMES = ("libcudart.so", "libcudart.so.13", "libcudart.so.12", "libcudart.so.11.0")
LIBRARY_DIRS = ("/usr/local/cuda/lib64", "/usr/local/cuda/targets/aarch64-linux/lib",
                "/usr/local/cuda/targets/x86_64-linux/lib")

HOST_TO_DEVICE = 1  # cudaMemcpyKind
DEVICE_TO_HOST = 2
_COMPUTE_CAPABILITY_MAJOR = 75  # cudaDeviceAttr
_COMPUTE_CAPABILITY_MINOR = 76

_SIGNATURES = {
    "cudaGetErrorString": (c_char_p, [c_int]),
    "cudaGetDevice": (c_int, [POINTER(c_int)]),
    "cudaDeviceGetAttribute": (c_int, [POINTER(c_int), c_int, c_int]),
    "cudaMalloc": (c_int, [POINTER(c_void_p), c_size_t]),
    "cudaFree": (c_int, [c_void_p]),
    "cudaMallocHost": (c_int, [POINTER(c_void_p), c_size_t]),
    "cudaFreeHost": (c_int, [c_void_p]),
    "cudaStreamCreate": (c_int, [POINTER(c_void_p)]),
    "cudaStreamDestroy": (c_int, [c_void_p]),
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


def _search_dirs() -> list[str]:
    dirs = list(LIBRARY_DIRS)
    # The CUDA runtime wheel that NVIDIA's TensorRT wheels depend on on x86.
    spec = importlib.util.find_spec("nvidia.cuda_runtime") if importlib.util.find_spec("nvidia") else None
    if spec is not None and spec.submodule_search_locations:
        dirs += [os.path.join(p, "lib") for p in spec.submodule_search_locations]
    return dirs


def open_library() -> ctypes.CDLL:
    """``libcudart``, or :class:`DependencyError` saying where it comes from."""
    candidates = list(LIBRARY_NAMES)
    for d in _search_dirs():
        candidates += sorted(glob.glob(os.path.join(d, "libcudart.so*")), reverse=True)
    for candidate in candidates:
        try:
            return ctypes.CDLL(candidate)
        except OSError:
            continue
    raise DependencyError("the CUDA runtime library (libcudart) is not on this machine's loader path; on a Jetson "
                          "it comes with JetPack (add /usr/local/cuda/lib64 to LD_LIBRARY_PATH), on x86 with the "
                          "CUDA toolkit or NVIDIA's TensorRT wheels")


class Cuda:
    """Device memory, pinned host memory, streams and asynchronous copies.

    ``lib`` is ``libcudart`` (or a stand-in with the same C functions); None opens the real one.
    """

    def __init__(self, lib=None):
        self.lib = lib if lib is not None else open_library()
        for name, (restype, argtypes) in _SIGNATURES.items():
            fn = getattr(self.lib, name)
            fn.restype, fn.argtypes = restype, argtypes

    def check(self, status: int, call: str) -> None:
        if status == 0:
            return
        text = (self.lib.cudaGetErrorString(status) or b"unknown error").decode(errors="replace")
        if status in _USER_ERRORS:
            raise DeviceError(f"CUDA {call} failed ({text}): {_USER_ERRORS[status]}")
        raise RuntimeError(f"CUDA {call} failed with error {status}: {text}")

    def compute_capability(self) -> str:
        """The current GPU's compute capability, ``"8.7"`` on Orin."""
        device, major, minor = c_int(), c_int(), c_int()
        self.check(self.lib.cudaGetDevice(ctypes.byref(device)), "cudaGetDevice")
        self.check(self.lib.cudaDeviceGetAttribute(ctypes.byref(major), _COMPUTE_CAPABILITY_MAJOR, device),
                   "cudaDeviceGetAttribute")
        self.check(self.lib.cudaDeviceGetAttribute(ctypes.byref(minor), _COMPUTE_CAPABILITY_MINOR, device),
                   "cudaDeviceGetAttribute")
        return f"{major.value}.{minor.value}"

    def malloc(self, nbytes: int) -> int:
        ptr = c_void_p()
        self.check(self.lib.cudaMalloc(ctypes.byref(ptr), nbytes), f"cudaMalloc of {nbytes / 1e6:.1f} MB")
        return ptr.value

    def free(self, ptr: int) -> None:
        self.check(self.lib.cudaFree(ptr), "cudaFree")

    def malloc_host(self, nbytes: int) -> int:
        """Page-locked host memory: copies from it run asynchronously, at full bus speed."""
        ptr = c_void_p()
        self.check(self.lib.cudaMallocHost(ctypes.byref(ptr), nbytes), f"cudaMallocHost of {nbytes / 1e6:.1f} MB")
        return ptr.value

    def free_host(self, ptr: int) -> None:
        self.check(self.lib.cudaFreeHost(ptr), "cudaFreeHost")

    def create_stream(self) -> int:
        stream = c_void_p()
        self.check(self.lib.cudaStreamCreate(ctypes.byref(stream)), "cudaStreamCreate")
        return stream.value

    def destroy_stream(self, stream: int) -> None:
        self.check(self.lib.cudaStreamDestroy(stream), "cudaStreamDestroy")

    def synchronize(self, stream: int) -> None:
        self.check(self.lib.cudaStreamSynchronize(stream), "cudaStreamSynchronize")

    def copy_async(self, dst: int, src: int, nbytes: int, kind: int, stream: int) -> None:
        self.check(self.lib.cudaMemcpyAsync(dst, src, nbytes, kind, stream), "cudaMemcpyAsync")


class StagedBuffer:
    """A device buffer and a pinned host buffer of the same capacity, for one I/O tensor.

    Empty until :meth:`ensure` sizes it for the largest tensor expected; it reallocates only when
    a tensor would not fit, so steady-state inference allocates nothing.
    """

    def __init__(self, cuda: Cuda):
        self.cuda = cuda
        self.nbytes = 0
        self.device = self._host_ptr = 0
        self._host = np.empty(0, np.uint8)

    def ensure(self, nbytes: int) -> bool:
        """Make room for ``nbytes``; True when the buffers moved (device addresses must be set again)."""
        if nbytes <= self.nbytes:
            return False
        self.free()
        self.device = self.cuda.malloc(nbytes)
        self._host_ptr = self.cuda.malloc_host(nbytes)  # on failure, free() still releases the device half
        self._host = np.frombuffer((ctypes.c_uint8 * nbytes).from_address(self._host_ptr), np.uint8)
        self.nbytes = nbytes
        return True

    def host(self, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        """A view of the pinned host buffer as an array of ``shape`` and ``dtype``."""
        count = int(np.prod(shape)) * np.dtype(dtype).itemsize
        return self._host[:count].view(dtype).reshape(shape)

    def free(self) -> None:
        """Release both buffers; safe to call twice."""
        self._host = np.empty(0, np.uint8)
        if self.device:
            self.cuda.free(self.device)
        if self._host_ptr:
            self.cuda.free_host(self._host_ptr)
        self.device = self._host_ptr = self.nbytes = 0
