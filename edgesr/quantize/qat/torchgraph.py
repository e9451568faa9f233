"""Execute an ONNX SR graph in PyTorch, so it can be fine-tuned with fake quantization.

The module runs the ONNX nodes in order with torch ops (one translator per op type, in
:mod:`edgesr.quantize.qat.torchgraph_ops`); convolution weights and biases become trainable
parameters, everything else (shape arithmetic included) is evaluated as the graph says, so
dynamic-shape exports work unchanged. Only the ops edgesr's model zoo and typical SR exports use
are covered; the forward pass raises :class:`ModelError` naming the first unknown op it reaches.

Fake-quantization points (the exact tensors the Q/DQ model quantizes) are hooks: a tensor can
be quantized for all of its consumers or only for some. The forward pass calls
``quantizer(name, tensor)`` for them.

Importing this module imports torch; :mod:`edgesr.quantize.qat.finetune`, its one user, imports it
inside the function that fine-tunes.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from edgesr.lazy import require
from edgesr.quantize.qat.torchgraph_ops import translate

torch = require("torch")


def build_module(model, *, trainable_convs: bool = True) -> GraphModule:
    """A ``torch.nn.Module`` computing ``model`` (see :class:`GraphModule`)."""
    return GraphModule(model, trainable_convs=trainable_convs)


def _attrs(node) -> dict:
    helper = require("onnx").helper
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _conv_params(nodes, inits: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The initializers that are convolution weights or biases, in graph order: the parameters."""
    params = {}
    for n in nodes:
        if n.op_type == "Conv":
            for k in n.input[1:3]:
                if k and k in inits:
                    params[k] = inits[k]
    return params


class GraphModule(torch.nn.Module):
    """``forward(x) -> output``; ``quantizer`` (optional) is called on every hooked tensor."""

    def __init__(self, model, *, trainable_convs: bool = True):
        super().__init__()
        numpy_helper = require("onnx.numpy_helper")
        self._nodes = list(model.graph.node)
        inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
        self._input_names = [i.name for i in model.graph.input if i.name not in inits]
        self._output_names = [o.name for o in model.graph.output]
        conv_params = _conv_params(self._nodes, inits)
        self.params = torch.nn.ParameterDict()
        self._keys = {}  # initializer name -> key in params
        for k, v in conv_params.items():
            key = f"p{len(self._keys)}"
            self._keys[k] = key
            self.params[key] = torch.nn.Parameter(
                torch.from_numpy(v.astype(np.float32).copy()), requires_grad=trainable_convs
            )
        self.consts = {k: torch.from_numpy(np.array(v, copy=True)) for k, v in inits.items() if k not in conv_params}
        self.attrs = [_attrs(n) for n in self._nodes]
        self.act_hooks: set[str] = set()  # quantized for every consumer
        self.edge_hooks: dict[str, set[str]] = {}  # tensor -> consumer node names reading it quantized
        self.weight_hooks: set[str] = set()  # conv node names with fake-quantized weights
        self.quantizer: Callable | None = None
        self.weight_quantizer: Callable | None = None

    def weight(self, name: str):
        return self.params[self._keys[name]]

    def weights(self) -> dict[str, np.ndarray]:
        return {k: self.params[key].detach().cpu().numpy() for k, key in self._keys.items()}

    def forward(self, x):
        env = {self._input_names[0]: x}
        quantized: dict[str, object] = {}  # hooked edges, quantized once for all their hooked readers
        q = self.quantizer
        for node, attrs in zip(self._nodes, self.attrs):
            outs = translate(node, attrs, self._inputs(node, env, quantized))
            for name, v in zip(node.output, outs):
                if name:
                    if q is not None and name in self.act_hooks:
                        v = q(name, v)
                    env[name] = v
        return env[self._output_names[0]]

    def _inputs(self, node, env: dict, quantized: dict) -> list:
        """What ``node`` reads: parameters (its weight fake-quantized where hooked), then computed
        tensors and constants (fake-quantized on hooked edges); ``None`` for an omitted input."""
        q = self.quantizer
        ins = []
        for j, name in enumerate(node.input):
            if not name:
                ins.append(None)
                continue
            if name in self._keys:
                v = self.params[self._keys[name]]
                if j == 1 and node.name in self.weight_hooks and self.weight_quantizer is not None:
                    v = self.weight_quantizer(node.name, v)
                ins.append(v)
                continue
            v = env[name] if name in env else self.consts[name]
            if q is not None and node.name in self.edge_hooks.get(name, ()):
                if name not in quantized:
                    quantized[name] = q(name, v)
                v = quantized[name]
            ins.append(v)
        return ins
