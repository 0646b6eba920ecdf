#!/usr/bin/env bash
# The rest of shift.sh after its parent and calibrate steps: the three evaluations and adapt.
set -euo pipefail
cd "$(dirname "$0")"
suite eval runs-shift/parent --data shift/later-rest.jsonl > shift-eval-before.txt 2>&1 || true
suite eval runs-shift/parent-calibrated --data shift/later-rest.jsonl > shift-eval-calibrated.txt 2>&1 || true
start=$(date +%s)
suite adapt runs-shift/parent --data shift/later-calibration.jsonl data.test_size=0.05 output.runs_dir=runs-shift output.name=adapted 2>&1 | grep -v "it/s\|s/it\|step/s" > shift-adapt.log
echo "adapt: $(( $(date +%s) - start )) s" >> shift-times.txt
suite eval runs-shift/adapted --data shift/later-rest.jsonl > shift-eval-adapted.txt 2>&1 || true
echo done >> shift-times.txt
