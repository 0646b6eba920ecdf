"""The one place a recipe becomes a transformers ``Trainer`` run.

:func:`train` takes the domain's :class:`~suite.core.registry.Model` and
:class:`~suite.core.registry.TrainingInputs` and configures everything else once, from the
recipe's ``train`` section: the optimiser (always built here, so every ``train.*`` key applies
in every domain), resume, gradient accumulation, length-grouped batches, early stopping on the
domain's selection metric, checkpoints (with the LoRA adapters' own weights beside them),
the best checkpoint restored at the end, progress bar and logs (CSV and TensorBoard).
"""

from __future__ import annotations

import csv
import dataclasses
import math
import resource
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from transformers import TrainerCallback

from suite.core import adapters, distributed
from suite.core.errors import RecipeError, RunError
from suite.core.optim import parameter_groups
from suite.core.registry import Model, TrainingInputs
from suite.core.runs import Run

if TYPE_CHECKING:
    from suite.core.recipe import Recipe

ADAPTER_STATE_FILE = "adapter_state.safetensors"
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
    # measured: torch's FlopCounterMode over a few training batches (forward and backward), per sample,
    # times the samples trained; None where it could not be counted
    flops_per_sample: float | None = None
    training_flops: float | None = None
    # the weights training started from were kept: they scored at least as well on validation as the best
    # checkpoint (only where the start is a candidate: fine-tuning that continues a fitted head)
    kept_start: bool = False

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


def training_arguments(recipe: Recipe, run: Run, inputs: TrainingInputs, *, metric: str, greater_is_better: bool,
                       phase: str | None = None):
    """``TrainingArguments`` (or ``inputs.args_class``) from the recipe's ``train`` section.

    Args:
        recipe: the validated recipe; its ``train`` section and ``seed`` are used.
        run: the run folder; checkpoints go to ``run.checkpoints_for(phase)``.
        inputs: the domain's training inputs (arguments class and extra arguments); without an
            ``eval_dataset`` nothing is evaluated and the last weights are kept.
        metric, greater_is_better: the validation value that picks the best checkpoint.
        phase: a training phase before the main one (``contrastive``), with checkpoints of its own.
    """
    import torch
    from transformers import TrainingArguments

    t = recipe.train
    check_batch_fits(t, inputs.train_dataset)
    max_steps = _max_steps(t, inputs.train_dataset)
    every = t.evaluate_every
    if every == "epoch" and t.max_steps <= 0 and max_steps > 0:
        # train.min_steps stretched a small data set over many more epochs: evaluate (and checkpoint) as often as
        # the recipe's epochs would have, not after every one of them
        every = math.ceil(max_steps / max(math.ceil(t.epochs), 1))
    per_epoch = every == "epoch"
    on_gpu = torch.cuda.is_available() and not t.use_cpu
    # accelerate runs several processes on the CPU (gloo) only when told the CPU is meant
    use_cpu = t.use_cpu or (distributed.world_size() > 1 and not torch.cuda.is_available())
    precision = t.precision if t.precision != "auto" else (
        "bf16" if on_gpu and torch.cuda.is_bf16_supported() else "fp32")
    grouped = t.group_by_length and _has_lengths(inputs.train_dataset) and not _own_batches(inputs.args_class)
    evaluates = inputs.eval_dataset is not None
    values = dict(
        output_dir=str(run.checkpoints_for(phase)),
        num_train_epochs=t.epochs, max_steps=max_steps,
        per_device_train_batch_size=t.batch_size, per_device_eval_batch_size=t.eval_batch_size,
        gradient_accumulation_steps=t.gradient_accumulation_steps,
        learning_rate=t.learning_rate, weight_decay=t.weight_decay, warmup_steps=t.warmup_ratio,
        lr_scheduler_type=t.lr_scheduler, max_grad_norm=t.max_grad_norm,
        eval_strategy=("epoch" if per_epoch else "steps") if evaluates else "no",
        save_strategy="epoch" if per_epoch else "steps",
        eval_steps=None if per_epoch or not evaluates else every, save_steps=None if per_epoch else every,
        save_total_limit=t.save_total_limit, load_best_model_at_end=evaluates,
        metric_for_best_model=metric if evaluates else None, greater_is_better=greater_is_better if evaluates else None,
        logging_strategy="steps", logging_steps=t.logging_steps, logging_first_step=True,
        train_sampling_strategy="group_by_length" if grouped else "random",
        seed=recipe.seed, data_seed=recipe.seed, use_cpu=use_cpu,
        bf16=precision == "bf16", fp16=precision == "fp16",
        dataloader_num_workers=t.num_workers, dataloader_pin_memory=on_gpu, report_to="none", disable_tqdm=False,
        save_only_model=False,
    )
    values.update(inputs.arguments)
    return (inputs.args_class or TrainingArguments)(**values)


def check_batch_fits(train: Any, dataset: Any) -> None:
    """Refuse an optimiser step larger than the training data: it would take one or two steps in all and learn
    nothing (65,536 accumulated batches on 140 examples: F1 0.00, and no word about why). ``dataset`` is the
    training data, or its size (the pipeline asks before the model loads, where the domain can count it).

    Raises:
        RecipeError: one line naming the keys.
    """
    try:
        examples = dataset if isinstance(dataset, int) else len(dataset)
    except TypeError:
        return                          # a stream: its size is not known
    step = train.batch_size * train.gradient_accumulation_steps * max(distributed.world_size(), 1)
    if train.gradient_accumulation_steps > 1 and step > examples:
        raise RecipeError(f"train.gradient_accumulation_steps: {train.gradient_accumulation_steps} x "
                          f"train.batch_size {train.batch_size} = {step:,} examples per optimiser step, more than the "
                          f"{examples:,} training examples; lower train.gradient_accumulation_steps")


def _max_steps(train: Any, dataset: Any) -> int:
    """``train.max_steps``, or ``train.min_steps`` where ``train.epochs`` over ``dataset`` would take fewer steps."""
    if train.max_steps > 0 or not train.min_steps:
        return train.max_steps
    per_epoch = math.ceil(len(dataset) / (train.batch_size * train.gradient_accumulation_steps *
                                          max(distributed.world_size(), 1)))
    return train.min_steps if math.ceil(train.epochs * per_epoch) < train.min_steps else -1


def _has_lengths(dataset: Any) -> bool:
    """Whether examples have a length to group by (a ``length`` column, or token ids)."""
    names = getattr(dataset, "column_names", None) or []
    return "length" in names or "input_ids" in names


def _own_batches(args_class: type | None) -> bool:
    """Whether the trainer of ``args_class`` builds batches with its own sampler (sentence-transformers'
    ``batch_sampler``), so that ``train_sampling_strategy`` (length grouping) would be ignored."""
    return args_class is not None and "batch_sampler" in {f.name for f in dataclasses.fields(args_class)}


def optimizer(args: Any, model: Model, recipe: Recipe) -> tuple[type, dict]:
    """``optimizer_cls_and_kwargs`` for the Trainer: the optimiser ``args.optim`` names, over the parameter
    groups of :func:`suite.core.optim.parameter_groups` (the domain's learning-rate scales times
    ``train.backbone_lr_scale`` outside the model's head, one no-decay rule)."""
    from transformers import Trainer

    cls, kwargs = Trainer.get_optimizer_cls_and_kwargs(args, model.network)
    groups = parameter_groups(model.network, learning_rate=recipe.train.learning_rate,
                              weight_decay=recipe.train.weight_decay,
                              lr_scale=learning_rate_scale(model, recipe.train.backbone_lr_scale))
    return cls, {**kwargs, "params": groups}


def learning_rate_scale(model: Model, backbone_lr_scale: float):
    """Parameter name -> multiplier of ``train.learning_rate``: the domain's own scale, times
    ``backbone_lr_scale`` for every parameter outside ``model.head`` (a new head learns at the full rate)."""
    own = model.lr_scale or (lambda name: 1.0)
    if backbone_lr_scale == 1.0 or not model.head:
        return own
    return lambda name: own(name) * (1.0 if adapters.in_modules(name, model.head) else backbone_lr_scale)


def train(*, recipe: Recipe, run: Run, model: Model, inputs: TrainingInputs, primary_metric: str,
          greater_is_better: bool, resume: bool = False, phase: str | None = None,
          start_is_candidate: bool = False) -> TrainingResult:
    """Train ``model.network`` as the recipe says and leave the best weights loaded in it.

    Args:
        recipe: the validated recipe.
        run: the run folder (checkpoints, logs).
        model: the domain's model (network, processing class, learning-rate scales).
        inputs: the domain's datasets, collator, metrics and trainer choice.
        primary_metric, greater_is_better: the domain's headline metric, used to pick the best
            checkpoint unless ``inputs.selection_metric`` names another.
        resume: continue from the newest complete checkpoint of the phase.
        phase: a training phase before the main one (``contrastive``): its own checkpoints, logs and
            learning-curve plot, named after it.
        start_is_candidate: the weights before the first step compete with the checkpoints on validation (a
            head already fitted: ``lp-ft``); where none of them beats the start, the start is kept.

    Returns:
        A :class:`TrainingResult` with the trainer and the measured figures.

    Raises:
        RunError: a second training in one process under ``torchrun`` (the other processes have
            left after the first one).
        WorkerFinished: on a process other than the main one, once training ends; only the main
            process goes on to evaluate and save (the pipeline catches it).
    """
    global _trained_with_others
    if _trained_with_others:
        raise RunError("under torchrun / accelerate launch a run trains one model and this process already "
                       f"trained one; finish it in one process with: suite train --resume {run.path}")
    metric = inputs.selection_metric or primary_metric
    better = greater_is_better if inputs.selection_greater_is_better is None else inputs.selection_greater_is_better
    args = training_arguments(recipe, run, inputs, metric=metric, greater_is_better=better, phase=phase)
    trainer = _trainer(recipe, run, model, inputs, args, phase=phase)
    checkpoint = _resume_checkpoint(run, model, phase) if resume else None
    start = time.perf_counter()
    initial = _StartCandidate(trainer, model, run, metric) if start_is_candidate and inputs.eval_dataset is not None \
        else None
    output = trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    seconds = time.perf_counter() - start
    _restore_best_adapters(model, trainer)
    kept_start = initial.keep_if_better(better) if initial is not None else False
    _full_precision(model.network)
    per_sample = (measure_flops_per_sample(trainer, model.network,
                                           batches=flop_count_batches(trainer.state.global_step))
                  if trainer.is_world_process_zero() else None)
    if distributed.world_size() > 1:
        _trained_with_others = True
        if not trainer.is_world_process_zero():
            distributed.leave()
            raise distributed.WorkerFinished()
    if trainer.is_world_process_zero():
        from suite.core import plots

        suffix = f"-{phase}" if phase else ""
        run.write_json(f"logs/log_history{suffix}.json", trainer.state.log_history)
        plots.learning_curves(trainer.state.log_history, run.plots_dir / f"learning_curves{suffix}.png", metric=metric)
    trainable, total = count_parameters(model.network)
    return TrainingResult(
        trainer=trainer, train_seconds=round(seconds, 2),
        train_samples_per_second=round(output.metrics.get("train_samples_per_second", math.nan), 3),
        steps=trainer.state.global_step, epochs=round(trainer.state.epoch or 0.0, 3),
        trainable_parameters=trainable, total_parameters=total, peak_rss_mb=peak_rss_mb(),
        best_checkpoint=None if kept_start else _relative(trainer.state.best_model_checkpoint, run),
        kept_start=kept_start,
        resumed_from=_relative(str(checkpoint) if checkpoint else None, run),
        total_flos=float(trainer.state.total_flos) or None, processes=trainer.args.world_size,
        flops_per_sample=per_sample, training_flops=per_sample * samples_trained(trainer) if per_sample else None)


class _StartCandidate:
    """The weights before fine-tuning, scored on validation, kept aside (on the CPU) until training has picked its
    best checkpoint; restored where they score at least as well. Scored again on a resumed run (the
    weights it starts from are the same: the strategy's earlier phases are repeated or reloaded first)."""

    def __init__(self, trainer: Any, model: Model, run: Run, metric: str):
        self.trainer, self.model, self.metric = trainer, model, metric
        self.value = trainer.evaluate(metric_key_prefix="eval").get(f"eval_{metric}")
        self.state = {k: v.detach().to("cpu", copy=True) for k, v in model.network.state_dict().items()}
        self.adapters = {k: v.detach().to("cpu", copy=True) for k, v in adapters.adapter_state(model.network).items()} \
            if adapters.has_lora(model.network) else None
        run.write_json("logs/start_evaluation.json", {"metric": metric, "value": self.value})

    def keep_if_better(self, greater_is_better: bool) -> bool:
        best = self.trainer.state.best_metric
        if self.value is None or best is None:
            return False
        if (self.value < best) if greater_is_better else (self.value > best):
            return False
        self.model.network.load_state_dict(self.state)
        if self.adapters is not None:
            adapters.load_adapter_state(self.model.network, self.adapters)
        return True


def _full_precision(network: Any) -> None:
    """Weights a mixed-precision run left in bf16/fp16 go back to float32: the model is saved and used
    for inference (often on a CPU) in full precision."""
    import torch

    if any(p.dtype in (torch.bfloat16, torch.float16) for p in network.parameters()):
        network.float()


def flop_count_batches(steps: int) -> int:
    """Batches to count FLOPs on: three, but at most one per 20 optimiser steps (at least one), so that
    counting (a forward and backward each, slower under the counter) stays a few percent of a short run."""
    return max(1, min(3, steps // 20))


def measure_flops_per_sample(trainer: Any, network: Any, *, batches: int = 3) -> float | None:
    """Floating-point operations of one training example (forward and backward), counted by torch's
    ``FlopCounterMode`` over ``batches`` training batches from the middle of each third (for 3) of an epoch (None
    where they cannot be counted): not the first ones, as a length-grouped sampler puts the longest batch first.

    The network is counted in eval mode, so that batch-norm statistics and dropout's random stream stay as
    training left them, under a forked random state (augmentations draw from it); the gradients are dropped
    afterwards. Counted, not estimated: convolutions, attention and the backward pass included, padding as the
    batches really have it.
    """
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    was_training = network.training
    network.eval()
    flops, samples, counted = 0, 0, 0
    try:
        with torch.random.fork_rng(devices=[]):
            loader = trainer.get_train_dataloader()
            every = max(1, len(loader) // batches)
            for index, batch in enumerate(loader):
                if index % every != every // 2:
                    continue
                batch = {k: v.to(trainer.args.device) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}
                with FlopCounterMode(display=False, custom_mapping=_flop_formulas()) as counter:
                    trainer.compute_loss(network, batch).backward()
                flops, samples = flops + counter.get_total_flops(), samples + _examples_in(trainer, index)
                counted += 1
                if counted == batches:
                    break
    except Exception:  # noqa: BLE001 - a figure for the report; training already succeeded
        return None
    finally:
        network.zero_grad(set_to_none=True)
        network.train(was_training)
    return flops / samples if samples and flops else None


def _grouped_conv_backward_flop(grad_out_shape, x_shape, w_shape, bias, stride, padding, dilation, transposed,
                                output_padding, groups, output_mask, out_shape, **kwargs) -> int:
    """torch's FLOPs of a convolution's backward, with the weight gradient's share divided by ``groups``: torch's
    formula leaves the groups out of that share, so a depthwise convolution's weight gradient was counted once per
    channel (an EfficientNet's backward came to 41 times its forward instead of about twice)."""
    from torch.utils.flop_counter import conv_backward_flop

    def count(mask):
        return conv_backward_flop(grad_out_shape, x_shape, w_shape, bias, stride, padding, dilation, transposed,
                                  output_padding, groups, mask, out_val=out_shape, **kwargs)

    total = count(output_mask)
    if groups > 1 and output_mask[1]:
        weight_gradient = count([False, True, False])
        total -= weight_gradient - weight_gradient // groups
    return total


def _flop_formulas() -> dict:
    import torch

    return {torch.ops.aten.convolution_backward: _grouped_conv_backward_flop}


def _examples_in(trainer: Any, index: int) -> int:
    """Examples in training batch ``index`` of an epoch: the batch size, or what the data set leaves for a short
    last batch. Taken from the data set, never from a tensor of the batch: a batch may carry other per-row lists
    first (a recommender's flattened items of every user)."""
    size = trainer.args.per_device_train_batch_size
    try:
        return max(1, min(size, len(trainer.train_dataset) - index * size))
    except TypeError:                  # a data set without a length
        return size


def samples_trained(trainer: Any) -> int:
    """Examples the optimiser steps consumed (every process together)."""
    args = trainer.args
    return trainer.state.global_step * args.per_device_train_batch_size * args.gradient_accumulation_steps * \
        args.world_size


def _trainer(recipe: Recipe, run: Run, model: Model, inputs: TrainingInputs, args: Any, *, phase: str | None):
    from transformers import EarlyStoppingCallback, ProgressCallback, Trainer

    callbacks = [CsvLogCallback(run, phase)]
    if recipe.train.early_stopping_patience is not None and inputs.eval_dataset is not None:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=recipe.train.early_stopping_patience))
    if adapters.has_lora(model.network):
        callbacks.append(AdapterCheckpointCallback(model.network))
    trainer = (inputs.trainer_class or Trainer)(
        model=model.network, args=args, train_dataset=inputs.train_dataset, eval_dataset=inputs.eval_dataset,
        data_collator=inputs.data_collator, processing_class=model.processing_class,
        compute_metrics=inputs.compute_metrics, callbacks=callbacks,
        optimizer_cls_and_kwargs=optimizer(args, model, recipe), **inputs.trainer_kwargs)
    trainer.remove_callback(ProgressCallback)       # it prints every log dict; one bar is enough
    if trainer.is_world_process_zero():
        trainer.add_callback(_tensorboard_callback(run, phase))
        trainer.add_callback(ProgressBarCallback(args.metric_for_best_model, phase))
    return trainer


def _resume_checkpoint(run: Run, model: Model, phase: str | None) -> Path | None:
    """The newest complete checkpoint; with LoRA, its adapters are loaded into the model here (the
    trainer restores the base weights, the optimiser and the step itself)."""
    required = (ADAPTER_STATE_FILE,) if adapters.has_lora(model.network) else ()
    checkpoint = run.last_checkpoint(required=required, phase=phase)
    if checkpoint is not None and required:
        _load_adapters(model.network, checkpoint)
    return checkpoint


def _restore_best_adapters(model: Model, trainer: Any) -> None:
    """The trainer reloaded the best checkpoint's base weights; put its adapters back too."""
    best = trainer.state.best_model_checkpoint
    if adapters.has_lora(model.network) and best and (Path(best) / ADAPTER_STATE_FILE).is_file():
        _load_adapters(model.network, Path(best))


def _load_adapters(network: Any, checkpoint: Path) -> None:
    from safetensors.torch import load_file

    adapters.load_adapter_state(network, load_file(str(checkpoint / ADAPTER_STATE_FILE)))


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


def _tensorboard_callback(run: Run, phase: str | None):
    from torch.utils.tensorboard import SummaryWriter
    from transformers.integrations import TensorBoardCallback

    folder = run.logs_dir / "tensorboard" / (phase or "")
    return TensorBoardCallback(tb_writer=SummaryWriter(log_dir=str(folder)))


class AdapterCheckpointCallback(TrainerCallback):
    """Write the LoRA adapters' weights into each checkpoint the trainer saves (see :mod:`suite.core.adapters`:
    the model's own state dict carries only its base weights)."""

    def __init__(self, network: Any):
        self.network = network

    def on_save(self, args, state, control, **kwargs):
        if not state.is_world_process_zero:
            return
        from safetensors.torch import save_file

        folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
        if folder.is_dir():
            save_file(adapters.adapter_state(self.network), str(folder / ADAPTER_STATE_FILE))


class ProgressBarCallback(TrainerCallback):
    """One progress bar for training, on stderr, with the last loss and validation metric beside it."""

    def __init__(self, metric: str | None, phase: str | None = None):
        self.bar = None
        self.shown: dict[str, str] = {}
        self.keys = ("loss", f"eval_{metric}") if metric else ("loss",)
        self.description = f"training ({phase})" if phase else "training"

    def on_train_begin(self, args, state, control, **kwargs):
        from tqdm.auto import tqdm

        self.bar = tqdm(total=state.max_steps, initial=state.global_step, desc=self.description, unit="step",
                        dynamic_ncols=True)

    def on_step_end(self, args, state, control, **kwargs):
        if self.bar is not None:
            self.bar.update(state.global_step - self.bar.n)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if self.bar is None or not logs:
            return
        for key in self.keys:
            if isinstance(logs.get(key), float):
                self.shown[key.removeprefix("eval_")] = f"{logs[key]:.4g}"
        self.bar.set_postfix(self.shown, refresh=False)

    def on_train_end(self, args, state, control, **kwargs):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class CsvLogCallback(TrainerCallback):
    """Append every logged value to ``logs/metrics.csv`` (``logs/metrics-<phase>.csv`` for an earlier phase) as
    ``step,epoch,name,value`` rows.

    The long format survives a crash (each row is flushed) and a resume (rows append).
    """

    def __init__(self, run: Run, phase: str | None = None):
        self.path = run.logs_dir / (f"metrics-{phase}.csv" if phase else "metrics.csv")

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
