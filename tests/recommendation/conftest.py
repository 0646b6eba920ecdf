"""The tiny recommendation recipe, trained once per test session and reused read-only."""

import pytest


@pytest.fixture(scope="session")
def rec_tiny_run(runs_dir):
    """recommendation/tiny on the generated set (about 30 s on two cores); its checkpoints are kept."""
    import suite

    return suite.tune("recommendation/tiny", output__runs_dir=str(runs_dir), train__keep_checkpoints=True)
