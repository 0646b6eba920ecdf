"""Translation metrics: sacreBLEU (BLEU, chrF++, TER with their signatures), placeholder
preservation and glossary term accuracy, in the shared ``metrics.json`` format.

- ``chrf``: chrF++ (character 6-grams plus word 2-grams), the primary metric; it credits
  a partly right compound ("Benutzerkonto" for "Benutzer-Konto") where BLEU gives nothing.
- ``placeholders_kept``: among test strings with at least one placeholder, the share whose
  output holds exactly the source's placeholders. Broken outputs are listed, not repaired.
- ``accelerators_kept``: among test strings with a keyboard accelerator (``_Open``), the
  share whose output has one too (``_Abrir``).
- ``term_accuracy``: for each (source term, target term) of the glossary where the source
  holds the term and the reference its translation, whether the output holds it too
  (case-insensitive). The glossary comes from a TSV or is mined from the training pairs.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from suite.core.errors import DataError
from suite.core.registry import Report
from suite.core.results import TUNED, ZERO_SHOT
from suite.translation import extra_tests, strings
from suite.translation.config import TranslationEvalConfig

HEADLINE = ["chrf", "bleu", "ter", "placeholders_kept", "term_accuracy", "general_chrf", "help_chrf"]
_WORD = re.compile(r"\w+")


def corpus_scores(hypotheses: list[str], references: list[str]) -> dict:
    """BLEU, chrF++ and TER of ``hypotheses`` against one reference each, with sacreBLEU signatures."""
    from sacrebleu.metrics import BLEU, CHRF, TER

    scores, signatures = {}, {}
    for key, metric in (("bleu", BLEU()), ("chrf", CHRF(word_order=2)), ("ter", TER())):
        result = metric.corpus_score(hypotheses, [references])
        scores[key] = round(result.score, 2)
        signatures[key] = str(metric.get_signature())
    return {**scores, "signatures": signatures}


def placeholder_report(sources: list[str], outputs: list[str], *, shown: int = 10) -> dict:
    """Placeholder preservation over the strings that have placeholders, with the broken ones listed."""
    with_placeholders = [(s, o) for s, o in zip(sources, outputs) if strings.placeholders(s)]
    broken = [(s, o) for s, o in with_placeholders if not strings.placeholders_kept(s, o)]
    total = len(with_placeholders)
    return {"placeholders_kept": round(1 - len(broken) / total, 4) if total else None,
            "strings_with_placeholders": total, "placeholders_broken": len(broken),
            "broken_examples": [{"source": s, "output": o} for s, o in broken[:shown]]}


def accelerator_report(sources: list[str], outputs: list[str]) -> dict:
    """Among test strings whose source has a keyboard accelerator (``_Open``), the share whose output has one
    too, with the same marker (where it goes is the translator's choice: ``Aj_uda``)."""
    marked = [kept for s, o in zip(sources, outputs) if (kept := strings.accelerator_kept(s, o)) is not None]
    kept = sum(marked)
    return {"accelerators_kept": round(kept / len(marked), 4) if marked else None,
            "strings_with_accelerators": len(marked)}


def mine_glossary(pairs: list[tuple[str, str]], *, min_count: int, min_dice: float) -> dict[str, str]:
    """Source word -> target word pairs that translate each other consistently in ``pairs``.

    A word of four or more letters qualifies when it occurs in at least ``min_count``
    pairs and one target word co-occurs with it with Dice coefficient >= ``min_dice``.
    """
    source_count, target_count, joint = Counter(), Counter(), Counter()
    for source, target in pairs:
        source_words = {w.lower() for w in _WORD.findall(source) if len(w) >= 4 and not w.isdigit()}
        target_words = {w.lower() for w in _WORD.findall(target) if len(w) >= 3 and not w.isdigit()}
        source_count.update(source_words)
        target_count.update(target_words)
        joint.update((s, t) for s in source_words for t in target_words)
    best: dict[str, tuple[float, int, str]] = {}
    for (s, t), together in joint.items():
        if source_count[s] < min_count or together < min_count / 2:
            continue
        dice = 2 * together / (source_count[s] + target_count[t])
        # ties go to the pair seen together more often, then to the word last in sort order,
        # so the glossary never depends on the order of the pairs or of Python's hash seed
        if dice >= min_dice and (dice, together, t) > best.get(s, (0.0, 0, "")):
            best[s] = (dice, together, t)
    return {s: t for s, (_, _, t) in sorted(best.items())}


def read_glossary(path: str) -> dict[str, str]:
    """A glossary TSV (source term, target term; a header row named source/target is optional).

    Raises:
        DataError: missing file or a row without two columns.
    """
    file = Path(path).expanduser()
    if not file.is_file():
        raise DataError(f"evaluation.glossary: no such file: {file}")
    terms = {}
    for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) < 2 or not parts[0].strip() or not parts[1].strip():
            raise DataError(f"{file}:{number}: expected 'source term<TAB>target term'")
        if number == 1 and parts[0].strip().lower() == "source":
            continue
        terms[parts[0].strip().lower()] = parts[1].strip().lower()
    if not terms:
        raise DataError(f"{file}: holds no terms")
    return terms


def term_accuracy(sources: list[str], references: list[str], outputs: list[str], glossary: dict[str, str]) -> dict:
    """Share of glossary term occurrences (source term present, reference uses its translation)
    that the output translates with the glossary's term."""
    hits = total = 0
    for source, reference, output in zip(sources, references, outputs):
        source_words = {w.lower() for w in _WORD.findall(source)}
        for term, translation in glossary.items():
            if _has_term(term, source, source_words) and translation in reference.lower():
                total += 1
                hits += translation in output.lower()
    return {"term_accuracy": round(hits / total, 4) if total else None, "term_occurrences": total,
            "glossary_terms": len(glossary)}


def _has_term(term: str, source: str, words: set[str]) -> bool:
    return term in words if " " not in term else term in source.lower()


def system_report(sources: list[str], references: list[str], outputs: list[str], glossary: dict[str, str]) -> dict:
    """Every metric of one system on the test split."""
    report = {**corpus_scores(outputs, references), **placeholder_report(sources, outputs),
              **accelerator_report(sources, outputs), **term_accuracy(sources, references, outputs, glossary),
              "test_strings": len(sources)}
    report["exact_match"] = round(sum(o == r for o, r in zip(outputs, references)) / max(len(outputs), 1), 4)
    return report


def examples_section(sources: list[str], references: list[str], outputs: dict[str, list[str]], count: int) -> str:
    """A Markdown table of the first ``count`` test strings and each system's output."""
    names = list(outputs)
    lines = ["## Example translations (test split)", "",
             "| source | reference | " + " | ".join(names) + " |", "|---" * (2 + len(names)) + "|"]
    for i in range(min(count, len(sources))):
        cells = [sources[i], references[i]] + [outputs[name][i] for name in names]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines)


def broken_placeholders_section(report: dict) -> str:
    """A Markdown list of the tuned model's outputs that lost or altered a placeholder."""
    lines = ["## Placeholders the tuned model broke", ""]
    if not report.get("strings_with_placeholders"):
        return "\n".join(lines + ["No test string has a placeholder."])
    lines.append(f"{report['placeholders_broken']} of {report['strings_with_placeholders']} test strings with "
                 "placeholders; outputs are shown as generated, never repaired.")
    lines += ["", "| source | output |", "|---|---|"]
    lines += [f"| {_cell(e['source'])} | {_cell(e['output'])} |" for e in report["broken_examples"]]
    return "\n".join(lines)


def constrained_decoding_section(free: dict) -> str:
    """What the same network scores without placeholder-constrained decoding."""
    kept = "n/a" if free["placeholders_kept"] is None else f"{free['placeholders_kept']:.1%}"
    return "\n".join(["## Placeholder-constrained decoding", "",
                      "The figures above decode with `model.placeholders: constrained`: only the source's "
                      "placeholders may be generated, each once, and not ending before all are out "
                      "(suite/translation/decoding.py). Decoding freely, the same network keeps the "
                      f"placeholders of {kept} of the strings that have them, at chrF++ {free['chrf']} and "
                      f"BLEU {free['bleu']}."])


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def read_glossary_or_mine(glossary: str | None, train_pairs: list[tuple[str, str]], cfg: TranslationEvalConfig):
    """The recipe's glossary file, or one mined from the training pairs."""
    if glossary:
        return read_glossary(glossary), "file"
    return mine_glossary(train_pairs, min_count=cfg.glossary_min_count, min_dice=cfg.glossary_min_dice), "mined"



def round_trip_report(sources: list[str], references: list[str], training_targets: list[str],
                      tokenizer_folder) -> dict:
    """What an uncased tokenizer costs, measured on references alone (no model involved).

    Each reference goes through the tokenizer and back, as a perfect model's output
    would; chrF++ and BLEU against the original show the ceiling each option leaves:
    ``uncased`` (the tokenizer as shipped: lowercase, accents stripped), ``uncased+restored``
    (then :class:`~suite.translation.strings.SurfaceRestorer` fitted on ``training_targets``),
    ``keep-accents`` (lowercase only) and ``cased`` (no normalisation), with the [UNK]
    tokens per string each produces. ``sources`` (the English strings) decide only the
    restored first letter's case, as at prediction time.
    """
    from transformers import AutoTokenizer

    restorer = strings.SurfaceRestorer.fit(training_targets)
    options = {"uncased": {}, "keep-accents": {"strip_accents": False}, "cased": {"do_lower_case": False,
                                                                                 "strip_accents": False}}
    report = {}
    for name, kwargs in options.items():
        tokenizer = AutoTokenizer.from_pretrained(tokenizer_folder, **kwargs)
        ids = [tokenizer(r, add_special_tokens=False)["input_ids"] for r in references]
        decoded = [tokenizer.decode(i) for i in ids]
        unknown = sum(i.count(tokenizer.unk_token_id) for i in ids) / max(len(ids), 1)
        report[name] = {**_ceiling(decoded, references), "unk_per_string": round(unknown, 3)}
        if name == "uncased":
            restored = [restorer.restore(d, source=s) for d, s in zip(decoded, sources)]
            report["uncased+restored"] = {**_ceiling(restored, references), "unk_per_string": round(unknown, 3)}
    return report


def _ceiling(outputs: list[str], references: list[str]) -> dict:
    scores = corpus_scores(outputs, references)
    return {"chrf": scores["chrf"], "bleu": scores["bleu"]}


def report(cfg: TranslationEvalConfig, data, outputs: dict[str, dict], *, free: list[str] | None,
           split: str, warm_started: bool, untuned_share: float = 0.0) -> Report:
    """Every system's scores on the test strings, with examples and the tuned model's broken placeholders.

    Args:
        cfg: the recipe's ``evaluation`` section.
        data: the splits (the glossary is mined from the training pairs).
        outputs: system name -> ``{"test": translations}``.
        free: the tuned network's translations without placeholder-constrained decoding (None: decoded freely).
        split: the recipe's ``data.split`` (named in the notes).
        warm_started: the tuned model was warm-started from an encoder-only checkpoint.
        untuned_share: the recipe's ``train.untuned_share`` (the forgetting note says it).
    """
    sources, references = [p.source for p in data.test], [p.target for p in data.test]
    glossary, origin = read_glossary_or_mine(cfg.glossary, [(p.source, p.target) for p in data.train], cfg)
    translations = {name: out["test"] for name, out in outputs.items()}
    metrics = {name: {**system_report(sources, references, out, glossary),
                      **extra_tests.scores(data.extra, outputs[name])} for name, out in translations.items()}
    sections = [examples_section(sources, references, translations, cfg.examples)]
    if TUNED in metrics:
        sections.append(broken_placeholders_section(metrics[TUNED]))
    if TUNED in metrics and free is not None:
        scores = system_report(sources, references, free, {})
        metrics[TUNED]["free_decoding"] = {k: scores[k] for k in ("chrf", "bleu", "placeholders_kept")}
        sections.append(constrained_decoding_section(metrics[TUNED]["free_decoding"]))
    if data.extra:
        sections.append(extra_section(metrics, data.extra))
    held_out = "held-out catalogs" if split == "by-catalog" else "held-out pairs"
    summary = data.summary()
    return Report(metrics=metrics, headline_metrics=HEADLINE, data={**summary, "warm_started": warm_started},
                  sections=sections,
                  notes=[f"Test strings come from {held_out} ({', '.join(summary['test_catalogs'][:6])}); "
                         "strings whose source also occurs in training are removed from test.",
                         f"Glossary: {len(glossary)} terms ({origin}); term_accuracy counts a term when the source "
                         "holds it and the reference uses its translation.",
                         "The checkpoint is chosen by validation loss; chrF++ is chrF with word bigrams (sacreBLEU).",
                         *_forgetting(metrics, untuned_share, len(data.replay_sources))])


def _forgetting(metrics: dict, untuned_share: float, replayed: int) -> list[str]:
    note = extra_tests.forgetting_note(metrics.get(ZERO_SHOT, {}), metrics.get(TUNED, {}), untuned_share=untuned_share,
                                       replayed=replayed)
    return [note] if note else []


def extra_section(metrics: dict, extra: dict) -> str:
    """A Markdown table of every system's chrF++ and BLEU on the extra held-out parts (UDHR, help paragraphs)."""
    lines = ["## Beside the interface strings: general text and longer prose", "",
             "| system | " + " | ".join(f"{extra_tests.PARTS[p]} chrF++ | BLEU" for p in extra) + " |",
             "|---" * (1 + 2 * len(extra)) + "|"]
    for name, values in metrics.items():
        if f"{next(iter(extra))}_chrf" in values:
            lines.append(f"| {name} | " + " | ".join(f"{values[f'{p}_chrf']} | {values[f'{p}_bleu']}" for p in extra)
                         + " |")
    counts = ", ".join(f"{extra_tests.PARTS[p]}: {len(s)}" for p, s in extra.items())
    return "\n".join(lines + ["", f"Segments: {counts}. Baselines are scored on the interface strings only."])
