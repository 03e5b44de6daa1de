"""TensorBoard and CSV runs: the same run folder as W&B runs, resumable with --ckpt_path last,
progress as plain lines in a log, and a learning-rate monitor when a schedule is on."""

import csv
import sys

import pytest

from aegan.cli import main
from aegan.runs import history

# the semi-supervised AAE has a learning-rate schedule (lr_milestones); its config turns the
# evaluation off, turned on again here
TINY = ["--model", "aae_semi", "--model.hidden", "[16]", "--model.disc_hidden", "[16]", "--data.name", "mnist5k",
        "--trainer.limit_train_batches", "3", "--trainer.limit_val_batches", "1", "--model.lr_milestones", "[1]",
        "--evaluation", "aegan.callbacks.Evaluation", "--evaluation.real", "200", "--evaluation.metrics", "[fid]"]


def train(args, monkeypatch, capsys):
    """``train.py ARGS`` in this process (no W&B here, and the imports are paid once)."""
    monkeypatch.setattr(sys, "argv", ["train.py"])
    main(args)
    return capsys.readouterr()


@pytest.mark.parametrize("logger", ["CSVLogger", "TensorBoardLogger"])
def test_local_loggers_run_and_resume_in_the_run_folder(logger, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    args = [*TINY, "--trainer.logger", f"lightning.pytorch.loggers.{logger}"]
    first = train([*args, "--trainer.max_epochs", "1"], monkeypatch, capsys)
    (run,) = (tmp_path / "runs" / "aegan").iterdir()  # runs/<project>/<run id>, not runs/version_0
    assert len(run.name) == 8 and (run / "checkpoints" / "last.ckpt").exists() and (run / "config.yaml").exists()
    # the output is not a terminal: plain progress lines instead of a bar
    assert "epoch 1/1  validated after" in first.out and "\r" not in first.out

    train([*args, "--trainer.max_epochs", "2", "--ckpt_path", "last"], monkeypatch, capsys)
    assert list((tmp_path / "runs" / "aegan").iterdir()) == [run]
    curves = history(run)
    # both runs' epochs in the same logs (3 batches per epoch: steps 2 and 5)
    assert [step for step, _ in curves["eval/fid"]] == [2, 5]
    assert [step for step, _ in curves["val/class_error"]] == [2, 5]
    # the learning rates, with the schedule's drop after epoch 1
    rates = [value for key, points in curves.items() if key.startswith("lr-") for _, value in points]
    assert rates and min(rates) < max(rates)
    if logger == "CSVLogger":
        with open(run / "metrics.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        assert {"0", "1"} <= {row["epoch"] for row in rows}  # the first run's rows kept
