"""The spam classifier: a pretrained text encoder with a two-class head, and its predictor.

Orientation: label 1 is spam, 0 is ham; every score is the probability of spam.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from suite.core import sources
from suite.core.recipe import ModelConfig

PREDICTOR_FILE = "suite.json"   # beside the weights: threshold and input settings used by predict


@dataclass
class SpamModelConfig(ModelConfig):
    """The recipe's ``model`` section for spam."""

    max_length: int = field(default=128, metadata={"help": "Tokens kept per message (the rest is cut)."})
    pad_to_max_length: bool = field(default=False, metadata={
        "help": "Pad every message to max_length (the naive way; only for benchmarking dynamic padding)."})
    class_weights: bool = field(default=False, metadata={
        "help": "Weight the loss by inverse class frequency, for imbalanced data."})

    def __post_init__(self):
        if self.max_length < 8:
            raise ValueError(f"max_length: expected an integer of at least 8, got {self.max_length!r}")


def build_classifier(model: SpamModelConfig) -> tuple[Any, Any]:
    """Load (or, with ``pretrained: false``, randomly initialise) a 2-class classifier and its tokenizer."""
    from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

    folder = str(sources.resolve(model.source))
    labels = {"id2label": {0: "ham", 1: "spam"}, "label2id": {"ham": 0, "spam": 1}}
    tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=model.trust_remote_code)
    if model.pretrained:
        network = AutoModelForSequenceClassification.from_pretrained(
            folder, num_labels=2, trust_remote_code=model.trust_remote_code, **labels)
    else:
        config = AutoConfig.from_pretrained(folder, num_labels=2, trust_remote_code=model.trust_remote_code,
                                            **labels)
        network = AutoModelForSequenceClassification.from_config(config)
    return network, tokenizer


def tokenize(tokenizer: Any, texts: list[str], labels: list[int] | None, model: SpamModelConfig):
    """A ``datasets.Dataset`` of token ids (with a ``length`` column for length grouping)."""
    from datasets import Dataset

    padding = "max_length" if model.pad_to_max_length else False
    encoded = tokenizer(texts, truncation=True, max_length=model.max_length, padding=padding)
    columns = {"input_ids": encoded["input_ids"], "attention_mask": encoded["attention_mask"],
               "length": [len(ids) for ids in encoded["input_ids"]]}
    if labels is not None:
        columns["labels"] = list(labels)
    return Dataset.from_dict(columns)


def spam_probabilities(network: Any, tokenizer: Any, texts: list[str], *, max_length: int,
                       batch_size: int = 64) -> np.ndarray:
    """P(spam) for each text; batches sorted by length so padding stays small."""
    import torch

    device = next(network.parameters()).device
    order = np.argsort([len(t) for t in texts], kind="stable")
    scores = np.empty(len(texts), dtype=np.float64)
    network.eval()
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            index = order[start:start + batch_size]
            batch = tokenizer([texts[i] for i in index], truncation=True, max_length=max_length,
                              padding=True, return_tensors="pt").to(device)
            logits = network(**batch).logits.float()
            scores[index] = torch.softmax(logits, dim=-1)[:, 1].cpu().numpy()
    return scores


@dataclass
class SpamPredictor:
    """A tuned spam filter: ``predict(texts)`` gives P(spam) and the decision at the saved threshold."""

    network: Any
    tokenizer: Any
    threshold: float
    max_length: int
    settings: dict

    @classmethod
    def from_folder(cls, folder: Path) -> "SpamPredictor":
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        settings = json.loads((folder / PREDICTOR_FILE).read_text(encoding="utf-8"))
        network = AutoModelForSequenceClassification.from_pretrained(str(folder))
        tokenizer = AutoTokenizer.from_pretrained(str(folder))
        return cls(network, tokenizer, settings["threshold"], settings["max_length"], settings)

    def save(self, folder: Path) -> None:
        """Write weights (safetensors), tokenizer and the predictor settings to ``folder``."""
        self.network.save_pretrained(str(folder))
        self.tokenizer.save_pretrained(str(folder))
        (folder / PREDICTOR_FILE).write_text(json.dumps(self.settings, indent=2) + "\n", encoding="utf-8")

    def scores(self, texts: list[str]) -> np.ndarray:
        return spam_probabilities(self.network, self.tokenizer, texts, max_length=self.max_length)

    def predict(self, inputs: list[str]) -> list[dict]:
        """One ``{"spam_probability", "label", "threshold"}`` per text."""
        return [{"spam_probability": round(float(p), 6), "label": "spam" if p >= self.threshold else "ham",
                 "threshold": self.threshold} for p in self.scores(list(inputs))]

    def read_inputs(self, path: Path) -> list[str]:
        """Messages from a file: .txt (one per line), .csv/.jsonl (the recipe's text column), .eml, mbox."""
        from suite.spam.data import read_texts

        return read_texts(Path(path), text_column=self.settings.get("text_column", "text"),
                          include_headers=self.settings.get("include_headers", False))


def weighted_loss(train_labels: np.ndarray):
    """A Trainer ``compute_loss_func``: cross-entropy weighted by inverse class frequency."""
    import torch

    counts = np.bincount(train_labels, minlength=2).astype(np.float64)
    weights = torch.tensor(counts.sum() / (2 * np.maximum(counts, 1)), dtype=torch.float32)

    def loss(outputs, labels, num_items_in_batch=None):
        logits = outputs["logits"]
        return torch.nn.functional.cross_entropy(logits.float(), labels, weight=weights.to(logits.device))

    return loss
