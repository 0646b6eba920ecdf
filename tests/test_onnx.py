"""ONNX export and the ONNX engine (suite/core/onnx_export.py, onnx_engine.py, each domain's onnx_model.py).

Each domain's tiny run is exported once per module (fp32; spam and diagnostics also int8): the exported model
answers what the PyTorch one answers (same form, same threshold, numbers within a tolerance), its self-check and
card record the test metric of both, ``suite predict`` and ``suite serve`` run it with ``--engine onnx`` from the
run folder or the exported folder, and the run's own files are unchanged. Bad input is in tests/test_bad_inputs.py.
"""

import json
import time

import numpy as np
import onnx
import pytest
from domain_cases import DOMAINS as CASES

import suite
from suite.cli import main
from suite.core.onnx_export import DECOMPOSED, Tolerance

EXPORTED = ("spam", "recommendation", "diagnostics")


def test_tolerance_is_absolute_or_relative_to_pytorch():
    assert not Tolerance().exceeded(0.900, 0.904) and Tolerance().exceeded(0.900, 0.906)
    relative = Tolerance(absolute=None, relative=0.01)
    assert not relative.exceeded(0.300, 0.2971) and relative.exceeded(0.300, 0.2969)
    assert (Tolerance().describe(), relative.describe()) == ("0.005 absolute", "1% relative")


def test_the_warning_says_whether_the_test_split_can_tell_the_models_apart():
    from suite.core.onnx_export import _warning

    check = {"metric": "ndcg@10", "difference": -0.001, "tolerance": "1% relative", "within": False}
    assert _warning(check).endswith("more than the tolerance (1% relative); its card records it")
    noise = _warning({**check, "cases": 942, "difference_low": -0.0026, "difference_high": 0.0003})
    assert "over 942 test cases [-0.0026, +0.0003], includes no change: the test split cannot tell" in noise
    loss = _warning({**check, "cases": 942, "difference_low": -0.0033, "difference_high": -0.0006})
    assert "[-0.0033, -0.0006], excludes no change" in loss
    assert _warning({**check, "within": True}) is None


def test_tracing_leaves_the_models_attention_as_it_was():
    """The export traces with eager attention (what ONNX Runtime's optimiser fuses); the model it came from keeps
    its own form afterwards, even when the trace fails."""
    import torch
    from transformers import BertConfig, BertModel

    from suite.core.onnx_export import eager_attention

    config = BertConfig(vocab_size=50, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=16, attn_implementation="sdpa")
    module = torch.nn.Sequential(BertModel(config))
    with pytest.raises(RuntimeError), eager_attention(module):
        assert module[0].config._attn_implementation == "eager"
        raise RuntimeError("the trace failed")
    assert module[0].config._attn_implementation == "sdpa"


def _files(path):
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()
            and p.relative_to(path).parts[0] != "exports"}


@pytest.fixture(scope="module")
def exports(tiny_runs, tmp_path_factory):
    """``exports(domain, int8=False)``: the tiny run exported with ``suite export`` (once), and the run's files
    before it."""
    made = {}

    def get(domain, int8=False):
        if (domain, int8) not in made:
            run = tiny_runs(domain)
            before = _files(run.path)
            out = tmp_path_factory.mktemp("exports") / f"{domain}{'-int8' if int8 else ''}"
            assert main(["export", str(run.path), str(out), "--format", "onnx", *(["--int8"] if int8 else [])]) == 0
            made[domain, int8] = out, before
        return made[domain, int8]

    return get


def _assert_close(onnx_predictions, torch_predictions, tolerance):
    """Same keys, strings and lists; numbers within ``tolerance``."""
    if isinstance(torch_predictions, dict):
        assert set(onnx_predictions) == set(torch_predictions)
        for key in torch_predictions:
            _assert_close(onnx_predictions[key], torch_predictions[key], tolerance)
    elif isinstance(torch_predictions, list):
        assert len(onnx_predictions) == len(torch_predictions)
        for a, b in zip(onnx_predictions, torch_predictions):
            _assert_close(a, b, tolerance)
    elif isinstance(torch_predictions, float):
        assert abs(onnx_predictions - torch_predictions) <= tolerance, (onnx_predictions, torch_predictions)
    else:
        assert onnx_predictions == torch_predictions


@pytest.mark.slow
@pytest.mark.parametrize("domain", EXPORTED)
def test_the_exported_model_answers_as_pytorch_does(domain, exports, tiny_runs):
    out, before = exports(domain)
    run = tiny_runs(domain)
    document = json.loads((out / "export.json").read_text())
    check = document["check"]
    assert (document["domain"], document["int8"], check["split"]) == (domain, False, "test")
    assert check["within"] and abs(check["difference"]) <= 1e-3, check           # fp32: the same model
    layers = 0 if domain == "diagnostics" else 6                                  # MiniLM-L6's six blocks, fused
    assert document["fused"].get("Attention", 0) == layers and (layers == 0) == (document["fused"] == {})
    assert document["fused"].get(DECOMPOSED, 0) == 2 * layers    # both residual layer norms of each block, fused,
    assert "SkipLayerNormalization" not in document["fused"]      # then rewritten around the slow kernels
    if layers:                                                   # and not counted as the optimiser's fusions
        assert set(document["fused"]) == {"EmbedLayerNormalization", "Attention", "BiasGelu", DECOMPOSED}
    card = (out / "README.md").read_text()
    assert ("12 layer norms rewritten as a mean subtraction and an RMS norm" in card) == (layers > 0), card
    assert document["opset"] == (18 if domain == "diagnostics" else 17)
    assert check["torch"] == pytest.approx(run.metrics()["models"]["tuned"][check["metric"]], abs=1e-6)
    assert f"| {check['metric']} | {check['torch']:.4f} | {check['onnx']:.4f} |" in card
    if domain == "recommendation":       # NDCG@10 is a mean over the test users: a paired interval of the difference
        assert check["cases"] > 0 and check["difference_low"] <= check["difference"] <= check["difference_high"]
        assert f"95% interval of the difference over {check['cases']} test cases" in card
    else:                                # F1 and AUROC are no such mean
        assert "cases" not in check and "interval" not in card
    inputs = CASES[domain].inputs()
    _assert_close(suite.load(out, engine="onnx").predict(inputs), suite.load(run.path).predict(inputs), 1e-4)
    assert _files(run.path) == before                 # the run's own files unchanged; only exports/ was added
    assert str(out) in [json.loads(p.read_text())["folder"] for p in (run.path / "exports").glob("*.json")]
    newest = _newest_export(run.path)                 # --engine onnx on the run folder: its newest export
    assert suite.load(run.path, engine="onnx").predict(inputs) == suite.load(newest, engine="onnx").predict(inputs)


def _newest_export(run_path):
    from suite.core.actions import open_source

    return open_source(run_path, engine="onnx").exported.path


@pytest.mark.slow
@pytest.mark.parametrize("domain", ["spam", "diagnostics"])
def test_int8_is_a_quarter_of_the_size_and_still_agrees(domain, exports, tiny_runs):
    """Dynamic int8 for the text encoder, static (calibrated) int8 for the convolutions: about 4x smaller, and the
    scores close to PyTorch's on the run's own test split (the self-check) and on new inputs."""
    fp32, _ = exports(domain)
    int8, _ = exports(domain, int8=True)
    document = json.loads((int8 / "export.json").read_text())
    assert document["quantisation"] == ("dynamic" if domain == "spam" else "static")
    operators = {node.op_type for node in onnx.load(str(int8 / "model.onnx")).graph.node}
    assert ("QAttention" in operators) == (domain == "spam")      # the fused attention, its weights int8
    assert ("FastGelu" in operators) == (domain == "spam")        # int8 takes GELU's tanh approximation
    assert not operators & {"LayerNormalization", "SkipLayerNormalization"}      # ONNX Runtime's slow kernels
    assert (int8 / "model.onnx").stat().st_size < 0.35 * (fp32 / "model.onnx").stat().st_size
    assert abs(document["check"]["difference"]) < 0.1, document["check"]
    assert ("above the tolerance" in (int8 / "README.md").read_text()) == (not document["check"]["within"])
    inputs = CASES[domain].inputs()
    _assert_close(suite.load(int8, engine="onnx").predict(inputs), suite.load(tiny_runs(domain).path).predict(inputs),
                  0.15)


@pytest.mark.slow
def test_the_hybrid_runs_around_the_exported_model(exports, tiny_runs):
    out, _ = exports("spam")
    texts = CASES["spam"].inputs()
    expected = suite.load(tiny_runs("spam").path, "hybrid").predict(texts)
    _assert_close(suite.load(out, "hybrid", engine="onnx").predict(texts), expected, 1e-4)


@pytest.mark.slow
def test_predict_with_the_onnx_engine_prints_what_torch_prints(exports, tiny_runs, capsys):
    out, _ = exports("spam")
    run, texts = tiny_runs("spam").path, CASES["spam"].inputs()
    capsys.readouterr()                                  # what making the export printed, if this test made it
    assert main(["predict", str(run), *texts]) == 0
    expected = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert main(["predict", str(out), *texts, "--engine", "onnx"]) == 0
    captured = capsys.readouterr()
    assert f"using the ONNX export {out}" in captured.err
    _assert_close([json.loads(line) for line in captured.out.splitlines()], expected, 1e-4)
    assert main(["predict", str(run), *texts, "--engine", "onnx"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [row.pop("input_id") for row in rows] == [f"inline {n}" for n in range(1, len(texts) + 1)]
    assert all(row.pop("truncated") is False for row in rows)           # short texts: none cut
    assert rows == suite.load(_newest_export(run), engine="onnx").predict(texts)


def _served(app, body):
    """``POST /predict`` of ``body`` once the app's model has loaded, and ``/info``."""
    from fastapi.testclient import TestClient

    with TestClient(app) as client:
        deadline = time.monotonic() + 120
        while client.get("/health").status_code != 200:
            assert time.monotonic() < deadline, client.get("/health").text
            time.sleep(0.1)
        return client.post("/predict", json=body), client.get("/info").json()


@pytest.mark.slow
@pytest.mark.parametrize("served", ["run folder", "exported folder"])
def test_serve_with_the_onnx_engine_answers_as_predict_does(served, exports, tiny_runs):
    from suite.serve import create_app

    out, _ = exports("spam")
    run = tiny_runs("spam").path
    texts = CASES["spam"].inputs()
    source = run if served == "run folder" else out
    response, info = _served(create_app(source, engine="onnx"), {"texts": texts})
    assert response.status_code == 200, response.text
    _assert_close(response.json()["predictions"], suite.load(source, engine="onnx").predict(texts), 1e-6)
    folder = str(_newest_export(run) if served == "run folder" else out)
    assert (info["engine"], info["domain"], info["export"]["folder"]) == ("onnx", "spam", folder)
    assert info["threshold"] == suite.load(run).threshold
    reported = json.loads((out / "export.json").read_text())["check"]["onnx"] if served == "exported folder" else \
        json.loads((run / "metrics.json").read_text())["models"]["tuned"]["f1"]
    assert info["metrics"]["f1"] == pytest.approx(reported)


@pytest.mark.slow
def test_saliency_stays_a_pytorch_feature(exports, tiny_runs, tmp_path):
    import base64
    import io

    from PIL import Image

    from suite.core.errors import DataError
    from suite.serve import create_app

    out, _ = exports("diagnostics")
    image = np.full((32, 32), 90, dtype=np.uint8)
    with pytest.raises(DataError, match="Grad-CAM saliency maps need the PyTorch model"):
        suite.load(out, engine="onnx").predict([image], saliency_dir=tmp_path)
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    body = {"images": [base64.b64encode(buffer.getvalue()).decode()], "saliency": True}
    response, _ = _served(create_app(out, engine="onnx"), body)
    assert response.status_code == 422 and "--engine torch" in response.text
