"""Exact resume, preemption by SIGTERM, and the non-finite-loss guard."""

import csv

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger

from aegan.callbacks import Evaluation
from aegan.data import AeganDataModule
from aegan.models import AAE
from aegan.models.guard import NonFiniteLossError
from tests.conftest import TINY_CLI, run_train, tiny_trainer
from tests.helpers import PoisonWeights


def fit(folder, max_epochs, resident, ckpt_path=None, callbacks=()):
    """A small Gaussian-encoder AAE (randomness in training and validation) on the toy grid."""
    L.seed_everything(0, verbose=False)
    data = AeganDataModule("toy_grid", toy_size=600, batch_size=50, resident=resident)
    model = AAE(data_shape=(2,), num_classes=25, hidden=(16,), encoder="gaussian")
    checkpoint = ModelCheckpoint(dirpath=folder, save_last=True, save_on_exception=True)
    trainer = tiny_trainer(max_epochs=max_epochs, enable_checkpointing=True, num_sanity_val_steps=2,
                           logger=CSVLogger(folder), log_every_n_steps=2,
                           callbacks=[checkpoint, Evaluation(metrics=["latent"]), *callbacks])
    trainer.fit(model, data, ckpt_path=ckpt_path)
    return model, trainer


@pytest.mark.parametrize("resident", [False, True])
def test_two_epochs_straight_equal_one_epoch_resume_and_one_more(tmp_path, resident):
    straight, straight_trainer = fit(tmp_path / "straight", 2, resident)
    fit(tmp_path / "first", 1, resident)
    resumed, resumed_trainer = fit(tmp_path / "resumed", 2, resident, ckpt_path=tmp_path / "first" / "last.ckpt")
    assert resumed_trainer.global_step == straight_trainer.global_step == 2 * 10 * 3
    assert resumed_trainer.current_epoch == straight_trainer.current_epoch == 2
    for name, value in straight.state_dict().items():
        assert torch.equal(value, resumed.state_dict()[name]), name
    for a, b in zip(straight_trainer.optimizers, resumed_trainer.optimizers):
        for state_a, state_b in zip(a.state.values(), b.state.values()):
            assert all(torch.equal(state_a[k], state_b[k]) for k in state_a)
    # the resumed run's logger continues at the checkpoint's step: it logs epoch 2 at the same
    # steps as the uninterrupted run (Lightning counts logging steps in batches)
    logged = {run: sorted({int(row["step"]) for row in csv.DictReader(open(tmp_path / run / "lightning_logs" /
                                                                         "version_0" / "metrics.csv"))})
              for run in ("straight", "resumed")}
    assert logged["resumed"] == [step for step in logged["straight"] if step >= 10] and logged["resumed"]


def test_a_non_finite_loss_stops_training_and_keeps_the_last_good_checkpoint(tmp_path):
    fit(tmp_path, 1, resident=True)
    last = tmp_path / "last.ckpt"
    before = last.read_bytes()
    with pytest.raises(NonFiniteLossError, match=r"non-finite loss in phase 'ae' at training batch 14 "):
        fit(tmp_path, 3, resident=True, ckpt_path=last, callbacks=[PoisonWeights(epoch=1, batch=3)])
    assert last.read_bytes() == before  # neither the epoch end nor the exception overwrote it
    state = torch.load(last, weights_only=True)
    assert state["epoch"] == 0 and all(torch.isfinite(v).all() for v in state["state_dict"].values())


def test_the_newest_state_is_written_with_each_validation_and_after_the_last_epoch(tmp_path):
    """The cadence the aae and vae configs use (validate and save every n epochs), here n = 2 over
    3 epochs: last.ckpt appears after epoch 2, before training ends, and the last epoch (3, not a
    multiple of 2) still validates and saves, so no training is lost and the run ends with its
    figures."""
    args = ["--model", "aae", *TINY_CLI, "--trainer.logger", "false", "--trainer.max_epochs", "3",
            "--trainer.check_val_every_n_epoch", "2", "--checkpoint.init_args.every_n_epochs", "2",
            "--trainer.default_root_dir", str(tmp_path), "--trainer.callbacks+=tests.helpers.ListCheckpoints",
            f"--trainer.callbacks.out={tmp_path / 'listing.txt'}"]
    result = run_train(args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    listing = (tmp_path / "listing.txt").read_text().splitlines()
    assert listing[:2] == ["0: ", "1: "] and "last.ckpt" in listing[2].split()  # present before training ends
    (run,) = (tmp_path / "aegan").iterdir()
    assert torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)["epoch"] == 2
    # validations after epochs 2 and 3 (numbered from 0 in the frames' names), each with its figures
    assert sorted(p.name for p in (run / "media" / "decoder").iterdir()) == ["epoch_0001.png", "epoch_0002.png"]


def test_sigterm_mid_epoch_leaves_a_checkpoint_that_resumes(tmp_path):
    args = ["--model", "aae", *TINY_CLI, "--trainer.logger", "false", "--trainer.max_epochs", "3",
            "--trainer.default_root_dir", str(tmp_path)]
    killed = run_train([*args, "--trainer.callbacks+=tests.helpers.SendSignal",
                        "--trainer.callbacks.epoch=1", "--trainer.callbacks.batch=2"], cwd=tmp_path)
    assert killed.returncode == 143, killed.stderr[-3000:]
    (last,) = tmp_path.glob("aegan/*/checkpoints/last.ckpt")  # the run's own folder
    state = torch.load(last, weights_only=True)
    # saved mid-epoch on the way out, at the boundary the signal met: batches 0 and 1 of epoch 1 done
    assert state["epoch"] == 1 and state["global_step"] == (5 + 2) * 3
    resumed = run_train([*args, "--ckpt_path", str(last)], cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    # the resumed run finishes the interrupted epoch and the last one: 3 epochs x 5 batches x 3
    # phases, no batch repeated or skipped
    assert torch.load(last, weights_only=True)["global_step"] == 3 * 5 * 3
