"""Layer normalisation in an ONNX graph rewritten around ONNX Runtime's slow layer norm kernels.

ONNX Runtime 1.30 to 1.32 (1.32.0 declared) run ``LayerNormalization`` and its fused ``SkipLayerNormalization``
4 to 5 times slower on the CPU than 1.22 to 1.29 did (measured 2026-12-07 on one 32 x 128 x 384 residual layer
norm, two threads: 4.3 ms with 1.32.0, 0.9 ms with 1.29.0; PyTorch 0.8 ms). In the spam int8 graph those twelve
operators took 15% of the time. Its RMS norm kernel (``SimplifiedLayerNormalization``, no mean subtracted) is
fast (0.3 ms on that tensor), and a layer norm is an RMS norm of the centred input, so :func:`decompose` writes
each one as

    s = x + bias + skip;  d = s - mean(s);  y = SimplifiedLayerNormalization(d, gamma, epsilon) + beta

(0.84 ms in all; 1.12 ms written with ONNX's elementwise and reduction operators alone, as this module did
before). The bias is added before the residual (PyTorch's order too), so that ONNX Runtime's session optimiser folds it
into the int8 matrix product that precedes it.
"""

from __future__ import annotations

from typing import Any

RMS_NORM = "SimplifiedLayerNormalization"
"""ONNX Runtime's RMS norm operator (default domain), which each rewritten layer norm ends in."""
DEFAULT_EPSILON = {"LayerNormalization": 1e-5, "SkipLayerNormalization": 1e-12}
"""Each layer norm's epsilon where its node gives none (the ONNX spec's, and ONNX Runtime's contrib schema's)."""


def decompose(model: Any) -> int:
    """Rewrite every (Skip)LayerNormalization over the last axis of the ``onnx.ModelProto`` in place, as a mean
    subtraction and an RMS norm (opset 17: a reduction's axes are an attribute). Those whose statistics outputs
    another node reads, or that normalise another axis, stay as they are.

    Returns:
        How many were rewritten.
    """
    graph = model.graph
    read = {name for node in graph.node for name in node.input} | {output.name for output in graph.output}
    nodes: list = []
    rewritten = 0
    for node in graph.node:
        if node.op_type not in DEFAULT_EPSILON or not _decomposable(node, read):
            nodes.append(node)
            continue
        rewritten += 1
        nodes.extend(_rewritten(node, f"{node.name or node.output[0]}/decomposed/", read))
    del graph.node[:]
    graph.node.extend(nodes)
    return rewritten


def _attribute(node: Any, name: str, default: Any) -> Any:
    """The value of the node's attribute ``name``, or ``default`` where the node does not give it."""
    from onnx import helper

    return next((helper.get_attribute_value(attribute) for attribute in node.attribute if attribute.name == name),
                default)


def _decomposable(node: Any, read: set[str]) -> bool:
    if node.op_type == "SkipLayerNormalization":
        return not any(name in read for name in node.output[1:3])      # mean, inverse std; the sum may be read
    return _attribute(node, "axis", -1) == -1 and not any(name in read for name in node.output[1:])


def _rewritten(node: Any, prefix: str, read: set[str]) -> list:
    """The operators of one layer norm rewritten (see the module docstring), their outputs named under ``prefix``."""
    from onnx import helper

    def given(index: int) -> str | None:
        return node.input[index] if len(node.input) > index and node.input[index] else None

    nodes = []
    if node.op_type == "SkipLayerNormalization":
        total = node.output[3] if len(node.output) > 3 and node.output[3] in read else prefix + "sum"
        gamma, beta = given(2), given(3)
        if given(4):
            nodes += [helper.make_node("Add", [node.input[0], given(4)], [prefix + "biased"]),
                      helper.make_node("Add", [prefix + "biased", node.input[1]], [total])]
        else:
            nodes.append(helper.make_node("Add", [node.input[0], node.input[1]], [total]))
    else:
        total, gamma, beta = node.input[0], given(1), given(2)
    normalised = prefix + "normalised" if beta else node.output[0]
    nodes += [helper.make_node("ReduceMean", [total], [prefix + "mean"], axes=[-1]),
              helper.make_node("Sub", [total, prefix + "mean"], [prefix + "centred"]),
              helper.make_node(RMS_NORM, [prefix + "centred", gamma], [normalised], axis=-1,
                               epsilon=float(_attribute(node, "epsilon", DEFAULT_EPSILON[node.op_type])))]
    if beta:
        nodes.append(helper.make_node("Add", [normalised, beta], [node.output[0]]))
    return nodes
