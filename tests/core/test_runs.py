"""Run folders: unique names, no reuse, atomic writes, staged model folders."""

import threading
from types import SimpleNamespace

import pytest

from suite.core.errors import RunError
from suite.core.runs import Run, atomic_write_text


def recipe(tmp_path, name=None):
    return SimpleNamespace(domain="toy", name="t", output=SimpleNamespace(runs_dir=str(tmp_path), name=name))


def test_runs_started_together_get_distinct_folders(tmp_path):
    made = []
    threads = [threading.Thread(target=lambda: made.append(Run.create(recipe(tmp_path)).path)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(made)) == 8 and all(p.is_dir() for p in made)


def test_named_folder_is_never_reused(tmp_path):
    Run.create(recipe(tmp_path, "mine"))
    with pytest.raises(RunError, match="already exists"):
        Run.create(recipe(tmp_path, "mine"))


def test_atomic_write_leaves_no_temporary_file(tmp_path):
    atomic_write_text(tmp_path / "a" / "metrics.json", "{}")
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["metrics.json"]


def test_model_folder_appears_only_when_complete(tmp_path):
    run = Run.create(recipe(tmp_path))
    with pytest.raises(ZeroDivisionError):
        with run.writing_model() as folder:
            (folder / "weights").write_text("half")
            raise ZeroDivisionError("killed while writing")
    assert not run.model_dir.exists()
    with run.writing_model() as folder:
        (folder / "weights").write_text("whole")
    assert (run.model_dir / "weights").read_text() == "whole"


def test_open_rejects_folders_that_are_not_runs(tmp_path):
    with pytest.raises(RunError, match="not a run folder"):
        Run.open(tmp_path)
    with pytest.raises(RunError, match="no such run folder"):
        Run.open(tmp_path / "missing")


def _checkpoint(run, step, state):
    folder = run.checkpoints_dir / f"checkpoint-{step}"
    folder.mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(b"w")
    if state is not None:
        (folder / "trainer_state.json").write_text(state)
    return folder


def test_last_checkpoint_skips_checkpoints_a_kill_left_half_written(tmp_path):
    run = Run.create(recipe(tmp_path))
    assert run.last_checkpoint() is None
    whole = _checkpoint(run, 9, '{"global_step": 9}')
    _checkpoint(run, 18, None)                                  # killed before trainer_state.json
    _checkpoint(run, 27, '{"global_step": 27, "log_hist')       # killed while writing it
    _checkpoint(run, 36, '{"global_step": 9}')                  # a state that is not this checkpoint's
    assert run.last_checkpoint() == whole
    removed = run.discard_incomplete_checkpoints()
    assert sorted(p.name for p in removed) == ["checkpoint-18", "checkpoint-27", "checkpoint-36"]
    assert [p.name for p in run.checkpoints_dir.iterdir()] == ["checkpoint-9"]


def test_writes_cannot_leave_the_run_folder(tmp_path):
    run = Run.create(recipe(tmp_path / "runs"))
    for name in ("../outside.json", "/tmp/outside.json", "logs/../../outside.json"):
        with pytest.raises(RunError, match="leads outside the run folder"):
            run.write_text(name, "x")
    assert not (tmp_path / "runs" / "outside.json").exists() and not (tmp_path / "outside.json").exists()
    assert run.write_text("logs/inside.txt", "x").read_text() == "x"


@pytest.mark.parametrize("name", ["..", "."])
def test_a_run_name_cannot_point_outside_the_runs_folder(tmp_path, name):
    with pytest.raises(RunError, match="leads outside"):
        Run.create(recipe(tmp_path / "runs", name))
