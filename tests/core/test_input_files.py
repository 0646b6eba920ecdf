"""What suite reads and writes must be regular files or folders of them; its own files, damaged, are one line;
predict inputs keep their ids (suite/core/paths.py, saved_files.py, inputs.py)."""

import os
import re
import socket

import numpy as np
import pytest

from suite.core import paths, saved_files
from suite.core.errors import DataError, RunError, SuiteError
from suite.core.inputs import Inputs, rows


def test_special_files_are_told_apart_without_opening_them(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "loop").symlink_to("loop")
    (tmp_path / "file").write_text("x")
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(tmp_path / "sock"))
        found = {name: paths.special(tmp_path / name) for name in ("pipe", "loop", "sock", "file", "missing")}
    assert found == {"pipe": "a FIFO (named pipe)", "loop": "a symbolic link loop", "sock": "a socket",
                     "file": None, "missing": None}
    assert paths.special("/dev/null") == "a device"
    assert paths.special("/proc/self/status") == "on the pseudo file system /proc, which holds no data"
    assert paths.special(tmp_path) is None
    with pytest.raises(DataError, match=r"^data.source: .*pipe is a FIFO \(named pipe\); expected a regular file"):
        paths.refuse_special(tmp_path / "pipe", what="data.source")


def test_a_folder_walk_lists_regular_files_and_refuses_special_ones(tmp_path):
    (tmp_path / "b" / "c").mkdir(parents=True)
    for name in ("b/c/2.txt", "a.txt", "b/1.txt"):
        (tmp_path / name).write_text(name)
    (tmp_path / "b" / "back").symlink_to(tmp_path, target_is_directory=True)   # a folder loop: not followed
    assert [p.relative_to(tmp_path).as_posix() for p in paths.regular_files(tmp_path, what="w")] == \
        ["a.txt", "b/1.txt", "b/c/2.txt"]
    (tmp_path / "b" / "gone.txt").symlink_to(tmp_path / "nowhere")
    with pytest.raises(DataError, match="gone.txt is a symbolic link to nothing"):
        list(paths.regular_files(tmp_path, what="w"))
    (tmp_path / "b" / "gone.txt").unlink()
    os.mkfifo(tmp_path / "b" / "c" / "pipe")
    with pytest.raises(DataError, match="c/pipe is a FIFO"):
        list(paths.regular_files(tmp_path, what="w"))


def test_a_folder_to_write_is_a_folder_on_a_disk(tmp_path):
    (tmp_path / "file").write_text("x")
    assert paths.writable_folder(tmp_path / "new" / "deeper", what="out") == tmp_path / "new" / "deeper"
    for place, message in ((tmp_path / "file", "is a file, not a folder"),
                           (tmp_path / "file" / "sub", "file is a file, not a folder"),
                           ("/proc/runs", "/proc is on the pseudo file system /proc"),
                           ("/sys/x/y", "on the pseudo file system /sys")):
        with pytest.raises(SuiteError, match=message):
            paths.writable_folder(place, what="out")


def test_damaged_json_the_suite_wrote_is_one_line_naming_the_file(tmp_path):
    path = tmp_path / "metrics.json"
    for content, message in (('{"models": {', "damaged (not valid JSON: Expecting"),
                             ("[1, 2]", "damaged (a JSON list, not a dict)"),
                             (b"\xff\xfe{}", "damaged (not UTF-8 at byte 0)"),
                             ("[" * 100_000, "metrics.json: ")):
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        with pytest.raises(RunError, match=re.escape(message)) as error:
            saved_files.read_json(path, what="the run's metrics")
        assert "\n" not in str(error.value) and str(error.value).endswith("expected the run's metrics")
    with pytest.raises(RunError, match="missing; expected"):
        saved_files.read_json(tmp_path / "none.json", what="x")
    path.write_text('{"models": {}}')
    assert saved_files.read_json(path, what="x") == {"models": {}}


def test_weights_whose_header_does_not_parse_are_named(tmp_path):
    from safetensors.numpy import save_file

    (tmp_path / "adapter").mkdir()
    save_file({"w": np.zeros((64, 64), np.float32)}, str(tmp_path / "adapter" / "model.safetensors"))
    saved_files.check_weights(tmp_path)                         # whole weights pass
    whole = (tmp_path / "adapter" / "model.safetensors").read_bytes()
    for damaged, reason in ((b"\xff" * 64, "header too large"), (whole[:len(whole) // 2], "incomplete metadata"),
                            (b"", "header too small")):
        (tmp_path / "adapter" / "model.safetensors").write_bytes(damaged)
        with pytest.raises(RunError, match=f"adapter/model.safetensors: damaged weights .*{reason}"):
            saved_files.check_weights(tmp_path)


def test_input_lines_skip_blanks_and_rows_keep_their_ids(tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("first\n\n  \nsecond\n", encoding="utf-8")
    read = Inputs.lines(source)
    assert (read.values, read.ids) == (["first", "second"], [f"{source}:1", f"{source}:4"])
    assert read.notes == [f"{source}: 2 blank lines skipped (each row's input_id names its line)"]
    assert rows([{"label": "a"}, {"label": "b"}], read, [False, True]) == [
        {"input_id": f"{source}:1", "label": "a", "truncated": False},
        {"input_id": f"{source}:4", "label": "b", "truncated": True}]
    assert Inputs.of([3.0, 4.0], None).ids == ["inline 1", "inline 2"]       # a domain's plain list
    assert Inputs.of([3.0], source).ids == [f"{source}#1"]
    with pytest.raises(RuntimeError, match="1 predictions for 2 inputs"):
        rows([{}], read)
