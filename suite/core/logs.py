"""Quiet libraries: what transformers, sentence-transformers and PEFT say goes to a log file, not the terminal.

A run's terminal output is its own: one progress bar per training and evaluation, then the
results table. The libraries' warnings and load reports (a tied-weights note for every
warm-started decoder, "Loading weights" bars, ANSI-coloured tables) go to the run's
``logs/libraries.log`` while a run is being made, and are dropped when a finished run is only
loaded or evaluated. A library's exception still ends the command with its one error line.
"""

from __future__ import annotations

import contextlib
import logging
import re
import warnings
from collections.abc import Iterator
from pathlib import Path

LIBRARY_LOGGERS = ("transformers", "sentence_transformers", "peft", "accelerate", "datasets", "timm")
LOG_FILE = "libraries.log"


@contextlib.contextmanager
def libraries_logging_to(log_file: Path | None) -> Iterator[None]:
    """While inside, library warnings go to ``log_file`` (None: nowhere) and library progress bars are off.

    Example:
        >>> with libraries_logging_to(run.logs_dir / LOG_FILE):
        ...     model = AutoModel.from_pretrained(folder)      # its load report lands in the file
    """
    from transformers.utils import logging as hf_logging

    handler = _file_handler(log_file)
    saved = [(name, logging.getLogger(name).level, logging.getLogger(name).handlers[:],
              logging.getLogger(name).propagate) for name in LIBRARY_LOGGERS]
    bars_were_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        for name in LIBRARY_LOGGERS:
            logger = logging.getLogger(name)
            logger.handlers = [handler] if handler else [logging.NullHandler()]
            logger.setLevel(logging.WARNING if handler else logging.ERROR)
            logger.propagate = False
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", module=r"(transformers|sentence_transformers|peft|torch|timm)\b")
            yield
    finally:
        for name, level, handlers, propagate in saved:
            logger = logging.getLogger(name)
            logger.handlers, logger.propagate = handlers, propagate
            logger.setLevel(level)
        if handler:
            handler.close()
        if bars_were_on:
            hf_logging.enable_progress_bar()


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class _PlainFormatter(logging.Formatter):
    """Library messages without terminal colour codes (transformers' load report has them)."""

    def format(self, record: logging.LogRecord) -> str:
        return _ANSI.sub("", super().format(record))


def _file_handler(log_file: Path | None) -> logging.Handler | None:
    if log_file is None:
        return None
    log_file.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.setFormatter(_PlainFormatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    return handler
