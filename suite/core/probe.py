"""The linear probe: logistic regression on a frozen network's pooled features, written into its head.

One fitter serves every use of "a linear model on pretrained features":

- the ``linear-probe`` strategy (the head fitted, nothing fine-tuned) and the first step of ``lp-ft``
  (Kumar et al., ICLR 2022: fine-tuning from a fitted head distorts the pretrained features less than
  fine-tuning from a random one);
- the head after contrastive tuning (SetFit, Tunstall et al. 2022);
- the classical "logistic regression on frozen features" baselines.

The features are centred and divided by one scale for all of them (the root mean variance of a feature), so that
one ``C`` suits features of any size, and that is folded into the weights: the result is exactly a linear layer
over the raw features, ``logits = features @ weight.T + bias``. One scale, not one per feature: scaling each
feature to unit variance would give large weights to directions in which the features barely vary, and a head
that sensitive breaks as soon as fine-tuning moves the features a little (measured: LP-FT's training loss went
from 0.05 to 33 in ten steps on spam; on scans at 200 labels the probe itself scored AUROC 0.718 with per-feature
scaling and 0.758 with one scale). Its outputs match the head of :func:`head_outputs`: two softmax logits
for two classes, one per class for more, one sigmoid logit per label for multi-label data.

Example:
    >>> fitted = fit_logistic(features, labels)          # labels 0/1, N x d features
    >>> write_head(network.classifier, fitted)           # the network now scores as the probe does
    >>> fitted.probabilities(new_features)[:, 1]         # P(class 1), the same numbers
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEFAULT_C = 0.1
"""Inverse regularisation strength on the scaled features (what ``train.probe_c`` defaults to)."""
_ABSENT_LOGIT = -20.0          # a class the training labels lack: never predicted


@dataclass
class LinearModel:
    """A fitted linear layer over raw features.

    Attributes:
        weight: ``outputs x features``.
        bias: ``outputs``.
        multilabel: independent sigmoid outputs (else one softmax over the outputs).
    """

    weight: np.ndarray
    bias: np.ndarray
    multilabel: bool = False

    def logits(self, features: np.ndarray) -> np.ndarray:
        return np.asarray(features, dtype=np.float64) @ self.weight.T + self.bias

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """``N x outputs``: softmax over the classes, or one sigmoid per label."""
        logits = self.logits(features)
        if self.multilabel:
            return 1.0 / (1.0 + np.exp(-logits))
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)


def fit_logistic(features: np.ndarray, labels: np.ndarray, *, outputs: int | None = None, C: float = DEFAULT_C,
                 seed: int = 0, max_iter: int = 3000) -> LinearModel:
    """Fit L2-regularised logistic regression (LBFGS) on centred, uniformly scaled ``features``.

    Args:
        features: ``N x d``.
        labels: ``N`` class indices (two or more classes: a softmax head), or ``N x K`` 0/1 label vectors
            (multi-label: one binary regression per label).
        outputs: the head's number of outputs (default: 2 for binary labels, the largest class + 1, or K).
        C: inverse regularisation strength.
        seed: of the solver.

    Returns:
        The fitted layer; a class absent from ``labels`` gets a logit that is never chosen.
    """
    from sklearn.linear_model import LogisticRegression

    x = np.asarray(features, dtype=np.float64)
    y = np.asarray(labels)
    mean, scale = x.mean(axis=0), float(np.sqrt(np.mean(x.var(axis=0))))
    scale = scale if scale > 1e-12 else 1.0
    z = (x - mean) / scale
    if y.ndim == 2:
        rows = [_binary_row(z, y[:, k], C, seed, max_iter) for k in range(y.shape[1])]
        weight, bias = np.stack([w for w, _ in rows]), np.array([b for _, b in rows])
        return _over_raw_features(weight, bias, mean, scale, multilabel=True)
    y = y.astype(np.int64)
    outputs = outputs or max(2, int(y.max()) + 1)
    weight, bias = np.zeros((outputs, x.shape[1])), np.full(outputs, _ABSENT_LOGIT)
    present = np.unique(y)
    if present.size == 1:
        bias[present[0]] = 0.0
    elif present.size == 2:
        w, b = _binary_row(z, (y == present[1]).astype(np.int64), C, seed, max_iter)
        weight[present[0]], bias[present[0]] = -w / 2, -b / 2      # softmax of (-s/2, s/2) is sigmoid(s)
        weight[present[1]], bias[present[1]] = w / 2, b / 2
    else:
        model = LogisticRegression(C=C, max_iter=max_iter, random_state=seed).fit(z, y)
        weight[model.classes_], bias[model.classes_] = model.coef_, model.intercept_
    return _over_raw_features(weight, bias, mean, scale, multilabel=False)


def _binary_row(z: np.ndarray, y: np.ndarray, C: float, seed: int, max_iter: int) -> tuple[np.ndarray, float]:
    """One logistic regression's weights and intercept; a label of one value only gives a constant logit."""
    from sklearn.linear_model import LogisticRegression

    rate = float(np.clip(y.mean(), 1e-4, 1 - 1e-4))
    if y.min() == y.max():
        return np.zeros(z.shape[1]), float(np.log(rate / (1 - rate)))
    model = LogisticRegression(C=C, max_iter=max_iter, random_state=seed).fit(z, y)
    return model.coef_[0], float(model.intercept_[0])


def _over_raw_features(weight: np.ndarray, bias: np.ndarray, mean: np.ndarray, scale: float, *,
                    multilabel: bool) -> LinearModel:
    """The same layer over raw features: ``((x - mean) / scale) @ w.T + b == x @ (w / scale).T + b - ...``."""
    raw = weight / scale
    return LinearModel(raw, bias - raw @ mean, multilabel)


def write_head(layer, fitted: LinearModel) -> None:
    """Copy ``fitted`` into ``layer`` (a ``torch.nn.Linear`` with as many outputs), in place.

    Raises:
        ValueError: the shapes differ.
    """
    import torch

    if tuple(layer.weight.shape) != fitted.weight.shape:
        raise ValueError(f"the head has shape {tuple(layer.weight.shape)}, the probe {fitted.weight.shape}")
    with torch.no_grad():
        layer.weight.copy_(torch.as_tensor(fitted.weight, dtype=layer.weight.dtype))
        if layer.bias is not None:
            layer.bias.copy_(torch.as_tensor(fitted.bias, dtype=layer.bias.dtype))
