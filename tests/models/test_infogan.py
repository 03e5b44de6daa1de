import math

import pytest
import torch
import torch.nn.functional as F

from aegan.data import AeganDataModule
from aegan.evaluate import load_checkpoint
from aegan.models import InfoGAN
from tests.conftest import tiny_trainer

TINY = dict(net="mlp", hidden=(32,), noise_dim=4, q_hidden=16)


def test_q_learns_the_codes_the_generator_was_given_never_the_labels(monkeypatch, seeded):
    """Every cross-entropy target is the categorical code of the latent G decoded, and training
    with the true labels, shuffled labels or none at all gives the same weights bit for bit."""
    codes, targets = [], []
    noise, cross_entropy = InfoGAN.noise, F.cross_entropy
    monkeypatch.setattr(InfoGAN, "noise", lambda self, x: codes.append(noise(self, x)) or codes[-1])
    monkeypatch.setattr(F, "cross_entropy", lambda logits, target, *a, **k: targets.append(target) or
                        cross_entropy(logits, target, *a, **k))
    weights = []
    shuffle = torch.Generator().manual_seed(1)  # its own generator: the global random state stays as it was
    for relabel in (lambda y: y, lambda y: y[torch.randperm(len(y), generator=shuffle)], lambda y: torch.full_like(y, -1)):
        torch.manual_seed(0)
        data = AeganDataModule("mnist5k", batch_size=20)
        model = InfoGAN(**TINY)
        original = model.train_step
        model.train_step = lambda x, y: original(x, relabel(y))
        tiny_trainer(max_steps=6, limit_val_batches=0, deterministic=True).fit(model, data)
        weights.append({k: v.clone() for k, v in model.state_dict().items()})
    assert len(codes) == len(targets) == 3 * 6  # one latent and one cross-entropy per phase
    for z, target in zip(codes, targets):
        assert torch.equal(target, model.prior.split(z)[1].argmax(-1))
    for other in weights[1:]:
        for name, value in weights[0].items():
            assert torch.equal(value, other[name]), name


def test_the_information_bound_reaches_the_code_entropy_on_toy_data(seeded):
    """On the 8-Gaussian ring with an 8-valued code, G learns to make its code recoverable:
    L_I,cat climbs from 0 towards H(c) = ln 8 = 2.08. Measured (CPU, seeds 0 and 1): 1.98 and
    1.97 after 8 epochs. The continuous code weighs 0.1 here: on 2-D points it competes with
    the 8 tight modes for the same two coordinates (weight 1: 1.45 and 1.94)."""
    data = AeganDataModule("toy_ring", toy_size=2000, batch_size=100)
    model = InfoGAN(data_shape=(2,), num_classes=8, noise_dim=2, code_categories=8, continuous_codes=1, net="mlp",
                    hidden=(32, 32), q_hidden=32, prior="gaussian", lr_gen=2e-3, lr_disc=2e-3, lambda_cont=0.1)
    trainer = tiny_trainer(max_epochs=8, limit_val_batches=0, log_every_n_steps=1)
    trainer.fit(model, data)
    bound = trainer.callback_metrics["train_epoch/gen/mi_cat"].item()
    assert math.log(8) * 0.9 < bound <= math.log(8) + 1e-6


def test_the_fixed_variance_code_loss_against_a_hand_computation(seeded):
    """The official recipe: Q's Gaussian over each continuous code has standard deviation 1 and
    both parts weigh 1, so L = CE + sum_j [(c_j - mean_j)^2 / 2 + ln(2 pi) / 2]. Q is set to
    uniform logits (CE = ln 10) and means 0.5; a learned deviation adds outputs to Q."""
    model = InfoGAN(**TINY)
    assert model.hparams.continuous_std == 1.0 and model.hparams.lambda_cont == 1.0
    last = model.q_head[-1]
    assert last.out_features == 10 + 2  # logits and means, no deviations
    with torch.no_grad():
        last.weight.zero_()
        last.bias.copy_(torch.tensor([0.0] * 10 + [0.5, 0.5]))
    z = model.prior.sample(64)
    c = z[:, -2:]
    out = model.information_terms(torch.randn(64, model.q_head[0].in_features), z)
    nll = ((c - 0.5) ** 2 / 2 + math.log(2 * math.pi) / 2).sum(-1).mean()
    assert math.isclose(out["info"].item(), math.log(10) + nll.item(), rel_tol=1e-5)
    assert abs(out["mi_cat"].item()) < 1e-5 and math.isclose(out["mi_cont"].item(), 2 * math.log(2) - nll.item(),
                                                               rel_tol=1e-5)
    wide = InfoGAN(**TINY, continuous_std=2.0, lambda_cont=0.5)
    with torch.no_grad():
        wide.q_head[-1].weight.zero_()
        wide.q_head[-1].bias.copy_(torch.tensor([0.0] * 10 + [0.5, 0.5]))
    out = wide.information_terms(torch.randn(64, wide.q_head[0].in_features), z)
    nll = ((c - 0.5) ** 2 / 8 + math.log(2 * math.pi * 4) / 2).sum(-1).mean()
    assert math.isclose(out["info"].item(), math.log(10) + 0.5 * nll.item(), rel_tol=1e-5)
    assert InfoGAN(**TINY, continuous_std=None).q_head[-1].out_features == 10 + 2 * 2


def test_latent_layout_classify_and_per_code_samples():
    model = InfoGAN(**TINY).eval()
    assert model.latent_dim == 4 + 10 + 2 and model.prior.num_components == 10
    z = model.prior.sample(30, torch.arange(10).repeat(3))
    noise, one_hot, continuous = model.prior.split(z)
    assert torch.equal(one_hot.argmax(-1), torch.arange(10).repeat(3)) and continuous.abs().max() <= 1
    probs = model.classify(torch.rand(5, 1, 28, 28))
    assert probs.shape == (5, 10) and torch.allclose(probs.sum(-1), torch.ones(5))
    assert model.sample(10, torch.arange(10)).shape == (10, 1, 28, 28)


def test_a_checkpoint_rebuilds_the_same_infogan(tmp_path, seeded):
    model = InfoGAN(**TINY, continuous_codes=3)
    trainer = tiny_trainer(max_steps=2, limit_val_batches=0)
    trainer.fit(model, AeganDataModule("mnist5k", batch_size=20))
    trainer.save_checkpoint(tmp_path / "infogan.ckpt")
    loaded, _ = load_checkpoint(tmp_path / "infogan.ckpt")
    assert isinstance(loaded, InfoGAN) and loaded.prior.continuous == 3 and loaded.latent_dim == 17
    for name, value in model.state_dict().items():
        assert torch.equal(value, loaded.state_dict()[name]), name


@pytest.mark.parametrize("kwargs, message", [
    (dict(code_categories=1), "at least 2 categories"),
    (dict(prior="nope"), "unknown prior 'nope'"),
    (dict(continuous_std=0.0), "continuous_std must be positive or null"),
])
def test_bad_settings_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        InfoGAN(**TINY | kwargs)


def test_a_checkpoint_from_before_continuous_std_loads_with_the_learned_deviation(tmp_path, seeded):
    """Checkpoints saved before ``continuous_std`` existed learned Q's deviation (a 14-wide Q head)."""
    model = InfoGAN(**TINY, continuous_std=None)
    trainer = tiny_trainer(max_steps=1, limit_val_batches=0)
    trainer.fit(model, AeganDataModule("mnist5k", batch_size=20))
    trainer.save_checkpoint(tmp_path / "old.ckpt")
    state = torch.load(tmp_path / "old.ckpt", weights_only=False)
    del state["hyper_parameters"]["continuous_std"]
    torch.save(state, tmp_path / "old.ckpt")
    loaded, _ = load_checkpoint(tmp_path / "old.ckpt")
    assert loaded.hparams.continuous_std is None and loaded.q_head[-1].out_features == 10 + 2 * 2
