"""The training step's modes: eager, torch.compile, CUDA graph (GPU only), and bf16."""

from types import SimpleNamespace

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


def test_a_refused_capture_steps_its_optimizers_like_an_eager_run():
    """--model.compile graph where setup refuses the capture (two processes on a CUDA device,
    a model that is not capturable) gives the optimizers an eager run's settings: fused, but no
    capturable step count and no tensor learning rate (which would step eagerly, slower and
    with PyTorch's warning)."""
    class Uncapturable(AAE):
        capturable = False

    cuda = SimpleNamespace(root_device=torch.device("cuda", 0))
    eager = {"fused": True, "capturable": False, "tensor_lr": False}
    for model_class, world_size, reason in [(AAE, 2, "several processes"), (Uncapturable, 1, "cannot be captured")]:
        model = model_class(data_shape=(2,), num_classes=25, hidden=(8,), compile="graph")
        model._trainer = SimpleNamespace(strategy=cuda, world_size=world_size, precision_plugin=None)
        with pytest.warns(UserWarning, match=reason):
            model.setup("fit")
        assert model.optimizer_mode() == eager


class ScheduledAAE(AAE):
    lr_milestones, lr_gamma = (1,), 0.5  # every learning rate halves after epoch 1


class ForeachAAE(ScheduledAAE):
    """Stands in for a checkpoint of an aegan before fused Adam on the CPU (PyTorch's default
    multi-tensor Adam)."""

    def optimizer_mode(self):
        return {"fused": False, "capturable": False, "tensor_lr": False}


class FusedTensorRateAAE(ScheduledAAE):
    """Stands in for a captured run on the CPU: fused Adam with a tensor learning rate (the
    settings a CUDA-graph run gives its optimizers, less ``capturable``, which needs CUDA)."""

    def optimizer_mode(self):
        return {"fused": True, "capturable": False, "tensor_lr": True}


def resume(folder, model_class, ckpt_path=None, epochs=1):
    L.seed_everything(0, verbose=False)
    data = AeganDataModule("toy_grid", toy_size=400, batch_size=50, resident=True)
    model = model_class(data_shape=(2,), num_classes=25, hidden=(16,), latent_dim=2)
    checkpoint = L.pytorch.callbacks.ModelCheckpoint(dirpath=folder, save_last=True)
    trainer = tiny_trainer(max_epochs=epochs, limit_val_batches=0, enable_checkpointing=True, callbacks=[checkpoint])
    trainer.fit(model, data, ckpt_path=ckpt_path)
    return trainer


@pytest.mark.parametrize("written, resumed", [(ForeachAAE, FusedTensorRateAAE), (FusedTensorRateAAE, ScheduledAAE),
                                              (ScheduledAAE, ForeachAAE)],
                         ids=["foreach-to-tensor-rate", "tensor-rate-to-eager", "eager-to-foreach"])
def test_a_resumed_run_steps_its_optimizers_in_its_own_mode(tmp_path, written, resumed):
    """Adam.load_state_dict brings back the settings of the run that wrote the checkpoint; the
    resumed run must step in its own mode (and keep the scheduled learning rate)."""
    resume(tmp_path, written)
    trainer = resume(tmp_path, resumed, ckpt_path=tmp_path / "last.ckpt", epochs=2)
    assert trainer.global_step == 2 * 7 * 3
    fused, tensor_rate = resumed is not ForeachAAE, resumed is FusedTensorRateAAE
    for optimizer in trainer.optimizers:
        for group in optimizer.param_groups:
            assert bool(group["fused"]) == fused and not group["capturable"]
            assert isinstance(group["lr"], torch.Tensor) == tensor_rate
            assert float(group["lr"]) == pytest.approx(0.5 * group["initial_lr"])  # the milestone after epoch 1
        for state in optimizer.state.values():
            assert state["step"].dtype == torch.float32 and state["step"].item() == 2 * 7


@needs_cuda
def test_an_eager_cpu_checkpoint_resumes_captured_on_the_gpu_and_back(tmp_path):
    """The GPU half of the test above: eager on the CPU, then --model.compile graph on the GPU
    (capturable fused Adam, tensor learning rate, step counts on the device), then eager again."""
    L.seed_everything(0, verbose=False)

    def fit(compile, accelerator, epochs, ckpt_path=None):
        data = AeganDataModule("toy_grid", toy_size=400, batch_size=50, resident=True)
        model = AAE(data_shape=(2,), num_classes=25, hidden=(16,), latent_dim=2, compile=compile)
        trainer = tiny_trainer(max_epochs=epochs, limit_val_batches=0, accelerator=accelerator,
                               enable_checkpointing=True,
                               callbacks=[L.pytorch.callbacks.ModelCheckpoint(dirpath=tmp_path, save_last=True)])
        trainer.fit(model, data, ckpt_path=ckpt_path)
        return trainer

    fit("none", "cpu", 1)
    graph = fit("graph", "gpu", 2, tmp_path / "last.ckpt")
    for optimizer in graph.optimizers:
        for group in optimizer.param_groups:
            assert group["fused"] and group["capturable"] and isinstance(group["lr"], torch.Tensor)
        assert all(s["step"].is_cuda for s in optimizer.state.values())
    eager = fit("none", "gpu", 3, tmp_path / "last.ckpt")
    for optimizer in eager.optimizers:
        assert all(g["fused"] and not g["capturable"] and isinstance(g["lr"], float) for g in optimizer.param_groups)
