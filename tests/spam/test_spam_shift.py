"""The shift study's files (datasets/spamassassin/shift): split by corpus group, no text on both sides."""

import json
import subprocess
import sys
from collections import Counter

from suite.core import resources


def read(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_shift_files_split_the_corpus_by_group(tmp_path):
    script = resources.DATASETS_DIR / "spamassassin" / "shift"
    done = subprocess.run([sys.executable, str(script), str(tmp_path), "--calibration", "300"], check=True,
                          capture_output=True, text=True)
    assert "later-calibration.jsonl: 300 messages" in done.stdout
    early, later, calibration, rest = (read(tmp_path / f"{name}.jsonl")
                                       for name in ("early", "later", "later-calibration", "later-rest"))
    assert Counter(r["group"] for r in early) == {"easy-ham-1": 2500, "spam-1": 500}
    assert {r["group"] for r in later} == {"spam-2", "easy-ham-2", "hard-ham-1"}
    assert not {r["text"] for r in early} & {r["text"] for r in later}            # no training text tested
    assert len({r["text"] for r in later}) == len(later)                          # no repeats
    assert sorted(r["id"] for r in calibration + rest) == sorted(r["id"] for r in later)
    share = {g: n / len(later) for g, n in Counter(r["group"] for r in later).items()}
    for group, n in Counter(r["group"] for r in calibration).items():            # drawn within each group
        assert abs(n / 300 - share[group]) < 0.01, group
    assert all(r["label"] in ("spam", "ham") and r["text_with_headers"].endswith(r["text"]) for r in later)
