"""Shared helpers: tiny trainers, a CLI runner, small data files."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import warnings
from pathlib import Path

import lightning as L
import pytest
import torch

REPO = Path(__file__).resolve().parents[1]

# tiny networks and few batches for command-line runs
TINY_CLI = ["--model.hidden", "[32]", "--data.name", "mnist5k", "--trainer.limit_train_batches", "5",
            "--trainer.limit_val_batches", "2", "--trainer.enable_progress_bar", "false"]

# Lightning's own deprecation chatter is not ours to fix
warnings.filterwarnings("ignore", message=".*treespec.*")


def tiny_trainer(**kwargs) -> L.Trainer:
    """A CPU trainer with no logger, checkpoints, progress bar or sanity check."""
    defaults = dict(accelerator="cpu", devices=1, logger=False, enable_checkpointing=False,
                    enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0)
    return L.Trainer(**{**defaults, **kwargs})


def run_train(args: list[str], cwd: Path, timeout: int = 600, env: dict | None = None):
    """``python train.py ARGS`` in ``cwd`` as a user would run it, with no W&B credentials and
    nothing on stdin (a prompt would fail the test instead of hanging), within ``timeout``
    seconds (see :func:`run_with_deadline`)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("WANDB_")}
    clean.update(HOME=str(cwd), PYTHONUNBUFFERED="1", PYTHONPATH=str(REPO), **(env or {}))
    return run_with_deadline([sys.executable, str(REPO / "train.py"), *args], cwd, clean, timeout)


def run_with_deadline(command: list[str], cwd: Path, env: dict, timeout: float) -> subprocess.CompletedProcess:
    """Run ``command`` in a process group of its own; past ``timeout`` seconds, kill the whole
    group (the DDP processes it started too) and fail the test: a hang fails, it never stalls."""
    process = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        pytest.fail(f"killed after {timeout} s (a hang?): {' '.join(command[1:])}\n{stderr[-3000:]}")
    finally:
        with contextlib.suppress(ProcessLookupError):  # whatever the group left behind
            os.killpg(process.pid, signal.SIGKILL)
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def readme_section(section: str, readme: Path | None = None) -> str:
    """The text of the README section headed ``## section``."""
    text = (readme or REPO / "README.md").read_text()
    return text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]


def readme_blocks(section: str, language: str) -> list[str]:
    """The ``language`` code blocks of the README section headed ``## section``."""
    return re.findall(rf"```{language}\n(.*?)```", readme_section(section), flags=re.S)


# --- model tests: which networks a phase moves, how close q(z) came to p(z) ----------------------


def record_phases(monkeypatch):
    """Wrap GenerativeModule.phase to record, per phase, which top-level networks changed and
    which received a gradient (gradients are cleared before each phase, so none is inherited)."""
    from aegan.models import GenerativeModule

    changed, graded = {}, {}
    original = GenerativeModule.phase

    def recording(self, name, terms):
        before = {n: p.detach().clone() for n, p in self.named_parameters()}
        for p in self.parameters():
            p.grad = None
        out = original(self, name, terms)
        changed.setdefault(name, set()).update(
            n.split(".")[0] for n, p in self.named_parameters() if not torch.equal(before[n], p))
        graded.setdefault(name, set()).update(
            n.split(".")[0] for n, p in self.named_parameters() if p.grad is not None)
        return out

    monkeypatch.setattr(GenerativeModule, "phase", recording)
    return changed, graded


def latent_distance(model, data) -> float:
    """Sliced Wasserstein distance between 1,000 codes of ``data``'s examples (draws from q(z|x)) and
    as many prior draws, with fixed draws and projections."""
    from aegan.metrics import sliced_wasserstein

    x, _ = data.examples(1000)
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        z = model.posterior_sample(x)
    return sliced_wasserstein(z, model.prior.sample(len(z), generator=generator), generator=generator).item()


def trained_offline(model: str, cwd: Path, figures: list[str], metrics: list[str], *extra: str) -> Path:
    """``python train.py --model MODEL`` as a user runs it (W&B offline, the config's callbacks and
    evaluation), tiny and short; checks that it wrote ``figures`` (GIFs) and logged ``metrics``,
    that ``aegan.load`` gives a model that encodes, decodes, samples and reconstructs, and that
    ``aegan.evaluate`` scores its checkpoint. Returns the run folder."""
    import json

    import aegan
    from aegan.evaluate import main as evaluate
    from aegan.runs import history

    result = run_train(["--model", model, "--trainer.max_epochs", "1", "--evaluation.real", "200",
                        *TINY_CLI, *extra], cwd=cwd)
    assert result.returncode == 0, result.stderr[-4000:]
    (run,) = (cwd / "runs" / "aegan").iterdir()
    for name in figures:
        assert (run / "media" / f"{name}.gif").is_file(), name
    logged = history(run)
    assert not set(metrics) - set(logged), sorted(set(metrics) - set(logged))
    loaded = aegan.load(run)
    x = loaded.sample(4)
    assert x.shape == (4, *loaded.data_shape) and loaded.encode(x).shape == (4, loaded.latent_dim)
    assert loaded.reconstruct(x).shape == x.shape and loaded.decode(loaded.prior.sample(2)).shape == (2, *x.shape[1:])
    evaluate([str(run / "checkpoints" / "last.ckpt"), "--real", "200", "--samples", "200"])
    report = json.loads((run / "checkpoints" / "last.eval.json").read_text())
    assert {"fid", "latent_swd", "recon_l1"} <= set(report["metrics"]), report["metrics"]
    return run


@pytest.fixture
def seeded():
    L.seed_everything(0, verbose=False)


@pytest.fixture(scope="session")
def aae_checkpoint(tmp_path_factory) -> Path:
    """A checkpoint of a tiny AAE trained for a few steps on the embedded digits."""
    from lightning.pytorch.callbacks import ModelCheckpoint

    from aegan.data import AeganDataModule
    from aegan.models import AAE

    folder = tmp_path_factory.mktemp("aae")
    L.seed_everything(0, verbose=False)
    data = AeganDataModule("mnist5k", batch_size=50)
    model = AAE(data_shape=data.data_shape, num_classes=data.num_classes, hidden=(32,))
    checkpoint = ModelCheckpoint(dirpath=folder, save_last=True)
    tiny_trainer(max_epochs=1, limit_train_batches=5, limit_val_batches=2, enable_checkpointing=True,
                 callbacks=[checkpoint]).fit(model, data)
    return folder / "last.ckpt"


def fit_checkpoint(folder: Path, model, data) -> Path:
    """Train ``model`` on ``data`` for a few batches and return its last checkpoint."""
    from lightning.pytorch.callbacks import ModelCheckpoint

    L.seed_everything(0, verbose=False)
    checkpoint = ModelCheckpoint(dirpath=folder, save_last=True)
    tiny_trainer(max_epochs=1, limit_train_batches=3, limit_val_batches=1, enable_checkpointing=True,
                 callbacks=[checkpoint]).fit(model, data)
    return folder / "last.ckpt"


@pytest.fixture(scope="session")
def model_checkpoints(tmp_path_factory, aae_checkpoint) -> dict[str, Path]:
    """A tiny checkpoint of each kind of model: a plain AAE, a decoder that takes labels
    (aae_style), the semi-supervised AAE, a VAE and a GAN."""
    from aegan.data import AeganDataModule
    from aegan.models import AAE, GAN, VAE, SemiSupervisedAAE

    folder = tmp_path_factory.mktemp("kinds")
    data = AeganDataModule("mnist5k", batch_size=50)
    semi_data = AeganDataModule("mnist5k", batch_size=50, labels_per_class=10)
    kinds = {
        "aae_style": (AAE(hidden=(32,), decoder_labels=True), data),
        "aae_semi": (SemiSupervisedAAE(hidden=(32,), disc_hidden=(32,), latent_dim=2), semi_data),
        "vae": (VAE(hidden=(32,), latent_dim=4), data),
        "gan": (GAN(hidden=(32,), latent_dim=8), data),
    }
    return {"aae": aae_checkpoint, **{kind: fit_checkpoint(folder / kind, model, d)
                                     for kind, (model, d) in kinds.items()}}


# alpha-GAN with tiny nets (it has no --model.hidden)
TINY_ALPHA_GAN = ["--model", "alpha_gan", "--model.channels", "4", "--model.max_channels", "8",
                  "--model.code_hidden", "[16]", "--data.name", "mnist5k", "--trainer.limit_train_batches", "3",
                  "--trainer.limit_val_batches", "2", "--trainer.enable_progress_bar", "false"]


@pytest.fixture(scope="session")
def alpha_gan_wandb_run(tmp_path_factory):
    """``python train.py --model alpha_gan`` (tiny nets, 2 epochs, the latent GIF logged as a
    video every epoch) with W&B offline: ``(result, run folder, W&B run file)``."""
    cwd = tmp_path_factory.mktemp("alpha_gan_wandb")
    result = run_train([*TINY_ALPHA_GAN, "--trainer.max_epochs", "2",
                        "--trainer.callbacks.video_every_n_epochs=1"], cwd=cwd)
    assert result.returncode == 0, result.stderr[-4000:]
    (run,) = (cwd / "runs" / "aegan").iterdir()
    (wandb_file,) = (cwd / "runs" / "wandb").glob(f"offline-run-*-{run.name}/run-{run.name}.wandb")
    return result, run, wandb_file
