#!/bin/bash
# usage: benchmarks/paper.sh NAME MODEL EPOCHS SEED [train.py flags...]
#
# One run behind benchmarks/results/aae_paper.json: 1 torch thread, the offline protocol, CSV logs
# in runs/paper/NAME. Resumes with --ckpt_path last where the run has a last.ckpt (the CSV log goes
# on in the same folder). Each launch appends to
#   runs/paper/NAME.times                start/end lines (wall_s)
#   runs/paper/NAME/provenance.jsonl     the commit, device and torch it trains on, and its flags
# and the output goes to runs/paper/NAME.log. PYTHON picks the interpreter (default: python on PATH),
# RUNS the folder of the runs (default: runs/paper, relative to the repository).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 4 ]; then
  echo "usage: benchmarks/paper.sh NAME MODEL EPOCHS SEED [train.py flags...]" >&2
  exit 2
fi
name=$1; model=$2; epochs=$3; seed=$4; shift 4
python=${PYTHON:-python}
dir=${RUNS:-runs/paper}/$name
mkdir -p "$dir"
resume=()
[ -n "$(find "$dir" -name last.ckpt 2>/dev/null | head -1)" ] && resume=(--ckpt_path last)
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
args=(--model "$model"
      --data.name arrays --data.path data/offline/pool.npz --data.test_path data/offline/heldout.npz
      --seed_everything "$seed" --data.seed "$seed"
      --trainer.logger lightning.pytorch.loggers.CSVLogger --trainer.logger.save_dir "$dir"
      --trainer.enable_progress_bar false --trainer.max_epochs "$epochs" "$@" "${resume[@]}")
# what this segment trains on, recorded before it starts (the commit is the one checked out now)
"$python" benchmarks/aae_paper.py provenance "$dir" "${args[@]}" > /dev/null
(
  echo "start $(date +%s) ${resume[*]}" >> "$dir.times"
  rc=0
  "$python" train.py "${args[@]}" || rc=$?
  echo "end $(date +%s) rc $rc" >> "$dir.times"
) >> "$dir.log" 2>&1 &
echo $! > "$dir.pid"
echo "$name pid $(cat "$dir.pid")"
