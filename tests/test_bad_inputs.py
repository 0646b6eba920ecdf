"""Bad input in every domain: exit status 2, one line naming the problem, every existing run folder unchanged.

One table per domain, ``{case name: build}``: ``build(files)`` writes whatever the case
needs with the :class:`Files` helper and returns ``(suite argv, fragment)``, where the
fragment must appear in the single ``error: ...`` line. ``common_cases`` holds the
cases every domain shares (recipe, model source, run folder); a domain's table adds
its data cases. A new domain adds one table to ``TABLES``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from suite.cli import main

Case = tuple[list[str], str]


class Files:
    """Writes a case's input files under one temporary folder."""

    def __init__(self, root: Path):
        self.root = root
        self.environ: dict[str, str] = {}     # environment variables the case sets


    def text(self, name: str, content: str) -> str:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        return str(path)

    def raw(self, name: str, content: bytes) -> str:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        return str(path)

    def image(self, name: str, value: int) -> str:
        from PIL import Image

        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.full((16, 16), value, dtype=np.uint8)).save(path)
        return str(path)

    def missing(self, name: str) -> str:
        return str(self.root / name)

    def fifo(self, name: str) -> str:
        """A named pipe that nobody writes: a reader that opened it would wait for ever."""
        import os

        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        os.mkfifo(path)
        return str(path)

    def loop(self, name: str) -> str:
        """A symbolic link that points at itself."""
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.symlink_to(path.name)
        return str(path)


EXISTING_RUN = "existing-run"      # a finished run folder in the runs folder of every case


def common_cases(domain: str) -> dict[str, Callable[[Files], Case]]:
    """The cases every domain shares; ``domain`` names its bundled ``tiny`` recipe."""
    tiny = f"{domain}/tiny"
    return {
        "malformed yaml": lambda f: (["train", f.text("bad.yaml", f"domain: {domain}\nname: x\n data: [\n")],
                                     "malformed YAML"),
        "missing recipe": lambda f: (["train", f.missing("nope.yaml")], "no such recipe file"),
        "unknown key": lambda f: (["train", tiny, "train.epoch=1"], "did you mean 'epochs'"),
        "unknown section key": lambda f: (["train", tiny, "model.sourse=x"], "unknown key 'model.sourse'"),
        "wrong value type": lambda f: (["train", tiny, "train.batch_size=big"],
                                       "train.batch_size: expected an integer"),
        "unknown model name": lambda f: (["train", tiny, "model.source=bundled:nope"], "unknown bundled model"),
        "unreachable hub": lambda f: (["train", tiny, "model.source=no-such-org/no-such-model"],
                                      "the Hugging Face hub could not provide it"),
        "missing local model": lambda f: (["train", tiny, f"model.source={f.missing('weights')}/"],
                                          "no such local folder or file"),
        "existing run folder": lambda f: (["train", tiny, f"output.name={EXISTING_RUN}"],
                                          "already holds a finished run; choose another output.name"),
        "run name leaving the runs folder": lambda f: (["train", tiny, "output.name=../escaped"],
                                                       "output.name: expected a plain folder name"),
        "resume a finished run": lambda f: (["train", "--resume", EXISTING_RUN], "already finished"),
        "infinite epochs": lambda f: (["train", tiny, "train.epochs=inf"], "train.epochs: expected a finite number"),
        "infinite learning rate": lambda f: (["train", tiny, "train.learning_rate=inf"], "expected a finite number"),
        "absurd learning rate": lambda f: (["train", tiny, "train.learning_rate=50"],
                                           "learning_rate: expected a number in"),
        "negative seed": lambda f: (["train", tiny, "seed=-1"], "seed: expected an integer from 0"),
        "runs folder that is a file": lambda f: (["train", tiny, f"output.runs_dir={f.text('a-file', 'x')}"],
                                                 "is a file, not a folder"),
        "recipe path too long": lambda f: (["train", "x" * 300 + ".yaml"], "a file or folder name of 305 bytes"),
        "data source name too long": lambda f: (["train", tiny, f"data.source={'d' * 300}.csv"],
                                                "data.source: ddd"),
        "model source name too long": lambda f: (["train", tiny, f"model.source=/tmp/{'m' * 300}"],
                                                 "model.source: /tmp/mmm"),
        "run name too long": lambda f: (["train", tiny, f"output.name={'r' * 300}"], "output.name: rrr"),
        "model source: a folder with only a README": lambda f: (
            ["train", tiny, f"model.source={_folder(f, 'readme-only', {'README.md': 'weights elsewhere'})}"],
            MODEL_SOURCE_ERRORS[domain]["readme"]),
        "model source: invalid config.json": lambda f: (
            ["train", tiny, "model.source=" + _folder(f, "bad-config", {"config.json": "{not json",
                                                                        "model.safetensors": "x"})],
            MODEL_SOURCE_ERRORS[domain]["config"]),
        "recipe key given twice": lambda f: (["train", f.text("twice.yaml", f"domain: {domain}\nname: x\n"
                                                                       "train: {{epochs: 1}}\ntrain: {{seed: 1}}\n")],
                                             "key 'train' is given twice (first at line 3)"),
        "runs folder on /proc": lambda f: (["train", tiny, "output.runs_dir=/proc/suite-runs"],
                                           "/proc is on the pseudo file system /proc"),
        "negative data-loader workers": lambda f: (["train", tiny, "train.num_workers=-1"],
                                                   "train.num_workers: expected an integer from 0 to 256"),
        "LoRA rank of a million": lambda f: (["train", tiny, "lora.enabled=true", "lora.r=1000000"],
                                             "lora.r: expected an integer from 1 to 4,096"),
        "model source: a .bin file": lambda f: (["train", tiny,
                                                 "model.source=" + f.raw("weights.bin", b"\x80\x04K\x01.")],
                                                MODEL_SOURCE_ERRORS[domain]["file"]),
    }


def _folder(f: Files, name: str, files: dict[str, str]) -> str:
    for file, content in files.items():
        f.text(f"{name}/{file}", content)
    return str(f.root / name)


# what each domain answers for a model source that exists but holds no usable model
_TRANSFORMERS_FOLDER = {"readme": "no config.json in the folder", "config": "config.json is not valid JSON",
                        "file": "a file; expected a folder holding a transformers model"}
MODEL_SOURCE_ERRORS = {
    "spam": _TRANSFORMERS_FOLDER, "recommendation": _TRANSFORMERS_FOLDER, "translation": _TRANSFORMERS_FOLDER,
    "diagnostics": {"readme": "cannot tell the timm architecture", "config": "cannot load a diagnostics model",
                    "file": "cannot tell the timm architecture"},
}


def _mail(i: int) -> str:
    return f"msg {i} buy now,spam\n" if i % 2 else f"msg {i} lunch?,ham\n"


SPAM = {
    **common_cases("spam"),
    "missing data file": lambda f: (["train", "spam/tiny", f"data.source={f.missing('none.csv')}"],
                                    "no such file or folder"),
    "missing column": lambda f: (["train", "spam/tiny", "data.source=" + f.text(
        "good.csv", "body,label\n" + "".join(_mail(i) for i in range(60)))], "no column 'text' (columns: body"),
    "empty split": lambda f: (["train", "spam/tiny", "data.source=" + f.text("empty.csv", "text,label\n")],
                              "holds no messages"),
    "one-class labels": lambda f: (["train", "spam/tiny", "data.source=" + f.text(
        "one.csv", "text,label\n" + "".join(f"hello {i},ham\n" for i in range(50)))], "only one class"),
    "non-utf8 text": lambda f: (["train", "spam/tiny", "data.source=" + f.raw(
        "latin.csv", "text,label\ncaf\xe9 offer,spam\n".encode("latin-1"))], "not UTF-8"),
    "unknown label": lambda f: (["train", "spam/tiny", "data.source=" + f.text("labels.csv", "text,label\nhi,maybe\n")],
                                "unknown label 'maybe'; spam labels: spam"),
    "wrong section value type": lambda f: (["train", "spam/tiny", "model.max_length=long"],
                                           "model.max_length: expected an integer"),
    "label budget below two per class": lambda f: (["train", "spam/tiny", "data.label_budget=3"],
                                                   "3 labelled examples are fewer than 2 x 2 classes"),
    "label budget larger than the data": lambda f: (["train", "spam/tiny", "data.label_budget=5000"],
                                                    "5,000 labelled examples asked for, but the training and "
                                                    "validation splits hold 160"),
    "contrastive on a one-class sample": lambda f: (["train", "spam/tiny", "train.strategy=contrastive", "data.source="
                                                     + f.text("one.csv", "text,label\n" + "".join(
                                                         f"hello {i},ham\n" for i in range(50)))],
                                                    "only one class"),
    "contrastive with a lone example of a class": lambda f: (["train", "spam/tiny", "train.strategy=contrastive",
                                                              "data.label_budget=4"], "has one training example"),
    "LoRA with a strategy that trains only the head": lambda f: (["train", "spam/tiny", "lora.enabled=true",
                                                                  "train.strategy=linear-probe"],
                                                                 "trains no weights but the head's"),
    "LoRA with contrastive tuning": lambda f: (["train", "spam/tiny", "lora.enabled=true",
                                                "train.strategy=contrastive-lp-ft"], "tunes the encoder in full"),
    "unknown strategy": lambda f: (["train", "spam/tiny", "train.strategy=setfit"],
                                   "train.strategy: expected one of 'fine-tune'"),
    "adapt: new data that is missing": lambda f: (["adapt", finished("spam"), "--data", f.missing("new.csv")],
                                                  "no such file or folder"),
    "adapt: a run that has not finished": lambda f: (["adapt", _folder(f, "half", {"recipe.yaml": "domain: spam\n"}),
                                                      "--data", f.missing("new.csv")], "the run has not finished"),
    "data source that is a FIFO": lambda f: (["train", "spam/tiny", f"data.source={f.fifo('mail.csv')}"],
                                             "mail.csv is a FIFO (named pipe)"),
    "data source that is a device": lambda f: (["train", "spam/tiny", "data.source=/dev/null"],
                                               "data.source: /dev/null is a device"),
    "data source on /proc": lambda f: (["train", "spam/tiny", "data.source=/proc/self/status"],
                                       "on the pseudo file system /proc"),
    "a FIFO in a mail folder": lambda f: (["train", "spam/tiny", f"data.source={_mail_folder(f, fifo=True)}"],
                                          "ham/pipe is a FIFO"),
    "a symbolic link loop in a mail folder": lambda f: (["train", "spam/tiny",
                                                         "data.source=" + _mail_folder(f, loop=True)],
                                                        "ham/loop.eml is a symbolic link loop"),
    "damaged gzip data in a table": lambda f: (["train", "spam/tiny", f"data.source={_damaged_gzip(f)}"],
                                               "mail.csv.gz: cannot be read (Error -3 while decompressing"),
    "calibrate: --data that is a FIFO": lambda f: (["calibrate", finished("spam"), "--data", f.fifo("new.csv")],
                                                   "new.csv is a FIFO"),
    "adapt: --data that is a FIFO": lambda f: (["adapt", finished("spam"), "--data", f.fifo("new.csv")],
                                               "new.csv is a FIFO"),
}


def _damaged_gzip(f: Files) -> str:
    """A .csv.gz whose deflate stream is damaged after its header (found by tests/test_readers_property.py)."""
    import gzip

    data = gzip.compress(("text,label\n" + "".join(_mail(i) for i in range(50))).encode())
    return f.raw("mail.csv.gz", data[:12] + b"\xff" * 8 + data[20:])


def _mail_folder(f: Files, *, fifo: bool = False, loop: bool = False) -> str:
    """spam/ and ham/ folders of .eml files, with a FIFO or a symbolic link loop among the ham."""
    for i in range(6):
        f.text(f"mail/spam/{i}.eml", f"Subject: WIN {i}\n\nclaim your prize {i}\n")
        f.text(f"mail/ham/{i}.eml", f"Subject: lunch {i}\n\nsee you at noon {i}\n")
    if fifo:
        f.fifo("mail/ham/pipe")
    if loop:
        f.loop("mail/ham/loop.eml")
    return str(f.root / "mail")


def _interactions(f: Files, name: str = "interactions.csv", header: str = "user,item,rating,timestamp",
                  rating: int = 5) -> str:
    rows = "".join(f"u{u},i{(u + k) % 12},{rating},{k}\n" for u in range(20) for k in range(5))
    return f.text(name, header + "\n" + rows)


def _items(f: Files) -> str:
    return f.text("items.csv", "item,title\n" + "".join(f"i{j},film number {j}\n" for j in range(12)))


def _rec(f: Files, source: str, items: str | None = None) -> list[str]:
    return ["train", "recommendation/tiny", f"data.source={source}", f"data.items={items or _items(f)}"]


RECOMMENDATION = {
    **common_cases("recommendation"),
    "missing data file": lambda f: (_rec(f, f.missing("none.csv")), "no such file"),
    "missing items file": lambda f: (_rec(f, _interactions(f), f.missing("items.csv")),
                                     "data.items: no such file"),
    "missing column": lambda f: (_rec(f, _interactions(f, header="member,item,rating,timestamp")),
                                 "no column 'user'"),
    "empty split": lambda f: (_rec(f, f.text("empty.csv", "user,item,rating,timestamp\n")),
                              "holds no interactions"),
    "one-class labels": lambda f: (_rec(f, _interactions(f, rating=1)), "no interaction has a rating >= 4"),
    "non-utf8 text": lambda f: (_rec(f, _interactions(f), f.raw(
        "latin-items.csv", "item,title\ni1,caf\xe9\n".encode("latin-1"))), "not UTF-8"),
    "wrong section value type": lambda f: (["train", "recommendation/tiny", "model.history_items=many"],
                                           "model.history_items: expected an integer"),
    "a strategy that fits a head it has not": lambda f: (["train", "recommendation/tiny", "train.strategy=lp-ft"],
                                                         "lp-ft fits a classification head, and the recommendation "
                                                         "model has none"),
    "adapt: a domain that cannot": lambda f: (["adapt", finished("recommendation"), "--data", _interactions(f)],
                                              "recommendation runs cannot be continued on new data"),
    "data source that is a FIFO": lambda f: (_rec(f, f.fifo("interactions.csv")), "interactions.csv is a FIFO"),
    "items table that is a FIFO": lambda f: (_rec(f, _interactions(f), f.fifo("items.csv")),
                                             "data.items: " + str(f.root / "items.csv") + " is a FIFO"),
}


def _scans(f: Files, classes: tuple[str, ...] = ("normal", "lesion"), per_class: int = 12) -> str:
    for c, name in enumerate(classes):
        for i in range(per_class):
            f.image(f"scans/{name}/{i}.png", 40 + 100 * c + i)
    return str(f.root / "scans")


def _scan_csv(f: Files, header: str = "path,label") -> str:
    _scans(f)
    rows = "".join(f"scans/{name}/{i}.png,{name}\n" for name in ("normal", "lesion") for i in range(12))
    return f.text("scans.csv", header + "\n" + rows)


def _corrupt(f: Files) -> str:
    folder = _scans(f)
    f.raw("scans/lesion/broken.png", b"\x89PNG\r\n\x1a\n not really an image")
    return folder


DIAGNOSTICS = {
    "a trillion bootstrap replicates": lambda f: (["train", "diagnostics/tiny", "evaluation.bootstrap=1000000000000"],
                                                  "evaluation.bootstrap: expected an integer from 0 to 100,000"),
    "a trillion synthetic images": lambda f: (["train", "diagnostics/tiny", "data.synthetic.n_train=1000000000000"],
                                              "data.synthetic.n_train: expected an integer from 4 to 1,000,000"),
    "images x pixels beyond memory": lambda f: (["train", "diagnostics/tiny", "data.synthetic.n_train=1000000",
                                                 "data.synthetic.image_size=1024"],
                                                "the generated images, as bytes and as tensors would need about"),
    "LoRA target that names no module": lambda f: (["train", "diagnostics/tiny", "lora.enabled=true",
                                                    "lora.target_modules=[nope]"],
                                                   "lora.target_modules: 'nope' names no module of this model"),
    "frozen name that names no parameter": lambda f: (["train", "diagnostics/tiny", "train.frozen=[nope]"],
                                                      "train.frozen: 'nope' names no parameter"),
    **common_cases("diagnostics"),
    "missing data file": lambda f: (["train", "diagnostics/tiny", f"data.source={f.missing('none.csv')}"],
                                    "none.csv"),
    "missing column": lambda f: (["train", "diagnostics/tiny", f"data.source={_scan_csv(f, 'file,label')}"],
                                 "no column 'path'"),
    "empty split": lambda f: (["train", "diagnostics/tiny", "data.source=" + f.text("empty.csv", "path,label\n")],
                              "no rows"),
    "one-class labels": lambda f: (["train", "diagnostics/tiny", f"data.source={_scans(f, ('lesion',))}"],
                                   "only one class"),
    "non-utf8 text": lambda f: (["train", "diagnostics/tiny", "data.source=" + f.raw(
        "latin.csv", "path,label\ncaf\xe9.png,normal\n".encode("latin-1"))], "not UTF-8"),
    "corrupt image": lambda f: (["train", "diagnostics/tiny", f"data.source={_corrupt(f)}"],
                                "broken.png: cannot read image"),
    "wrong section value type": lambda f: (["train", "diagnostics/tiny", "model.image_size=big"],
                                           "model.image_size: expected an integer"),
    "label budget below two per class": lambda f: (["train", "diagnostics/tiny", "data.label_budget=3"],
                                                   "fewer than 2 x 2 classes"),
    "label budget larger than the data": lambda f: (["train", "diagnostics/tiny", "data.label_budget=100000"],
                                                    "but the training and validation splits hold 320"),
    "contrastive tuning of an image model": lambda f: (["train", "diagnostics/tiny", "train.strategy=contrastive"],
                                                       "tunes a text encoder on pairs of labelled examples, which the "
                                                       "diagnostics domain has not"),
    "a model strategy key that moved": lambda f: (["train", "diagnostics/tiny", "model.strategy=linear-probe"],
                                                  "unknown key 'model.strategy'"),
    "data source that is a FIFO": lambda f: (["train", "diagnostics/tiny", f"data.source={f.fifo('scans.csv')}"],
                                             "scans.csv is a FIFO"),
    "a symbolic link loop in an image folder": lambda f: (
        ["train", "diagnostics/tiny", f"data.source={_with(f, _scans(f), loop='scans/lesion/loop.png')}"],
        "lesion/loop.png is a symbolic link loop"),
    "a .npz cut short": lambda f: (["train", "diagnostics/tiny", f"data.source={_npz(f, cut=True)}"],
                                   "scans.npz: not a readable .npz file (File is not a zip file)"),
    "a .npz of a zip version Python cannot read": lambda f: (
        ["train", "diagnostics/tiny", f"data.source={_npz(f, version=64)}"],
        "scans.npz: not a readable .npz file (zip file version 6.4)"),
    "data.cache_dir that is a file": lambda f: (["train", "diagnostics/tiny", f"data.cache_dir={f.text('c', 'x')}"],
                                                "data.cache_dir '" + str(f.root / "c") + "' is a file, not a folder"),
    "SUITE_CACHE that is a file": lambda f: (["train", "diagnostics/tiny"], _environ(f, "SUITE_CACHE", f.text(
        "cache", "x"), "$SUITE_CACHE '" + str(f.root / "cache") + "' is a file, not a folder")),
}


def _npz(f: Files, *, cut: bool = False, version: int | None = None) -> str:
    """A MedMNIST-layout .npz, damaged as tests/test_readers_property.py found: cut in half (BadZipFile), or its
    central directory naming a zip version Python cannot extract (NotImplementedError)."""
    import io

    buffer = io.BytesIO()
    np.savez_compressed(buffer, **{f"{part}_{kind}": np.zeros((4, 8, 8) if kind == "images" else (4, 1), np.uint8)
                                   for part in ("train", "val", "test") for kind in ("images", "labels")})
    data = bytearray(buffer.getvalue())
    if version is not None:
        start = data.find(b"PK\x01\x02")                 # the first central directory entry
        data[start + 6:start + 8] = version.to_bytes(2, "little")
    return f.raw("scans.npz", bytes(data[:len(data) // 2] if cut else data))


def _with(f: Files, folder: str, *, fifo: str | None = None, loop: str | None = None,
          empty: str | None = None) -> str:
    """``folder`` after adding a FIFO, a symbolic link loop or an empty file (names relative to the case's root)."""
    if empty:
        f.raw(empty, b"")
    if fifo:
        f.fifo(fifo)
    if loop:
        f.loop(loop)
    return folder


def _environ(f: Files, name: str, value: str, fragment: str) -> str:
    """Set environment variable ``name`` for the case; return ``fragment``."""
    f.environ[name] = value
    return fragment

def _catalogs(f: Files, entries: str = 'msgid "Open file"\nmsgstr "Datei öffnen"\n', count: int = 2) -> str:
    for i in range(count):
        f.text(f"po/app{i}.po", entries.replace("Open", f"Open {i}"))
    return str(f.root / "po")


def _tr(source: str, *extra: str) -> list[str]:
    return ["train", "translation/tiny", f"data.source={source}", "data.test_catalogs=[]", *extra]


TRANSLATION = {
    **common_cases("translation"),
    "missing data file": lambda f: (_tr(f.missing("none.po")), "no such file or folder"),
    "missing column": lambda f: (_tr(f.text("pairs.tsv", "en\tde\nOpen\tÖffnen\n")), "no column 'source'"),
    "empty split": lambda f: (_tr(_catalogs(f, 'msgid "Open file"\nmsgstr ""\n')), "holds no translated pairs"),
    "one catalog for a by-catalog split": lambda f: (_tr(_catalogs(f, count=1)), "at least two catalogs"),
    "non-utf8 text": lambda f: (_tr(f.raw("po/latin.po", 'msgid "Caf\xe9"\nmsgstr "Caf\xe9"\n'.encode("latin-1"))),
                                "not UTF-8"),
    "malformed catalog": lambda f: (_tr(f.text("po/bad.po", 'msgid "Open"\nmsgstr "x"\ngarbage line\n')),
                                    "not a valid gettext catalog"),
    "unknown language code": lambda f: (["train", "translation/tiny", "data.target_language=German"],
                                        "unknown language code 'German'"),
    "unknown test catalog": lambda f: (["train", "translation/tiny", "data.test_catalogs=[nope]"],
                                       "no catalog named nope"),
    "wrong section value type": lambda f: (["train", "translation/tiny", "model.num_beams=many"],
                                           "model.num_beams: expected an integer"),
    "empty catalog after cleaning": lambda f: (_tr(_catalogs(f, f'msgid "Open {"very " * 20}long"\nmsgstr "x"\n')),
                                               "no pairs left after cleaning"),
    "model folder of another architecture": lambda f: (
        ["train", "translation/tiny", "model.source=" + str(Path(f.text("resnet/config.json",
                                                                        '{"architecture": "resnet50"}')).parent)],
        "describes a 'resnet50' model"),
    "data source that is a FIFO": lambda f: (_tr(f.fifo("app.po")), "app.po is a FIFO"),
    "an empty .mo catalog": lambda f: (_tr(_with(f, _catalogs(f), empty="po/empty.mo")),
                                       "po/empty.mo: not a valid gettext catalog"),
    "a FIFO among the catalogs": lambda f: (_tr(_with(f, _catalogs(f), fifo="po/pipe.po")), "po/pipe.po is a FIFO"),
    "Firefox Translations folder without its tokenizer": lambda f: (
        ["train", "translation/tiny", "model.source=" + str(Path(f.raw("enpt/model.enpt.intgemm.alphas.bin",
                                                                       b"\0" * 64)).parent)], "no tokenizer.json"),
}

def finished(domain: str) -> str:
    """The finished run of ``domain`` in the runs folder (see the ``runs`` fixture): settings, no real weights,
    so a case that reached the model loading would fail differently."""
    return f"finished-{domain}"


def predict_cases(domain: str) -> dict[str, Callable[[Files], Case]]:
    """Predict cases every domain shares: caught before the model loads, nothing written."""
    run = finished(domain)
    return {
        "predict: empty input file": lambda f: (["predict", run, "--input", f.text("empty.txt", "") if domain !=
                                                 "diagnostics" else _folder(f, "no-images", {"notes.txt": "x"})],
                                                "no inputs" if domain != "diagnostics" else "no images"),
        "predict: output of an unknown kind": lambda f: (["predict", run, "x", "--output", f.missing("out.txt")],
                                                         "unknown kind '.txt'"),
        "predict: output into a missing folder": lambda f: (["predict", run, "x", "--output",
                                                             f.missing("missing-dir/out.jsonl")], "no folder"),
        "predict: output that exists": lambda f: (["predict", run, "x", "--output", f.text("done.jsonl", "{}\n")],
                                                  "file exists"),
        "predict: input name too long": lambda f: (["predict", run, "--input", "i" * 300], "--input: iii"),
        "predict: --input that is a FIFO": lambda f: (["predict", run, "--input", f.fifo("pipe.txt")],
                                                      "pipe.txt is a FIFO (named pipe); expected a regular file"),
        "predict: --input that is a device": lambda f: (["predict", run, "--input", "/dev/zero"],
                                                        "--input: /dev/zero is a device"),
        "predict: --input on /proc": lambda f: (["predict", run, "--input", "/proc/self/status"],
                                                "on the pseudo file system /proc"),
        "predict: --output that is a FIFO": lambda f: (["predict", run, "x", "--output", f.fifo("out.jsonl")],
                                                       "out.jsonl is a FIFO"),
        "predict: --output into /proc": lambda f: (["predict", run, "x", "--output", "/proc/out.jsonl"],
                                                   "--output's folder '/proc': /proc is on the pseudo file system"),
        "predict: weights with a garbage header": lambda f: (["predict", run, VALID_INPUT[domain](f)],
                                                             "model.safetensors: damaged weights (Error while "
                                                             "deserializing header"),
        "predict: a damaged calibration": lambda f: (["predict", run, VALID_INPUT[domain](f)],
                                                     _damage(run, "calibrations/20260101-000000-000000.json",
                                                             '{"threshold": 0.5,', "not valid JSON")),
        "predict: a truncated metrics.json": lambda f: (["predict", run, VALID_INPUT[domain](f)],
                                                        _damage(run, "metrics.json", '{"models": {"tun',
                                                                "expected the run's metrics")),
        "eval: a truncated metrics.json": lambda f: (["eval", run], _damage(run, "metrics.json", '{"models"',
                                                                            "metrics.json: damaged (not valid JSON")),
        "eval: weights with a garbage header": lambda f: (["eval", run], "model.safetensors: damaged weights"),
        "eval: a calibration that is not a record": lambda f: (["eval", run], _damage(
            run, "calibrations/20260101-000000-000000.json", '["a list"]', "(a JSON list, not a dict)")),
        "eval: --data that is a FIFO": lambda f: (["eval", run, "--data", f.fifo("pipe.csv")], "pipe.csv is a FIFO"),
    }


# an input each domain's predict accepts before its model loads
VALID_INPUT = {"spam": lambda f: "hello", "recommendation": lambda f: "user:u1", "translation": lambda f: "Open",
               "diagnostics": lambda f: f.image("scan.png", 90)}


def _damage(run: str, name: str, content: str, fragment: str) -> str:
    """Write ``content`` over ``name`` in the finished run ``run`` (before the snapshot); return ``fragment``."""
    path = Path(run) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")
    return fragment


SPAM.update({
    **predict_cases("spam"),
    "max_length of a million": lambda f: (["train", "spam/tiny", "model.max_length=1000000"],
                                          "model.max_length: expected an integer from 8 to 8,192"),
    "batch x length beyond memory": lambda f: (["train", "spam/tiny", "train.batch_size=65536",
                                                "model.max_length=8192"],
                                               "lower train.batch_size or model.max_length"),
    "an optimiser step larger than the data": lambda f: (["train", "spam/tiny",
                                                          "train.gradient_accumulation_steps=65536"],
                                                         "examples per optimiser step, more than the"),
    "calibrate at a 100% false-positive rate": lambda f: (
        ["calibrate", finished("spam"), "--data", f.text("new.csv", "text,label\nhi,ham\n"), "--target-fpr", "1"],
        "filters nothing; a rate is a share (1% is 0.01 or 1%)"),
    "serve never answering a lone request": lambda f: (["serve", finished("spam"), "--max-wait-ms", "inf"],
                                                       "--max-wait-ms: expected a number from 0 to 10,000"),
    "serve with batches of none": lambda f: (["serve", finished("spam"), "--max-batch", "0"],
                                             "--max-batch: expected a number from 1 to 4,096"),
    "predict: table without the trained text column": lambda f: (
        ["predict", finished("spam"), "--input", f.text("mail.csv", "body\nhello\n")],
        "trained with data.text_column 'text'"),
    "predict: input not UTF-8": lambda f: (["predict", finished("spam"), "--input", f.raw("mail.txt", b"caf\xe9\n")],
                                           "not UTF-8"),
    "predict: --k for a spam model": lambda f: (["predict", finished("spam"), "x", "--k", "3"],
                                                "--k: a spam model does not take it"),
})
RECOMMENDATION.update({
    **predict_cases("recommendation"),
    "predict: table without user or items": lambda f: (
        ["predict", finished("recommendation"), "--input", f.text("who.csv", "member\nu1\n")],
        "expected a 'user' or an 'items' column"),
    "predict: --k 0": lambda f: (["predict", finished("recommendation"), "user:u1", "--k", "0"],
                                 "--k: expected an integer from 1"),
    "predict: --saliency for a recommendation model": lambda f: (
        ["predict", finished("recommendation"), "user:u1", "--saliency", f.missing("maps")],
        "--saliency: a recommendation model does not take it"),
})


def _huge_png(f: Files) -> str:
    """69 bytes whose PNG header claims 30000 x 30000 pixels."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 30000, 30000, 8, 0, 0, 0, 0)
    return f.raw("huge.png", b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b""))


DIAGNOSTICS.update({
    **predict_cases("diagnostics"),
    "predict: --saliency naming a file": lambda f: (
        ["predict", finished("diagnostics"), f.image("scan.png", 90), "--saliency", f.text("maps", "a file")],
        "a file, not a folder"),
    "predict: table not UTF-8": lambda f: (
        ["predict", finished("diagnostics"), "--input", f.raw("scans.csv", "path\ncaf\xe9.png\n".encode("latin-1"))],
        "not UTF-8"),
    "predict: an argument of 120 KB": lambda f: (["predict", finished("diagnostics"), "x" * 120_000],
                                                 "not an image file"),
    "predict: a missing image": lambda f: (["predict", finished("diagnostics"), f.missing("gone.png")],
                                           "no such image file"),
    "predict: an image that is a symbolic link loop": lambda f: (["predict", finished("diagnostics"),
                                                                  f.loop("loop.png")],
                                                                 "loop.png: not an image file (it is a symbolic "
                                                                 "link loop)"),
    "predict: a FIFO in an image folder": lambda f: (
        ["predict", finished("diagnostics"), "--input", _with(f, str(Path(f.image("imgs/a.png", 9)).parent),
                                                              fifo="imgs/b.png")], "imgs/b.png is a FIFO"),
    "predict: a PNG claiming 30000 x 30000 pixels": lambda f: (["predict", finished("diagnostics"), _huge_png(f)],
                                                              "megapixels suite reads"),
    "train: a PNG claiming 30000 x 30000 pixels": lambda f: (
        ["train", "diagnostics/tiny", f"data.source={_huge_in_folder(f)}"], "megapixels suite reads"),
    "predict: --k for a diagnostics model": lambda f: (["predict", finished("diagnostics"), f.image("s.png", 9),
                                                        "--k", "2"], "--k: a diagnostics model does not take it"),
})


def _huge_in_folder(f: Files) -> str:
    folder = _scans(f)
    (Path(folder) / "lesion" / "huge.png").write_bytes(Path(_huge_png(f)).read_bytes())
    return folder


TRANSLATION.update({
    **predict_cases("translation"),
    "predict: a .po output from a text input": lambda f: (
        ["predict", finished("translation"), "--input", f.text("strings.txt", "Open file\n"), "--output",
         f.missing("out.po")], "give a .po file as --input"),
    "predict: a .po output into a missing folder": lambda f: (
        ["predict", finished("translation"), "--input", f.text("app.po", 'msgid "Open"\nmsgstr ""\n'), "--output",
         f.missing("missing-dir/app.po")], "no folder"),
    "predict: a catalog whose Language header holds a line break": lambda f: (
        ["predict", finished("translation"), "--input", f.raw("app.po", rb"""msgid ""
msgstr "Language: pt_BR\n"
"#, x\n"

msgid "Open"
msgstr ""
""")], "the catalog's Language is 'pt_BR #, x' but"),       # found by tests/test_readers_property.py
    "predict: a catalog in another language than the model's": lambda f: (
        ["predict", finished("translation"), "--input", f.text("app.de.po", 'msgid ""\nmsgstr "Language: de\\n"\n\n'
                                                                          'msgid "Open"\nmsgstr ""\n')],
        "the catalog's Language is 'de' but the model translates into 'pt_BR'"),
})


def _export(f: Files, name: str, domain: str, graph: bytes, *, checksum: bytes | None = None) -> str:
    """A folder laid out as ``suite export --format onnx`` writes it, with ``graph`` as its model.onnx and the
    checksum of ``checksum`` (default: of the graph) in export.json."""
    import hashlib
    import json

    f.raw(f"{name}/model.onnx", graph)
    f.text(f"{name}/model/suite.json", '{"state": {}}')
    f.text(f"{name}/export.json", json.dumps({"format": "onnx", "domain": domain, "run": f.missing("elsewhere"),
                                              "sha256": hashlib.sha256(checksum or graph).hexdigest()}))
    return str(f.root / name)


def _run_exported_as(f: Files, domain: str) -> str:
    """A finished spam run whose record of its ONNX export points to a folder now holding a ``domain`` export."""
    import json

    exported = _export(f, "exported", domain, b"graph")
    run = _folder(f, "spam-run", {"recipe.yaml": "domain: spam\nname: tiny\n", "metrics.json": '{"models": {}}',
                                  "exports/20261207-120000-000000.json": json.dumps({"format": "onnx",
                                                                                     "folder": exported})})
    return run


SPAM.update({
    "predict: --engine onnx on a run never exported": lambda f: (
        ["predict", finished("spam"), "hello", "--engine", "onnx"], "the run has no ONNX export; make one with"),
    "serve: --engine onnx on a run never exported": lambda f: (
        ["serve", finished("spam"), "--engine", "onnx"], "the run has no ONNX export"),
    "predict: a corrupted .onnx": lambda f: (
        ["predict", _export(f, "corrupt", "spam", b"\x08\x07 not a protobuf"), "hello", "--engine", "onnx"],
        "ONNX Runtime cannot load it"),
    "predict: an .onnx changed after the export": lambda f: (
        ["predict", _export(f, "changed", "spam", b"graph", checksum=b"another graph"), "hello", "--engine", "onnx"],
        "not the file the export wrote"),
    "predict: the run's export folder now holds another domain's export": lambda f: (
        ["predict", _run_exported_as(f, "diagnostics"), "hello", "--engine", "onnx"],
        "holds an ONNX export of a diagnostics run, not of this spam run"),
    "predict: an exported folder with the torch engine": lambda f: (
        ["predict", _export(f, "plain", "spam", b"graph"), "hello"], "an ONNX export holds no PyTorch model"),
    "export: --int8 with a format that is not onnx": lambda f: (
        ["export", finished("spam"), f.missing("out"), "--format", "marian", "--int8"],
        "a spam run has no marian export; it exports to --format onnx"),
})
TRANSLATION.update({
    "export: to onnx": lambda f: (["export", finished("translation"), f.missing("out"), "--format", "onnx"],
                                  "a translation run has no onnx export; it exports to --format marian"),
})


ANY_DOMAIN = {
    "unknown domain": lambda f: (["train", f.text("d.yaml", "domain: weather\nname: x\n")],
                                 "unknown domain 'weather'"),
    "predict from a missing run": lambda f: (["predict", f.missing("no-run"), "hello"], "no such run folder"),
    "predict from a non-run folder": lambda f: (["predict", str(f.root), "hello"], "not a run folder"),
    "resume a folder that is not a run": lambda f: (["train", "--resume", str(f.root)], "not a run folder"),
    "resume a user's folder holding a recipe": lambda f: (
        ["train", "--resume", _folder(f, "notes", {"recipe.yaml": "domain: spam\nname: tiny\n", "README.md": "mine"})],
        "not a run folder made by suite train"),
}

TABLES = {"spam": SPAM, "recommendation": RECOMMENDATION, "diagnostics": DIAGNOSTICS, "translation": TRANSLATION,
          "any": ANY_DOMAIN}
CASES = [pytest.param(domain, name, id=f"{domain}: {name}") for domain, table in TABLES.items() for name in table]


def folder_snapshot(path: Path) -> dict:
    """{relative path: bytes} of every file and folder under ``path``: to prove nothing was changed."""
    return {str(p.relative_to(path)): p.read_bytes() if p.is_file() else None for p in sorted(path.rglob("*"))}


@pytest.fixture
def runs(tmp_path, monkeypatch):
    """A runs folder (the working directory) holding finished runs, as a user's would: one bare, and one per
    domain with its tiny recipe and saved settings but no real weights."""
    import yaml

    from suite.core.config import save_settings
    from suite.core.recipe import load_recipe

    runs = tmp_path / "runs"
    run = runs / EXISTING_RUN
    (run / "model").mkdir(parents=True)
    (run / "recipe.yaml").write_text("domain: spam\nname: tiny\n", encoding="utf-8")
    (run / "metrics.json").write_text('{"models": {}}\n', encoding="utf-8")
    (run / "model" / "model.safetensors").write_bytes(b"weights")
    for domain in ("spam", "recommendation", "translation", "diagnostics"):
        recipe, folder = load_recipe(f"{domain}/tiny"), runs / finished(domain)
        (folder / "model").mkdir(parents=True)
        (folder / "recipe.yaml").write_text(yaml.safe_dump(recipe.to_dict()), encoding="utf-8")
        (folder / "metrics.json").write_text('{"models": {}}\n', encoding="utf-8")
        save_settings(folder / "model", {"model": recipe.model, "data": recipe.data})
        (folder / "model" / "model.safetensors").write_bytes(b"not weights")
    monkeypatch.chdir(runs)
    return runs


@pytest.mark.parametrize("domain, case", CASES)
def test_bad_input_exits_2_with_one_line_and_touches_no_run(domain, case, runs, tmp_path, capsys, monkeypatch):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    files = Files(inputs)
    argv, expected = TABLES[domain][case](files)
    for name, value in files.environ.items():
        monkeypatch.setenv(name, value)
    if argv[0] == "train" and argv[1] != "--resume" and not any(a.startswith("output.runs_dir=") for a in argv):
        argv = [*argv, f"output.runs_dir={runs}"]
    before = folder_snapshot(runs)
    code = main(argv)
    _, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert code == 2, err[-2000:]
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], err[-2000:]
    assert folder_snapshot(runs) == before
