"""Which criterion should pick the spam hybrid's weights? (docs/spam.md, "What picks the blend's weights")

Scores a finished spam run's validation and test mail once with the tuned model and each baseline
(refitted with the run's seed, as the run fits them), lets the run's own ``blend.hybrid`` pick the
weights by several validation criteria, and compares each blend with TF-IDF by the run's paired
bootstrap. The last line is a bound, not a result: the grid's best test ROC-AUC, chosen on test.

    python docs/experiments/spam_blend_criteria.py RUN_DIR
"""

import sys

import numpy as np
from sklearn.metrics import log_loss, roc_auc_score

from suite.core import blend
from suite.core.runs import Run
from suite.spam import metrics as spam_metrics
from suite.spam.data import labels_of
from suite.spam.hooks import DOMAIN
from suite.spam.model import SpamPredictor

run = Run.open(sys.argv[1])
recipe = run.recipe()
data = DOMAIN.prepare_data(recipe)
y_val, y_test = labels_of(data.validation), labels_of(data.test)
outputs = {"tuned": DOMAIN.outputs(SpamPredictor.from_folder(run.model_dir), recipe, data),
           **DOMAIN.fit_baselines(recipe, data)}
target = recipe.evaluation.target_fpr
criteria = {
    "F1 + 0.1 x recall at the target (the default)":
        lambda s: spam_metrics.validation_score(y_val, s, target_fpr=target, operating_weight=0.1),
    "ROC-AUC": lambda s: roc_auc_score(y_val, s),
    "log loss": lambda s: -log_loss(y_val, np.clip(s, 1e-6, 1 - 1e-6)),
}
reference = outputs["tfidf-logreg"]
reference_threshold = spam_metrics.operating_threshold(y_val, reference["validation"], target)
for name, criterion in criteria.items():
    hybrid = blend.hybrid(outputs, criterion, recipe.evaluation.hybrid_weights, space="logit")
    threshold = spam_metrics.operating_threshold(y_val, hybrid.outputs["validation"], target)
    comparison = spam_metrics.compare(y_test, {"hybrid": hybrid.outputs["test"], "tfidf": reference["test"]},
                                      {"hybrid": threshold, "tfidf": reference_threshold}, ["hybrid"], "tfidf",
                                      seed=recipe.seed)
    print(f"{name}: {hybrid.describe()}")
    for key, c in comparison.items():
        print(f"    {key}: {c['a']:.4f} against {c['b']:.4f}, difference {c['difference']:+.4f} "
              f"[{c['difference_low']:+.4f}, {c['difference_high']:+.4f}]")

test_scores = {system: parts["test"] for system, parts in outputs.items()}
blends = [(weights, blend.blend(test_scores, weights, "logit"))
          for weights in blend.weight_grid(list(outputs), recipe.evaluation.hybrid_weights)]
weights, best = max(blends, key=lambda item: roc_auc_score(y_test, item[1]))
auc = roc_auc_score(y_test, best)
bound = spam_metrics.compare(y_test, {"best": best, "tfidf": reference["test"]}, {"best": 0.5, "tfidf": 0.5},
                             ["best"], "tfidf", seed=recipe.seed)["best vs tfidf: roc_auc"]
print(f"bound (weights chosen on test): {blend.describe(weights)}, ROC-AUC {auc:.4f}, difference to TF-IDF "
      f"[{bound['difference_low']:+.4f}, {bound['difference_high']:+.4f}]")
