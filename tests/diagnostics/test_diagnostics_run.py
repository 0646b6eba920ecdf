"""Diagnostics-only checks on the tiny run (the shared ones are in tests/contract): clinical metrics, saliency,
predict from files, folders and CSVs, eval on an image folder, linear probe, multi-class and multi-label data."""

import csv
import json

import numpy as np
import pytest
from PIL import Image

import suite
from suite.cli import main as cli
from suite.core.metrics.classification import roc_auc
from suite.diagnostics.data import load_splits

pytestmark = pytest.mark.slow    # trains models or starts processes: not in the fast lane

BASELINES = {"baseline:logreg-pixels", "baseline:logreg-imagenet-features"}


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("dx-cache"))


@pytest.fixture(scope="module")
def tiny_run(diagnostics_tiny_run):
    return diagnostics_tiny_run


def test_metrics_json_holds_tuned_and_baselines(tiny_run):
    metrics = tiny_run.metrics()
    assert metrics["domain"] == "diagnostics" and metrics["primary_metric"] == "auroc"
    assert set(metrics["models"]) == {"tuned", "hybrid"} | BASELINES
    for system, values in metrics["models"].items():
        c = values["confusion"]
        assert c["tp"] + c["fn"] == metrics["data"]["positive_test"] and sum(c.values()) == metrics["data"]["test"]
        assert values["auroc_ci_low"] <= values["auroc"] <= values["auroc_ci_high"], system
        assert 0 <= values["ece"] <= 1
    tuned = metrics["models"]["tuned"]
    assert tuned["auroc"] > 0.75 and tuned["auroc_ci_low"] > 0.6           # well above chance
    assert tuned["sensitivity"] > 0.3 and tuned["specificity"] > 0.8       # threshold aimed at specificity 0.95
    assert metrics["training"]["train_samples_per_second"] > 0 and metrics["training"]["pretrained"] is True


def test_run_folder_holds_clinical_plots_saliency_and_the_threshold(tiny_run):
    path = tiny_run.path
    for name in ("model/model.safetensors", "plots/roc.png", "plots/reliability.png"):
        assert (path / name).is_file(), name
    assert len(list((path / "plots").glob("saliency-test-*.png"))) == 2
    settings = json.loads((path / "model" / "suite.json").read_text())["state"]
    assert settings["threshold"] == tiny_run.metrics()["models"]["tuned"]["threshold"]
    assert settings["architecture"] == "tf_efficientnet_lite0" and settings["synthetic_data"] is True
    card = (path / "README.md").read_text()
    assert "| tuned |" in card and "SYNTHETIC" in card and "Operating point" in card


def test_cli_predicts_png_files_folders_and_csvs(tiny_run, tmp_path, capsys):
    test = load_splits(tiny_run.recipe().data).test
    folder = tmp_path / "scans"
    folder.mkdir()
    paths = []
    for i in range(4):
        paths.append(folder / f"scan-{i}.png")
        Image.fromarray(test.images[i]).save(paths[-1])
    assert cli(["predict", str(tiny_run.path), *map(str, paths)]) == 0
    inline = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    expected = suite.load(tiny_run.path).scores(test.images[:4])
    assert [p["probability"] for p in inline] == pytest.approx(expected, abs=1e-5)   # PNG is lossless
    assert [p["label"] == "lesion" for p in inline] == list(expected >= inline[0]["threshold"])
    assert cli(["predict", str(tiny_run.path), "--input", str(folder)]) == 0
    assert [json.loads(x)["probability"] for x in capsys.readouterr().out.splitlines()] == [
        p["probability"] for p in inline]
    table = tmp_path / "scans.csv"
    with open(table, "w", newline="") as handle:
        csv.writer(handle).writerows([["path"], *[[f"scans/{p.name}"] for p in paths[:2]]])
    assert cli(["predict", str(tiny_run.path), "--input", str(table), "--output", str(tmp_path / "out.csv")]) == 0
    assert len((tmp_path / "out.csv").read_text().splitlines()) == 3
    saliency = suite.load(tiny_run.path).predict([str(paths[0])], saliency_dir=tmp_path / "maps")
    assert (tmp_path / "maps" / "saliency-scan-0.png").is_file() and saliency[0]["saliency"].endswith(".png")


def test_cli_predict_writes_saliency_pngs(tiny_run, tmp_path, capsys):
    scan = tmp_path / "scan.png"
    Image.fromarray(load_splits(tiny_run.recipe().data).test.images[0]).save(scan)
    maps = tmp_path / "maps"
    assert cli(["predict", str(tiny_run.path), str(scan), "--saliency", str(maps)]) == 0
    (prediction,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert prediction["saliency"] == str(maps / "saliency-scan.png")
    with Image.open(prediction["saliency"]) as png:
        assert png.size[0] > 300 and png.size[1] > 150                    # the scan beside its overlay
    assert cli(["predict", str(tiny_run.path), str(scan), "--k", "3"]) == 2   # a recommendation-only flag
    assert capsys.readouterr().err.strip() == "error: --k: a diagnostics model does not take it"


def test_gradcam_points_at_the_synthetic_lesions(tiny_run):
    """The generator knows where each lesion is: Grad-CAM's peak must fall on it far more often than a random
    point would (within twice the lesion's radius of its centre; the tiny run measured 44% against 13%)."""
    import torch

    from suite.diagnostics.saliency import gradcam
    from suite.diagnostics.synthetic import generate_synthetic
    from suite.diagnostics.transforms import to_pil

    arrays = generate_synthetic(tiny_run.recipe().data.synthetic)
    positive = np.flatnonzero(arrays["test_labels"][:, 0] == 1)
    predictor = suite.load(tiny_run.path)
    maps = gradcam(predictor.network, torch.stack([predictor.transform(to_pil(arrays["test_images"][i]))
                                                   for i in positive]), "binary")
    side = arrays["test_images"].shape[1]
    scale = maps.shape[-1] / side                                            # the network sees upsampled scans
    rows, cols = np.mgrid[0:side, 0:side]
    hits, chance = [], []
    for heat, i in zip(maps, positive):
        row, col, radius = arrays["test_lesions"][i]
        peak = (np.array(np.unravel_index(heat.argmax(), heat.shape)) + 0.5) / scale - 0.5
        hits.append(np.hypot(peak[0] - row, peak[1] - col) <= 2 * radius)
        chance.append((np.hypot(rows - row, cols - col) <= 2 * radius).mean())
    assert len(hits) >= 40
    assert np.mean(hits) > max(0.3, 2 * np.mean(chance)), (np.mean(hits), np.mean(chance))


def test_evaluate_on_an_image_folder(tiny_run, tmp_path):
    test = load_splits(tiny_run.recipe().data).test
    for i, (image, label) in enumerate(zip(test.images[:40], test.labels[:40])):
        folder = tmp_path / "external" / ("lesion" if label else "no lesion")
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(folder / f"{i}.png")
    result = suite.evaluate(tiny_run.path, data=str(tmp_path / "external"))
    assert result["data"]["test"] == 40 and result["evaluated_on"] == str(tmp_path / "external")
    expected = roc_auc(test.labels[:40], suite.load(tiny_run.path).scores(test.images[:40]))
    assert result["models"]["tuned"]["auroc"] == pytest.approx(expected, abs=1e-9)


def test_bad_inputs_give_one_line(tiny_run, tmp_path, capsys):
    assert cli(["predict", str(tiny_run.path), str(tmp_path / "missing.png")]) == 2
    assert capsys.readouterr().err.strip() == f"error: {tmp_path / 'missing.png'}: no such image file"
    (tmp_path / "corrupt.png").write_bytes(b"not an image")
    assert cli(["predict", str(tiny_run.path), str(tmp_path / "corrupt.png")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {tmp_path / 'corrupt.png'}: cannot read image") and "\n" not in err
    assert cli(["train", "diagnostics/tiny", "data.source=nowhere.csv"]) == 2
    assert "no such file or folder 'nowhere.csv'" in capsys.readouterr().err


def test_a_linear_probe_is_the_logistic_regression_on_frozen_features(runs_dir, cache_dir):
    run = suite.tune("diagnostics/tiny", train__strategy="linear-probe",
                     evaluation__baselines=["logreg-imagenet-features"], output__runs_dir=str(runs_dir),
                     output__name="dx-tiny-probe", data__cache_dir=cache_dir)
    metrics = run.metrics()
    tuned, baseline = metrics["models"]["tuned"], metrics["models"]["baseline:logreg-imagenet-features"]
    assert tuned["auroc"] > 0.9 and tuned["auroc"] == pytest.approx(baseline["auroc"], abs=1e-9)   # the same model
    assert metrics["training"]["strategy"] == "linear-probe" and metrics["training"]["steps"] == 0
    assert metrics["training"]["trainable_parameters"] == 1280 * 2 + 2            # the head alone
    assert [phase["phase"] for phase in metrics["training"]["phases"]] == ["probe"]
    assert metrics["training"]["training_flops"] > 0


def test_multiclass_and_multilabel_npz_end_to_end(runs_dir, cache_dir, tmp_path):
    from suite.diagnostics.synthetic import SyntheticConfig, generate_synthetic, write_npz

    arrays = generate_synthetic(SyntheticConfig(image_size=32, n_train=60, n_validation=30, n_test=30))
    for split in ("train", "val", "test"):   # class 2: brighter images, so three classes exist
        labels = arrays[f"{split}_labels"].copy()
        labels[::3] = 2
        arrays[f"{split}_images"][::3] = np.clip(arrays[f"{split}_images"][::3].astype(int) + 90, 0, 255)
        arrays[f"{split}_labels"] = labels
    source = write_npz(arrays, tmp_path / "three.npz")
    common = dict(data__source=str(source), data__class_names=None, train__max_steps=30, train__learning_rate=3e-3,
                  evaluation__baselines=[], evaluation__saliency_images=1, output__runs_dir=str(runs_dir),
                  data__cache_dir=cache_dir)
    run = suite.tune("diagnostics/tiny", output__name="dx-three", **common)
    report = run.metrics()["models"]["tuned"]
    assert set(report["auroc_per_class"]) == {"class_0", "class_1", "class_2"}
    assert report["auroc_per_class"]["class_2"] > 0.75                 # the brightness class, after 30 steps
    prediction = suite.load(run.path).predict([arrays["test_images"][0]])[0]
    assert set(prediction["probabilities"]) == {"class_0", "class_1", "class_2"}
    assert sum(prediction["probabilities"].values()) == pytest.approx(1.0, abs=1e-4)
    multi = {k: v for k, v in arrays.items() if k.endswith("images")}      # two labels: lesion, bright
    for split in ("train", "val", "test"):
        multi[f"{split}_labels"] = np.eye(3)[arrays[f"{split}_labels"][:, 0]][:, 1:].astype(np.uint8)
    run = suite.tune("diagnostics/tiny", output__name="dx-multilabel",
                     **{**common, "train__max_steps": 60,
                        "data__source": str(write_npz(multi, tmp_path / "multi.npz"))})
    report = run.metrics()["models"]["tuned"]
    assert set(report["auroc_per_label"]) == {"label_0", "label_1"} and len(report["thresholds"]) == 2
    assert report["auroc_per_label"]["label_1"] > 0.75                 # learned, after 60 steps
    assert "labels" in suite.load(run.path).predict([arrays["test_images"][0]])[0]


def test_adapt_continues_the_tuned_network_with_its_head_on_new_scans(tiny_run, tmp_path):
    from suite.diagnostics.synthetic import SyntheticConfig, generate_synthetic, write_npz

    parent_metrics = tiny_run.metrics()
    shifted = SyntheticConfig(image_size=32, n_train=60, n_validation=30, n_test=40, contrast=[0.3, 0.5], seed=7)
    new = write_npz(generate_synthetic(shifted), tmp_path / "new-scans.npz")
    adapted = suite.adapt(tiny_run.path, data=str(new), strategy="linear-probe",
                          output__runs_dir=str(tmp_path / "runs"), evaluation__saliency_images=0)
    assert tiny_run.metrics() == parent_metrics                                   # the parent is as it was
    metrics = adapted.metrics()
    assert metrics["data"]["train"] == 60 and metrics["data"]["test"] == 40
    assert metrics["models"]["tuned"]["auroc"] > 0.55
    parent, child = suite.load(tiny_run.path).network, suite.load(adapted.path).network
    import torch

    assert torch.equal(parent.backbone.conv_stem.weight, child.backbone.conv_stem.weight)   # the parent's features
    assert not torch.equal(parent.backbone.classifier.weight, child.backbone.classifier.weight)   # a new head
    recipe = adapted.recipe()
    from suite.core import pipeline, registry

    domain = registry.get_domain("diagnostics")
    learned = pipeline.baseline_data(domain, recipe, domain.prepare_data(recipe))
    assert len(learned.train) == 60 + tiny_run.metrics()["data"]["train"]         # old scans and new for the baselines
