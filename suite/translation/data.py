"""Translation data: readers for every supported source, cleaning, and the split.

Orientation: every example is a :class:`Pair` ``(source, target)`` in the recipe's
source and target languages, with the catalog (product) it came from.

Sources (the recipe's ``data.source``: one, or a list merged by product, the first listed that has a
product giving it whole):

- ``l10n-pt``: the localisation corpus pulled by name into the user cache (``suite data pull l10n-pt``,
  pulled on first use; see corpus.py): the same catalogs on every machine, ``pt_BR`` and ``pt`` trees;
- ``system-locale``: the compiled gettext catalogs of this machine,
  ``/usr/share/locale/<target_language>/LC_MESSAGES/*.mo`` (tens of thousands of English
  interface strings of many programs, each under its own licence: read, never shipped); a
  bare code also reads its home region's folder (``pt``: ``pt`` and ``pt_PT``, both
  European Portuguese; ``pt_BR`` is Brazilian);
- ``django-de``: Django's German catalogs, bundled in ``datasets/django-de`` (BSD-3);
- a folder of ``.po``/``.mo`` files (those whose ``Language`` names another language are skipped) or a
  locale tree, or one catalog file;
- a ``.tsv``/``.csv``/``.jsonl`` file (optionally ``.gz``) with source and target
  columns and an optional catalog column.

Splits: ``by-catalog`` holds out whole catalogs, so test strings come from products the
model never saw; ``in-domain`` tunes on part of one catalog (plus the others) and tests
on the rest of it; ``random`` splits pairs. ``by-catalog`` also leaves the held-out products' siblings
out of training (``gtk30`` and ``gtk40`` when ``gtk20`` is tested: ``data.exclude_test_families``). In
every mode a test string whose normalised source (case, accelerator mark and spacing aside) also appears
in training is removed from test (counted), so the score is translation, not recall of a memorised
string.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

from suite.core import paths, resources
from suite.core.errors import DataError
from suite.core.inputs import Inputs
from suite.core.tables import TABLE_KINDS, iter_table
from suite.translation import corpus
from suite.translation.catalogs import (
    CATALOG_SUFFIXES,
    SYSTEM_LOCALE_DIR,
    CatalogStats,
    catalog_language,
    find_catalogs,
    iter_sources,
    read_catalog,
)
from suite.translation.checks import same_language
from suite.translation.config import SYSTEM_SOURCE, TranslationDataConfig
from suite.translation.strings import normalised


@dataclass(frozen=True)
class Pair:
    source: str
    target: str
    catalog: str
    context: str | None = None


@dataclass
class Splits:
    """Train, validation and test pairs, and what cleaning removed."""

    train: list[Pair]
    validation: list[Pair]
    test: list[Pair]
    cleaning: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)     # part -> held-out prose segments (see extra_tests.py)
    replay_sources: list[str] = field(default_factory=list)   # English the untuned model translates (replay.py)

    def summary(self) -> dict:
        return {"train": len(self.train), "validation": len(self.validation), "test": len(self.test),
                "train_catalogs": len({p.catalog for p in self.train}),
                "test_catalogs": sorted({p.catalog for p in self.test}), "general_replay": len(self.replay_sources),
                **self.cleaning}


# -- reading -------------------------------------------------------------------------------
def load_pairs(cfg: TranslationDataConfig) -> tuple[list[Pair], CatalogStats]:
    """Read every pair the recipe's sources hold, merged by product, after the catalog filters.

    With several sources, each product (catalog name) comes whole from the first source listed that has it:
    the pulled corpus before ``system-locale`` keeps the test products the same on every machine.

    Raises:
        DataError: missing source, unreadable or empty catalogs, a folder with no catalog in the target
            language, a table without the named columns, or text that is not UTF-8.
    """
    stats = CatalogStats()
    by_product: dict[str, list[Pair]] = {}
    for source in sources_of(cfg):
        for product, pairs in _read_source(source, cfg, stats).items():
            by_product.setdefault(product, pairs)
    pairs = [p for product in by_product.values() for p in product if _wanted(p.catalog, cfg)]
    if not pairs:
        raise DataError(f"data.source: {', '.join(sources_of(cfg))} holds no translated pairs after the catalog "
                        f"filters (include {cfg.include_catalogs}, exclude {cfg.exclude_catalogs})")
    return pairs, stats


def sources_of(cfg: TranslationDataConfig) -> list[str]:
    """The recipe's ``data.source`` as a list (one name or several)."""
    return [cfg.source] if isinstance(cfg.source, str) else list(cfg.source)


def _read_source(source: str, cfg: TranslationDataConfig, stats: CatalogStats) -> dict[str, list[Pair]]:
    """One source's pairs by product."""
    path = _source_path(source, cfg)
    if path.is_file() and path.suffix.lower() not in CATALOG_SUFFIXES:
        pairs = _read_table(path, cfg)
    else:
        files = {path.stem: path} if path.is_file() else _catalog_files(path, source, cfg)
        if not files:
            raise DataError(f"data.source: no .po or .mo files under {path}")
        pairs = []
        for name, file in files.items():
            if _wanted(name, cfg):
                pairs += [Pair(e.source, e.target, e.catalog, e.context) for e in read_catalog(file, stats, name=name)]
    by_product: dict[str, list[Pair]] = {}
    for pair in pairs:
        by_product.setdefault(pair.catalog, []).append(pair)
    return by_product


def _source_path(source: str, cfg: TranslationDataConfig) -> Path:
    if source == SYSTEM_SOURCE:
        folder = SYSTEM_LOCALE_DIR / cfg.target_language / "LC_MESSAGES"
        if not folder.is_dir():
            have = sorted(p.name for p in SYSTEM_LOCALE_DIR.glob("*") if (p / "LC_MESSAGES").is_dir())
            raise DataError(f"data.source: no gettext catalogs for language '{cfg.target_language}' under "
                            f"{SYSTEM_LOCALE_DIR} (languages here: {', '.join(have[:20]) or 'none'}); "
                            f"use data.source={corpus.L10N_PT}, django-de or a folder of .po files")
        return SYSTEM_LOCALE_DIR
    if source in corpus.CORPORA:
        return _pulled_tree(source)
    bundled = resources.bundled_datasets()
    if source in bundled:
        return bundled[source] / "catalogs"
    path = Path(source).expanduser()
    if not path.exists():
        raise DataError(f"data.source: no such file or folder: {path} (or use {SYSTEM_SOURCE}, {corpus.L10N_PT}, "
                        f"{', '.join(n for n in bundled if n.endswith(('-de', '-fr', '-es'))) or 'django-de'})")
    return paths.refuse_special(path, what="data.source")


def _pulled_tree(name: str) -> Path:
    """The pulled corpus's locale tree; pulled first, saying so in one line, where this machine has none yet."""
    if corpus.read_manifest(name) is None:
        from suite.translation.pull import pull

        print(f"data.source {name}: not in the cache yet, so pulling it now (suite data pull {name}; "
              "about 35 MB of packages)", file=sys.stderr)
        print(pull(name).line(), file=sys.stderr)
    return corpus.locale_tree(name)


def _catalog_files(root: Path, source: str, cfg: TranslationDataConfig) -> dict[str, Path]:
    """The catalogs under ``root`` in the target language: a locale tree's ``<lang>/LC_MESSAGES`` (for this
    machine's tree and a bare language code, the home-region folder too: ``pt`` reads ``pt`` and then ``pt_PT``
    for catalogs ``pt`` lacks); any other folder's catalogs whose ``Language`` header does not name another
    language.

    Raises:
        DataError: the folder has catalogs, but none in the target language.
    """
    language = cfg.target_language
    if (root / language / "LC_MESSAGES").is_dir():
        files = find_catalogs(root, language)
        home = f"{language}_{language.upper()}"
        if source == SYSTEM_SOURCE and "_" not in language and (root / home / "LC_MESSAGES").is_dir():
            files = {**find_catalogs(root, home), **files}
        return files
    found = find_catalogs(root, language)
    languages = {name: catalog_language(path) for name, path in found.items()}
    files = {name: path for name, path in found.items() if not languages[name]
             or same_language(languages[name], language)}
    if found and not files:
        raise DataError(f"data.source {paths.shorten(str(root), 80)}: {len(found)} catalogs, none in "
                        f"'{language}' (their languages: {', '.join(sorted(set(languages.values())))}); set "
                        "data.target_language or give a folder of that language's .po files")
    return files


def _wanted(name: str, cfg: TranslationDataConfig) -> bool:
    return any(fnmatch.fnmatch(name, p) for p in cfg.include_catalogs) and \
        not any(fnmatch.fnmatch(name, p) for p in cfg.exclude_catalogs)


def _read_table(path: Path, cfg: TranslationDataConfig) -> list[Pair]:
    pairs = []
    for _, row in iter_table(path):
        for column in (cfg.source_column, cfg.target_column):
            if column not in row:
                raise DataError(f"{path}: no column '{column}' (columns: {', '.join(row)}); set "
                                "data.source_column / data.target_column")
        catalog = row.get(cfg.catalog_column) or path.name.split(".")[0]
        pairs.append(Pair(str(row[cfg.source_column] or ""), str(row[cfg.target_column] or ""), str(catalog)))
    return pairs


# -- cleaning and splitting ----------------------------------------------------------------
def clean_pairs(pairs: list[Pair], cfg: TranslationDataConfig) -> tuple[list[Pair], dict]:
    """Strip surrounding whitespace, drop empty, too short or too long pairs and exact duplicates (too long:
    beyond the longer of ``max_chars`` and ``max_train_chars``; :func:`split_pairs` holds the test to ``max_chars``)."""
    kept, seen, counts = [], set(), {"empty_removed": 0, "length_removed": 0, "duplicates_removed": 0}
    longest = max(cfg.max_chars, cfg.max_train_chars or 0)
    for pair in pairs:
        source, target = pair.source.strip(), pair.target.strip()
        if not source or not target:
            counts["empty_removed"] += 1
        elif len(source) < cfg.min_chars or not _fits(source, target, longest):
            counts["length_removed"] += 1
        elif (source, target, pair.context) in seen:
            counts["duplicates_removed"] += 1
        else:
            seen.add((source, target, pair.context))
            kept.append(Pair(source, target, pair.catalog, pair.context))
    if not kept:
        raise DataError("data: no pairs left after cleaning (empty, or every string outside "
                        f"{cfg.min_chars}-{longest} characters)")
    return kept, counts


def split_pairs(pairs: list[Pair], cfg: TranslationDataConfig) -> Splits:
    """Split cleaned pairs as the recipe says (see the module docstring).

    Raises:
        DataError: an unknown test catalog, or a split that leaves train or test empty.
    """
    rng = random.Random(cfg.seed)
    catalogs = sorted({p.catalog for p in pairs})
    if cfg.split == "by-catalog":
        held_out = set(cfg.test_catalogs) or _pick_catalogs(pairs, catalogs, cfg.test_size, rng)
        _require_known(held_out, catalogs, "test_catalogs")
        test = [p for p in pairs if p.catalog in held_out]
        train, siblings = _without_siblings([p for p in pairs if p.catalog not in held_out], held_out, cfg)
    elif cfg.split == "in-domain":
        _require_known({cfg.in_domain_catalog}, catalogs, "in_domain_catalog")
        own = [p for p in pairs if p.catalog == cfg.in_domain_catalog]
        rng.shuffle(own)
        cut = max(1, round(len(own) * cfg.test_size))
        test, train = own[:cut], [p for p in pairs if p.catalog != cfg.in_domain_catalog] + own[cut:]
    else:
        shuffled = pairs[:]
        rng.shuffle(shuffled)
        cut = max(1, round(len(shuffled) * cfg.test_size))
        test, train = shuffled[:cut], shuffled[cut:]
    if cfg.max_train_chars is not None:      # cleaning kept the longer of the two bounds
        train = [p for p in train if _fits(p.source, p.target, cfg.max_train_chars)]
        test = [p for p in test if _fits(p.source, p.target, cfg.max_chars)]
    seen = {normalised(p.source) for p in train}
    unseen_test = [p for p in test if normalised(p.source) not in seen]
    cleaning = {"test_seen_in_train_removed": len(test) - len(unseen_test)}
    if cfg.split == "by-catalog":
        cleaning["sibling_catalogs_left_out"] = siblings
    test = _sample(unseen_test, cfg.max_test_examples, rng)
    rng.shuffle(train)
    cut = max(1, round(len(train) * cfg.validation_size))
    validation, train = train[:cut], _sample(train[cut:], cfg.max_train_examples, rng)
    if not train or not test:
        raise DataError(f"data.split: the {cfg.split} split leaves {len(train)} training and {len(test)} test "
                        "pairs; use more catalogs or another split")
    return Splits(train, validation, test, cleaning)


def _without_siblings(train: list[Pair], held_out: set[str], cfg: TranslationDataConfig) -> tuple[list[Pair], list]:
    """``train`` without the catalogs of a held-out product's family (``gtk30`` when ``gtk20`` is tested; see
    :func:`corpus.family`), where ``data.exclude_test_families`` asks; and the names left out."""
    if not cfg.exclude_test_families:
        return train, []
    families = {corpus.family(name) for name in held_out}
    siblings = sorted({p.catalog for p in train if corpus.family(p.catalog) in families})
    return [p for p in train if p.catalog not in siblings], siblings


def _fits(source: str, target: str, limit: int) -> bool:
    """Whether neither side of a pair is longer than ``limit`` characters (the one length rule)."""
    return len(source) <= limit and len(target) <= limit


def _pick_catalogs(pairs: list[Pair], catalogs: list[str], share: float, rng: random.Random) -> set[str]:
    if len(catalogs) < 2:
        raise DataError(f"data.split: by-catalog needs at least two catalogs, found {len(catalogs)}; "
                        "use split: in-domain or random")
    sizes = {c: 0 for c in catalogs}
    for pair in pairs:
        sizes[pair.catalog] += 1
    order, chosen, total = catalogs[:], set(), 0
    rng.shuffle(order)
    for name in order:
        if total >= share * len(pairs) or len(chosen) == len(catalogs) - 1:
            break
        if total + sizes[name] > 2 * share * len(pairs):
            continue  # one huge catalog would make the test set most of the data
        chosen.add(name)
        total += sizes[name]
    return chosen


def _require_known(names: set, catalogs: list[str], key: str) -> None:
    unknown = sorted(n for n in names if n not in catalogs)
    if unknown:
        raise DataError(f"data.{key}: no catalog named {', '.join(unknown)} (catalogs: {', '.join(catalogs[:30])}"
                        f"{'...' if len(catalogs) > 30 else ''})")


def _sample(pairs: list[Pair], limit: int | None, rng: random.Random) -> list[Pair]:
    return pairs if limit is None or len(pairs) <= limit else rng.sample(pairs, limit)


def with_test_data(cfg: TranslationDataConfig, splits: Splits, source: str) -> Splits:
    """``splits`` with every clean pair of ``source`` (any catalog in it) as the test set.

    Raises:
        DataError: unreadable data, or no pair left after cleaning.
    """
    other = dataclasses.replace(cfg, source=source, include_catalogs=["*"], exclude_catalogs=[])
    pairs, _ = load_pairs(other)
    return Splits(splits.train, splits.validation, clean_pairs(pairs, other)[0], splits.cleaning)


def read_sources(path: Path) -> Inputs:
    """Strings to translate (``suite predict --input``), each with its id (:mod:`suite.core.inputs`): every msgid
    of a ``.po``/``.mo`` catalog, a table's ``source`` column, or a UTF-8 text file, one string per line.

    Raises:
        DataError: a missing, special or unreadable file, or a table without a ``source`` column.
    """
    path = paths.refuse_special(Path(path), what="--input")
    if not path.is_file():
        raise DataError(f"--input: no such file: {path}")
    if path.suffix.lower() in CATALOG_SUFFIXES:
        found = list(iter_sources(path))
        return Inputs([text for _, text in found], [where for where, _ in found])
    if any(s.lower() in TABLE_KINDS for s in path.suffixes):
        sources, ids = [], []
        for number, row in iter_table(path):
            if "source" not in row:
                raise DataError(f"{path}:{number}: no column 'source' (columns: {', '.join(map(str, row))})")
            sources.append(str(row["source"] or ""))
            ids.append(f"{path}:{number}")
        return Inputs(sources, ids)
    return Inputs.lines(path)


def prepare(cfg: TranslationDataConfig) -> Splits:
    """Read, clean and split: what the domain's ``prepare_data`` returns."""
    pairs, stats = load_pairs(cfg)
    cleaned, counts = clean_pairs(pairs, cfg)
    splits = split_pairs(cleaned, cfg)
    splits.cleaning = {"catalogs_read": stats.catalogs, "fuzzy_removed": stats.fuzzy,
                       "obsolete_removed": stats.obsolete, "untranslated_removed": stats.untranslated,
                       **counts, **splits.cleaning}
    return splits
