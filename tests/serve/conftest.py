"""Fixtures for the HTTP server tests: the four tiny runs (the session's shared ones) and their predictors."""

import pytest

DOMAINS = ("spam", "recommendation", "translation", "diagnostics")


@pytest.fixture(scope="session")
def serve_runs(tiny_runs):
    """Each domain's tiny run (tests/conftest.py trains each once per session)."""
    return {domain: tiny_runs(domain).path for domain in DOMAINS}


@pytest.fixture(scope="module")
def predictors(serve_runs):
    """``predictors(domain)``: ``suite.load`` of the tiny run, loaded once, to compare the server with."""
    import suite

    loaded = {}

    def get(domain):
        if domain not in loaded:
            loaded[domain] = suite.load(serve_runs[domain])
        return loaded[domain]

    return get
