"""How much of a training epoch goes to work outside the training batches (validation, the
evaluation, figures, checkpoints), for a model config as users run it:

    python benchmarks/epoch_share.py --models aae,vae --epochs 10 --out benchmarks/results/epoch-share-cpu.json

Each model trains through ``train.py --model NAME`` (its full callback stack, the default data)
with :class:`EpochShare` added, which times every training batch (from its start to its end
hooks) and every epoch (from one epoch's start to the next's: validation, figures, evaluation
and checkpoints included). The share outside the batches is 1 - batches / epochs, over all
epochs but the first (start-up). Extra arguments after ``--`` go to every ``train.py``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import lightning as L
import torch

REPO = Path(__file__).resolve().parents[1]


class EpochShare(L.Callback):
    """Appends one JSON line per finished epoch to ``out``: ``{"epoch", "batches_s", "epoch_s"}``."""

    def __init__(self, out: str):
        self.out = out
        self.epoch_start = self.batch_start = None
        self.batches = 0.0

    def on_train_epoch_start(self, trainer, module):
        self._close(trainer.current_epoch - 1)
        self.epoch_start, self.batches = time.perf_counter(), 0.0

    def on_train_batch_start(self, trainer, module, batch, batch_idx):
        self.batch_start = time.perf_counter()

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
        self.batches += time.perf_counter() - self.batch_start

    def on_fit_end(self, trainer, module):
        self._close(trainer.current_epoch - 1)

    def _close(self, epoch: int) -> None:
        if self.epoch_start is None or not L.pytorch.utilities.rank_zero_only.rank == 0:
            return
        with open(self.out, "a") as log:
            log.write(json.dumps({"epoch": epoch, "batches_s": self.batches,
                                  "epoch_s": time.perf_counter() - self.epoch_start}) + "\n")
        self.epoch_start = None


def measure(model: str, epochs: int, extra: list[str], folder: Path) -> dict:
    out = folder / f"{model}.jsonl"
    command = [sys.executable, str(REPO / "train.py"), "--model", model, "--trainer.max_epochs", str(epochs),
               "--trainer.logger", "false", "--trainer.enable_progress_bar", "false",
               "--trainer.default_root_dir", str(folder / "runs"),
               "--trainer.callbacks+=benchmarks.epoch_share.EpochShare", f"--trainer.callbacks.out={out}", *extra]
    started = time.perf_counter()
    subprocess.run(command, check=True, cwd=REPO, stdout=subprocess.DEVNULL,
                   env={**__import__("os").environ, "PYTHONPATH": str(REPO)})
    wall = time.perf_counter() - started
    rows = [json.loads(line) for line in out.read_text().splitlines()][1:]  # the first epoch starts things up
    batches, total = sum(r["batches_s"] for r in rows), sum(r["epoch_s"] for r in rows)
    return {"model": model, "epochs": epochs, "epochs_timed": len(rows), "batches_s_per_epoch": batches / len(rows),
            "epoch_s": total / len(rows), "outside_share": 1 - batches / total, "wall_s": wall,
            "command": " ".join(["python train.py --model", model, "--trainer.max_epochs", str(epochs),
                                 "--trainer.logger false --trainer.enable_progress_bar false", *extra])}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="aae,vae")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--out", default="benchmarks/results/epoch-share-cpu.json")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        rows = [measure(m, args.epochs, extra, Path(folder)) for m in args.models.split(",")]
    for row in rows:
        print(f"{row['model']}: {row['epoch_s']:.2f} s per epoch, {row['batches_s_per_epoch']:.2f} s of it in "
              f"training batches; outside them: {row['outside_share']:.0%}")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout
    report = {"study": "epoch_share", "device": f"CPU ({torch.get_num_threads()} threads)", "torch": torch.__version__,
              "precision": "32-true", "seeds": [0], "commit": commit.strip(), "rows": rows}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
