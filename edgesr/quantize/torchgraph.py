"""Execute an ONNX SR graph in PyTorch, so it can be fine-tuned with fake quantization.

The module runs the ONNX nodes in order with torch ops; convolution weights and biases become
trainable parameters, everything else (shape arithmetic included) is evaluated as the graph
says, so dynamic-shape exports work unchanged. Only the ops edgesr's model zoo and typical SR
exports use are covered; an unknown op raises :class:`ModelError` naming it.

Fake-quantization points (the exact tensors the Q/DQ model quantizes) are hooks: a tensor can
be quantized for all of its consumers or only for some. The forward pass calls
``quantizer(name, tensor)`` for them.

torch is imported lazily; this module is used only by :mod:`edgesr.quantize.finetune`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from edgesr.errors import ModelError
from edgesr.lazy import require


def _attrs(node) -> dict:
    helper = require("onnx").helper
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def build_module(model, *, trainable_convs: bool = True):
    """A ``torch.nn.Module`` computing ``model`` (see :class:`GraphModule`)."""
    torch = require("torch")
    F = torch.nn.functional
    numpy_helper = require("onnx.numpy_helper")
    nodes = list(model.graph.node)
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    input_names = [i.name for i in model.graph.input if i.name not in inits]
    output_names = [o.name for o in model.graph.output]
    conv_params = {}
    for n in nodes:
        if n.op_type == "Conv":
            for k in n.input[1:3]:
                if k and k in inits:
                    conv_params[k] = inits[k]

    def as_int_list(t) -> list[int]:
        return [int(v) for v in t.reshape(-1).tolist()]

    def resize(node, a, x, roi, scales, sizes):
        mode = a.get("mode", b"nearest").decode()
        ctm = a.get("coordinate_transformation_mode", b"half_pixel").decode()
        spatial = x.dim() - 2
        if sizes is not None and sizes.numel():
            size = as_int_list(sizes)[2:]
            kw = {"size": size}
        else:
            sc = [float(v) for v in scales.reshape(-1).tolist()][2:]
            kw = {"scale_factor": sc, "recompute_scale_factor": False}
        if mode == "nearest":
            nm = a.get("nearest_mode", b"round_prefer_floor").decode()
            if ctm != "asymmetric" or nm != "floor":
                raise ModelError(f"Resize '{node.name}': nearest with {ctm}/{nm} is not supported for fine-tuning")
            return F.interpolate(x, mode="nearest", **kw)
        if mode == "linear":
            if ctm not in ("half_pixel", "pytorch_half_pixel", "align_corners"):
                raise ModelError(f"Resize '{node.name}': linear with {ctm} is not supported for fine-tuning")
            return F.interpolate(x, mode="bilinear" if spatial == 2 else "linear",
                                 align_corners=ctm == "align_corners", **kw)
        if mode == "cubic":
            if ctm != "half_pixel" or abs(a.get("cubic_coeff_a", -0.75) + 0.75) > 1e-6 or a.get("exclude_outside", 0):
                raise ModelError(f"Resize '{node.name}': this cubic variant is not supported for fine-tuning")
            return F.interpolate(x, mode="bicubic", align_corners=False, **kw)
        raise ModelError(f"Resize '{node.name}': mode {mode} is not supported for fine-tuning")

    def pool_args(a, x):
        k = a["kernel_shape"]
        s = a.get("strides", [1] * len(k))
        pads = a.get("pads", [0] * 2 * len(k))
        d = a.get("dilations", [1] * len(k))
        return k, s, pads, d

    def pad_sym(x, pads, value=0.0):
        n = len(pads) // 2
        begin, end = pads[:n], pads[n:]
        if begin == end:
            return x, list(begin)
        torch_pads = []
        for i in reversed(range(n)):
            torch_pads += [begin[i], end[i]]
        return F.pad(x, torch_pads, value=value), [0] * n

    def op(node, a, i):  # noqa: C901 - a dispatch table written out
        t = node.op_type
        if t == "Conv":
            x, w = i[0], i[1]
            b = i[2] if len(i) > 2 else None
            k = list(w.shape[2:])
            pads = a.get("pads", [0] * 2 * len(k))
            x, p = pad_sym(x, pads)
            conv = F.conv2d if len(k) == 2 else F.conv1d
            return [conv(x, w, b, a.get("strides", 1), p, a.get("dilations", 1), a.get("group", 1))]
        if t == "LeakyRelu":
            return [F.leaky_relu(i[0], a.get("alpha", 0.01))]
        simple = {"Relu": F.relu, "Sigmoid": torch.sigmoid, "Erf": torch.erf, "Exp": torch.exp, "Abs": torch.abs,
                  "Sqrt": torch.sqrt, "Neg": torch.neg, "Tanh": torch.tanh, "Identity": lambda v: v,
                  "Floor": torch.floor, "Ceil": torch.ceil, "Reciprocal": torch.reciprocal, "Not": torch.logical_not}
        if t in simple:
            return [simple[t](i[0])]
        if t == "Gelu":
            return [F.gelu(i[0], approximate="tanh" if a.get("approximate", b"none") == b"tanh" else "none")]
        if t in ("Add", "Sub", "Mul", "Pow", "Equal", "Less", "Greater", "And", "Or"):
            f = {"Add": torch.add, "Sub": torch.sub, "Mul": torch.mul, "Pow": torch.pow, "Equal": torch.eq,
                 "Less": torch.lt, "Greater": torch.gt, "And": torch.logical_and, "Or": torch.logical_or}[t]
            return [f(i[0], i[1])]
        if t == "Div":
            if not i[0].is_floating_point() and not i[1].is_floating_point():
                return [torch.div(i[0], i[1], rounding_mode="trunc")]
            return [i[0] / i[1]]
        if t in ("Max", "Min"):
            f = torch.maximum if t == "Max" else torch.minimum
            out = i[0]
            for v in i[1:]:
                out = f(out, v)
            return [out]
        if t == "Clip":
            lo = i[1] if len(i) > 1 and i[1] is not None else None
            hi = i[2] if len(i) > 2 and i[2] is not None else None
            return [torch.clamp(i[0], lo, hi)]
        if t == "Where":
            return [torch.where(i[0], i[1], i[2])]
        if t == "Concat":
            return [torch.cat(i, dim=a["axis"])]
        if t == "Split":
            axis = a.get("axis", 0)
            if len(i) > 1 and i[1] is not None:
                sizes = as_int_list(i[1])
            elif "split" in a:
                sizes = list(a["split"])
            else:
                n = a.get("num_outputs", len(node.output))
                size = -(-i[0].shape[axis] // n)
                sizes = [size] * (n - 1) + [i[0].shape[axis] - size * (n - 1)]
            return list(torch.split(i[0], sizes, dim=axis))
        if t == "Slice":
            x = i[0]
            starts, ends = as_int_list(i[1]), as_int_list(i[2])
            axes = as_int_list(i[3]) if len(i) > 3 and i[3] is not None else list(range(len(starts)))
            steps = as_int_list(i[4]) if len(i) > 4 and i[4] is not None else [1] * len(starts)
            idx = [slice(None)] * x.dim()
            for s, e, ax, st in zip(starts, ends, axes, steps):
                dim = x.shape[ax]
                if st < 0:
                    raise ModelError(f"Slice '{node.name}' with a negative step is not supported for fine-tuning")
                s = max(0, min(dim, s + dim if s < 0 else s))
                e = max(0, min(dim, e + dim if e < 0 else e))
                idx[ax] = slice(s, e, st)
            return [x[tuple(idx)]]
        if t == "Gather":
            x, ind = i[0], i[1].long()
            axis = a.get("axis", 0) % x.dim()
            ind = torch.where(ind < 0, ind + x.shape[axis], ind)
            flat = x.index_select(axis, ind.reshape(-1))
            return [flat.reshape(list(x.shape[:axis]) + list(ind.shape) + list(x.shape[axis + 1:]))]
        if t == "Shape":
            shape = torch.tensor(list(i[0].shape), dtype=torch.int64)
            return [shape[a.get("start", 0):a.get("end", None)]]
        if t == "Unsqueeze":
            axes = as_int_list(i[1]) if len(i) > 1 else list(a["axes"])
            x = i[0]
            rank = x.dim() + len(axes)
            for ax in sorted(ax % rank for ax in axes):
                x = x.unsqueeze(ax)
            return [x]
        if t == "Squeeze":
            axes = as_int_list(i[1]) if len(i) > 1 and i[1] is not None else a.get("axes")
            x = i[0]
            if axes is None:
                return [x.squeeze()]
            for ax in sorted((ax % x.dim() for ax in axes), reverse=True):
                x = x.squeeze(ax)
            return [x]
        if t == "Reshape":
            shape = as_int_list(i[1])
            shape = [i[0].shape[k] if v == 0 else v for k, v in enumerate(shape)]
            return [i[0].reshape(shape)]
        if t == "Flatten":
            ax = a.get("axis", 1)
            return [i[0].reshape(int(np.prod(i[0].shape[:ax])), -1)]
        if t == "Transpose":
            return [i[0].permute(*a["perm"])]
        if t == "Expand":
            return [i[0] * torch.ones(as_int_list(i[1]), dtype=i[0].dtype)]
        if t == "Tile":
            return [i[0].repeat(*as_int_list(i[1]))]
        if t == "Constant":
            return [torch.from_numpy(numpy_helper.to_array(a["value"]).copy())]
        if t == "ConstantOfShape":
            value = numpy_helper.to_array(a["value"]) if "value" in a else np.zeros(1, np.float32)
            return [torch.full(as_int_list(i[0]), float(value.reshape(-1)[0]),
                               dtype=torch.from_numpy(value).dtype)]
        if t == "Range":
            return [torch.arange(i[0].item(), i[1].item(), i[2].item(), dtype=i[0].dtype)]
        if t == "Cast":
            to = {1: torch.float32, 6: torch.int32, 7: torch.int64, 9: torch.bool, 10: torch.float16, 11: torch.float64}
            return [i[0].to(to[a["to"]])]
        if t in ("MaxPool", "AveragePool"):
            k, s, pads, d = pool_args(a, i[0])
            if t == "MaxPool":
                x, p = pad_sym(i[0], pads, value=-float("inf"))
                return [F.max_pool2d(x, k, s, p, d, ceil_mode=bool(a.get("ceil_mode", 0)))]
            x, p = pad_sym(i[0], pads)
            return [F.avg_pool2d(x, k, s, p, ceil_mode=bool(a.get("ceil_mode", 0)),
                                 count_include_pad=bool(a.get("count_include_pad", 0)))]
        if t == "GlobalAveragePool":
            return [i[0].mean(dim=tuple(range(2, i[0].dim())), keepdim=True)]
        if t in ("ReduceMean", "ReduceL2", "ReduceSum", "ReduceMax"):
            axes = a.get("axes")
            if axes is None and len(i) > 1 and i[1] is not None:
                axes = as_int_list(i[1])
            dims = tuple(axes) if axes is not None else tuple(range(i[0].dim()))
            keep = bool(a.get("keepdims", 1))
            x = i[0]
            if t == "ReduceMean":
                return [x.mean(dim=dims, keepdim=keep)]
            if t == "ReduceSum":
                return [x.sum(dim=dims, keepdim=keep)]
            if t == "ReduceMax":
                return [x.amax(dim=dims, keepdim=keep)]
            return [torch.sqrt((x * x).sum(dim=dims, keepdim=keep))]
        if t == "Resize":
            return [resize(node, a, i[0], *(list(i[1:]) + [None] * (4 - len(i)))[:3])]
        if t == "DepthToSpace":
            bs = a["blocksize"]
            x = i[0]
            if a.get("mode", b"DCR") == b"CRD":
                return [F.pixel_shuffle(x, bs)]
            n, c, h, w = x.shape
            x = x.reshape(n, bs, bs, c // bs**2, h, w).permute(0, 3, 4, 1, 5, 2)
            return [x.reshape(n, c // bs**2, h * bs, w * bs)]
        if t == "Pad":
            pads = as_int_list(i[1])
            value = float(i[2].item()) if len(i) > 2 and i[2] is not None and i[2].numel() else 0.0
            mode = a.get("mode", b"constant").decode()
            n = len(pads) // 2
            torch_pads = []
            for k in reversed(range(n)):
                torch_pads += [pads[k], pads[k + n]]
            while torch_pads and torch_pads[-2:] == [0, 0] and mode != "constant":
                torch_pads = torch_pads[:-2]
            return [F.pad(i[0], torch_pads, mode={"edge": "replicate"}.get(mode, mode),
                          **({"value": value} if mode == "constant" else {}))]
        raise ModelError(f"op {t} (node '{node.name}') is not supported by the fine-tuning interpreter")

    class GraphModule(torch.nn.Module):
        """``forward(x) -> output``; ``quantizer`` (optional) is called on every hooked tensor."""

        def __init__(self):
            super().__init__()
            self.params = torch.nn.ParameterDict()
            self._keys = {}
            for k, v in conv_params.items():
                key = f"p{len(self._keys)}"
                self._keys[k] = key
                self.params[key] = torch.nn.Parameter(torch.from_numpy(v.astype(np.float32).copy()),
                                                      requires_grad=trainable_convs)
            self.consts = {k: torch.from_numpy(np.array(v, copy=True)) for k, v in inits.items()
                           if k not in conv_params}
            self.attrs = [_attrs(n) for n in nodes]
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
            env = {input_names[0]: x}
            quantized: dict[str, object] = {}
            q = self.quantizer
            for node, a in zip(nodes, self.attrs):
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
                outs = op(node, a, ins)
                for name, v in zip(node.output, outs):
                    if name:
                        if q is not None and name in self.act_hooks:
                            v = q(name, v)
                        env[name] = v
            return env[output_names[0]]

    return GraphModule()
