"""Image files in, uint8 arrays out: decoding (a bad file is named), and listing inputs for prediction."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from suite.core.errors import DataError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".gif", ".webp")


def to_uint8(images: np.ndarray) -> np.ndarray:
    """Images of any numeric type as uint8, scaled from their own min..max to 0..255."""
    if images.dtype == np.uint8:
        return images
    low, high = float(images.min()), float(images.max())
    return np.round((images - low) / max(high - low, 1e-9) * 255).astype(np.uint8)


def decode_image(path: Path) -> np.ndarray:
    """A uint8 array (H x W, or H x W x 3 for colour) from an image file.

    Raises:
        DataError: the file is missing, not an image, or corrupt; the message names it.
    """
    from PIL import Image, UnidentifiedImageError

    if not path.is_file():
        raise DataError(f"{path}: no such image file")
    try:
        with Image.open(path) as image:
            image.load()
            if image.mode in ("I;16", "I;16B", "I", "F"):
                return to_uint8(np.asarray(image, dtype=np.float64))
            return np.asarray(image.convert("L" if image.mode in ("L", "1", "LA") else "RGB"))
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise DataError(f"{path}: cannot read image ({str(error).splitlines()[0][:100]})") from None


def read_images(paths: list[Path], *, on_bad_image: str) -> tuple[list[np.ndarray | None], list[str]]:
    """Decode every path; a bad one stops (DataError naming it) or is skipped (None, and listed)."""
    images, skipped = [], []
    for path in paths:
        try:
            images.append(decode_image(path))
        except DataError as error:
            if on_bad_image == "stop":
                raise DataError(f"{error} (set data.on_bad_image: skip to leave such files out)") from None
            images.append(None)
            skipped.append(str(path))
    return images, skipped


def list_inputs(path: Path, *, path_column: str = "path") -> list[str]:
    """Image paths for prediction: every image under a folder, a CSV's path column, or one image file.

    Raises:
        DataError: missing path, a CSV without the path column, or no images found.
    """
    if not path.exists():
        raise DataError(f"--input: no such file or folder '{path}'")
    if path.is_dir():
        found = [str(f) for f in sorted(path.rglob("*")) if f.suffix.lower() in IMAGE_SUFFIXES]
    elif path.suffix.lower() == ".csv":
        with open(path, encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            if path_column not in (reader.fieldnames or []):
                raise DataError(f"{path}: no column '{path_column}' (columns: {', '.join(reader.fieldnames or [])})")
            found = [str(path.parent / row[path_column].strip()) for row in reader]
    else:
        found = [str(path)]
    if not found:
        raise DataError(f"--input {path}: no images ({', '.join(IMAGE_SUFFIXES)})")
    return found
