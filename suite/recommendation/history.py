"""How much history a user needs: quality by history length, and the tuned model on shortened histories.

Two views, both on the test phases (next item, and taste where the split has it):

- :func:`by_history_length`: the test users bucketed by how many positives their history holds
  (what the systems read at test time), NDCG@10 of every system per bucket. Real users, but
  few of MovieLens' have a short history (each rated at least 20 films).
- :func:`shortened_histories`: every test user scored again by the tuned model from only their
  newest ``n`` history items (``evaluation.shortened_histories``), against popularity on the same
  users: a simulated new user with ``n`` interactions. The ranking, the targets and the items
  removed from it stay those of the full phase, so only what the model reads changes. The users'
  own older interactions did shape the trained item embeddings, so this is slightly kinder than
  a user the model never saw.
"""

from __future__ import annotations

import numpy as np

from suite.core.metrics.ranking import per_user_metrics
from suite.recommendation.pairs import history_text
from suite.recommendation.phases import TEST_PHASES, Phase, parts_of, phase_scores

BUCKETS = ((1, 4), (5, 9), (10, 19), (20, 49), (50, 99), (100, None))


def _per_user(scores: np.ndarray, at: Phase) -> np.ndarray:
    return per_user_metrics(scores, at.targets, ks=[10], exclude=at.exclude, candidates=at.candidates)["ndcg@10"]


def _lengths(data, at: Phase) -> np.ndarray:
    return np.diff(data.matrix(*at.history_parts).indptr)[at.users]


def by_history_length(data, phases: dict[str, Phase], outputs: dict[str, dict]) -> dict:
    """``{phase: [{"history": "5-9", "users": n, "<system>": NDCG@10, ...}, ...]}`` for each test phase."""
    out = {}
    for name in (n for n in TEST_PHASES if n in phases):
        at = phases[name]
        lengths = _lengths(data, at)
        values = {system: _per_user(phase_scores(by_part, at, phases), at) for system, by_part in outputs.items()}
        rows = []
        for low, high in BUCKETS:
            inside = (lengths >= low) & (lengths <= (high if high is not None else np.inf))
            if inside.any():
                rows.append({"history": f"{low}-{high}" if high is not None else f"{low}+", "users": int(inside.sum()),
                             **{system: round(float(v[inside].mean()), 4) for system, v in values.items()}})
        out[name] = rows
    return out


def shortened_histories(predictor, data, phases: dict[str, Phase], cfg) -> dict | None:
    """``{phase: [{"items": n, "users": m, "tuned": NDCG@10, "tuned_full_history": ..., "popularity": ...}, ...]}``
    for each ``n`` of ``cfg.shortened_histories``, on the test users with at least ``n`` history items (the same
    users read their whole history in ``tuned_full_history``)."""
    if not cfg.shortened_histories or not hasattr(predictor, "text_scores"):
        return None
    history_parts, users = parts_of(phases)["test"]
    full_bags = [data.history(int(u), *history_parts) for u in users]
    popularity = np.asarray(data.matrix(*history_parts).sum(axis=0)).ravel()
    keep = predictor.model.history_items
    out = {name: [] for name in TEST_PHASES if name in phases}
    full = predictor.combine(predictor.text_scores(
        [history_text([data.item_texts[i] for i in bag], keep) for bag in full_bags],
        batch_size=cfg.encode_batch_size), full_bags)
    text_cache = {shown: predictor.text_scores([history_text([data.item_texts[i] for i in bag[-shown:]], keep)
                                                for bag in full_bags], batch_size=cfg.encode_batch_size)
                  for shown in sorted({min(n, keep) for n in cfg.shortened_histories}, reverse=True)}
    for n in sorted(cfg.shortened_histories):       # (the longest first above: the full texts were just scored)
        bags = [bag[-n:] for bag in full_bags]
        scores = predictor.combine(text_cache[min(n, keep)], bags)
        for name in out:
            at = phases[name]
            enough = _lengths(data, at) >= n
            if not enough.any():
                continue
            rows = np.searchsorted(users, at.users)
            pop = np.broadcast_to(popularity, (at.users.size, popularity.size))
            out[name].append({"items": n, "users": int(enough.sum()),
                              "tuned": round(float(_per_user(scores[rows], at)[enough].mean()), 4),
                              "tuned_full_history": round(float(_per_user(full[rows], at)[enough].mean()), 4),
                              "popularity": round(float(_per_user(pop, at)[enough].mean()), 4)})
    return out


def section(by_length: dict, shortened: dict | None) -> str:
    """Markdown for the model card: NDCG@10 by history length, and on shortened histories."""
    lines = ["## By history length (NDCG@10 of test users, bucketed by the positives they have)", ""]
    for name, rows in by_length.items():
        if not rows:
            continue
        systems = [s for s in rows[0] if s not in ("history", "users")]
        lines += [f"{'Next item' if name == 'test' else 'Taste'}:", "",
                  f"| history | users | {' | '.join(systems)} |", "|---" * (len(systems) + 2) + "|"]
        lines += [f"| {r['history']} | {r['users']} | {' | '.join(f'{r[s]:.4f}' for s in systems)} |" for r in rows]
        lines.append("")
    if shortened:
        lines += ["## New users: the tuned model reading only the newest n history items", "",
                  "Same test users (those with at least n items), same ranking and targets; popularity does not "
                  "read the history.", "",
                  "| phase | n | users | tuned, newest n | tuned, whole history | popularity |", "|---" * 6 + "|"]
        lines += [f"| {name} | {r['items']} | {r['users']} | {r['tuned']:.4f} | {r['tuned_full_history']:.4f} | "
                  f"{r['popularity']:.4f} |" for name, rows in shortened.items() for r in rows]
    return "\n".join(lines).rstrip()
