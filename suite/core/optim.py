"""What trains, and how fast: the one place per-parameter learning rates and frozen weights are decided.

Domains that train some weights faster than others (a new classification head over a
pretrained backbone, a new cross-attention in a warm-started decoder) pass a function of
the parameter name; the Trainer receives the groups through ``optimizer_cls_and_kwargs``.
A recipe keeps weights as loaded with ``train.frozen`` (:func:`frozen_parameters`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from suite.core.errors import RecipeError


def parameter_groups(model: Any, *, learning_rate: float, weight_decay: float,
                     lr_scale: Callable[[str], float] = lambda name: 1.0) -> list[dict]:
    """AdamW groups for the trainable parameters of ``model``.

    Args:
        model: any ``torch.nn.Module`` (PEFT-wrapped too); frozen parameters are left out.
        learning_rate: the recipe's ``train.learning_rate``.
        weight_decay: applied to matrices and kernels, never to biases or normalisation weights.
        lr_scale: parameter name -> multiplier of ``learning_rate``.

    Example:
        >>> groups = parameter_groups(net, learning_rate=1e-4, weight_decay=0.01,
        ...                           lr_scale=lambda name: 10.0 if "crossattention" in name else 1.0)
        >>> trainer_kwargs = {"optimizer_cls_and_kwargs": (torch.optim.AdamW, {"params": groups})}
    """
    groups: dict[tuple[float, bool], list] = {}
    for name, parameter in model.named_parameters():
        if parameter.requires_grad:
            groups.setdefault((float(lr_scale(name)), parameter.ndim > 1), []).append(parameter)
    return [{"params": params, "lr": learning_rate * scale, "weight_decay": weight_decay if decays else 0.0}
            for (scale, decays), params in sorted(groups.items(), key=lambda item: item[0])]


def frozen_parameters(model: Any, prefixes: list[str]) -> list:
    """The parameters ``train.frozen`` names: each prefix is a parameter's name or a module path its
    parameters start with (``embed``, ``encoder.layers.0``). Set their ``requires_grad`` to False once
    adapters, which re-decide what trains, are in place.

    Raises:
        RecipeError: a prefix that names no parameter of ``model``.
    """
    chosen = []
    for prefix in prefixes:
        matched = [p for name, p in model.named_parameters() if name == prefix or name.startswith(prefix + ".")]
        if not matched:
            modules = sorted({name.split(".")[0] for name, _ in model.named_parameters()})
            raise RecipeError(f"train.frozen: {prefix!r} names no parameter of this model (its top-level "
                              f"modules: {', '.join(modules[:12])})")
        chosen += matched
    return chosen
