"""``suite bench``: run a plan of recipes per domain, each in a fresh process, and gather one results file.

For every run of the plan (see :mod:`suite.bench.plan`) a child process runs
``suite train RECIPE key=value...`` into ``OUT/runs/<domain>-<system>/``; the child's
peak RSS comes from the kernel (``wait4``), so it is the whole run's and nothing else's,
and a crash or a timeout fails that run only. Every system of every finished run is then
read from its ``metrics.json`` (the same schema in every domain) into ``results.json``::

    {"plan": {...}, "environment": {...}, "compute": {"matmul_peak_flops": ...},
     "domains": {"spam": {"status": "ok", "primary_metric": "f1", "greater_is_better": true,
                          "runs": {"full": {"status": "ok", "wall_seconds": ..., ...}},
                          "systems": {"full": {"metrics": {...}, "train_seconds": ..., ...},
                                      "baseline:tfidf-logreg": {...}}}}}

Reading the finished runs is :mod:`suite.bench.collect`; the tables, plots and
HTML page are :mod:`suite.bench.report`. The matmul peak that the training FLOP/s
are set against is the best of several fp32 ``torch.matmul`` calls timed in this process
at the start and at the end of the benchmark (the larger of the two counts).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from suite.bench import collect as bench_collect
from suite.bench import plan as bench_plan
from suite.core import resources, runs
from suite.core.errors import RunError, SuiteError

RESULTS_FILE = "results.json"
_CHILD = "import sys; from suite.cli import main; sys.exit(main(sys.argv[1:]))"


def run_plan(*, plan: str | Path | dict = bench_plan.DEFAULT_PLAN, domains: list[str] | None = None,
             out: str | Path | None = None,
             progress: Callable[[str], None] | None = None, command: str | None = None,
             resume: bool = False) -> Path:
    """Run every run of a benchmark plan and write ``results.json`` (the reports are written by the caller).

    Args:
        plan: a bundled plan name (``"quick"``, ``"full"``), a plan YAML path, or a dict.
        domains: only these domains of the plan (default: all of them).
        out: the output folder; it must not exist or be empty
            (default ``runs/bench-<plan>-<timestamp>``).
        progress: called with one line per event (default: print to stderr).
        command: the command line to record as the one that made the results.
        resume: go on with a stopped benchmark in ``out``: the runs its ``results.json`` lists
            as finished (same recipe and overrides) are kept, every other run starts again
            (an unfinished run's folder and log are moved to ``out/stopped/`` first).

    Returns:
        The path of ``results.json``.

    Raises:
        RecipeError: a malformed plan, or a domain the plan does not have.
        RunError: ``out`` exists and is not empty (or, with ``resume``, holds no results of this plan).
    """
    plan = bench_plan.load_plan(plan)
    if domains:
        plan = plan.only(domains)
    earlier = _earlier_results(out, plan.name) if resume else None
    out = Path(out).expanduser().resolve() if resume else _output_folder(out, plan.name)
    say = progress or (lambda line: print(line, file=sys.stderr, flush=True))
    started = time.time() - (earlier or {}).get("wall_seconds", 0.0)   # a resumed benchmark's time adds up
    peak_start = matmul_peak(plan.matmul_size)
    todo = [(name, domain, run) for name, domain in plan.domains.items() for run in domain.all_runs()]
    problems = [_check_run(name, domain, run, plan) for name, domain, run in todo]   # all before any starts
    kept = [_finished_record(earlier, name, domain, run, plan, out) for name, domain, run in todo]
    clock = _Clock([0.0 if problem or record else run.minutes
                    for problem, record, (_, _, run) in zip(problems, kept, todo)], say)
    command = command or f"suite.bench.runner.run_plan(plan={plan.origin!r})"
    results = {"plan": {"name": plan.name, "origin": plan.origin, "description": plan.description.strip(),
                        "seed": plan.seed, "timeout_minutes": plan.timeout_minutes}}
    if earlier:   # the first start's machine record stays; each resumption is listed with its own commit
        results.update(command=earlier["command"], environment=earlier["environment"],
                       domains=earlier.get("domains", {}),
                       resumed=[*earlier.get("resumed", []), _resumption(command, plan.seed)])
    else:
        results.update(command=command, environment=bench_environment(plan.seed), domains={})
    for index, ((name, domain, run), problem, record) in enumerate(zip(todo, problems, kept)):
        if record:
            clock.keep(index, f"{name} / {run.system}")
        else:
            _move_aside(out, f"{name}-{run.system}")
            record = _run_one(name, domain, run, plan, out, clock, index, problem)
        entry = results["domains"].setdefault(name, {"runs": {}, "figure": domain.figure})
        entry["runs"][run.system] = record
        entry.update(bench_collect.collect_domain(name, entry["runs"], out, figure=domain.figure))
        _write(results, out, finished=False, started=started)   # a stopped benchmark keeps what it measured
    peak_end = matmul_peak(plan.matmul_size)
    results["compute"] = bench_collect.compute(results["domains"], peak_start, peak_end, plan.matmul_size)
    path = _write(results, out, finished=True, started=started)
    say(f"[bench] done in {_duration(results['wall_seconds'])}: {path}")
    return path


def _write(results: dict, out: Path, *, finished: bool, started: float) -> Path:
    results.update(finished=finished, wall_seconds=round(time.time() - started, 1),
                   created=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))
    return runs.atomic_write_text(out / RESULTS_FILE, json.dumps(results, indent=2) + "\n")


def bench_environment(seed: int | None) -> dict:
    """Package versions, CPU model and count, torch threads and git commit of this machine, recorded once."""
    environment = runs.environment(seed if seed is not None else -1)
    environment.pop("command", None)
    environment["seed"] = seed   # null: each recipe's own seed (listed per run)
    environment["cpu_model"] = _cpu_model()
    try:
        environment["usable_cpus"] = len(os.sched_getaffinity(0))
    except AttributeError:   # not Linux
        environment["usable_cpus"] = os.cpu_count()
    return environment


def matmul_peak(size: int, *, repeats: int = 5) -> dict:
    """Best achieved FLOP/s of an fp32 ``size x size`` matmul on this machine, with torch's default threads.

    Returns:
        ``{"flops_per_second", "size", "seconds", "threads"}``; one matmul is ``2 * size**3`` FLOPs.
    """
    import torch

    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.matmul(a, b)   # warm-up: thread pool and caches
    best, count, begun = float("inf"), 0, time.perf_counter()
    while count < repeats or (time.perf_counter() - begun < 1.0 and count < 200):   # small sizes: more tries
        start = time.perf_counter()
        torch.matmul(a, b)
        best = min(best, time.perf_counter() - start)
        count += 1
    return {"flops_per_second": 2 * size ** 3 / best, "size": size, "seconds": round(best, 5),
            "threads": torch.get_num_threads()}


# -- resuming a stopped benchmark ----------------------------------------------------------------
def _earlier_results(out: str | Path | None, plan_name: str) -> dict:
    """The ``results.json`` of the stopped benchmark in ``out``, checked to be of the same plan."""
    if out is None:
        raise RunError("bench: resuming needs the folder of the stopped benchmark")
    path = Path(out).expanduser() / RESULTS_FILE
    try:
        earlier = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunError(f"--resume {out}: holds no {RESULTS_FILE}; nothing to go on with") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise RunError(f"--resume {out}: cannot read {RESULTS_FILE} ({error})") from None
    recorded = (earlier.get("plan") or {}).get("name")
    if recorded != plan_name:
        raise RunError(f"--resume {out}: its results are of plan '{recorded}', not '{plan_name}'")
    return earlier


def _finished_record(earlier: dict | None, domain_name: str, domain: Any, run: Any, plan: Any,
                     out: Path) -> dict | None:
    """The earlier record of this run if it finished with the same recipe and overrides, else None."""
    record = ((earlier or {}).get("domains", {}).get(domain_name, {}).get("runs", {})).get(run.system)
    if not record or record.get("status") != "ok":
        return None
    same = (record.get("recipe") == run.recipe
            and record.get("overrides") == bench_plan.child_overrides(domain, run, seed=plan.seed))
    return record if same and (out / record["run_dir"] / runs.METRICS_FILE).is_file() else None


def _move_aside(out: Path, folder: str) -> None:
    """Move an unfinished run's folder and log to ``out/stopped/`` so the run can start afresh."""
    leftovers = [path for path in (out / "runs" / folder, out / "logs" / f"{folder}.log") if path.exists()]
    if not leftovers:
        return
    stopped = out / "stopped" / dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    stopped.mkdir(parents=True, exist_ok=True)
    for path in leftovers:
        path.rename(stopped / path.name)


def _resumption(command: str, seed: int | None) -> dict:
    environment = bench_environment(seed)
    return {"created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "command": command,
            "git_commit": environment.get("git_commit"), "packages": environment.get("packages")}


# -- one run -----------------------------------------------------------------------------------
def _check_run(domain_name: str, domain: Any, run: Any, plan: Any) -> str | None:
    """Why the run cannot start (a missing recipe or domain, a bad override), or None."""
    from suite.core.recipe import load_recipe

    try:
        recipe = load_recipe(run.recipe, bench_plan.child_overrides(domain, run, seed=plan.seed))
    except SuiteError as error:
        return str(error)
    if recipe.domain != domain_name:
        return f"{run.recipe}: is a '{recipe.domain}' recipe, listed under '{domain_name}'"
    return None


def _run_one(domain_name: str, domain: Any, run: Any, plan: Any, out: Path, clock: _Clock, index: int,
             problem: str | None) -> dict:
    overrides = bench_plan.child_overrides(domain, run, seed=plan.seed)
    folder = f"{domain_name}-{run.system}"
    record = {"recipe": run.recipe, "overrides": overrides, "run_dir": f"runs/{folder}",
              "log": f"logs/{folder}.log", "status": "failed", "error": None, "budget": run.budget_size,
              "strategy": run.strategy, "draw": run.draw}
    if problem:
        record.update(error=problem, log=None)
        clock.skip(index, f"{domain_name} / {run.system}", problem)
        return record
    command = [sys.executable, "-c", _CHILD, "train", run.recipe, *overrides,
               f"output.runs_dir={out / 'runs'}", f"output.name={folder}"]
    clock.start(index, f"{domain_name} / {run.system} ({run.recipe})")
    status, seconds, peak = _supervise(command, out / record["log"], clock, plan.timeout_minutes)
    record.update(wall_seconds=round(seconds, 1), peak_rss_mb=peak, returncode=status)
    if status == 0 and (out / record["run_dir"] / runs.METRICS_FILE).is_file():
        record["status"] = "ok"
    elif status == "timeout":
        record["error"] = f"stopped after the plan's timeout of {plan.timeout_minutes:g} minutes"
    else:
        record["error"] = _last_error(out / record["log"]) or f"exited with status {status}"
    clock.finish(index, record["status"], record["error"] or f"peak RSS {peak / 1024:.1f} GB")
    return record


def _supervise(command: list[str], log: Path, clock: _Clock, timeout_minutes: float | None):
    """Run ``command`` with its output in ``log``; return (exit status or "timeout", seconds, peak RSS MiB)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "TOKENIZERS_PARALLELISM": os.environ.get("TOKENIZERS_PARALLELISM", "false"),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(resources.IMPORT_ROOT), os.environ.get("PYTHONPATH")]))}
    start = time.monotonic()
    with open(log, "wb") as handle, _sigterm_raises():
        child = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        timed_out = False
        try:
            while True:
                pid, status, usage = os.wait4(child.pid, os.WNOHANG)
                if pid:
                    break
                elapsed = time.monotonic() - start
                if timeout_minutes is not None and elapsed > timeout_minutes * 60:
                    # the child's own process group only; SIGKILL if it ignores SIGTERM for 30 s
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(child.pid, signal.SIGKILL if elapsed > timeout_minutes * 60 + 30 else signal.SIGTERM)
                    timed_out = True
                clock.tick(elapsed)
                time.sleep(0.5)
        except BaseException:   # Ctrl-C or SIGTERM: the child runs in its own session, so stop it here
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
            os.wait4(child.pid, 0)
            child.returncode = -9
            raise
    child.returncode = os.waitstatus_to_exitcode(status)
    return ("timeout" if timed_out else child.returncode), time.monotonic() - start, round(usage.ru_maxrss / 1024, 1)


@contextlib.contextmanager
def _sigterm_raises():
    """While a child runs, SIGTERM (``kill``, a job scheduler) raises SystemExit in the bench, so
    the child's process group is stopped too instead of training on, orphaned."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _last_error(log: Path) -> str | None:
    """The line that says why a child failed: its ``error: ...`` line, else the exception line of a traceback."""
    try:
        lines = [line.strip() for line in log.read_text(encoding="utf-8", errors="replace").splitlines()]
    except OSError:
        return None
    lines = [line for line in lines if line]
    for line in reversed(lines):
        if line.startswith("error: ") or re.match(r"^[\w.]+(Error|Exception|Interrupt)\b", line):
            return line.removeprefix("error: ")[:300]
    return lines[-1][:300] if lines else None


# -- small helpers -----------------------------------------------------------------------------
class _Clock:
    """Progress lines: which domain and system runs, elapsed time, and an estimate of the time left.

    The estimate scales the plan's expected minutes of the runs still to go by how much
    slower (or faster) than expected the finished runs were.
    """

    def __init__(self, minutes: list[float], say: Callable[[str], None], *, every: float = 60.0):
        self.expected, self.say, self.every = [m * 60 for m in minutes], say, every
        self.actual: dict[int, float] = {}
        self.begun = time.monotonic()
        self.index, self.label, self.last = 0, "", 0.0

    def start(self, index: int, label: str) -> None:
        self.index, self.label, self.last = index, label, 0.0
        self.say(f"[bench {index + 1}/{len(self.expected)}] {label}: started; {self._status(0.0)}")

    def tick(self, elapsed: float) -> None:
        if elapsed - self.last >= self.every:
            self.last = elapsed
            self.say(f"[bench {self.index + 1}/{len(self.expected)}] {self.label}: running {_duration(elapsed)}; "
                     f"{self._status(elapsed)}")

    def finish(self, index: int, status: str, detail: str) -> None:
        self.actual[index] = time.monotonic() - self.begun - sum(self.actual.values())
        self.say(f"[bench {index + 1}/{len(self.expected)}] {self.label}: {status} in "
                 f"{_duration(self.actual[index])} ({detail})")

    def keep(self, index: int, label: str) -> None:
        self.actual[index] = 0.0
        self.say(f"[bench {index + 1}/{len(self.expected)}] {label}: finished before, kept")

    def skip(self, index: int, label: str, reason: str) -> None:
        self.actual[index] = time.monotonic() - self.begun - sum(self.actual.values())
        self.expected[index] = 0.0
        self.say(f"[bench {index + 1}/{len(self.expected)}] {label}: failed before starting ({reason})")

    def _status(self, elapsed: float) -> str:
        done = [i for i in self.actual if self.expected[i] > 0]
        expected_done = sum(self.expected[i] for i in done)
        factor = sum(self.actual[i] for i in done) / expected_done if expected_done else 1.0
        later = sum(self.expected[i] for i in range(self.index + 1, len(self.expected)) if i not in self.actual)
        left = max(self.expected[self.index] * factor - elapsed, 0.0) + later * factor
        return f"elapsed {_duration(time.monotonic() - self.begun)}, about {_duration(left)} left"


def _output_folder(out: str | Path | None, plan_name: str) -> Path:
    if out is None:
        out = Path("runs") / f"bench-{plan_name}-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}"
    out = Path(out).expanduser()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise RunError(f"--out {out}: exists and is not an empty folder; choose a new one")
    out.mkdir(parents=True, exist_ok=True)
    return out.resolve()


def _cpu_model() -> str:
    import platform

    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s"
