"""A stand-in for ``libcudart`` on machines without a GPU: host memory plays device memory.

``FakeCudart()`` has the C functions Polygraphy's ``polygraphy.cuda`` and ``edgesr.runtime.cuda``
call, as ctypes function pointers with the CUDA runtime API's signatures (``cudaMalloc(void**,
size_t)``, ``cudaMemcpyAsync(void*, const void*, size_t, cudaMemcpyKind, cudaStream_t)``, ...), so
the real wrapper code of both runs against it, pointers and all; :func:`install` puts it behind
Polygraphy's CUDA wrapper. Allocations are real memory, so copies round-trip real bytes. What makes
it a useful check rather than a pass-through:

- work on a stream (copies, and engine executions the TensorRT double enqueues) runs only at
  ``cudaStreamSynchronize``, as on a GPU: a result read before synchronising is stale;
- a copy must go the way its ``cudaMemcpyKind`` says: host-to-device needs a device destination
  inside one allocation, device-to-host a device source; anything else is
  ``cudaErrorInvalidValue``, as are frees of unknown pointers;
- a failed call's status is kept for ``cudaGetLastError``, which returns it once;
- every call is counted, and live allocations and streams are visible, so tests can see buffers
  reused and everything released.

Status codes and names follow the CUDA runtime API's ``cudaError`` enum.
"""

from __future__ import annotations

import ctypes
from collections import Counter
from collections.abc import Callable
from ctypes import CFUNCTYPE, POINTER, c_int, c_size_t, c_void_p

SUCCESS, INVALID_VALUE, MEMORY_ALLOCATION, NO_DEVICE, INVALID_HANDLE = 0, 1, 2, 100, 400
_NAMES = {
    SUCCESS: "no error",
    INVALID_VALUE: "invalid argument",
    MEMORY_ALLOCATION: "out of memory",
    NO_DEVICE: "no CUDA-capable device is detected",
    INVALID_HANDLE: "invalid resource handle",
}
HOST_TO_DEVICE, DEVICE_TO_HOST = 1, 2


class FakeCudart:
    """``compute_capability`` of the one GPU (None: no GPU); ``memory`` the device bytes available."""

    def __init__(self, compute_capability: tuple[int, int] | None = (8, 7), memory: int = 1 << 32):
        self.compute_capability = compute_capability
        self.memory = memory
        self.device: dict[int, ctypes.Array] = {}
        self.pinned: dict[int, ctypes.Array] = {}
        self.streams: dict[int, list[Callable[[], None]]] = {}
        self.calls: Counter[str] = Counter()
        self._last_error = SUCCESS
        self._handles: dict[int, ctypes.Array] = {}
        self._messages = {code: ctypes.create_string_buffer(text.encode()) for code, text in _NAMES.items()}
        self._functions = {}
        for name, restype, argtypes in (
            ("cudaGetErrorString", c_void_p, [c_int]),  # const char*; c_void_p so ctypes keeps no copy
            ("cudaGetLastError", c_int, []),
            ("cudaGetDevice", c_int, [POINTER(c_int)]),
            ("cudaDeviceGetAttribute", c_int, [POINTER(c_int), c_int, c_int]),
            ("cudaMalloc", c_int, [POINTER(c_void_p), c_size_t]),
            ("cudaFree", c_int, [c_void_p]),
            ("cudaMallocHost", c_int, [POINTER(c_void_p), c_size_t]),
            ("cudaFreeHost", c_int, [c_void_p]),
            ("cudaStreamCreate", c_int, [POINTER(c_void_p)]),
            ("cudaStreamDestroy", c_int, [c_void_p]),
            ("cudaStreamSynchronize", c_int, [c_void_p]),
            ("cudaMemcpyAsync", c_int, [c_void_p, c_void_p, c_size_t, c_int, c_void_p]),
        ):
            impl = getattr(self, "_" + name)
            self._functions[name] = CFUNCTYPE(restype, *argtypes)(self._counted(name, impl))

    def __getattr__(self, name):
        functions = self.__dict__.get("_functions", {})
        if name in functions:
            return functions[name]
        raise AttributeError(f"undefined symbol: {name}")

    def __getitem__(self, name):  # ctypes.CDLL's other way to a function
        return self.__getattr__(name)

    def _counted(self, name, impl):
        def call(*args):
            self.calls[name] += 1
            status = impl(*args)
            if name not in ("cudaGetErrorString", "cudaGetLastError") and status != SUCCESS:
                self._last_error = status
            return status

        return call

    # --- what tests look at ---

    def find(self, ptr: int, nbytes: int) -> str | None:
        """``"device"`` or ``"pinned"`` when ``ptr .. ptr + nbytes`` lies inside one allocation of that kind."""
        for kind, table in (("device", self.device), ("pinned", self.pinned)):
            for base, block in table.items():
                if base <= ptr and ptr + nbytes <= base + ctypes.sizeof(block):
                    return kind
        return None

    def enqueue(self, stream: int, work: Callable[[], None]) -> bool:
        """Queue ``work`` on ``stream`` (what a kernel launch does); False for an unknown stream."""
        if stream not in self.streams:
            return False
        self.streams[stream].append(work)
        return True

    @property
    def live(self) -> tuple[int, int, int]:
        """Device allocations, pinned allocations and streams not yet released."""
        return len(self.device), len(self.pinned), len(self.streams)

    # --- the C functions ---

    def _cudaGetErrorString(self, status):
        return ctypes.addressof(self._messages.get(status, self._messages[INVALID_VALUE]))

    def _cudaGetLastError(self):
        status, self._last_error = self._last_error, SUCCESS
        return status

    def _cudaGetDevice(self, device):
        if self.compute_capability is None:
            return NO_DEVICE
        device[0] = 0
        return SUCCESS

    def _cudaDeviceGetAttribute(self, value, attribute, device):
        if self.compute_capability is None:
            return NO_DEVICE
        if device != 0 or attribute not in (75, 76):  # cudaDevAttrComputeCapabilityMajor / Minor
            return INVALID_VALUE
        value[0] = self.compute_capability[attribute - 75]
        return SUCCESS

    def _alloc(self, table, out, size):
        if size == 0:
            out[0] = None
            return SUCCESS
        used = sum(ctypes.sizeof(b) for b in self.device.values())
        if table is self.device and used + size > self.memory:
            return MEMORY_ALLOCATION
        block = (ctypes.c_uint8 * size)()
        table[ctypes.addressof(block)] = block
        out[0] = ctypes.addressof(block)
        return SUCCESS

    def _release(self, table, ptr):
        if ptr is None:
            return SUCCESS
        return SUCCESS if table.pop(ptr, None) is not None else INVALID_VALUE

    def _cudaMalloc(self, out, size):
        return NO_DEVICE if self.compute_capability is None else self._alloc(self.device, out, size)

    def _cudaFree(self, ptr):
        return self._release(self.device, ptr)

    def _cudaMallocHost(self, out, size):
        return self._alloc(self.pinned, out, size)

    def _cudaFreeHost(self, ptr):
        return self._release(self.pinned, ptr)

    def _cudaStreamCreate(self, out):
        if self.compute_capability is None:
            return NO_DEVICE
        handle = (ctypes.c_uint8 * 1)()
        self._handles[ctypes.addressof(handle)] = handle
        self.streams[ctypes.addressof(handle)] = []
        out[0] = ctypes.addressof(handle)
        return SUCCESS

    def _cudaStreamDestroy(self, stream):
        if self.streams.pop(stream, None) is None:
            return INVALID_HANDLE
        self._handles.pop(stream)
        return SUCCESS

    def _cudaStreamSynchronize(self, stream):
        if stream not in self.streams:
            return INVALID_HANDLE
        work, self.streams[stream] = self.streams[stream], []
        for item in work:
            item()
        return SUCCESS

    def _cudaMemcpyAsync(self, dst, src, count, kind, stream):
        if stream not in self.streams:
            return INVALID_HANDLE
        if kind not in (HOST_TO_DEVICE, DEVICE_TO_HOST) or dst is None or src is None:
            return INVALID_VALUE
        device_side, host_side = (dst, src) if kind == HOST_TO_DEVICE else (src, dst)
        if self.find(device_side, count) != "device" or self.find(host_side, count) == "device":
            return INVALID_VALUE
        self.streams[stream].append(lambda: ctypes.memmove(dst, src, count))
        return SUCCESS


def install(monkeypatch, fake: FakeCudart) -> FakeCudart:
    """Make ``fake`` the ``libcudart`` behind Polygraphy's CUDA wrapper, which edgesr's uses too,
    for the rest of the test."""
    from polygraphy.cuda import cuda as polygraphy_cuda

    wrapper = object.__new__(polygraphy_cuda.Cuda)  # its constructor would search for the real library
    wrapper.handle = fake
    monkeypatch.setattr(polygraphy_cuda, "G_CUDA", wrapper)
    return fake
