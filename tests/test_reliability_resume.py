"""Two runs at once, one killed: isolation, determinism and resume after a crash, in one pass per domain.

For each domain of ``domain_cases.RESUME_DOMAINS`` (tiny recipes, two epochs), the same recipe and
seed start twice at once into one runs folder, with no ``output.name``: each must get a folder
of its own. One of them is killed with SIGKILL once its first checkpoint is complete and
training has gone on past it, so the kill lands in the second epoch. The killed folder must
hold no ``metrics.json`` and no ``model/``; ``suite train --resume`` must continue from that
checkpoint and end with the same metrics, for every system, as the run that was never
interrupted (which also shows that one seed gives one result).

Tolerance: every metric within ``TOLERANCE`` (absolute). The Trainer restores weights,
optimiser, scheduler, RNG states and the position in the epoch, so on the CPU with one thread
the resumed run repeats the uninterrupted one; the tolerance only leaves room for
floating-point summation order.
"""

from __future__ import annotations

import csv
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
from domain_cases import (
    DOMAINS,
    RESUME_DOMAINS,
    ROOT,
    cache_override,
    environment,
    metrics,
    run_cli,
    suite_argv,
    system_metrics,
)

from suite.core.runs import Run

pytestmark = pytest.mark.slow    # trains models or starts processes: not in the fast lane

TOLERANCE = 1e-6


def _steps_logged(run: Run) -> int:
    path = run.logs_dir / "metrics.csv"
    if not path.is_file():
        return 0
    with open(path, encoding="utf-8") as handle:
        return max((int(row["step"]) for row in csv.DictReader(handle) if row["name"] == "loss"), default=0)


def start(argv: list[str], log: Path) -> subprocess.Popen:
    """Start ``argv`` with its output going to ``log`` (a pipe nobody reads would fill and stall it)."""
    with open(log, "w", encoding="utf-8") as handle:
        return subprocess.Popen(argv, cwd=ROOT, env=environment(), stdout=handle, stderr=subprocess.STDOUT)


def run_folder_of(process: subprocess.Popen, log: Path, deadline: float) -> Run:
    """The run folder ``process`` announced on its log ("run folder: PATH ...")."""
    while time.monotonic() < deadline:
        match = re.search(r"^run folder: (\S+) ", log.read_text(encoding="utf-8"), re.MULTILINE)
        if match:
            return Run(Path(match.group(1)))
        if process.poll() is not None:
            pytest.fail(f"training ended before it named its run folder: {log.read_text()[-2000:]}")
        time.sleep(0.05)
    pytest.fail("no run folder within the timeout")


def kill_after_first_checkpoint(argv: list[str], log: Path, *, timeout: float = 600) -> tuple[Run, int]:
    """Start ``argv``; SIGKILL it once a checkpoint is complete and a later step was logged.

    Returns:
        The run folder, and the step of the checkpoint it had when it was killed.
    """
    process = start(argv, log)
    deadline = time.monotonic() + timeout
    try:
        run = run_folder_of(process, log, deadline)
        while time.monotonic() < deadline:
            checkpoint = run.last_checkpoint() if run.path.is_dir() else None
            if checkpoint is not None and _steps_logged(run) > int(checkpoint.name.split("-")[-1]):
                break
            if process.poll() is not None:
                pytest.fail(f"training ended before it could be killed: {log.read_text()[-2000:]}")
            time.sleep(0.05)
        else:
            pytest.fail("no checkpoint within the timeout")
        assert process.poll() is None, "the run finished before the kill"
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=60) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return run, int(checkpoint.name.split("-")[-1])


@pytest.mark.parametrize("domain", RESUME_DOMAINS)
def test_two_runs_at_once_one_killed_mid_epoch_then_resumed_end_identical(domain, tmp_path):
    case = DOMAINS[domain]
    runs = tmp_path / "runs"
    argv = [*suite_argv("train"), case.recipe, *case.overrides, *cache_override(tmp_path, case), "train.threads=1",
            f"output.runs_dir={runs}"]                    # no output.name: timestamped folders
    # the uninterrupted run trains alongside the one that is killed (one thread each)
    reference = start(argv, tmp_path / "uninterrupted.log")
    try:
        killed, checkpoint_step = kill_after_first_checkpoint(argv, tmp_path / "killed.log")
    finally:
        reference.wait(timeout=900)
    assert reference.returncode == 0, (tmp_path / "uninterrupted.log").read_text()[-3000:]
    folders = sorted(runs.iterdir())
    assert len(folders) == 2 and killed.path in folders, folders      # a folder each
    uninterrupted = next(folder for folder in folders if folder != killed.path)
    assert Run(uninterrupted).is_complete

    assert not killed.is_complete and not (killed.path / "metrics.json").exists()
    assert not killed.model_dir.exists()                       # at most model.partial, never model/
    assert not list(killed.path.glob("**/*.tmp"))
    assert killed.last_checkpoint().name == f"checkpoint-{checkpoint_step}"

    run_cli(suite_argv("train", "--resume", str(killed.path)))
    resumed, reference = metrics(killed.path), metrics(uninterrupted)
    assert resumed["training"]["resumed_from"] == f"checkpoints/checkpoint-{checkpoint_step}"
    assert resumed["training"]["steps"] == reference["training"]["steps"]
    got, want = system_metrics(killed.path), system_metrics(uninterrupted)
    assert set(got) == set(want)
    for system, values in want.items():                # the baselines too: one seed, one result
        assert set(got[system]) == set(values), system
        for name, value in values.items():
            assert got[system][name] == pytest.approx(value, abs=TOLERANCE), (system, name)
    assert not (killed.path / "model.partial").exists()
