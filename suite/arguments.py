"""Command-line options that several subcommands share, so that one idea has one spelling everywhere
(``suite predict``, ``suite calibrate`` and ``suite serve`` all take ``--system``)."""

from __future__ import annotations

import argparse


def add_system_argument(parser: argparse.ArgumentParser) -> None:
    """``--system tuned|hybrid``: which of a finished run's systems to use (predict, calibrate, serve)."""
    from suite.core.results import SERVABLE, TUNED

    parser.add_argument("--system", choices=SERVABLE, default=TUNED,
                        help="the tuned model (default), or the run's saved hybrid: the tuned model blended with the "
                             "classical baselines at the weights and threshold chosen on validation (spam)")


def add_engine_argument(parser: argparse.ArgumentParser) -> None:
    """``--engine torch|onnx``: run the model with PyTorch, or its ONNX export with ONNX Runtime (predict, serve)."""
    parser.add_argument("--engine", choices=("torch", "onnx"), default="torch",
                        help="torch (default): the run's PyTorch model; onnx: its ONNX export run by ONNX Runtime (the "
                             "newest 'suite export RUN OUT --format onnx' of the run, or an exported folder given "
                             "instead of the run), with the same answers' form and threshold")
