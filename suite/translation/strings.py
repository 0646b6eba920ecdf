"""Software strings: placeholders that must survive translation, and restoring a cased surface.

Placeholders are the parts of an interface string a program fills in at run time:
printf (``%s``, ``%d``, ``%-*s``, ``%1$s``, ``%%``), Python named (``%(name)s``), brace
(``{0}``, ``{name}``, ``{count:>3}``) and Qt (``%1``). A translation that drops, adds
or alters one breaks the program, so :func:`placeholders` is what both the metric and
the masking use. Masking replaces each with a sentinel token (``⟦0⟧``) that a
word-piece tokenizer never splits; :func:`unmask` puts the originals back and reports
when the model's output does not hold exactly the sentinels it was given. A broken
output is counted and shown by the metrics, never silently repaired.

:class:`SurfaceRestorer` exists for uncased tokenizers (the bundled MiniLM lowercases
and strips accents): it learns, from the training targets, the usual cased and
accented spelling of each word and where punctuation takes a space, and applies that
to the model's lowercase output.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

from suite.core import saved_files
from suite.core.errors import RunError

PLACEHOLDER = re.compile(
    r"%%"                                                     # a literal percent in a format string
    r"|%\([A-Za-z_][A-Za-z0-9_.]*\)[-+ #0]*\d*(?:\.\d+)?[a-zA-Z]"   # %(name)s
    r"|%(?:\d+\$)?[-+#0']*(?:\d+|\*)?(?:\.(?:\d+|\*))?(?:hh|ll|[hlLqjzt])?[diouxXeEfFgGaAcspn]"  # printf
    r"|%[1-9](?![0-9A-Za-z])"                                 # Qt %1
    r"|\{[A-Za-z0-9_]*(?:\.[A-Za-z_]\w*)*(?:![rsa])?(?::[^{}\s]*)?\}"  # str.format {0} {name!r:>3}
)
SENTINEL = "⟦{}⟧"
ACCELERATOR_MARKS = "_&~"        # GTK, Qt and KDE, LibreOffice
_SENTINEL = re.compile(r"⟦(\d+)⟧")


def placeholders(text: str) -> list[str]:
    """The placeholders in ``text``, in order (``%%`` counts: it must survive too)."""
    return PLACEHOLDER.findall(text)


def placeholders_kept(source: str, output: str) -> bool:
    """Whether ``output`` holds exactly the source's placeholders (as a multiset; order may change)."""
    return Counter(placeholders(source)) == Counter(placeholders(output))


def accelerator(text: str) -> str | None:
    """The keyboard-accelerator marker of an interface string (GTK ``_Open``, ``E_xit``; Qt and KDE ``&File``;
    LibreOffice ``~Save``), or None.

    A string has one when it holds its marker exactly once, before a letter or digit, at the
    start of a word or inside a capitalised one: an identifier such as ``use_ssl`` or
    ``unmount_with_operation`` has none.

    Example:
        >>> accelerator("Save _As…"), accelerator("Aj_uda"), accelerator("use_ssl"), accelerator("~Salvar")
        ('_', '_', None, '~')
    """
    return _accelerator_at(text)[0]


def accelerator_kept(source: str, output: str) -> bool | None:
    """Whether ``output`` has the keyboard accelerator of ``source`` (None: the source has none).

    Example:
        >>> accelerator_kept("_Open", "_Abrir"), accelerator_kept("_Open", "Abrir"), accelerator_kept("Open", "Abrir")
        (True, False, None)
    """
    marker = accelerator(source)
    return None if marker is None else accelerator(output) == marker


def _accelerator_at(text: str) -> tuple[str | None, int]:
    for marker in ACCELERATOR_MARKS:
        if text.count(marker) != 1:
            continue
        at = text.index(marker)
        word_start = len(text[:at]) - len(text[:at].split()[-1]) if text[:at] and not text[at - 1].isspace() else at
        if re.match(r"[^\W_]", text[at + 1:at + 2]) and (word_start == at or text[word_start].isupper()):
            return marker, at
    return None, -1


def normalised(text: str) -> str:
    """``text`` as the test-in-training check compares it: accelerator mark out, case folded, spacing collapsed
    (``~Save As`` = ``Save _as`` = ``save as``)."""
    return " ".join(strip_accelerator(text)[0].casefold().split())


def strip_accelerator(text: str) -> tuple[str, str | None, int]:
    """``text`` without its accelerator marker, the marker (None: it had none) and the index of its word.

    Example:
        >>> strip_accelerator("Create in _folder:")
        ('Create in folder:', '_', 2)
    """
    marker, at = _accelerator_at(text)
    if marker is None:
        return text, None, 0
    return text[:at] + text[at + 1:], marker, len(text[:at + 1].split()) - 1


def put_accelerator(text: str, marker: str | None, word: int) -> str:
    """``text`` with ``marker`` before the first letter of its ``word``-th word (or its last word): where a
    translator most often puts it. Unchanged without a marker, or when ``text`` has one already.

    Example:
        >>> put_accelerator("Criar na pasta:", "_", 2)
        'Criar na _pasta:'
    """
    if marker is None or accelerator(text) is not None:
        return text
    words = [w for w in re.finditer(r"\S+", text) if re.search(r"[^\W_]", w.group(0))]
    if not words:
        return text
    chosen = words[min(word, len(words) - 1)]
    at = chosen.start() + re.search(r"[^\W_]", chosen.group(0)).start()
    return text[:at] + marker + text[at:]


def mask(text: str, pattern: re.Pattern = PLACEHOLDER) -> tuple[str, list[str]]:
    """Replace each placeholder (each match of ``pattern``) by a numbered sentinel; return the text and the
    originals. ``pattern`` may add what else must pass through untouched (see masking.py)."""
    found: list[str] = []

    def swap(match: re.Match) -> str:
        found.append(match.group(0))
        return f" {SENTINEL.format(len(found) - 1)} "

    return re.sub(r" {2,}", " ", pattern.sub(swap, text)).strip(), found


def mask_like(target: str, originals: list[str], pattern: re.Pattern = PLACEHOLDER) -> str:
    """Mask ``target``'s placeholders with the sentinels its source got (same placeholder, same
    sentinel); a placeholder the source lacks stays as text."""
    unused = list(enumerate(originals))

    def swap(match: re.Match) -> str:
        for position, (index, original) in enumerate(unused):
            if original == match.group(0):
                del unused[position]
                return f" {SENTINEL.format(index)} "
        return match.group(0)

    return re.sub(r" {2,}", " ", pattern.sub(swap, target)).strip()


def unmask(text: str, originals: list[str], *, source: str | None = None, pattern: re.Pattern = PLACEHOLDER) -> str:
    """Put placeholders back for their sentinels. A sentinel the source did not have is left as is.

    Args:
        text: model output holding sentinels (``⟦0⟧``).
        originals: the placeholders :func:`mask` took out, in order.
        source: the unmasked source; where a placeholder touches punctuation there without a
            space (``“%s”``, ``%d%%``, ``(%s)``, ``%s:``), the space that :func:`mask` put
            between them is taken out of the output again. A space between a placeholder and a
            word is always kept, so a placeholder the translation moved stays readable.
        pattern: what :func:`mask` matched in ``source``.

    Example:
        >>> unmask("Arquivo ( ⟦0⟧ ) :", ["%s"], source="File (%s):")
        'Arquivo (%s) :'
    """
    if source is not None:
        text = _glue_like_source(text, source, pattern)

    def swap(match: re.Match) -> str:
        index = int(match.group(1))
        return originals[index] if index < len(originals) else match.group(0)

    return _SENTINEL.sub(swap, text)


def _glue_like_source(text: str, source: str, pattern: re.Pattern) -> str:
    """Remove the space between sentinel ``i`` and its neighbour on each side where what it stands for has no
    space on that side in ``source``: a placeholder's neighbour must be punctuation, a masked character's
    (a quote, see masking.py) may be anything."""
    for index, match in enumerate(pattern.finditer(source)):
        sentinel = re.escape(SENTINEL.format(index))
        neighbour = r"[^\w\s]" if PLACEHOLDER.fullmatch(match.group(0)) else r"\S"
        if match.start() > 0 and not source[match.start() - 1].isspace():
            text = re.sub(rf"(?<={neighbour}) ({sentinel})", r"\1", text)
        if match.end() < len(source) and not source[match.end()].isspace():
            text = re.sub(rf"({sentinel}) (?={neighbour})", r"\1", text)
    return text


def sentinel_tokens(count: int) -> list[str]:
    """The sentinel strings a tokenizer must keep whole: ``⟦0⟧`` ... ``⟦count-1⟧``."""
    return [SENTINEL.format(i) for i in range(count)]


def _is_mark(token: str) -> bool:
    return len(token) == 1 and _PUNCT.match(token) is not None


def fold(word: str) -> str:
    """Lowercase without accents: what an uncased tokenizer keeps of a word."""
    decomposed = unicodedata.normalize("NFD", word.lower())
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


_WORD = re.compile(r"\w+")
_PUNCT = re.compile(r"[^\w\s⟦⟧]")


class SurfaceRestorer:
    """Restore case, accents and punctuation spacing of uncased model output.

    Fitted on the training targets only: each folded word maps to its most frequent
    spelling there ("offnen" -> "öffnen", "datei" -> "Datei"; sentence-initial spellings
    count only for words never seen elsewhere), and each punctuation
    mark keeps a space before/after it only if it usually has one. The first letter is
    capitalised when the source's is.

    Example:
        >>> r = SurfaceRestorer.fit(["Datei öffnen", "Öffnen Sie die Datei: %s"])
        >>> r.restore("datei offnen :", source="Open file:")
        'Datei öffnen:'
    """

    def __init__(self, spellings: dict[str, str], space_before: dict[str, bool], space_after: dict[str, bool]):
        self.spellings, self.space_before, self.space_after = spellings, space_before, space_after

    @classmethod
    def fit(cls, targets: Iterable[str]) -> SurfaceRestorer:
        """Learn spellings and punctuation spacing from reference translations."""
        counts: dict[str, Counter] = defaultdict(Counter)
        initial: dict[str, Counter] = defaultdict(Counter)   # sentence-initial: capitalised either way
        before, after, seen = Counter(), Counter(), Counter()
        for text in targets:
            for match in _WORD.finditer(text):
                (counts if match.start() else initial)[fold(match.group(0))][match.group(0)] += 1
            for match in _PUNCT.finditer(text):
                mark, start, end = match.group(0), match.start(), match.end()
                seen[mark] += 1
                before[mark] += start > 0 and text[start - 1] == " "
                after[mark] += end < len(text) and text[end] == " "
        counts = {**initial, **counts}
        spellings = {key: words.most_common(1)[0][0] for key, words in counts.items()}
        return cls(spellings, {m: before[m] * 2 > seen[m] for m in seen}, {m: after[m] * 2 > seen[m] for m in seen})

    def restore(self, text: str, *, source: str = "") -> str:
        """The cased, accented, properly spaced form of ``text``."""
        tokens = [_WORD.sub(lambda m: self.spellings.get(m.group(0), m.group(0)), token) for token in text.split()]
        pieces: list[str] = []
        for previous, token in zip([None] + tokens, tokens):
            glued = previous is not None and (
                (_is_mark(token) and not self.space_before.get(token, True))
                or (_is_mark(previous) and not self.space_after.get(previous, True)))
            pieces.append(token if glued or previous is None else " " + token)
        text = "".join(pieces)
        if source[:1].isupper() and text[:1].islower():
            text = text[:1].upper() + text[1:]
        return text

    def save(self, path: Path) -> None:
        path.write_text(json.dumps({"spellings": self.spellings, "space_before": self.space_before,
                                    "space_after": self.space_after}, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> SurfaceRestorer:
        """Read what :meth:`save` wrote.

        Raises:
            RunError: the file is damaged (named).
        """
        expected = "the surface restorer the model was saved with (spellings, space_before, space_after)"
        values = saved_files.read_json(path, what=expected)
        if not all(isinstance(values.get(key), dict) for key in ("spellings", "space_before", "space_after")):
            raise RunError(f"{path}: damaged; expected {expected}")
        return cls(values["spellings"], values["space_before"], values["space_after"])
