"""LibreOffice help pages: longer prose of the same domain, aligned paragraph by paragraph with English.

Each help package holds ``usr/share/libreoffice/help/<lang>/text/<module>/**.html``; every
paragraph or heading carries an ``id`` that is the same in every language. :func:`extract`
keeps each language's paragraphs as ``{"<file>#<id>": text}``; :func:`write_aligned` pairs
English with a translation on that key (a TSV of source, target, catalog ``help-<module>``),
leaving out paragraphs that are empty, or identical on both sides (commands, file names).
"""

from __future__ import annotations

import json
import os
from html.parser import HTMLParser
from pathlib import Path

from suite.core.tables import write_tsv

_BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "td"}


class _Paragraphs(HTMLParser):
    """The text of every block element with an ``id``, tags inside it dropped."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: dict[str, str] = {}
        self._open: list[tuple[str, str, list[str]]] = []     # (tag, id, text pieces)

    def handle_starttag(self, tag, attrs):
        ident = dict(attrs).get("id")
        if tag in _BLOCKS and ident:
            self._open.append((tag, ident, []))

    def handle_endtag(self, tag):
        if self._open and self._open[-1][0] == tag:
            _, ident, pieces = self._open.pop()
            text = " ".join("".join(pieces).split())
            if text:
                self.found[ident] = text
            if self._open:
                self._open[-1][2].append(text)

    def handle_data(self, data):
        if self._open:
            self._open[-1][2].append(data)


def extract(unpacked: Path, pages: Path) -> list[Path]:
    """Write ``pages/<lang>.json`` for each help language under ``unpacked``; return the files written."""
    written = []
    for language_dir in sorted(unpacked.glob("usr/share/libreoffice/help/*/text")):
        paragraphs = {}
        for page in sorted(language_dir.rglob("*.html")):
            parser = _Paragraphs()
            parser.feed(page.read_text(encoding="utf-8", errors="replace"))
            name = page.relative_to(language_dir).as_posix()
            paragraphs.update({f"{name}#{ident}": text for ident, text in parser.found.items()})
        pages.mkdir(parents=True, exist_ok=True)
        out = pages / f"{language_dir.parent.name}.json"     # the help folder's own name: en-US, pt-BR, pt
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(json.dumps(paragraphs, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, out)
        written.append(out)
    return written


def write_aligned(english: Path, other: Path, out: Path) -> int:
    """Pair the paragraphs of ``english`` and ``other`` (both from :func:`extract`) by key; return how many."""
    source, target = (json.loads(p.read_text(encoding="utf-8")) for p in (english, other))
    rows = [(text, target[key], "help-" + key.split("/", 1)[0]) for key, text in source.items()
            if key in target and target[key] != text]
    write_tsv(out, ["source", "target", "catalog"], rows)
    return len(rows)
