"""The localisation corpus ``l10n-pt``: which packages it is pulled from, and where a pulled copy lives.

The list is fixed, so every machine that pulls it trains and tests on the same strings. Each
package keeps its own licence (named in the manifest); the corpus is read at run time from the
user cache and never shipped. Layout of ``$SUITE_CACHE/l10n-pt/``::

    locale/pt_BR/LC_MESSAGES/<product>.mo   one catalog per product and language (pt: European)
    locale/pt/LC_MESSAGES/<product>.mo
    help/<lang>.json                        LibreOffice help paragraphs by "file#id" (en-US, pt-BR, pt)
    help/pt_BR.tsv, help/pt.tsv             those paragraphs aligned with English: source, target, catalog
    packages/<package>.json                 what each fetched package gave (the pull resumes from these)
    manifest.json                           every package: version, licence, catalogs, pairs (written last)

See :mod:`suite.translation.pull` for how it is fetched.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from suite.core import resources
from suite.core.errors import DataError

L10N_PT = "l10n-pt"
CORPORA = (L10N_PT,)
TEST_PRODUCTS = ("glib20", "gtk20", "tar", "wget")
# the languages of the tree, and the folder names packages use for each (LibreOffice writes pt-BR)
LANGUAGE_DIRS = {"pt_BR": ("pt_BR", "pt-BR"), "pt": ("pt", "pt_PT", "pt-PT")}
HELP_SOURCE_DIR = "en-US"


@dataclass(frozen=True)
class Package:
    """One package of the corpus: its registry (``debian`` or ``pypi``), licence, and what it gives."""

    name: str
    registry: str
    licence: str
    gives: str = "catalogs"          # "catalogs", or "help" (LibreOffice help pages of one language)


_DEBIAN = [
    ("libglib2.0-data", "LGPL-2.1+"), ("libgtk2.0-common", "LGPL-2.1+"), ("tar", "GPL-3+"), ("wget", "GPL-3+"),
    ("libreoffice-l10n-pt-br", "MPL-2.0"), ("libreoffice-l10n-pt", "MPL-2.0"),
    ("util-linux-locales", "GPL-2+/LGPL-2.1+"), ("kio", "LGPL-2+"), ("cups-common", "Apache-2.0"),
    ("system-config-printer-common", "GPL-2+"), ("mc-data", "GPL-3+"), ("file-roller", "GPL-2+"),
    ("ark", "GPL-2+"), ("libgtk-3-common", "LGPL-2.1+"), ("libgtk-4-common", "LGPL-2.1+"),
]
_HELP = ["libreoffice-help-en-us", "libreoffice-help-pt-br", "libreoffice-help-pt"]
_PYPI = [("django", "BSD-3-Clause"), ("sphinx", "BSD-2-Clause"), ("wagtail", "BSD-3-Clause"),
         ("jupyterlab-language-pack-pt-br", "BSD-3-Clause")]

PACKAGES: tuple[Package, ...] = (
    *(Package(name, "debian", licence) for name, licence in _DEBIAN),
    *(Package(name, "debian", "MPL-2.0", gives="help") for name in _HELP),
    *(Package(name, "pypi", licence) for name, licence in _PYPI),
)


def folder(name: str = L10N_PT) -> Path:
    """The corpus's folder in the user cache (it may not exist yet)."""
    return resources.cache_dir() / name


def family(product: str) -> str:
    """A product's family: the leading letters of its catalog name, so ``gtk20``, ``gtk30``, ``gtk40`` and
    ``gtk20-properties`` are all ``gtk`` and ``wget-gnulib`` is ``wget``.

    Example:
        >>> family("gtk30"), family("wget-gnulib"), family("tar")
        ('gtk', 'wget', 'tar')
    """
    base = product.rsplit("/", 1)[-1].lower()
    match = re.match(r"[a-z]+", base)
    return match.group(0) if match else base


def read_manifest(name: str = L10N_PT) -> dict | None:
    """The pulled corpus's manifest, or None where it was never pulled.

    Raises:
        DataError: a manifest is there but unreadable (a half-written cache), naming the command that repairs it.
    """
    path = folder(name) / "manifest.json"
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise DataError(f"{path}: unreadable (a half-written cache); run 'suite data pull {name}' to repair it, "
                        "which keeps every package already fetched") from None


def locale_tree(name: str = L10N_PT) -> Path:
    """The pulled corpus's locale tree (``locale/<lang>/LC_MESSAGES``).

    Raises:
        DataError: not pulled yet, or the cache is half-written.
    """
    if read_manifest(name) is None:
        raise DataError(f"data.source '{name}': not pulled yet; run 'suite data pull {name}'")
    return folder(name) / "locale"


def help_pairs_file(language: str, name: str = L10N_PT) -> Path | None:
    """The aligned LibreOffice help paragraphs for ``language`` (``pt_BR`` or ``pt``), or None when not pulled."""
    path = folder(name) / "help" / f"{language}.tsv"
    return path if path.is_file() else None
