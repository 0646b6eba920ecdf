"""The toy domain's hooks: is a number positive? (see the package docstring)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from suite.core import sources
from suite.core.config import load_settings, save_settings
from suite.core.errors import DataError
from suite.core.predict_options import PredictOption
from suite.core.recipe import ModelConfig
from suite.core.registry import Model, Report, TrainingInputs

PACKAGE = Path(__file__).parent
PARTS = ("validation", "test")          # what every system is scored on
LABELS = ("negative", "positive")
WEIGHTS = "toy.pt"


# -- the recipe's sections ----------------------------------------------------------------------
@dataclass
class ToyDataConfig:
    """The recipe's ``data`` section: numbers drawn at random, labelled by their sign."""

    size: int = field(default=200, metadata={"help": "Numbers drawn in all: 60% to train, 20% validation, 20% test."})
    scale: float = field(default=10.0, metadata={"help": "The numbers are drawn uniformly from [-scale, scale]."})
    seed: int = field(default=0, metadata={"help": "Seed of the draw."})

    def __post_init__(self):
        if self.size < 20:
            raise ValueError(f"size: expected an integer of at least 20, got {self.size!r}")
        if not self.scale > 0:
            raise ValueError(f"scale: expected a positive number, got {self.scale!r}")


@dataclass
class ToyModelConfig(ModelConfig):
    """The recipe's ``model`` section.

    The core resolves ``model.source`` before every run, whatever ``pretrained`` says (a name that is neither
    ``bundled:`` nor a local path is taken for a Hugging Face hub id and fails offline). So a network built from
    scratch still needs a source that resolves: this one is ``architecture.json`` in this package, declared as
    ``bundled:toy-linear`` (``ToyDomain.bundled_models``), which gives the layer's shape and no weights.
    """

    source: str = field(default="bundled:toy-linear", metadata={
        "help": "bundled:toy-linear (the layer's shape, from this package), or a JSON file of the same keys."})
    pretrained: bool = field(default=False, metadata={
        "help": "Always false: the toy's weights start random (no pretrained weights exist)."})

    def __post_init__(self):
        if self.pretrained:
            raise ValueError("pretrained: the toy has no pretrained weights; set it to false")


@dataclass
class ToyEvalConfig:
    """The recipe's ``evaluation`` section."""

    baselines: list[str] = field(default_factory=lambda: ["majority"], metadata={
        "help": "Classical baselines: majority (the training part's more common class, always)."})

    def __post_init__(self):
        for name in self.baselines:
            if name != "majority":
                raise ValueError(f"baselines: unknown baseline {name!r} (known: majority)")


# -- the network and the predictor --------------------------------------------------------------
class ToyNet(torch.nn.Module):
    """``forward(numbers, labels) -> {"loss", "logits"}``, as the Trainer wants."""

    def __init__(self, architecture: dict):
        super().__init__()
        self.linear = torch.nn.Linear(**architecture)

    def forward(self, numbers, labels=None):
        logits = self.linear(numbers)
        out = {"logits": logits}
        if labels is not None:
            out["loss"] = torch.nn.functional.cross_entropy(logits, labels)
        return out


def _examples(x: np.ndarray, y: np.ndarray) -> list[dict]:
    return [{"numbers": torch.tensor([value]), "labels": int(label)} for value, label in zip(x, y)]


@dataclass
class ToyPredictor:
    network: ToyNet
    model: ToyModelConfig
    architecture: dict

    def probabilities(self, numbers) -> np.ndarray:
        """P(positive) of each number."""
        with torch.inference_mode():
            logits = self.network.eval()(torch.tensor(np.asarray(numbers, dtype=np.float32)).reshape(-1, 1))["logits"]
            return torch.softmax(logits, dim=-1)[:, 1].numpy()

    def predict(self, inputs: list[float], decimals: int = 6) -> list[dict]:
        return [{"number": x, "probability": round(float(p), decimals), "label": LABELS[int(p >= 0.5)]}
                for x, p in zip(inputs, self.probabilities(inputs))]

    def save(self, folder: Path) -> None:
        torch.save(self.network.state_dict(), Path(folder) / WEIGHTS)
        save_settings(folder, {"model": self.model}, architecture=self.architecture)

    @classmethod
    def load(cls, folder: Path) -> ToyPredictor:
        settings = load_settings(folder, {"model": ToyModelConfig})
        network = ToyNet(settings["architecture"])
        network.load_state_dict(torch.load(Path(folder) / WEIGHTS, weights_only=True))
        return cls(network, settings["model"], settings["architecture"])


def _accuracy(labels: np.ndarray, probabilities: np.ndarray) -> float:
    return float(np.mean((np.asarray(probabilities) >= 0.5) == labels))


# -- the domain ---------------------------------------------------------------------------------
class ToyDomain:
    name = "toy"
    description = "Is a number positive? A linear layer from random weights (test data: another package's domain)."
    primary_metric = "accuracy"
    greater_is_better = True
    example_unit = "numbers"
    data_config, model_config, eval_config = ToyDataConfig, ToyModelConfig, ToyEvalConfig
    # capabilities (suite.core.registry): its own recipes, an HTTP shape, an option of predict, its "model"
    recipes_dir = PACKAGE / "recipes"
    serving_module = "toydomain.serving"
    predict_options = (PredictOption("--decimals", "round probabilities to N decimals (default 6)",
                                     keyword="decimals", kind="integer", bounds=(0, 6), metavar="N"),)
    bundled_models = {"toy-linear": sources.Bundled("toydomain", "toydomain", "architecture.json",
                                                    "the toy's linear layer: its shape, no weights")}

    def prepare_data(self, recipe):
        cfg = recipe.data
        x = np.random.default_rng(cfg.seed).uniform(-cfg.scale, cfg.scale, cfg.size).astype(np.float32)
        y = (x > 0).astype(np.int64)
        a, b = int(0.6 * cfg.size), int(0.8 * cfg.size)
        return {"train": (x[:a], y[:a]), "validation": (x[a:b], y[a:b]), "test": (x[b:], y[b:])}

    def with_test_data(self, recipe, data, source):
        x = np.asarray(self.read_inputs(Path(), inline=[], path=Path(source)), dtype=np.float32)
        return {**data, "test": (x, (x > 0).astype(np.int64))}          # a number's label is its sign

    def fit_baselines(self, recipe, data):
        share = float(data["train"][1].mean())            # P(positive) the majority baseline says for everything
        return {name: {part: np.full(len(data[part][1]), float(share >= 0.5)) for part in PARTS}
                for name in recipe.evaluation.baselines}

    def build_model(self, recipe, data):
        architecture = json.loads(sources.resolve(recipe.model.source).read_text(encoding="utf-8"))
        torch.manual_seed(recipe.seed)
        return Model(network=ToyNet(architecture), parts=architecture)

    def training_inputs(self, recipe, data, model):
        def compute_metrics(prediction):
            return {"accuracy": float(np.mean(prediction.predictions.argmax(-1) == prediction.label_ids))}

        return TrainingInputs(train_dataset=_examples(*data["train"]), eval_dataset=_examples(*data["validation"]),
                              compute_metrics=compute_metrics, arguments={"remove_unused_columns": False})

    def make_predictor(self, recipe, data, model, *, tuned):
        return ToyPredictor(model.network, recipe.model, model.parts)

    def outputs(self, predictor, recipe, data):
        return {part: predictor.probabilities(data[part][0]) for part in PARTS}

    def report(self, recipe, data, outputs, *, predictor, plots_dir):
        labels = data["test"][1]
        return Report(metrics={name: {"accuracy": _accuracy(labels, out["test"])} for name, out in outputs.items()},
                      headline_metrics=["accuracy"], data={"train": len(data["train"][1]), "test": len(labels)})

    def load_predictor(self, folder):
        return ToyPredictor.load(folder)

    def read_inputs(self, model_dir, *, inline, path):
        words = inline if path is None else Path(path).read_text(encoding="utf-8").split()
        try:
            numbers = [float(word) for word in words]
        except ValueError as error:
            raise DataError(f"{path or 'input'}: expected numbers ({error})") from None
        if not all(math.isfinite(number) for number in numbers):
            raise DataError(f"{path or 'input'}: expected finite numbers")
        return numbers


DOMAIN = ToyDomain()
