"""Layer normalisation in an ONNX graph as primitive operators, because ONNX Runtime's own kernels run it slowly.

ONNX Runtime 1.30 to 1.32 (1.32.0 declared) run ``LayerNormalization`` and its fused ``SkipLayerNormalization``
4 to 5 times slower on the CPU than 1.22 to 1.29 did (measured 2026-12-07 on one 32 x 128 x 384 residual layer
norm, two threads: 4.3 ms with 1.32.0, 0.9 ms with 1.29.0; PyTorch 0.8 ms). In the spam int8 graph those twelve
operators took 15% of the time. The same arithmetic in ONNX's elementwise and reduction operators runs at
1.2 to 1.4 ms, so :func:`decompose` writes each layer norm as them:

    s = x + skip (+ bias);  d = s - mean(s);  y = d / sqrt(mean(d * d) + epsilon) * gamma + beta

``d * d`` is a ``Mul``, not a ``Pow``: ONNX Runtime's session optimiser fuses the ``Pow`` form back into
``LayerNormalization`` and its slow kernel.
"""

from __future__ import annotations

from typing import Any

import numpy as np

DEFAULT_EPSILON = {"LayerNormalization": 1e-5, "SkipLayerNormalization": 1e-12}
"""Each layer norm's epsilon where its node gives none (the ONNX spec's, and ONNX Runtime's contrib schema's)."""


def decompose(model: Any) -> int:
    """Rewrite every (Skip)LayerNormalization over the last axis of the ``onnx.ModelProto`` in place, as
    primitive operators (opset 17: a reduction's axes are an attribute). Those whose statistics outputs another
    node reads, or that normalise another axis, stay as they are.

    Returns:
        How many were rewritten.
    """
    from onnx import numpy_helper

    graph = model.graph
    read = {name for node in graph.node for name in node.input} | {output.name for output in graph.output}
    nodes: list = []
    rewritten = 0
    for node in graph.node:
        if node.op_type not in DEFAULT_EPSILON or not _decomposable(node, read):
            nodes.append(node)
            continue
        rewritten += 1
        prefix = f"{node.name or node.output[0]}/decomposed/"
        epsilon = _attribute(node, "epsilon", DEFAULT_EPSILON[node.op_type])
        graph.initializer.append(numpy_helper.from_array(np.array(epsilon, dtype=np.float32), prefix + "epsilon"))
        nodes.extend(_primitive(node, prefix, read))
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


def _primitive(node: Any, prefix: str, read: set[str]) -> list:
    """The primitive operators of one layer norm, their names under ``prefix`` (its epsilon: ``prefix + "epsilon"``)."""
    from onnx import helper

    def given(index: int) -> str | None:
        return node.input[index] if len(node.input) > index and node.input[index] else None

    nodes = []
    if node.op_type == "SkipLayerNormalization":
        total = node.output[3] if len(node.output) > 3 and node.output[3] in read else prefix + "sum"
        gamma, beta = given(2), given(3)
        if given(4):
            nodes += [helper.make_node("Add", [node.input[0], node.input[1]], [prefix + "residual"]),
                      helper.make_node("Add", [prefix + "residual", given(4)], [total])]
        else:
            nodes.append(helper.make_node("Add", [node.input[0], node.input[1]], [total]))
    else:
        total, gamma, beta = node.input[0], given(1), given(2)
    scaled = prefix + "scaled" if beta else node.output[0]
    nodes += [helper.make_node("ReduceMean", [total], [prefix + "mean"], axes=[-1]),
              helper.make_node("Sub", [total, prefix + "mean"], [prefix + "centred"]),
              helper.make_node("Mul", [prefix + "centred", prefix + "centred"], [prefix + "squared"]),
              helper.make_node("ReduceMean", [prefix + "squared"], [prefix + "variance"], axes=[-1]),
              helper.make_node("Add", [prefix + "variance", prefix + "epsilon"], [prefix + "variance+eps"]),
              helper.make_node("Sqrt", [prefix + "variance+eps"], [prefix + "std"]),
              helper.make_node("Div", [prefix + "centred", prefix + "std"], [prefix + "normalised"]),
              helper.make_node("Mul", [prefix + "normalised", gamma], [scaled])]
    if beta:
        nodes.append(helper.make_node("Add", [scaled, beta], [node.output[0]]))
    return nodes
