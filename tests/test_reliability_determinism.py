"""Determinism and isolation: one recipe and seed, two runs started at once into one runs folder.

For every domain of ``reliability_domains.DOMAINS`` (tiny recipes, shortened): both
runs must finish in folders of their own and report identical metrics for every
system (CPU, one thread each).
"""

from __future__ import annotations

import subprocess

import pytest
from domain_cases import DOMAINS, ROOT, cache_override, environment, suite_argv, system_metrics

from suite.core.runs import Run

pytestmark = pytest.mark.slow    # trains models or starts processes: not in the fast lane

SHORT = ("train.max_steps=4", "train.evaluate_every=2")


@pytest.mark.parametrize("domain", list(DOMAINS))
def test_same_seed_twice_at_once_gives_two_runs_with_identical_metrics(domain, tmp_path):
    case = DOMAINS[domain]
    runs = tmp_path / "runs"
    argv = suite_argv("train", case.recipe, *case.overrides, *SHORT, *cache_override(tmp_path, case),
                      "train.threads=1", f"output.runs_dir={runs}")      # no output.name: timestamped folders
    processes = [subprocess.Popen(argv, cwd=ROOT, env=environment(), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=900) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], [err[-2000:] for _, err in outputs]
    folders = sorted(runs.iterdir())
    assert len(folders) == 2 and all(Run(f).is_complete for f in folders), folders
    first, second = (system_metrics(f) for f in folders)
    assert first == second
