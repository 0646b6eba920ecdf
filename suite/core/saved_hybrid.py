"""A run's hybrid, saved so that ``suite predict``, ``suite serve`` and ``suite calibrate`` can use it.

The hybrid (see :mod:`suite.core.blend`) is often the system that wins: a spam filter's tuned
model and TF-IDF added as log-odds. Where the domain can fit its baselines as scorers of new
inputs (:class:`suite.core.registry.SavesBaselines`), the run writes ``hybrid/`` beside
``model/``: ``hybrid.json`` (the weights chosen on validation, how scores are added, and the
hybrid's own operating threshold, chosen on validation for the run's target) and one pickle per
blended baseline, fitted on the training split with the run's seed exactly as the run fitted it.
:func:`load` puts the tuned predictor and those baselines together as a :class:`HybridPredictor`.

The baselines are pickled scikit-learn models: like any model file, load only run folders you trust.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from suite.core import blend, registry, saved_files
from suite.core.errors import RunError
from suite.core.results import TUNED, baseline_name

FOLDER = "hybrid"
SETTINGS_FILE = "hybrid.json"


def save(run: Any, mixed: blend.Hybrid, scorers: dict[str, Any], *, threshold: float | None) -> Path:
    """Write ``hybrid/``: each blended baseline's scorer (``scorers``: system -> fitted scorer), then
    ``hybrid.json`` (last: its presence marks the saved hybrid complete)."""
    folder = run.inside(FOLDER)
    folder.mkdir(exist_ok=True)
    files = {}
    for system, scorer in scorers.items():
        files[system] = f"{baseline_name(system)}.pkl"
        (folder / files[system]).write_bytes(pickle.dumps(scorer, protocol=pickle.HIGHEST_PROTOCOL))
    return run.write_json(f"{FOLDER}/{SETTINGS_FILE}", {
        "weights": mixed.weights, "space": mixed.space, "threshold": threshold, "baselines": files,
        "description": mixed.describe()})


def exists(run_path: Path) -> bool:
    """Whether the run saved a (complete) hybrid."""
    return (Path(run_path) / FOLDER / SETTINGS_FILE).is_file()


def require(run_path: Path) -> None:
    """Check, before any model loads, that the run saved a hybrid.

    Raises:
        RunError: it did not.
    """
    if not exists(run_path):
        raise RunError(f"{run_path}: this run saved no hybrid (only runs whose domain can keep its baselines do: "
                       "with evaluation.hybrid_weights set); use the tuned model (--system tuned)")


@dataclass
class HybridPredictor:
    """The tuned predictor and the blended baselines, deciding at the hybrid's own threshold.

    ``scores(inputs)`` blends every system's score of the inputs with the saved weights; ``predict`` formats them
    as the tuned predictor formats its own (``tuned.decide``), so a hybrid's predictions look like the tuned model's.
    """

    tuned: Any
    scorers: dict[str, Any]
    weights: dict[str, float]
    space: str
    threshold: float | None
    description: str = ""

    def scores(self, inputs: list[Any]) -> np.ndarray:
        """The hybrid's score of each input (a probability where the blend adds log-odds)."""
        inputs = list(inputs)
        each = {TUNED: self.tuned.scores(inputs), **{system: scorer.scores(inputs)
                                                     for system, scorer in self.scorers.items()}}
        return blend.blend(each, self.weights, self.space)

    def predict(self, inputs: list[Any]) -> list[dict]:
        """The tuned predictor's prediction format, from the hybrid's scores and threshold."""
        return self.tuned.decide(self.scores(inputs), self.threshold)

    def save(self, folder: Path) -> None:
        raise RunError("a hybrid is saved by its run (hybrid/), not on its own")

    @property
    def input_limit(self) -> str:
        """The tuned model's limit (:class:`suite.core.registry.ReportsTruncation`); the baselines read all."""
        return getattr(self.tuned, "input_limit", "none")

    def truncated(self, inputs: list[Any]) -> list[bool]:
        """Which inputs the tuned model reads only part of (none, where it does not say)."""
        if isinstance(self.tuned, registry.ReportsTruncation):
            return self.tuned.truncated(inputs)
        return [False] * len(inputs)


def load(run_path: Path, tuned: Any) -> HybridPredictor:
    """The saved hybrid of a finished run, around its loaded ``tuned`` predictor.

    Raises:
        RunError: the run saved no hybrid, or its files are damaged (named).
    """
    require(run_path)
    folder = Path(run_path) / FOLDER
    expected = "the saved hybrid's settings (weights, space, threshold, baselines), as the run wrote them"
    settings = saved_files.read_json(folder / SETTINGS_FILE, what=expected)
    if not {"weights", "space", "threshold", "baselines"} <= set(settings):
        raise RunError(f"{folder / SETTINGS_FILE}: damaged (keys {', '.join(settings) or 'none'}); expected {expected}")
    scorers = {system: _unpickle(folder / name) for system, name in settings["baselines"].items()}
    return HybridPredictor(tuned, scorers, settings["weights"], settings["space"], settings["threshold"],
                           settings.get("description", ""))


def _unpickle(path: Path) -> Any:
    """A blended baseline's scorer, as the run pickled it.

    Raises:
        RunError: the file is missing or damaged.
    """
    try:
        return pickle.loads(path.read_bytes())
    except FileNotFoundError:
        raise RunError(f"{path}: missing; expected a baseline the run saved for its hybrid") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, ImportError, IndexError,
            KeyError) as error:
        raise RunError(f"{path}: damaged ({type(error).__name__}); expected a baseline the run saved for its "
                       "hybrid; train the run again") from None
