"""The two-tower recommender the Trainer tunes: a content tower (text) and a collaborative tower (item identities).

Score of item ``i`` for user ``u``::

    s(u, i) = w * scale * cos(text(u), text(i))  +  ids(u) . item(i) + bias(i)
                  ---------- content ----------     ------ collaborative ------

- content: the sentence encoder (tuned); a user is the text of their newest history items,
  an item its own text. It carries the sequence (what follows what) and the content, and it
  is all a cold item (no training positive) has.
- collaborative (``id_dim`` > 0): ``ids(u)`` is the mean of the user's history items' *bag*
  embeddings; ``item(i)`` and ``bias(i)`` (a learned popularity) exist only for items with
  training positives (the ``known`` buffer). An item without them gets the user's mean
  collaborative score, so it ranks by its text among the others.
- ``w``: the content weight (:class:`TextWeight`), chosen on validation from ``model.text_weights``
  and ``model.text_weight_halves_at`` (the two towers' scores come from different losses and are
  on different scales); 1 without a collaborative tower. With ``halves_at`` it is a user's own:
  it shrinks as their history grows, so text leads for a new user and IDs for a known one.

Each tower has the loss that suits it (see :mod:`suite.recommendation.losses`), summed:

- content: the in-batch softmax of the batch's (history text, item text) pairs with the
  popularity (logQ) correction: the encoder runs only on the batch's texts;
- collaborative: the softmax over the whole catalogue, for ``id_draws`` fresh random splits of
  each batch user's training items into a bag (each item kept with ``bag_keep``) and targets (the
  rest): every item is a negative every step, as in ALS, and no text is encoded for it.

In evaluation mode (rows without ``item``), ``forward`` returns the two towers' scores of every
catalogue item for the rows' users, the catalogue's text embeddings computed once until training
resumes: the Trainer's own evaluation loop then yields users x items score matrices.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from suite.recommendation.losses import catalogue_loss, in_batch_loss

ID_MODULES = ["bag_embeddings", "item_embeddings", "item_bias"]   # trained in full beside LoRA adapters


class TwoTower(torch.nn.Module):
    """A sentence encoder plus learned item identities (see the module docstring).

    Args:
        encoder: a ``SentenceTransformer``.
        item_texts: the catalogue, in item-index order (encoded in evaluation mode).
        known: one bool per item: has training positives (only those get ID features).
        id_dim: width of the ID embeddings (0: text only).
        scale: the multiplier of the text cosine (the inverse temperature of the in-batch softmax).
        id_draws, bag_keep: random bag/target splits per user and step, and the chance an item stays in the bag.
        correct_popularity: subtract each in-batch item's ``log q`` (the logQ correction).
        batch_size: texts per encoder call when encoding the catalogue.
    """

    def __init__(self, encoder: Any, item_texts: list[str], known: np.ndarray, *, id_dim: int, scale: float,
                 id_draws: int = 4, bag_keep: float = 0.5, correct_popularity: bool = True, batch_size: int = 64):
        super().__init__()
        self.encoder, self.item_texts, self.id_dim, self.scale = encoder, list(item_texts), id_dim, scale
        self.id_draws, self.bag_keep, self.batch_size = id_draws, bag_keep, batch_size
        self.correct_popularity = correct_popularity
        self.register_buffer("known", torch.as_tensor(np.asarray(known, dtype=bool)))
        if id_dim:
            n_items = len(item_texts)
            self.bag_embeddings = torch.nn.Embedding(n_items, id_dim)
            self.item_embeddings = torch.nn.Embedding(n_items, id_dim)
            self.item_bias = torch.nn.Embedding(n_items, 1)
            for table in (self.bag_embeddings, self.item_embeddings):
                torch.nn.init.normal_(table.weight, std=0.05)
            torch.nn.init.zeros_(self.item_bias.weight)
        self._catalogue: torch.Tensor | None = None

    # -- the two towers ------------------------------------------------------------------------
    def text(self, features: dict) -> torch.Tensor:
        """Unit-length text embeddings of tokenized texts."""
        return torch.nn.functional.normalize(self.encoder(dict(features))["sentence_embedding"], dim=-1)

    def user_ids(self, bag: torch.Tensor, bag_users: torch.Tensor, n_users: int) -> torch.Tensor:
        """The collaborative half of each user: the mean bag embedding of their (known) history items.

        Args:
            bag: history item indices of all users, flattened; bag_users: the user (row) of each.
        """
        keep = self.known[bag]
        rows = bag_users[keep]
        counts = torch.bincount(rows, minlength=n_users).clamp(min=1)
        summed = torch.zeros(n_users, self.id_dim, device=bag.device, dtype=self.bag_embeddings.weight.dtype)
        summed.index_add_(0, rows, self.bag_embeddings(bag[keep]))
        return summed / counts[:, None]

    def id_scores(self, users: torch.Tensor) -> torch.Tensor:
        """``ids(u) . item(i) + bias(i)`` for every user x catalogue item; ``-inf`` for unknown items."""
        scores = users @ self.item_embeddings.weight.T + self.item_bias.weight.T
        return scores.masked_fill(~self.known[None, :], float("-inf"))

    # -- training and evaluation ---------------------------------------------------------------
    def forward(self, anchor: dict, positive: dict | None = None, item: torch.Tensor | None = None,
                log_q: torch.Tensor | None = None, targets: torch.Tensor | None = None,
                target_users: torch.Tensor | None = None, bag: torch.Tensor | None = None,
                bag_users: torch.Tensor | None = None, row: torch.Tensor | None = None) -> dict:
        """Training (with ``item``): ``{"loss"}``. Evaluation rows: ``{"loss", "text", "ids"}``: each tower's scores
        of every catalogue item for each user, and the catalogue softmax loss of their held-out ``targets``.

        Args:
            anchor: tokenized history texts (one per user).
            positive: tokenized item texts, one per user; item: their indices; log_q: their log sampling shares.
            targets, target_users: training: each user's training items (flattened), split at random into bags and
                targets for the catalogue loss; evaluation: their held-out items.
            bag, bag_users: evaluation: the users' history items (flattened).
            row: evaluation rows' numbers (the Trainer hands them back with the scores as labels).
        """
        users_text = self.text(anchor)
        if item is None:
            return self._evaluate(users_text, bag, bag_users, targets, target_users)
        logits = self.scale * users_text @ self.text(positive).T
        loss = in_batch_loss(logits, log_q if self.correct_popularity else None, item)
        if self.id_dim:
            loss = loss + self._catalogue_loss(targets, target_users, users_text.shape[0])
        return {"loss": loss}

    def _catalogue_loss(self, items: torch.Tensor, users: torch.Tensor, n_users: int) -> torch.Tensor:
        """The collaborative tower's loss on ``id_draws`` random bag / target splits of each user's items."""
        draw = torch.arange(self.id_draws, device=items.device).repeat_interleave(items.numel())
        items, rows = items.repeat(self.id_draws), users.repeat(self.id_draws) + draw * n_users
        in_bag = torch.rand(items.numel(), device=items.device) < self.bag_keep
        ids = self.user_ids(items[in_bag], rows[in_bag], n_users * self.id_draws)
        return catalogue_loss(self.id_scores(ids), items[~in_bag], rows[~in_bag])

    def _evaluate(self, users_text, bag, bag_users, targets, target_users) -> dict:
        if self._catalogue is None:
            self._catalogue = self.encode_catalogue()
        text = self.scale * users_text @ self._catalogue.T
        if not self.id_dim:
            return {"loss": catalogue_loss(text, targets, target_users), "text": text}
        ids = neutral_unknown(self.id_scores(self.user_ids(bag, bag_users, text.shape[0])), self.known)
        return {"loss": catalogue_loss(text + ids, targets, target_users), "text": text, "ids": ids}

    @torch.no_grad()
    def encode_catalogue(self) -> torch.Tensor:
        """Unit-length text embeddings of every catalogue item."""
        device = self.known.device
        chunks = [self.text(_to(tokenizer(self.encoder)(self.item_texts[i:i + self.batch_size]), device))
                  for i in range(0, len(self.item_texts), self.batch_size)]
        return torch.cat(chunks)

    def train(self, mode: bool = True) -> TwoTower:
        """Switching to training forgets the catalogue's text embeddings (the encoder is about to change)."""
        if mode:
            self._catalogue = None
        return super().train(mode)


@dataclass(frozen=True)
class TextWeight:
    """The weight of the content score against the collaborative one: ``weight`` for every user, or with
    ``halves_at`` set, ``weight * halves_at / (halves_at + n)`` for a user with ``n`` history items. The ID
    part knows a user better the more items they have, so text counts most for a new user and fades as
    their history grows (half its weight at ``halves_at`` items).

    Example:
        >>> TextWeight(4.0, halves_at=5).of(np.array([0, 5, 15])).tolist()
        [4.0, 2.0, 1.0]
    """

    weight: float = 1.0
    halves_at: float | None = None

    def of(self, lengths: np.ndarray) -> np.ndarray:
        """Each user's text weight, given how many history items each has."""
        lengths = np.asarray(lengths, dtype=np.float64)
        if self.halves_at is None:
            return np.full(lengths.shape, self.weight)
        return self.weight * self.halves_at / (self.halves_at + lengths)

    def combine(self, text: np.ndarray, ids: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """``w(u) * text + ids`` for users x items score matrices."""
        return self.of(lengths).astype(text.dtype)[:, None] * text + ids

    def as_metrics(self) -> dict:
        """``{"text_weight": w}``, with ``"text_weight_halves_at"`` where the weight is per user."""
        per_user = {"text_weight_halves_at": self.halves_at} if self.halves_at is not None else {}
        return {"text_weight": self.weight, **per_user}

    def describe(self) -> str:
        """E.g. ``"0.75"`` or ``"4 x 5 / (5 + history items)"``."""
        if self.halves_at is None:
            return f"{self.weight:g}"
        return f"{self.weight:g} x {self.halves_at:g} / ({self.halves_at:g} + history items)"


def neutral_unknown(scores, known):
    """Collaborative scores with each unknown item's (no training positive) set to the user's mean over known
    items, so that such items rank by their text alone (torch or numpy)."""
    mean = scores[:, known].mean(axis=1) if isinstance(scores, np.ndarray) else scores[:, known].mean(dim=1)
    out = scores.copy() if isinstance(scores, np.ndarray) else scores.clone()
    out[:, ~known] = mean[:, None]
    return out


def tokenizer(encoder: Any):
    """The sentence encoder's text -> features function (``preprocess`` in newer sentence-transformers)."""
    return getattr(encoder, "preprocess", None) or encoder.tokenize


def _to(features: dict, device: torch.device) -> dict:
    return {key: value.to(device) if hasattr(value, "to") else value for key, value in features.items()}
