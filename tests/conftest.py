"""Shared fixtures: each domain's tiny run, trained once per test session and reused read-only.

Under pytest-xdist (``-n 2 --dist loadgroup``, what CI runs) the workers share the machine's
cores (one torch thread each on two cores), and :func:`pytest_collection_modifyitems` sends
the tests that share an expensive fixture to one worker, so it is made once.
"""

import collections
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")        # tests never reach for the network
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
if os.environ.get("PYTEST_XDIST_WORKER_COUNT"):     # set before torch is imported: it reads it once
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, len(os.sched_getaffinity(0))
                                                     // int(os.environ["PYTEST_XDIST_WORKER_COUNT"]))))

TESTS = Path(__file__).resolve().parent

# Property-based tests (Hypothesis): the fast lane draws a bounded number of examples per test, with no deadline
# (two shared cores make one example's time vary); HYPOTHESIS_PROFILE=deep draws many more.
settings.register_profile("default", max_examples=25, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("deep", max_examples=1000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.hookimpl(tryfirst=True)       # before xdist's own hook reads the marks
def pytest_collection_modifyitems(config, items):
    """Tests that use the same non-function-scoped fixture of this folder (a tiny run, a started server,
    a module's trained model) join one ``xdist_group``: under ``--dist loadgroup`` one worker makes the
    fixture and runs them all. Without xdist the marks do nothing."""
    parent: dict[str, str] = {}
    uses: collections.Counter = collections.Counter()

    def root(key: str) -> str:
        while parent.setdefault(key, key) != key:
            key = parent[key]
        return key

    keys_of = {}
    for item in items:
        definitions = getattr(item, "_fixtureinfo", None)
        keys = [d.argname if d.baseid in ("", "tests") else f"{Path(d.baseid).stem}.{d.argname}"
                for name in item.fixturenames
                for d in (definitions.name2fixturedefs.get(name, ()) if definitions else ())
                if d.scope != "function" and _defined_here(d)]
        for key in keys[1:]:
            parent[root(key)] = root(keys[0])
        uses.update(keys)
        keys_of[item] = keys
    # each group is named after the fixture most of its tests use (tiny_runs, bench_out...)
    names = {}
    for key, _ in uses.most_common():
        names.setdefault(root(key), key)
    for item, keys in keys_of.items():
        if keys:
            item.add_marker(pytest.mark.xdist_group(names[root(keys[0])]))


@pytest.hookimpl(trylast=True)        # after xdist's hook, which appends "@group" to the ids of marked tests
def pytest_collection_finish(session):
    """Say so where xdist's grouping is broken (pytest 9.2 ignores the ids xdist 3.8 rewrites): the tests
    still pass, but every shared fixture is made once per worker and the run takes longer."""
    if not session.config.getoption("loadgroup", default=False) or not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    marked = [item for item in session.items if item.get_closest_marker("xdist_group")]
    if marked and "@" not in marked[0].nodeid:
        session.config.issue_config_time_warning(pytest.PytestWarning(
            "--dist loadgroup does not group tests with this pytest and pytest-xdist, so shared fixtures are made "
            "once per worker; install the versions pyproject.toml declares: pip install -e '.[test]'"), stacklevel=2)


def _defined_here(definition) -> bool:
    source = getattr(definition.func, "__code__", None)
    return source is not None and Path(source.co_filename).resolve().is_relative_to(TESTS)


@pytest.fixture
def runs_dir(tmp_path):
    """A runs folder of the test's own."""
    return tmp_path / "runs"


@pytest.fixture(scope="session")
def tiny_runs(tmp_path_factory):
    """``tiny_runs(domain)``: the bundled ``<domain>/tiny`` recipe, trained on first use; checkpoints kept."""
    import suite

    runs_dir = tmp_path_factory.mktemp("runs")
    trained = {}
    cache = str(tmp_path_factory.mktemp("data-cache"))

    def get(domain: str):
        if domain not in trained:
            extra = {"data__cache_dir": cache} if domain == "diagnostics" else {}
            trained[domain] = suite.tune(f"{domain}/tiny", output__runs_dir=str(runs_dir),
                                         output__name=f"{domain}-tiny", train__keep_checkpoints=True, **extra)
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
