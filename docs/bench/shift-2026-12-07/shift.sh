#!/usr/bin/env bash
# The shift of docs/spam.md: a filter trained on the 2002 mail, given the 2003 mail and hard ham;
# calibrate alone against adapt, both with the same 1,000 newly labelled mails, checked on the other 1,963.
set -euo pipefail
cd "$(dirname "$0")"
rm -rf shift runs-shift
python "$REPO/datasets/spamassassin/shift" shift   # REPO: the repository
start=$(date +%s)
suite train spam/default data.source=shift/early.jsonl output.runs_dir=runs-shift output.name=parent 2>&1 | grep -v "it/s\|s/it\|step/s" > shift-parent.log
echo "parent: $(( $(date +%s) - start )) s" >> shift-times.txt
suite eval runs-shift/parent --data shift/later-rest.jsonl > shift-eval-before.txt 2>&1 || true
cp -r runs-shift/parent runs-shift/parent-calibrated
suite calibrate runs-shift/parent-calibrated --data shift/later-calibration.jsonl > shift-calibrate.txt 2>&1
suite eval runs-shift/parent-calibrated --data shift/later-rest.jsonl > shift-eval-calibrated.txt 2>&1 || true
start=$(date +%s)
suite adapt runs-shift/parent --data shift/later-calibration.jsonl data.test_size=0.05 output.runs_dir=runs-shift output.name=adapted 2>&1 | grep -v "it/s\|s/it\|step/s" > shift-adapt.log
echo "adapt: $(( $(date +%s) - start )) s" >> shift-times.txt
suite eval runs-shift/adapted --data shift/later-rest.jsonl > shift-eval-adapted.txt 2>&1 || true
echo done >> shift-times.txt
