"""Several processes, one run folder: what the pipeline needs to know under ``torchrun`` / ``accelerate launch``.

Every process runs the same pipeline. The launcher tells each one its place through
the environment (``RANK``, ``WORLD_SIZE``, ``LOCAL_WORLD_SIZE``, ``LOCAL_RANK``). The
main process (rank 0) creates the run folder and shares its name with the others;
every process trains (the Trainer runs DDP, FSDP or DeepSpeed as the launcher set it
up); then the other processes stop with :class:`WorkerFinished`. The main process
alone evaluates and writes the model, ``metrics.json``, the card and the plots.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from suite.core import errors


class WorkerFinished(BaseException):
    """Raised on a process other than the main one once training ends.

    From then on only the main process works (evaluation, model, metrics), so the
    domain's code after training must not run here. It derives from ``BaseException``
    so that no ``except Exception`` on the way swallows it; the pipeline catches it.
    """


def rank() -> int:
    """This process's global rank (0 when not launched by torchrun / accelerate)."""
    return int(os.environ.get("RANK", "0"))


def world_size() -> int:
    """How many processes train together (1 when not launched by torchrun / accelerate)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def local_world_size() -> int:
    """How many of them run on this machine."""
    return int(os.environ.get("LOCAL_WORLD_SIZE", "1"))


def is_main_process() -> bool:
    """Whether this process writes the run folder (rank 0, or the only process)."""
    return rank() == 0


def default_threads() -> int | None:
    """Torch threads per process when the recipe sets none: the machine's cores shared among
    the processes on it, or None (torch's own default) for a single process."""
    if local_world_size() <= 1:
        return None
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, cores // local_world_size())


def init(*, cpu: bool) -> None:
    """Join the launcher's process group (gloo on the CPU, NCCL on GPUs); nothing for one process.

    The Trainer finds the group already made and uses it.
    """
    import torch
    import torch.distributed as dist

    if world_size() <= 1 or dist.is_initialized():
        return
    if not cpu and torch.cuda.is_available():
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group(backend="nccl")
    else:
        dist.init_process_group(backend="gloo")


def on_main_then_share(make: Callable[[], Any]) -> Any:
    """Call ``make()`` on the main process only and return its result on every process.

    A :class:`~suite.core.errors.SuiteError` raised by ``make`` on the main process is
    raised again, with the same message, on every process.
    """
    if world_size() <= 1:
        return make()
    import torch.distributed as dist

    outcome: list[Any] = [None]
    failure = None
    if is_main_process():
        try:
            outcome[0] = ("ok", make())
        except Exception as error:  # noqa: BLE001 - the other processes must hear of any failure, not hang
            failure = error
            kind = type(error).__name__ if isinstance(error, errors.SuiteError) else "RunError"
            outcome[0] = ("error", kind, str(error))
    dist.broadcast_object_list(outcome, src=0)
    if failure is not None:
        raise failure
    if outcome[0][0] == "error":
        raise getattr(errors, outcome[0][1], errors.SuiteError)(outcome[0][2])
    return outcome[0][1]


def leave() -> None:
    """Leave the process group (a process other than the main one, when its part is done)."""
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()
