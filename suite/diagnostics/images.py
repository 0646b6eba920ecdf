"""Image files in, uint8 arrays out: decoding (a bad file is named), and listing inputs for prediction."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from suite.core import paths
from suite.core.errors import DataError, brief
from suite.core.inputs import Inputs

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".gif", ".webp")


def to_uint8(images: np.ndarray) -> np.ndarray:
    """Images of any numeric type as uint8, scaled from their own min..max to 0..255."""
    if images.dtype == np.uint8:
        return images
    low, high = float(images.min()), float(images.max())
    return np.round((images - low) / max(high - low, 1e-9) * 255).astype(np.uint8)


MAX_PIXELS = 64_000_000    # a larger image is refused before it is decoded (a 69-byte PNG can claim 900 MP)


def check_image_file(path: Path) -> tuple[int, int]:
    """The (width, height) an image file's header gives, without decoding its pixels.

    Raises:
        DataError: the name is impossible, the file is missing, special (a FIFO, a device, a symbolic link
            loop) or not an image, or it claims more than :data:`MAX_PIXELS` pixels; the message names it.
    """
    from PIL import Image, UnidentifiedImageError

    if paths.problem(path):
        raise DataError(f"{paths.shorten(str(path))}: not an image file ({paths.problem(path)})")
    if paths.special(path):
        raise DataError(f"{paths.shorten(str(path))}: not an image file (it is {paths.special(path)})")
    if not path.is_file():
        raise DataError(f"{paths.shorten(str(path))}: no such image file")
    too_large = f"is larger than the {MAX_PIXELS // 1_000_000} megapixels suite reads; downscale it first"
    try:
        with Image.open(path) as image:
            size = image.size
    except Image.DecompressionBombError:       # Pillow's own limit, checked while opening
        raise DataError(f"{path}: the image {too_large}") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise DataError(f"{path}: cannot read image ({brief(str(error), 100)})") from None
    if size[0] * size[1] > MAX_PIXELS:
        raise DataError(f"{path}: an image of {size[0]} x {size[1]} pixels {too_large}")
    return size


def decode_image(path: Path) -> np.ndarray:
    """A uint8 array (H x W, or H x W x 3 for colour) from an image file (checked by :func:`check_image_file`).

    Raises:
        DataError: the file is missing, not an image, corrupt or too large; the message names it.
    """
    from PIL import Image, UnidentifiedImageError

    check_image_file(path)
    try:
        with Image.open(path) as image:
            image.load()
            if image.mode in ("I;16", "I;16B", "I", "F"):
                return to_uint8(np.asarray(image, dtype=np.float64))
            return np.asarray(image.convert("L" if image.mode in ("L", "1", "LA") else "RGB"))
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise DataError(f"{path}: cannot read image ({brief(str(error), 100)})") from None


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


def image_files(folder: Path, *, what: str) -> list[Path]:
    """Every file under ``folder`` (sorted) whose suffix is an image's.

    Raises:
        DataError: a special file or symbolic link loop under ``folder`` (see
            :func:`suite.core.paths.regular_files`).
    """
    return [f for f in paths.regular_files(folder, what=what) if f.suffix.lower() in IMAGE_SUFFIXES]


def list_inputs(path: Path, *, path_column: str = "path") -> Inputs:
    """Image paths for prediction, each with its id (:mod:`suite.core.inputs`): every image under a folder, a
    table's path column, or one image file.

    Raises:
        DataError: missing or special path, a table without the path column or not UTF-8, or no images found.
    """
    from suite.core.tables import TABLE_KINDS, iter_table

    if not path.exists():
        raise DataError(f"--input: no such file or folder '{path}'")
    paths.refuse_special(path, what="--input")
    if path.is_dir():
        found = [str(f) for f in image_files(path, what="--input")]
        inputs = Inputs(found, found)
    elif any(suffix.lower() in TABLE_KINDS for suffix in path.suffixes):
        found, ids = [], []
        for number, row in iter_table(path):
            if path_column not in row:
                raise DataError(f"{path}:{number}: no column '{path_column}' (columns: {', '.join(map(str, row))}); "
                                f"this model was trained with data.path_column '{path_column}'")
            found.append(str(path.parent / str(row[path_column] or "").strip()))
            ids.append(f"{path}:{number}")
        inputs = Inputs(found, ids)
    else:
        inputs = Inputs([str(path)], [str(path)])
    if not inputs.values:
        raise DataError(f"--input {path}: no images ({', '.join(IMAGE_SUFFIXES)})")
    return inputs
