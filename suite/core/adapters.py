"""PEFT LoRA for every domain: wrap a model, and save adapters plus a merged copy.

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
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout,
                        target_modules=lora.target_modules or target_modules_for(model),
                        task_type=task_type, modules_to_save=modules_to_save)
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
