"""What a source goes through before the model sees it, and what its translation goes through after.

:meth:`Masker.prepare` takes a source apart and :meth:`Prepared.finish` puts the model's output
back together: surrounding whitespace is carried over; a keyboard accelerator (``_Open``) is
taken out and put back before the word in the same position (``_Abrir``), since a tuned model
that sees one tends to copy the string (identifiers have underscores too); placeholders and
characters the tokenizer cannot encode are masked and restored.

Placeholders (``%s``, ``{0}``...) are always masked (see :mod:`suite.translation.strings`).
A tokenizer without some characters turns them into ``<unk>``, which no decoder can give
back: the Firefox Translations vocabulary has no typographic quotes, ``<``, ``{``, ``#``,
`````, ``\\`` or ``@``, and GNOME's strings write ``“%s”`` everywhere. :class:`Masker` masks
each such character standing outside a word like a placeholder, so it passes through: the
model places its sentinel, constrained decoding keeps it, and unmasking restores it with
the source's spacing. A character inside a word (the apostrophe of ``doesn’t``) is left
to the tokenizer, and a string that would need more sentinels than the model has masks its
placeholders only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from suite.translation import strings

MAX_SENTINELS = 8          # placeholders per string that get their own sentinel token


@dataclass(frozen=True)
class Prepared:
    """One source as the model gets it, and what :meth:`finish` needs to restore the output."""

    model_input: str
    originals: list[str]            # what the sentinels stand for, in order
    pattern: re.Pattern             # what masking matched
    source: str                     # the source without surrounding whitespace and accelerator
    marker: str | None = None       # the accelerator taken out
    word: int = 0                   # the index of the word it marked
    lead: str = ""
    trail: str = ""

    def finish(self, output: str, *, masked: bool) -> str:
        """The translation as the user gets it: placeholders, accelerator and whitespace back."""
        text = strings.unmask(output, self.originals, source=self.source, pattern=self.pattern) if masked else output
        return self.lead + strings.put_accelerator(text.strip(), self.marker, self.word) + self.trail


class Masker:
    """Masks a model's inputs and targets (placeholders, and characters ``tokenizer`` lacks).

    Args:
        tokenizer: the model's tokenizer (None: placeholders only).
        limit: sentinels the tokenizer holds; a string needing more masks placeholders only.
        placeholders: mask placeholders at all (``model.mask_placeholders``).
        accelerators: take keyboard accelerators out (``model.strip_accelerators``).

    Example:
        >>> masker = Masker(tokenizer, limit=8)
        >>> masked, originals, pattern = masker.mask("Open “%s”")
        >>> masked, originals
        ('Open ⟦0⟧ ⟦1⟧ ⟦2⟧', ['“', '%s', '”'])
    """

    def __init__(self, tokenizer: Any = None, *, limit: int, placeholders: bool = True, accelerators: bool = False):
        self.tokenizer, self.limit = tokenizer, limit
        self.placeholders, self.accelerators = placeholders, accelerators
        self._known: dict[str, bool] = {}

    def prepare(self, text: str, prefix: str = "") -> Prepared:
        """``text`` ready for the model (``prefix`` put before it), and how to restore the output."""
        core = text.strip()
        core, marker, word = strings.strip_accelerator(core) if self.accelerators else (core, None, 0)
        masked, originals, pattern = self.mask(core) if self.placeholders else (core, [], strings.PLACEHOLDER)
        return Prepared(prefix + masked, originals, pattern, core, marker, word, text[:len(text) - len(text.lstrip())],
                        text[len(text.rstrip()):])

    def prepare_pair(self, source: str, target: str, prefix: str = "") -> tuple[str, str]:
        """A training pair as the model learns it: the target masked like its source, its accelerator out."""
        prepared = self.prepare(source, prefix)
        if prepared.marker is not None:
            target = strings.strip_accelerator(target)[0]
        if self.placeholders:
            target = strings.mask_like(target, prepared.originals, prepared.pattern)
        return prepared.model_input, target

    def mask(self, text: str) -> tuple[str, list[str], re.Pattern]:
        """``text`` with sentinels, the originals they stand for, and the pattern that found them
        (:func:`strings.mask_like` and :func:`strings.unmask` take the same pattern)."""
        pattern = self.pattern(text)
        masked, originals = strings.mask(text, pattern)
        if len(originals) > self.limit and pattern is not strings.PLACEHOLDER:
            pattern = strings.PLACEHOLDER
            masked, originals = strings.mask(text, pattern)
        return masked, originals, pattern

    def pattern(self, text: str) -> re.Pattern:
        """Placeholders, plus the characters of ``text`` the tokenizer cannot encode, outside words."""
        missing = "".join(sorted(c for c in set(text) if not c.isalnum() and not c.isspace() and not self._knows(c)))
        return _pattern(missing) if missing else strings.PLACEHOLDER

    def _knows(self, character: str) -> bool:
        if self.tokenizer is None:
            return True
        if character not in self._known:
            ids = self.tokenizer(character, add_special_tokens=False)["input_ids"]
            self._known[character] = self.tokenizer.unk_token_id not in ids
        return self._known[character]


@lru_cache(maxsize=256)
def _pattern(characters: str) -> re.Pattern:
    """Placeholders first (``{0}`` stays one placeholder), then any of ``characters`` not inside a word."""
    marks = re.escape(characters)
    return re.compile(f"{strings.PLACEHOLDER.pattern}|(?<!\\w)[{marks}]|[{marks}](?!\\w)")
