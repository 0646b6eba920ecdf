"""Several processes: `torchrun --nproc_per_node 2` on the CPU (gloo) trains each domain's tiny recipe.

Both processes train (the Trainer's DDP splits every batch between them); the main
process alone writes the run folder and evaluates. The folder must look like a
single-process one, and its model must load and predict.
"""

from __future__ import annotations

import json
import os
import sys

import pytest
from domain_cases import DOMAINS, cache_override, metrics, run_cli

import suite

pytestmark = pytest.mark.slow    # trains models or starts processes: not in the fast lane

RUN_FOLDER = {"recipe.yaml", "environment.json", "metrics.json", "README.md", "model", "logs", "plots"}


@pytest.mark.parametrize("domain", list(DOMAINS))
def test_torchrun_two_processes_on_cpu_write_one_loadable_run(domain, tmp_path):
    case = DOMAINS[domain]
    runs = tmp_path / "runs"
    result = run_cli([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                      "-m", "suite", "train", case.recipe,
                      *case.overrides, *cache_override(tmp_path, case), "train.epochs=1",
                      f"output.runs_dir={runs}"], timeout=900,
                     OMP_NUM_THREADS="2")      # what the pipeline must override: 2 x 2 threads on 2 cores
    folders = list(runs.iterdir())
    assert len(folders) == 1, folders                             # both processes used the same folder
    run = folders[0]
    assert RUN_FOLDER <= {p.name for p in run.iterdir()}
    assert not (run / "checkpoints").exists()                     # finished: the checkpoints went
    assert not list(run.glob("**/*.tmp")) and not (run / "model.partial").exists()
    assert result.stdout.count("run: ") == 1 and "error:" not in result.stderr   # one process reports
    training = metrics(run)["training"]
    assert training["processes"] == 2                             # the Trainer really ran DDP
    assert training["total_flos"] is None or training["total_flos"] > 0     # None: the Trainer counts none
    assert len(list((run / "logs" / "tensorboard").glob("events.*"))) == 1      # written by rank 0 only
    threads = json.loads((run / "environment.json").read_text())["torch_threads"]
    assert threads == max(1, len(os.sched_getaffinity(0)) // 2)   # the cores shared, not 2 each
    predictions = suite.load(run).predict(case.inputs())
    assert len(predictions) == len(case.inputs()) and all(isinstance(p, dict) for p in predictions)
