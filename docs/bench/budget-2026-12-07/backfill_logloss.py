"""Backfill: the validation log-loss of spam budget runs that finished before the suite recorded it (commit 5cca763).
Computed from each run's saved model on its own validation part, the way suite.core.pipeline.add_selection_scores
computes it; a lp-ft run's linear-probe stage is refitted exactly (the probe is deterministic given the draw).
Each value written is marked with "validation_log_loss_source": "backfilled"."""
import json
import sys
from pathlib import Path

from suite.core import probe, registry
from suite.core.metrics.classification import log_loss
from suite.core.runs import Run
from suite.spam.data import labels_of, texts_of
from suite.spam.model import SpamPredictor, build_classifier, embeddings

out = Path(sys.argv[1])
results = json.loads((out / "results.json").read_text())
domain = registry.get_domain("spam")
for label, record in results["domains"]["spam"]["runs"].items():
    if record.get("status") != "ok":
        continue
    run = Run.open(out / record["run_dir"])
    path = run.path / "metrics.json"
    metrics = json.loads(path.read_text())
    models = metrics["models"]
    if "validation_log_loss" in models["tuned"]:
        continue
    recipe = run.recipe()
    data = domain.prepare_data(recipe)
    texts, y = texts_of(data.validation), labels_of(data.validation)
    models["tuned"]["validation_log_loss"] = log_loss(y, SpamPredictor.from_folder(run.model_dir).scores(texts))
    models["tuned"]["validation_log_loss_source"] = "backfilled"
    if "stage:linear-probe" in models:
        cfg = recipe.model
        network, tokenizer = build_classifier(cfg, dropout=0.0)
        train = embeddings(network, tokenizer, texts_of(data.train), max_length=cfg.max_length, tail_tokens=cfg.tail_tokens)
        fitted = probe.fit_logistic(train, labels_of(data.train), outputs=2, C=recipe.train.probe_c, seed=recipe.seed)
        validation = embeddings(network, tokenizer, texts, max_length=cfg.max_length, tail_tokens=cfg.tail_tokens)
        models["stage:linear-probe"]["validation_log_loss"] = log_loss(y, fitted.probabilities(validation)[:, 1])
        models["stage:linear-probe"]["validation_log_loss_source"] = "backfilled"
    path.write_text(json.dumps(metrics, indent=2) + "\n")
    print(label, round(models["tuned"]["validation_log_loss"], 4),
          round(models.get("stage:linear-probe", {}).get("validation_log_loss", float("nan")), 4))
