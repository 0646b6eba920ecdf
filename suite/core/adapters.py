"""PEFT LoRA for every domain: add adapters, and save them plus a merged copy.

Two ways to add them, one per kind of trainer:

- :func:`inject_lora` puts adapter layers *inside* the model, which keeps its class. Use it
  when the trainer saves and reloads the model itself (sentence-transformers' trainer
  reloads the best checkpoint and resumes through the model's own ``save``/``load``, which
  a wrapper breaks). :func:`save_injected_and_merge` then writes the adapters and merges
  them in place.
- :func:`apply_lora` wraps the model in a ``peft.PeftModel``, for ``transformers.Trainer``
  (which knows that wrapper); :func:`save_adapters_and_merge` is its counterpart.

Both write the same ``adapter/`` folder, which ``peft.PeftModel.from_pretrained`` loads.
Target modules are resolved per architecture from the model's own module names, so a
recipe only says ``lora.enabled: true``; ``lora.target_modules`` overrides the choice.
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


def target_modules_for(model: Any) -> list[str]:
    """The module-name suffixes LoRA should adapt in ``model``.

    Raises:
        RecipeError: no known attention projection names; set ``lora.target_modules``.
    """
    leaf_names = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
    for family in _ATTENTION_FAMILIES:
        if all(name in leaf_names for name in family):
            return list(family)
    raise RecipeError(f"lora.target_modules: cannot pick attention layers of {type(model).__name__}; "
                      "name the modules to adapt in the recipe")


def lora_config(model: Any, lora: Any, *, task_type: str | None = None, modules_to_save: list[str] | None = None):
    """The ``peft.LoraConfig`` of the recipe's ``lora`` section for ``model``."""
    from peft import LoraConfig

    return LoraConfig(r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout,
                      target_modules=lora.target_modules or target_modules_for(model),
                      task_type=task_type, modules_to_save=modules_to_save)


def apply_lora(model: Any, lora: Any, *, task_type: str | None = None,
               modules_to_save: list[str] | None = None) -> Any:
    """Wrap ``model`` with LoRA adapters as the recipe's ``lora`` section says.

    Args:
        model: a transformers or plain torch model.
        lora: the recipe's :class:`~suite.core.recipe.LoraConfig`.
        task_type: a ``peft.TaskType`` name (``"SEQ_CLS"``, ``"SEQ_2_SEQ_LM"``...) or None.
        modules_to_save: modules trained in full beside the adapters (e.g. a new head).

    Returns:
        The ``peft.PeftModel``; only adapter (and ``modules_to_save``) weights train.
    """
    from peft import get_peft_model

    config = lora_config(model, lora, task_type=task_type, modules_to_save=modules_to_save)
    try:
        return get_peft_model(model, config)
    except ValueError as error:  # peft names the target it could not find
        raise RecipeError(f"lora.target_modules: {str(error).splitlines()[0]}") from None


def is_peft_model(model: Any) -> bool:
    """Whether ``model`` carries PEFT adapters."""
    try:
        from peft import PeftModel
    except ImportError:
        return False
    return isinstance(model, PeftModel)


def save_adapters_and_merge(model: Any, folder: Path) -> Any:
    """Save a PEFT model's adapters to ``folder/adapter`` and return the merged plain model.

    A model without adapters is returned unchanged. The caller saves the returned model
    to ``folder`` itself, in whatever format its domain uses.
    """
    if not is_peft_model(model):
        return model
    model.save_pretrained(str(folder / ADAPTER_FOLDER))
    return model.merge_and_unload()


def inject_lora(model: Any, lora: Any) -> None:
    """Add LoRA adapters inside ``model`` in place, as the recipe's ``lora`` section says.

    The model keeps its class and its own save/load; only adapter weights stay trainable.
    A model with an ``add_adapter`` method (transformers models, sentence-transformers
    models) gets them through it, so its checkpoints hold the adapters and reload them;
    any other ``torch.nn.Module`` through ``peft.inject_adapter_in_model``.

    Args:
        model: a transformers, sentence-transformers or plain torch model.
        lora: the recipe's :class:`~suite.core.recipe.LoraConfig`.

    Raises:
        RecipeError: no module matches ``lora.target_modules`` (or none could be picked).
    """
    from peft import inject_adapter_in_model

    config = lora_config(model, lora)
    try:
        if hasattr(model, "add_adapter"):
            model.add_adapter(config)
        else:
            inject_adapter_in_model(config, model, ADAPTER_NAME)
            model.peft_config = {ADAPTER_NAME: config}
    except ValueError as error:  # peft names the target it could not find
        raise RecipeError(f"lora.target_modules: {str(error).splitlines()[0]}") from None


def save_injected_and_merge(model: Any, folder: Path) -> None:
    """Save the adapters :func:`inject_lora` added to ``folder/adapter`` and merge them into ``model``.

    The adapter folder has PEFT's layout (``adapter_config.json``, ``adapter_model.safetensors``),
    so ``peft.PeftModel.from_pretrained(base, folder / "adapter")`` loads it. Afterwards ``model``
    is a plain model again (adapter layers replaced by their merged base layers) and the
    caller saves it in its domain's format. A model without adapters is left unchanged.
    """
    from peft import get_peft_model_state_dict
    from peft.tuners.tuners_utils import BaseTunerLayer
    from safetensors.torch import save_file

    host = next((m for m in model.modules() if isinstance(getattr(m, "peft_config", None), dict)), None)
    if host is None:
        return
    target = folder / ADAPTER_FOLDER
    target.mkdir(parents=True, exist_ok=True)
    state = get_peft_model_state_dict(host, adapter_name=ADAPTER_NAME)
    save_file({f"base_model.model.{k}": v.detach().contiguous() for k, v in state.items()},
              str(target / "adapter_model.safetensors"), metadata={"format": "pt"})
    host.peft_config[ADAPTER_NAME].save_pretrained(str(target))
    for name, module in list(host.named_modules()):
        if isinstance(module, BaseTunerLayer):
            module.merge()
            parent, _, child = name.rpartition(".")
            setattr(host.get_submodule(parent) if parent else host, child, module.get_base_layer())
    del host.peft_config
    if hasattr(host, "_hf_peft_config_loaded"):
        host._hf_peft_config_loaded = False
