"""A DDP run prints none of Lightning's advice to sync metrics that aegan made global already
(the gathered class and cluster errors, the epoch means reduced by hand): a user would read
it as a bug in the numbers."""

import numpy as np

from tests.conftest import run_train

DDP = ["--trainer", "ddp", "--trainer.accelerator", "cpu", "--trainer.devices", "2",
       "--trainer.strategy.init_args.timeout", "0:01:30"]


def test_a_semi_supervised_ddp_run_with_a_test_set_gives_no_sync_advice(tmp_path):
    rng = np.random.default_rng(0)
    for name, n in (("pool", 600), ("heldout", 200)):  # digit-shaped arrays in the arrays format
        np.savez(tmp_path / f"{name}.npz", x=rng.integers(0, 256, (n, 28, 28), np.uint8), y=np.arange(n) % 10)
    args = ["--model", "aae_semi", *DDP, "--data.name", "arrays", "--data.path", str(tmp_path / "pool.npz"),
            "--data.test_path", str(tmp_path / "heldout.npz"), "--data.labels_per_class", "10",
            "--model.hidden", "[16]", "--model.disc_hidden", "[8]", "--trainer.max_epochs", "1",
            "--trainer.limit_train_batches", "3", "--trainer.limit_val_batches", "2",
            "--trainer.enable_progress_bar", "false", "--trainer.logger", "lightning.pytorch.loggers.CSVLogger"]
    result = run_train(args, cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    (metrics,) = (tmp_path / "runs" / "aegan").glob("*/metrics.csv")
    header = metrics.read_text().splitlines()[0].split(",")
    assert {"test/cluster_error", "val/class_error", "train_epoch/ae/loss"} <= set(header)  # the metrics were logged
    assert "sync_dist=True" not in result.stderr, result.stderr[-4000:]
