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
    tuned = metrics["models"]["tuned"]
    if tuned["strings_with_placeholders"]:                     # constrained decoding keeps them all
        assert tuned["placeholders_kept"] == 1.0
        assert set(tuned["free_decoding"]) == {"chrf", "bleu", "placeholders_kept"}
    history = json.loads((translation_tiny_run.path / "logs/log_history.json").read_text())
    losses = [entry["loss"] for entry in history if "loss" in entry]
    assert sum(losses[-3:]) / 3 < 0.8 * sum(losses[:3]) / 3, losses


def test_run_folder_holds_model_restorer_card_and_examples(translation_tiny_run):
    model_dir = translation_tiny_run.path / "model"
    assert (model_dir / "surface.json").is_file()              # MiniLM is uncased: outputs get case back
    assert (model_dir / "suite.json").is_file()
    card = (translation_tiny_run.path / "README.md").read_text(encoding="utf-8")
    assert "## Example translations (test split)" in card
    assert not (translation_tiny_run.path / "checkpoints").exists()   # a finished run keeps model/ alone


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


def test_in_domain_tuning_starts_from_a_finished_run_and_is_scored_before_and_after(translation_tiny_run, runs_dir):
    run = suite.tune("translation/tiny", model__source=str(translation_tiny_run.path / "model"),
                     data__split="in-domain", data__in_domain_catalog="admin", data__test_size=0.2,
                     train__epochs=1, output__runs_dir=str(runs_dir), output__name="translation-in-domain")
    metrics = run.metrics()
    assert metrics["training"]["warm_started"] is False          # a seq2seq checkpoint now, loaded as it is
    assert metrics["data"]["test_catalogs"] == ["admin"]
    before, after = metrics["models"]["before-tuning"], metrics["models"]["tuned"]
    assert before["test_strings"] == after["test_strings"] > 0
    assert before["chrf"] != after["chrf"]                       # tuning changed the model's output


def test_eval_on_another_catalog_scores_every_string_of_it(translation_tiny_run, tmp_path):
    po = polib.POFile()
    po.metadata = {"Content-Type": "text/plain; charset=UTF-8"}
    for source, target in [("Save", "Speichern"), ("Delete", "Löschen"), ("Add %(name)s", "%(name)s hinzufügen")]:
        po.append(polib.POEntry(msgid=source, msgstr=target))
    po.save(str(tmp_path / "mine.po"))
    result = suite.evaluate(translation_tiny_run.path, data=str(tmp_path / "mine.po"))
    assert result["evaluated_on"] == str(tmp_path / "mine.po")
    assert {m["test_strings"] for m in result["models"].values()} == {3}
    assert result["models"]["baseline:copy-source"]["strings_with_placeholders"] == 1
