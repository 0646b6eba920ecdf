"""Resume after a crash: SIGKILL `suite train` mid-epoch, then `suite train --resume` finishes the run.

For every domain of ``reliability_domains.DOMAINS`` (tiny recipes, two epochs): a run is
killed with SIGKILL once its first checkpoint is complete and training has gone on past
it, so the kill lands in the second epoch. The killed folder must hold no
``metrics.json`` and no ``model/``; ``--resume`` must continue from that checkpoint and
end with the same metrics as an uninterrupted run of the same recipe and seed.

Tolerance: every metric of the tuned model within ``TOLERANCE`` (absolute) of the
uninterrupted run. The Trainer restores weights, optimiser, scheduler, RNG states and
the position in the epoch, so on the CPU with one thread the resumed run repeats the
uninterrupted one; the tolerance only leaves room for floating-point summation order.
"""

from __future__ import annotations

import csv
import signal
import subprocess
import time
from pathlib import Path

import pytest
from domain_cases import (DOMAINS, ROOT, cache_override, environment, metrics, run_cli, suite_argv,
                                 system_metrics, train_argv)

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


def kill_after_first_checkpoint(argv: list[str], run: Run, log: Path, *, timeout: float = 600) -> int:
    """Start ``argv``; SIGKILL it once a checkpoint is complete and a later step was logged.

    Returns:
        The step of the checkpoint the run had when it was killed.
    """
    process = start(argv, log)
    deadline = time.monotonic() + timeout
    try:
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
    return int(checkpoint.name.split("-")[-1])


@pytest.mark.parametrize("domain", list(DOMAINS))
def test_sigkill_mid_epoch_then_resume_matches_an_uninterrupted_run(domain, tmp_path):
    case = DOMAINS[domain]
    extra = cache_override(tmp_path, case)
    # the uninterrupted run trains alongside the one that is killed (one thread each)
    reference = start(train_argv(case, tmp_path, "uninterrupted", *extra), tmp_path / "uninterrupted.log")
    killed = Run(tmp_path / "killed")
    try:
        checkpoint_step = kill_after_first_checkpoint(train_argv(case, tmp_path, "killed", *extra), killed,
                                                      tmp_path / "killed.log")
    finally:
        reference.wait(timeout=900)
    assert reference.returncode == 0, (tmp_path / "uninterrupted.log").read_text()[-3000:]

    assert not killed.is_complete and not (killed.path / "metrics.json").exists()
    assert not killed.model_dir.exists()                       # at most model.partial, never model/
    assert not list(killed.path.glob("**/*.tmp"))
    assert killed.last_checkpoint().name == f"checkpoint-{checkpoint_step}"

    run_cli(suite_argv("train", "--resume", str(killed.path)))
    resumed, reference = metrics(killed.path), metrics(tmp_path / "uninterrupted")
    assert resumed["training"]["resumed_from"] == f"checkpoints/checkpoint-{checkpoint_step}"
    assert resumed["training"]["steps"] == reference["training"]["steps"]
    got, want = system_metrics(killed.path), system_metrics(tmp_path / "uninterrupted")
    assert set(got) == set(want)
    for name, value in want["tuned"].items():
        assert got["tuned"][name] == pytest.approx(value, abs=TOLERANCE), name
    assert not (killed.path / "model.partial").exists()
