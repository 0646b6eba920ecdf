"""A domain's own predict options: declared by the domain, read by the core once the run's domain is known."""

import pytest

from suite.cli import main
from suite.core.errors import SuiteError
from suite.core.predict_options import PredictOption, read

OPTIONS = (PredictOption("--user", "recommend for a user", input_prefix="user:", metavar="ID"),
           PredictOption("--k", "items per input", keyword="k", kind="integer", bounds=(1, 100)),
           PredictOption("--maps", "a folder for maps", keyword="maps_dir", kind="folder"))


def test_options_become_keywords_and_inputs_in_order():
    keywords, inline = read("toy", OPTIONS, ["--user", "u1", "--k=3", "x", "--user", "u2"])
    assert keywords == {"k": 3}
    assert inline == ["x", "user:u1", "user:u2"]                   # leftover words first, then each --user


@pytest.mark.parametrize("words, message", [
    (["--saliency", "maps"], "--saliency: a toy model does not take it"),
    (["--k=2", "--top", "3"], "--top: a toy model does not take it"),
    (["--k", "0"], "--k: expected an integer from 1 to 100, got 0"),
    (["--k", "many"], "argument --k: invalid int value: 'many'"),
])
def test_a_wrong_option_is_one_line(words, message):
    with pytest.raises(SuiteError, match=message):
        read("toy", OPTIONS, words)


def test_a_folder_option_refuses_a_file(tmp_path):
    (tmp_path / "maps").write_text("a file")
    with pytest.raises(SuiteError, match="a file, not a folder"):
        read("toy", OPTIONS, ["--maps", str(tmp_path / "maps")])
    assert read("toy", OPTIONS, ["--maps", str(tmp_path / "new")])[0] == {"maps_dir": tmp_path / "new"}


def test_a_declaration_needs_a_flag_and_one_destination():
    with pytest.raises(ValueError):
        PredictOption("k", "no dashes", keyword="k")
    with pytest.raises(ValueError):
        PredictOption("--k", "both", keyword="k", input_prefix="k:")


def test_help_with_a_run_lists_its_domains_options(tmp_path, capsys):
    import yaml

    from suite.core.recipe import load_recipe

    run = tmp_path / "run"
    (run / "model").mkdir(parents=True)
    (run / "recipe.yaml").write_text(yaml.safe_dump(load_recipe("recommendation/tiny").to_dict()), encoding="utf-8")
    assert main(["predict", str(run), "--help"]) == 0
    out = capsys.readouterr().out
    assert "recommendation options:" in out and "--user ID" in out and "--k K" in out
    assert main(["predict", "--help"]) == 0
    assert "A domain adds options of its own" in capsys.readouterr().out
    assert main(["predict"]) == 2
    assert "name a finished run folder first" in capsys.readouterr().err
