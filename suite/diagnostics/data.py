"""Diagnostics data: (image, label) examples from MedMNIST .npz files, image folders, CSVs or a synthetic set.

Orientation: every example is one image (a uint8 array, H x W grayscale or H x W x 3)
and its label: an int for binary (1 = disease) and multi-class tasks, a 0/1 vector for
multi-label tasks. Images are decoded once (``images.py``), when data are prepared, so a corrupt file
is found (and named) before any model loads.

Sources (the recipe's ``data.source``):
- ``synthetic``: the synthetic-scans generator (``synthetic.py``, datasets/synthetic-scans), written
  as a MedMNIST-layout .npz into a cache folder and read back like any .npz;
- ``medmnist:<name>`` (e.g. ``medmnist:pneumoniamnist``): downloaded when online;
- a ``.npz`` in the MedMNIST layout (``train_images``, ``train_labels``, ``val_*``, ``test_*``);
- a folder with one subfolder of images per class;
- a ``.csv`` with an image path column, a label column and optionally a patient id
  (then the split is by patient: no patient is in two splits).
"""

from __future__ import annotations

import csv
import dataclasses
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from suite.core import label_budget, paths, resources
from suite.core.errors import DataError, brief
from suite.diagnostics.config import DiagnosticsDataConfig
from suite.diagnostics.images import image_files, read_images, to_uint8
from suite.diagnostics.synthetic import synthetic_npz

NEGATIVE_NAMES = {"normal", "negative", "healthy", "benign", "no", "0", "false", "absent", "no_finding",
                  "no finding", "control"}
PATIENT_COLUMNS = ("patient_id", "patient", "subject_id")
MEDMNIST_URL = "https://zenodo.org/records/10519652/files/{name}.npz?download=1"
SPLITS = {"train": "train", "validation": "val", "test": "test"}


@dataclass
class ImageSet:
    """One split: images, labels (N or N x K), and a name per image for messages."""

    images: list[np.ndarray]
    labels: np.ndarray
    names: list[str]
    patients: list[str] | None = None

    def __len__(self) -> int:
        return len(self.images)

    def concat(self, other: ImageSet) -> ImageSet:
        """This set followed by ``other``."""
        patients = None if self.patients is None or other.patients is None else self.patients + other.patients
        return ImageSet(self.images + other.images, np.concatenate([self.labels, other.labels]),
                        self.names + other.names, patients)

    def subset(self, index) -> ImageSet:
        index = list(index)
        return ImageSet([self.images[i] for i in index], self.labels[index], [self.names[i] for i in index],
                        None if self.patients is None else [self.patients[i] for i in index])


@dataclass
class Splits:
    train: ImageSet
    validation: ImageSet
    test: ImageSet
    task: str
    class_names: list[str]
    skipped: list[str] = field(default_factory=list)
    origin: str = ""

    def summary(self) -> dict:
        out = {"source": self.origin, "task": self.task, "classes": ", ".join(self.class_names),
               "train": len(self.train), "validation": len(self.validation), "test": len(self.test),
               "skipped_images": len(self.skipped)}
        if self.task == "binary":
            out.update({f"positive_{k}": int(getattr(self, k).labels.sum()) for k in SPLITS})
        if self.train.patients is not None:
            out["patients"] = {k: len(set(getattr(self, k).patients)) for k in SPLITS}
        return out


# -- reading sources --------------------------------------------------------------------------
def load_splits(cfg: DiagnosticsDataConfig) -> Splits:
    """Read ``cfg.source`` into train/validation/test splits.

    Raises:
        DataError: missing file or column, unreadable image (with ``on_bad_image: stop``),
            a split with one class only, or a patient in two splits.
    """
    splits = read_source(cfg)
    if cfg.label_budget is not None:
        splits.train, splits.validation = budget_parts(splits, cfg)
    for name in SPLITS:
        require_classes(getattr(splits, name).labels, splits.task, where=f"data.source '{cfg.source}' ({name} split)")
    return splits


def with_test_data(cfg: DiagnosticsDataConfig, splits: Splits, source: str) -> Splits:
    """``splits`` with other data as the test split: a .npz's test split, or every image of a folder or CSV.

    Raises:
        DataError: unreadable data, or classes other than the ones the model was trained on.
    """
    other = read_source(dataclasses.replace(cfg, source=source, label_budget=None))
    npz = source.endswith(".npz") or source == "synthetic" or source.startswith("medmnist:")
    if other.class_names != splits.class_names and not npz:
        raise DataError(f"{source}: classes {other.class_names} differ from the trained model's {splits.class_names}")
    if npz:
        test = other.test
    else:
        parts = (other.train, other.validation, other.test)
        test = ImageSet([im for p in parts for im in p.images], np.concatenate([p.labels for p in parts]),
                        [n for p in parts for n in p.names])
    require_classes(test.labels, splits.task, where=f"--data {source}")
    return dataclasses.replace(splits, test=test, origin=f"{splits.origin}; test: {source}")


def cache_dir(cfg: DiagnosticsDataConfig) -> Path:
    """Where generated and downloaded .npz files are kept: ``data.cache_dir``, else the user cache's diagnostics/.

    Raises:
        SuiteError: the place is a file, a special file or on a pseudo file system.
    """
    if cfg.cache_dir:
        return paths.writable_folder(cfg.cache_dir, what="data.cache_dir")
    return paths.writable_folder(resources.cache_dir() / "diagnostics", what=f"${resources.CACHE_ENV}/diagnostics")


def read_source(cfg: DiagnosticsDataConfig) -> Splits:
    """Dispatch on ``cfg.source``: synthetic, medmnist:<name>, .npz, folder or .csv."""
    if cfg.source == "synthetic":
        return read_npz(synthetic_npz(cfg.synthetic, cache_dir(cfg)), cfg, "synthetic-scans (SYNTHETIC)")
    if cfg.source.startswith("medmnist:"):
        return read_npz(_download_medmnist(cfg.source.removeprefix("medmnist:"), cache_dir(cfg)), cfg, cfg.source)
    path = Path(cfg.source).expanduser()
    if not path.exists():
        raise DataError(f"data.source: no such file or folder '{cfg.source}' "
                        "(or use synthetic, medmnist:<name>)")
    paths.refuse_special(path, what="data.source")
    if path.is_dir():
        return _read_folder(path, cfg)
    if path.suffix.lower() == ".npz":
        return read_npz(path, cfg, str(path))
    if path.suffix.lower() == ".csv":
        return _read_csv(path, cfg)
    raise DataError(f"{path}: unknown format; expected a .npz, a .csv or a folder of class folders")


def _download_medmnist(name: str, folder: Path) -> Path:
    import urllib.request

    path = folder / f"{name}.npz"
    if path.is_file():
        return path
    url = MEDMNIST_URL.format(name=name)
    tmp = path.with_name(f".{name}.partial")
    folder.mkdir(parents=True, exist_ok=True)
    try:
        urllib.request.urlretrieve(url, tmp)  # noqa: S310 - a fixed https URL of the MedMNIST record
    except OSError as error:
        raise DataError(f"data.source medmnist:{name}: could not download {url} ({error}); offline, "
                        f"give the path of a downloaded {name}.npz instead") from None
    tmp.replace(path)
    return path


def _read_folder(path: Path, cfg: DiagnosticsDataConfig) -> Splits:
    folders = sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
    names = class_index([p.name for p in folders], cfg, str(path))
    files, labels = [], []
    for folder in folders:
        found = image_files(folder, what="data.source")
        files += found
        labels += [names.index(folder.name)] * len(found)
    return _finish(path, files, np.array(labels, dtype=np.int64), None, names, cfg)


def _read_csv(path: Path, cfg: DiagnosticsDataConfig) -> Splits:
    rows, patient = read_table_rows(path, cfg)
    names = class_index([str(r[cfg.label_column]).strip() for r in rows], cfg, str(path))
    files = [(path.parent / str(r[cfg.path_column]).strip()) for r in rows]
    labels = np.array([names.index(str(r[cfg.label_column]).strip()) for r in rows], dtype=np.int64)
    patients = [str(r[patient]).strip() for r in rows] if patient else None
    return _finish(path, files, labels, patients, names, cfg)


def _finish(path: Path, files: list[Path], labels: np.ndarray, patients: list[str] | None, names: list[str],
            cfg: DiagnosticsDataConfig) -> Splits:
    images, skipped = read_images(files, on_bad_image=cfg.on_bad_image)
    keep = [i for i, image in enumerate(images) if image is not None]
    examples = ImageSet([images[i] for i in keep], labels[keep], [str(files[i]) for i in keep],
                        None if patients is None else [patients[i] for i in keep])
    require_classes(examples.labels, "binary", where=str(path))
    task = "binary" if len(names) == 2 and cfg.task != "multiclass" else "multiclass"
    train, validation, test = split_examples(examples, cfg)
    return Splits(train, validation, test, task=task, class_names=names, skipped=skipped, origin=str(path))


def read_npz(path: Path, cfg: DiagnosticsDataConfig, origin: str) -> Splits:
    """A MedMNIST-layout .npz (2-D images; binary, multi-class or multi-label labels).

    Raises:
        DataError: a special file (a FIFO would block), a damaged file, or arrays not in the MedMNIST layout.
    """
    paths.refuse_special(path, what="data.source")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError, EOFError, RuntimeError, zipfile.BadZipFile, zlib.error) as error:
        # a damaged zip or array; RuntimeError: a zip member encrypted, or of a zip version Python cannot read
        raise DataError(f"{path}: not a readable .npz file ({brief(str(error) or type(error).__name__, 120)})") \
            from None
    parts = {}
    for name, prefix in SPLITS.items():
        for kind in ("images", "labels"):
            if f"{prefix}_{kind}" not in arrays:
                raise DataError(f"{path}: no array '{prefix}_{kind}' (arrays: {', '.join(arrays)}); "
                                "expected the MedMNIST layout train_/val_/test_ images and labels")
        images, labels = arrays[f"{prefix}_images"], arrays[f"{prefix}_labels"]
        if images.ndim not in (3, 4) or len(images) != len(labels):
            raise DataError(f"{path}: {prefix}_images must be N x H x W (x 3) with one label row each, "
                            f"got shapes {images.shape} and {labels.shape}")
        parts[name] = ImageSet(list(to_uint8(images)), labels.reshape(len(labels), -1),
                               [f"{prefix}[{i}]" for i in range(len(images))])
    task = _task(cfg.task, np.concatenate([p.labels for p in parts.values()]))
    for part in parts.values():
        part.labels = part.labels.astype(np.int64).ravel() if task != "multilabel" else part.labels.astype(np.float32)
    width = parts["train"].labels.shape[1] if task == "multilabel" else int(
        max(p.labels.max() for p in parts.values())) + 1
    names = cfg.class_names or ([f"label_{i}" for i in range(width)] if task == "multilabel" else
                                [f"class_{i}" for i in range(width)])
    if len(names) != width:
        kind = "labels" if task == "multilabel" else "classes"
        raise DataError(f"data.class_names: {len(names)} names for {width} {kind} in {path.name}")
    return Splits(**parts, task=task, class_names=list(names), origin=origin)


def _task(wanted: str, labels: np.ndarray) -> str:
    if wanted != "auto":
        return wanted
    if labels.ndim == 2 and labels.shape[1] > 1:
        return "multilabel"
    return "binary" if len(np.unique(labels)) <= 2 else "multiclass"


def read_table_rows(path: Path, cfg: DiagnosticsDataConfig) -> tuple[list[dict], str | None]:
    """CSV rows, checked for the path and label columns; also the patient column in use (or None)."""
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            rows, columns = list(reader), reader.fieldnames or []
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: not UTF-8 text (byte {error.start})") from None
    for column, key in ((cfg.path_column, "path_column"), (cfg.label_column, "label_column")):
        if column not in columns:
            raise DataError(f"{path}: no column '{column}' (columns: {', '.join(columns) or 'none'}); "
                            f"set data.{key}")
    patient = cfg.patient_column or next((c for c in PATIENT_COLUMNS if c in columns), None)
    if patient is not None and patient not in columns:
        raise DataError(f"{path}: no column '{patient}' (columns: {', '.join(columns)}); set data.patient_column")
    if not rows:
        raise DataError(f"{path}: no rows")
    return rows, patient


def class_index(names: list[str], cfg: DiagnosticsDataConfig, where: str) -> list[str]:
    """Order class names so that, for two classes, index 1 is the disease (positive) class."""
    names = sorted(set(names))
    if len(names) < 2:
        raise DataError(f"{where}: only one class ({names[0] if names else 'none'}); need at least two")
    if len(names) > 2 or cfg.task == "multiclass":
        return names
    positive = cfg.positive_class
    if positive is None:
        negatives = [n for n in names if n.strip().lower() in NEGATIVE_NAMES
                     or n.strip().lower().startswith(("no ", "no_", "no-", "non-", "not "))]
        if len(negatives) != 1:
            raise DataError(f"{where}: cannot tell which of {names} means disease; set data.positive_class")
        positive = next(n for n in names if n != negatives[0])
    if positive not in names:
        raise DataError(f"{where}: data.positive_class '{positive}' is not one of the classes {names}")
    return [next(n for n in names if n != positive), positive]


# -- split ----------------------------------------------------------------------------------------
def split_examples(examples: ImageSet, cfg: DiagnosticsDataConfig) -> tuple[ImageSet, ImageSet, ImageSet]:
    """Stratified train/validation/test split; by patient when patients are known (never leaks)."""
    from sklearn.model_selection import train_test_split

    keys = examples.patients or [str(i) for i in range(len(examples))]
    groups = sorted(set(keys))
    label_of = {g: 0 for g in groups}
    for key, label in zip(keys, examples.labels):
        label_of[key] = max(label_of[key], int(np.max(label)))      # a patient with any finding is positive
    strata = [label_of[g] for g in groups]
    try:
        rest, test = train_test_split(groups, test_size=cfg.test_size, random_state=cfg.seed, stratify=strata)
        train, validation = train_test_split(rest, test_size=cfg.validation_size, random_state=cfg.seed,
                                             stratify=[label_of[g] for g in rest])
    except ValueError as error:
        raise DataError(f"data.source '{cfg.source}': too few {'patients' if examples.patients else 'images'} "
                        f"to split ({len(groups)}): {error}") from None
    parts = []
    for chosen in (set(train), set(validation), set(test)):
        parts.append(examples.subset(i for i, key in enumerate(keys) if key in chosen))
    if examples.patients is not None:
        assert_no_patient_leak(*parts)
    return tuple(parts)


def assert_no_patient_leak(*parts: ImageSet) -> None:
    """Raise :class:`DataError` if any patient id appears in more than one split."""
    seen: dict[str, int] = {}
    for number, part in enumerate(parts):
        for patient in set(part.patients or []):
            if seen.setdefault(patient, number) != number:
                raise DataError(f"patient '{patient}' is in two splits; the split must be by patient")


def budget_parts(splits: Splits, cfg: DiagnosticsDataConfig) -> tuple[ImageSet, ImageSet]:
    """The label budget's training and validation images, drawn from the training and validation splits together
    (:mod:`suite.core.label_budget`). Where patients are known, an image drawn for validation whose patient also
    has an image drawn for training goes to training, so that no patient is in both."""
    pool = splits.train.concat(splits.validation)
    classes = None if splits.task == "multilabel" else len(splits.class_names)
    learn, check = label_budget.draw(pool.labels, cfg, seed=cfg.seed, classes=classes)
    if pool.patients is not None:
        training_patients = {pool.patients[i] for i in learn}
        moved = [i for i in check if pool.patients[i] in training_patients]
        learn, check = np.sort(np.concatenate([learn, moved]).astype(np.int64)), np.setdiff1d(check, moved)
    return pool.subset(learn), pool.subset(check)


def require_classes(labels: np.ndarray, task: str, *, where: str) -> None:
    """Raise :class:`DataError` unless the split holds at least two classes (or, multi-label, some positives)."""
    if len(labels) == 0:
        raise DataError(f"{where}: no images")
    if task == "multilabel":
        if labels.sum() == 0 or labels.sum() == labels.size:
            raise DataError(f"{where}: every label is 0 (or every label is 1); nothing to learn or measure")
        return
    counts = Counter(np.asarray(labels).tolist())
    if len(counts) < 2:
        raise DataError(f"{where}: only one class (label {next(iter(counts))}, {sum(counts.values())} images); "
                        "need at least two classes")
