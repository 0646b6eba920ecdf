"""toydomain: a fifth domain for suite, shipped in a distribution of its own (test data, not part of suite).

Is a number positive? One number in, a ``torch.nn.Linear(1, 2)`` over it, trained by suite's shared Trainer
from RANDOM weights (no pretrained weights exist: ``model.pretrained`` is false and must stay so), beside a
majority-class baseline. ``tests/test_toy_domain.py`` copies this folder into a temporary one, writes a
``toydomain-0.1.dist-info`` there whose ``entry_points.txt`` registers it, and runs ``suite list``, ``train``,
``predict`` and ``serve`` on it with nothing in suite naming it. What it declares:

- ``hooks.DOMAIN``: the :class:`suite.core.registry.Domain` hooks, and the capabilities ``ShipsRecipes``
  (``recipes/default.yaml`` is ``toy/default``), ``Serves`` (``serving.py``), ``TakesOptions`` (``suite predict
  RUN --decimals N``) and ``BundlesModels`` (``bundled:toy-linear``: see ``hooks.ToyModelConfig`` for why).
"""
