"""The ONNX stage: load and sanitise, simplify, check, rewrite for deployment, prove parity.

Submodules import onnx lazily; ``import edgesr.onnx`` is cheap.
"""
