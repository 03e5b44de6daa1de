"""The Python API (aegan.load, aegan.load_data) and the README's Python examples."""

import torch

import aegan
from aegan.models import AAE
from tests.conftest import readme_blocks


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
