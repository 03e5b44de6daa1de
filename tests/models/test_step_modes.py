"""The training step's modes: eager, torch.compile, CUDA graph (GPU only), and bf16."""

import lightning as L
import pytest
import torch

from aegan.data import AeganDataModule
from aegan.models import AAE
from tests.conftest import tiny_trainer

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def train(compile: str, steps: int = 4, precision="32-true", accelerator="cpu", pretrain_epochs=0):
    """Train a small AAE from seed 0; return its weights, last losses and global step."""
    L.seed_everything(0, verbose=False)
    data = AeganDataModule("toy_grid", toy_size=1000, batch_size=50, resident=True)
    model = AAE(data_shape=(2,), num_classes=25, hidden=(32, 32), latent_dim=4, compile=compile,
                pretrain_epochs=pretrain_epochs)
    trainer = tiny_trainer(max_steps=3 * steps, limit_val_batches=0, precision=precision, accelerator=accelerator,
                           log_every_n_steps=1)
    trainer.fit(model, data)
    losses = {k: v.item() for k, v in trainer.logged_metrics.items() if k.startswith("train/")}
    return {k: v.detach().cpu() for k, v in model.state_dict().items()}, losses, trainer.global_step


def assert_same(a, b, atol):
    weights_a, losses_a, step_a = a
    weights_b, losses_b, step_b = b
    assert step_a == step_b
    assert losses_a.keys() == losses_b.keys() and losses_a
    for k in losses_a:
        assert losses_a[k] == pytest.approx(losses_b[k], abs=atol), k
    for k in weights_a:
        torch.testing.assert_close(weights_a[k], weights_b[k], atol=atol, rtol=0)


def test_compiled_networks_train_like_eager_ones():
    assert_same(train("none"), train("compile"), atol=1e-5)


def test_graph_mode_without_cuda_warns_and_runs_eagerly():
    with pytest.warns(UserWarning, match="CUDA graphs need a CUDA device; running the step eagerly"):
        graph = train("graph")
    assert_same(train("none"), graph, atol=0)


def test_bf16_mixed_precision_trains():
    weights, losses, step = train("none", precision="bf16-mixed")
    assert step == 12 and all(torch.isfinite(torch.tensor(v)) for v in losses.values())


@needs_cuda
@pytest.mark.parametrize("pretrain_epochs", [0, 1])
def test_captured_step_matches_eager_on_the_gpu(pretrain_epochs):
    """Same seed, same data: the CUDA-graph run ends with the eager run's losses and weights
    (fused Adam in both; tolerance 1e-4 for kernel-order differences)."""
    eager = train("none", accelerator="gpu", pretrain_epochs=pretrain_epochs)
    graph = train("graph", accelerator="gpu", pretrain_epochs=pretrain_epochs)
    assert_same(eager, graph, atol=1e-4)


@needs_cuda
def test_captured_step_runs_in_bf16():
    weights, losses, step = train("graph", precision="bf16-mixed", accelerator="gpu")
    assert step == 12 and all(torch.isfinite(torch.tensor(v)) for v in losses.values())
