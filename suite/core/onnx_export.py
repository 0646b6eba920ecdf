"""``suite export RUN OUT --format onnx [--int8]``: a finished run's tuned model as an ONNX graph, checked.

A domain that declares :class:`suite.core.registry.ExportsOnnx` says only what differs: which module to
export and with which example inputs (:class:`OnnxGraph`), which files of its model folder its ONNX predictor
reads, and how that predictor pre- and post-processes. The rest is here, once:

1. the run's PyTorch predictor loads (the newest calibration's threshold in effect) and the domain's module is
   exported with ``torch.onnx.export``, its batch (and sequence) axes dynamic. A transformer encoder whose
   layers ONNX Runtime can fuse (:class:`Fusion`) goes through the TorchScript exporter and ONNX Runtime's
   transformer optimiser, which rewrites each layer's attention, layer norms and GELU into single fused
   operators: the graph of the ``torch.export``-based exporter does not match the optimiser's patterns (0 of 6
   attention blocks fused, measured), and without fusion int8 gains little. That export is written at opset 17
   (:data:`FUSED_OPSET`): the optimiser's shape inference cannot read opset 18's reduction axes (an input since
   18), and without shapes it leaves each residual Add and LayerNormalization unfused (measured: 12 of 12 fused at
   17, none at 18). The fused layer norms are then rewritten as a mean subtraction and an RMS norm
   (:mod:`suite.core.onnx_layer_norm`: ONNX Runtime's own layer norm kernels run 4 to 5 times slower on the CPU
   since 1.30). An int8 export takes the optimiser's tanh approximation of GELU (FastGelu): no faster than the
   exact one in interleaved timings, but the recommender's int8 NDCG@10 lost less with it (-1.3% against -1.7%
   on the default run; int8's own rounding moves that figure by about a point, and the self-check measures it on
   every export). Any other module goes through the ``torch.export``-based exporter (torch's default since 2.9,
   which needs ``onnxscript``) at opset 18;
2. with ``--int8`` it is quantised with ONNX Runtime: ``dynamic`` (weights int8 per output channel,
   activations quantised per batch at run time: what transformer encoders take, made of matrix products) or
   ``static`` (activations too, their ranges measured on a calibration sample of training inputs, QDQ format,
   weights per channel: what convolutions need, because ONNX Runtime's dynamic ConvInteger runs slower than
   fp32 on a CPU);
3. the folder is written under a temporary name (graph, the domain's files, the saved hybrid, ``export.json``
   and a model card), the exported model scores the run's test split, and the primary metric is compared with
   the PyTorch model's on the same split: above the domain's tolerance, one warning line, and the card says so;
4. the folder takes its name, and the run records where it is (``exports/``), so that ``--engine onnx`` on
   the run finds it. Nothing the run wrote changes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import shutil
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from suite.core import calibration, onnx_engine, onnx_layer_norm, registry, saved_hybrid
from suite.core.errors import RunError
from suite.core.metrics.paired import paired_bootstrap
from suite.core.results import HYBRID, TUNED

OPSET = 18
FUSED_OPSET = 17
QUANTISATIONS = ("dynamic", "static")
PACKAGES = ("suite", "torch", "onnx", "onnxruntime", "onnxscript")
DECOMPOSED = "LayerNormalization as mean subtraction + RMS norm"
"""The key of ``export.json``'s ``fused`` that counts the layer norms rewritten by
:func:`suite.core.onnx_layer_norm.decompose`."""


@dataclass(frozen=True)
class Tolerance:
    """How far the exported model's primary metric may stray from PyTorch's: ``absolute`` (0.005 F1 or AUROC) or
    ``relative`` to PyTorch's value (0.01: 1% of NDCG@10).

    Example:
        >>> Tolerance(relative=0.01).exceeded(0.30, 0.296)
        True
    """

    absolute: float | None = 0.005
    relative: float | None = None

    def exceeded(self, reference: float, value: float) -> bool:
        """Whether ``value`` is further from ``reference`` than this tolerance allows."""
        limit = self.absolute if self.relative is None else self.relative * abs(reference)
        return abs(value - reference) > limit + 1e-12

    def describe(self) -> str:
        return f"{self.relative:.0%} relative" if self.relative is not None else f"{self.absolute:g} absolute"


@dataclass(frozen=True)
class Fusion:
    """What ONNX Runtime's transformer optimiser needs to fuse an encoder's layers: its ``model_type`` (``"bert"``
    for BERT-like encoders) and the attention shape (heads, hidden size)."""

    model_type: str
    heads: int
    hidden_size: int


@dataclass
class OnnxGraph:
    """What a domain exports: a module, example inputs, and what its ONNX predictor needs beside the graph.

    Attributes:
        module: a ``torch.nn.Module`` in eval mode whose ``forward(*inputs)`` returns one tensor.
        inputs: input name -> an example tensor, in ``forward``'s order; every dynamic axis at least 2 long.
        dynamic: input name -> the name of each axis that varies (``("batch", "sequence")``); axes of the same
            name vary together.
        output: the output's name.
        description: what the graph computes, for the card (``"MiniLM encoder + head -> P(spam)"``).
        files: glob patterns of the run's model-folder files the ONNX predictor reads (settings, tokenizer...).
        quantisation: ``dynamic`` or ``static`` (see the module docstring).
        calibration: for ``static``: a function giving a few batches of feeds (input name -> numpy array).
        tolerance: of the self-check on the primary metric.
        notes: what the export leaves to PyTorch (Grad-CAM...), one line each, for the card.
        fusion: the encoder's layers to fuse (None: exported as traced, unfused).
        per_case: ``(data, outputs) -> one value per test case`` whose mean is the primary metric (per-user
            NDCG@10), for the self-check's paired interval of the difference; None where the metric is not such a
            mean (F1, AUROC).
    """

    module: Any
    inputs: dict[str, Any]
    dynamic: dict[str, tuple[str, ...]]
    output: str
    description: str
    files: tuple[str, ...]
    quantisation: str = "dynamic"
    calibration: Callable[[], list[dict]] | None = None
    tolerance: Tolerance = field(default_factory=Tolerance)
    notes: tuple[str, ...] = ()
    fusion: Fusion | None = None
    per_case: Callable[[Any, Any], Any] | None = None


@dataclass
class ExportResult:
    """What :func:`export_run` did: the folder, its one-line summary, and a warning line (None: within tolerance)."""

    folder: Path
    summary: str
    warning: str | None
    check: dict


def export_run(domain: Any, run: Any, out_dir: Path, *, int8: bool = False) -> ExportResult:
    """Export a finished run's tuned model to ONNX in the new folder ``out_dir`` and check it on the test split.

    Args:
        domain: the run's domain (it declares :class:`suite.core.registry.ExportsOnnx`).
        run: the finished :class:`~suite.core.runs.Run` (only read; a record is added in ``exports/``).
        out_dir: a folder that does not exist yet or is empty.
        int8: quantise the graph as the domain's :attr:`OnnxGraph.quantisation` says.

    Raises:
        RunError: the domain has no ONNX export.
        SuiteError: the run's data can no longer be read (the self-check needs its test split).

    Example:
        >>> export_run(registry.get_domain("spam"), Run.open("runs/spam-default-..."), Path("spam-onnx"), int8=True)
        ExportResult(folder=PosixPath('spam-onnx'), summary='wrote spam-onnx: ...', warning=None, check={...})
    """
    from suite.core import actions, logs

    if not isinstance(domain, registry.ExportsOnnx):
        raise RunError(f"{run.path}: {domain.name} runs have no ONNX export")
    recipe = run.recipe()
    out_dir = Path(out_dir)
    partial = out_dir.with_name(out_dir.name + ".partial")
    with logs.libraries_logging_to(None):
        data = domain.prepare_data(recipe)
        reference = actions.load(run.path)
        graph = domain.onnx_graph(reference, recipe, data)
        shutil.rmtree(partial, ignore_errors=True)
        try:
            _write_folder(graph, run, partial, int8=int8, thresholds=_thresholds(reference, run))
            document = json.loads((partial / onnx_engine.EXPORT_FILE).read_text(encoding="utf-8"))
            exported = onnx_engine.load(onnx_engine.Exported.open(partial), TUNED)
            check = self_check(domain, recipe, data, reference, exported, graph)
            document.update(check=check, primary_metric=domain.primary_metric,
                            greater_is_better=domain.greater_is_better)
            _write_json(partial / onnx_engine.EXPORT_FILE, document)
            (partial / "README.md").write_text(card(document, graph), encoding="utf-8")
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
    if out_dir.is_dir():
        out_dir.rmdir()                        # the command line allows only an empty folder here
    partial.rename(out_dir)
    onnx_engine.record(run, out_dir, int8=int8)
    return ExportResult(out_dir, _summary(out_dir, document, graph), _warning(check), check)


def _thresholds(reference: Any, run: Any) -> dict:
    """The thresholds in effect now: the tuned predictor's, and the hybrid's newest calibration (if any)."""
    found = calibration.latest(run.path, HYBRID) if saved_hybrid.exists(run.path) else None
    return {TUNED: getattr(reference, "threshold", None), HYBRID: found[1]["threshold"] if found else None}


def _write_folder(graph: OnnxGraph, run: Any, folder: Path, *, int8: bool, thresholds: dict) -> None:
    """The graph (quantised with ``int8``), the domain's files, the saved hybrid and a first ``export.json``."""
    model_dir = folder / onnx_engine.MODEL_FOLDER
    model_dir.mkdir(parents=True)
    for pattern in graph.files:
        for path in run.model_dir.glob(pattern):
            (shutil.copytree if path.is_dir() else shutil.copy2)(path, model_dir / path.name)
    if saved_hybrid.exists(run.path):
        shutil.copytree(run.path / saved_hybrid.FOLDER, folder / saved_hybrid.FOLDER)
    target = folder / onnx_engine.GRAPH_FILE
    if int8:
        fp32 = folder / "fp32.onnx.tmp"
        fused = write_graph(graph, fp32, approximate_gelu=True)
        quantise(graph, fp32, target)
        fp32.unlink()
    else:
        fused = write_graph(graph, target)
    _write_json(folder / onnx_engine.EXPORT_FILE, {
        "format": onnx_engine.FORMAT, "domain": run.recipe().domain, "run": str(run.path.resolve()),
        "recipe": run.recipe().name, "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "graph": graph.description, "inputs": {name: list(axes) for name, axes in graph.dynamic.items()},
        "output": graph.output, "opset": opset(graph), "fused": fused, "int8": int8,
        "quantisation": graph.quantisation if int8 else None,
        "bytes": target.stat().st_size, "sha256": onnx_engine.checksum(target), "thresholds": thresholds,
        "packages": _versions(), "notes": list(graph.notes)})


def opset(graph: OnnxGraph) -> int:
    """The ONNX opset the graph is written at (see the module docstring)."""
    return OPSET if graph.fusion is None else FUSED_OPSET


def write_graph(graph: OnnxGraph, path: Path, *, approximate_gelu: bool = False) -> dict[str, int]:
    """``torch.onnx.export`` of the graph's module (fp32, one self-contained file), fused where ``graph.fusion``
    says (see the module docstring), the exporters' and optimiser's progress lines kept quiet.

    Args:
        approximate_gelu: where fused, GELU as its tanh approximation (FastGelu), for an export to be quantised.

    Returns:
        How many operators of each fused kind the graph has (``{}``: not fused; see :func:`fuse`).
    """
    import torch

    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), torch.inference_mode(False):
        warnings.simplefilter("ignore")
        if graph.fusion is None:
            dims: dict[str, Any] = {}
            shapes = {name: {i: dims.setdefault(axis, torch.export.Dim(axis)) for i, axis in enumerate(axes)}
                      for name, axes in graph.dynamic.items()}
            torch.onnx.export(graph.module.eval(), tuple(graph.inputs.values()), str(path), dynamo=True,
                              dynamic_shapes=shapes, external_data=False, **_names(graph))
            return {}
        traced = path.with_name(path.name + ".traced")
        try:
            trace(graph, traced)
            return fuse(traced, path, graph.fusion, approximate_gelu=approximate_gelu)
        finally:
            traced.unlink(missing_ok=True)


def trace(graph: OnnxGraph, path: Path) -> None:
    """The TorchScript exporter's graph of the module (``dynamo=False``, fp32, unfused, opset :func:`opset`), its
    attention in the eager form while traced: what :func:`fuse` takes."""
    import torch

    with eager_attention(graph.module):
        torch.onnx.export(graph.module.eval(), tuple(graph.inputs.values()), str(path), dynamo=False,
                          dynamic_axes={name: dict(enumerate(axes)) for name, axes in graph.dynamic.items()},
                          **_names(graph))


def _names(graph: OnnxGraph) -> dict:
    """What both exporters take alike: the inputs' and output's names, the opset, quiet."""
    return {"input_names": list(graph.inputs), "output_names": [graph.output], "opset_version": opset(graph),
            "verbose": False}


@contextlib.contextmanager
def eager_attention(module: Any):
    """The transformers models inside ``module`` with their attention in the eager form, the one whose traced graph
    ONNX Runtime's optimiser fuses (the same numbers as the default SDPA form, slower in PyTorch); each one's own
    form is restored afterwards, so the predictor the graph came from runs as before."""
    models = [m for m in module.modules() if hasattr(m, "set_attn_implementation")]
    before = [m.config._attn_implementation for m in models]
    for model in models:
        model.set_attn_implementation("eager")
    try:
        yield
    finally:
        for model, form in zip(models, before):
            if form:
                model.set_attn_implementation(form)


def fuse(source: Path, target: Path, fusion: Fusion, *, approximate_gelu: bool = False) -> dict[str, int]:
    """ONNX Runtime's transformer optimiser on ``source`` (attention, layer norms, GELU fused; GELU as FastGelu with
    ``approximate_gelu``), its layer norms then rewritten as a mean subtraction and an RMS norm
    (:func:`suite.core.onnx_layer_norm.decompose`), saved to ``target``.

    Returns:
        How many operators of each fused kind the graph now has, and under :data:`DECOMPOSED` how many layer
        norms were rewritten (``{"Attention": 6, ..., DECOMPOSED: 12}``).
    """
    import logging

    from onnxruntime.transformers import optimizer
    from onnxruntime.transformers.fusion_options import FusionOptions

    # its modules log each fusion at INFO and WARNING under top-level names ("fusion_skiplayernorm"), so no
    # library logger covers them: below ERROR, logging is off while it runs
    options = FusionOptions(fusion.model_type)
    options.enable_gelu_approximation = approximate_gelu
    disabled = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        optimised = optimizer.optimize_model(str(source), model_type=fusion.model_type, num_heads=fusion.heads,
                                             hidden_size=fusion.hidden_size, optimization_options=options)
    finally:
        logging.disable(disabled)
    decomposed = onnx_layer_norm.decompose(optimised.model)
    optimised.save_model_to_file(str(target))
    counts = optimised.get_fused_operator_statistics()
    counts[onnx_layer_norm.RMS_NORM] = counts.get(onnx_layer_norm.RMS_NORM, 0) - decomposed  # ours, not its fusions
    fused = {kind: count for kind, count in counts.items() if count}
    return {**fused, DECOMPOSED: decomposed} if decomposed else fused


def quantise(graph: OnnxGraph, source: Path, target: Path) -> None:
    """int8 ``target`` from the fp32 graph ``source``, as ``graph.quantisation`` says (see the module docstring)."""
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_dynamic,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    if graph.quantisation not in QUANTISATIONS:
        raise ValueError(f"quantisation: expected one of {QUANTISATIONS}, got {graph.quantisation!r}")
    prepared = source.with_name(source.name + ".pre")
    quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)   # ONNX shape inference, clean-up
    try:
        if graph.quantisation == "dynamic":
            # per channel: the speed of per tensor with a tenth of its error (measured on the spam encoder); a
            # fused graph's own operators (com.microsoft) have no ONNX shape inference, and their outputs are float
            quantize_dynamic(str(prepared), str(target), weight_type=QuantType.QInt8, per_channel=True,
                             extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
            return

        class Batches(CalibrationDataReader):
            def __init__(self, feeds: list[dict]):
                self.feeds = iter(feeds)

            def get_next(self):
                return next(self.feeds, None)

        quantize_static(str(prepared), str(target), Batches(graph.calibration()), quant_format=QuantFormat.QDQ,
                        per_channel=True, weight_type=QuantType.QInt8, activation_type=QuantType.QUInt8)
    finally:
        prepared.unlink(missing_ok=True)


def self_check(domain: Any, recipe: Any, data: Any, reference: Any, exported: Any, graph: OnnxGraph) -> dict:
    """The primary metric of the PyTorch and the exported predictor on the same test split, and their difference.

    Where ``graph.per_case`` gives the metric per test case, a paired bootstrap (seeded with the recipe's seed)
    adds the 95% interval of the difference: whether the test split can tell the two models apart at all.

    Returns:
        ``{"metric", "split", "torch", "onnx", "difference", "tolerance", "within"}``, and with ``per_case``
        ``"cases"``, ``"difference_low"``, ``"difference_high"``.
    """
    def score(predictor: Any) -> tuple[float, Any]:
        outputs = domain.outputs(predictor, recipe, data)
        report = domain.report(recipe, data, {TUNED: outputs}, predictor=predictor, plots_dir=None)
        return float(report.metrics[TUNED][domain.primary_metric]), outputs

    (torch_value, torch_outputs), (onnx_value, onnx_outputs) = score(reference), score(exported)
    check = {"metric": domain.primary_metric, "split": "test", "torch": round(torch_value, 6),
             "onnx": round(onnx_value, 6), "difference": round(onnx_value - torch_value, 6),
             "tolerance": graph.tolerance.describe(), "within": not graph.tolerance.exceeded(torch_value, onnx_value)}
    if graph.per_case is not None:
        paired = paired_bootstrap(graph.per_case(data, onnx_outputs), graph.per_case(data, torch_outputs),
                                  seed=recipe.seed)
        check.update(cases=paired["cases"], difference_low=round(paired["difference_low"], 6),
                     difference_high=round(paired["difference_high"], 6))
    return check


def _interval(check: dict) -> str | None:
    """The self-check's paired interval in words (None: the domain's metric has none)."""
    if "cases" not in check:
        return None
    low, high = check["difference_low"], check["difference_high"]
    reading = "includes no change: the test split cannot tell the two apart" if low <= 0 <= high else \
        "excludes no change"
    return f"95% interval of the difference over {check['cases']} test cases [{low:+.4f}, {high:+.4f}], {reading}"


def card(document: dict, graph: OnnxGraph) -> str:
    """The exported folder's README.md: what was exported, how to use it, and what it scored against PyTorch."""
    check = document["check"]
    kind = f"int8 ({document['quantisation']} quantisation)" if document["int8"] else "fp32"
    verdict = "within the tolerance" if check["within"] else "**above the tolerance**"
    interval = _interval(check)
    thresholds = ", ".join(f"{system} {value}" for system, value in document["thresholds"].items()
                           if value is not None) or "none (the domain decides without one)"
    lines = [
        f"# ONNX export of {Path(document['run']).name} ({document['domain']})", "",
        f"- graph: {graph.description}; `{onnx_engine.GRAPH_FILE}`, {kind}, {document['bytes'] / 1e6:.1f} MB, "
        f"opset {document['opset']}" + _fusion_summary(document["fused"]),
        f"- from the run: `{document['run']}` (recipe {document['recipe']}), exported {document['created']}",
        f"- thresholds in effect: {thresholds}",
        "- predict: `suite predict THIS_FOLDER INPUT... --engine onnx`; serve: `suite serve THIS_FOLDER "
        "--engine onnx` (same request, response and threshold as the PyTorch model)",
        f"- packages: {', '.join(f'{k} {v}' for k, v in document['packages'].items())}", "",
        "## Self-check on the run's test split", "",
        "| metric | PyTorch | ONNX | difference | tolerance |", "|---|---|---|---|---|",
        f"| {check['metric']} | {check['torch']:.4f} | {check['onnx']:.4f} | {check['difference']:+.4f} | "
        f"{check['tolerance']} |", "",
        f"The exported model is {verdict}." + (f" Paired bootstrap: {interval}." if interval else ""), ""]
    if graph.notes:
        lines += ["## Not in the graph", "", *(f"- {note}" for note in graph.notes), ""]
    return "\n".join(lines)


def _fusion_summary(fused: dict[str, int]) -> str:
    """The card's words for ``export.json``'s ``fused`` (empty where nothing was fused)."""
    if not fused:
        return ""
    operators = ", ".join(f"{n} {op}" for op, n in fused.items() if op != DECOMPOSED)
    words = f"; fused by ONNX Runtime's transformer optimiser: {operators}"
    if fused.get(DECOMPOSED):
        words += (f"; then {fused[DECOMPOSED]} layer norms rewritten as a mean subtraction and an RMS norm "
                  "(faster than ONNX Runtime's own layer norm kernels)")
    return words


def _summary(folder: Path, document: dict, graph: OnnxGraph) -> str:
    check = document["check"]
    kind = f"int8 ({document['quantisation']})" if document["int8"] else "fp32"
    return (f"wrote {folder}: {graph.description}, {kind}, {document['bytes'] / 1e6:.1f} MB; test {check['metric']} "
            f"PyTorch {check['torch']:.4f}, ONNX {check['onnx']:.4f} (difference {check['difference']:+.4f}, "
            f"tolerance {check['tolerance']}); predict or serve it with --engine onnx")


def _warning(check: dict) -> str | None:
    if check["within"]:
        return None
    interval = _interval(check)
    return (f"warning: the exported model's test {check['metric']} differs from PyTorch's by "
            f"{check['difference']:+.4f}, more than the tolerance ({check['tolerance']})"
            + (f"; {interval}" if interval else "") + "; its card records it")


def _versions() -> dict:
    found = {}
    for name in PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            found[name] = metadata.version(name)
    return found


def _write_json(path: Path, document: dict) -> None:
    path.write_text(json.dumps(document, indent=2, default=_plain) + "\n", encoding="utf-8")


def _plain(value: Any) -> Any:
    """numpy numbers and arrays as JSON values."""
    return value.tolist() if hasattr(value, "tolist") else str(value)
