"""The spam classifier: a sentence encoder's pooled embedding and one linear layer over it, and its predictor.

The encoder is a sentence-transformers model (the bundled all-MiniLM-L6-v2: mean pooling, unit length), so
the head sees the embedding the encoder was pretrained to produce: what a linear probe fits
(``train.strategy: linear-probe``, ``lp-ft``) and what contrastive tuning shapes (``contrastive``).

Orientation: label 1 is spam, 0 is ham; every score is the probability of spam.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from suite.core import sources
from suite.core.config import load_settings, save_settings
from suite.core.errors import ModelSourceError
from suite.core.text_encoder import load_encoder
from suite.spam.config import SpamDataConfig, SpamModelConfig

LABELS = {0: "ham", 1: "spam"}
HEAD_FILE = "classifier.safetensors"


class SpamClassifier(torch.nn.Module):
    """``forward(input_ids, attention_mask, labels=None) -> {"loss", "logits"}``: two logits (ham, spam) from a
    linear layer over the sentence encoder's embedding, so the shared Trainer trains it.

    Args:
        encoder: a ``SentenceTransformer``.
        dropout: dropout on the embedding before the head, while training.
    """

    main_input_name = "input_ids"

    def __init__(self, encoder: Any, *, dropout: float = 0.1):
        super().__init__()
        self.encoder = encoder
        self.dropout = torch.nn.Dropout(dropout)
        self.classifier = torch.nn.Linear(encoder.get_embedding_dimension(), len(LABELS))

    def embed(self, input_ids, attention_mask):
        """The encoder's sentence embedding of each text."""
        return self.encoder({"input_ids": input_ids, "attention_mask": attention_mask})["sentence_embedding"]

    def forward(self, input_ids, attention_mask, labels=None):
        logits = self.classifier(self.dropout(self.embed(input_ids, attention_mask)))
        out = {"logits": logits}
        if labels is not None:
            out["loss"] = torch.nn.functional.cross_entropy(logits.float(), labels)
        return out


def build_classifier(model: SpamModelConfig, *, dropout: float = 0.1) -> tuple[SpamClassifier, Any]:
    """The classifier and its tokenizer from ``model.source``: a new head over a pretrained (or, with
    ``pretrained: false``, random) encoder, or a spam model a run saved (its head too: a run continued on new
    labels); ``dropout`` before the head while training."""
    path = sources.resolve(model.source)
    encoder = load_encoder(path, pretrained=model.pretrained, max_length=model.max_length,
                           trust_remote_code=model.trust_remote_code)
    network = SpamClassifier(encoder, dropout=dropout)
    if (path / HEAD_FILE).is_file() and model.pretrained:
        _load_head(network, path)
    return network, encoder.tokenizer


def _load_head(network: SpamClassifier, folder: Path) -> None:
    from safetensors.torch import load_file

    network.classifier.load_state_dict(load_file(str(folder / HEAD_FILE)))


def encode(tokenizer: Any, texts: list[str], *, max_length: int, tail_tokens: int = 0) -> list[list[int]]:
    """Token ids of each text with the tokenizer's special tokens, at most ``max_length`` of them.

    A longer text keeps its first tokens, or with ``tail_tokens`` its first and its last ones
    (head-and-tail truncation): ``[CLS] head... tail... [SEP]``, where the tail is the last
    ``tail_tokens`` tokens of the whole text.

    Example:
        >>> text = "one two three four five six seven eight nine ten"
        >>> tokenizer.decode(encode(tokenizer, [text], max_length=8, tail_tokens=3)[0])
        '[CLS] one two three eight nine ten [SEP]'
    """
    head = tokenizer(texts, truncation=True, max_length=max_length, return_special_tokens_mask=True)
    if not tail_tokens:
        return head["input_ids"]
    plain = tokenizer(texts, add_special_tokens=False, verbose=False)["input_ids"]   # no too-long warning
    out = []
    for ids, special, words in zip(head["input_ids"], head["special_tokens_mask"], plain):
        prefix = next((i for i, flag in enumerate(special) if not flag), len(ids))   # [CLS]...
        kept = len(ids) - sum(special)                                                # text tokens kept
        if len(words) <= kept or kept <= tail_tokens:
            out.append(ids)
            continue
        cut = prefix + kept - tail_tokens
        out.append(ids[:cut] + words[-tail_tokens:] + ids[prefix + kept:])
    return out


def tokenize(tokenizer: Any, texts: list[str], labels: list[int] | None, model: SpamModelConfig):
    """A ``datasets.Dataset`` of token ids (with a ``length`` column for length grouping)."""
    from datasets import Dataset

    ids = encode(tokenizer, texts, max_length=model.max_length, tail_tokens=model.tail_tokens)
    lengths = [len(row) for row in ids]
    if model.pad_to_max_length:      # the naive way, kept to measure what dynamic padding saves
        ids = [row + [tokenizer.pad_token_id] * (model.max_length - len(row)) for row in ids]
    masks = [[1] * n + [0] * (len(row) - n) for n, row in zip(lengths, ids)]
    columns = {"input_ids": ids, "attention_mask": masks, "length": [len(row) for row in ids]}
    if labels is not None:
        columns["labels"] = list(labels)
    return Dataset.from_dict(columns)


def spam_probabilities(network: SpamClassifier, tokenizer: Any, texts: list[str], *, max_length: int,
                       tail_tokens: int = 0, batch_size: int = 64) -> np.ndarray:
    """P(spam) for each text (truncated as :func:`encode` says)."""
    def score(batch):
        return torch.softmax(network(**batch)["logits"].float(), dim=-1)[:, 1]

    return _batched(network, tokenizer, texts, score, max_length=max_length, tail_tokens=tail_tokens,
                    batch_size=batch_size)


def embeddings(network: SpamClassifier, tokenizer: Any, texts: list[str], *, max_length: int, tail_tokens: int = 0,
               batch_size: int = 64) -> np.ndarray:
    """The encoder's embedding of each text, as the head sees it (no dropout): what a linear probe fits."""
    return _batched(network, tokenizer, texts, lambda batch: network.embed(**batch).float(), max_length=max_length,
                    tail_tokens=tail_tokens, batch_size=batch_size)


def by_length(tokenizer: Any, texts: list[str], fn, *, max_length: int, tail_tokens: int,
              batch_size: int) -> np.ndarray:
    """``fn`` of each batch of tokens (``{"input_ids", "attention_mask"}`` as int64 numpy arrays), texts batched by
    length so that padding stays small; one row per text, in order. The PyTorch and the ONNX predictor share it."""
    ids = encode(tokenizer, texts, max_length=max_length, tail_tokens=tail_tokens)
    order = np.argsort([len(row) for row in ids], kind="stable")
    rows: list = [None] * len(texts)
    for start in range(0, len(texts), batch_size):
        index = order[start:start + batch_size]
        padded = tokenizer.pad({"input_ids": [ids[i] for i in index]}, return_tensors="np")
        batch = {key: padded[key].astype(np.int64) for key in ("input_ids", "attention_mask")}
        for i, value in zip(index, np.asarray(fn(batch), dtype=np.float64)):
            rows[i] = value
    return np.asarray(rows) if rows else np.empty(0)


def _batched(network: SpamClassifier, tokenizer: Any, texts: list[str], fn, *, max_length: int, tail_tokens: int,
             batch_size: int) -> np.ndarray:
    """``fn`` of each batch of tokens as tensors, in eval mode (see :func:`by_length`)."""
    device = next(network.parameters()).device
    was_training = network.training
    network.eval()
    try:
        with torch.inference_mode():
            return by_length(tokenizer, texts, lambda batch: fn({k: torch.from_numpy(v).to(device)
                                                                 for k, v in batch.items()}).cpu().numpy(),
                             max_length=max_length, tail_tokens=tail_tokens, batch_size=batch_size)
    finally:
        network.train(was_training)


def decisions(scores: np.ndarray, threshold: float) -> list[dict]:
    """One ``{"spam_probability", "label", "threshold"}`` per P(spam) score, decided at ``threshold``."""
    return [{"spam_probability": round(float(p), 6), "label": LABELS[int(p >= threshold)], "threshold": threshold}
            for p in scores]


class SpamDecisions:
    """What every spam predictor (PyTorch or ONNX) does with its ``scores``: decide at its ``threshold`` and say
    which texts its ``tokenizer`` cuts at ``model.max_length``. A subclass has those four attributes."""

    def predict(self, inputs: list[str]) -> list[dict]:
        """One ``{"spam_probability", "label", "threshold"}`` per text."""
        return self.decide(self.scores(list(inputs)))

    @property
    def input_limit(self) -> str:
        """The most of a text the model reads (:class:`suite.core.registry.ReportsTruncation`)."""
        return f"model.max_length = {self.model.max_length} tokens"

    def truncated(self, inputs: list[str]) -> list[bool]:
        """Whether each text has more tokens than ``model.max_length`` (see :func:`longer_than_read`)."""
        return longer_than_read(self.tokenizer, inputs, self.model.max_length)

    def decide(self, scores: np.ndarray, threshold: float | None = None) -> list[dict]:
        """Predictions from P(spam) scores, at ``threshold`` (default: this predictor's own)."""
        return decisions(scores, self.threshold if threshold is None else threshold)


@dataclass
class SpamPredictor(SpamDecisions):
    """A tuned spam filter: ``predict(texts)`` gives P(spam) and the decision at the saved threshold.

    Attributes:
        network, tokenizer: the classifier and its tokenizer.
        model, data: the recipe sections it was trained with (length, text column, headers).
        threshold: the operating threshold (chosen on validation for ``target_fpr``).
        target_fpr: the largest share of ham the threshold was chosen to flag.
    """

    network: Any
    tokenizer: Any
    model: SpamModelConfig
    data: SpamDataConfig
    threshold: float
    target_fpr: float

    @classmethod
    def from_folder(cls, folder: Path) -> SpamPredictor:
        """Load what :meth:`save` wrote.

        Raises:
            ModelSourceError: a model folder written by an earlier version (a BERT classification head).
        """
        settings = load_settings(folder, {"model": SpamModelConfig, "data": SpamDataConfig})
        if not (Path(folder) / HEAD_FILE).is_file():
            raise ModelSourceError(f"{folder}: a spam model of an earlier version of suite (no {HEAD_FILE}); "
                                   "train it again")
        network = SpamClassifier(load_encoder(Path(folder), max_length=settings["model"].max_length))
        _load_head(network, Path(folder))
        return cls(network.eval(), network.encoder.tokenizer, settings["model"], settings["data"],
                   settings["threshold"], settings["target_fpr"])

    def save(self, folder: Path) -> None:
        """Write the encoder (a sentence-transformers folder, safetensors), the head and the settings."""
        from safetensors.torch import save_file

        self.network.encoder.save(str(folder), create_model_card=False)
        save_file({k: v.contiguous() for k, v in self.network.classifier.state_dict().items()},
                  str(Path(folder) / HEAD_FILE))
        save_settings(folder, {"model": self.model, "data": self.data}, threshold=self.threshold,
                      target_fpr=self.target_fpr, labels={str(k): v for k, v in LABELS.items()})

    def scores(self, texts: list[str], *, batch_size: int = 64) -> np.ndarray:
        """P(spam) of each text."""
        return spam_probabilities(self.network, self.tokenizer, texts, max_length=self.model.max_length,
                                  tail_tokens=self.model.tail_tokens, batch_size=batch_size)


def longer_than_read(tokenizer: Any, texts: list[str], max_length: int) -> list[bool]:
    """Whether each text has more tokens than ``max_length`` (the model then reads its head, and with
    ``tail_tokens`` its tail: see :func:`encode`)."""
    whole = tokenizer(list(texts), verbose=False)["input_ids"]
    return [len(ids) > max_length for ids in whole]


def weighted_loss(train_labels: np.ndarray):
    """A Trainer ``compute_loss_func``: cross-entropy weighted by inverse class frequency, scaled for gradient
    accumulation as the Trainer expects of such a function."""
    import torch

    counts = np.bincount(train_labels, minlength=2).astype(np.float64)
    weights = torch.tensor(counts.sum() / (2 * np.maximum(counts, 1)), dtype=torch.float32)

    def loss(outputs, labels, num_items_in_batch=None):
        logits = outputs["logits"]
        mean = torch.nn.functional.cross_entropy(logits.float(), labels, weight=weights.to(logits.device))
        # the Trainer does not divide a compute_loss_func's loss by the accumulation steps: this batch's share of
        # the messages of the whole optimiser step does (1 without gradient accumulation)
        return mean if num_items_in_batch is None else mean * labels.numel() / num_items_in_batch

    return loss
