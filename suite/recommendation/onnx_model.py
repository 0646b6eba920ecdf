"""The recommender in ONNX: the text tower (the tuned sentence encoder) as the graph, and its predictor.

Only the text tower runs per request: a user (a history text) is embedded by the graph, and everything else is
already numbers the run saved beside it: the catalogue's text embeddings, the ID tables and the text weight. So
the ONNX predictor is the same :class:`~suite.recommendation.model.Recommender` with the graph as its encoder,
and ranks, excludes and answers exactly as the PyTorch one does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from suite.core.config import load_settings
from suite.core.onnx_export import OnnxGraph, Tolerance
from suite.core.text_encoder import OnnxTextEncoder, embedding_graph
from suite.recommendation.config import RecModelConfig
from suite.recommendation.metrics import PRIMARY, per_user_values
from suite.recommendation.model import Recommender
from suite.recommendation.phases import phases_of

FILES = ("suite.json", "tokenizer*.json", "special_tokens_map.json", "vocab.txt", "config.json", "catalogue.json",
         "item_embeddings.npy", "item_ids.safetensors")
TOLERANCE = Tolerance(absolute=None, relative=0.01)      # 1% of NDCG@10


def graph(predictor: Recommender) -> OnnxGraph:
    """The tuned text tower of a loaded recommender; its item embeddings and ID tables are copied, precomputed."""
    return embedding_graph(predictor.encoder, files=FILES, tolerance=TOLERANCE, per_case=test_ndcg_per_user,
                           description="sentence encoder (the text tower) -> user embedding; item embeddings and ID "
                                       "tables precomputed")


def test_ndcg_per_user(data: Any, outputs: dict) -> Any:
    """NDCG@10 of each test user (their mean is the run's test NDCG@10), for the self-check's paired interval."""
    return per_user_values(outputs, phases_of(data), "test", PRIMARY)


def load(folder: Path, session: Any) -> Recommender:
    """The recommender of an exported folder, its texts embedded by ``session``."""
    from transformers import AutoTokenizer

    max_length = load_settings(folder, {"model": RecModelConfig})["model"].max_length
    encoder = OnnxTextEncoder(session, AutoTokenizer.from_pretrained(str(folder)), max_length)
    return Recommender.from_folder(folder, encoder=encoder)
