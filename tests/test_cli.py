"""The command line: listing, recipes, and one clear line with exit status 2 for every bad input."""

import json
import subprocess
import sys

import pytest

from suite.cli import main


def folder_snapshot(path):
    """{relative path: bytes} of every file under ``path``: to prove nothing was changed."""
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


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
    assert "train:\n  epochs: 5.0    # Passes over the training data." in out


@pytest.fixture
def bad_inputs(tmp_path):
    """name -> (argv, expected message fragment); each must fail before any model loads."""
    def write(name, data, mode="w"):
        path = tmp_path / name
        path.write_bytes(data) if mode == "wb" else path.write_text(data, encoding="utf-8")
        return str(path)

    rows = "".join(f"msg {i} buy now,spam\n" if i % 2 else f"msg {i} lunch?,ham\n" for i in range(60))
    good_csv = write("good.csv", "body,label\n" + rows)
    return {
        "malformed yaml": (["train", write("bad.yaml", "domain: spam\nname: x\n data: [\n")], "malformed YAML"),
        "missing recipe": (["train", str(tmp_path / "nope.yaml")], "no such recipe file"),
        "unknown key": (["train", "spam/tiny", "train.epoch=1"], "did you mean 'epochs'"),
        "wrong type": (["train", "spam/tiny", "train.batch_size=big"], "train.batch_size: expected an integer"),
        "missing data file": (["train", "spam/tiny", f"data.source={tmp_path / 'none.csv'}"],
                              "no such file or folder"),
        "missing column": (["train", "spam/tiny", f"data.source={good_csv}"], "no column 'text' (columns: body"),
        "empty data": (["train", "spam/tiny", f"data.source={write('empty.csv', 'text,label' + chr(10))}"],
                       "holds no messages"),
        "one class": (["train", "spam/tiny", "data.source=" + write(
            "one.csv", "text,label\n" + "".join(f"hello {i},ham\n" for i in range(50)))], "only one class"),
        "non-utf8": (["train", "spam/tiny", "data.source=" + write(
            "latin.csv", "text,label\ncaf\xe9 offer,spam\n".encode("latin-1"), "wb")], "not UTF-8"),
        "unknown label": (["train", "spam/tiny", "data.source=" + write(
            "labels.csv", "text,label\nhi,maybe\n")], "unknown label 'maybe'; spam labels: spam"),
        "unknown model": (["train", "spam/tiny", "model.source=bundled:nope"], "unknown bundled model"),
        "unreachable hub": (["train", "spam/tiny", "model.source=no-such-org/no-such-model"],
                            "the Hugging Face hub could not provide it"),
        "unknown domain": (["train", write("d.yaml", "domain: weather\nname: x\n")], "unknown domain 'weather'"),
        "predict from a missing run": (["predict", str(tmp_path / "no-run"), "hello"], "no such run folder"),
        "predict from a non-run folder": (["predict", str(tmp_path), "hello"], "not a run folder"),
    }


CASES = ["malformed yaml", "missing recipe", "unknown key", "wrong type", "missing data file", "missing column",
         "empty data", "one class", "non-utf8", "unknown label", "unknown model", "unreachable hub",
         "unknown domain", "predict from a missing run", "predict from a non-run folder"]


@pytest.mark.parametrize("case", CASES)
def test_bad_input_exits_2_with_one_line_and_touches_nothing(case, bad_inputs, spam_tiny_run, capsys,
                                                             monkeypatch):
    monkeypatch.chdir(spam_tiny_run.path.parent)            # runs/ of the default output.runs_dir
    before = folder_snapshot(spam_tiny_run.path.parent)
    argv, expected = bad_inputs[case]
    code, out, err = run_cli(capsys, *argv, *(["output.runs_dir=."] if argv[0] == "train" and
                                              len(argv) > 2 else []))
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], err
    assert folder_snapshot(spam_tiny_run.path.parent) == before


def test_existing_run_folder_is_refused_and_kept(spam_tiny_run, capsys):
    before = folder_snapshot(spam_tiny_run.path)
    code, _, err = run_cli(capsys, "train", "spam/tiny", f"output.runs_dir={spam_tiny_run.path.parent}",
                           f"output.name={spam_tiny_run.path.name}")
    assert code == 2 and "already exists" in err and "--resume" in err
    assert folder_snapshot(spam_tiny_run.path) == before


def test_resume_of_a_finished_run_is_refused(spam_tiny_run, capsys):
    code, _, err = run_cli(capsys, "train", "--resume", str(spam_tiny_run.path))
    assert code == 2 and "already finished" in err


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
    assert [json.loads(line) for line in output.read_text().splitlines()] == rows
    code, _, err = run_cli(capsys, "predict", str(spam_tiny_run.path), "--input", str(source), "--output",
                           str(output))
    assert code == 2 and "file exists" in err


def test_console_script_exit_status(tmp_path):
    """The installed `suite` entry point really exits with status 2 and a one-line error."""
    result = subprocess.run([sys.executable, "-m", "suite.cli", "train", str(tmp_path / "missing.yaml")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "no such recipe file" in result.stderr


def test_eval_on_other_data_scores_every_system(spam_tiny_run, tmp_path, capsys):
    rows = ["text,label"] + [f"FREE prize number {i} click now to claim,spam" for i in range(6)] + \
           [f"minutes of meeting {i} attached for review,ham" for i in range(6)]
    data = tmp_path / "other.csv"
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    code, out, _ = run_cli(capsys, "eval", str(spam_tiny_run.path), "--data", str(data))
    assert code == 0
    assert {line.split()[0] for line in out.splitlines()[2:]} == {"tuned", "baseline:tfidf-logreg",
                                                                 "baseline:naive-bayes"}
    saved = json.loads(sorted((spam_tiny_run.path / "evaluations").glob("*.json"))[-1].read_text())
    assert saved["evaluated_on"] == str(data)
    assert saved["models"]["tuned"]["confusion_at_target"]["tp"] + \
        saved["models"]["tuned"]["confusion_at_target"]["fn"] == 6
