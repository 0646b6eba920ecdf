"""SYNTHETIC scan-like images for the offline default and the tests (datasets/synthetic-scans).

No patient and no real finding: smooth tissue-like texture, soft bands and pixel noise,
half of them (``prevalence``) with one Gaussian "lesion" whose position and size are kept,
so that tests can check where a saliency map points. Written in the MedMNIST ``.npz``
layout and read back like any MedMNIST file.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from suite.core.config import SEED_BOUNDS, between


@dataclass
class SyntheticConfig:
    """Knobs of the synthetic-scans generator (SYNTHETIC data: no patient, no real finding)."""

    image_size: int = field(default=64, metadata={
        "bounds": between(16, 1024), "help": "Side of the square grayscale images, in pixels."})
    n_train: int = field(default=2000, metadata={"bounds": between(4, 10 ** 6), "help": "Training images."})
    n_validation: int = field(default=400, metadata={"bounds": between(4, 10 ** 6), "help": "Validation images."})
    n_test: int = field(default=1000, metadata={"bounds": between(4, 10 ** 6), "help": "Test images."})
    prevalence: float = field(default=0.5, metadata={
        "bounds": between(0, 1, low_open=True, high_open=True), "help": "Share of images with a lesion (label 1)."})
    lesion_radius: list[float] = field(default_factory=lambda: [2.5, 5.0], metadata={
        "bounds": between(0, 1024, max_items=2),
        "help": "[min, max] lesion radius in pixels (Gaussian blob sd), drawn uniformly."})
    contrast: list[float] = field(default_factory=lambda: [0.25, 0.4], metadata={"bounds": between(0, 1, max_items=2),
        "help": "[min, max] lesion brightness above the background (image range 0..1)."})
    noise: float = field(default=0.08, metadata={
        "bounds": between(0, 10), "help": "Standard deviation of the pixel noise."})
    texture: float = field(default=0.1, metadata={
        "bounds": between(0, 10), "help": "Amplitude of the smooth tissue-like texture."})
    texture_scale: float = field(default=8.0, metadata={"bounds": between(0, 1024, low_open=True),
        "help": "Smoothness of the texture: the spatial sd of its Gaussian low-pass, in pixels."})
    seed: int = field(default=0, metadata={
        "bounds": SEED_BOUNDS, "help": "Seed: the same knobs and seed give the same file."})

    def __post_init__(self):
        for name in ("lesion_radius", "contrast"):
            low_high = getattr(self, name)
            if len(low_high) != 2 or not low_high[0] <= low_high[1]:
                raise ValueError(f"{name}: expected [min, max] with min <= max, got {low_high!r}")


def generate_synthetic(cfg: SyntheticConfig) -> dict[str, np.ndarray]:
    """SYNTHETIC scan-like images in the MedMNIST .npz layout, deterministic from ``cfg.seed``.

    Each image: a smooth random texture, a few soft bands, pixel noise; a ``prevalence``
    share also gets one Gaussian lesion (label 1). Each split draws from its own child
    seed, so changing ``n_train`` never changes the test images, and random numbers are
    drawn in the same order whatever the contrast, so ``contrast: [0, 0]`` gives the
    same images without their lesions. ``<split>_lesions`` holds (row, col, radius),
    NaN for images without a lesion.

    Returns:
        ``{"train_images": uint8 (N, S, S), "train_labels": int64 (N, 1), "train_lesions": ..., "val_*", "test_*"}``.
    """
    out = {}
    counts = {"train": cfg.n_train, "val": cfg.n_validation, "test": cfg.n_test}
    for child, (split, n) in zip(np.random.SeedSequence(cfg.seed).spawn(3), counts.items()):
        images, labels, lesions = _synthetic_split(np.random.default_rng(child), n, cfg)
        out.update({f"{split}_images": images, f"{split}_labels": labels[:, None], f"{split}_lesions": lesions})
    return out


def _synthetic_split(rng: np.random.Generator, n: int, cfg: SyntheticConfig, chunk: int = 256):
    labels = np.zeros(n, dtype=np.int64)
    labels[:int(round(cfg.prevalence * n))] = 1
    rng.shuffle(labels)
    parts = [_draw(rng, labels[start:start + chunk], cfg) for start in range(0, n, chunk)]  # bounded memory
    images, lesions = (np.concatenate(p) for p in zip(*parts))
    return images, labels, lesions


def _draw(rng: np.random.Generator, labels: np.ndarray, cfg: SyntheticConfig):
    n, size = len(labels), cfg.image_size
    freq = np.fft.fftfreq(size)
    sigma = 1.0 / (2 * np.pi * cfg.texture_scale)                   # the low-pass sd, in cycles per pixel
    lowpass = np.exp(-(freq[:, None] ** 2 + freq[None, :] ** 2) / (2 * sigma ** 2))
    texture = np.fft.ifft2(np.fft.fft2(rng.standard_normal((n, size, size))) * lowpass).real
    texture /= texture.std(axis=(1, 2), keepdims=True) + 1e-9
    rows, cols = np.mgrid[0:size, 0:size].astype(np.float64)
    angle, period, phase = rng.uniform(0, np.pi, n), rng.uniform(size / 6, size / 3, n), rng.uniform(0, 6.3, n)
    along = rows[None] * np.cos(angle)[:, None, None] + cols[None] * np.sin(angle)[:, None, None]
    bands = np.sin(2 * np.pi * along / period[:, None, None] + phase[:, None, None])
    centre = rng.uniform(size * 0.15, size * 0.85, (n, 2))
    radius, contrast = rng.uniform(*cfg.lesion_radius, n), rng.uniform(*cfg.contrast, n)
    noise = rng.standard_normal((n, size, size))
    blob = np.exp(-((rows[None] - centre[:, 0, None, None]) ** 2 + (cols[None] - centre[:, 1, None, None]) ** 2)
                  / (2 * radius[:, None, None] ** 2))
    image = 0.45 + cfg.texture * texture + 0.06 * bands + cfg.noise * noise + (labels * contrast)[:, None, None] * blob
    lesions = np.where(labels[:, None] == 1, np.column_stack([centre, radius]), np.nan)
    return np.clip(np.round(image * 255), 0, 255).astype(np.uint8), lesions


def synthetic_npz(cfg: SyntheticConfig, cache_dir: Path) -> Path:
    """The cached .npz for these knobs, generated (atomically) when missing."""
    key = hashlib.sha256(json.dumps(asdict(cfg), sort_keys=True).encode()).hexdigest()[:12]
    path = cache_dir / f"synthetic-scans-{key}.npz"
    if not path.is_file():
        write_npz(generate_synthetic(cfg), path)
    return path


def write_npz(arrays: dict[str, np.ndarray], path: Path) -> Path:
    """Write a compressed .npz through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{np.random.default_rng().integers(1 << 30)}.tmp.npz")
    np.savez_compressed(tmp, **arrays)
    tmp.replace(path)
    return path
