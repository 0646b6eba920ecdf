"""``suite data pull l10n-pt`` without the network: small .deb and wheel files built here, served by a fake fetcher.

The fetcher is the one seam: it downloads; unpacking is the real code (``dpkg-deb -x`` for a .deb,
zipfile for a wheel), so the tests cover extraction, naming, the manifest, resume and bad input.
"""

import io
import json
import shutil
import subprocess
import zipfile

import polib
import pytest

from suite.core.errors import DataError
from suite.translation import corpus
from suite.translation.corpus import Package
from suite.translation.data import TranslationDataConfig, load_pairs
from suite.translation.pull import FetchFailed, PackageMissing, SystemFetcher, pull

pytestmark = pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="builds .deb files with dpkg-deb")


def po_file(pairs, language):
    po = polib.POFile()
    po.metadata = {"Content-Type": "text/plain; charset=UTF-8", "Language": language}
    for msgid, msgstr, *context in pairs:
        po.append(polib.POEntry(msgid=msgid, msgstr=msgstr, msgctxt=context[0] if context else None))
    return po


def po_bytes(pairs, language):
    return str(po_file(pairs, language)).encode()


def mo_bytes(pairs, tmp_path, language):
    path = tmp_path / "built.mo"
    po_file(pairs, language).save_as_mofile(str(path))
    return path.read_bytes()


HELP_EN = '<html><body><p id="par_1">Click <b>OK</b> to close.</p><h2 id="hd_2">Printing</h2></body></html>'
HELP_BR = '<html><body><p id="par_1">Clique em <b>OK</b> para fechar.</p><h2 id="hd_2">Impressão</h2></body></html>'


def package_files(tmp_path):
    """What each fake package holds: path -> bytes."""
    br, pt = "usr/share/locale/pt_BR/LC_MESSAGES", "usr/share/locale/pt/LC_MESSAGES"
    lo = "usr/lib/libreoffice/program/resource/pt-BR/LC_MESSAGES"
    gtk = [("_Open", "_Abrir"), ("Print", "Imprimir")]
    return {
        "libgtk2.0-common": {f"{br}/gtk20.mo": mo_bytes(gtk, tmp_path, "pt_BR"),
                             f"{pt}/gtk20.mo": mo_bytes(gtk, tmp_path, "pt"),
                             "usr/share/locale/de/LC_MESSAGES/gtk20.mo": mo_bytes(gtk[1:], tmp_path, "de")},
        "libgtk-3-common": {f"{br}/gtk30.mo": mo_bytes([("_Save", "_Salvar")], tmp_path, "pt_BR")},
        "cups-common": {"usr/share/cups/locale/pt_BR/cups_pt_BR.po": po_bytes([("Printer", "Impressora")], "pt_BR")},
        "libreoffice-l10n-pt-br": {f"{lo}/sw.mo": mo_bytes([("Date", "Data", "FLD_DATE_STD"), ("~Save", "~Salvar")],
                                                          tmp_path, "pt_BR")},
        "libreoffice-help-en-us": {"usr/share/libreoffice/help/en-US/text/swriter/a.html": HELP_EN.encode()},
        "libreoffice-help-pt-br": {"usr/share/libreoffice/help/pt-BR/text/swriter/a.html": HELP_BR.encode()},
        "sphinx": {"sphinx/locale/pt_BR/LC_MESSAGES/sphinx.mo": mo_bytes([("Search", "Pesquisar")], tmp_path, "pt_BR"),
                   "sphinx/locale/pt_BR/LC_MESSAGES/sphinx.po": b"not read: the .mo beside it is"},
    }


PACKAGES = (Package("libgtk2.0-common", "debian", "LGPL-2.1+"), Package("libgtk-3-common", "debian", "LGPL-2.1+"),
            Package("cups-common", "debian", "Apache-2.0"),
            Package("libreoffice-l10n-pt-br", "debian", "MPL-2.0"),
            Package("libreoffice-help-en-us", "debian", "MPL-2.0", gives="help"),
            Package("libreoffice-help-pt-br", "debian", "MPL-2.0", gives="help"),
            Package("sphinx", "pypi", "BSD-2-Clause"))


class FakeRegistry:
    """Builds each package on request, as apt-get download / pip download would leave it; counts fetches."""

    def __init__(self, files, *, apt=True, unreachable=False, stop_after=None):
        self.files, self.apt, self.unreachable, self.stop_after = files, apt, unreachable, stop_after
        self.fetched = []
        self.unpack = SystemFetcher().unpack

    def can_fetch(self, registry):
        return self.apt or registry != "debian"

    def fetch(self, package, dest):
        if self.unreachable:
            raise FetchFailed("Temporary failure resolving 'deb.debian.org'")
        if self.stop_after is not None and len(self.fetched) == self.stop_after:
            raise KeyboardInterrupt                     # the user pressed Ctrl-C mid-pull
        if package.name not in self.files:
            raise PackageMissing(f"E: Unable to locate package {package.name}")
        self.fetched.append(package.name)
        return (build_deb if package.registry == "debian" else build_wheel)(package.name, self.files[package.name],
                                                                              dest)


def build_deb(name, files, dest):
    root = dest / "build"
    for path, data in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
    (root / "DEBIAN").mkdir()
    (root / "DEBIAN/control").write_text(f"Package: {name}\nVersion: 1.2-3\nArchitecture: all\nMaintainer: t <t@t>\n"
                                         "Description: test\n")
    out = dest / f"{name}_1.2-3_all.deb"
    subprocess.run(["dpkg-deb", "--build", "--root-owner-group", str(root), str(out)], check=True,
                   capture_output=True)
    shutil.rmtree(root)
    return out


def build_wheel(name, files, dest):
    out = dest / f"{name}-7.1.0-py3-none-any.whl"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as wheel:
        for path, data in files.items():
            wheel.writestr(path, data)
    out.write_bytes(buffer.getvalue())
    return out


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SUITE_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / corpus.L10N_PT


def test_pull_files_one_catalog_per_product_and_language_with_a_manifest(tmp_path, cache):
    summary = pull(fetcher=FakeRegistry(package_files(tmp_path)), packages=PACKAGES)
    tree = cache / "locale"
    assert sorted(p.name for p in (tree / "pt_BR/LC_MESSAGES").iterdir()) == \
        ["cups.po", "gtk20.mo", "gtk30.mo", "libreoffice-sw.mo", "sphinx.mo"]
    assert [p.name for p in (tree / "pt/LC_MESSAGES").iterdir()] == ["gtk20.mo"]
    assert not (tree / "de").exists()                      # only the corpus's languages
    manifest = json.loads((cache / "manifest.json").read_text())
    rows = {(r["language"], r["catalog"]): r for r in manifest["catalogs"]}
    assert rows[("pt_BR", "libreoffice-sw")] == {"package": "libreoffice-l10n-pt-br", "registry": "debian",
                                                 "version": "1.2-3", "licence": "MPL-2.0", "language": "pt_BR",
                                                 "catalog": "libreoffice-sw", "pairs": 2}
    assert rows[("pt_BR", "sphinx")]["version"] == "7.1.0"
    assert manifest["languages"]["pt_BR"] == {"catalogs": 5, "pairs": 7, "help_paragraphs": 2}
    help_rows = (cache / "help/pt_BR.tsv").read_text().splitlines()
    assert help_rows[1:] == ["Click OK to close.\tClique em OK para fechar.\thelp-swriter",
                             "Printing\tImpressão\thelp-swriter"]
    assert summary.fetched == [p.name for p in PACKAGES] and summary.bytes > 0
    # LibreOffice's context keys come through with each pair
    pairs, _ = load_pairs(TranslationDataConfig(source=corpus.L10N_PT, target_language="pt_BR"))
    assert ("Date", "Data", "libreoffice-sw", "FLD_DATE_STD") in {(p.source, p.target, p.catalog, p.context)
                                                                  for p in pairs}


def test_pulling_again_fetches_nothing_and_an_interrupted_pull_resumes(tmp_path, cache):
    files = package_files(tmp_path)
    interrupted = FakeRegistry(files, stop_after=2)
    with pytest.raises(KeyboardInterrupt):
        pull(fetcher=interrupted, packages=PACKAGES)
    assert not (cache / "manifest.json").exists()          # not complete, so not readable as a corpus
    resumed = FakeRegistry(files)
    pull(fetcher=resumed, packages=PACKAGES)
    assert resumed.fetched == [p.name for p in PACKAGES[2:]]  # the two finished packages were kept
    manifest = (cache / "manifest.json").stat().st_mtime_ns
    again = FakeRegistry(files)
    summary = pull(fetcher=again, packages=PACKAGES)
    assert again.fetched == [] and "already pulled" in summary.line()
    assert (cache / "manifest.json").stat().st_mtime_ns == manifest        # a no-op writes nothing
    (cache / "locale/pt_BR/LC_MESSAGES/gtk30.mo").write_bytes(b"cut sho")   # a damaged file: that package again
    repaired = FakeRegistry(files)
    pull(fetcher=repaired, packages=PACKAGES)
    assert repaired.fetched == ["libgtk-3-common"]


def test_a_missing_package_is_named_and_the_rest_comes(tmp_path, cache, capsys):
    files = package_files(tmp_path)
    del files["libgtk-3-common"]
    summary = pull(fetcher=FakeRegistry(files), packages=PACKAGES)
    assert "has no package 'libgtk-3-common'" in capsys.readouterr().err
    assert summary.missing == ["libgtk-3-common"] and "libgtk-3-common" in summary.line()
    assert json.loads((cache / "manifest.json").read_text())["missing"] == ["libgtk-3-common"]
    assert (cache / "locale/pt_BR/LC_MESSAGES/gtk20.mo").is_file()


def test_without_apt_get_one_line_says_so_and_the_pypi_part_comes(tmp_path, cache, capsys):
    summary = pull(fetcher=FakeRegistry(package_files(tmp_path), apt=False), packages=PACKAGES)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("apt-get not found") and "system-locale" in err[0]
    assert summary.fetched == ["sphinx"] and len(summary.skipped) == 6
    assert [p.name for p in (cache / "locale/pt_BR/LC_MESSAGES").iterdir()] == ["sphinx.mo"]


def test_no_network_is_one_line_and_the_cache_stays_as_it_was(tmp_path, cache):
    pull(fetcher=FakeRegistry(package_files(tmp_path)), packages=PACKAGES)
    before = (cache / "manifest.json").read_bytes()
    with pytest.raises(DataError, match="no package could be fetched .*Temporary failure"):
        pull(fetcher=FakeRegistry({}, unreachable=True), packages=PACKAGES, force=True)
    assert (cache / "manifest.json").read_bytes() == before
    assert (cache / "locale/pt_BR/LC_MESSAGES/gtk20.mo").is_file()


def test_a_half_written_manifest_is_one_line_naming_the_repair(tmp_path, cache):
    pull(fetcher=FakeRegistry(package_files(tmp_path)), packages=PACKAGES)
    (cache / "manifest.json").write_text('{"corpus": "l10n-')
    with pytest.raises(DataError, match="half-written cache.*suite data pull l10n-pt"):
        load_pairs(TranslationDataConfig(source=corpus.L10N_PT, target_language="pt_BR"))
    repair = FakeRegistry(package_files(tmp_path))
    pull(fetcher=repair, packages=PACKAGES)                  # what the line says to run: nothing fetched again
    assert repair.fetched == [] and corpus.read_manifest()["languages"]["pt_BR"]["catalogs"] == 5
