"""Reports of a benchmark's ``results.json``: Markdown tables, PNG plots and one self-contained HTML page.

The tables are built once, as rows of strings (:func:`tables`), and rendered twice: as
Markdown (``results.md``, the README table) and as HTML (``report.html``, the plots
embedded as base64 PNG so the single file opens anywhere).
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any

from suite.bench import budget, plots
from suite.core import runs
from suite.core.errors import RunError
from suite.core.results import BASELINE, TUNED, is_number, role_of

# Systems the summary table names by label (plan conventions; see recipes/bench/*.yaml).
SUMMARY_SYSTEMS = (("zero-shot", "zero-shot"), ("linear probe", "linear-probe"), ("scratch", "scratch"),
                   ("full fine-tune", "full"), ("LoRA", "lora"), ("hybrid", "hybrid"))
COST_COLUMNS = ["trainable params", "total params", "train time", "train samples/s", "inference /s", "peak RSS",
                "train GFLOP/s (share of peak)"]
Table = tuple[list[str], list[list[str]]]   # header, rows


def load_results(path: str | Path) -> dict:
    """Read a ``results.json`` written by ``suite bench``.

    Raises:
        RunError: no such file, or not a benchmark results file.
    """
    path = Path(path).expanduser()
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunError(f"{path}: no such results file") from None
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise RunError(f"{path}: not a readable results file ({type(error).__name__})") from None
    if not isinstance(results, dict) or not isinstance(results.get("domains"), dict):
        raise RunError(f"{path}: not a suite bench results file (no 'domains')")
    return results


def write_reports(results_path: str | Path) -> dict[str, Path]:
    """Write ``results.md``, ``report.html`` and ``plots/*.png`` beside a ``results.json``.

    Returns:
        ``{"markdown": path, "html": path, "plots": folder}``.

    Raises:
        RunError: the results file cannot be read.
    """
    results_path = Path(results_path)
    results = load_results(results_path)
    out = results_path.parent
    figures = make_plots(results, out / "plots")
    relative = {name: path.relative_to(out).as_posix() for name, path in figures.items()}
    markdown_path = runs.atomic_write_text(out / "results.md", markdown(results, plots=relative))
    html_path = runs.atomic_write_text(out / "report.html", html_page(results, plots=figures))
    return {"markdown": markdown_path, "html": html_path, "plots": out / "plots"}


def tables(results: dict) -> dict[str, Table]:
    """Every table of the report: ``summary``, per domain ``domain:<name>`` (its runs' systems),
    ``budget:<name>`` (its label-budget curve) and ``budget-cost:<name>`` (what each strategy cost at each size),
    ``compute``, ``environment``."""
    built = {"summary": _summary(results)}
    for name, entry in results["domains"].items():
        if entry.get("systems") or not entry.get("budget"):      # a failed domain's table names its failures
            built[f"domain:{name}"] = _domain_table(entry, results.get("compute", {}))
        if entry.get("budget"):
            built[f"budget:{name}"] = budget.table(entry["budget"])
            if any(p.get("costs") for p in entry["budget"]["points"]):
                built[f"budget-cost:{name}"] = budget.cost_table(entry["budget"])
    built["compute"] = _compute_table(results)
    built["environment"] = _environment_table(results)
    return built


def verdicts(results: dict) -> list[str]:
    """One sentence per domain: from how many labelled examples tuning pays (a label-budget curve), or how the
    ``full`` run compares with the best classical baseline (plain runs)."""
    return [budget.verdict(name, entry["budget"]) if entry.get("budget") else runs_verdict(name, entry)
            for name, entry in results["domains"].items() if entry.get("budget") or "full" in entry.get("systems", {})]


def runs_verdict(domain: str, entry: dict) -> str:
    """One plain sentence on a domain measured by plain runs: the ``full`` run against the best baseline on the
    primary metric, and on the plan's operating ``figure`` where it names one."""
    systems, metric = entry["systems"], entry.get("primary_metric")
    sign = 1 if entry.get("greater_is_better", True) else -1
    tuned = systems["full"]["metrics"].get(metric)
    baselines = {name: s["metrics"].get(metric) for name, s in systems.items()
                 if _role(name, s) == BASELINE and is_number(s["metrics"].get(metric))}
    if not baselines or not is_number(tuned):
        return f"{domain}: no classical baseline was scored beside the tuned model, so this run cannot say."
    best = max(baselines, key=lambda name: sign * baselines[name])
    pays = sign * tuned > sign * baselines[best]
    sentence = (f"{domain}: the tuned model {'beats' if pays else 'does not beat'} the best classical baseline on "
                f"{metric}, {_number_text(tuned)} against {best.removeprefix('baseline:')}'s "
                f"{_number_text(baselines[best])}")
    untuned = systems.get("zero-shot", {}).get("metrics", {}).get(metric)
    sentence += f" (the untuned pretrained model: {_number_text(untuned)})" if is_number(untuned) else ""
    figure = entry.get("figure")
    if figure and is_number(systems["full"]["metrics"].get(figure)):
        others = ", ".join(f"{name.removeprefix('baseline:')} {_number_text(s['metrics'][figure])}"
                           for name, s in systems.items() if name != "full" and is_number(s["metrics"].get(figure)))
        sentence += f"; {figure}: tuned {_number_text(systems['full']['metrics'][figure])}"
        sentence += f" ({others})" if others else ""
    return sentence + "."


def _number_text(value: float) -> str:
    return f"{value:.4g}"


def markdown(results: dict, *, plots: dict[str, str] | None = None) -> str:
    """The report as Markdown; ``plots`` maps titles to relative PNG paths to link."""
    parts = [f"# Benchmark: plan `{results['plan']['name']}`", "", _provenance(results), ""]
    if verdicts(results):
        parts += ["## Where tuning pays", "", *(f"- {line}" for line in verdicts(results)), ""]
    for key, (header, rows) in tables(results).items():
        parts += [f"## {title(key, results)}", "", markdown_table(header, rows), ""]
        parts += _failures(results, key)
    if plots:
        parts += ["## Plots", "", *(f"- [{name}]({path})" for name, path in plots.items()), ""]
    return "\n".join(parts)


def html_page(results: dict, *, plots: dict[str, Path] | None = None) -> str:
    """The report as one HTML page with every table and the PNG plots embedded (no other file needed)."""
    body = [f"<h1>Benchmark: plan {_e(results['plan']['name'])}</h1>", f"<p>{_e(_provenance(results))}</p>"]
    if verdicts(results):
        body += ["<h2>Where tuning pays</h2>", "<ul>", *(f"<li>{_e(line)}</li>" for line in verdicts(results)),
                 "</ul>"]
    for key, (header, rows) in tables(results).items():
        body += [f"<h2>{_e(title(key, results))}</h2>", _html_table(key, header, rows)]
        body += [f"<p class=\"failure\">{_e(line.removeprefix('- '))}</p>" for line in _failures(results, key) if line]
    for name, path in (plots or {}).items():
        data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
        body += [f"<h2>{_e(name)}</h2>", f"<img alt=\"{_e(name)}\" src=\"data:image/png;base64,{data}\">"]
    style = ("body{font-family:sans-serif;margin:2em;max-width:75em}table{border-collapse:collapse;margin:1em 0}"
             "td,th{border:1px solid #bbb;padding:.25em .6em;text-align:right}td:first-child,th:first-child"
             "{text-align:left}img{max-width:100%}.failure{color:#a00}")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>suite bench: {_e(results['plan']['name'])}</title><style>{style}</style></head>\n<body>\n"
            + "\n".join(body) + "\n</body></html>\n")


def make_plots(results: dict, folder: Path) -> dict[str, Path]:
    """Per domain: primary metric against training time, and learning curves; plus compute efficiency."""
    figures: dict[str, Path] = {}
    out = Path(folder).parent
    for name, entry in results["domains"].items():
        systems, metric = entry.get("systems") or {}, entry.get("primary_metric")
        if entry.get("budget"):
            figures[f"{name}: label budget"] = budget.plot(name, entry["budget"], folder / f"{name}-budget.png")
        if not systems or not metric:
            continue
        points = {s: (v["train_seconds"], v["metrics"][metric]) for s, v in systems.items()
                  if v.get("trained") and v.get("train_seconds") and metric in v["metrics"]}
        references = {s: v["metrics"][metric] for s, v in systems.items()
                      if not v.get("trained") and metric in v["metrics"]}
        figures[f"{name}: {metric} against training time"] = plots.metric_against_time(
            points, folder / f"{name}-metric-vs-time.png", metric=metric, references=references,
            title=f"{name}: {metric} (test) against training time")
        histories = {label: _history(out, run) for label, run in entry["runs"].items() if run["status"] == "ok"}
        figures[f"{name}: learning curves"] = plots.learning_curves_compare(
            {k: v for k, v in histories.items() if v}, folder / f"{name}-learning-curves.png", metric=metric,
            title=name)
    achieved = {f"{d} / {s}": v["training_flops_per_second"] for d, e in results["domains"].items()
                for s, v in (e.get("systems") or {}).items() if v.get("training_flops_per_second")}
    if achieved and results.get("compute"):
        estimated = [f"{d} / {s}" for d, e in results["domains"].items()
                     for s, v in (e.get("systems") or {}).items() if v.get("flops_source") == "estimate"]
        figures["training compute efficiency"] = plots.compute_efficiency(
            achieved, folder / "compute-efficiency.png", peak=results["compute"]["matmul_peak_flops"],
            estimated=estimated)
    return figures


# -- tables ----------------------------------------------------------------------------------
def _role(name: str, system: dict) -> str:
    """A system's role; results written before roles were recorded imply it by the name."""
    return system.get("role") or role_of(name)


def _summary(results: dict) -> Table:
    header = ["domain", "metric", "best baseline", *(label for label, _ in SUMMARY_SYSTEMS),
              "full / best baseline", "status"]
    rows = []
    for name, entry in results["domains"].items():
        systems, metric = entry.get("systems") or _largest_budget(entry), entry.get("primary_metric")
        if not entry.get("systems") and systems:
            name = f"{name} ({entry['budget']['points'][-1]['train_examples']:,} labelled)"
        def value(system: str, systems=systems, metric=metric):
            return systems.get(system, {}).get("metrics", {}).get(metric)

        sign = 1 if entry.get("greater_is_better", True) else -1
        baselines = {s: value(s) for s, v in systems.items() if _role(s, v) == BASELINE and value(s) is not None}
        best = max(baselines, key=lambda s: sign * baselines[s]) if baselines else None
        full = value("full")
        ratio = full / baselines[best] if best and full is not None and baselines[best] else None
        rows.append([name, metric or "–",
                     f"{_number(baselines[best])} ({best.removeprefix('baseline:')})" if best else "–",
                     *(_number(value(label)) for _, label in SUMMARY_SYSTEMS),
                     f"{ratio:.3f}x" if ratio is not None else "–", entry.get("status", "–")])
    return header, rows


def _largest_budget(entry: dict) -> dict:
    """A budget-only domain's systems at its largest size, in the shape of ``entry["systems"]`` (tuned as ``full``)."""
    if not entry.get("budget"):
        return {}
    point, metric = entry["budget"]["points"][-1], entry["budget"]["primary_metric"]
    return {("full" if name == TUNED else name): {"role": point["roles"].get(name), "metrics": {metric: value}}
            for name, value in point["systems"].items()}


def _domain_table(entry: dict, compute: dict) -> Table:
    metric = entry.get("primary_metric")
    others = [m for m in entry.get("headline_metrics") or [] if m != metric][:3]
    columns = [c for c in [metric, *others] if c]
    header = ["system", *columns, *COST_COLUMNS]
    sign = 1 if entry.get("greater_is_better", True) else -1
    systems = entry.get("systems", {})
    order = sorted(systems, key=lambda s: _best_first(systems[s]["metrics"].get(metric), sign))
    rows = [[system, *(_number(systems[system]["metrics"].get(c)) for c in columns), *_costs(systems[system])]
            for system in order]
    for label, run in entry["runs"].items():
        if run["status"] != "ok":
            rows.append([label, *(["failed"] + ["–"] * (len(columns) + len(COST_COLUMNS) - 1))])
    return header, rows


def _best_first(value: Any, sign: int) -> tuple[bool, float]:
    missing = not isinstance(value, (int, float)) or value != value
    return missing, 0.0 if missing else -sign * float(value)


def _costs(values: dict) -> list[str]:
    if not values.get("trained"):
        return ["–"] * len(COST_COLUMNS)
    share = values.get("share_of_matmul_peak")
    flops = values.get("training_flops_per_second")
    unit = values.get("inference_unit") or "samples"
    return [_count(values.get("trainable_parameters")), _count(values.get("total_parameters")),
            _seconds(values.get("train_seconds")), _number(values.get("train_samples_per_second")),
            f"{_number(values.get('inference_samples_per_second'))} {unit}" if values.get(
                "inference_samples_per_second") else "–",
            f"{values['peak_rss_mb'] / 1024:.2f} GB" if values.get("peak_rss_mb") else "–",
            f"{flops / 1e9:.2f} ({100 * share:.1f}%){'*' if values.get('flops_source') == 'estimate' else ''}"
            if flops and share else "–"]


def _compute_table(results: dict) -> Table:
    compute = results.get("compute") or {}
    rows = [["fp32 matmul peak", f"{compute['matmul_peak_flops'] / 1e9:.1f} GFLOP/s" if compute else "–"]]
    for when in ("matmul_at_start", "matmul_at_end"):
        if when in compute:
            m = compute[when]
            rows.append([when.replace("_", " "), f"{m['flops_per_second'] / 1e9:.1f} GFLOP/s "
                                                 f"({m['size']}x{m['size']}, {m['threads']} threads)"])
    rows.append(["training FLOPs", compute.get("flops_formula", "–") + "; * marks estimates"])
    rows.append(["LoRA and linear-probe rows", "the count assumes every weight gets a gradient; frozen weights skip "
                 "that third of the backward pass, so their share of the peak is overstated by up to 1.5x"])
    return ["quantity", "value"], rows


def _environment_table(results: dict) -> Table:
    env = results.get("environment") or {}
    keys = ("cpu_model", "usable_cpus", "cpu_count", "torch_threads", "device", "python", "platform", "seed",
            "git_commit")
    rows = [[key, "–" if env.get(key) is None else str(env[key])] for key in keys if key in env]
    rows += [[name, version] for name, version in (env.get("packages") or {}).items()]
    return ["what", "value"], rows


# -- rendering -------------------------------------------------------------------------------
def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    def line(cells):
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"
    return "\n".join([line(header), "|" + "---|" * len(header), *(line(r) for r in rows)])


def _html_table(key: str, header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join(f"<tr data-row=\"{_e(r[0])}\">" + "".join(f"<td>{_e(c)}</td>" for c in r) + "</tr>\n" for r in rows)
    return f"<table id=\"{_e(key)}\">\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody></table>"


def title(key: str, results: dict) -> str:
    if key.startswith("budget:"):
        name = key.split(":", 1)[1]
        curve = results["domains"][name]["budget"]
        return f"{name}: label budget, test {curve['primary_metric']} by labelled examples"
    if key.startswith("budget-cost:"):
        return f"{key.split(':', 1)[1]}: label budget, what each training strategy cost (mean over the draws)"
    if key.startswith("domain:"):
        name = key.split(":", 1)[1]
        entry = results["domains"][name]
        direction = "higher" if entry.get("greater_is_better", True) else "lower"
        return f"{name}: {entry.get('primary_metric', '?')} ({direction} is better), {entry.get('status')}"
    return {"summary": "Summary: primary metric on each domain's test split", "compute": "Compute",
            "environment": "Environment"}[key]


def _failures(results: dict, key: str) -> list[str]:
    if not key.startswith("domain:"):
        return []
    entry = results["domains"][key.split(":", 1)[1]]
    failed = [f"- {label} failed: {run['error']}" for label, run in entry["runs"].items() if run["status"] != "ok"]
    return [*failed, ""] if failed else []


def _provenance(results: dict) -> str:
    env = results.get("environment") or {}
    return (f"Made by `{results.get('command') or 'suite bench'}` on {results.get('created', '?')}, "
            f"in {_seconds(results.get('wall_seconds'))}; machine: {env.get('cpu_model', '?')}, "
            f"{env.get('usable_cpus', '?')} usable CPUs, {env.get('torch_threads', '?')} torch threads, "
            f"{env.get('device', '?')}." + _resumptions(results)
            + ("" if results.get("finished", True) else " The benchmark did not finish: only the runs listed ran."))


def _resumptions(results: dict) -> str:
    """`` Resumed by `CMD` (commit abc1234) on DATE.`` for each time a stopped benchmark was continued."""
    return "".join(f" Resumed by `{entry.get('command') or 'suite bench --resume'}` (commit "
                   f"{(entry.get('git_commit') or '?')[:7]}) on {entry.get('created', '?')}; the runs it found "
                   "finished were kept, the time above adds both parts."
                   for entry in results.get("resumed") or [])


def _history(out: Path, run: dict) -> list:
    try:
        return json.loads((out / run["run_dir"] / "logs" / "log_history.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []


def _number(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return "–"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.4f}" if abs(value) < 10 else f"{value:,.1f}"


def _count(value: Any) -> str:
    if not value:
        return "–" if value is None else "0"
    return f"{value / 1e6:.2f} M" if value >= 1e5 else f"{value:,}"


def _seconds(value: Any) -> str:
    if value is None:
        return "–"
    return f"{value:.1f} s" if value < 120 else f"{value / 60:.1f} min"


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)
