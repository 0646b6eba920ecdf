"""Shared fixtures: each domain's tiny run, trained once per test session and reused read-only."""

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")        # tests never reach for the network
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def runs_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("runs")


@pytest.fixture(scope="session")
def tiny_runs(runs_dir, tmp_path_factory):
    """``tiny_runs(domain)``: the bundled ``<domain>/tiny`` recipe, trained on first use; checkpoints kept."""
    import suite

    trained = {}
    cache = str(tmp_path_factory.mktemp("data-cache"))

    def get(domain: str):
        if domain not in trained:
            extra = {"data__cache_dir": cache} if domain == "diagnostics" else {}
            trained[domain] = suite.tune(f"{domain}/tiny", output__runs_dir=str(runs_dir), output__name=f"{domain}-tiny",
                                         train__keep_checkpoints=True, **extra)
        return trained[domain]

    return get


@pytest.fixture(scope="session")
def spam_tiny_run(tiny_runs):
    return tiny_runs("spam")


@pytest.fixture(scope="session")
def rec_tiny_run(tiny_runs):
    return tiny_runs("recommendation")


@pytest.fixture(scope="session")
def translation_tiny_run(tiny_runs):
    return tiny_runs("translation")


@pytest.fixture(scope="session")
def diagnostics_tiny_run(tiny_runs):
    return tiny_runs("diagnostics")
