"""gettext catalogs: read ``.po``/``.mo`` files into translation pairs, and fill a ``.po`` with machine output.

What is read from a catalog, and what is dropped (counted in :class:`CatalogStats`):

- an entry with no translation, a ``fuzzy`` one (a translator has not confirmed it)
  or an obsolete one (``#~``) is dropped;
- a message context (``msgctxt``) is kept with the pair, so "Open" the verb and
  "Open" the adjective stay apart;
- a plural entry gives two pairs when the language has two forms (singular ->
  form 0, plural -> form 1); with more forms only the singular pair is kept, because
  which form answers "n items" depends on the language's plural rule.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from suite.core import paths
from suite.core.errors import DataError, brief

CATALOG_SUFFIXES = (".po", ".mo")
SYSTEM_LOCALE_DIR = Path("/usr/share/locale")


@dataclass(frozen=True)
class CatalogEntry:
    """One translatable string of a catalog: ``source`` (msgid) -> ``target`` (msgstr)."""

    source: str
    target: str
    catalog: str
    context: str | None = None


@dataclass
class CatalogStats:
    """What reading dropped, summed over catalogs."""

    catalogs: int = 0
    read: int = 0
    untranslated: int = 0
    fuzzy: int = 0
    obsolete: int = 0
    plural_forms_skipped: int = 0
    by_catalog: dict[str, int] = field(default_factory=dict)


def open_catalog(path: Path):
    """Parse a ``.po`` or ``.mo`` file with polib, from bytes read here (polib takes a string for a path where
    it names a file, and for content otherwise: an empty file would be read as its own name).

    Raises:
        DataError: not a regular file (a FIFO would block), or not a readable catalog (naming it and the
            reason).
    """
    import polib

    paths.refuse_special(path, what="catalog")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise DataError(f"{path}: cannot be read ({error.strerror})") from None
    try:
        if path.suffix.lower() == ".mo":
            return polib.mofile(data)
        text = data.decode("utf-8-sig")
        return polib.pofile(text if "\n" in text else text + "\n", encoding="utf-8")
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: not UTF-8 text (byte {error.start}); convert it with msgconv --to-code=UTF-8") \
            from None
    except (OSError, ValueError, LookupError, TypeError, AttributeError, EOFError, struct.error) as error:
        # what polib's parsers trip on in a damaged file: its own OSError/ValueError, and, reading a .mo,
        # struct.error, IndexError, KeyError and unknown charsets (LookupError)
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise DataError(f"{path}: not a valid gettext catalog: {brief(reason, 120)}") from None


def read_catalog(path: Path, stats: CatalogStats | None = None, *, name: str | None = None) -> list[CatalogEntry]:
    """The usable (source, target) pairs of one catalog file (see the module docstring)."""
    stats = stats if stats is not None else CatalogStats()
    catalog = open_catalog(path)
    name = name or path.stem
    entries: list[CatalogEntry] = []
    for entry in catalog:
        if not entry.msgid:
            continue  # the header
        stats.read += 1
        if getattr(entry, "obsolete", False):
            stats.obsolete += 1
        elif "fuzzy" in getattr(entry, "flags", ()):
            stats.fuzzy += 1
        elif entry.msgid_plural:
            entries.extend(_plural_pairs(entry, name, stats))
        elif entry.msgstr:
            entries.append(CatalogEntry(entry.msgid, entry.msgstr, name, entry.msgctxt))
        else:
            stats.untranslated += 1
    stats.catalogs += 1
    stats.by_catalog[name] = stats.by_catalog.get(name, 0) + len(entries)
    return entries


def _plural_pairs(entry, name: str, stats: CatalogStats) -> list[CatalogEntry]:
    forms = [entry.msgstr_plural[i] for i in sorted(entry.msgstr_plural)]
    if not forms or not forms[0]:
        stats.untranslated += 1
        return []
    pairs = [CatalogEntry(entry.msgid, forms[0], name, entry.msgctxt)]
    if len(forms) == 2 and forms[1]:
        pairs.append(CatalogEntry(entry.msgid_plural, forms[1], name, entry.msgctxt))
    else:
        stats.plural_forms_skipped += 1
    return pairs


def catalog_language(path: Path) -> str:
    """The language a catalog's ``Language`` header names (empty when it names none)."""
    return (open_catalog(path).metadata.get("Language") or "").strip()


def find_catalogs(folder: Path, language: str) -> dict[str, Path]:
    """Catalog files under ``folder`` by catalog name: for a locale tree
    (``<lang>/LC_MESSAGES/*.mo``) those of ``language``, otherwise every ``.po``/``.mo``
    file below it. A name is the file's path below that root without its suffix
    (``git``, ``admin/django``)."""
    locale = folder / language / "LC_MESSAGES"
    root = locale if locale.is_dir() else folder
    files = [p for p in paths.regular_files(root, what="data.source") if p.suffix.lower() in CATALOG_SUFFIXES]
    return {str(p.relative_to(root).with_suffix("")): p for p in files}


def fill_catalog(path: Path, translate, *, output: Path) -> dict:
    """Write ``output``: the ``.po`` at ``path`` with every untranslated entry machine-translated.

    What a person wrote is never replaced: translated entries are kept as they are, and a plural
    entry that is partly translated keeps its translated forms (only its empty forms are filled).
    Machine output is flagged ``fuzzy`` so a translator reviews it; plural forms get the
    translated singular (form 0) and plural (the others).

    Args:
        path: a ``.po`` file.
        translate: ``list[str] -> list[str]``, the run's translator.
        output: where to write the filled catalog (written whole, then renamed).

    Returns:
        Counts of entries: ``{"kept": ..., "filled": ...}`` (a partly filled plural counts as filled).
    """
    catalog = open_catalog(path)
    todo = [e for e in catalog if e.msgid and not e.obsolete and not _translated(e)]
    sources = [s for e in todo for s in ([e.msgid, e.msgid_plural] if e.msgid_plural else [e.msgid])]
    outputs = iter(translate(sources)) if sources else iter(())
    for entry in todo:
        if entry.msgid_plural:
            singular, plural = next(outputs), next(outputs)
            forms = dict(entry.msgstr_plural) or {}
            for i in range(max(len(forms), 2)):
                if not forms.get(i):
                    forms[i] = singular if i == 0 else plural
            entry.msgstr_plural = forms
        else:
            entry.msgstr = next(outputs)
        if "fuzzy" not in entry.flags:
            entry.flags.append("fuzzy")
    tmp = output.with_name(output.name + ".tmp")
    catalog.save(str(tmp))
    tmp.replace(output)
    kept = sum(1 for e in catalog if e.msgid and not e.obsolete) - len(todo)
    return {"kept": kept, "filled": len(todo)}


def _translated(entry) -> bool:
    if entry.msgid_plural:
        return bool(entry.msgstr_plural) and all(entry.msgstr_plural.values())
    return bool(entry.msgstr)


def iter_sources(path: Path) -> Iterator[tuple[str, str]]:
    """(id, string) for every msgid (and msgid_plural) of a catalog, translated or not; the id is
    ``FILE:LINE`` of the entry in a ``.po``, ``FILE#N`` (the N-th entry) in a ``.mo``."""
    for number, entry in enumerate((e for e in open_catalog(path) if e.msgid), 1):
        where = f"{path}:{entry.linenum}" if getattr(entry, "linenum", None) else f"{path}#{number}"
        yield where, entry.msgid
        if entry.msgid_plural:
            yield where, entry.msgid_plural
