#!/bin/bash
# Train on a SLURM cluster, one task per GPU:
#   sbatch scripts/slurm_train.sh --model aae                                   # 1 node x 8 GPUs
#   sbatch --nodes=2 scripts/slurm_train.sh --model aae                         # 2 nodes x 8 GPUs
# Any train.py flag can follow. SLURM sends SIGUSR1 90 s before the time limit (and on
# preemption, where the cluster is set up so); Lightning then saves a checkpoint and requeues
# the job, which resumes from it and logs into the same W&B run (its id is the job id).
#SBATCH --job-name=aegan
#SBATCH --nodes=1
#SBATCH --ntasks-per-node=8
#SBATCH --gres=gpu:8
#SBATCH --cpus-per-task=8
#SBATCH --time=24:00:00
#SBATCH --signal=SIGUSR1@90
#SBATCH --requeue
#SBATCH --open-mode=append
#SBATCH --output=slurm-%j.out
set -euo pipefail
cd "${SLURM_SUBMIT_DIR:-.}"
# ProgressLines: one plain progress line per 100 batches and per validation in slurm-<job>.out
# (a progress bar's carriage returns would pile up in one line)
srun python train.py "$@" \
    --trainer configs/trainer/slurm.yaml \
    --trainer.callbacks+=aegan.callbacks.ProgressLines \
    --trainer.num_nodes "${SLURM_JOB_NUM_NODES}" \
    --trainer.devices "${SLURM_NTASKS_PER_NODE%%(*}" \
    --trainer.logger.init_args.id "slurm-${SLURM_JOB_ID}"
