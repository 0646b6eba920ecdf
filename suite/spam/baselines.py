"""Classical spam filters the tuned model must beat, trained on the same split.

Each baseline is a scikit-learn pipeline from raw text to P(spam), chosen by name in
the recipe (``evaluation.baselines``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def tfidf_logreg(seed: int):
    """TF-IDF of word 1-2 grams (sublinear term frequency) + logistic regression."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2, max_features=200_000),
                         LogisticRegression(C=10.0, max_iter=2000, random_state=seed))


def naive_bayes(seed: int):
    """Word 1-2 gram counts + multinomial naive Bayes."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.naive_bayes import MultinomialNB
    from sklearn.pipeline import make_pipeline

    return make_pipeline(CountVectorizer(ngram_range=(1, 2), min_df=2, max_features=200_000),
                         MultinomialNB(alpha=0.1))


BASELINES: dict[str, Callable] = {"tfidf-logreg": tfidf_logreg, "naive-bayes": naive_bayes}


class FittedBaseline:
    """A baseline fitted on the training split: ``scores(texts)`` gives P(spam). Picklable, so that a run's saved
    hybrid (:mod:`suite.core.saved_hybrid`) can keep it."""

    def __init__(self, model):
        self.model = model

    def scores(self, texts: list[str]) -> np.ndarray:
        return self.model.predict_proba(list(texts))[:, 1]


def fit_baseline(name: str, texts: list[str], labels: list[int], seed: int) -> FittedBaseline:
    """Fit baseline ``name`` on ``texts`` and their 0/1 ``labels``."""
    return FittedBaseline(BASELINES[name](seed).fit(texts, labels))
