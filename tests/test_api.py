"""The Python API (aegan.load, aegan.load_data) and the README's Python examples."""

import re
import sys

import torch

import aegan
from aegan.cli import main
from aegan.models import AAE
from tests.conftest import REPO


def readme_blocks(section: str, language: str) -> list[str]:
    """The ``language`` code blocks of the README section headed ``## section``."""
    text = (REPO / "README.md").read_text()
    body = text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(rf"```{language}\n(.*?)```", body, flags=re.S)


def test_load_gives_a_model_ready_to_sample_encode_and_reconstruct(aae_checkpoint):
    model = aegan.load(aae_checkpoint)
    assert isinstance(model, AAE) and not model.training
    assert not any(p.requires_grad for p in model.parameters())
    state = torch.load(aae_checkpoint, weights_only=True)["state_dict"]
    assert all(torch.equal(model.state_dict()[k], v) for k, v in state.items())
    images = model.sample(5)
    assert images.shape == (5, 1, 28, 28) and images.grad_fn is None and 0 <= images.min() <= images.max() <= 1
    assert model.encode(images).shape == (5, 2) and model.reconstruct(images).shape == (5, 1, 28, 28)
    data = aegan.load_data(aae_checkpoint)
    assert data.hparams.name == "mnist5k" and data.examples(3)[0].shape == (3, 1, 28, 28)


def test_the_readme_python_example_runs_on_a_run_folder(alpha_gan_wandb_run):
    _, run, _ = alpha_gan_wandb_run
    (block, _) = readme_blocks("Use it from Python", "python")
    scope = {}
    exec(block.replace("runs/aegan/<run id>", str(run)), scope)
    assert scope["images"].shape == (16, 1, 28, 28) and scope["x_hat"].shape == (16, 1, 28, 28)
    assert scope["x"].shape == (100, 1, 28, 28)


def test_the_readme_add_a_model_example_trains_from_the_command_line(tmp_path, monkeypatch, capsys):
    (code,) = readme_blocks("Add a model", "python")
    (command,) = readme_blocks("Add a model", "bash")
    (tmp_path / "my_models.py").write_text(code)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["train.py"])
    args = [a.strip("'") for a in re.findall(r"'[^']*'|\S+", command.replace("\\\n", " "))][2:]  # after python train.py
    tiny = ["--model.hidden", "[16]", "--trainer.max_epochs", "1", "--trainer.limit_train_batches", "3",
            "--trainer.limit_val_batches", "1", "--trainer.logger", "lightning.pytorch.loggers.CSVLogger",
            "--evaluation.real", "100"]
    main([*args, *tiny])
    (run,) = (tmp_path / "runs" / "aegan").iterdir()
    assert (run / "media" / "latent.gif").exists() and list((run / "checkpoints").glob("best-recon_mse-*.ckpt"))
    model = aegan.load(run)
    assert type(model).__name__ == "Autoencoder" and model.sample(3).shape == (3, 1, 28, 28)
