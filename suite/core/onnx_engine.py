"""Predicting with ONNX Runtime: exported folders, the run's record of them, and the session that runs a graph.

``suite export RUN OUT --format onnx`` (see :mod:`suite.core.onnx_export`) writes a folder that predicts
without PyTorch weights::

    OUT/
      export.json     what was exported: domain, source run, int8 or not, thresholds in effect, the graph's
                      checksum, and the self-check (the primary metric with PyTorch and with ONNX on the test split)
      model.onnx      the graph (fp32, or int8 with --int8)
      model/          the domain's settings and pre-processing files (tokenizer, catalogue, image transform)
      hybrid/         the run's saved hybrid, where it has one (its baselines stay scikit-learn pickles)
      README.md       the model card

and records it beside the run (``exports/<timestamp>.json``), so that ``--engine onnx`` on the run folder
finds it. :func:`load` gives the domain's ONNX predictor, whose ``predict`` answers exactly what the PyTorch
predictor's does (same schema, same threshold).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from suite.core.errors import ModelSourceError, RunError, brief

TORCH, ONNX = "torch", "onnx"
ENGINES = (TORCH, ONNX)
FORMAT = "onnx"
EXPORT_FILE = "export.json"
GRAPH_FILE = "model.onnx"
MODEL_FOLDER = "model"
RECORDS_FOLDER = "exports"


def is_export(path: str | Path) -> bool:
    """Whether ``path`` is an exported folder (it holds ``export.json``), not a run folder."""
    return (Path(path) / EXPORT_FILE).is_file()


@dataclass
class Exported:
    """An exported folder, opened and checked (nothing loaded yet). Open one with :meth:`open`."""

    path: Path
    document: dict

    @classmethod
    def open(cls, path: str | Path) -> Exported:
        """Read and check ``export.json`` and the graph's checksum, before any model loads.

        Raises:
            RunError: no such folder, or no readable ``export.json`` in it.
            ModelSourceError: the graph is missing or is not the file the export wrote (corrupted or replaced).
        """
        path = Path(path).expanduser()
        if not path.is_dir():
            raise RunError(f"{path}: no such exported folder")
        try:
            document = json.loads((path / EXPORT_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise RunError(f"{path}: not an ONNX export (no readable {EXPORT_FILE})") from None
        if not isinstance(document, dict) or document.get("format") != FORMAT or not document.get("domain"):
            raise RunError(f"{path}/{EXPORT_FILE}: not an ONNX export of this version of suite; export the run again")
        exported = cls(path, document)
        graph = exported.graph_path
        if not graph.is_file():
            raise ModelSourceError(f"{graph}: missing; export the run again")
        if checksum(graph) != document.get("sha256"):
            raise ModelSourceError(f"{graph}: not the file the export wrote (its checksum differs: corrupted or "
                                   "replaced); export the run again")
        return exported

    @property
    def domain(self) -> str:
        return self.document["domain"]

    @property
    def graph_path(self) -> Path:
        return self.path / GRAPH_FILE

    @property
    def model_dir(self) -> Path:
        """The domain's settings and pre-processing files (what ``read_inputs`` and the predictor read)."""
        return self.path / MODEL_FOLDER

    def threshold(self, system: str) -> Any:
        """The threshold of ``system`` in effect when the run was exported (None: the system has none)."""
        return (self.document.get("thresholds") or {}).get(system)


def checksum(path: Path) -> str:
    """SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class OnnxSession:
    """One ONNX Runtime session on the CPU, with ``OMP_NUM_THREADS`` threads where it is set (as torch takes them),
    else ONNX Runtime's default (one per physical core, as torch's).

    Args:
        path: an ``.onnx`` file.

    Raises:
        ModelSourceError: ONNX Runtime cannot load the file (not an ONNX model, or a corrupted one).

    Example:
        >>> session = OnnxSession(Path("exported/model.onnx"))
        >>> session.run({"pixel_values": batch}).shape
        (32, 2)
    """

    def __init__(self, path: Path):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        threads = os.environ.get("OMP_NUM_THREADS", "")
        if threads.isdigit() and int(threads) > 0:
            options.intra_op_num_threads = int(threads)
        options.log_severity_level = 3          # errors only: ORT's warnings about unused initialisers are noise
        try:
            self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as error:  # noqa: BLE001 - ORT raises its own pybind exception types
            raise ModelSourceError(f"{path}: ONNX Runtime cannot load it ({brief(str(error), 120)}); "
                                   "export the run again") from None
        self.input_names = [i.name for i in self.session.get_inputs()]

    def run(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        """The graph's (first) output for one batch of named inputs."""
        return self.session.run(None, {name: feeds[name] for name in self.input_names})[0]


def record(run: Any, exported: Path, *, int8: bool) -> Path:
    """Write ``exports/<timestamp>.json`` in the run folder: where its ONNX export is (a new file, nothing changed)."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    return run.write_json(f"{RECORDS_FOLDER}/{stamp}.json", {
        "format": FORMAT, "folder": str(Path(exported).resolve()), "int8": int8,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")})


def export_of(run: Any, domain: str) -> Exported:
    """The run's newest ONNX export that still exists, checked to be this run's.

    Raises:
        RunError: the run has no ONNX export (or every recorded one is gone), or the recorded folder now holds
            an export of another run or another domain.
        ModelSourceError: its graph is corrupted.
    """
    records = sorted((run.path / RECORDS_FOLDER).glob("*.json"), reverse=True)
    for path in records:
        try:
            folder = Path(json.loads(path.read_text(encoding="utf-8"))["folder"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if not is_export(folder):
            continue
        exported = Exported.open(folder)
        if exported.domain != domain:
            raise RunError(f"{folder}: holds an ONNX export of a {exported.domain} run, not of this {domain} run; "
                           f"export it again: suite export {run.path} NEW_FOLDER --format onnx")
        if Path(exported.document.get("run", "")).resolve() != run.path.resolve():
            raise RunError(f"{folder}: holds an ONNX export of another run ({exported.document.get('run')}); "
                           f"export this one again: suite export {run.path} NEW_FOLDER --format onnx")
        return exported
    raise RunError(f"{run.path}: the run has no ONNX export; make one with: suite export {run.path} OUT --format "
                   "onnx (or predict with --engine torch)")


def load(exported: Exported, system: str) -> Any:
    """The domain's ONNX predictor of an exported folder (the hybrid around it for ``system="hybrid"``), at the
    thresholds in effect when it was exported.

    Raises:
        RunError: the domain no longer exports to ONNX, or ``hybrid`` where the export holds none.
        ModelSourceError: ONNX Runtime cannot load the graph.
    """
    from suite.core import registry, saved_hybrid
    from suite.core.results import HYBRID, TUNED

    domain = registry.get_domain(exported.domain, where=str(exported.path / EXPORT_FILE))
    if not isinstance(domain, registry.ExportsOnnx):
        raise RunError(f"{exported.path}: {exported.domain} models cannot run with ONNX Runtime in this version")
    if system == HYBRID:
        saved_hybrid.require(exported.path)
    session = OnnxSession(exported.graph_path)              # a corrupted graph fails here, before the rest loads
    predictor = domain.load_onnx_predictor(exported.model_dir, session)
    if exported.threshold(TUNED) is not None:
        predictor.threshold = exported.threshold(TUNED)
    if system == HYBRID:
        predictor = saved_hybrid.load(exported.path, predictor)
        if exported.threshold(HYBRID) is not None:
            predictor.threshold = exported.threshold(HYBRID)
    return predictor
