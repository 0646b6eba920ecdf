"""The recommender: a sentence encoder that embeds item texts and user histories, and its predictor.

A user is the text of their most recent liked items (newest first, ``model.history_items``
of them); an item is its text. Both go through the same encoder; the score of an item
for a user is the cosine similarity of the two embeddings. Tuning pulls a history text
towards the item that came next (a multiple negatives ranking loss, by default with the
popularity correction of ``losses.py``: the other items of the batch are the negatives),
on pairs built from training interactions only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from suite.core import sources
from suite.core.errors import DataError
from suite.core.recipe import ModelConfig

PREDICTOR_FILE = "suite.json"
CATALOGUE_FILE = "catalogue.json"
EMBEDDINGS_FILE = "item_embeddings.npy"


@dataclass
class RecModelConfig(ModelConfig):
    """The recipe's ``model`` section for recommendation."""

    max_length: int = field(default=128, metadata={"help": "Tokens kept per history or item text."})
    history_items: int = field(default=5, metadata={
        "help": "Most recent items (newest first) that make a user's history text."})
    max_pairs_per_user: int | None = field(default=8, metadata={
        "help": "Training pairs (history -> next item) sampled per user (null: all of them)."})
    loss: Literal["logq-mnrl", "mnrl"] = field(default="logq-mnrl", metadata={
        "help": "logq-mnrl: in-batch negatives with the popularity (sampling-bias) correction; mnrl: without it."})
    loss_scale: float = field(default=20.0, metadata={
        "help": "Inverse temperature of the multiple negatives ranking loss."})

    def __post_init__(self):
        if self.max_length < 8:
            raise ValueError(f"max_length: expected an integer of at least 8, got {self.max_length!r}")
        if self.history_items < 1:
            raise ValueError(f"history_items: expected a positive integer, got {self.history_items!r}")
        if self.max_pairs_per_user is not None and self.max_pairs_per_user < 1:
            raise ValueError(f"max_pairs_per_user: expected a positive integer or null, got "
                             f"{self.max_pairs_per_user!r}")
        if self.loss_scale <= 0:
            raise ValueError(f"loss_scale: expected a positive number, got {self.loss_scale!r}")


def build_encoder(model: RecModelConfig) -> Any:
    """Load the sentence encoder (or, with ``pretrained: false``, the same architecture with random weights)."""
    from sentence_transformers import SentenceTransformer

    encoder = SentenceTransformer(str(sources.resolve(model.source)), device="cpu" if not _cuda() else None,
                                  trust_remote_code=model.trust_remote_code)
    if not model.pretrained:
        from transformers import AutoModel

        encoder[0].model = AutoModel.from_config(encoder[0].model.config)
    encoder.max_seq_length = model.max_length
    return encoder


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def history_text(texts: list[str], history_items: int) -> str:
    """A user's history as one text: the newest ``history_items`` item texts, newest first."""
    return " ; ".join(reversed(texts[-history_items:]))


def training_pairs(splits: Any, model: RecModelConfig, seed: int):
    """A ``datasets.Dataset`` of (anchor: history text, positive: next item text) from TRAIN positives only.

    With ``model.loss: logq-mnrl`` it also has a ``label`` column: log q of each positive.
    """
    from datasets import Dataset

    from suite.recommendation.data import TRAIN

    rng = np.random.default_rng(seed)
    anchors, positives = [], []
    for user in range(splits.n_users):
        sequence = splits.history(user, TRAIN)
        steps = np.arange(1, sequence.size)
        if model.max_pairs_per_user is not None and steps.size > model.max_pairs_per_user:
            steps = np.sort(rng.choice(steps, size=model.max_pairs_per_user, replace=False))
        for j in steps:
            anchors.append(history_text([splits.item_texts[i] for i in sequence[:j]], model.history_items))
            positives.append(splits.item_texts[sequence[j]])
    if not anchors:
        raise DataError("data: no user has two training positives, so there is no (history -> next item) pair")
    order = rng.permutation(len(anchors))
    columns = {"anchor": [anchors[i] for i in order], "positive": [positives[i] for i in order]}
    if model.loss == "logq-mnrl":
        from suite.recommendation.losses import log_frequencies

        columns["label"] = log_frequencies(columns["positive"])
    return Dataset.from_dict(columns)


def encode(encoder: Any, texts: list[str], *, batch_size: int = 64) -> np.ndarray:
    """Unit-length float32 embeddings, one row per text."""
    if not texts:
        return np.zeros((0, encoder.get_embedding_dimension()), dtype=np.float32)
    return np.asarray(encoder.encode(list(texts), batch_size=batch_size, normalize_embeddings=True,
                                     convert_to_numpy=True, show_progress_bar=False), dtype=np.float32)


def user_texts(splits: Any, users: np.ndarray, parts: tuple[int, ...], history_items: int) -> list[str]:
    """History texts of ``users``, from their positives in ``parts``."""
    return [history_text([splits.item_texts[i] for i in splits.history(u, *parts)], history_items) for u in users]


def mean_history(item_embeddings: np.ndarray, splits: Any, users: np.ndarray, parts: tuple[int, ...]) -> np.ndarray:
    """Each user as the normalised mean embedding of every item in their history."""
    rows = np.stack([item_embeddings[splits.history(u, *parts)].mean(axis=0) for u in users])
    return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)


@dataclass
class Recommender:
    """A tuned recommender: ``recommend(history)``, ``recommend_user(id)``, ``similar_items(item)``.

    ``predict`` takes strings: ``user:<id>``; ``items:<a>|<b>|...`` (a history of item ids
    or free item texts, oldest first); or a bare string, read as a user id if one is known,
    else as such a history.
    """

    encoder: Any
    item_ids: list[str]
    item_texts: list[str]
    item_embeddings: np.ndarray
    histories: dict[str, list[str]]
    settings: dict
    _positions: dict[str, int] | None = field(default=None, init=False, repr=False)

    @classmethod
    def from_folder(cls, folder: Path) -> "Recommender":
        from sentence_transformers import SentenceTransformer

        folder = Path(folder)
        settings = json.loads((folder / PREDICTOR_FILE).read_text(encoding="utf-8"))
        catalogue = json.loads((folder / CATALOGUE_FILE).read_text(encoding="utf-8"))
        encoder = SentenceTransformer(str(folder), device="cpu" if not _cuda() else None)
        return cls(encoder, catalogue["item_ids"], catalogue["item_texts"], np.load(folder / EMBEDDINGS_FILE),
                   catalogue["histories"], settings)

    def save(self, folder: Path) -> None:
        """Write the encoder (safetensors), the catalogue with its embeddings, user histories and settings."""
        self.encoder.save(str(folder))
        np.save(folder / EMBEDDINGS_FILE, self.item_embeddings)
        catalogue = {"item_ids": self.item_ids, "item_texts": self.item_texts, "histories": self.histories}
        (folder / CATALOGUE_FILE).write_text(json.dumps(catalogue, ensure_ascii=False), encoding="utf-8")
        (folder / PREDICTOR_FILE).write_text(json.dumps(self.settings, indent=2) + "\n", encoding="utf-8")

    def _index(self) -> dict[str, int]:
        if self._positions is None:
            self._positions = {item: j for j, item in enumerate(self.item_ids)}
        return self._positions

    def recommend(self, history: list[str], *, k: int = 10, exclude_seen: bool = True) -> list[dict]:
        """Top-``k`` items for a user the model may never have seen.

        Args:
            history: item ids of the catalogue or free item texts, oldest first.
            k: how many items.
            exclude_seen: leave the history's own items out.

        Raises:
            DataError: an empty history.
        """
        history = [str(h).strip() for h in history if str(h).strip()]
        if not history:
            raise DataError("recommend: the history is empty; give at least one item id or item text")
        index = self._index()
        texts = [self.item_texts[index[h]] if h in index else h for h in history]
        query = encode(self.encoder, [history_text(texts, self.settings["history_items"])])
        seen = [index[h] for h in history if h in index] if exclude_seen else []
        return self._top(query[0], k, seen)

    def recommend_user(self, user: str, *, k: int = 10) -> list[dict]:
        """Top-``k`` items for a user of the training data, their known items left out.

        Raises:
            DataError: an unknown user.
        """
        if str(user) not in self.histories:
            some = ", ".join(list(self.histories)[:3])
            raise DataError(f"unknown user '{user}' ({len(self.histories)} users, e.g. {some}); "
                            "give a history of item ids instead (items:ID|ID|...)")
        return self.recommend(self.histories[str(user)], k=k)

    def similar_items(self, item: str, *, k: int = 10) -> list[dict]:
        """The ``k`` items nearest to ``item`` (a catalogue id, or a free text), itself left out.

        Raises:
            DataError: an empty item.
        """
        item = str(item).strip()
        if not item:
            raise DataError("similar_items: the item is empty")
        index = self._index()
        vector = self.item_embeddings[index[item]] if item in index else encode(self.encoder, [item])[0]
        return self._top(vector, k, [index[item]] if item in index else [])

    def _top(self, vector: np.ndarray, k: int, seen: list[int]) -> list[dict]:
        from suite.core.metrics.ranking import top_k

        scores = self.item_embeddings @ vector
        best = top_k(scores[None, :], k, exclude=[seen])[0]
        return [{"item": self.item_ids[j], "text": self.item_texts[j], "score": round(float(scores[j]), 6)}
                for j in best if j >= 0]

    def predict(self, inputs: list[str], *, k: int | None = None) -> list[dict]:
        """One ``{"input", "user", "history", "recommendations"}`` per input (see the class docstring).

        Args:
            inputs: ``user:<id>``, ``items:<id or text>|...``, or a bare user id or history.
            k: recommendations per input (default 10).

        Raises:
            DataError: an unknown user or an empty history.
        """
        k = int(k or self.settings.get("k", 10))
        out = []
        for raw in inputs:
            text = str(raw).strip()
            if text.startswith("user:") or (text in self.histories and not text.startswith("items:")):
                user = text.removeprefix("user:")
                out.append({"input": raw, "user": user, "history": None,
                            "recommendations": self.recommend_user(user, k=k)})
                continue
            history = [h for h in text.removeprefix("items:").split("|") if h.strip()]
            out.append({"input": raw, "user": None, "history": history,
                        "recommendations": self.recommend(history, k=k)})
        return out

    def read_inputs(self, path: Path) -> list[str]:
        """Inputs from a file: .txt (one per line), or a .csv/.tsv/.jsonl with a ``user`` or ``items`` column."""
        from suite.core.tables import iter_table

        path = Path(path)
        if not path.is_file():
            raise DataError(f"--input: no such file '{path}'")
        if path.suffix.lower() == ".txt":
            return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        inputs = []
        for number, row in iter_table(path):
            if "user" in row and str(row["user"] or "").strip():
                inputs.append(f"user:{str(row['user']).strip()}")
            elif "items" in row:
                inputs.append(f"items:{row['items']}")
            else:
                raise DataError(f"{path}:{number}: expected a 'user' or an 'items' column "
                                f"(columns: {', '.join(map(str, row))})")
        return inputs
