"""The low-FPR end of the ROC on the rest of the new mail: for each model, the recall where at most k of the
1,084 ham are flagged (the threshold read off these scores themselves: what the scores can separate, not
what a threshold chosen elsewhere gives)."""
import json
import sys

import numpy as np

import suite

rows = [json.loads(line) for line in open("./shift/later-rest.jsonl", encoding="utf-8")]
texts = [r["text"] for r in rows]
labels = np.array([1 if str(r["label"]).lower() in ("spam", "1", "true") else 0 for r in rows])
for name in sys.argv[1:]:
    model, _, system = name.partition(":")
    scores = np.asarray(suite.load(f"./runs-shift/{model}", system=system or "tuned").scores(texts))
    ham = np.sort(scores[labels == 0])[::-1]
    cells = []
    for k in (0, 1, 5, 10):
        threshold = ham[k] if k < len(ham) else -np.inf        # flag only scores above the (k+1)-th highest ham
        cells.append(f"{k} ham: recall {float((scores[labels == 1] > threshold).mean()):.3f}")
    print(name, "|", "; ".join(cells))
