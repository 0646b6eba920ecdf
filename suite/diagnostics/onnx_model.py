"""The diagnostics classifier in ONNX: the graph to export (backbone and head: logits) and its predictor.

The ONNX predictor transforms images and turns logits into probabilities and decisions exactly as
:class:`~suite.diagnostics.model.DiagnosticsPredictor` does (``model.batched_probabilities``,
``metrics.decisions``); only the network runs in ONNX Runtime. Grad-CAM saliency maps need the network's
gradients, so they stay a PyTorch feature: ``--saliency`` (and ``"saliency": true`` when served) is refused
with the ONNX engine.

int8: static quantisation (QDQ, weights per channel, activation ranges measured on training images). Dynamic
quantisation, what suits the text encoders, turns every convolution into ONNX Runtime's ``ConvInteger``: on the
tiny run's EfficientNet-Lite0 it ran about 11x slower than the fp32 graph and lost 0.12 AUROC, where static
int8 ran about 2.5x faster than fp32 (see docs/serving.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from suite.core.config import load_settings
from suite.core.errors import DataError, RunError
from suite.core.onnx_export import OnnxGraph
from suite.diagnostics.config import DiagnosticsDataConfig, DiagnosticsModelConfig
from suite.diagnostics.metrics import decisions
from suite.diagnostics.model import SavedSettings, batched_probabilities, read_images
from suite.diagnostics.transforms import to_pil

FILES = ("suite.json",)
CALIBRATION_IMAGES = 256          # training images whose activations set the static int8 ranges
CALIBRATION_BATCH = 32
NO_SALIENCY = "Grad-CAM saliency maps need the PyTorch model's gradients"


def graph(predictor: Any, data: Any) -> OnnxGraph:
    """The tuned network of a loaded :class:`~suite.diagnostics.model.DiagnosticsPredictor` as a graph: pixel
    values -> logits; its int8 ranges measured on the first training images of ``data``."""
    import torch

    class Logits(torch.nn.Module):
        def __init__(self, network):
            super().__init__()
            self.network = network

        def forward(self, pixel_values):
            return self.network(pixel_values=pixel_values)["logits"].float()

    transform = predictor.transform

    def calibration() -> list[dict]:
        images = data.train.images[:CALIBRATION_IMAGES]
        return [{"pixel_values": torch.stack([transform(to_pil(im)) for im in images[i:i + CALIBRATION_BATCH]])
                 .numpy()} for i in range(0, len(images), CALIBRATION_BATCH)]

    example = torch.stack([transform(to_pil(im)) for im in data.train.images[:2]])
    return OnnxGraph(module=Logits(predictor.network.eval()), inputs={"pixel_values": example},
                     dynamic={"pixel_values": ("batch",)}, output="logits",
                     description=f"{predictor.settings['architecture']} backbone + head -> logits",
                     files=FILES, quantisation="static", calibration=calibration,
                     notes=(f"{NO_SALIENCY}: use the run folder with --engine torch for --saliency.",))


@dataclass
class OnnxDiagnosticsPredictor(SavedSettings):
    """A tuned diagnostic model run by ONNX Runtime: ``predict(paths)`` as the PyTorch predictor's, without saliency.

    Attributes:
        session: the graph's :class:`~suite.core.onnx_engine.OnnxSession`.
        settings: the saved settings (task, classes, threshold, the transform's ``data_config``...).
    """

    session: Any
    settings: dict

    @classmethod
    def from_folder(cls, folder: Path, session: Any) -> OnnxDiagnosticsPredictor:
        """The predictor over ``session`` with the settings :func:`graph` had copied to ``folder``."""
        return cls(session, load_settings(folder, {"model": DiagnosticsModelConfig, "data": DiagnosticsDataConfig}))

    def scores(self, images: list[np.ndarray], *, batch_size: int = 64) -> np.ndarray:
        return batched_probabilities(lambda batch: self.session.run({"pixel_values": batch.numpy()}), images,
                                     self.transform, self.settings["task"], batch_size=batch_size)

    def predict(self, inputs: list[Any], *, saliency_dir: Path | None = None) -> list[dict]:
        """One dict per image (a path or a uint8 array): probabilities and the decision at the saved threshold(s).

        Raises:
            DataError: ``saliency_dir`` is set (Grad-CAM needs PyTorch), or an image file is missing or unreadable.
        """
        if saliency_dir is not None:
            raise DataError(f"--saliency: {NO_SALIENCY}; predict with --engine torch from the run folder")
        images, names = read_images(inputs)
        return decisions(self.scores(images), self.settings, names)

    def save(self, folder: Path) -> None:
        raise RunError("an ONNX predictor is written by suite export --format onnx, not saved on its own")
