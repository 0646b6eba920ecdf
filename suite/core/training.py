"""The one place a recipe becomes a transformers ``Trainer`` run.

Every domain that trains a network calls :func:`train` with its model, datasets and
metric function; resume, gradient accumulation, length-grouped batches, early stopping
on the domain's primary metric, checkpoints, progress bar and logs (CSV and
TensorBoard) are configured here once, from the recipe's ``train`` section.
"""

from __future__ import annotations

import csv
import math
import resource
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from transformers import TrainerCallback

from suite.core import distributed
from suite.core.errors import RunError
from suite.core.runs import Run

_trained_with_others = False     # a multi-process training already ran in this process


@dataclass
class TrainingResult:
    """What a training run measured; stored under ``training`` in metrics.json."""

    trainer: Any = field(repr=False)
    train_seconds: float
    train_samples_per_second: float
    steps: int
    epochs: float
    trainable_parameters: int
    total_parameters: int
    peak_rss_mb: float
    best_checkpoint: str | None
    resumed_from: str | None
    # trainer.state.total_flos; None where the Trainer counts none (its estimate needs a
    # transformers PreTrainedModel: sentence-transformers and timm models report none)
    total_flos: float | None = None
    processes: int = 1            # processes that trained together (the Trainer's world size)

    def summary(self) -> dict:
        """JSON-ready figures (everything but the trainer)."""
        return {k: v for k, v in self.__dict__.items() if k != "trainer"}


def apply_threads(train: Any) -> int:
    """Set torch's CPU threads as the recipe's ``train.threads`` says; return the count in effect.

    ``null`` keeps torch's default in a single process; under ``torchrun`` it gives each
    process the machine's cores divided by the processes on it, so that they do not
    oversubscribe the cores (two processes of two threads on two cores run several
    times slower than of one).
    """
    import torch

    threads = train.threads or distributed.default_threads()
    if threads:
        torch.set_num_threads(threads)
    return torch.get_num_threads()


def training_arguments(recipe: Any, run: Run, *, primary_metric: str, greater_is_better: bool,
                       args_class: type | None = None, **extra: Any):
    """Build ``TrainingArguments`` (or ``args_class``, e.g. Seq2SeqTrainingArguments) from a recipe.

    Args:
        recipe: the validated recipe; its ``train`` section and ``seed`` are used.
        run: the run folder; checkpoints go to ``run.checkpoints_dir``.
        primary_metric: the metric (as returned by ``compute_metrics``) that picks the
            best checkpoint and drives early stopping.
        greater_is_better: direction of ``primary_metric``.
        args_class: a ``TrainingArguments`` subclass; default ``TrainingArguments``.
        **extra: further arguments for ``args_class`` (e.g. ``predict_with_generate``).
    """
    import torch
    from transformers import TrainingArguments

    t = recipe.train
    per_epoch = t.evaluate_every == "epoch"
    on_gpu = torch.cuda.is_available() and not t.use_cpu
    # accelerate runs several processes on the CPU (gloo) only when told the CPU is meant
    use_cpu = t.use_cpu or (distributed.world_size() > 1 and not torch.cuda.is_available())
    precision = t.precision if t.precision != "auto" else (
        "bf16" if on_gpu and torch.cuda.is_bf16_supported() else "fp32")
    values = dict(
        output_dir=str(run.checkpoints_dir),
        num_train_epochs=t.epochs, max_steps=t.max_steps,
        per_device_train_batch_size=t.batch_size, per_device_eval_batch_size=t.eval_batch_size,
        gradient_accumulation_steps=t.gradient_accumulation_steps,
        learning_rate=t.learning_rate, weight_decay=t.weight_decay, warmup_steps=t.warmup_ratio,
        lr_scheduler_type=t.lr_scheduler, max_grad_norm=t.max_grad_norm,
        eval_strategy="epoch" if per_epoch else "steps", save_strategy="epoch" if per_epoch else "steps",
        eval_steps=None if per_epoch else t.evaluate_every, save_steps=None if per_epoch else t.evaluate_every,
        save_total_limit=t.save_total_limit, load_best_model_at_end=True,
        metric_for_best_model=primary_metric, greater_is_better=greater_is_better,
        logging_strategy="steps", logging_steps=t.logging_steps, logging_first_step=True,
        train_sampling_strategy="group_by_length" if t.group_by_length and not _own_batches(args_class) else "random",
        seed=recipe.seed, data_seed=recipe.seed, use_cpu=use_cpu,
        bf16=precision == "bf16", fp16=precision == "fp16",
        dataloader_num_workers=t.num_workers, dataloader_pin_memory=on_gpu, report_to="none", disable_tqdm=False,
        save_only_model=False,
    )
    values.update(extra)
    return (args_class or TrainingArguments)(**values)


def _own_batches(args_class: type | None) -> bool:
    """Whether the trainer of ``args_class`` builds batches with its own sampler (sentence-transformers'
    ``batch_sampler``), so that ``train_sampling_strategy`` (length grouping) would be ignored."""
    import dataclasses

    return args_class is not None and "batch_sampler" in {f.name for f in dataclasses.fields(args_class)}


def train(*, recipe: Any, run: Run, model: Any, train_dataset: Any, eval_dataset: Any,
          compute_metrics: Callable | None, primary_metric: str, greater_is_better: bool,
          data_collator: Callable | None = None, processing_class: Any = None,
          trainer_class: type | None = None, args: Any = None, resume: bool = False,
          **trainer_kwargs: Any) -> TrainingResult:
    """Train ``model`` as the recipe says and leave the best weights loaded in it.

    Args:
        recipe: the validated recipe.
        run: the run folder (checkpoints, logs).
        model: a ``torch.nn.Module`` whose forward returns a loss when given labels.
        train_dataset, eval_dataset: datasets the collator understands; a ``length``
            column (tokens per example) makes length grouping cheap.
        compute_metrics: ``EvalPrediction -> dict``; must include ``primary_metric``.
        primary_metric, greater_is_better: the domain's headline metric.
        data_collator: pads batches dynamically (default: the Trainer's).
        processing_class: tokenizer or image processor, saved with checkpoints.
        trainer_class: ``Trainer`` (default), ``Seq2SeqTrainer``, ``SentenceTransformerTrainer``...
        args: ready ``TrainingArguments``; default :func:`training_arguments` of the recipe.
        resume: continue from the newest checkpoint in ``run.checkpoints_dir``.
        **trainer_kwargs: passed on to the trainer (e.g. ``loss`` for sentence-transformers).

    Returns:
        A :class:`TrainingResult` with the trainer and the measured figures.

    Raises:
        RunError: a second training in one process under ``torchrun`` (the other
            processes have left after the first one).
        WorkerFinished: on a process other than the main one, once training ends; only
            the main process goes on to evaluate and save (the pipeline catches it).
    """
    from transformers import EarlyStoppingCallback, Trainer

    global _trained_with_others
    if _trained_with_others:
        raise RunError("under torchrun / accelerate launch a run trains one model, and this recipe trains more "
                       "(e.g. diagnostics evaluation.sample_efficiency); finish it in one process with: "
                       f"suite train --resume {run.path}")

    args = args or training_arguments(recipe, run, primary_metric=primary_metric,
                                      greater_is_better=greater_is_better)
    callbacks = [CsvLogCallback(run)]
    if recipe.train.early_stopping_patience is not None:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=recipe.train.early_stopping_patience))
    trainer = (trainer_class or Trainer)(
        model=model, args=args, train_dataset=train_dataset, eval_dataset=eval_dataset,
        data_collator=data_collator, processing_class=processing_class, compute_metrics=compute_metrics,
        callbacks=callbacks, **trainer_kwargs)
    if trainer.is_world_process_zero():
        trainer.add_callback(_tensorboard_callback(run))
    checkpoint = run.last_checkpoint() if resume else None
    start = time.perf_counter()
    output = trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    seconds = time.perf_counter() - start
    if distributed.world_size() > 1:
        _trained_with_others = True
        if not trainer.is_world_process_zero():
            distributed.leave()
            raise distributed.WorkerFinished()
    if trainer.is_world_process_zero():
        from suite.core import plots

        run.write_json("logs/log_history.json", trainer.state.log_history)
        plots.learning_curves(trainer.state.log_history, run.plots_dir / "learning_curves.png",
                              metric=primary_metric)
    trainable, total = count_parameters(model)
    return TrainingResult(
        trainer=trainer, train_seconds=round(seconds, 2),
        train_samples_per_second=round(output.metrics.get("train_samples_per_second", math.nan), 3),
        steps=trainer.state.global_step, epochs=round(trainer.state.epoch or 0.0, 3),
        trainable_parameters=trainable, total_parameters=total, peak_rss_mb=peak_rss_mb(),
        best_checkpoint=_relative(trainer.state.best_model_checkpoint, run),
        resumed_from=_relative(str(checkpoint) if checkpoint else None, run),
        total_flos=float(trainer.state.total_flos) or None, processes=trainer.args.world_size)


def count_parameters(model: Any) -> tuple[int, int]:
    """(trainable, total) parameter counts."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return trainable, sum(p.numel() for p in model.parameters())


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _relative(path: str | None, run: Run) -> str | None:
    if not path:
        return None
    try:
        return str(Path(path).resolve().relative_to(run.path.resolve()))
    except ValueError:
        return path


def _tensorboard_callback(run: Run):
    from torch.utils.tensorboard import SummaryWriter
    from transformers.integrations import TensorBoardCallback

    return TensorBoardCallback(tb_writer=SummaryWriter(log_dir=str(run.logs_dir / "tensorboard")))


class CsvLogCallback(TrainerCallback):
    """Append every logged value to ``logs/metrics.csv`` as ``step,epoch,name,value`` rows.

    The long format survives a crash (each row is flushed) and a resume (rows append).
    """

    def __init__(self, run: Run):
        self.path = run.logs_dir / "metrics.csv"

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        new = not self.path.exists()
        with open(self.path, "a", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            if new:
                writer.writerow(["step", "epoch", "name", "value"])
            for name, value in logs.items():
                if isinstance(value, (int, float)):
                    writer.writerow([state.global_step, round(state.epoch or 0.0, 4), name, value])
