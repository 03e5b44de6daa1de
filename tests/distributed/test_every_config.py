"""Every model config, as users run it on a cluster: ``train.py --model X --trainer
configs/trainer/ddp.yaml`` as two DDP processes (gloo, on the CPU), with the config's whole
callback stack (evaluation with FID, figures, best checkpoints) and W&B offline, in bf16-mixed
(the CPU's fast path: so every config is shown to train in it; float32 under DDP is the
equivalence test's, tests/distributed/test_ddp.py); tiny nets (read
from the model class's signature, :mod:`tests.tiny`), two epochs of two batches. A new config is
in by itself. Each run must finish within a hard deadline; a stray collective (one rank alone in
a sync) fails it, through the preset's collective timeout or the deadline, instead of hanging CI."""

import json
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from PIL import Image

from tests.conftest import REPO, run_train
from tests.tiny import model_class, tiny_arguments

CONFIGS = sorted(p.stem for p in (REPO / "configs").glob("*.yaml") if p.stem != "defaults")
DDP = ["--trainer", str(REPO / "configs" / "trainer" / "ddp.yaml"), "--trainer.accelerator", "cpu",
       "--trainer.devices", "2", "--trainer.strategy.init_args.timeout", "0:01:30"]
SHORT = ["--trainer.max_epochs", "2", "--trainer.limit_train_batches", "2", "--trainer.limit_val_batches", "1",
         "--trainer.enable_progress_bar", "false", "--trainer.precision", "bf16-mixed"]
DEADLINE = 300  # seconds per run; a healthy one takes well under a minute on two cores


def config(name: str) -> dict:
    return yaml.safe_load((REPO / "configs" / f"{name}.yaml").read_text())


def data_arguments(name: str, folder: Path) -> list[str]:
    """Small files in the official formats where a config reads files; the embedded digits
    where it would download MNIST."""
    data = config(name).get("data", {})
    if data.get("name") == "quickdraw":
        (folder / "qd").mkdir()
        for category in data["categories"].split(","):  # numpy_bitmap: (N, 784) uint8 per category
            np.save(folder / "qd" / f"{category}.npy", np.random.default_rng(0).integers(0, 256, (300, 784), np.uint8))
        return ["--data.path", str(folder / "qd")]
    if data.get("name") == "folder":
        (folder / "img").mkdir()
        for i in range(300):
            Image.fromarray(np.random.default_rng(i).integers(0, 256, (20, 24, 3), np.uint8)).save(folder / "img" / f"{i}.jpg")
        return ["--data.path", str(folder / "img"), "--data.image_size", "32"]
    return ["--data.name", "mnist5k"] if data.get("name", "mnist") == "mnist" else []


def tiny(name: str) -> list[str]:
    """Tiny networks for the config's model class, read from its signature (no entry per model)."""
    arguments = tiny_arguments(model_class(config(name)["model"]["class_path"]))
    return [flag for key, value in arguments.items() for flag in (f"--model.{key}", json.dumps(value))]


@pytest.mark.parametrize("name", CONFIGS)
def test_every_config_finishes_as_two_ddp_processes(name, tmp_path):
    started = time.monotonic()
    result = run_train(["--model", name, *DDP, *SHORT, *tiny(name), *data_arguments(name, tmp_path)], cwd=tmp_path,
                       timeout=DEADLINE)
    assert result.returncode == 0, result.stderr[-4000:]
    assert "sync_dist=True" not in result.stderr, "Lightning advises syncing a metric aegan made global already"
    assert "lr_scheduler.step()" not in result.stderr, "a schedule warned of a phase that has not run"
    (run,) = (tmp_path / "runs" / "aegan").iterdir()
    state = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    assert state["epoch"] == 1 and state["global_step"] > 0
    assert list((tmp_path / "runs" / "wandb").glob("offline-run-*")), "no offline W&B run"
    print(f"{name}: {time.monotonic() - started:.0f} s")


def test_a_collective_on_one_rank_fails_the_run_quickly_instead_of_hanging(tmp_path):
    """The trap the Evaluation callback fell into: rank zero alone enters a collective. With a
    short collective timeout the job fails in seconds and names the problem."""
    args = ["--model", "aae", *DDP, *SHORT, *tiny("aae"), "--data.name", "mnist5k", "--trainer.logger", "false",
            "--trainer.strategy.init_args.timeout", "0:00:20", "--trainer.callbacks+=tests.helpers.RankZeroCollective"]
    started = time.monotonic()
    result = run_train(args, cwd=tmp_path, timeout=DEADLINE)
    assert result.returncode != 0
    assert time.monotonic() - started < DEADLINE / 2
    assert "Timed out waiting 20000ms" in result.stderr, result.stderr[-3000:]
