"""The tiny translation run, trained once per session and reused read-only."""

import pytest


@pytest.fixture(scope="session")
def translation_tiny_run(runs_dir):
    """recipes/translation/tiny.yaml: MiniLM warm start on Django's catalogs, 12 steps."""
    import suite

    return suite.tune("translation/tiny", output__runs_dir=str(runs_dir))
