"""Any AutoModelForSeq2SeqLM works: a tiny Marian model built here (random weights, a
tokenizer trained here) is saved to a folder and tuned through the same code path as a
hub model (model.source = that folder)."""

import json

import pytest

import suite
from suite.translation.data import TranslationDataConfig, prepare

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny_marian(tmp_path_factory):
    from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers
    from transformers import MarianConfig, MarianMTModel, PreTrainedTokenizerFast

    splits = prepare(TranslationDataConfig(source="django-de", target_language="de",
                                           test_catalogs=["sessions", "sites", "redirects"]))
    texts = [p.source for p in splits.train] + [p.target for p in splits.train]
    backend = Tokenizer(models.WordLevel(unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    backend.train_from_iterator(texts, trainers.WordLevelTrainer(special_tokens=["<pad>", "</s>", "<unk>"]))
    backend.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, pad_token="<pad>", eos_token="</s>",
                                        unk_token="<unk>")
    config = MarianConfig(vocab_size=len(tokenizer), d_model=32, encoder_layers=1, decoder_layers=1,
                          encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=64,
                          decoder_ffn_dim=64, max_position_embeddings=64, pad_token_id=0, eos_token_id=1,
                          decoder_start_token_id=0, forced_eos_token_id=1)
    folder = tmp_path_factory.mktemp("tiny-marian")
    MarianMTModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_a_local_marian_model_tunes_generates_and_is_scored_untuned_too(tiny_marian, runs_dir):
    run = suite.tune("translation/warm-start-tiny", model__source=str(tiny_marian), model__decoder_layers=None,
                     model__new_weights_lr_scale=1.0, train__epochs=5, train__learning_rate=6e-3,
                     output__runs_dir=str(runs_dir))
    metrics = run.metrics()
    assert metrics["data"]["warm_started"] is False
    assert {"zero-shot", "tuned", "baseline:copy-source"} <= set(metrics["models"])
    losses = [e["loss"] for e in json.loads((run.path / "logs/log_history.json").read_text()) if "loss" in e]
    assert sum(losses[-3:]) / 3 < 0.8 * sum(losses[:3]) / 3
    outputs = suite.load(run.path).predict(["Delete session", "%(count)s sites"])
    assert all(isinstance(o["translation"], str) for o in outputs)
    assert outputs[1]["source"] == "%(count)s sites"
