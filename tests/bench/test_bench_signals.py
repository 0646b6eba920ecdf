"""A benchmark stopped with SIGTERM (``kill``, a job scheduler) stops the run it supervises too."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

pytestmark = pytest.mark.slow    # trains models or starts processes: not in the fast lane


def test_sigterm_to_the_bench_stops_the_training_process_it_supervises(tmp_path):
    child_pid = tmp_path / "child.pid"
    child = f"import os, time; open({str(child_pid)!r}, 'w').write(str(os.getpid())); time.sleep(300)"
    parent = tmp_path / "bench_parent.py"
    parent.write_text(textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from suite.bench.runner import _Clock, _supervise

        _supervise([sys.executable, "-c", {child!r}], Path({str(tmp_path / "run.log")!r}),
                   _Clock([1.0], lambda line: None), None)
    """), encoding="utf-8")
    bench = subprocess.Popen([sys.executable, str(parent)])
    deadline = time.monotonic() + 60
    while not (child_pid.exists() and child_pid.read_text()):
        assert time.monotonic() < deadline and bench.poll() is None, "the supervised process never started"
        time.sleep(0.1)
    pid = int(child_pid.read_text())

    bench.send_signal(signal.SIGTERM)

    assert bench.wait(timeout=30) == 128 + signal.SIGTERM
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return
    raise AssertionError(f"the supervised process {pid} outlived the benchmark")
