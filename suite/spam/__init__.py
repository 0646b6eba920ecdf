"""Spam filtering: tune a text encoder to separate spam from ham, judged at a low false-positive rate.

Python::

    import suite
    run = suite.tune("spam/tiny")                 # or a recipe path, with overrides
    spam_filter = suite.load(run.path)
    spam_filter.predict(["WIN a FREE cruise!!!", "Minutes of Tuesday's meeting"])

Command line::

    suite train spam/default
    suite predict runs/spam-default-... "WIN a FREE cruise!!!"

The domain registers itself through the ``suite.domains`` entry point (``suite.spam.hooks:DOMAIN``).
"""
