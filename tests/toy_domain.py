"""A fifth domain, made in the tests: points in the plane, a tiny linear classifier, a mean baseline.

It implements every hook of :class:`suite.core.registry.Domain` in a few lines, which shows (and
tests) that the core runs a domain it has never heard of: registered with ``registry.register``,
trained through the shared Trainer, saved, reloaded and scored like the four real ones.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from suite.core.config import load_settings, save_settings
from suite.core.recipe import ModelConfig
from suite.core.registry import Model, Report, TrainingInputs
from suite.core.results import TUNED


@dataclass
class ToyData:
    source: str = field(default="toy", metadata={"help": "where"})
    share: float = field(default=0.5, metadata={"help": "a share"})
    mode: Literal["a", "b"] = "a"
    columns: list[str] = field(default_factory=lambda: ["x"])
    points: int = field(default=400, metadata={"help": "points generated"})

    def __post_init__(self):
        if not 0 < self.share < 1:
            raise ValueError(f"share: expected a number in (0, 1), got {self.share!r}")


@dataclass
class ToyModel(ModelConfig):
    source: str = "toy-net"
    width: int = 4


@dataclass
class ToyEval:
    k: int = 10
    baselines: list[str] = field(default_factory=lambda: ["mean"])


class ToyNet(torch.nn.Module):
    """``forward(features, labels) -> {"loss", "logits"}``, as the Trainer wants."""

    def __init__(self, width: int):
        super().__init__()
        self.hidden, self.head = torch.nn.Linear(2, width), torch.nn.Linear(width, 1)

    def forward(self, features, labels=None):
        logits = self.head(torch.tanh(self.hidden(features))).squeeze(-1)
        out = {"logits": logits}
        if labels is not None:
            out["loss"] = torch.nn.functional.binary_cross_entropy_with_logits(logits, labels.float())
        return out


class PointSet(torch.utils.data.Dataset):
    def __init__(self, x: np.ndarray, y: np.ndarray):
        self.x, self.y = torch.tensor(x, dtype=torch.float32), torch.tensor(y)

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return {"features": self.x[i], "labels": self.y[i]}


@dataclass
class ToyPredictor:
    network: ToyNet
    model: ToyModel

    def scores(self, x) -> np.ndarray:
        with torch.inference_mode():
            logits = self.network.eval()(torch.tensor(np.asarray(x), dtype=torch.float32))["logits"]
            return torch.sigmoid(logits).numpy()

    def predict(self, inputs):
        return [{"score": round(float(s), 6)} for s in self.scores(inputs)]

    def save(self, folder: Path) -> None:
        torch.save(self.network.state_dict(), Path(folder) / "toy.pt")
        save_settings(folder, {"model": self.model})

    @classmethod
    def load(cls, folder: Path) -> ToyPredictor:
        model = load_settings(folder, {"model": ToyModel})["model"]
        network = ToyNet(model.width)
        network.load_state_dict(torch.load(Path(folder) / "toy.pt", weights_only=True))
        return cls(network, model)


def _auc(labels: np.ndarray, scores: np.ndarray) -> float:
    from suite.core.metrics.classification import roc_auc

    return float(roc_auc(labels, scores))


class ToyDomain:
    name = "toy"
    description = "points in the plane, made in the tests"
    primary_metric = "auc"
    greater_is_better = True
    example_unit = "points"
    data_config, model_config, eval_config = ToyData, ToyModel, ToyEval

    def prepare_data(self, recipe):
        rng = np.random.default_rng(recipe.data.points)
        x = rng.normal(size=(recipe.data.points, 2))
        y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.int64)
        cut = [int(0.6 * len(y)), int(0.8 * len(y))]
        return {name: (x[a:b], y[a:b]) for name, (a, b) in
                {"train": (0, cut[0]), "validation": (cut[0], cut[1]), "test": (cut[1], len(y))}.items()}

    def with_test_data(self, recipe, data, source):
        return {**data, "test": (np.asarray(json.loads(Path(source).read_text())), data["test"][1])}

    def fit_baselines(self, recipe, data):
        return {name: {part: np.full(len(data[part][1]), data["train"][1].mean()) for part in ("validation", "test")}
                for name in recipe.evaluation.baselines}

    def build_model(self, recipe, data):
        torch.manual_seed(recipe.seed)
        return Model(network=ToyNet(recipe.model.width), head=["head"],
                     lr_scale=lambda name: 2.0 if name.startswith("head") else 1.0)

    def training_inputs(self, recipe, data, model):
        def compute_metrics(prediction):
            return {"auc": _auc(prediction.label_ids, prediction.predictions)}

        return TrainingInputs(train_dataset=PointSet(*data["train"]), eval_dataset=PointSet(*data["validation"]),
                              compute_metrics=compute_metrics, arguments={"remove_unused_columns": False})

    def make_predictor(self, recipe, data, model, *, tuned):
        return ToyPredictor(model.network, recipe.model)

    def outputs(self, predictor, recipe, data):
        return {part: predictor.scores(data[part][0]) for part in ("validation", "test")}

    def report(self, recipe, data, outputs, *, predictor, plots_dir):
        metrics = {name: {"auc": _auc(data["test"][1], out["test"])} for name, out in outputs.items()}
        return Report(metrics=metrics, headline_metrics=["auc"], data={"test": len(data["test"][1])},
                      sections=["## Toy section"] if TUNED in metrics else [])

    def load_predictor(self, folder):
        return ToyPredictor.load(folder)

    def read_inputs(self, model_dir, *, inline, path):
        return [json.loads(x) for x in inline] if path is None else json.loads(Path(path).read_text())


TOY = ToyDomain()
