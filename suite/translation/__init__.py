"""Translation: tune a seq2seq model to a product's interface strings and terminology.

The default recipe tunes Mozilla's Firefox Translations English -> Brazilian Portuguese model
(``bundled:firefox-enpt``); ``translation/warm-start-de`` builds a translator from the MiniLM
encoder for a language pair without a pretrained model (English -> German).

Python::

    import suite
    run = suite.tune("translation/tiny")               # or a recipe path, with overrides
    translator = suite.load(run.path)
    translator.predict(["Open file", "Delete %(count)s items?"])

Command line::

    suite train translation/default
    suite predict runs/translation-default-... "Open file"
    suite predict runs/translation-default-... --input app.po --output app.pt_BR.po
    suite export runs/translation-default-... exported-model --format marian

The domain registers itself through the ``suite.domains`` entry point (``suite.translation.hooks:DOMAIN``).
"""
