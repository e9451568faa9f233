"""The ONNX stage: load and sanitise, simplify, check, rewrite for deployment, prove parity; and
what every stage uses on ONNX graphs: the graph index (:mod:`graph_index`) and the ONNX Runtime
session factory (:mod:`sessions`).

Submodules import onnx lazily; ``import edgesr.onnx`` is cheap.
"""
