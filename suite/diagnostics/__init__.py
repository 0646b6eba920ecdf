"""Diagnostics: tune a timm vision backbone on medical images, reported in clinical terms.

Python::

    import suite
    run = suite.tune("diagnostics/tiny")           # synthetic scans, seconds
    model = suite.load(run.path)
    model.predict(["scan.png"])                    # [{'image': 'scan.png', 'probability': ..., 'label': ...}]

Command line::

    suite train diagnostics/default
    suite predict runs/diagnostics-default-... scan.png more.png
    suite predict runs/diagnostics-default-... --input scans/        # a folder, or a CSV with a path column

The offline default data are SYNTHETIC (datasets/synthetic-scans): no patient, no real finding.
The domain registers itself through the ``suite.domains`` entry point (``suite.diagnostics.hooks:DOMAIN``).
"""
