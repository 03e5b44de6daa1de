"""WAE-MMD: its one phase, the IMQ MMD against a double loop, learning on the toy grid, the CLI."""

import pytest
import torch

from aegan.data import AeganDataModule
from aegan.errors import ConfigError
from aegan.loggers import DIRECTIONS
from aegan.models import WAE
from aegan.models.wae import SCALES, imq_mmd
from aegan.runs import read_wandb, wandb_file
from tests.conftest import latent_distance, record_phases, tiny_trainer, trained_offline


@pytest.mark.parametrize("net", ["mlp", "conv"])
def test_the_one_phase_updates_encoder_and_decoder(monkeypatch, seeded, net):
    changed, graded = record_phases(monkeypatch)
    data = AeganDataModule("mnist5k", batch_size=50)
    model = WAE(net=net, hidden=(16,), channels=(4, 8), latent_dim=4)
    tiny_trainer(max_steps=2, limit_val_batches=0).fit(model, data)
    expected = {"ae": {"encoder_trunk", "encoder_head", "decoder"}}
    assert changed == expected and graded == expected


def direct_mmd(q, p, base):
    """The paper's estimator, pair by pair."""
    n, total = len(q), 0.0
    for scale in SCALES:
        c = base * scale

        def k(a, b):
            return c / (c + ((a - b) ** 2).sum())
        within = sum(k(q[i], q[j]) + k(p[i], p[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
        total += within - 2 * sum(k(q[i], p[j]) for i in range(n) for j in range(n)) / n ** 2
    return total


def test_the_imq_mmd_is_the_papers_estimator_summed_over_its_scales():
    generator = torch.Generator().manual_seed(0)
    q, p = torch.randn(7, 3, generator=generator, dtype=torch.float64), torch.randn(7, 3, generator=generator,
                                                                                   dtype=torch.float64) * 2
    assert SCALES == (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)
    assert imq_mmd(q, p, 6.0).item() == pytest.approx(direct_mmd(q, p, 6.0).item(), rel=1e-12)
    # a code set far from the draws costs more than one drawn like them
    assert imq_mmd(q + 5, p, 6.0) > imq_mmd(2 * q, p, 6.0)
    with pytest.raises(ValueError, match="as many codes as prior draws"):
        imq_mmd(q, p[:5], 6.0)


class Pinned(WAE):
    def prior_sample(self, x):
        return torch.linspace(-1, 1, len(x) * self.latent_dim).view(len(x), self.latent_dim)


def test_the_loss_is_the_summed_squared_cost_plus_lambda_times_the_mmd():
    model = Pinned(hidden=(16,), latent_dim=3, prior_args={"std": 2.0}, mmd_weight=7.0)
    assert model.kernel_base == 2 * 3 * 2.0 ** 2  # C = 2 d sigma^2
    x = torch.rand(5, 1, 28, 28)
    terms = model.wae_terms(x)
    codes = model.encode(x)
    cost = ((model.decode(codes) - x) ** 2).sum((1, 2, 3)).mean()  # per example, summed over pixels
    mmd = direct_mmd(codes.double(), model.prior_sample(x).double(), 24.0)
    torch.testing.assert_close(terms["cost"], cost)
    assert terms["mmd"].item() == pytest.approx(mmd.item(), rel=1e-5)
    assert terms["loss"].item() == pytest.approx(cost.item() + 7.0 * mmd.item(), rel=1e-5)


def test_the_mmd_pulls_q_of_z_onto_the_prior(seeded):
    """On the 25-Gaussian grid, 3 epochs: WAE-MMD's codes end within SW2 < 0.4 of N(0, I) (0.23 on
    seeds 0-2) while the same autoencoder without the penalty (mmd_weight 0) ends far (2.4-2.6), and
    both reconstruct (summed squared error 0.10 and 0.01 against the grid's 16 per point)."""
    data = AeganDataModule("toy_grid", toy_size=3000, batch_size=100)
    data.setup()
    settings = dict(data_shape=(2,), num_classes=25, latent_dim=2, hidden=(64, 64), lr=1e-3)
    model, plain = WAE(**settings, mmd_weight=10.0), WAE(**settings, mmd_weight=0.0)
    for m in (model, plain):
        tiny_trainer(max_epochs=3, limit_val_batches=0).fit(m, data)
    x, _ = data.examples(1000)
    with torch.no_grad():
        cost = ((model.reconstruct(x) - x) ** 2).sum(-1).mean().item()
    distances = latent_distance(model, data), latent_distance(plain, data)
    print("SW2 WAE-MMD, plain autoencoder:", distances, "cost", cost)
    assert distances[0] < 0.4 and distances[1] > 1.0 and cost < 0.5


def test_protocol_and_bad_settings():
    model = WAE(data_shape=(3, 32, 32), net="conv", channels=(4, 8), hidden=(16,), latent_dim=6).eval()
    x = torch.rand(2, 3, 32, 32)
    assert model.encode(x).shape == (2, 6) and model.reconstruct(x).shape == x.shape
    images = model.sample(3)
    assert images.shape == (3, 3, 32, 32) and 0 <= images.min() <= images.max() <= 1
    with pytest.raises(ConfigError, match="valid choices: gaussian"):
        WAE(prior="mixture")
    with pytest.raises(ConfigError, match="mmd_weight must be at least 0"):
        WAE(mmd_weight=-1.0)
    with pytest.raises(ConfigError, match="unknown network family 'rnn'"):
        WAE(net="rnn")


def test_train_py_runs_wae_mmd_offline_with_its_figures_and_metrics(tmp_path):
    """Also: a metric that only a run's ``best`` names (here WAE's own MMD, which
    aegan.loggers.DIRECTIONS does not list) gets its W&B summary from it, and a best checkpoint."""
    best = "{eval/fid: min, train_epoch/ae/mmd: min}"
    run = trained_offline("wae_mmd", tmp_path, ["latent", "decoder", "reconstruction"],
                          ["train_epoch/ae/mmd", "train_epoch/ae/cost", "val/recon_mse", "val/latent_swd", "eval/fid",
                           "eval/latent_swd", "eval/recon_l1"], "--best", best)
    assert "train_epoch/ae/mmd" not in DIRECTIONS
    assert read_wandb(wandb_file(run)).metrics["train_epoch/ae/mmd"]["summary"] == ["min"]
    assert len(list((run / "checkpoints").glob("best-mmd-*.ckpt"))) == 1
