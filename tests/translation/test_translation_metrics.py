"""Translation metrics on strings whose scores are known by hand, and the baselines."""

import pytest

from suite.translation import metrics
from suite.translation.baselines import fit_baseline


def test_corpus_scores_perfect_and_disjoint_outputs_with_signatures():
    references = ["Datei öffnen", "Die Datei wurde gespeichert."]
    perfect = metrics.corpus_scores(references, references)
    assert (perfect["bleu"], perfect["chrf"], perfect["ter"]) == (100.0, 100.0, 0.0)
    disjoint = metrics.corpus_scores(["xyz qqq", "www"], references)
    assert disjoint["bleu"] == 0.0 and disjoint["chrf"] < 5 and disjoint["ter"] == 100.0
    assert "nw:2" in perfect["signatures"]["chrf"]           # chrF++: word bigrams
    assert perfect["signatures"]["bleu"].startswith("nrefs:1")


def test_chrf_gives_partial_credit_where_bleu_gives_none():
    scores = metrics.corpus_scores(["Benutzerkonten"], ["Benutzerkonto"])
    assert scores["bleu"] == 0.0 and scores["chrf"] > 50


def test_placeholder_report_counts_only_strings_with_placeholders_and_lists_the_broken():
    sources = ["Copy %s to %s", "Hello {name}", "No placeholder", "100%% done"]
    outputs = ["Kopiere %s nach %s", "Hallo {Name}", "Kein Platzhalter", "100% fertig"]
    report = metrics.placeholder_report(sources, outputs)
    assert report["strings_with_placeholders"] == 3
    assert report["placeholders_broken"] == 2
    assert report["placeholders_kept"] == pytest.approx(1 / 3, abs=1e-4)
    assert [e["source"] for e in report["broken_examples"]] == ["Hello {name}", "100%% done"]


def test_mined_glossary_keeps_consistent_translations_only():
    pairs = [("Open the file", "Datei öffnen")] * 6 + [("Save the file", "Datei speichern")] * 6 + \
            [("Print", "Drucken")] * 2 + [("Open window", "Fenster öffnen")] * 6
    glossary = metrics.mine_glossary(pairs, min_count=5, min_dice=0.6)
    assert glossary["file"] == "datei"
    assert glossary["open"] == "öffnen"
    assert "print" not in glossary                          # too rare
    assert "the" not in glossary                            # shorter than four letters


def test_mined_glossary_breaks_ties_the_same_whatever_the_order_of_the_pairs():
    # "button" goes to "Knopf" and to "Taste" equally often: a tie the order must not decide
    pairs = [("Press the button", "Knopf")] * 3 + [("Press the button", "Taste")] * 3
    forward = metrics.mine_glossary(pairs, min_count=5, min_dice=0.6)
    backward = metrics.mine_glossary(list(reversed(pairs)), min_count=5, min_dice=0.6)
    assert forward == backward == {"button": "taste", "press": "taste"}


def test_term_accuracy_counts_terms_the_reference_uses():
    glossary = {"file": "datei", "window": "fenster"}
    sources = ["Open file", "Close window", "Open file"]
    references = ["Datei öffnen", "Fenster schließen", "Dokument öffnen"]    # third: reference avoids the term
    outputs = ["Datei öffnen", "Schließen", "Datei öffnen"]
    result = metrics.term_accuracy(sources, references, outputs, glossary)
    assert (result["term_occurrences"], result["term_accuracy"]) == (2, 0.5)


def test_read_glossary_tsv_and_its_errors(tmp_path):
    good = tmp_path / "g.tsv"
    good.write_text("source\ttarget\nFile\tDatei\n# comment\nbranch\tBranch\n", encoding="utf-8")
    assert metrics.read_glossary(str(good)) == {"file": "datei", "branch": "branch"}
    bad = tmp_path / "bad.tsv"
    bad.write_text("File Datei\n", encoding="utf-8")
    from suite.core.errors import DataError
    with pytest.raises(DataError, match="bad.tsv:1: expected"):
        metrics.read_glossary(str(bad))


def test_baselines_copy_and_translation_memory():
    sources, targets = ["Open file", "Save file", "Quit program"], ["Datei öffnen", "Datei speichern", "Beenden"]
    assert fit_baseline("copy-source", sources, targets)(["Open"]) == ["Open"]
    memory = fit_baseline("translation-memory", sources, targets)
    assert memory(["Open the file", "quit"]) == ["Datei öffnen", "Beenden"]


def test_round_trip_shows_what_the_uncased_tokenizer_costs_and_the_restorer_wins_back():
    from suite.core import sources
    from suite.translation.data import TranslationDataConfig, prepare

    splits = prepare(TranslationDataConfig(source="django-de", target_language="de", test_catalogs=["admin", "auth"]))
    report = metrics.round_trip_report([p.source for p in splits.test], [p.target for p in splits.test],
                                       [p.target for p in splits.train], sources.resolve("bundled:minilm"))
    assert report["uncased"]["unk_per_string"] < 0.05 < report["keep-accents"]["unk_per_string"] \
        < report["cased"]["unk_per_string"]
    assert report["uncased+restored"]["chrf"] > report["uncased"]["chrf"] + 5
    assert report["uncased"]["chrf"] < 100                  # the round trip itself loses case and accents
