"""The spam classifier in ONNX: the graph to export (encoder, head and softmax: P(spam)) and its predictor.

The ONNX predictor tokenizes and batches exactly as :class:`~suite.spam.model.SpamPredictor` does
(``model.by_length``: head-and-tail truncation, batches sorted by length) and decides with the same
``model.decisions``, so its answers have the same form and threshold; only the network runs in ONNX Runtime.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from suite.core.config import load_settings
from suite.core.errors import RunError
from suite.core.onnx_export import OnnxGraph
from suite.core.text_encoder import onnx_fusion
from suite.spam.config import SpamDataConfig, SpamModelConfig
from suite.spam.model import SpamDecisions, by_length, encode

TOKENS = ("input_ids", "attention_mask")
FILES = ("suite.json", "tokenizer*.json", "special_tokens_map.json", "vocab.txt", "config.json")


def graph(predictor: Any) -> OnnxGraph:
    """The tuned classifier of a loaded :class:`~suite.spam.model.SpamPredictor` as a graph: tokens -> P(spam)."""
    import torch

    class SpamProbability(torch.nn.Module):
        def __init__(self, network):
            super().__init__()
            self.network = network

        def forward(self, input_ids, attention_mask):
            return torch.softmax(self.network(input_ids, attention_mask)["logits"].float(), dim=-1)[:, 1]

    ids = encode(predictor.tokenizer, ["an example message to trace", "and a second, longer one to trace with"],
                 max_length=predictor.model.max_length)
    padded = predictor.tokenizer.pad({"input_ids": ids}, return_tensors="pt")
    return OnnxGraph(module=SpamProbability(predictor.network.eval()), inputs={k: padded[k] for k in TOKENS},
                     dynamic={k: ("batch", "sequence") for k in TOKENS}, output="spam_probability",
                     description="sentence encoder + linear head -> P(spam)", files=FILES, quantisation="dynamic",
                     fusion=onnx_fusion(predictor.network.encoder),
                     notes=("The hybrid's baselines (scikit-learn pickles in hybrid/) run in Python beside the "
                            "graph.",))


@dataclass
class OnnxSpamPredictor(SpamDecisions):
    """A tuned spam filter run by ONNX Runtime: ``predict(texts)`` as :class:`~suite.spam.model.SpamPredictor`'s.

    Attributes:
        session: the graph's :class:`~suite.core.onnx_engine.OnnxSession`.
        tokenizer, model, data: the tokenizer and the recipe sections it was trained with.
        threshold, target_fpr: the operating threshold and the ham FPR it was chosen for.
    """

    session: Any
    tokenizer: Any
    model: SpamModelConfig
    data: SpamDataConfig
    threshold: float
    target_fpr: float

    @classmethod
    def from_folder(cls, folder: Path, session: Any) -> OnnxSpamPredictor:
        """The predictor over ``session`` with the settings and tokenizer :func:`graph` had copied to ``folder``."""
        from transformers import AutoTokenizer

        settings = load_settings(folder, {"model": SpamModelConfig, "data": SpamDataConfig})
        return cls(session, AutoTokenizer.from_pretrained(str(folder)), settings["model"], settings["data"],
                   settings["threshold"], settings["target_fpr"])

    def scores(self, texts: list[str], *, batch_size: int = 64) -> np.ndarray:
        """P(spam) of each text."""
        return by_length(self.tokenizer, list(texts), self.session.run, max_length=self.model.max_length,
                         tail_tokens=self.model.tail_tokens, batch_size=batch_size)

    def save(self, folder: Path) -> None:
        raise RunError("an ONNX predictor is written by suite export --format onnx, not saved on its own")
