"""The linear probe: one logistic regression, the same whether it scores features or sits in a network's head."""

import numpy as np
import pytest
import torch

from suite.core import probe


def _blobs(n=120, d=6, classes=2, seed=0):
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % classes
    centres = rng.normal(0, 1, (classes, d)) * 3
    return centres[labels] * rng.uniform(0.01, 10, d) + rng.normal(0, 1, (n, d)), labels


def test_it_is_sklearns_logistic_regression_on_centred_features_of_one_common_scale():
    from sklearn.linear_model import LogisticRegression

    x, y = _blobs()
    fitted = probe.fit_logistic(x, y, C=0.1)
    scaled = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0).mean())
    reference = LogisticRegression(C=0.1, max_iter=3000).fit(scaled, y)
    assert np.allclose(fitted.probabilities(x)[:, 1], reference.predict_proba(scaled)[:, 1], atol=1e-6)
    doubled = probe.fit_logistic(2 * x, y, C=0.1)               # the same model whatever the features' size
    assert np.allclose(doubled.probabilities(2 * x), fitted.probabilities(x), atol=1e-6)


def test_written_into_a_head_the_network_scores_exactly_as_the_probe():
    x, y = _blobs(classes=3)
    fitted = probe.fit_logistic(x, y, C=1.0)
    layer = torch.nn.Linear(x.shape[1], 3)
    probe.write_head(layer, fitted)
    with torch.no_grad():
        from_layer = torch.softmax(layer(torch.tensor(x, dtype=torch.float32)), dim=-1).numpy()
    assert np.allclose(from_layer, fitted.probabilities(x), atol=1e-4)
    assert (fitted.probabilities(x).argmax(1) == y).mean() > 0.9
    with pytest.raises(ValueError, match="the head has shape"):
        probe.write_head(torch.nn.Linear(x.shape[1], 2), fitted)


def test_a_class_the_labels_lack_is_never_predicted_and_multilabel_gets_one_sigmoid_per_label():
    x, y = _blobs(classes=2)
    fitted = probe.fit_logistic(x, y, outputs=4)                 # a head of four classes, two seen
    assert fitted.weight.shape == (4, x.shape[1]) and set(fitted.probabilities(x).argmax(1)) <= {0, 1}
    assert fitted.probabilities(x)[:, 2:].max() < 1e-6
    labels = np.stack([y, np.ones_like(y)], axis=1)              # the second label is always on
    multi = probe.fit_logistic(x, labels)
    p = multi.probabilities(x)
    assert multi.multilabel and p.shape == (len(y), 2) and p[:, 1].min() > 0.99
    assert ((p[:, 0] > 0.5) == y).mean() > 0.9
