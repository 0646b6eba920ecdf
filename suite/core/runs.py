"""Run folders: everything one training run produced, self-describing and written atomically.

Layout (the same in every domain)::

    runs/<domain>-<recipe>-<timestamp>/
      recipe.yaml        the resolved recipe (load it again to repeat the run)
      environment.json   package versions, CPU, threads, seed, git commit, command line, and the
                         layout's schema: the marker that the folder is a run (--resume needs it)
      .lock              while a trainer writes the folder: its process id (a second one is refused)
      metrics.json       written last: its presence means the run is complete
      README.md          model card with the evaluation table
      model/             the model to load (safetensors; with LoRA: merged weights + adapter/)
      checkpoints/       Trainer checkpoints, for `suite train --resume`; removed once the run
                         finishes unless the recipe sets train.keep_checkpoints
      logs/              metrics.csv (every logged value) and tensorboard/
      plots/             PNG figures

Every file is written to a temporary name and renamed into place, and the model
folder is filled under a temporary name first, so a killed run never leaves a
half-written ``metrics.json`` or model where a reader would take it for complete.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from suite.core import paths, saved_files
from suite.core.errors import RunError

if TYPE_CHECKING:
    from suite.core.recipe import Recipe

METRICS_FILE = "metrics.json"
RECIPE_FILE = "recipe.yaml"
ENVIRONMENT_FILE = "environment.json"
LOCK_FILE = ".lock"              # held while a trainer writes the folder: {"pid": ..., "host": ...}
SCHEMA = "suite-run/1"           # in environment.json: the folder was made by suite, in this layout
TRACKED_PACKAGES = ("suite", "torch", "transformers", "sentence-transformers", "peft", "timm", "scikit-learn",
                    "implicit", "accelerate", "datasets", "sacrebleu", "numpy")


class Run:
    """A run folder. Create one with :meth:`create`, reopen one with :meth:`open`."""

    def __init__(self, path: Path):
        self.path = Path(path)

    @classmethod
    def create(cls, recipe: Recipe) -> Run:
        """Make a new, empty run folder for ``recipe``; never reuses an existing folder.

        Under ``torchrun`` / ``accelerate launch`` the main process makes the folder and
        every process gets the same one (call it on every process).

        Raises:
            RunError: ``output.name`` names a folder that already exists.
        """
        from suite.core import distributed

        return cls(Path(distributed.on_main_then_share(lambda: str(cls._new_folder(recipe)))))

    @staticmethod
    def check_available(recipe: Recipe) -> None:
        """Refuse, before anything loads, a runs folder that is a file and an ``output.name`` already taken.

        Raises:
            RunError: one line naming the folder.
        """
        runs_dir = paths.writable_folder(recipe.output.runs_dir, what="output.runs_dir")
        if recipe.output.name and (runs_dir / recipe.output.name).exists():
            raise RunError(_taken(runs_dir / recipe.output.name))

    @staticmethod
    def _new_folder(recipe: Recipe) -> Path:
        Run.check_available(recipe)
        runs_dir = Path(recipe.output.runs_dir).expanduser()
        runs_dir.mkdir(parents=True, exist_ok=True)
        if recipe.output.name:
            path = runs_dir / recipe.output.name
            if path.resolve().parent != runs_dir.resolve():
                raise RunError(f"output.name '{recipe.output.name}' leads outside {runs_dir}; use a plain folder name")
            try:
                path.mkdir()
            except FileExistsError:
                raise RunError(_taken(path)) from None
            return path
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        for attempt in range(1000):  # two runs started in the same second get different folders
            path = runs_dir / f"{recipe.domain}-{recipe.name}-{stamp}" if attempt == 0 else \
                runs_dir / f"{recipe.domain}-{recipe.name}-{stamp}-{attempt}"
            try:
                path.mkdir()
                return path
            except FileExistsError:
                continue
        raise RunError(f"could not create a new run folder in {runs_dir}")

    @classmethod
    def open(cls, path: str | Path) -> Run:
        """Open an existing run folder.

        Raises:
            RunError: not a folder, or no ``recipe.yaml`` in it.
        """
        run = cls(Path(path).expanduser())
        if not run.path.is_dir():
            raise RunError(f"{run.path}: no such run folder")
        if not (run.path / RECIPE_FILE).is_file():
            raise RunError(f"{run.path}: not a run folder (no {RECIPE_FILE})")
        return run

    @classmethod
    def open_to_resume(cls, path: str | Path) -> Run:
        """Open a run folder that ``suite train --resume`` may write into: one whose ``environment.json`` carries
        this layout's :data:`SCHEMA` (a folder that merely holds a ``recipe.yaml`` is someone else's).

        Raises:
            RunError: not such a folder; nothing is written.
        """
        run = cls.open(path)
        try:
            marker = json.loads((run.path / ENVIRONMENT_FILE).read_text(encoding="utf-8")).get("schema")
        except (OSError, ValueError, AttributeError):
            marker = None
        if marker != SCHEMA:
            raise RunError(f"{run.path}: not a run folder made by suite train (no {ENVIRONMENT_FILE} with schema "
                           f"{SCHEMA}); --resume writes only into such a folder")
        return run

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the folder's lock while a trainer writes it; a second trainer (``--resume`` included) is refused.

        A lock left by a process that no longer runs on this machine (killed) is taken over.

        Raises:
            RunError: another live process holds the lock.
        """
        lock = self.path / LOCK_FILE
        for _ in range(2):
            try:
                handle = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
                break
            except FileExistsError:
                holder = _lock_holder(lock)
                if holder is not None:
                    raise RunError(f"{self.path}: another trainer is writing this run ({holder}); wait for it to "
                                   f"finish, or stop it and then resume with: suite train --resume {self.path}"
                                   ) from None
                lock.unlink(missing_ok=True)     # stale: its process is gone
        else:
            raise RunError(f"{self.path}: could not take the run's lock {lock}")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump({"pid": os.getpid(), "host": platform.node()}, out)
        try:
            yield
        finally:
            lock.unlink(missing_ok=True)

    # -- well-known places -------------------------------------------------------------
    @property
    def model_dir(self) -> Path:
        return self.path / "model"

    @property
    def checkpoints_dir(self) -> Path:
        return self.path / "checkpoints"

    def checkpoints_for(self, phase: str | None = None) -> Path:
        """Where a training phase keeps its checkpoints: ``checkpoints/`` for the main one, else a sub-folder."""
        return self.checkpoints_dir / phase if phase else self.checkpoints_dir

    @property
    def logs_dir(self) -> Path:
        return self.path / "logs"

    @property
    def plots_dir(self) -> Path:
        return self.path / "plots"

    @property
    def is_complete(self) -> bool:
        return (self.path / METRICS_FILE).is_file()

    def require_complete(self) -> None:
        """Raise :class:`RunError` unless training finished and wrote its metrics."""
        if not self.is_complete:
            raise RunError(f"{self.path}: the run has not finished (no {METRICS_FILE}); "
                           f"continue it with: suite train --resume {self.path}")

    def last_checkpoint(self, *, required: tuple[str, ...] = (), phase: str | None = None) -> Path | None:
        """The newest complete Trainer checkpoint of ``phase`` (the main training by default), if any.

        The Trainer writes ``trainer_state.json`` last, in place; a checkpoint counts as
        complete only when that file holds whole JSON for the checkpoint's own step (and the
        ``required`` files, written after it, exist), so a process killed while writing a
        checkpoint leaves one that is never picked.
        """
        done = [p for p in self._checkpoints(self.checkpoints_for(phase))
                if _checkpoint_is_complete(p) and all((p / name).is_file() for name in required)]
        return max(done, key=_step, default=None)

    def has_checkpoints(self) -> bool:
        """Whether any training phase left something to resume from (a checkpoint, or a finished earlier phase)."""
        return self.checkpoints_dir.is_dir() and any(p.is_file() for p in self.checkpoints_dir.rglob("*"))

    def discard_incomplete_checkpoints(self) -> list[Path]:
        """Remove checkpoint folders (of every phase) that a killed run left half-written; return what was removed."""
        folders = [self.checkpoints_dir, *(p for p in self.checkpoints_dir.glob("*")
                                           if p.is_dir() and not p.name.startswith("checkpoint-"))] \
            if self.checkpoints_dir.is_dir() else []
        removed = [p for folder in folders for p in self._checkpoints(folder) if not _checkpoint_is_complete(p)]
        for path in removed:
            shutil.rmtree(path)
        return removed

    def discard_checkpoints(self) -> None:
        """Remove every Trainer checkpoint (a finished run needs only ``model/``)."""
        shutil.rmtree(self.checkpoints_dir, ignore_errors=True)

    @staticmethod
    def _checkpoints(folder: Path) -> list[Path]:
        if not folder.is_dir():
            return []
        return [p for p in folder.glob("checkpoint-*") if p.name.split("-")[-1].isdigit()]

    # -- reading -------------------------------------------------------------------------
    def recipe(self):
        """The resolved recipe this run was made with."""
        from suite.core.recipe import load_recipe

        return load_recipe(self.path / RECIPE_FILE)

    def metrics(self) -> dict:
        self.require_complete()
        return saved_files.read_json(self.path / METRICS_FILE, what="the run's metrics, written when it finished")

    def read_json(self, name: str) -> Any:
        return json.loads((self.path / name).read_text(encoding="utf-8"))

    # -- writing -------------------------------------------------------------------------
    def write_json(self, name: str, data: Any) -> Path:
        return self.write_text(name, json.dumps(data, indent=2, sort_keys=False) + "\n")

    def write_text(self, name: str, text: str) -> Path:
        """Write ``text`` atomically to ``name``, a path inside the run folder.

        Raises:
            RunError: ``name`` leads outside the run folder.
        """
        return atomic_write_text(self.inside(name), text)

    def inside(self, name: str | Path) -> Path:
        """``self.path / name``, refusing any name that leads outside the run folder (``..``, absolute paths).

        Raises:
            RunError: ``name`` leads outside the run folder.
        """
        path = self.path / name
        root = self.path.resolve()
        if path.resolve() != root and root not in path.resolve().parents:
            raise RunError(f"{name}: leads outside the run folder {self.path}")
        return path

    def write_recipe(self, recipe: Recipe) -> Path:
        text = yaml.safe_dump(recipe.to_dict(), sort_keys=False, allow_unicode=True)
        return self.write_text(RECIPE_FILE, text)

    def write_environment(self, seed: int) -> Path:
        return self.write_json(ENVIRONMENT_FILE, environment(seed))

    @contextlib.contextmanager
    def writing_model(self) -> Iterator[Path]:
        """Yield a temporary folder to save the model into; it becomes ``model/`` on success."""
        staging = self.path / "model.partial"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        yield staging
        if self.model_dir.exists():
            old = self.path / "model.old"
            shutil.rmtree(old, ignore_errors=True)
            os.replace(self.model_dir, old)
            os.replace(staging, self.model_dir)
            shutil.rmtree(old)
        else:
            os.replace(staging, self.model_dir)


def _taken(path: Path) -> str:
    """Why an ``output.name`` cannot be used, and the next step that works for the folder it names."""
    run = Run(path)
    holder = _lock_holder(path / LOCK_FILE) if (path / LOCK_FILE).exists() else None
    if holder:
        return f"run folder {path} is being trained by {holder}; choose another output.name"
    if run.is_complete:
        return f"run folder {path} already holds a finished run; choose another output.name (or: suite eval {path})"
    try:
        Run.open_to_resume(path)
    except RunError:
        return f"{path} already exists; choose another output.name"
    return f"run folder {path} already exists; choose another output.name, or continue it with: " \
           f"suite train --resume {path}"


def _lock_holder(lock: Path) -> str | None:
    """Who holds ``lock`` ("process 123 on host"), or None when its process is gone (or the file is unreadable)."""
    try:
        holder = json.loads(lock.read_text(encoding="utf-8"))
        pid, host = int(holder["pid"]), str(holder["host"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if host != platform.node():
        return f"process {pid} on {host}"        # cannot tell from here: assume it runs
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass                                      # alive, another user's
    return f"process {pid}"


def _step(checkpoint: Path) -> int:
    return int(checkpoint.name.split("-")[-1])


def _checkpoint_is_complete(checkpoint: Path) -> bool:
    try:
        state = json.loads((checkpoint / "trainer_state.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(state, dict) and state.get("global_step") == _step(checkpoint)


def atomic_write_text(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return path


def environment(seed: int) -> dict:
    """What a reader needs to reproduce or compare a run."""
    import torch

    versions = {}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return {
        "schema": SCHEMA,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "seed": seed,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
        "packages": versions,
        "git_commit": _git_commit(),
        "command": sys.argv,
    }


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True,
                             text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None
