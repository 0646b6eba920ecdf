"""Layer norms rewritten as a mean subtraction and an RMS norm compute what ONNX Runtime's fused kernels compute."""

import numpy as np
import onnx
import onnxruntime
import pytest
from onnx import TensorProto, helper, numpy_helper

from suite.core.onnx_layer_norm import decompose

HIDDEN = 8


def _model(nodes, outputs):
    rng = np.random.default_rng(0)
    weights = {name: rng.normal(size=HIDDEN).astype(np.float32) for name in ("gamma", "beta", "bias")}
    inputs = [helper.make_tensor_value_info(name, TensorProto.FLOAT, ["batch", "tokens", HIDDEN]) for name in "xs"]
    graph = helper.make_graph(nodes, "layer_norms", inputs,
                              [helper.make_tensor_value_info(name, TensorProto.FLOAT, None) for name in outputs],
                              [numpy_helper.from_array(value, name) for name, value in weights.items()])
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    return helper.make_model(graph, opset_imports=opsets)


def _run(model, feeds, optimised_to=None):
    options = onnxruntime.SessionOptions()
    if optimised_to:
        options.optimized_model_filepath = str(optimised_to)
    session = onnxruntime.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


SKIP_WITH_BIAS = helper.make_node("SkipLayerNormalization", ["x", "s", "gamma", "beta", "bias"],
                                  ["y", "", "", "sum"], domain="com.microsoft", epsilon=1e-12)
PLAIN = helper.make_node("LayerNormalization", ["sum", "gamma"], ["z"], axis=-1, epsilon=1e-5)


@pytest.mark.parametrize("scale", [1.0, 1e3])
def test_the_rewritten_form_gives_the_fused_kernels_numbers(scale, tmp_path):
    """A residual layer norm with a bias whose sum the next one reads, and a plain one without beta."""
    model = _model([SKIP_WITH_BIAS, PLAIN], ["y", "z"])
    rng = np.random.default_rng(1)
    feeds = {name: (scale * rng.normal(size=(3, 5, HIDDEN))).astype(np.float32) for name in "xs"}
    expected = _run(model, feeds)
    assert decompose(model) == 2
    for got, want in zip(_run(model, feeds, optimised_to=tmp_path / "optimised.onnx"), expected):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    slow = {"LayerNormalization", "SkipLayerNormalization"}     # nor does ONNX Runtime's optimiser fuse them back
    assert not {node.op_type for node in onnx.load(str(tmp_path / "optimised.onnx")).graph.node} & slow
    adds = {tuple(node.input) for node in model.graph.node if node.op_type == "Add"}
    assert ("x", "bias") in adds        # the bias joins the product first, where the optimiser folds it into it


def test_a_layer_norm_whose_statistics_are_read_or_on_another_axis_stays():
    statistics = helper.make_node("LayerNormalization", ["x", "gamma", "beta"], ["y", "mean"], axis=-1)
    other_axis = helper.make_node("LayerNormalization", ["s", "gamma", "beta"], ["z"], axis=1)
    model = _model([statistics, other_axis], ["y", "mean", "z"])
    before = onnx.helper.printable_graph(model.graph)
    assert decompose(model) == 0
    assert onnx.helper.printable_graph(model.graph) == before


@pytest.mark.parametrize("op_type, domain", [("LayerNormalization", ""), ("SkipLayerNormalization", "com.microsoft")])
def test_a_layer_norm_without_epsilon_takes_its_operators_default(op_type, domain):
    """1e-5 for ONNX's LayerNormalization, 1e-12 for ONNX Runtime's SkipLayerNormalization: visible on inputs
    whose variance is near zero."""
    inputs = ["x", "gamma", "beta"] if op_type == "LayerNormalization" else ["x", "s", "gamma", "beta"]
    model = _model([helper.make_node(op_type, inputs, ["y"], domain=domain)], ["y"])
    rng = np.random.default_rng(2)
    feeds = {name: (1e-4 * rng.normal(size=(2, 3, HIDDEN))).astype(np.float32) for name in "xs"}
    expected = _run(model, feeds)
    assert decompose(model) == 1
    np.testing.assert_allclose(_run(model, feeds)[0], expected[0], rtol=1e-3, atol=1e-4)
