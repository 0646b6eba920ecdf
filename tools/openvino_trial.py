"""A trial, not a suite engine: the spam model in OpenVINO with static int8 (NNCF), against PyTorch fp32 and the
run's ONNX Runtime int8 export, through the same predictor (tokenizing included) on the run's test split.

The tuned classifier is traced to ONNX (fp32, unfused, opset 17), quantised by NNCF's post-training quantisation
with its transformer preset (int8 weights and activations, the attention's matrix products included), calibrated
on 256 training mails, and compiled for the CPU with two threads; the rest runs in fp32 (``f32``) or bfloat16
(``bf16``, OpenVINO's default where the CPU has AVX512-BF16). Each OpenVINO model replaces the graph session of the
run's ONNX predictor, so the threshold and the pre-processing are the export's. Prints the test F1 of each (the
export's self-check) and messages/s at batch 32, the engines taking turns (see ``tools/onnx_speed.py``).

Needs OpenVINO and NNCF, which the suite does not declare: ``pip install openvino nncf``. Command line::

    suite export runs/spam-default spam-int8 --format onnx --int8
    OMP_NUM_THREADS=2 python tools/openvino_trial.py runs/spam-default --repeats 7
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

CALIBRATION_MAILS = 256


class OpenVinoSession:
    """A compiled OpenVINO model with the ``run(feeds)`` of :class:`suite.core.onnx_engine.OnnxSession`."""

    def __init__(self, core: Any, model: Any, precision: str, threads: int = 2):
        compiled = core.compile_model(model, "CPU", {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY",
                                                     "INFERENCE_PRECISION_HINT": precision})
        self.request = compiled.create_infer_request()
        self.input_names = [port.get_any_name() for port in compiled.inputs]

    def run(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        return self.request.infer({name: feeds[name] for name in self.input_names})[0].copy()


def _calibration(predictor: Any, texts: list[str], seed: int) -> list[dict]:
    """Batches of 32 of ``CALIBRATION_MAILS`` training mails, tokenized as the spam predictor does."""
    from suite.spam.model import encode

    pick = np.random.default_rng(seed).choice(len(texts), min(CALIBRATION_MAILS, len(texts)), replace=False)
    batches = []
    for start in range(0, len(pick), 32):
        ids = encode(predictor.tokenizer, [texts[i] for i in pick[start:start + 32]],
                     max_length=predictor.model.max_length, tail_tokens=predictor.model.tail_tokens)
        padded = predictor.tokenizer.pad({"input_ids": ids}, return_tensors="np")
        batches.append({name: padded[name].astype(np.int64) for name in ("input_ids", "attention_mask")})
    return batches


def _speed_tool() -> Any:
    spec = importlib.util.spec_from_file_location("onnx_speed", Path(__file__).with_name("onnx_speed.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a finished spam run with an ONNX int8 export (suite export --int8)")
    parser.add_argument("--repeats", type=int, default=7, help="timed rounds, engines in turn (default 7)")
    args = parser.parse_args(argv)
    try:
        import nncf
        import openvino
    except ImportError:
        parser.error("needs OpenVINO and NNCF: pip install openvino nncf")
    import suite
    from suite.core import registry
    from suite.core.onnx_export import self_check, trace
    from suite.core.runs import Run
    from suite.spam.data import texts_of

    run = Run.open(args.run)
    domain = registry.get_domain(run.recipe().domain)
    if domain.name != "spam":
        parser.error(f"{args.run}: a {domain.name} run; this trial is for spam")
    recipe = run.recipe()
    data = domain.prepare_data(recipe)
    reference = suite.load(run.path)
    onnx_int8 = suite.load(run.path, engine="onnx")
    graph = domain.onnx_graph(reference, recipe, data)
    core = openvino.Core()
    with tempfile.TemporaryDirectory() as folder:
        traced = Path(folder) / "traced.onnx"
        trace(graph, traced)                         # as suite export traces it, before fusing
        model = core.read_model(str(traced))
    start = time.perf_counter()
    quantised = nncf.quantize(model, nncf.Dataset(_calibration(reference, texts_of(data.train), recipe.seed)),
                              model_type=nncf.ModelType.TRANSFORMER, subset_size=CALIBRATION_MAILS)
    print(f"NNCF quantisation: {time.perf_counter() - start:.1f} s")
    predictors = {"torch fp32": reference, "onnx runtime int8": onnx_int8}
    for precision in ("f32", "bf16"):
        predictors[f"openvino int8 ({precision} rest)"] = copy.copy(onnx_int8)
        predictors[f"openvino int8 ({precision} rest)"].session = OpenVinoSession(core, quantised, precision)
    checks = {name: self_check(domain, recipe, data, reference, predictor, graph)
              for name, predictor in predictors.items() if name != "torch fp32"}
    f1 = {"torch fp32": checks["onnx runtime int8"]["torch"], **{name: c["onnx"] for name, c in checks.items()}}
    tool = _speed_tool()
    texts = texts_of(data.test)[:512]
    rates = tool.rounds({name: (lambda chunk, p=p: p.scores(chunk, batch_size=32)) for name, p in predictors.items()},
                        texts, batch=32, repeats=args.repeats)
    ratios = tool.against(rates, "torch fp32")
    print("\n| engine | test f1 | messages/s, batch 32 | x torch | rounds |\n|---|---|---|---|---|")
    for name in predictors:
        print(f"| {name} | {f1[name]:.4f} | {max(rates[name]):.1f} | {ratios[name]:.2f} | "
              f"{', '.join(f'{r:.0f}' for r in rates[name])} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
