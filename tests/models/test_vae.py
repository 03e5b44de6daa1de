import math

import numpy as np
import pytest
import torch
from torch.distributions import Normal, kl_divergence

from aegan.data import AeganDataModule
from aegan.data.images import load_mnist5k
from aegan.errors import ConfigError
from aegan.models import VAE
from aegan.models.vae import kl_to_standard_normal
from tests.conftest import record_phases, tiny_trainer


def test_kl_term_matches_the_closed_form_on_a_hand_made_case():
    # q = N((1, 0), diag(1, 4)): KL = 1/2 (1 + 1 - 1 - 0) + 1/2 (0 + 4 - 1 - ln 4) = 0.5 + 1.5 - ln 2
    mean, log_var = torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, math.log(4.0)]])
    assert kl_to_standard_normal(mean, log_var).item() == pytest.approx(2.0 - math.log(2.0), abs=1e-6)
    assert kl_to_standard_normal(torch.zeros(1, 3), torch.zeros(1, 3)).item() == 0.0  # q = p
    mean, log_var = torch.randn(5, 4), torch.randn(5, 4)
    reference = kl_divergence(Normal(mean, (0.5 * log_var).exp()), Normal(0.0, 1.0)).sum(-1)
    torch.testing.assert_close(kl_to_standard_normal(mean, log_var), reference)


def test_the_likelihoods_on_hand_made_cases():
    x = torch.rand(2, 1, 28, 28)
    bernoulli = VAE(hidden=(8,), latent_dim=2)
    # logits 0: every pixel has probability 1/2 whatever its value
    assert torch.allclose(bernoulli.log_likelihood(torch.zeros_like(x), x), torch.full((2,), -784 * math.log(2)))
    gaussian = VAE(data_shape=(3,), hidden=(8,), latent_dim=2, decoder_std=2.0)
    target = torch.tensor([[1.0, -1.0, 0.5]])
    expected = 3 * -math.log(2.0 * math.sqrt(2 * math.pi))  # N(x; x, 4) in three dimensions
    assert gaussian.log_likelihood(target, target).item() == pytest.approx(expected, abs=1e-5)
    learned = VAE(data_shape=(3,), hidden=(8,), latent_dim=2)
    assert learned.likelihood == "gaussian" and learned.decoder_log_std.item() == 0.0


def test_the_loss_is_the_negative_elbo_with_the_kl_term_weighted_by_beta(seeded):
    x = torch.rand(6, 1, 28, 28)
    for beta in (1.0, 4.0):
        model = VAE(hidden=(16,), latent_dim=3, beta=beta)
        torch.manual_seed(0)
        terms = model.elbo_terms(x)
        assert terms["loss"].item() == pytest.approx((terms["nll"] + beta * terms["kl"]).item(), rel=1e-6)
        assert terms["neg_elbo"].item() == pytest.approx((terms["nll"] + terms["kl"]).item(), rel=1e-6)


def test_the_importance_weighted_bound_is_tighter_than_the_elbo(seeded):
    """log p(x) >= IW_k >= ELBO in expectation; for an untrained model the gap is wide."""
    model = VAE(hidden=(16,), latent_dim=4).eval()
    x = torch.rand(64, 1, 28, 28).round()
    elbo = -model.elbo_terms(x)["neg_elbo"].item()
    one = model.importance_weighted_bound(x, 1).mean().item()
    many = model.importance_weighted_bound(x, 50, chunk=256).mean().item()  # several chunks of draws
    assert one == pytest.approx(elbo, rel=0.02)  # k = 1 is an estimate of the ELBO
    assert many > one + 1.0


@pytest.mark.parametrize("net", ["mlp", "conv"])
@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_the_step_updates_the_encoder_the_decoder_and_the_decoder_scale(monkeypatch, seeded, net, likelihood):
    changed, graded = record_phases(monkeypatch)
    data = AeganDataModule("mnist5k", batch_size=20)
    model = VAE(net=net, hidden=(16,), channels=(4, 8), latent_dim=3, likelihood=likelihood)
    tiny_trainer(max_steps=2, limit_val_batches=0).fit(model, data)
    expected = {"encoder_trunk", "encoder_head", "decoder"} | ({"decoder_log_std"} if likelihood == "gaussian" else set())
    assert changed == {"vae": expected} and graded == {"vae": expected}


def test_a_short_run_on_a_few_hundred_digits_lowers_the_held_out_negative_elbo(tmp_path, seeded):
    """500 digits (every tenth of the embedded 5,000: all ten classes), 50 held out. Measured
    (CPU, seed 0): -ELBO 553 nats untrained, 228 after 4 epochs; the importance-weighted bound
    (k = 20) about 8 nats below it."""
    digits = load_mnist5k()
    np.savez(tmp_path / "few.npz", x=digits.x[::10, 0], y=digits.y[::10])
    data = AeganDataModule("arrays", path=str(tmp_path / "few.npz"), batch_size=25)
    model = VAE(data_shape=data.data_shape, hidden=(128,), latent_dim=8, iw_samples=20)
    before = tiny_trainer().validate(model, data, verbose=False)[0]
    tiny_trainer(max_epochs=4).fit(model, data)
    after = tiny_trainer().validate(model, data, verbose=False)[0]
    print("before", before, "after", after)
    assert before["val/neg_elbo"] > 400 and after["val/neg_elbo"] < 0.6 * before["val/neg_elbo"]
    assert after["val/iw_nll"] <= after["val/neg_elbo"]
    assert after["val/recon_mse"] < before["val/recon_mse"]


def test_bad_settings_are_refused():
    with pytest.raises(ConfigError, match="bernoulli likelihood needs image data"):
        VAE(data_shape=(2,), likelihood="bernoulli")
    with pytest.raises(ConfigError, match="unknown likelihood 'poisson'; valid choices: bernoulli, gaussian"):
        VAE(likelihood="poisson")
    with pytest.raises(ConfigError, match="iw_samples must be at least 1"):
        VAE(iw_samples=0)
    with pytest.raises(ConfigError, match="iw_every_n_epochs must be at least 1, got 0"):
        VAE(iw_every_n_epochs=0)


def test_the_importance_weighted_bound_is_logged_at_its_cadence_and_at_the_end(seeded, monkeypatch):
    """iw_every_n_epochs=2 over 5 epochs: the bound (k decoder passes per example) after the
    2nd and 4th epochs (epochs 1 and 3, counted from 0) and after the last (4)."""
    epochs = []
    original = VAE.importance_weighted_bound
    monkeypatch.setattr(VAE, "importance_weighted_bound",
                        lambda self, x, k: epochs.append(self.current_epoch) or original(self, x, k))
    model = VAE(data_shape=(2,), hidden=(8,), latent_dim=2, iw_samples=3, iw_every_n_epochs=2)
    trainer = tiny_trainer(max_epochs=5, limit_train_batches=2, limit_val_batches=1)
    trainer.fit(model, AeganDataModule("toy_ring", toy_size=400, batch_size=50))
    assert epochs == [1, 3, 4] and "val/iw_nll" in trainer.callback_metrics
