"""Diagnostics weights, freezing and metrics: converted ImageNet weights classify real photos correctly,
local checkpoints load safely, freezing does what it says, and the clinical numbers match hand computation."""

import numpy as np
import pytest
import torch

from suite.core import sources
from suite.core.adapters import target_modules_for
from suite.core.errors import ModelSourceError
from suite.core.metrics.classification import roc_auc
from suite.core.optim import parameter_groups
from suite.core.registry import Model
from suite.core.training import learning_rate_scale
from suite.diagnostics import metrics as dx
from suite.diagnostics.backbones import convert_state_dict, pretrained_backbone, read_state_dict
from suite.diagnostics.config import DiagnosticsModelConfig
from suite.diagnostics.model import apply_trainable, build_network

LITE0 = "tf_efficientnet_lite0"


@pytest.fixture(scope="module")
def imagenet_lite0():
    return pretrained_backbone(LITE0, sources.resolve("bundled:efficientnet-lite0")).eval()


def _imagenet_batch(model, photos):
    mean, std = (torch.tensor(model.pretrained_cfg[k])[:, None, None] for k in ("mean", "std"))
    side = model.pretrained_cfg["input_size"][-1]                     # 224, timm's pretrained_cfg
    from PIL import Image

    tensors = [torch.tensor(np.asarray(Image.fromarray(p).resize((side, side), Image.BICUBIC)),
                            dtype=torch.float32).permute(2, 0, 1) / 255 for p in photos]
    return torch.stack([(t - mean) / std for t in tensors])


def test_converted_weights_classify_scikit_image_photos_as_imagenet_does(imagenet_lite0):
    from skimage import data

    with torch.inference_mode():
        probs = imagenet_lite0(_imagenet_batch(imagenet_lite0, [data.chelsea(), data.coffee()])).softmax(-1)
    assert probs.argmax(-1).tolist() == [285, 967]                   # Egyptian cat, espresso
    assert probs[0, 285] > 0.6 and probs[1, 967] > 0.8


def test_state_dict_conversion_is_strict_and_checkpoints_load_safely(imagenet_lite0, tmp_path):
    state = torch.load(sources.resolve("bundled:efficientnet-lite0"), map_location="cpu", weights_only=True)
    assert len([k for k in state if not k.endswith("num_batches_tracked")]) == 247
    mapped = convert_state_dict(state, imagenet_lite0)
    assert list(mapped) == [k for k in imagenet_lite0.state_dict() if not k.endswith("num_batches_tracked")]
    with pytest.raises(ModelSourceError, match="not the same architecture"):
        convert_state_dict(dict(list(state.items())[:-3]), imagenet_lite0)
    from safetensors.torch import save_file

    local = tmp_path / "lite0.safetensors"                           # a timm-named local checkpoint file
    save_file({k: v.contiguous() for k, v in imagenet_lite0.state_dict().items()}, str(local))
    again = pretrained_backbone(LITE0, local).eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.inference_mode():
        assert torch.allclose(again(x), imagenet_lite0(x), atol=1e-5)

    class Payload:                                                    # a pickle that would run code
        def __reduce__(self):
            return (print, ("pwned",))

    torch.save({"state_dict": Payload()}, tmp_path / "evil.pth")
    with pytest.raises(ModelSourceError, match="evil.pth: not a readable checkpoint"):
        read_state_dict(tmp_path / "evil.pth")


def _network(**model):
    cfg = DiagnosticsModelConfig(**model)
    return build_network(cfg, num_outputs=2, task="binary"), cfg


def _trainable(network):
    return sum(p.numel() for p in network.parameters() if p.requires_grad)


def test_trainable_freezes_what_it_says_and_the_backbone_learns_at_its_scale():
    partial, cfg = _network(trainable="last-blocks", unfreeze_blocks=2)
    apply_trainable(partial, cfg)
    assert 1280 * 2 + 2 < _trainable(partial) < 0.6 * sum(p.numel() for p in partial.parameters())
    assert not partial.backbone.conv_stem.weight.requires_grad and partial.backbone.conv_head.weight.requires_grad
    partial.train()
    assert not partial.backbone.bn1.training and partial.training     # frozen BatchNorm keeps its statistics
    full, cfg = _network()
    apply_trainable(full, cfg)
    model = Model(network=full, head=["classifier"])
    groups = parameter_groups(full, learning_rate=1e-3, weight_decay=0.01, lr_scale=learning_rate_scale(model, 0.1))
    by_lr = {}
    for group in groups:
        lr = round(group["lr"], 9)
        by_lr[lr] = by_lr.get(lr, 0) + sum(p.numel() for p in group["params"])
    assert by_lr == {1e-3: 1280 * 2 + 2, 1e-4: _trainable(full) - 2562}
    assert all(g["weight_decay"] == 0.0 for g in groups if all(p.ndim == 1 for p in g["params"]))


def test_lora_targets_pointwise_convolutions_not_depthwise_or_head():
    network, _ = _network()
    assert target_modules_for(network, head=["classifier"]) == ["conv_head", "conv_pw", "conv_pwl"]


def test_random_init_differs_from_pretrained():
    pretrained, _ = _network()
    scratch, _ = _network(pretrained=False)
    assert not torch.equal(pretrained.backbone.conv_stem.weight, scratch.backbone.conv_stem.weight)


# -- metrics against hand-computed values ---------------------------------------------------------
NEGATIVES = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
POSITIVES = [0.55, 0.75, 0.95, 1.05, 1.2]


def test_binary_report_matches_hand_computation():
    labels = np.array([0] * 10 + [1] * 5)
    scores = np.array(NEGATIVES + POSITIVES) / 1.2                     # probabilities in [0, 1]
    cfg = dx.DiagnosticsEvalConfig(target_specificity=0.9, target_sensitivity=0.8, bootstrap=300)
    threshold = dx.operating_threshold("binary", labels, scores, cfg)
    assert threshold == pytest.approx(0.95 / 1.2)                     # one negative (1.0) may be flagged
    report = dx.binary_report(labels, scores, threshold, cfg)
    # flagged: negatives {1.0}, positives {0.95, 1.05, 1.2}
    assert report["sensitivity"] == pytest.approx(3 / 5) and report["specificity"] == pytest.approx(9 / 10)
    assert report["ppv"] == pytest.approx(3 / 4) and report["npv"] == pytest.approx(9 / 11)
    assert report["balanced_accuracy"] == pytest.approx((0.6 + 0.9) / 2)
    assert report["sensitivity_at_specificity"] == pytest.approx(0.6)
    # sensitivity 0.8 needs 4 positives (down to 0.75): negatives 0.8, 0.9, 1.0 are flagged
    assert report["specificity_at_sensitivity"] == pytest.approx(0.7)
    # AUROC: pairs where the positive wins: 0.55 beats 5, 0.75 beats 7, 0.95 beats 9, 1.05 and 1.2 beat 10
    assert report["auroc"] == pytest.approx((5 + 7 + 9 + 10 + 10) / 50)
    assert report["auroc_ci_low"] < report["auroc"] <= report["auroc_ci_high"] <= 1.0
    assert report["auroc_ci_high"] - report["auroc_ci_low"] > 0.1       # 15 cases: a wide interval


def test_ece_multiclass_and_multilabel_auroc():
    cfg = dx.DiagnosticsEvalConfig(bootstrap=0)
    assert dx.binary_report(np.array([0, 1, 1, 1]), np.array([0.8, 0.8, 0.8, 0.8]) * [1, 1, 1, 1.0001], 0.5,
                            cfg)["ece"] == pytest.approx(0.05, abs=1e-3)
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 90)
    probs = rng.dirichlet(np.ones(3), 90) + np.eye(3)[labels] * 0.5
    probs /= probs.sum(axis=1, keepdims=True)
    report = dx.multiclass_report(labels, probs, ["a", "b", "c"], cfg)
    per_class = [roc_auc((labels == k).astype(int), probs[:, k]) for k in range(3)]
    assert report["auroc_per_class"] == pytest.approx(dict(zip("abc", per_class)))
    from sklearn.metrics import roc_auc_score

    assert report["auroc"] == pytest.approx(np.mean(per_class))
    assert report["auroc"] == pytest.approx(roc_auc_score(labels, probs, multi_class="ovr", average="macro"))
    assert report["accuracy"] == pytest.approx((probs.argmax(1) == labels).mean())
    multi = (rng.random((80, 3)) < 0.3).astype(float)
    scores = np.clip(multi * 0.4 + rng.random((80, 3)) * 0.6, 0, 1)
    thresholds = dx.operating_threshold("multilabel", multi, scores, cfg)
    report = dx.multilabel_report(multi, scores, thresholds, ["x", "y", "z"], cfg)
    assert report["auroc_per_label"]["y"] == pytest.approx(roc_auc(multi[:, 1].astype(int), scores[:, 1]))
    assert all(s >= 0.95 for s in report["specificity_per_label"].values())   # chosen on this same split


def test_decisions_use_the_saved_threshold():
    settings = {"task": "binary", "class_names": ["no lesion", "lesion"], "threshold": 0.7}
    out = dx.decisions(np.array([0.69, 0.7]), settings, ["a.png", "b.png"])
    assert [o["label"] for o in out] == ["no lesion", "lesion"] and out[0]["threshold"] == 0.7


def test_bootstrap_intervals_of_macro_and_per_label_auroc():
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1, 2], 40)
    probs = rng.dirichlet([1, 1, 1], size=120)
    probs[np.arange(120), labels] += 0.4 * rng.random(120)             # some signal, not perfect
    probs /= probs.sum(axis=1, keepdims=True)
    cfg = dx.DiagnosticsEvalConfig(bootstrap=300)
    report = dx.multiclass_report(labels, probs, ["a", "b", "c"], cfg)
    assert report["auroc"] == pytest.approx(np.mean([roc_auc((labels == k).astype(int), probs[:, k])
                                                     for k in range(3)]))
    assert report["auroc_ci_low"] < report["auroc"] < report["auroc_ci_high"]
    assert 0.02 < report["auroc_ci_high"] - report["auroc_ci_low"] < 0.3   # 120 images: neither 0 nor all of [0, 1]
    assert dx.macro_auroc_ci("multiclass", labels, probs, n=300) == (report["auroc_ci_low"],
                                                                   report["auroc_ci_high"])   # seeded
    perfect = np.eye(3)[labels]
    assert dx.macro_auroc_ci("multiclass", labels, perfect, n=50) == (1.0, 1.0)

    multi = np.stack([labels == 1, rng.random(120) < 0.3], axis=1).astype(float)
    scores = np.stack([multi[:, 0], rng.random(120)], axis=1)              # label 0 perfect, label 1 noise
    report = dx.multilabel_report(multi, scores, [0.5, 0.5], ["clear", "noise"], cfg)
    assert report["auroc_ci_per_label"]["clear"] == [1.0, 1.0]
    low, high = report["auroc_ci_per_label"]["noise"]
    assert low < report["auroc_per_label"]["noise"] < high and low < 0.5 < high     # chance is inside
    assert report["auroc_ci_low"] <= report["auroc"] <= report["auroc_ci_high"]
