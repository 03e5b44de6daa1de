"""benchmarks/leaderboard.py end to end on tiny settings: it trains with train.py, scores with
aegan.evaluate, and writes the JSON, the figure and the README table."""

import json
import os
import sys

import numpy as np

from aegan.data.images import load_mnist5k
from tests.conftest import REPO, run_with_deadline

TINY = "--trainer.limit_train_batches 2 --trainer.limit_val_batches 1 --data.batch_size 16"


def leaderboard(args, cwd, timeout=420):
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANDB_")} | {"HOME": str(cwd), "PYTHONPATH": str(REPO)}
    return run_with_deadline([sys.executable, str(REPO / "benchmarks" / "leaderboard.py"), *args], cwd, env, timeout)


def test_the_leaderboard_trains_scores_and_writes_its_table(tmp_path):
    digits = load_mnist5k()
    np.savez(tmp_path / "pool.npz", x=digits.x[:200, 0], y=digits.y[:200])
    np.savez(tmp_path / "heldout.npz", x=digits.x[-64:, 0], y=digits.y[-64:])
    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- leaderboard: made by benchmarks/leaderboard.py -->\nold\n<!-- /leaderboard -->\nend\n")
    common = ["--pool", str(tmp_path / "pool.npz"), "--heldout", str(tmp_path / "heldout.npz"), "--runs",
              str(tmp_path / "runs"), "--epochs", "1", "--train_args", TINY, "--critic_steps", "5",
              "--out", str(tmp_path / "lb.json"), "--figure", str(tmp_path / "lb.png")]
    done = leaderboard([*common, "--models", "gan,vae", "--readme", str(readme)], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("] training 1 epochs") == 2
    rows = json.loads((tmp_path / "lb.json").read_text())["rows"]
    metrics = {(r["setting"], r["metric"]) for r in rows}
    assert metrics == {("gan", m) for m in ("fid", "kid", "critic_neg_w", "epoch_s")} | \
        {("vae", m) for m in ("fid", "kid", "critic_neg_w", "recon_l1", "epoch_s")}  # recon only with an encoder
    for row in rows:
        assert row["epochs"] == 1 and row["seeds"] == [0] and "{seed}" in row["command"] and row["per_seed"] == [row["mean"]]
    assert (tmp_path / "lb.png").stat().st_size > 5_000
    text = readme.read_text()
    assert text.startswith("intro\n") and text.endswith("end\n") and "old" not in text
    assert "| gan | 1 |" in text and "| vae | 1 |" in text
    # a finished run is not retrained, and its scores with the same settings are read back; bad input is one line
    again = leaderboard([*common, "--models", "vae"], tmp_path)
    assert again.returncode == 0 and "training" not in again.stdout and "scoring" in again.stdout
    assert "critic" not in again.stderr and json.loads((tmp_path / "lb.json").read_text())["rows"] == \
        [r for r in rows if r["setting"] == "vae"]
    bad = leaderboard([*common, "--models", "gan,vea"], tmp_path, timeout=60)
    assert bad.returncode == 2 and "unknown model 'vea'; valid choices: gan, dcgan" in bad.stderr


def test_the_leaderboard_documents_itself():
    done = run_with_deadline([sys.executable, str(REPO / "benchmarks" / "leaderboard.py"), "--help"], REPO,
                             dict(os.environ), 60)
    assert done.returncode == 0 and "--pool" in done.stdout and "critic_neg_w" in done.stdout
