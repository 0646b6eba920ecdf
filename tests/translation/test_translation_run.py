"""Translation-only checks on the tiny run (the Firefox Translations en->pt model; the shared checks are in
tests/contract): every system scored, placeholders, predict with whitespace, a filled .po catalog, in-domain
tuning from a finished run, eval on another catalog."""

import json

import polib
import pytest

import suite
from suite.cli import main

pytestmark = pytest.mark.slow


def test_tiny_run_trains_and_scores_every_system(translation_tiny_run):
    metrics = translation_tiny_run.metrics()
    assert metrics["primary_metric"] == "chrf"
    assert set(metrics["models"]) == {"zero-shot", "tuned", "baseline:copy-source", "baseline:translation-memory"}
    assert metrics["data"]["warm_started"] is False
    assert translation_tiny_run.recipe().model.label_smoothing > 0     # trained through the smoothed loss
    for system in metrics["models"].values():
        assert 0 <= system["chrf"] <= 100 and system["test_strings"] == metrics["data"]["test"]
        assert "nw:2" in system["signatures"]["chrf"]
    assert metrics["models"]["zero-shot"]["chrf"] > metrics["models"]["baseline:copy-source"]["chrf"] + 10
    copy = metrics["models"]["baseline:copy-source"]
    assert copy["placeholders_kept"] in (None, 1.0)            # copying keeps every placeholder
    tuned = metrics["models"]["tuned"]
    if tuned["strings_with_placeholders"]:                     # constrained decoding keeps them all
        assert tuned["placeholders_kept"] == 1.0
        assert set(tuned["free_decoding"]) == {"chrf", "bleu", "placeholders_kept"}


def test_run_folder_holds_the_port_its_tokenizer_card_and_examples(translation_tiny_run):
    model_dir = translation_tiny_run.path / "model"
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    assert config["architecture"] == "marian-ssru-transformer" and config["vocab_size"] == 32000
    assert (model_dir / "model.safetensors").is_file() and (model_dir / "tokenizer.json").is_file()
    assert not (model_dir / "surface.json").exists()          # a cased vocabulary needs no restorer
    settings = json.loads((model_dir / "suite.json").read_text(encoding="utf-8"))
    assert settings["state"]["target_language"] == "pt_BR"
    card = (translation_tiny_run.path / "README.md").read_text(encoding="utf-8")
    assert "## Example translations (test split)" in card and "| zero-shot |" in card
    assert "Firefox Translations" in card and "MPL-2.0" in card             # whose weights, under which licence


def test_predict_restores_placeholders_quotes_and_surrounding_whitespace(translation_tiny_run):
    translator = suite.load(translation_tiny_run.path)
    outputs = translator.predict(["Delete %(count)s sessions", "  Sites  ", "Open “%s”:"])
    assert outputs[0]["source"] == "Delete %(count)s sessions"
    assert all(o["placeholders_kept"] for o in outputs)
    assert outputs[1]["translation"].startswith("  ") and outputs[1]["translation"].endswith("  ")
    assert "“%s”" in outputs[2]["translation"]                 # quotes the vocabulary lacks pass through


def test_predict_fills_a_po_catalog_and_keeps_what_a_person_wrote(translation_tiny_run, tmp_path, capsys):
    po = polib.POFile()
    po.metadata = {"Content-Type": "text/plain; charset=UTF-8", "Language": "pt_BR",
                   "Plural-Forms": "nplurals=2; plural=(n > 1);"}
    po.append(polib.POEntry(msgid="Save", msgstr="Salvar"))
    po.append(polib.POEntry(msgid="Delete site"))
    po.append(polib.POEntry(msgid="%(count)s site", msgid_plural="%(count)s sites", msgstr_plural={0: "", 1: ""}))
    po.append(polib.POEntry(msgid="%(count)s session", msgid_plural="%(count)s sessions",
                            msgstr_plural={0: "%(count)s sessão", 1: ""}))
    po.save(str(tmp_path / "app.po"))
    code = main(["predict", str(translation_tiny_run.path), "--input", str(tmp_path / "app.po"),
                 "--output", str(tmp_path / "app.pt_BR.po")])
    assert code == 0, capsys.readouterr().err
    filled = {e.msgid: e for e in polib.pofile(str(tmp_path / "app.pt_BR.po"))}
    assert filled["Save"].msgstr == "Salvar" and "fuzzy" not in filled["Save"].flags
    assert "fuzzy" in filled["Delete site"].flags and filled["Delete site"].msgstr
    plural = filled["%(count)s site"]
    assert "fuzzy" in plural.flags and all("%(count)s" in form for form in plural.msgstr_plural.values())
    partly = filled["%(count)s session"]
    assert partly.msgstr_plural[0] == "%(count)s sessão" and "%(count)s" in partly.msgstr_plural[1]


def test_in_domain_tuning_starts_from_a_finished_run_and_scores_it_untuned_too(translation_tiny_run, runs_dir):
    run = suite.tune("translation/tiny", model__source=str(translation_tiny_run.path / "model"),
                     data__split="in-domain", data__in_domain_catalog="admin", data__test_size=0.2,
                     train__epochs=1, output__runs_dir=str(runs_dir), output__name="translation-in-domain")
    metrics = run.metrics()
    assert metrics["data"]["warm_started"] is False
    assert metrics["data"]["test_catalogs"] == ["admin"]
    before, after = metrics["models"]["zero-shot"], metrics["models"]["tuned"]
    assert before["test_strings"] == after["test_strings"] > 0
    assert before["chrf"] != after["chrf"]                       # tuning changed the model's output


def test_eval_on_another_catalog_scores_every_string_of_it(translation_tiny_run, tmp_path):
    po = polib.POFile()
    po.metadata = {"Content-Type": "text/plain; charset=UTF-8", "Language": "pt_BR"}
    for source, target in [("Save", "Salvar"), ("Delete", "Excluir"), ("Add %(name)s", "Adicionar %(name)s")]:
        po.append(polib.POEntry(msgid=source, msgstr=target))
    po.save(str(tmp_path / "mine.po"))
    result = suite.evaluate(translation_tiny_run.path, data=str(tmp_path / "mine.po"))
    assert result["evaluated_on"] == str(tmp_path / "mine.po")
    assert {m["test_strings"] for m in result["models"].values()} == {3}
    assert result["models"]["baseline:copy-source"]["strings_with_placeholders"] == 1
