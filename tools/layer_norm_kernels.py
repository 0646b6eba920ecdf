"""Milliseconds of one residual layer norm (add, then normalise over 384 features) of a 32 x 128 x 384 batch:
ONNX Runtime's fused ``SkipLayerNormalization`` kernel, the same rewritten as a mean subtraction and an RMS norm
(:func:`suite.core.onnx_layer_norm.decompose`, what ``suite export --format onnx`` writes), and PyTorch.

Run it once per onnxruntime version to see which kernels are slow (see docs/serving.md)::

    OMP_NUM_THREADS=2 python tools/layer_norm_kernels.py
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

SHAPE = (32, 128, 384)


def _graph():
    from onnx import TensorProto, helper, numpy_helper

    inputs = [helper.make_tensor_value_info(name, TensorProto.FLOAT, list(SHAPE)) for name in ("x", "skip")]
    weights = [numpy_helper.from_array(np.ones(SHAPE[-1], np.float32), "gamma"),
               numpy_helper.from_array(np.zeros(SHAPE[-1], np.float32), "beta")]
    node = helper.make_node("SkipLayerNormalization", ["x", "skip", "gamma", "beta"], ["y"], domain="com.microsoft",
                            epsilon=1e-12)
    graph = helper.make_graph([node], "residual_layer_norm", inputs,
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], weights)
    return helper.make_model(graph, ir_version=9, opset_imports=[helper.make_opsetid("", 17),
                                                                 helper.make_opsetid("com.microsoft", 1)])


def milliseconds(call, repeats: int) -> float:
    """Mean milliseconds of ``call()`` over ``repeats`` runs, after one warm-up run."""
    call()
    start = time.perf_counter()
    for _ in range(repeats):
        call()
    return (time.perf_counter() - start) / repeats * 1000


def main(repeats: int = 50) -> int:
    import onnxruntime
    import torch

    from suite.core.onnx_layer_norm import decompose

    threads = int(os.environ.get("OMP_NUM_THREADS", "2"))
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    x = np.random.default_rng(0).normal(size=SHAPE).astype(np.float32)
    feeds = {"x": x, "skip": x}
    fused = _graph()
    rewritten = _graph()
    decompose(rewritten)
    rows = {}
    for name, model in (("fused SkipLayerNormalization", fused), ("mean subtraction + RMS norm", rewritten)):
        session = onnxruntime.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        rows[name] = milliseconds(lambda session=session: session.run(None, feeds), repeats)
    torch.set_num_threads(threads)
    tensor, norm = torch.from_numpy(x), torch.nn.LayerNorm(SHAPE[-1], eps=1e-12)
    with torch.inference_mode():
        rows["PyTorch add + LayerNorm"] = milliseconds(lambda: norm(tensor + tensor), repeats)
    print(f"onnxruntime {onnxruntime.__version__}, torch {torch.__version__}, {threads} threads, {SHAPE}, "
          f"mean of {repeats}:")
    for name, value in rows.items():
        print(f"  {name:30s} {value:6.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
