"""Catalog reading (plurals, contexts, fuzzy, obsolete), cleaning, the splits, and bad input."""

import polib
import pytest

from suite.core.errors import DataError
from suite.translation.catalogs import CatalogStats, fill_catalog, read_catalog
from suite.translation.data import TranslationDataConfig, clean_pairs, load_pairs, prepare, split_pairs


def write_po(path, entries, *, nplurals=2):
    """A .po file of (msgid, msgstr, extra kwargs) entries."""
    po = polib.POFile()
    po.metadata = {"Content-Type": "text/plain; charset=UTF-8", "Language": "de",
                   "Plural-Forms": f"nplurals={nplurals}; plural=(n != 1);"}
    for msgid, msgstr, extra in entries:
        po.append(polib.POEntry(msgid=msgid, msgstr=msgstr, **extra))
    path.parent.mkdir(parents=True, exist_ok=True)
    po.save(str(path))
    return path


def sample_entries(prefix=""):
    return [
        (f"{prefix}Open file", f"{prefix}Datei öffnen", {}),
        (f"{prefix}Open", f"{prefix}Öffnen", {"msgctxt": "verb"}),
        (f"{prefix}Open", f"{prefix}Offen", {"msgctxt": "adjective"}),
        (f"{prefix}Copy %s to %s", f"{prefix}Kopiere %s nach %s", {}),
        (f"{prefix}Not reviewed", f"{prefix}Nicht geprüft", {"flags": ["fuzzy"]}),
        (f"{prefix}Untranslated", "", {}),
        (f"{prefix}%(count)d file", "", {"msgid_plural": f"{prefix}%(count)d files",
                                          "msgstr_plural": {0: f"{prefix}%(count)d Datei",
                                                            1: f"{prefix}%(count)d Dateien"}}),
    ]


def test_po_and_mo_read_the_same_pairs_with_contexts_and_plurals(tmp_path):
    po = write_po(tmp_path / "app.po", sample_entries())
    polib.pofile(str(po)).save_as_mofile(str(tmp_path / "app.mo"))
    stats = CatalogStats()
    from_po = read_catalog(po, stats)
    from_mo = read_catalog(tmp_path / "app.mo")
    assert sorted((e.source, e.target, e.context) for e in from_po) == sorted(
        (e.source, e.target, e.context) for e in from_mo)
    pairs = {(e.source, e.context): e.target for e in from_po}
    assert pairs[("Open", "verb")] == "Öffnen" and pairs[("Open", "adjective")] == "Offen"
    assert pairs[("%(count)d file", None)] == "%(count)d Datei"
    assert pairs[("%(count)d files", None)] == "%(count)d Dateien"
    assert ("Not reviewed", None) not in pairs and ("Untranslated", None) not in pairs
    assert (stats.fuzzy, stats.untranslated) == (1, 1)


def test_obsolete_entries_are_dropped(tmp_path):
    path = tmp_path / "old.po"
    write_po(path, [("Save", "Speichern", {})])
    path.write_text(path.read_text(encoding="utf-8") + '\n#~ msgid "Gone"\n#~ msgstr "Weg"\n', encoding="utf-8")
    stats = CatalogStats()
    assert [e.source for e in read_catalog(path, stats)] == ["Save"]
    assert stats.obsolete == 1


def test_three_plural_forms_keep_only_the_singular(tmp_path):
    plurals = {0: "%d plik", 1: "%d pliki", 2: "%d plików"}
    entries = [("%d file", "", {"msgid_plural": "%d files", "msgstr_plural": plurals})]
    stats = CatalogStats()
    assert [(e.source, e.target) for e in read_catalog(write_po(tmp_path / "pl.po", entries, nplurals=3), stats)] \
        == [("%d file", "%d plik")]
    assert stats.plural_forms_skipped == 1


PRODUCTS = ["anki", "bash", "cups", "dpkg"]     # four products of four families (see corpus.family)


def catalogs_folder(tmp_path, count=4):
    for i in range(count):
        write_po(tmp_path / "cats" / f"{PRODUCTS[i]}.po",
                 [(f"Message {j} of app {i}", f"Nachricht {j} von App {i}", {}) for j in range(30)] +
                 [("Shared string", "Geteilter Text" if i == count - 1 else "Gemeinsamer Text", {})])
    return tmp_path / "cats"


def test_by_catalog_split_never_tests_on_a_training_catalog_or_string(tmp_path):
    cfg = TranslationDataConfig(source=str(catalogs_folder(tmp_path)), target_language="de", test_catalogs=["dpkg"],
                                validation_size=0.1)
    splits = prepare(cfg)
    assert {p.catalog for p in splits.test} == {"dpkg"}
    assert "dpkg" not in {p.catalog for p in splits.train + splits.validation}
    train_sources = {p.source.casefold() for p in splits.train + splits.validation}
    assert not any(p.source.casefold() in train_sources for p in splits.test)
    assert splits.cleaning["test_seen_in_train_removed"] == 1          # dpkg's own "Shared string"
    assert splits.cleaning["duplicates_removed"] == 2                  # exact copies in bash, cups


def test_longer_training_pairs_leave_the_test_set_as_it_was(tmp_path):
    folder = catalogs_folder(tmp_path)
    for i in range(4):        # one long string per catalog: the test catalog's must stay out of the test set
        po = polib.pofile(str(folder / f"{PRODUCTS[i]}.po"))
        po.append(polib.POEntry(msgid=f"A rather long message of app {i}, longer than the limit",
                                msgstr=f"Eine ziemlich lange Nachricht von App {i}, länger als die Grenze"))
        po.save()
    base = {"source": str(folder), "target_language": "de", "test_catalogs": ["dpkg"], "validation_size": 0.1,
            "max_chars": 40}
    short, longer = prepare(TranslationDataConfig(**base)), prepare(TranslationDataConfig(**base, max_train_chars=80))
    assert [(p.source, p.target) for p in longer.test] == [(p.source, p.target) for p in short.test]
    assert all(len(p.source) <= 40 for p in longer.test)
    assert {p.source for p in longer.train + longer.validation} - {p.source for p in short.train + short.validation} \
        == {f"A rather long message of app {i}, longer than the limit" for i in range(3)}


def test_in_domain_split_tests_on_held_out_strings_of_one_catalog(tmp_path):
    cfg = TranslationDataConfig(source=str(catalogs_folder(tmp_path)), target_language="de", split="in-domain",
                                in_domain_catalog="bash", test_size=0.3)
    splits = prepare(cfg)
    assert {p.catalog for p in splits.test} == {"bash"}
    assert 5 <= len(splits.test) <= 10
    assert any(p.catalog == "bash" for p in splits.train)
    assert not {p.source for p in splits.test} & {p.source for p in splits.train}


def test_tables_are_read_with_named_columns(tmp_path):
    table = tmp_path / "pairs.tsv"
    table.write_text("en\tde\nOpen\tÖffnen\nClose\tSchließen\n", encoding="utf-8")
    pairs, _ = load_pairs(TranslationDataConfig(source=str(table), source_column="en", target_column="de"))
    assert [(p.source, p.target, p.catalog) for p in pairs] == [("Open", "Öffnen", "pairs"),
                                                                 ("Close", "Schließen", "pairs")]


def test_cleaning_strips_and_drops_empty_long_and_duplicate_pairs(tmp_path):
    from suite.translation.data import Pair
    cfg = TranslationDataConfig(max_chars=20)
    pairs = [Pair("  Save ", " Speichern ", "a"), Pair("Save", "Speichern", "b"), Pair("x" * 30, "y", "a"),
             Pair("Empty", "  ", "a")]
    kept, counts = clean_pairs(pairs, cfg)
    assert [(p.source, p.target) for p in kept] == [("Save", "Speichern")]
    assert counts == {"empty_removed": 1, "length_removed": 1, "duplicates_removed": 1}


def test_fill_catalog_keeps_translations_and_marks_machine_output_fuzzy(tmp_path):
    po = write_po(tmp_path / "app.po", [("Save", "Speichern", {}), ("Close", "", {}),
                                        ("%d file", "", {"msgid_plural": "%d files", "msgstr_plural": {0: "", 1: ""}})])
    counts = fill_catalog(po, lambda texts: [t.upper() for t in texts], output=tmp_path / "out.po")
    assert counts == {"kept": 1, "filled": 2}
    out = {e.msgid: e for e in polib.pofile(str(tmp_path / "out.po"))}
    assert out["Save"].msgstr == "Speichern" and "fuzzy" not in out["Save"].flags
    assert out["Close"].msgstr == "CLOSE" and "fuzzy" in out["Close"].flags
    assert out["%d file"].msgstr_plural == {0: "%D FILE", 1: "%D FILES"}


@pytest.mark.parametrize("case, message", [
    ("malformed", "not a valid gettext catalog"),
    ("empty", "holds no translated pairs"),
    ("latin1", "not UTF-8"),
    ("missing", "no such file or folder"),
    ("unknown test catalog", "no catalog named nope"),
])
def test_bad_catalogs_give_one_clear_line(tmp_path, case, message):
    folder = tmp_path / "cats"
    folder.mkdir()
    if case == "malformed":
        (folder / "bad.po").write_text('msgid "Open"\nmsgstr "Öffnen"\ngarbage line\n', encoding="utf-8")
    elif case == "empty":
        write_po(folder / "empty.po", [("Untranslated", "", {})])
    elif case == "latin1":
        (folder / "latin.po").write_bytes('msgid "Caf\xe9"\nmsgstr "Caf\xe9"\n'.encode("latin-1"))
    source = str(tmp_path / "none") if case == "missing" else str(folder)
    if case == "unknown test catalog":
        source = str(catalogs_folder(tmp_path))
    with pytest.raises(DataError, match=message) as error:
        prepare(TranslationDataConfig(source=source, target_language="de",
                                      test_catalogs=["nope"] if case == "unknown test catalog" else []))
    assert "\n" not in str(error.value)


def test_unknown_language_code_is_rejected_by_the_recipe():
    from suite.core.errors import RecipeError
    from suite.core.recipe import load_recipe
    with pytest.raises(RecipeError, match="unknown language code 'German'"):
        load_recipe("translation/tiny", ["data.target_language=German"])


def test_split_without_a_second_catalog_says_so(tmp_path):
    cfg = TranslationDataConfig(source=str(write_po(tmp_path / "one.po", [("A b", "C d", {})] * 1)))
    pairs, _ = load_pairs(cfg)
    with pytest.raises(DataError, match="at least two catalogs"):
        split_pairs(clean_pairs(pairs, cfg)[0], cfg)


def test_system_locale_with_a_bare_code_also_reads_the_home_region(tmp_path, monkeypatch):
    from suite.translation import data

    write_po(tmp_path / "pt" / "LC_MESSAGES" / "tar.po", [("Open file", "Abrir ficheiro", {})])
    write_po(tmp_path / "pt_PT" / "LC_MESSAGES" / "git.po", [("Commit", "Submeter", {})])
    write_po(tmp_path / "pt_PT" / "LC_MESSAGES" / "tar.po", [("Open file", "Not this one", {})])
    write_po(tmp_path / "pt_BR" / "LC_MESSAGES" / "wget.po", [("Open file", "Abrir arquivo", {})])
    monkeypatch.setattr(data, "SYSTEM_LOCALE_DIR", tmp_path)
    pairs, _ = load_pairs(TranslationDataConfig(source="system-locale", target_language="pt"))
    assert sorted((p.catalog, p.target) for p in pairs) == [("git", "Submeter"), ("tar", "Abrir ficheiro")]
    pairs, _ = load_pairs(TranslationDataConfig(source="system-locale", target_language="pt_BR"))
    assert [p.target for p in pairs] == ["Abrir arquivo"]


@pytest.mark.parametrize("declared, model, fits", [
    ("pt_BR", "pt_BR", True), ("pt-br", "pt_BR", True), ("pt", "pt_BR", True), ("pt_BR.UTF-8", "pt_BR", True),
    ("pt_PT", "pt_BR", False), ("de", "pt_BR", False), ("", "pt_BR", True), ("de", None, True),
])
def test_a_catalog_must_be_in_the_models_target_language(tmp_path, declared, model, fits):
    from suite.translation.checks import check_catalog_language

    po = polib.POFile()
    po.metadata = {"Content-Type": "text/plain; charset=UTF-8", "Language": declared}
    po.append(polib.POEntry(msgid="Open"))
    po.save(str(tmp_path / "app.po"))
    if fits:
        check_catalog_language(tmp_path / "app.po", model)
    else:
        with pytest.raises(DataError, match=f"Language is '{declared}' but the model translates into"):
            check_catalog_language(tmp_path / "app.po", model)


def test_several_sources_merge_by_product_the_first_listed_giving_it_whole(tmp_path):
    write_po(tmp_path / "a" / "gtk20.po", [("Print", "Drucken", {}), ("Quit", "Beenden", {})])
    write_po(tmp_path / "b" / "gtk20.po", [("Print", "Ausdrucken", {})])
    write_po(tmp_path / "b" / "tar.po", [("Archive", "Archiv", {})])
    pairs, _ = load_pairs(TranslationDataConfig(source=[str(tmp_path / "a"), str(tmp_path / "b")],
                                                target_language="de"))
    assert sorted((p.catalog, p.source, p.target) for p in pairs) == [
        ("gtk20", "Print", "Drucken"), ("gtk20", "Quit", "Beenden"), ("tar", "Archive", "Archiv")]


def test_the_test_products_siblings_never_train(tmp_path):
    for name in ("gtk20", "gtk30", "gtk40", "gtk20-properties", "glade", "tracker"):
        write_po(tmp_path / "cats" / f"{name}.po", [(f"{name} string {j}", f"{name} Text {j}", {}) for j in range(20)])
    cfg = TranslationDataConfig(source=str(tmp_path / "cats"), target_language="de", test_catalogs=["gtk20"])
    splits = prepare(cfg)
    trained = {p.catalog for p in splits.train + splits.validation}
    assert trained == {"glade", "tracker"}
    assert splits.cleaning["sibling_catalogs_left_out"] == ["gtk20-properties", "gtk30", "gtk40"]
    off = prepare(TranslationDataConfig(source=str(tmp_path / "cats"), target_language="de", test_catalogs=["gtk20"],
                                        exclude_test_families=False))
    assert {p.catalog for p in off.train + off.validation} == trained | {"gtk30", "gtk40", "gtk20-properties"}


def test_a_test_string_seen_in_training_under_another_accelerator_is_removed(tmp_path):
    write_po(tmp_path / "cats" / "app.po", [("~Save As", "Salvar ~como", {})] +
             [(f"App string {j}", f"Texto {j}", {}) for j in range(20)])
    write_po(tmp_path / "cats" / "tool.po", [("Save _as", "Salvar _como", {}), ("Print", "Imprimir", {})])
    splits = prepare(TranslationDataConfig(source=str(tmp_path / "cats"), target_language="de",
                                           test_catalogs=["tool"]))
    assert [p.source for p in splits.test] == ["Print"] and splits.cleaning["test_seen_in_train_removed"] == 1


def test_a_po_folder_with_no_catalog_in_the_target_language_is_one_line(tmp_path):
    write_po(tmp_path / "cats" / "app.po", [("Print", "Drucken", {})])       # Language: de
    with pytest.raises(DataError, match=r"1 catalogs, none in 'pt_BR' \(their languages: de\)") as error:
        load_pairs(TranslationDataConfig(source=str(tmp_path / "cats"), target_language="pt_BR"))
    assert "\n" not in str(error.value)
