"""Placeholders, masking and the surface restorer, on hand-checked strings."""

import pytest

from suite.translation import strings


@pytest.mark.parametrize("text, expected", [
    ("Copy %s to %d files", ["%s", "%d"]),
    ("%(count)s items in %(name)r", ["%(count)s", "%(name)r"]),
    ("%1$s of %2$s, %-*s", ["%1$s", "%2$s", "%-*s"]),
    ("100%% done, %lu bytes", ["%%", "%lu"]),
    ("%%(body) takes no arguments", ["%%"]),              # %% consumed first: no %(body) placeholder
    ("Hello {0}, you have {count:>3} {name!r}", ["{0}", "{count:>3}", "{name!r}"]),
    ("Qt style %1 and %2", ["%1", "%2"]),
    ("no placeholders, 50 % off, {not one}", []),
])
def test_placeholders_are_found_in_order(text, expected):
    assert strings.placeholders(text) == expected


def test_placeholders_kept_is_a_multiset_comparison():
    assert strings.placeholders_kept("Copy %s to %s", "Kopiere %s nach %s")
    assert strings.placeholders_kept("%(a)s and %(b)s", "%(b)s und %(a)s")       # order may change
    assert not strings.placeholders_kept("Copy %s to %s", "Kopiere %s")           # one dropped
    assert not strings.placeholders_kept("Copy %s", "Kopiere % s")                # altered
    assert not strings.placeholders_kept("Copy", "Kopiere %d")                    # one invented


def test_mask_and_unmask_round_trip_and_mask_like_reuses_the_source_sentinels():
    masked, originals = strings.mask("%(user)s: copy %d files to {0}")
    assert masked == "⟦0⟧ : copy ⟦1⟧ files to ⟦2⟧"
    assert originals == ["%(user)s", "%d", "{0}"]
    assert strings.unmask("⟦2⟧ ⟦1⟧ ⟦0⟧", originals) == "{0} %d %(user)s"
    assert strings.mask_like("{0}: %d Dateien von %(user)s, %x", originals) == "⟦2⟧ : ⟦1⟧ Dateien von ⟦0⟧ , %x"
    assert strings.unmask("⟦7⟧ kept as is", originals) == "⟦7⟧ kept as is"


@pytest.mark.parametrize("source, output, expected", [
    ("File (%s):", "Arquivo ( ⟦0⟧ ) :", "Arquivo (%s) :"),           # glued to punctuation as in the source
    ("%d%% done", "⟦0⟧ ⟦1⟧ feito", "%d%% feito"),
    ("Delete %s?", "⟦0⟧ excluído ?", "%s excluído ?"),                # a moved placeholder keeps its space
    ("Copy %s to %s", "Copiar ⟦0⟧ para ⟦1⟧", "Copiar %s para %s"),
])
def test_unmask_restores_the_sources_spacing_around_placeholders(source, output, expected):
    _, originals = strings.mask(source)
    assert strings.unmask(output, originals, source=source) == expected


class UnknownCharacters:
    """A tokenizer stand-in whose vocabulary lacks typographic quotes (id 1 is <unk>)."""

    unk_token_id = 1

    def __call__(self, text, add_special_tokens=True):
        return {"input_ids": [1 if c in "“”’" else 5 for c in text]}


def test_masker_passes_characters_the_tokenizer_lacks_through_like_placeholders():
    from suite.translation.masking import Masker

    masker = Masker(UnknownCharacters(), limit=8)
    masked, originals, pattern = masker.mask("Open “%s”: it doesn’t exist")
    assert masked == "Open ⟦0⟧ ⟦1⟧ ⟦2⟧ : it doesn’t exist" and originals == ["“", "%s", "”"]   # in-word ’ stays
    assert strings.mask_like("Abrir “%s”: não existe", originals, pattern) == "Abrir ⟦0⟧ ⟦1⟧ ⟦2⟧ : não existe"
    assert strings.unmask("Abrir ⟦0⟧ ⟦1⟧ ⟦2⟧ : não", originals, source="Open “%s”: it", pattern=pattern) == \
        "Abrir “%s”: não"
    assert strings.unmask("⟦0⟧ unmount ⟦1⟧", ["“", "”"], source="“unmount”", pattern=masker.pattern("“unmount”")) \
        == "“unmount”"                                              # a quote glues to a word, as in the source
    crowded = "“a” “b” “c” “d” %s"                                  # 9 sentinels: placeholders only
    assert masker.mask(crowded)[1] == ["%s"]
    assert Masker(None, limit=8).mask("Open “%s”")[1] == ["%s"]


def test_surface_restorer_learns_case_accents_and_punctuation_spacing():
    restorer = strings.SurfaceRestorer.fit(["Datei öffnen", "Öffnen Sie die Datei: %s", "(nicht gesetzt)",
                                            "Die Datei wurde gelöscht."])
    assert restorer.restore("datei offnen :", source="Open file:") == "Datei öffnen:"
    assert restorer.restore("( nicht gesetzt )", source="(not set)") == "(nicht gesetzt)"
    assert restorer.restore("die datei wurde geloscht .", source="the file was deleted.") == \
        "die Datei wurde gelöscht."                      # lowercase source: first letter kept lowercase
    assert restorer.restore("unbekannt", source="Unknown") == "Unbekannt"


def test_surface_restorer_survives_save_and_load(tmp_path):
    restorer = strings.SurfaceRestorer.fit(["Größe ändern"])
    restorer.save(tmp_path / "surface.json")
    assert strings.SurfaceRestorer.load(tmp_path / "surface.json").restore("große andern") == "Größe ändern"


@pytest.mark.parametrize("text, marker", [
    ("_Open", "_"), ("Save _As…", "_"), ("Aj_uda", "_"), ("&File", "&"), ("unmount_with_operation", None),
    ("use_ssl", None), ("Open file", None), ("Tom & Jerry", None), ("100_", None),
])
def test_accelerators_are_one_marker_before_a_letter(text, marker):
    assert strings.accelerator(text) == marker


@pytest.mark.parametrize("source, translated, expected", [
    ("Create in _folder:", "Criar na pasta:", "Criar na _pasta:"),
    ("_Open", "Abrir", "_Abrir"),
    ("Fol_ders", "Pastas", "_Pastas"),                    # a marker inside a word goes to its start
    ("Save _As", "Salvar", "_Salvar"),                    # fewer words: the last one
    ("Save _As", "Salvar _como", "Salvar _como"),         # the output has one already
    ("use_ssl", "use_ssl", "use_ssl"),                    # no accelerator: nothing taken out or put back
])
def test_an_accelerator_is_taken_out_and_put_back_on_the_word_in_its_place(source, translated, expected):
    stripped, marker, word = strings.strip_accelerator(source)
    assert strings.accelerator(stripped) is None or marker is None
    assert strings.put_accelerator(translated, marker, word) == expected


def test_prepare_and_finish_undo_each_other_around_a_translation():
    from suite.translation.masking import Masker

    masker = Masker(UnknownCharacters(), limit=8, accelerators=True)
    prepared = masker.prepare("  Open “%s” in _folder  ")
    assert prepared.model_input == "Open ⟦0⟧ ⟦1⟧ ⟦2⟧ in folder"
    assert prepared.finish("Abrir ⟦0⟧ ⟦1⟧ ⟦2⟧ na pasta", masked=True) == "  Abrir “%s” na _pasta  "
    assert masker.prepare_pair("Save _As %s", "Salvar _como %s") == ("Save As ⟦0⟧", "Salvar como ⟦0⟧")


def test_accelerator_report_counts_only_strings_that_have_one():
    from suite.translation.metrics import accelerator_report

    report = accelerator_report(["_Open", "Save _As", "Quit"], ["_Abrir", "Salvar como", "Sair"])
    assert report == {"accelerators_kept": 0.5, "strings_with_accelerators": 2}


@pytest.mark.parametrize(("source", "marker", "stripped"), [
    ("_Open", "_", "Open"), ("&File", "&", "File"), ("~Save", "~", "Save"), ("Save ~As…", "~", "Save As…"),
    ("~/.config", None, "~/.config"), ("Tom & Jerry", None, "Tom & Jerry"), ("use_ssl", None, "use_ssl")])
def test_every_accelerator_convention_is_found_and_taken_out(source, marker, stripped):
    assert strings.accelerator(source) == marker
    assert strings.strip_accelerator(source)[:2] == (stripped, marker)


def test_accelerator_report_counts_the_tilde_convention():
    from suite.translation.metrics import accelerator_report
    report = accelerator_report(["~Save", "&File", "_Open"], ["~Salvar", "&Arquivo", "Abrir"])
    assert report == {"accelerators_kept": round(2 / 3, 4), "strings_with_accelerators": 3}
