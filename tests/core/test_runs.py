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


def test_resume_refuses_a_users_folder_and_writes_nothing(tmp_path, capsys):
    from suite.cli import main

    folder = tmp_path / "my-notes"
    folder.mkdir()
    (folder / "recipe.yaml").write_text("domain: spam\nname: tiny\n")
    (folder / "README.md").write_text("my own notes\n")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert main(["train", "--resume", str(folder)]) == 2
    assert "not a run folder made by suite train" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_a_run_marked_by_its_environment_can_be_resumed(tmp_path):
    run = Run.create(recipe(tmp_path))
    (run.path / "recipe.yaml").write_text("domain: spam\nname: tiny\n")
    run.write_environment(0)
    assert Run.open_to_resume(run.path).path == run.path


def test_a_second_writer_is_refused_while_the_lock_is_held(tmp_path):
    run = Run.create(recipe(tmp_path, "busy"))
    with run.locked():
        with pytest.raises(RunError, match=r"another trainer is writing this run \(process \d+\)"):
            with run.locked():
                pass
        with pytest.raises(RunError, match="is being trained by process"):
            Run.create(recipe(tmp_path, "busy"))
    assert not (run.path / ".lock").exists()


def test_a_lock_left_by_a_killed_process_is_taken_over(tmp_path):
    import json
    import platform
    import subprocess
    import sys

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    run = Run.create(recipe(tmp_path))
    (run.path / ".lock").write_text(json.dumps({"pid": int(gone.stdout), "host": platform.node()}))
    with run.locked():
        assert json.loads((run.path / ".lock").read_text())["pid"] != int(gone.stdout)


def test_the_hint_for_a_taken_name_fits_the_folder(tmp_path):
    Run.create(recipe(tmp_path, "notes"))
    with pytest.raises(RunError) as error:
        Run.create(recipe(tmp_path, "notes"))
    assert "--resume" not in str(error.value)        # an empty folder is no run to resume
    run = Run(tmp_path / "notes")
    (run.path / "recipe.yaml").write_text("domain: spam\nname: tiny\n")
    run.write_environment(0)
    with pytest.raises(RunError, match="or continue it with: suite train --resume"):
        Run.create(recipe(tmp_path, "notes"))
    (run.path / "metrics.json").write_text("{}")
    with pytest.raises(RunError, match="already holds a finished run"):
        Run.create(recipe(tmp_path, "notes"))
