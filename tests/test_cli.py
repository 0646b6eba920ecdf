"""The command line: listing, recipes, predict, eval (the bad-input matrix of every domain is test_bad_inputs.py)."""

import json
import subprocess
import sys

import pytest

from suite.cli import main


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_names_domains_recipes_data_and_models(capsys):
    code, out, _ = run_cli(capsys, "list")
    assert code == 0
    for expected in ("spam ", "spam/tiny", "spam/default", "spam/lora", "spamassassin", "bundled:minilm"):
        assert expected in out


def test_recipe_shows_resolved_values_with_help(capsys):
    code, out, _ = run_cli(capsys, "recipe", "spam/tiny", "train.epochs=5")
    assert code == 0
    assert "train:\n  strategy: \"fine-tune\"    # fine-tune: a new head and the whole network" in out
    assert "\n  epochs: 5.0    # Passes over the training data." in out
    assert "\n  contrastive.pairs_per_example: 20    # For every training example" in out


@pytest.mark.slow
def test_predict_inline_and_from_file(spam_tiny_run, tmp_path, capsys):
    code, out, _ = run_cli(capsys, "predict", str(spam_tiny_run.path), "FREE money!!! click", "see you at lunch")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(rows) == 2
    assert all(0 <= r["spam_probability"] <= 1 and r["label"] in ("spam", "ham") for r in rows)
    source = tmp_path / "in.csv"
    source.write_text("text\nFREE money!!! click\nsee you at lunch\n", encoding="utf-8")
    output = tmp_path / "out.jsonl"
    assert run_cli(capsys, "predict", str(spam_tiny_run.path), "--input", str(source), "--output",
                   str(output))[0] == 0
    from_file = [json.loads(line) for line in output.read_text().splitlines()]
    assert [r.pop("input_id") for r in rows] == ["inline 1", "inline 2"]
    assert [r.pop("input_id") for r in from_file] == [f"{source}:2", f"{source}:3"]     # line 1: the header
    assert from_file == rows
    code, _, err = run_cli(capsys, "predict", str(spam_tiny_run.path), "--input", str(source), "--output",
                           str(output))
    assert code == 2 and "file exists" in err


@pytest.mark.slow
def test_predict_rows_name_their_line_skip_blanks_and_flag_cut_texts(spam_tiny_run, tmp_path, capsys):
    """Blank lines are skipped and counted, every row names its line, and a text longer than model.max_length
    is flagged in its row and counted on stderr."""
    source = tmp_path / "in.txt"
    source.write_text("FREE money!!! click\n\n" + "word " * 2000 + "\n   \nsee you at lunch\n", encoding="utf-8")
    code, out, err = run_cli(capsys, "predict", str(spam_tiny_run.path), "--input", str(source))
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert [r["input_id"] for r in rows] == [f"{source}:1", f"{source}:3", f"{source}:5"]
    assert [r["truncated"] for r in rows] == [False, True, False]
    assert f"{source}: 2 blank lines skipped" in err
    assert "1 of 3 inputs were longer than the model reads (model.max_length = " in err


def test_console_script_exit_status(tmp_path):
    """The installed `suite` entry point really exits with status 2 and a one-line error."""
    result = subprocess.run([sys.executable, "-m", "suite.cli", "train", str(tmp_path / "missing.yaml")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "no such recipe file" in result.stderr


@pytest.mark.slow
def test_eval_on_other_data_scores_every_system(spam_tiny_run, tmp_path, capsys):
    rows = ["text,label"] + [f"FREE prize number {i} click now to claim,spam" for i in range(6)] + \
           [f"minutes of meeting {i} attached for review,ham" for i in range(6)]
    data = tmp_path / "other.csv"
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    code, out, _ = run_cli(capsys, "eval", str(spam_tiny_run.path), "--data", str(data))
    assert code == 0
    lines = out.splitlines()
    table, operating = lines[2:-1], lines[-1]
    assert {line.split()[0] for line in table} == {"tuned", "hybrid", "baseline:tfidf-logreg", "baseline:naive-bayes"}
    assert operating.startswith("operating point on this data:") and "of 6" in operating
    saved = json.loads(sorted((spam_tiny_run.path / "evaluations").glob("*.json"))[-1].read_text())
    assert saved["evaluated_on"] == str(data)
    assert saved["models"]["tuned"]["confusion_at_target"]["tp"] + \
        saved["models"]["tuned"]["confusion_at_target"]["fn"] == 6


def test_recipe_overrides_may_follow_options(monkeypatch):
    from suite import cli

    seen = {}
    monkeypatch.setattr(cli, "_adapt", lambda args: seen.update(vars(args)) or 0)
    assert cli.main(["adapt", "RUN", "--data", "new.csv", "data.test_size=0.05", "train.epochs=1"]) == 0
    assert seen["overrides"] == ["data.test_size=0.05", "train.epochs=1"] and seen["data"] == "new.csv"
    with pytest.raises(SystemExit) as stopped:                 # an unknown option is still argparse's error
        cli.main(["adapt", "RUN", "--data", "new.csv", "--epochs", "1"])
    assert stopped.value.code == 2
