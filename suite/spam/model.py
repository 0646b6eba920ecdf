"""The spam classifier: a pretrained text encoder with a two-class head, and its predictor.

Orientation: label 1 is spam, 0 is ham; every score is the probability of spam.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from suite.core import sources
from suite.core.config import load_settings, save_settings
from suite.spam.config import SpamDataConfig, SpamModelConfig

LABELS = {0: "ham", 1: "spam"}


def build_classifier(model: SpamModelConfig) -> tuple[Any, Any]:
    """Load (or, with ``pretrained: false``, randomly initialise) a 2-class classifier and its tokenizer."""
    from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

    folder = str(sources.resolve(model.source))
    labels = {"id2label": dict(LABELS), "label2id": {name: i for i, name in LABELS.items()}}
    tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=model.trust_remote_code)
    if model.pretrained:
        network = AutoModelForSequenceClassification.from_pretrained(
            folder, num_labels=2, trust_remote_code=model.trust_remote_code, **labels)
    else:
        config = AutoConfig.from_pretrained(folder, num_labels=2, trust_remote_code=model.trust_remote_code,
                                            **labels)
        network = AutoModelForSequenceClassification.from_config(config)
    return network, tokenizer


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


def spam_probabilities(network: Any, tokenizer: Any, texts: list[str], *, max_length: int, tail_tokens: int = 0,
                       batch_size: int = 64) -> np.ndarray:
    """P(spam) for each text (truncated as :func:`encode` says); batches sorted by length so padding stays small."""
    import torch

    device = next(network.parameters()).device
    ids = encode(tokenizer, texts, max_length=max_length, tail_tokens=tail_tokens)
    order = np.argsort([len(row) for row in ids], kind="stable")
    scores = np.empty(len(texts), dtype=np.float64)
    network.eval()
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            index = order[start:start + batch_size]
            batch = tokenizer.pad({"input_ids": [ids[i] for i in index]}, return_tensors="pt").to(device)
            logits = network(**batch).logits.float()
            scores[index] = torch.softmax(logits, dim=-1)[:, 1].cpu().numpy()
    return scores


@dataclass
class SpamPredictor:
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
    def from_folder(cls, folder: Path) -> "SpamPredictor":
        """Load what :meth:`save` wrote."""
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        settings = load_settings(folder, {"model": SpamModelConfig, "data": SpamDataConfig})
        network = AutoModelForSequenceClassification.from_pretrained(str(folder))
        tokenizer = AutoTokenizer.from_pretrained(str(folder))
        return cls(network, tokenizer, settings["model"], settings["data"], settings["threshold"],
                   settings["target_fpr"])

    def save(self, folder: Path) -> None:
        """Write weights (safetensors), tokenizer and the predictor settings to ``folder``."""
        self.network.save_pretrained(str(folder))
        self.tokenizer.save_pretrained(str(folder))
        save_settings(folder, {"model": self.model, "data": self.data}, threshold=self.threshold,
                      target_fpr=self.target_fpr, labels={str(k): v for k, v in LABELS.items()})

    def scores(self, texts: list[str]) -> np.ndarray:
        """P(spam) of each text."""
        return spam_probabilities(self.network, self.tokenizer, texts, max_length=self.model.max_length,
                                  tail_tokens=self.model.tail_tokens)

    def predict(self, inputs: list[str]) -> list[dict]:
        """One ``{"spam_probability", "label", "threshold"}`` per text."""
        return self.decide(self.scores(list(inputs)))

    def decide(self, scores: np.ndarray, threshold: float | None = None) -> list[dict]:
        """Predictions from P(spam) scores, at ``threshold`` (default: this predictor's own)."""
        threshold = self.threshold if threshold is None else threshold
        return [{"spam_probability": round(float(p), 6), "label": LABELS[int(p >= threshold)],
                 "threshold": threshold} for p in scores]

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
