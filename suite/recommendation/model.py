"""The recommender: builds the two-tower network the Trainer tunes, and the predictor around a tuned one.

The network (:class:`suite.recommendation.towers.TwoTower`) scores an item for a user by the
cosine of their texts (the user: the text of their newest liked items, ``model.history_items``
of them, newest first; the item: its own text) times ``model.loss_scale``, plus, with
``model.id_dim`` > 0, a learned collaborative part: the mean of the user's history items' bag
embeddings dotted with the item's ID embedding, plus the item's learned bias. Items without
training positives have no ID part and score by text alone, so cold items stay rankable.
Training examples come from training interactions only (see :mod:`suite.recommendation.pairs`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from suite.core import saved_files
from suite.core.config import load_settings, save_settings
from suite.core.errors import DataError
from suite.core.text_encoder import encode, load_encoder
from suite.recommendation.config import RecModelConfig
from suite.recommendation.data import SEEN, TRAIN
from suite.recommendation.pairs import history_text
from suite.recommendation.towers import TextWeight, neutral_unknown

CATALOGUE_FILE = "catalogue.json"
EMBEDDINGS_FILE = "item_embeddings.npy"
ID_FILE = "item_ids.safetensors"


def build_encoder(model: RecModelConfig) -> Any:
    """Load the sentence encoder (or, with ``pretrained: false``, the same architecture with random weights)."""
    return load_encoder(model.source, pretrained=model.pretrained, max_length=model.max_length,
                        trust_remote_code=model.trust_remote_code)


def build_network(model: RecModelConfig, splits: Any, *, batch_size: int) -> Any:
    """The two-tower network over ``splits``' catalogue: the encoder, and ID embeddings for items with training
    positives (``model.id_dim`` wide; none with 0)."""
    from suite.recommendation.towers import TwoTower

    known = np.zeros(splits.n_items, dtype=bool)
    known[splits.matrix(TRAIN).indices] = True
    return TwoTower(build_encoder(model), splits.item_texts, known, id_dim=model.id_dim, scale=model.loss_scale,
                    id_draws=model.id_draws, bag_keep=model.bag_keep, correct_popularity=model.loss == "logq-mnrl",
                    batch_size=batch_size)


def id_tables(network: Any) -> dict | None:
    """The tuned network's ID part as arrays (None without one): ``bag``, ``item``, ``bias`` and ``known``."""
    if not getattr(network, "id_dim", 0):
        return None
    return {"bag": network.bag_embeddings.weight.detach().cpu().numpy().copy(),
            "item": network.item_embeddings.weight.detach().cpu().numpy().copy(),
            "bias": network.item_bias.weight.detach().cpu().numpy()[:, 0].copy(),
            "known": network.known.cpu().numpy().astype(np.uint8)}


def mean_history(item_embeddings: np.ndarray, bags: list[np.ndarray]) -> np.ndarray:
    """Each user as the normalised mean embedding of every item in their history."""
    rows = np.stack([item_embeddings[bag].mean(axis=0) for bag in bags])
    return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)


@dataclass
class Recommender:
    """A tuned recommender: ``recommend(history)``, ``recommend_user(id)``, ``similar_items(item)``.

    ``predict`` takes strings: ``user:<id>``; ``items:<a>|<b>|...`` (a history of item ids
    or free item texts, oldest first); or a bare string, read as a user id if one is known,
    else as such a history. Free texts count for the text part only.
    """

    encoder: Any
    item_ids: list[str]
    item_texts: list[str]
    item_embeddings: np.ndarray
    histories: dict[str, list[str]]
    model: RecModelConfig
    k: int = 10
    user_mode: Literal["history", "mean"] = "history"     # how users are embedded (zero-shot: may be "mean")
    ids: dict | None = None                                # the ID part (see model.id_tables), if any
    text_weight: float = 1.0                               # of the text score against the ID score (see TextWeight)
    text_weight_halves_at: float | None = None             # per user: the weight halves at this many history items
    _positions: dict[str, int] | None = field(default=None, init=False, repr=False)
    _rated: frozenset[str] | None = field(default=None, init=False, repr=False)   # items in any user's history
    _last_text: tuple | None = field(default=None, init=False, repr=False)    # (texts, their text scores)

    @classmethod
    def build(cls, network: Any, splits: Any, model: RecModelConfig, *, batch_size: int,
              user_mode: Literal["history", "mean"] = "history", use_ids: bool = True) -> Recommender:
        """A recommender over the split's catalogue (items embedded now) and its users' histories.

        Args:
            network: a :class:`~suite.recommendation.towers.TwoTower` or a bare sentence encoder.
            use_ids: score with the network's ID part (False for an untuned network, whose part is random).
        """
        encoder = getattr(network, "encoder", network)
        histories = {user: [splits.item_ids[i] for i in splits.history(u, *SEEN)]
                     for u, user in enumerate(splits.user_ids)}
        return cls(encoder, splits.item_ids, splits.item_texts, encode(encoder, splits.item_texts,
                                                                       batch_size=batch_size),
                   histories, model, user_mode=user_mode, ids=id_tables(network) if use_ids else None)

    @classmethod
    def from_folder(cls, folder: Path, *, encoder: Any = None) -> Recommender:
        """Load what :meth:`save` wrote; ``encoder``: one to embed texts with instead of the saved one (the
        ONNX export's, see ``onnx_model``)."""
        folder = Path(folder)
        settings = load_settings(folder, {"model": RecModelConfig})
        catalogue = saved_files.read_json(folder / CATALOGUE_FILE, what="the item catalogue the model was saved with")
        if encoder is None:
            encoder = load_encoder(folder, max_length=settings["model"].max_length)
        ids = None
        if (folder / ID_FILE).is_file():
            from safetensors.numpy import load_file

            ids = load_file(str(folder / ID_FILE))
        return cls(encoder, catalogue["item_ids"], catalogue["item_texts"], np.load(folder / EMBEDDINGS_FILE),
                   catalogue["histories"], settings["model"], k=settings["k"], ids=ids,
                   text_weight=settings.get("text_weight", 1.0),
                   text_weight_halves_at=settings.get("text_weight_halves_at"))

    def save(self, folder: Path) -> None:
        """Write the encoder (safetensors), the ID part, the catalogue with its embeddings, user histories and
        settings."""
        self.encoder.save(str(folder))
        np.save(folder / EMBEDDINGS_FILE, self.item_embeddings)
        if self.ids is not None:
            from safetensors.numpy import save_file

            save_file(self.ids, str(folder / ID_FILE))
        catalogue = {"item_ids": self.item_ids, "item_texts": self.item_texts, "histories": self.histories}
        (folder / CATALOGUE_FILE).write_text(json.dumps(catalogue, ensure_ascii=False), encoding="utf-8")
        save_settings(folder, {"model": self.model}, k=self.k, text_weight=self.text_weight,
                      text_weight_halves_at=self.text_weight_halves_at,
                      orientation="users x items; recommendations rank catalogue items for one user or history")

    def score(self, texts: list[str], bags: list[np.ndarray], *, batch_size: int = 64) -> np.ndarray:
        """Scores of every catalogue item for each user given as a history text and its item indices."""
        if self.user_mode == "mean" and all(len(bag) for bag in bags):
            return mean_history(self.item_embeddings, bags) @ self.item_embeddings.T
        scores = self.text_scores(texts, batch_size=batch_size)
        return scores if self.ids is None else self.combine(scores, bags)

    @property
    def weighting(self) -> TextWeight:
        """The text score's weight against the ID score (per user where ``text_weight_halves_at`` is set)."""
        return TextWeight(self.text_weight, self.text_weight_halves_at)

    def combine(self, text_scores: np.ndarray, bags: list[np.ndarray]) -> np.ndarray:
        """The tuned score: each user's weighted text scores plus the ID scores of their history ``bags``."""
        return self.weighting.combine(text_scores, self.id_scores(bags), np.array([len(bag) for bag in bags]))

    def text_scores(self, texts: list[str], *, batch_size: int = 64) -> np.ndarray:
        """The content half: ``loss_scale`` x the cosine of each history text with every item text (the last
        list's scores are kept: scoring the same users again encodes nothing)."""
        if self._last_text is not None and self._last_text[0] == texts:
            return self._last_text[1]
        scores = self.model.loss_scale * encode(self.encoder, texts, batch_size=batch_size) @ self.item_embeddings.T
        self._last_text = (list(texts), scores)
        return scores

    def id_scores(self, bags: list[np.ndarray]) -> np.ndarray:
        """The collaborative half (zero without an ID part): the mean bag embedding of each history's known
        items dotted with every item's ID embedding, plus the item's bias; an item without training positives
        gets the user's mean over the others (see ``towers.neutral_unknown``)."""
        if self.ids is None:
            return np.zeros((len(bags), len(self.item_ids)), dtype=np.float32)
        known = self.ids["known"].astype(bool)
        width = self.ids["bag"].shape[1]
        users = np.stack([self.ids["bag"][bag[known[bag]]].mean(axis=0) if known[bag].any()
                          else np.zeros(width, dtype=np.float32) for bag in bags])
        return neutral_unknown(users @ self.ids["item"].T + self.ids["bias"][None, :], known)

    def calibrate(self, splits: Any, weights: list[float], halves_at: list[float | None] = (None,), *,
                  batch_size: int) -> dict:
        """Set the text weight to the one of ``weights`` x ``halves_at`` that ranks best on validation (mean NDCG@10
        of the validation phases; see ``pairs.best_text_weight``) and return its ``as_metrics()`` and each
        ``<phase>_ndcg@10``."""
        from suite.recommendation.pairs import best_text_weight
        from suite.recommendation.phases import parts_of, phases_of

        phases = phases_of(splits)
        history_parts, users = parts_of(phases)["validation"]
        bags = [splits.history(int(u), *history_parts) for u in users]
        texts = [history_text([splits.item_texts[i] for i in bag], self.model.history_items) for bag in bags]
        weight, values = best_text_weight(self.text_scores(texts, batch_size=batch_size),
                                          self.id_scores(bags) if self.ids is not None else None,
                                          phases, np.array([len(bag) for bag in bags]), weights, halves_at)
        self.text_weight, self.text_weight_halves_at = weight.weight, weight.halves_at
        return {**weight.as_metrics(), **{f"{name}_ndcg@10": value for name, value in values.items()}}

    def part_scores(self, splits: Any, parts: dict, *, batch_size: int) -> dict:
        """Scores of each part's users against every catalogue item: ``{part: array}``.

        Args:
            parts: ``{part: (parts of the split the users read, user rows)}`` (see ``phases.parts_of``).
        """
        out = {}
        for name, (history_parts, users) in parts.items():
            bags = [splits.history(int(u), *history_parts) for u in users]
            texts = [history_text([splits.item_texts[i] for i in bag], self.model.history_items) for bag in bags]
            out[name] = self.score(texts, bags, batch_size=batch_size)
        return out

    def _index(self) -> dict[str, int]:
        if self._positions is None:
            self._positions = {item: j for j, item in enumerate(self.item_ids)}
        return self._positions

    def rated_items(self) -> frozenset[str]:
        """The items some user of the training data rated (the others are ranked by their text alone)."""
        if self._rated is None:
            self._rated = frozenset(item for history in self.histories.values() for item in history)
        return self._rated

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
        known = np.asarray([index[h] for h in history if h in index], dtype=np.int64)
        scores = self.score([history_text(texts, self.model.history_items)], [known])[0]
        return self._top(scores, k, known.tolist() if exclude_seen else [])

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
        """The ``k`` items whose texts are nearest to ``item``'s (a catalogue id, or a free text), itself left out.

        Raises:
            DataError: an empty item.
        """
        item = str(item).strip()
        if not item:
            raise DataError("similar_items: the item is empty")
        index = self._index()
        vector = self.item_embeddings[index[item]] if item in index else encode(self.encoder, [item])[0]
        return self._top(self.item_embeddings @ vector, k, [index[item]] if item in index else [])

    def _top(self, scores: np.ndarray, k: int, seen: list[int]) -> list[dict]:
        from suite.core.metrics.ranking import top_k

        best = top_k(scores[None, :], k, exclude=[seen])[0]
        rated = self.rated_items()
        return [{"item": self.item_ids[j], "text": self.item_texts[j], "score": round(float(scores[j]), 6),
                 "rated": self.item_ids[j] in rated} for j in best if j >= 0]

    def predict(self, inputs: list[str], *, k: int | None = None) -> list[dict]:
        """One ``{"input", "user", "history", "recommendations"}`` per input (see the class docstring).

        Args:
            inputs: ``user:<id>``, ``items:<id or text>|...``, or a bare user id or history.
            k: recommendations per input (default 10).

        Raises:
            DataError: an unknown user or an empty history.
        """
        k = int(k or self.k)
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
