"""The two-tower network and its training examples, with a stand-in encoder (fast: no MiniLM)."""

import numpy as np
import pytest
import torch

from suite.recommendation.config import RecModelConfig
from suite.recommendation.data import TASTE_VALIDATION, TRAIN, VALIDATION, RecDataConfig, load_splits
from suite.recommendation.pairs import Collator, best_text_weight, training_examples, validation_inputs
from suite.recommendation.phases import parts_of, phases_of
from suite.recommendation.towers import TextWeight, TwoTower, neutral_unknown

WORDS = 64


class _Encoder(torch.nn.Module):
    """Stands in for the sentence encoder: a bag of hashed words."""

    def __init__(self):
        super().__init__()
        self.words = torch.nn.EmbeddingBag(WORDS, 8, mode="mean")

    def tokenize(self, texts):
        ids = [[hash(w) % WORDS for w in t.split()] or [0] for t in texts]
        width = max(len(i) for i in ids)
        return {"input_ids": torch.tensor([i + [i[-1]] * (width - len(i)) for i in ids])}

    def forward(self, features):
        return {"sentence_embedding": self.words(features["input_ids"])}


@pytest.fixture(scope="module")
def splits():
    return load_splits(RecDataConfig(source="synthetic", synthetic_users=40, synthetic_items=60,
                                     split="next-and-taste", cold_start_items=0.1))


def _network(splits, id_dim=8):
    known = np.zeros(splits.n_items, dtype=bool)
    known[splits.matrix(TRAIN).indices] = True
    return TwoTower(_Encoder(), splits.item_texts, known, id_dim=id_dim, scale=5.0, id_draws=2)


def test_examples_read_training_positives_only_and_mix_the_two_kinds(splits):
    model = RecModelConfig(source="bundled:minilm", max_pairs_per_user=4, taste_pairs=0.5, history_items=2)
    examples = training_examples(splits, model, seed=0)
    by_user = {}
    for example in examples:
        by_user.setdefault(tuple(example["items"]), []).append(example)
    for items, rows in by_user.items():
        assert len(rows) == 4 and all(r["item"] in items for r in rows)     # 2 next-item + 2 taste pairs per user
    train_texts = {splits.item_texts[i] for u in range(splits.n_users) for i in splits.history(u, TRAIN)}
    for example in examples:
        assert set(example["anchor"].split(" ; ")) <= train_texts and example["positive"] in train_texts
    assert np.exp([e["log_q"] for e in examples]).max() <= 1
    same = training_examples(splits, model, seed=0)
    assert [e["anchor"] for e in same] == [e["anchor"] for e in examples]


def test_training_loss_reaches_both_towers(splits):
    network = _network(splits)
    model = RecModelConfig(source="bundled:minilm", max_pairs_per_user=2, taste_pairs=0.5)
    batch = Collator(network.encoder.tokenize)(training_examples(splits, model, seed=0)[:16])
    loss = network(**batch)["loss"]
    loss.backward()
    assert torch.isfinite(loss) and loss > 0
    for module in (network.encoder.words, network.bag_embeddings, network.item_embeddings, network.item_bias):
        assert module.weight.grad is not None and module.weight.grad.abs().sum() > 0
    # items without training positives never get a gradient: they are never targets nor in a bag
    unknown = ~network.known
    assert network.item_embeddings.weight.grad[unknown].abs().sum() == 0


def test_evaluation_rows_give_each_towers_scores_and_cold_items_a_neutral_id_score(splits):
    network = _network(splits).eval()
    rows, _ = validation_inputs(splits, RecModelConfig(source="bundled:minilm", id_dim=8))
    out = network(**Collator(network.encoder.tokenize)(rows[:8]))
    text, ids = out["text"], out["ids"]
    assert text.shape == ids.shape == (8, splits.n_items) and torch.isfinite(out["loss"])
    cold = torch.as_tensor(splits.cold_items)
    assert torch.allclose(ids[:, cold], ids[:, network.known].mean(dim=1, keepdim=True).expand(-1, cold.numel()))
    array = np.array([[1.0, 5.0, 3.0]])
    assert neutral_unknown(array, np.array([True, False, True])).tolist() == [[1.0, 2.0, 3.0]]


def _validation_users(splits):
    phases = phases_of(splits)
    history, users = parts_of(phases)["validation"]
    lengths = np.array([splits.history(int(u), *history).size for u in users])
    targets = splits.matrix(VALIDATION, TASTE_VALIDATION)[users].toarray()
    return phases, lengths, targets, np.random.default_rng(0).normal(size=targets.shape)


def test_the_text_weight_is_the_best_on_validation(splits):
    phases, lengths, targets, noise = _validation_users(splits)
    weight, values = best_text_weight(targets * 10 + noise, noise, phases, lengths, [0.1, 1.0])
    assert weight == TextWeight(1.0) and min(values.values()) > 0.9         # the text scores know the answers
    weight, _ = best_text_weight(noise, targets * 10 + noise, phases, lengths, [0.1, 1.0])
    assert weight == TextWeight(0.1)


def test_a_per_user_text_weight_is_chosen_where_text_knows_new_users_and_ids_known_ones(splits):
    phases, lengths, targets, noise = _validation_users(splits)
    short = (lengths <= np.median(lengths))[:, None]
    text = np.where(short, targets * 10 + noise, noise * 10)      # text: right for short histories, noise for long
    ids = np.where(short, noise, targets * 10 + noise)            # ids: the other way round
    weights, halves_at = [0.1, 1.0, 10.0], [None, 1.0, 3.0, 10.0]
    same, same_values = best_text_weight(text, ids, phases, lengths, weights)
    own, own_values = best_text_weight(text, ids, phases, lengths, weights, halves_at)
    assert same.halves_at is None and own.halves_at in halves_at[1:]
    assert np.mean(list(own_values.values())) > np.mean(list(same_values.values())) + 0.1
    assert own_values == best_text_weight(own.weight * own.halves_at / (own.halves_at + lengths[:, None]) * text,
                                          ids, phases, lengths, [1.0])[1]       # what combine computes


def test_a_text_weight_halves_at_its_history_length():
    assert TextWeight(4.0, halves_at=5).of(np.array([0, 5, 15])).tolist() == [4.0, 2.0, 1.0]
    assert TextWeight(0.5).of(np.array([1, 100])).tolist() == [0.5, 0.5]
    assert TextWeight(0.5).as_metrics() == {"text_weight": 0.5}
    assert TextWeight(4.0, 5.0).as_metrics() == {"text_weight": 4.0, "text_weight_halves_at": 5.0}
    text, ids = np.ones((2, 3)), np.zeros((2, 3))
    assert TextWeight(2.0, halves_at=1).combine(text, ids, np.array([1, 3])).tolist() == [[1.0] * 3, [0.5] * 3]
