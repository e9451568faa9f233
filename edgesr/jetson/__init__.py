"""What a Jetson is and what it is doing: the module, its L4T/JetPack release, power mode and
clocks, ``tegrastats`` telemetry, and the ``edgesr doctor`` checks built on them.

Everything here reads the machine through :class:`edgesr.jetson.system.System`, so the same
code runs on a device, on a host (where it says what does not apply) and in tests against a
fake root filled with fixture files. Nothing here imports torch, TensorRT or OpenCV at import
time.
"""
