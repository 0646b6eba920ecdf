"""``train.untuned_share``: the tuned weights interpolated with the untuned ones after training (WiSE-FT).

Fine-tuning moves a pretrained model towards the task and away from everything else it knew: a translation
model tuned on interface strings translates general text worse than before. Wortsman et al. (2022, "Robust
fine-tuning of zero-shot models") showed that the straight line between the two weight vectors keeps most of
the gain and gives back much of the loss: each weight becomes ``(1 - share) x tuned + share x untuned``.

The core takes a copy of the weights as loaded before training (:func:`snapshot`) and mixes it back into the
tuned network before the model is saved and scored (:func:`mix`), so every figure of the run, the test split and
a domain's extra checks alike, is the mixed model's. Weights the model adds (a new head, ``Model.head``) have no
untuned value and stay as tuned. A LoRA run is refused (its adapters are saved on their own, unmixed), and so is
a model trained from random weights (there is nothing learned before tuning to give back).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from suite.core.errors import RecipeError


def check(recipe: Any) -> None:
    """Refuse a share the recipe cannot use, before the model loads.

    Raises:
        RecipeError: a share with LoRA adapters, or with a model trained from random weights.
    """
    if not recipe.train.untuned_share:
        return
    if recipe.lora.enabled:
        raise RecipeError("train.untuned_share: LoRA adapters are saved on their own, unmixed; set "
                          "lora.enabled=false, or train.untuned_share=0")
    if getattr(recipe.model, "pretrained", True) is False:
        raise RecipeError("train.untuned_share: model.pretrained is false, so the untuned weights are random and "
                          "mixing them in gives nothing back; set train.untuned_share=0")


def snapshot(network: Any, head: list[str]) -> dict[str, Any]:
    """A copy of every floating-point weight and buffer of ``network`` as loaded, except the new ``head`` modules."""
    return {name: tensor.detach().clone() for name, tensor in _weights(network, head)}


def mix(network: Any, untuned: dict[str, Any], share: float) -> int:
    """Make each weight of ``network`` that :func:`snapshot` copied ``(1 - share) x tuned + share x untuned``, in place.

    Returns:
        How many tensors were mixed.

    Example:
        >>> layer = torch.nn.Linear(1, 1, bias=False); before = snapshot(layer, [])
        >>> with torch.no_grad(): layer.weight.add_(1.0)
        >>> mix(layer, before, 0.25); layer.weight - before["weight"]
        1
        tensor([[0.7500]], grad_fn=<SubBackward0>)
    """
    import torch

    mixed = 0
    with torch.no_grad():
        for name, tensor in _weights(network, []):
            if name in untuned and untuned[name].shape == tensor.shape:
                tensor.mul_(1.0 - share).add_(untuned[name].to(tensor.device, tensor.dtype), alpha=share)
                mixed += 1
    return mixed


def _weights(network: Any, head: list[str]) -> Iterator[tuple[str, Any]]:
    """Each floating-point parameter and buffer once (tied weights are one tensor), outside ``head``."""
    from suite.core.adapters import in_modules

    for name, tensor in [*network.named_parameters(), *network.named_buffers()]:
        if tensor.is_floating_point() and not in_modules(name, head):
            yield name, tensor
