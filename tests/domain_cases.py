"""Every domain the shared tests train (the contract tests; two runs at once with one killed and resumed;
torchrun), one row each.

A new domain joins all of them by adding one row to ``DOMAINS``: its tiny recipe,
overrides that keep a run short, and a few inputs its predictor accepts. Runs go
through the command line in a subprocess (``python -m suite train``), one torch thread
each, so that runs compared with each other ran the same way.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class DomainCase:
    recipe: str                                   # bundled tiny recipe
    overrides: tuple[str, ...] = ()               # keep the run short; still two epochs for resume
    inputs: Callable[[], list[Any]] = field(default=lambda: [])   # what predict() gets after loading


DOMAINS = {
    "spam": DomainCase("spam/tiny", (), lambda: ["WIN a FREE cruise!!! click now", "Minutes of the meeting"]),
    "recommendation": DomainCase("recommendation/tiny", ("evaluation.bpr_iterations=10", "data.synthetic_users=80",
                                                         "data.split=leave-last-out",
                                                         "evaluation.shortened_histories=[]"),
                                 lambda: ["items:a film about space travel|a quiet drama"]),
    "diagnostics": DomainCase("diagnostics/tiny", ("evaluation.bootstrap=20", "evaluation.saliency_images=0"),
                              lambda: [np.full((32, 32), 90, dtype=np.uint8)]),
    "translation": DomainCase("translation/tiny", ("evaluation.baselines=[copy-source]",),
                              lambda: ["Delete session", "%(count)s sites"]),
}

# The domains the test of a run killed and resumed trains (three runs each): one per way of training.
# Recommendation goes through sentence-transformers' trainer, translation through a seq2seq model with a loss of
# its own, diagnostics through a timm network with random augmentation; spam is transformers' Trainer on a sequence
# classifier, the path translation already takes, and its resume stays covered in-process by the contract tests.
RESUME_DOMAINS = ("recommendation", "translation", "diagnostics")


def environment(**extra: str) -> dict:
    """The subprocess environment: offline, one thread, the repository importable."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    env.update(extra)
    return env


def suite_argv(*args: str) -> list[str]:
    """``python -m suite ARGS``."""
    return [sys.executable, "-m", "suite", *args]


def cache_override(tmp: Path, case: DomainCase) -> tuple[str, ...]:
    """Keep generated data caches inside the test's temporary folder."""
    return (f"data.cache_dir={tmp / 'cache'}",) if case.recipe.startswith("diagnostics/") else ()


def run_cli(argv: list[str], *, timeout: float = 600, **env: str) -> subprocess.CompletedProcess:
    result = subprocess.run(argv, cwd=ROOT, env=environment(**env), capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def metrics(run_dir: Path) -> dict:
    return json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))


def system_metrics(run_dir: Path) -> dict:
    """Every system's numeric metrics (timings excluded: they are not meant to repeat)."""
    return {system: {k: v for k, v in values.items() if isinstance(v, (int, float))}
            for system, values in metrics(run_dir)["models"].items()}
