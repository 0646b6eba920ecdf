"""Diagnostics over HTTP: base64 PNG/JPEG images in, probabilities and decisions out, Grad-CAM maps inline.

The serving shape every domain has (see :mod:`suite.serve.spec`): request and response
models, ``to_inputs``, ``predict``, ``to_response`` and ``example_request``. Images come
in the body, never as paths, so a request cannot make the server open a file; they are
decoded in memory as ``images.decode_image`` decodes files (grayscale stays grayscale,
16-bit is rescaled).
Saliency maps are computed in memory too and come back as base64 PNG: the image at the
model's input size with the Grad-CAM heat map over it (the right half of what
``suite predict --saliency`` draws); nothing is written to disk. The served page's form (``page.js``)
sends the images it is given here, Grad-CAM on.
"""

from __future__ import annotations

import base64
import binascii
import io
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from suite.core.errors import DataError

PAGE_SCRIPT = "page.js"           # the form of suite serve's page, beside this module
FORMATS = ("PNG", "JPEG")
MAX_PIXELS = 4096 * 4096          # a small PNG can expand to gigabytes; refuse before decoding
HEAT_ALPHA = 0.45                 # the overlay's opacity, as in saliency.saliency_pngs
EXAMPLE_PNG = ("iVBORw0KGgoAAAANSUhEUgAAACAAAAAgCAAAAABWESUoAAAAI0lEQVR42mNsYMAPmBhGhAIWBNMDztoxosNhx0hOD6MKIAAAG8EC"
               "fAN3N3QAAAAASUVORK5CYII=")   # a 32 x 32 grey square with a brighter patch


def example_request() -> dict:
    """A valid one-image request (a small grey PNG)."""
    return {"images": [EXAMPLE_PNG], "saliency": False}


class PredictRequest(BaseModel):
    """Images to classify, as base64 PNG or JPEG (a ``data:image/png;base64,`` prefix is allowed)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [example_request()]})
    images: list[str] = Field(min_length=1, description="Base64 PNG or JPEG images, one or more.")
    saliency: bool = Field(False, description="Also return a Grad-CAM map per image (base64 PNG).")


class BinaryPrediction(BaseModel):
    model_config = ConfigDict(extra="forbid")
    image: str = Field(description="image-<i>: the image's position in the request.")
    probability: float = Field(description="P(disease).")
    label: str = Field(description="The decision at the run's threshold.")
    threshold: float
    saliency: str | None = Field(None, description="Base64 PNG Grad-CAM overlay, when asked for.")


class MulticlassPrediction(BaseModel):
    model_config = ConfigDict(extra="forbid")
    image: str
    probabilities: dict[str, float] = Field(description="Softmax over the classes.")
    label: str = Field(description="The most probable class.")
    saliency: str | None = None


class MultilabelPrediction(BaseModel):
    model_config = ConfigDict(extra="forbid")
    image: str
    probabilities: dict[str, float] = Field(description="One sigmoid per label.")
    labels: list[str] = Field(description="Labels at or above their threshold.")
    thresholds: list[float]
    saliency: str | None = None


class PredictResponse(BaseModel):
    predictions: list[BinaryPrediction | MulticlassPrediction | MultilabelPrediction] = Field(
        description="One per image, in order.")


def to_inputs(request: PredictRequest) -> tuple[list[np.ndarray], dict]:
    """Decoded uint8 images and the option ``saliency``.

    Raises:
        DataError: an image that is not base64, not PNG/JPEG, too large, or corrupt (named by position).
    """
    return [decode_base64_image(data, where=f"images[{i}]") for i, data in enumerate(request.images)], \
        {"saliency": request.saliency}


def predict(predictor: Any, inputs: list[np.ndarray], options: dict) -> list[dict]:
    """``predictor.predict`` on one batch of images, plus in-memory saliency maps when asked for."""
    if options.get("saliency") and not hasattr(predictor, "network"):
        raise DataError("saliency: Grad-CAM maps need the PyTorch model; serve the run folder with --engine torch")
    results = predictor.predict(inputs)
    if options.get("saliency"):
        for result, png in zip(results, saliency_pngs(predictor, inputs)):
            result["saliency"] = base64.b64encode(png).decode("ascii")
    return results


def to_response(predictions: list[dict], request: PredictRequest) -> PredictResponse:
    """The response for one request's predictions; ``image`` names the position in this request."""
    return PredictResponse(predictions=[{**p, "image": f"image-{i}"} for i, p in enumerate(predictions)])


def decode_base64_image(data: str, *, where: str) -> np.ndarray:
    """A uint8 array (H x W, or H x W x 3) from a base64 PNG or JPEG.

    Raises:
        DataError: not base64, not PNG/JPEG, over ``MAX_PIXELS``, or corrupt; the message names ``where``.
    """
    from PIL import Image, UnidentifiedImageError

    from suite.diagnostics.images import to_uint8

    text = data.split(",", 1)[1] if data.startswith("data:") else data
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise DataError(f"{where}: not valid base64") from None
    try:
        with Image.open(io.BytesIO(raw), formats=FORMATS) as image:
            if image.width * image.height > MAX_PIXELS:
                raise DataError(f"{where}: {image.width} x {image.height} pixels is over the limit of {MAX_PIXELS}")
            image.load()
            if image.mode in ("I;16", "I;16B", "I", "F"):
                return to_uint8(np.asarray(image, dtype=np.float64))
            return np.asarray(image.convert("L" if image.mode in ("L", "1", "LA") else "RGB"))
    except UnidentifiedImageError:
        raise DataError(f"{where}: not a PNG or JPEG image") from None
    except (Image.DecompressionBombError, OSError, SyntaxError, ValueError) as error:
        raise DataError(f"{where}: cannot read image ({str(error).splitlines()[0][:100]})") from None


def saliency_pngs(predictor: Any, images: list[np.ndarray]) -> list[bytes]:
    """A PNG per image: the model's input view with its Grad-CAM heat map over it, made in memory."""
    import torch
    from PIL import Image

    from suite.diagnostics.saliency import gradcam
    from suite.diagnostics.transforms import to_pil

    transform = predictor.transform
    batch = torch.stack([transform(to_pil(image)) for image in images])
    maps = gradcam(predictor.network, batch, predictor.settings["task"])
    out = []
    for shown, heat in zip(batch, maps):
        shown = shown.permute(1, 2, 0).numpy()
        shown = (shown - shown.min()) / max(float(shown.max() - shown.min()), 1e-9)
        blended = (1 - HEAT_ALPHA) * shown + HEAT_ALPHA * jet(heat)
        buffer = io.BytesIO()
        Image.fromarray(np.round(blended * 255).astype(np.uint8)).save(buffer, format="PNG")
        out.append(buffer.getvalue())
    return out


def jet(values: np.ndarray) -> np.ndarray:
    """The jet colour map (blue, cyan, yellow, red) of values in [0, 1], as RGB in [0, 1] (H x W x 3)."""
    return np.clip(1.5 - np.abs(4 * values[..., None] - np.array([3.0, 2.0, 1.0])), 0, 1)
