"""The clustering AAE's per-epoch diagnostics (issue 23): the share of validation examples whose
cluster changed since the last validation, and the gradient at y's logits in the ae and gen
phases; and its validation naming the clusters by confidence where the softmax saturates."""

import lightning as L
import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from aegan.data import AeganDataModule
from aegan.losses import reconstruction_loss
from aegan.models import SemiSupervisedAAE
from tests.conftest import tiny_trainer

K, STYLE = 3, 2
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def with_fixed_logits(table: torch.Tensor) -> SemiSupervisedAAE:
    """A model whose y logits for input (i, 0) are row i of ``table`` (looked up when called, so
    the test can change them between validations) and whose style is 0."""
    model = SemiSupervisedAAE(data_shape=(2,), num_classes=10, num_clusters=K, latent_dim=STYLE, hidden=(8,),
                              disc_hidden=(8,))
    model.heads_of = lambda x: (table[x[:, 0].long()].to(x.dtype), torch.zeros(len(x), STYLE))
    return model


def loader(rows, labels) -> DataLoader:
    x = torch.stack([torch.tensor(rows, dtype=torch.float32), torch.zeros(len(rows))], 1)
    return DataLoader(TensorDataset(x, torch.tensor(labels)), batch_size=2)


# the logits of the validation examples 0-4 and the test examples 5-7: the softmax of 0-1 (cluster
# 0) and of 2-3 (cluster 1) is 1.0 in float32 for both, the later one the more confident
TABLE = torch.tensor([[30.0, 0, 0], [80, 0, 0], [0, 20, 0], [0, 90, 0], [0, 0, 5],
                      [50, 0, 0], [0, 50, 0], [0, 0, 9]])
VAL_LABELS, TEST_LABELS = [7, 1, 2, 3, 4], [1, 3, 4]


def validate(model, trainer=None):
    trainer = trainer or tiny_trainer()
    trainer.validate(model, dataloaders=[loader(range(5), VAL_LABELS), loader(range(5, 8), TEST_LABELS)],
                     verbose=False)
    return {k: float(v) for k, v in trainer.callback_metrics.items()}


def test_validation_names_each_cluster_after_its_most_confident_example_where_the_softmax_saturates():
    assert torch.equal(TABLE[:4].softmax(1).max(1).values, torch.ones(4))  # the ties the old ranking had
    metrics = validate(with_fixed_logits(TABLE))
    # cluster 0 is a 1 (logit 80 beats 30), cluster 1 a 3 (90 beats 20), cluster 2 a 4: every
    # test example named right; ranked by the saturated probabilities, clusters 0 and 1 were a 7
    # and a 2 (the first of the tied examples), and two of the three test examples wrong
    assert metrics["test/cluster_error"] == 0
    assert metrics["val/cluster_error"] == pytest.approx(2 / 5)  # the 7 and the 2 sit in clusters named 1 and 3


def test_cluster_changed_is_the_share_of_validation_examples_whose_cluster_moved(tmp_path):
    table = TABLE.clone()
    model = with_fixed_logits(table)
    assert "val/cluster_changed" not in validate(model)  # nothing to compare with yet
    assert validate(model)["val/cluster_changed"] == 0
    table[4] = torch.tensor([0.0, 9, 0])  # example 4: cluster 2 -> 1
    table[0] = torch.tensor([0.0, 0, 31])  # example 0: cluster 0 -> 2
    table[6] = torch.tensor([9.0, 0, 0])  # a test example: not counted
    assert validate(model)["val/cluster_changed"] == pytest.approx(2 / 5)
    # the last clusters travel in a checkpoint: a resumed run compares with the epoch before it
    checkpoint = {}
    model.on_save_checkpoint(checkpoint)
    resumed = with_fixed_logits(table)
    resumed.on_load_checkpoint(checkpoint)
    assert torch.equal(resumed.last_clusters, torch.tensor([2, 0, 1, 1, 1]))
    assert validate(resumed)["val/cluster_changed"] == 0


def per_example_gradient_norms(model, x, loss_of) -> torch.Tensor:
    """||d loss_i / d logits_i|| for each example i, from each example's own loss, one at a time."""
    norms = []
    for i in range(len(x)):
        logits, z = model.heads_of(x[i:i + 1])
        (grad,) = torch.autograd.grad(loss_of(logits, z, x[i:i + 1]), logits)
        norms.append(grad.norm())
    return torch.stack(norms)


@pytest.mark.parametrize("decoder_y", ["softmax", "hard"])
def test_logit_grad_is_the_mean_norm_of_each_examples_own_gradient_at_its_logits(seeded, decoder_y):
    model = SemiSupervisedAAE(data_shape=(1, 4, 4), num_clusters=5, latent_dim=STYLE, hidden=(16,),
                              disc_hidden=(8,), input_noise=0.0, decoder_y=decoder_y)
    x = torch.rand(6, 1, 4, 4)

    def recon(logits, z, xi):
        raw = model.decoder(model.code(model.decoder_code(logits), z))
        return reconstruction_loss("bce", raw, xi, logits=True)

    def gen(logits, z, xi):
        return F.binary_cross_entropy_with_logits(model.disc_cat(logits.softmax(-1)).squeeze(-1), torch.ones(1))

    for terms, loss_of in ((model.reconstruction_terms, recon), (model.generator_terms, gen)):
        probe = []
        terms(x, probe=probe)["loss"].backward()
        expected = per_example_gradient_norms(model, x, loss_of).mean()
        assert model.probed_norm(probe[0]).item() == pytest.approx(expected.item(), rel=1e-5)
        assert expected > 0


def test_the_logit_gradients_are_logged_per_step_and_per_epoch_without_a_host_sync(monkeypatch, seeded):
    data = AeganDataModule("mnist5k", batch_size=50, labels_per_class=0, val_fraction=0.05)
    model = SemiSupervisedAAE(data_shape=data.data_shape, num_classes=10, num_clusters=16, latent_dim=2,
                              hidden=(32,), disc_hidden=(16,), decoder_y="hard", style_noise=1.0, disc_noise=0.3)

    def no_sync(*args, **kwargs):
        raise AssertionError("the training step read a tensor's value on the host")

    def watched(method):  # the phases' terms and the norm: no tensor value read on the host
        def run(*args, **kwargs):
            with monkeypatch.context() as patch:
                for name in ("item", "tolist", "__bool__", "__float__", "__int__"):
                    patch.setattr(torch.Tensor, name, no_sync)
                return method(*args, **kwargs)
        return run

    # (not the whole step: Adam reads its step count on the host when it runs on the CPU)
    for name in ("reconstruction_terms", "generator_terms", "probed_norm"):
        setattr(model, name, watched(getattr(model, name)))
    trainer = tiny_trainer(max_epochs=2, limit_train_batches=3, limit_val_batches=2, log_every_n_steps=1)
    trainer.fit(model, data)
    metrics = trainer.callback_metrics
    for phase in ("ae", "gen"):
        assert metrics[f"train/{phase}/logit_grad"] > 0 and metrics[f"train_epoch/{phase}/logit_grad"] > 0
    assert 0 <= metrics["val/cluster_changed"] <= 1  # logged from the second validation on


@needs_cuda
def test_the_probed_step_is_captured_as_a_cuda_graph_and_matches_eager():
    def train(compile):
        L.seed_everything(0, verbose=False)
        data = AeganDataModule("toy_grid", toy_size=1000, batch_size=50, resident=True, labels_per_class=0)
        model = SemiSupervisedAAE(data_shape=(2,), num_classes=25, num_clusters=8, latent_dim=2, hidden=(32,),
                                  disc_hidden=(16,), decoder_y="hard", disc_noise=0.3, compile=compile)
        trainer = tiny_trainer(max_steps=3 * 8, limit_val_batches=0, accelerator="gpu", log_every_n_steps=1)
        trainer.fit(model, data)
        return {k: v.item() for k, v in trainer.logged_metrics.items() if k.startswith("train/")}

    eager, graph = train("none"), train("graph")
    assert eager.keys() == graph.keys() and "train/ae/logit_grad" in eager and eager["train/gen/logit_grad"] > 0
    for key in eager:
        assert graph[key] == pytest.approx(eager[key], abs=1e-4), key
