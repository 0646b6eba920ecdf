"""Classical spam filters the tuned model must beat, trained on the same split.

Each baseline is a scikit-learn pipeline from raw text to P(spam), chosen by name in
the recipe (``evaluation.baselines``).
"""

from __future__ import annotations

from typing import Callable

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


def fit_baseline(name: str, texts: list[str], labels: list[int], seed: int) -> Callable[[list[str]], np.ndarray]:
    """Fit baseline ``name`` and return a function from texts to P(spam)."""
    model = BASELINES[name](seed).fit(texts, labels)
    return lambda new_texts: model.predict_proba(new_texts)[:, 1]
