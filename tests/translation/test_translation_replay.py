"""Replay against forgetting (``data.general_replay``): general English the untuned model translated, trained on."""

import pytest
import torch

import suite
from suite.core.errors import DataError, RecipeError
from suite.core.recipe import load_recipe
from suite.core.registry import get_domain
from suite.translation import replay
from suite.translation.config import TranslationModelConfig


def test_the_sentences_are_a_seeded_sample_of_ordinary_english():
    first, again, other = replay.sentences(50, 0), replay.sentences(50, 0), replay.sentences(50, 1)
    assert first == again != other and len(set(first)) == 50
    assert all(s[0].isupper() and s[-1] in ".!?" and 6 <= len(s.split()) <= 30 for s in first)
    everything = replay.sentences(100_000, 0)
    assert everything[:50] == first and len(everything) == len(set(everything)) > 7000   # all of them, at most


@pytest.mark.parametrize(("share", "pairs", "expected"), [(0, 500, 0), (0.2, 800, 200), (0.5, 37, 37),
                                                          (0.16, 37060, 7059)])
def test_a_share_of_replay_pairs_scales_with_the_training_set(share, pairs, expected):
    assert replay.count(share, pairs) == expected


def test_a_missing_data_set_is_one_line(monkeypatch):
    monkeypatch.setattr(replay.resources, "bundled_datasets", lambda: {})
    with pytest.raises(DataError, match="the bundled data set general-en is missing"):
        replay.sentences(5, 0)


class FakeTranslator:
    """What replay_pairs reads of a Translator: its weights, settings and translate()."""

    def __init__(self, weight: float):
        self.network = torch.nn.Linear(2, 2)
        torch.nn.init.constant_(self.network.weight, weight)
        self.model, self.shortlist, self.target_language = TranslationModelConfig(), None, "pt_BR"
        self.calls = 0

    def translate(self, texts, *, progress=False):
        self.calls += 1
        return [f"pt:{text}" if "empty" not in text else "" for text in texts]


def test_replay_pairs_are_the_untuned_translations_decoded_once_per_model(tmp_path, monkeypatch):
    monkeypatch.setenv("SUITE_CACHE", str(tmp_path))
    texts = ["One plain sentence.", "An empty answer here.", "A third one."]
    translator = FakeTranslator(0.5)
    pairs = replay.replay_pairs(translator, texts)
    assert [(p.source, p.target, p.catalog) for p in pairs] == [
        ("One plain sentence.", "pt:One plain sentence.", replay.CATALOG), ("A third one.", "pt:A third one.",
                                                                            replay.CATALOG)]   # no empty target
    assert replay.replay_pairs(translator, texts) == pairs and translator.calls == 1          # read back
    changed = FakeTranslator(0.25)                                                             # other weights
    assert replay.replay_pairs(changed, texts) == pairs and changed.calls == 1
    assert replay.replay_pairs(translator, texts[:2]) == pairs[:1] and translator.calls == 2   # other sentences
    assert len(list((tmp_path / "replay").glob("*.tsv"))) == 3
    assert not [p for p in (tmp_path / "replay").iterdir() if p.suffix != ".tsv"]      # no temporary file left
    for damaged in (b"\xff\xfe not UTF-8", b"source\ttarget\nOne plain sentence.\tpt:One\n"):   # bad, short
        for path in (tmp_path / "replay").glob("*.tsv"):
            path.write_bytes(damaged)
        calls = translator.calls
        assert replay.replay_pairs(translator, texts) == pairs and translator.calls == calls + 1   # decoded again


@pytest.mark.slow
def test_the_training_set_gains_the_untuned_models_answers(tmp_path, monkeypatch):
    monkeypatch.setenv("SUITE_CACHE", str(tmp_path))
    recipe = load_recipe("translation/tiny", {"data.general_replay": 0.1})
    domain = get_domain("translation")
    data = domain.prepare_data(recipe)
    replayed = replay.count(0.1, len(data.train))
    model = domain.build_model(recipe, data)
    inputs = domain.training_inputs(recipe, data, model)
    assert replayed > 0 and len(inputs.train_dataset) == len(data.train) + replayed
    assert domain.training_examples(recipe, data) == len(inputs.train_dataset)
    assert data.summary()["general_replay"] == replayed and len(data.validation) > 0
    untuned = domain.make_predictor(recipe, data, model, tuned=False).translate(data.replay_sources)
    cached = replay.replay_pairs(domain.make_predictor(recipe, data, model, tuned=False), data.replay_sources)
    assert [p.target for p in cached] == untuned


@pytest.mark.parametrize("override", [{"model.pretrained": False}, {"model.source": "bundled:minilm"}])
def test_replay_with_a_model_that_cannot_translate_is_refused_before_it_loads(override, tmp_path):
    with pytest.raises(RecipeError, match="data.general_replay: replay pairs are the untuned model's translations"):
        suite.tune("translation/tiny", data__general_replay=0.1, output__runs_dir=str(tmp_path),
                   **{key.replace(".", "__"): value for key, value in override.items()})
    assert not list(tmp_path.iterdir())
