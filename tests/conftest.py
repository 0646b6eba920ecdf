"""Shared fixtures: tiny runs trained once per test session and reused read-only."""

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")        # tests never reach for the network
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def runs_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("runs")


@pytest.fixture(scope="session")
def spam_tiny_run(runs_dir):
    """The bundled tiny spam recipe, trained once (about 20 s on two cores); its checkpoints are kept."""
    import suite

    return suite.tune("spam/tiny", output__runs_dir=str(runs_dir), train__keep_checkpoints=True)

