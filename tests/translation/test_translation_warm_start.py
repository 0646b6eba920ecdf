"""The warm start (translation/warm-start-de's path): MiniLM built into an encoder-decoder, for language pairs
with no pretrained translation model; trained here on translation/warm-start-tiny (Django's German catalogs)."""

import json

import pytest

import suite

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def warm_start_run(tmp_path_factory):
    return suite.tune("translation/warm-start-tiny", output__runs_dir=str(tmp_path_factory.mktemp("runs")),
                      output__name="translation-warm-start-tiny")


def test_warm_start_trains_restores_the_surface_and_has_no_zero_shot_system(warm_start_run):
    metrics = warm_start_run.metrics()
    assert metrics["data"]["warm_started"] is True
    assert set(metrics["models"]) == {"tuned", "baseline:copy-source", "baseline:translation-memory"}
    losses = [e["loss"] for e in json.loads((warm_start_run.path / "logs/log_history.json").read_text())
              if "loss" in e]
    assert sum(losses[-2:]) < 0.85 * sum(losses[:2])
    assert (warm_start_run.path / "model" / "surface.json").is_file()     # MiniLM is uncased: case comes back
    outputs = suite.load(warm_start_run.path).predict(["Delete %(count)s sessions", "  Sites  "])
    assert outputs[0]["placeholders_kept"]
    assert outputs[1]["translation"].startswith("  ") and outputs[1]["translation"].endswith("  ")


def test_constrained_translation_keeps_every_placeholder_that_free_decoding_loses(warm_start_run):
    """The warm start is barely trained: free decoding drops placeholders, constrained keeps all."""
    translator = suite.load(warm_start_run.path)
    sources = ["Copy %s to %s", "Delete %(count)d files?", "{0} of {1}", "Open"]
    translator.model.placeholders = "free"
    free = translator.predict(sources)
    translator.model.placeholders = "constrained"
    constrained = translator.predict(sources)
    assert all(row["placeholders_kept"] for row in constrained)
    assert not all(row["placeholders_kept"] for row in free)


def test_export_refuses_a_run_that_is_not_the_firefox_model(warm_start_run, tmp_path, capsys):
    from suite.cli import main

    code = main(["export", str(warm_start_run.path), str(tmp_path / "out"), "--format", "marian"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "only a marian-ssru-transformer" in err[0]
    assert not (tmp_path / "out").exists()
