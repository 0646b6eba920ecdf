"""The held-out prose beside the interface strings: the UDHR forgetting check and LibreOffice help paragraphs."""

import pytest

from suite.translation import extra_tests
from suite.translation.config import TranslationDataConfig, TranslationEvalConfig


@pytest.mark.parametrize(("language", "sentences"), [("pt_BR", 65), ("pt", 50), ("pt_PT", 50), ("de", None)])
def test_general_text_is_the_udhr_of_the_target_language(language, sentences, tmp_path, monkeypatch):
    monkeypatch.setenv("SUITE_CACHE", str(tmp_path))          # nothing pulled: no help paragraphs
    parts = extra_tests.load(TranslationEvalConfig(), TranslationDataConfig(target_language=language))
    assert set(parts) == ({"general"} if sentences else set())
    if sentences:
        assert len(parts["general"]) == sentences
        assert "All human beings are born free and equal in dignity and rights." in {s.source for s in parts["general"]}


def test_help_paragraphs_come_from_the_pulled_corpus_sampled_and_length_limited(tmp_path, monkeypatch):
    monkeypatch.setenv("SUITE_CACHE", str(tmp_path))
    help_dir = tmp_path / "l10n-pt" / "help"
    help_dir.mkdir(parents=True)
    rows = [f"Paragraph {i} of the help.\tParágrafo {i} da ajuda.\thelp-swriter" for i in range(30)]
    rows.append("x" * 300 + "\ty\thelp")                  # longer than help_max_chars: left out
    (help_dir / "pt_BR.tsv").write_text("source\ttarget\tcatalog\n" + "\n".join(rows) + "\n")
    evaluation = TranslationEvalConfig(general_text=False, help_examples=10, help_max_chars=100)
    parts = extra_tests.load(evaluation, TranslationDataConfig())
    assert list(parts) == ["help"] and len(parts["help"]) == 10
    assert all(s.source.startswith("Paragraph") for s in parts["help"])
    assert [s.source for s in parts["help"]] == [s.source for s in extra_tests.load(evaluation,
                                                                                     TranslationDataConfig())["help"]]


def test_the_notes_say_when_tuning_forgets_general_text():
    untuned = {"general_chrf": 60.0, "general_strings": 65}
    kept = extra_tests.forgetting_note(untuned, {"general_chrf": 59.5, "general_strings": 65})
    lost = extra_tests.forgetting_note(untuned, {"general_chrf": 58.4, "general_strings": 65})
    assert "(-0.50)" in kept and "forgets" not in kept
    assert "(-1.60)" in lost and "forgets general text" in lost and "WiSE-FT" in lost
    assert extra_tests.forgetting_note({}, {"general_chrf": 1.0}) is None
    mixed = extra_tests.forgetting_note(untuned, {"general_chrf": 58.4, "general_strings": 65}, untuned_share=0.3)
    assert "tuned with 30% of the untuned weights mixed back in against 60.0" in mixed and "WiSE-FT, now 0.3" in mixed
    both = extra_tests.forgetting_note(untuned, {"general_chrf": 58.4, "general_strings": 65}, untuned_share=0.1,
                                       replayed=2000)
    assert "tuned with 2000 general sentences replayed and 10% of the untuned weights mixed back in" in both
    assert "data.general_replay" in both and "beside the strings, now 2000 pairs)" in both


def test_every_system_is_scored_on_each_extra_part():
    parts = {"general": [extra_tests.Segment("Everyone has rights.", "Todos têm direitos.")]}
    perfect = extra_tests.scores(parts, {"test": [], "general": ["Todos têm direitos."]})
    wrong = extra_tests.scores(parts, {"test": [], "general": ["Nada."]})
    assert perfect["general_chrf"] == 100.0 and perfect["general_strings"] == 1
    assert wrong["general_chrf"] < 20
    assert extra_tests.scores(parts, {"test": []}) == {}        # a baseline: interface strings only
