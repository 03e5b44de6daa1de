import math

import pytest
import torch
import yaml
import torch.nn.functional as F

from aegan.data import AeganDataModule
from aegan.data.images import load_mnist5k
from aegan.evaluate import load_checkpoint
from aegan.models import InfoGAN
from tests.conftest import REPO, tiny_trainer

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


SMALL_CONV = dict(noise_dim=4, channels=(8, 16), hidden=(32,), q_hidden=16)


def _centred_log(probs):
    log = probs.log()
    return log - log.mean(1, keepdim=True)


def test_q_reads_a_real_digit_as_it_would_among_the_fakes_it_trains_on(seeded):
    """Q is trained on fakes alone, each batch normalised by its own statistics, while the
    trunk's running statistics mix real and fake batches (one real for two fake, as in
    training). Scored in evaluation mode, Q must read a real digit the way training-mode Q reads
    it in a batch of 2,047 fakes. The constructed G draws other digits, fainter on a grey
    background: statistics unlike the real ones, yet no fake an outlier among the others. With
    the running statistics (the old scoring) Q's log-probabilities miss the reference by as much
    as the digits differ from each other (measured: 0.27 to 0.56 over 4 seeds; fakes'
    statistics: 0.014 to 0.032)."""
    digits = torch.as_tensor(load_mnist5k().x[:2000]).float() / 255
    real, pool = digits[:1000], digits[1000:]
    model = InfoGAN(**SMALL_CONV, leaky_slope=0.01, init="normal_0.02")
    model.sample = lambda n, labels=None: 0.4 + 0.6 * pool[torch.randint(len(pool), (n,))]
    model.train()
    with torch.no_grad():  # the running statistics of 40 training steps
        for _ in range(40):
            model.trunk(real[torch.randint(len(real), (128,))])  # disc phase: real batch
            model.q_head(model.trunk(model.sample(128)))  # disc phase: fake batch, Q on it
            model.trunk(model.sample(128))  # gen phase: fake batch
    x = real[:32]
    reference = []
    with torch.no_grad():
        before = {k: v.clone() for k, v in model.state_dict().items()}
        for digit in x:  # training mode: the digit normalised with a batch of fakes
            reference.append(model.posterior(model.trunk(torch.cat([model.sample(2047), digit[None]])))[0][-1:])
        model.load_state_dict(before)
        reference = _centred_log(torch.cat(reference).softmax(-1))
        model.eval()
        scored = model.classify(x)
    assert (_centred_log(scored) - reference).abs().max() < 0.08
    # scoring swapped the statistics in and out: the running statistics and the modes are as they were
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    assert not any(m.training for m in model.modules())
    # the old scoring, one flag away, misses the reference
    model.hparams.q_statistics = "running"
    with torch.no_grad():
        old = model.classify(x)
    assert (_centred_log(old) - reference).abs().max() > 0.15


def test_the_fakes_statistics_are_estimated_once_per_stretch_of_evaluation(monkeypatch, seeded):
    model = InfoGAN(**SMALL_CONV).eval()
    calls = []
    original = InfoGAN.fake_statistics
    monkeypatch.setattr(InfoGAN, "fake_statistics", lambda self: calls.append(1) or original(self))
    x = torch.rand(4, 1, 28, 28)
    first = model.classify(x)
    assert torch.equal(model.classify(x), first) and len(calls) == 1  # a fixed seed: the same fakes each time
    model.train()
    model.classify(x)  # training mode: batch statistics, nothing estimated
    model.eval()
    assert torch.allclose(model.classify(x), first) and len(calls) == 2  # new weights would need new statistics


def test_the_config_has_the_official_slope_and_initialisation_one_flag_each_back():
    recipe = yaml.safe_load((REPO / "configs" / "infogan.yaml").read_text())["model"]["init_args"]
    assert (recipe["leaky_slope"], recipe["init"], recipe["q_statistics"]) == (0.01, "normal_0.02", "fakes")
    model = InfoGAN(**SMALL_CONV, leaky_slope=recipe["leaky_slope"], init=recipe["init"])
    slopes = {m.negative_slope for m in [*model.trunk, *model.q_head] if isinstance(m, torch.nn.LeakyReLU)}
    assert slopes == {0.01}
    layers = [m for m in model.modules() if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d, torch.nn.ConvTranspose2d))]
    weights = torch.cat([m.weight.flatten() for m in layers])
    assert abs(weights.std().item() - 0.02) < 0.001 and abs(weights.mean().item()) < 0.001
    assert all(m.bias is None or not m.bias.any() for m in layers)
    dcgan_like = InfoGAN(**SMALL_CONV)  # the class's defaults: DCGAN's slope, PyTorch's initialisation
    assert {m.negative_slope for m in dcgan_like.modules() if isinstance(m, torch.nn.LeakyReLU)} == {0.2}
    assert dcgan_like.q_head[0].bias.abs().sum() > 0  # PyTorch's own initialisation draws biases too
    with pytest.raises(ValueError, match="unknown q_statistics 'batch'; valid choices: fakes, running"):
        InfoGAN(**SMALL_CONV, q_statistics="batch")


def test_a_checkpoint_from_before_the_official_slope_loads_with_the_slope_it_was_trained_with(tmp_path, seeded):
    model = InfoGAN(**SMALL_CONV, leaky_slope=0.2, init="default")
    trainer = tiny_trainer(max_steps=1, limit_val_batches=0)
    trainer.fit(model, AeganDataModule("mnist5k", batch_size=20))
    trainer.save_checkpoint(tmp_path / "old.ckpt")
    state = torch.load(tmp_path / "old.ckpt", weights_only=False)
    for name in ("leaky_slope", "init", "q_statistics"):
        del state["hyper_parameters"][name]
    torch.save(state, tmp_path / "old.ckpt")
    loaded, _ = load_checkpoint(tmp_path / "old.ckpt")
    assert loaded.hparams.leaky_slope == 0.2 and loaded.hparams.q_statistics == "fakes"
    assert {m.negative_slope for m in loaded.modules() if isinstance(m, torch.nn.LeakyReLU)} == {0.2}
    x = torch.rand(8, 1, 28, 28)
    assert torch.equal(loaded.trunk(x), model.eval().trunk(x))


def test_validation_logs_q_as_trained_and_the_running_statistics_reading_beside(seeded):
    model = InfoGAN(**SMALL_CONV)
    trainer = tiny_trainer(max_epochs=1, limit_train_batches=2, limit_val_batches=3)
    trainer.fit(model, AeganDataModule("mnist5k", batch_size=20))
    scores = {k: v.item() for k, v in trainer.callback_metrics.items() if "q_accuracy" in k}
    assert set(scores) == {"val/q_accuracy", "val/q_accuracy_running"}
    assert all(0.1 * 0.5 <= v <= 1 for v in scores.values())  # 60 digits: at least chance-like, at most all
    running = InfoGAN(**SMALL_CONV, q_statistics="running")
    trainer = tiny_trainer(max_epochs=1, limit_train_batches=2, limit_val_batches=3)
    trainer.fit(running, AeganDataModule("mnist5k", batch_size=20))
    assert {k for k in trainer.callback_metrics if "q_accuracy" in k} == {"val/q_accuracy"}
