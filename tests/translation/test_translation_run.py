"""The tiny recipe end to end: train, metrics.json, reload, predict, and a filled .po catalog."""

import json

import polib
import pytest

import suite
from suite.cli import main


def test_tiny_run_trains_and_scores_every_system(translation_tiny_run):
    metrics = translation_tiny_run.metrics()
    assert metrics["primary_metric"] == "chrf"
    assert set(metrics["models"]) == {"tuned", "baseline:copy-source", "baseline:translation-memory"}
    assert metrics["training"]["warm_started"] is True
    for system in metrics["models"].values():
        assert 0 <= system["chrf"] <= 100 and system["test_strings"] == metrics["data"]["test"]
        assert "nw:2" in system["signatures"]["chrf"]
    copy = metrics["models"]["baseline:copy-source"]
    assert copy["placeholders_kept"] in (None, 1.0)            # copying keeps every placeholder
    history = json.loads((translation_tiny_run.path / "logs/log_history.json").read_text())
    losses = [entry["loss"] for entry in history if "loss" in entry]
    assert sum(losses[-3:]) / 3 < 0.8 * sum(losses[:3]) / 3, losses


def test_run_folder_holds_model_restorer_card_and_examples(translation_tiny_run):
    model_dir = translation_tiny_run.path / "model"
    assert (model_dir / "surface.json").is_file()              # MiniLM is uncased: outputs get case back
    assert (model_dir / "suite.json").is_file()
    card = (translation_tiny_run.path / "README.md").read_text(encoding="utf-8")
    assert "## Example translations (test split)" in card


def test_reloaded_model_reproduces_the_reported_scores(translation_tiny_run):
    again = suite.evaluate(translation_tiny_run.path)
    reported = translation_tiny_run.metrics()["models"]["tuned"]
    assert again["models"]["tuned"]["chrf"] == pytest.approx(reported["chrf"], abs=1e-9)
    assert again["models"]["tuned"]["bleu"] == pytest.approx(reported["bleu"], abs=1e-9)


def test_predict_restores_placeholders_and_surrounding_whitespace(translation_tiny_run):
    translator = suite.load(translation_tiny_run.path)
    outputs = translator.predict(["Delete %(count)s sessions", "  Sites  "])
    assert outputs[0]["source"] == "Delete %(count)s sessions"
    assert "⟦" not in outputs[0]["translation"] or not outputs[0]["placeholders_kept"]
    assert outputs[1]["translation"].startswith("  ") and outputs[1]["translation"].endswith("  ")


def test_predict_fills_a_po_catalog_and_keeps_existing_translations(translation_tiny_run, tmp_path, capsys):
    po = polib.POFile()
    po.metadata = {"Content-Type": "text/plain; charset=UTF-8"}
    po.append(polib.POEntry(msgid="Save", msgstr="Speichern"))
    po.append(polib.POEntry(msgid="Delete site"))
    po.append(polib.POEntry(msgid="%(count)s site", msgid_plural="%(count)s sites", msgstr_plural={0: "", 1: ""}))
    po.save(str(tmp_path / "app.po"))
    code = main(["predict", str(translation_tiny_run.path), "--input", str(tmp_path / "app.po"),
                 "--output", str(tmp_path / "app.de.po")])
    assert code == 0, capsys.readouterr().err
    filled = {e.msgid: e for e in polib.pofile(str(tmp_path / "app.de.po"))}
    assert filled["Save"].msgstr == "Speichern" and "fuzzy" not in filled["Save"].flags
    assert "fuzzy" in filled["Delete site"].flags and filled["Delete site"].msgstr
    assert "fuzzy" in filled["%(count)s site"].flags and len(filled["%(count)s site"].msgstr_plural) == 2
