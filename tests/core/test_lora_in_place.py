"""LoRA added inside a model (no wrapper): only adapters train, the state dict looks like the base model's, the
adapter folder loads with PEFT, and the merge leaves a plain model that computes what the adapted one did."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from suite.core import adapters, sources
from suite.core.errors import RecipeError


def _lora(**overrides):
    return SimpleNamespace(**{"r": 4, "alpha": 8, "dropout": 0.0, "target_modules": None, **overrides})


def _perturb_adapters(model):
    """LoRA's B starts at zero (the adapted model equals the base); move it so the adapters matter."""
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "lora_B" in name:
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.05)


class _Block(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.qkv, self.proj = torch.nn.Linear(8, 24), torch.nn.Linear(24, 3)

    def forward(self, x):
        return self.proj(torch.relu(self.qkv(x)))


def test_plain_torch_module_gets_adapters_in_place(tmp_path):
    from peft import PeftModel

    torch.manual_seed(0)
    model, x = _Block(), torch.randn(5, 8)
    base = _Block()
    base.load_state_dict(model.state_dict())
    adapters.add_lora(model, _lora())                      # timm ViT naming: qkv
    assert type(model) is _Block
    assert {n for n, p in model.named_parameters() if p.requires_grad} == {"qkv.lora_A.default.weight",
                                                                            "qkv.lora_B.default.weight"}
    _perturb_adapters(model)
    adapted = model(x).detach()
    assert not torch.allclose(adapted, base(x))
    adapters.save_lora_and_merge(model, tmp_path)
    assert not any("lora" in n for n, _ in model.named_parameters()) and not adapters.has_lora(model)
    torch.testing.assert_close(model(x), adapted, atol=1e-5, rtol=1e-5)
    reloaded = PeftModel.from_pretrained(base, str(tmp_path / "adapter")).merge_and_unload()
    torch.testing.assert_close(reloaded(x), adapted, atol=1e-5, rtol=1e-5)
    adapters.save_lora_and_merge(model, tmp_path / "again")     # no adapters left: nothing to do
    assert not (tmp_path / "again").exists()


def test_the_state_dict_shows_base_weights_and_loading_it_keeps_the_adapters():
    torch.manual_seed(0)
    model = _Block()
    base_keys = set(model.state_dict())
    adapters.add_lora(model, _lora())
    _perturb_adapters(model)
    assert set(model.state_dict()) == base_keys                     # what every trainer saves and reloads
    saved, lora = model.state_dict(), adapters.adapter_state(model)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(1.0)
    model.load_state_dict(saved)                                      # strict: the base names fit
    torch.testing.assert_close(model.qkv.base_layer.weight, saved["qkv.weight"])
    assert not torch.equal(model.qkv.lora_B["default"].weight, lora["qkv.lora_B.default.weight"])
    adapters.load_adapter_state(model, lora)                          # the adapters come from their own file
    torch.testing.assert_close(model.qkv.lora_B["default"].weight, lora["qkv.lora_B.default.weight"])


def test_a_head_trains_in_full_beside_the_adapters_and_is_saved_with_them(tmp_path):
    from safetensors.torch import load_file

    model = _Block()
    adapters.add_lora(model, _lora(), head=["proj"])
    assert {n for n, p in model.named_parameters() if p.requires_grad} == {
        "qkv.lora_A.default.weight", "qkv.lora_B.default.weight", "proj.weight", "proj.bias"}
    adapters.save_lora_and_merge(model, tmp_path)
    saved = load_file(str(tmp_path / "adapter" / "adapter_model.safetensors"))
    assert set(saved) == {"base_model.model.qkv.lora_A.weight", "base_model.model.qkv.lora_B.weight",
                          "base_model.model.proj.weight", "base_model.model.proj.bias"}


def test_sentence_transformer_keeps_its_class_and_saves_the_merged_weights(tmp_path):
    from sentence_transformers import SentenceTransformer

    folder = str(sources.resolve("bundled:minilm"))
    encoder = SentenceTransformer(folder, device="cpu")
    adapters.add_lora(encoder, _lora())                    # BERT naming: query, value
    trainable = sum(p.numel() for p in encoder.parameters() if p.requires_grad)
    assert trainable == 6 * 2 * (384 * 4 + 4 * 384)           # 6 layers x (query, value) x (A, B)
    _perturb_adapters(encoder)
    texts = ["a quiet film about the sea", "Heat (1995). Action, Crime"]
    adapted = encoder.encode(texts)
    adapters.save_lora_and_merge(encoder, tmp_path)
    assert (tmp_path / "adapter" / "adapter_config.json").is_file()
    encoder.save(str(tmp_path / "merged"))
    again = SentenceTransformer(str(tmp_path / "merged"), device="cpu").encode(texts)
    np.testing.assert_allclose(again, adapted, atol=1e-5)
    assert not np.allclose(SentenceTransformer(folder, device="cpu").encode(texts), adapted, atol=1e-3)


def test_unknown_target_is_a_recipe_error():
    with pytest.raises(RecipeError, match="lora.target_modules"):
        adapters.add_lora(_Block(), _lora(target_modules=["nowhere"]))
    with pytest.raises(RecipeError, match="cannot pick the layers to adapt"):
        adapters.add_lora(torch.nn.Sequential(torch.nn.Linear(2, 2)), _lora())
