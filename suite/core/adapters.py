"""LoRA for every kind of model, through one entry: adapters go inside the model, which keeps its class.

:func:`add_lora` injects PEFT LoRA layers in place (``peft.inject_adapter_in_model``), so a
transformers model, a sentence-transformers model, a timm network or a model of this
project's own is still the same object, trained by the same Trainer as without LoRA.
Nothing goes through transformers' own PEFT integration, whose version checks break fresh
installs (transformers 5.24 refuses peft 0.21).

The adapted model's ``state_dict`` looks exactly like the base model's: each adapted layer
shows its base weights under the base names and hides its adapter weights. So every
trainer's checkpoints, best-checkpoint reload and resume handle the base weights (and a new
head) as they always do, whichever trainer it is; :func:`adapter_state` and
:func:`load_adapter_state` carry the adapters' own weights, which the core's training loop
writes beside each checkpoint and restores with it (see :mod:`suite.core.training`).

:func:`save_lora_and_merge` writes the adapters in PEFT's layout
(``peft.PeftModel.from_pretrained(base, folder / "adapter")`` loads them) and merges them
into the base weights, leaving a plain model to save.

Target modules are picked from the model's own module names, so a recipe only says
``lora.enabled: true``; ``lora.target_modules`` overrides the choice:

- the attention projections of a known naming family (BERT ``query``/``value``, BART/Marian
  ``q_proj``/``v_proj``, T5 ``q``/``v``, timm ViT ``qkv``...);
- otherwise, in a convolutional network, every linear layer and pointwise (1x1, ungrouped)
  convolution outside the head (EfficientNet, ResNet...).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from suite.core.errors import RecipeError

# Attention projections by naming family, tried in order; the first family present wins.
_ATTENTION_FAMILIES = (
    ("query", "value"),            # BERT, MiniLM, RoBERTa, ELECTRA
    ("q_proj", "v_proj"),          # Marian, BART, mBART, M2M100/NLLB, LLaMA-likes
    ("q_lin", "v_lin"),            # DistilBERT
    ("q", "v"),                    # T5
    ("qkv",),                      # timm ViT
)
ADAPTER_FOLDER = "adapter"
ADAPTER_NAME = "default"
_CONFIG_ATTRIBUTE = "_suite_lora_config"


def target_modules_for(model: Any, *, head: list[str] = ()) -> list[str]:
    """The module-name suffixes LoRA should adapt in ``model``.

    Args:
        model: any ``torch.nn.Module``.
        head: module names trained in full (never adapted).

    Raises:
        RecipeError: nothing adaptable found; set ``lora.target_modules``.
    """
    import torch

    leaf_names = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
    for family in _ATTENTION_FAMILIES:
        if all(name in leaf_names for name in family):
            return list(family)
    names = set()
    if any(isinstance(m, torch.nn.Conv2d) for m in model.modules()):
        heads = {h.rsplit(".", 1)[-1] for h in head}
        for name, module in model.named_modules():
            leaf = name.rsplit(".", 1)[-1]
            pointwise = isinstance(module, torch.nn.Conv2d) and module.kernel_size == (1, 1) and module.groups == 1
            if (pointwise or isinstance(module, torch.nn.Linear)) and leaf not in heads:
                names.add(leaf)
    if not names:
        raise RecipeError(f"lora.target_modules: cannot pick the layers to adapt in {type(model).__name__}; "
                          "name them in the recipe")
    return sorted(names)


def check_targets(model: Any, lora: Any, *, head: list[str] = ()) -> None:
    """Refuse ``lora.target_modules`` names that match no module of ``model`` (as peft matches them: the whole
    dotted name or its last parts), before any run folder is made.

    Raises:
        RecipeError: one line naming the first unknown target.
    """
    if not lora.enabled:
        return
    if not lora.target_modules:
        target_modules_for(model, head=head)
        return
    names = [name for name, _ in model.named_modules()]
    for target in lora.target_modules:
        if not any(name == target or name.endswith("." + target) for name in names):
            leaves = sorted({name.rsplit(".", 1)[-1] for name in names if name})
            raise RecipeError(f"lora.target_modules: {target!r} names no module of this model (its module names "
                              f"end in: {', '.join(leaves[:12])}{', ...' if len(leaves) > 12 else ''})")


def in_modules(name: str, modules: list[str]) -> bool:
    """Whether parameter or module ``name`` lies inside one of ``modules`` (matched as dotted suffixes)."""
    dotted = f".{name}."
    return any(f".{m}." in dotted for m in modules)


def add_lora(model: Any, lora: Any, *, head: list[str] = ()) -> None:
    """Add LoRA adapters inside ``model`` as the recipe's ``lora`` section says; only they (and ``head``) train.

    Args:
        model: a transformers, sentence-transformers, timm or plain torch model.
        lora: the recipe's :class:`~suite.core.recipe.LoraConfig`.
        head: module names (suffixes) trained in full beside the adapters, e.g. a new classifier.

    Raises:
        RecipeError: no module matches ``lora.target_modules`` (or none could be picked).

    Example:
        >>> add_lora(classifier, recipe.lora, head=["classifier"])
        >>> sum(p.numel() for p in classifier.parameters() if p.requires_grad)    # adapters + head
        148994
    """
    from peft import LoraConfig, inject_adapter_in_model
    from peft.tuners.tuners_utils import BaseTunerLayer

    targets = lora.target_modules or target_modules_for(model, head=head)
    config = LoraConfig(r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout, target_modules=targets)
    try:
        inject_adapter_in_model(config, model, ADAPTER_NAME)
    except ValueError as error:  # peft names the target it could not find
        raise RecipeError(f"lora.target_modules: {str(error).splitlines()[0]}") from None
    for name, parameter in model.named_parameters():
        parameter.requires_grad = "lora_" in name or in_modules(name, list(head))
    for module in model.modules():
        if isinstance(module, BaseTunerLayer):
            module.register_state_dict_post_hook(_show_base_weights)
            module.register_load_state_dict_pre_hook(_keep_adapter_weights)
    config.modules_to_save = list(head) or None
    setattr(model, _CONFIG_ATTRIBUTE, config)


def _show_base_weights(module: Any, state_dict: dict, prefix: str, local_metadata: Any) -> None:
    """``state_dict`` post-hook of an adapted layer: its base weights under the base names, no adapter weights."""
    base = f"{prefix}base_layer."
    for key in [k for k in state_dict if k.startswith(prefix)]:
        if key.startswith(base):
            state_dict[prefix + key[len(base):]] = state_dict.pop(key)
        elif key[len(prefix):].startswith("lora_"):
            del state_dict[key]


def _keep_adapter_weights(module: Any, state_dict: dict, prefix: str, *args: Any) -> None:
    """``load_state_dict`` pre-hook of an adapted layer: base weights go to the base layer, adapters stay as they
    are."""
    own = {f"{prefix}{name}": value for name, value in _own_state(module).items()}
    for key in [k for k in state_dict if k.startswith(prefix) and k not in own]:
        moved = f"{prefix}base_layer.{key[len(prefix):]}"
        if moved in own:
            state_dict[moved] = state_dict.pop(key)
    for key, value in own.items():
        if key[len(prefix):].startswith("lora_") and key not in state_dict:
            state_dict[key] = value


def _own_state(module: Any) -> dict:
    """The layer's parameters and buffers by relative name, bypassing the state-dict hooks."""
    return {**dict(module.named_parameters()), **dict(module.named_buffers())}


def has_lora(model: Any) -> bool:
    """Whether :func:`add_lora` put adapters in ``model`` (and they are not merged yet)."""
    return getattr(model, _CONFIG_ATTRIBUTE, None) is not None


def adapter_state(model: Any) -> dict:
    """The adapters' own weights (names as in ``model.named_parameters()``), detached copies."""
    return {name: p.detach().clone().contiguous() for name, p in model.named_parameters() if "lora_" in name}


def load_adapter_state(model: Any, state: dict) -> None:
    """Put weights from :func:`adapter_state` back into ``model``.

    Raises:
        RecipeError: the saved adapters do not fit this model (another recipe's checkpoint).
    """
    import torch

    parameters = dict(model.named_parameters())
    if set(state) != {name for name in parameters if "lora_" in name}:
        raise RecipeError("lora: the checkpoint's adapters do not match this recipe's lora section")
    with torch.no_grad():
        for name, value in state.items():
            parameters[name].copy_(value)


def save_lora_and_merge(model: Any, folder: Path) -> None:
    """Save the adapters :func:`add_lora` added to ``folder/adapter`` and merge them into ``model``.

    The folder has PEFT's layout (``adapter_config.json``, ``adapter_model.safetensors`` with the
    head's full weights under their own names), so ``peft.PeftModel.from_pretrained(base,
    folder / "adapter")`` loads it. Afterwards ``model`` is a plain model again (each adapted layer
    replaced by its merged base layer) and the caller saves it in its own format. A model without
    adapters is left unchanged.
    """
    from peft.tuners.tuners_utils import BaseTunerLayer
    from safetensors.torch import save_file

    if not has_lora(model):
        return
    config = getattr(model, _CONFIG_ATTRIBUTE)
    target = folder / ADAPTER_FOLDER
    target.mkdir(parents=True, exist_ok=True)
    state = {f"base_model.model.{name.replace(f'.{ADAPTER_NAME}.', '.')}": value
             for name, value in adapter_state(model).items()}
    state.update({f"base_model.model.{name}": p.detach().contiguous() for name, p in model.named_parameters()
                  if in_modules(name, config.modules_to_save or [])})
    save_file(state, str(target / "adapter_model.safetensors"), metadata={"format": "pt"})
    config.save_pretrained(str(target))
    for name, module in list(model.named_modules()):
        if isinstance(module, BaseTunerLayer):
            module.merge()
            parent, _, child = name.rpartition(".")
            setattr(model.get_submodule(parent) if parent else model, child, module.get_base_layer())
    delattr(model, _CONFIG_ATTRIBUTE)
