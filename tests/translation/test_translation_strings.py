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
