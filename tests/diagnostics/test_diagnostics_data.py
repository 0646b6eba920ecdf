"""Diagnostics data: the synthetic generator, the .npz / folder / CSV readers, patient split, bad input."""

import csv

import numpy as np
import pytest
from PIL import Image

from suite.core.errors import DataError
from suite.diagnostics.data import DiagnosticsDataConfig, ImageSet, assert_no_patient_leak, load_splits
from suite.diagnostics.images import list_inputs
from suite.diagnostics.synthetic import SyntheticConfig, generate_synthetic, write_npz

SMALL = dict(image_size=32, n_train=40, n_validation=12, n_test=20)


def test_synthetic_is_deterministic_and_splits_are_independent():
    a, b = generate_synthetic(SyntheticConfig(**SMALL)), generate_synthetic(SyntheticConfig(**SMALL))
    assert all(np.array_equal(a[k], b[k], equal_nan=True) for k in a)
    other = generate_synthetic(SyntheticConfig(**SMALL, seed=1))
    assert not np.array_equal(a["train_images"], other["train_images"])
    more_train = generate_synthetic(SyntheticConfig(**{**SMALL, "n_train": 60}))
    assert np.array_equal(a["test_images"], more_train["test_images"])     # the test set does not move
    assert a["train_labels"].shape == (40, 1) and a["train_images"].dtype == np.uint8
    assert a["train_labels"].sum() == 20                                     # prevalence 0.5, exactly


def test_synthetic_labels_match_the_lesions_drawn():
    cfg = SyntheticConfig(**{**SMALL, "image_size": 48, "noise": 0.0})
    with_lesions = generate_synthetic(cfg)
    without = generate_synthetic(SyntheticConfig(**{**SMALL, "image_size": 48, "noise": 0.0, "contrast": [0, 0]}))
    for split in ("train", "val", "test"):
        labels = with_lesions[f"{split}_labels"][:, 0]
        diff = with_lesions[f"{split}_images"].astype(int) - without[f"{split}_images"].astype(int)
        assert np.abs(diff[labels == 0]).max() == 0                           # negatives: nothing added
        for image, (row, col, _) in zip(diff[labels == 1], with_lesions[f"{split}_lesions"][labels == 1]):
            rows, cols = np.mgrid[0:48, 0:48]
            weight = np.clip(image, 0, None) / image.clip(0, None).sum()
            assert image.max() >= 0.2 * 255                                    # contrast >= 0.25, some clipping
            assert np.hypot((weight * rows).sum() - row, (weight * cols).sum() - col) <= 2.0   # added at the lesion
        assert np.isnan(with_lesions[f"{split}_lesions"][labels == 0]).all()


def test_synthetic_source_is_cached_and_read_like_medmnist(tmp_path):
    cfg = DiagnosticsDataConfig(source="synthetic", synthetic=SyntheticConfig(**SMALL), cache_dir=str(tmp_path))
    splits = load_splits(cfg)
    assert (len(splits.train), len(splits.validation), len(splits.test)) == (40, 12, 20)
    assert splits.task == "binary" and "SYNTHETIC" in splits.origin
    assert len(list(tmp_path.glob("synthetic-scans-*.npz"))) == 1
    budget = load_splits(DiagnosticsDataConfig(source="synthetic", synthetic=SyntheticConfig(**SMALL),
                                               cache_dir=str(tmp_path), label_budget=20))
    assert (len(budget.train), len(budget.validation), len(budget.test)) == (16, 4, 20)   # 20 in all; test whole
    assert budget.train.labels.sum() == 8 and budget.validation.labels.sum() == 2          # stratified
    assert not set(budget.train.names) & set(budget.validation.names)
    assert budget.test.names == splits.test.names


def test_npz_multiclass_and_multilabel(tmp_path):
    rng = np.random.default_rng(0)
    images = {f"{s}_images": rng.integers(0, 255, (30, 28, 28), dtype=np.uint8) for s in ("train", "val", "test")}
    multiclass = {**images, **{f"{s}_labels": np.arange(30).reshape(30, 1) % 3 for s in ("train", "val", "test")}}
    splits = load_splits(DiagnosticsDataConfig(source=str(write_npz(multiclass, tmp_path / "mc.npz"))))
    assert splits.task == "multiclass" and splits.class_names == ["class_0", "class_1", "class_2"]
    assert splits.train.labels.shape == (30,)
    labels = (rng.random((30, 4)) < 0.4).astype(np.uint8)
    multilabel = {**images, **{f"{s}_labels": labels for s in ("train", "val", "test")}}
    splits = load_splits(DiagnosticsDataConfig(source=str(write_npz(multilabel, tmp_path / "ml.npz"))))
    assert splits.task == "multilabel" and splits.train.labels.shape == (30, 4)
    assert splits.train.labels.dtype == np.float32


def test_npz_without_the_medmnist_keys_is_one_line(tmp_path):
    np.savez(tmp_path / "bad.npz", x=np.zeros(3))
    with pytest.raises(DataError, match=r"no array 'train_images'.*MedMNIST layout") as error:
        load_splits(DiagnosticsDataConfig(source=str(tmp_path / "bad.npz")))
    assert "\n" not in str(error.value)


def _png(path, value, size=24):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((size, size), value, dtype=np.uint8)).save(path)
    return path


def _folder(root, per_class=10):
    for name, value in (("normal", 60), ("pneumonia", 200)):
        for i in range(per_class):
            _png(root / name / f"{name}-{i}.png", value + i)
    return root


def test_image_folder_binary_with_disease_as_positive(tmp_path):
    splits = load_splits(DiagnosticsDataConfig(source=str(_folder(tmp_path / "scans")), test_size=0.3,
                                               validation_size=0.3))
    assert splits.class_names == ["normal", "pneumonia"] and splits.task == "binary"
    assert len(splits.train) + len(splits.validation) + len(splits.test) == 20
    for part in (splits.train, splits.validation, splits.test):   # label 1 = pneumonia = the bright images
        assert all((im.mean() > 128) == bool(y) for im, y in zip(part.images, part.labels))


def test_corrupt_image_stops_by_name_or_is_skipped(tmp_path):
    root = _folder(tmp_path / "scans")
    (root / "pneumonia" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    cfg = dict(source=str(root), test_size=0.3, validation_size=0.3)
    with pytest.raises(DataError, match=r"broken\.png: cannot read image.*on_bad_image: skip") as error:
        load_splits(DiagnosticsDataConfig(**cfg))
    assert "\n" not in str(error.value)
    splits = load_splits(DiagnosticsDataConfig(**cfg, on_bad_image="skip"))
    assert [p.rsplit("/", 1)[-1] for p in splits.skipped] == ["broken.png"]
    assert len(splits.train) + len(splits.validation) + len(splits.test) == 20


def _write_csv(path, rows, columns=("path", "label", "patient_id")):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerows(rows)
    return path


def test_csv_patient_split_never_leaks(tmp_path):
    rows = []
    for patient in range(30):
        label = "pneumonia" if patient % 3 == 0 else "normal"
        for visit in range(3):      # three images per patient
            rows.append([str(_png(tmp_path / "img" / f"p{patient}-{visit}.png", 50 + patient).name), label,
                         f"P{patient:03d}"])
    for row in rows:
        row[0] = f"img/{row[0]}"
    splits = load_splits(DiagnosticsDataConfig(source=str(_write_csv(tmp_path / "scans.csv", rows)),
                                               test_size=0.3, validation_size=0.3))
    patients = [set(part.patients) for part in (splits.train, splits.validation, splits.test)]
    assert not (patients[0] & patients[1]) and not (patients[0] & patients[2]) and not (patients[1] & patients[2])
    assert sum(map(len, patients)) == 30 and splits.summary()["patients"]["test"] == len(patients[2])
    assert all(len(part) == 3 * len(set(part.patients)) for part in (splits.train, splits.validation, splits.test))
    leaking = ImageSet([np.zeros((2, 2), np.uint8)] * 2, np.array([0, 1]), ["a", "b"], ["P1", "P2"])
    with pytest.raises(DataError, match="patient 'P1' is in two splits"):
        assert_no_patient_leak(leaking, leaking.subset([0]))


def test_csv_without_label_column_or_with_a_missing_file_or_one_class(tmp_path):
    image = _png(tmp_path / "a.png", 10)
    no_label = _write_csv(tmp_path / "nolabel.csv", [[image.name, "P1"]], columns=("path", "patient_id"))
    with pytest.raises(DataError, match=r"no column 'label' \(columns: path, patient_id\); set data.label_column"):
        load_splits(DiagnosticsDataConfig(source=str(no_label)))
    missing = _write_csv(tmp_path / "missing.csv", [[image.name, "normal", "P1"], ["gone.png", "pneumonia", "P2"]])
    with pytest.raises(DataError, match=r"gone\.png: no such image file"):
        load_splits(DiagnosticsDataConfig(source=str(missing)))
    one_class = _write_csv(tmp_path / "one.csv", [[image.name, "normal", f"P{i}"] for i in range(10)])
    with pytest.raises(DataError, match=r"only one class \(normal\)"):
        load_splits(DiagnosticsDataConfig(source=str(one_class)))
    with pytest.raises(DataError, match="no such file or folder 'nowhere.csv'"):
        load_splits(DiagnosticsDataConfig(source="nowhere.csv"))


def test_ambiguous_binary_classes_ask_for_positive_class(tmp_path):
    for name, value in (("cat", 10), ("dog", 200)):
        for i in range(6):
            _png(tmp_path / "pets" / name / f"{i}.png", value)
    with pytest.raises(DataError, match="set data.positive_class"):
        load_splits(DiagnosticsDataConfig(source=str(tmp_path / "pets")))
    splits = load_splits(DiagnosticsDataConfig(source=str(tmp_path / "pets"), positive_class="cat",
                                               test_size=0.34, validation_size=0.25))
    assert splits.class_names == ["dog", "cat"]


def test_list_inputs_reads_folders_and_csvs(tmp_path):
    root = _folder(tmp_path / "scans", per_class=2)
    assert len(list_inputs(root)) == 4
    table = _write_csv(tmp_path / "in.csv", [["scans/normal/normal-0.png", "", ""]])
    read = list_inputs(table)
    assert (read.values, read.ids) == ([str(tmp_path / "scans/normal/normal-0.png")], [f"{table}:2"])
    with pytest.raises(DataError, match="no column 'file'"):
        list_inputs(table, path_column="file")
