"""The semi-supervised AAE's recipe options (issue 13): discriminator noise, the hard y for the
decoder, the labelled reconstruction, SGD with a stepped schedule per phase, gradient clipping,
weight initialisation and the confidence metric."""

import lightning as L
import pytest
import torch
import torch.nn.functional as F

from aegan.data import AeganDataModule
from aegan.errors import ConfigError
from aegan.models import SemiSupervisedAAE
from tests.conftest import tiny_trainer

K, STYLE = 4, 3


def tiny(**kwargs) -> SemiSupervisedAAE:
    return SemiSupervisedAAE(data_shape=(2,), num_classes=K, **(
        {"num_clusters": K, "latent_dim": STYLE, "hidden": (16,), "disc_hidden": (8,)} | kwargs))


def discriminator_inputs(model: SemiSupervisedAAE, n: int = 4000):
    """What D_cat and D_style see, in the disc and gen phases, when every clean input is known:
    real codes (one-hot cluster 0, style 0) and fake ones (uniform y, style 0). Returns
    ``{(phase, discriminator, real|fake): the input minus its clean value}``."""
    real_c = F.one_hot(torch.zeros(n, dtype=torch.long), K).float()
    model.prior_sample = lambda x: (real_c, torch.zeros(n, STYLE))
    model.heads_of = lambda x: (torch.zeros(n, K), torch.zeros(n, STYLE))  # softmax: 1/K each
    seen = {"disc_cat": [], "disc_style": []}
    for name in seen:
        getattr(model, name).register_forward_pre_hook(lambda m, args, name=name: seen[name].append(args[0]))
    x = torch.zeros(n, 2)
    model.discriminator_terms(x)
    model.generator_terms(x)
    uniform = torch.full((n, K), 1 / K)
    (real_cat, fake_cat, gen_cat), (real_style, fake_style, gen_style) = seen["disc_cat"], seen["disc_style"]
    return {("disc", "cat", "real"): real_cat - real_c, ("disc", "cat", "fake"): fake_cat - uniform,
            ("gen", "cat", "fake"): gen_cat - uniform, ("disc", "style", "real"): real_style,
            ("disc", "style", "fake"): fake_style, ("gen", "style", "fake"): gen_style}


def test_discriminator_noise_reaches_real_and_fake_inputs_alike(seeded):
    noisy = discriminator_inputs(tiny(disc_noise=0.3))
    assert len(noisy) == 6
    for key, noise in noisy.items():  # every input of both discriminators, in both phases
        assert noise.mean().item() == pytest.approx(0.0, abs=0.01), key
        assert noise.std().item() == pytest.approx(0.3, abs=0.01), key
    assert not torch.equal(noisy["disc", "cat", "fake"], noisy["gen", "cat", "fake"])  # fresh draws
    for key, noise in discriminator_inputs(tiny()).items():  # off by default: the clean inputs
        assert torch.equal(noise, torch.zeros_like(noise)), key


@pytest.mark.parametrize("disc_noise, cat_noise", [(0.3, 0.0), (0.0, 0.5), (0.3, 0.5)])
def test_cat_noise_sets_d_cats_noise_apart_from_d_styles(seeded, disc_noise, cat_noise):
    noisy = discriminator_inputs(tiny(disc_noise=disc_noise, cat_noise=cat_noise))
    for key, noise in noisy.items():  # D_cat's inputs get cat_noise, D_style's disc_noise, real and fake alike
        expected = cat_noise if key[1] == "cat" else disc_noise
        assert noise.std().item() == pytest.approx(expected, abs=0.01), key


@pytest.mark.parametrize("decoder_y", ["hard", "gumbel"])
def test_hard_y_is_one_hot_and_passes_the_softmax_gradient(seeded, decoder_y):
    model = tiny(decoder_y=decoder_y)
    logits = torch.randn(500, K, requires_grad=True)
    weights = torch.randn(500, K)
    y = model.decoder_code(logits)
    one_hot = F.one_hot(y.argmax(-1), K).float()
    torch.testing.assert_close(y.detach(), one_hot, atol=1e-6, rtol=0)  # exact up to rounding
    if decoder_y == "hard":
        assert torch.equal(y.argmax(-1), logits.argmax(-1))
        (y * weights).sum().backward()
        expected, = torch.autograd.grad((logits.softmax(-1) * weights).sum(), logits)
        torch.testing.assert_close(logits.grad, expected)  # straight through: the softmax's gradient
    else:
        assert (y.argmax(-1) != logits.argmax(-1)).any()  # draws, not the argmax
        (y * weights).sum().backward()
        assert logits.grad.abs().sum() > 0
        model.eval()  # outside training: the argmax, no draw
        assert torch.equal(model.decoder_code(logits).argmax(-1), logits.argmax(-1))


def test_hard_y_trains_the_y_head_through_the_reconstruction(seeded):
    """Only the straight-through path reaches y_head in the ae phase: a plain argmax one-hot
    would leave its gradient empty."""
    model = tiny(decoder_y="hard")
    model.reconstruction_terms(torch.randn(64, 2))["loss"].backward()
    assert model.y_head[1].weight.grad.abs().sum() > 0


def test_the_labelled_batch_is_reconstructed_from_its_true_label(seeded):
    model = tiny(recon_labelled=True)
    seen = []
    model.decoder.register_forward_pre_hook(lambda m, args: seen.append(args[0]))
    x, x_l, y_l = torch.randn(32, 2), torch.randn(8, 2), torch.tensor([0, 1, 2, 3, 3, 2, 1, 0])
    out = model.reconstruction_terms(x, x_l, y_l)
    assert len(seen) == 2 and torch.equal(seen[1][:, :K], F.one_hot(y_l, K).float())
    assert torch.allclose(out["loss"], out["labelled"] + model.reconstruction_terms(x)["loss"], atol=0.1)


class LearningRates(L.Callback):
    def __init__(self):
        self.by_epoch = []

    def on_train_epoch_start(self, trainer, module):
        self.by_epoch.append({name: module._optimizer(name).param_groups[0]["lr"] for name in module._optimizer_index})


def test_sgd_schedule_changes_each_phases_learning_rate_at_its_milestones(seeded):
    data = AeganDataModule("toy_grid", toy_size=500, batch_size=50, labels_per_class=2)
    model = SemiSupervisedAAE(data_shape=(2,), num_classes=25, num_clusters=25, latent_dim=2, hidden=(8,),
                              disc_hidden=(8,), optimizer="sgd", momentum={"ae": 0.9, "disc": 0.1, "gen": 0.1},
                              lr_ae=0.01, lr_disc=0.1, lr_gen=0.1, lr_classify=0.1,
                              lr_milestones={"ae": [2], "disc": [2], "gen": [2], "classify": [2, 3]})
    rates = LearningRates()
    tiny_trainer(max_epochs=4, limit_train_batches=2, limit_val_batches=0, callbacks=[rates]).fit(model, data)
    optimizers = {name: model._optimizer(name).optimizer for name in model._optimizer_index}
    assert all(isinstance(o, torch.optim.SGD) for o in optimizers.values())
    assert {n: o.param_groups[0]["momentum"] for n, o in optimizers.items()} == {
        "ae": 0.9, "disc": 0.1, "gen": 0.1, "classify": 0.9}
    expected = [(0.01, 0.1, 0.1, 0.1), (0.01, 0.1, 0.1, 0.1), (0.001, 0.01, 0.01, 0.01), (0.001, 0.01, 0.01, 0.001)]
    for epoch, (got, want) in enumerate(zip(rates.by_epoch, expected)):
        assert [got[n] for n in ("ae", "disc", "gen", "classify")] == pytest.approx(list(want)), epoch


class GradientNorms(L.Callback):
    def __init__(self):
        self.norms = []

    def on_before_optimizer_step(self, trainer, module, optimizer):
        grads = [p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
        self.norms.append(torch.linalg.vector_norm(torch.stack([g.norm() for g in grads])).item())


@pytest.mark.parametrize("grad_clip", [None, 0.05])
def test_gradient_clipping_bounds_every_phases_norm(seeded, grad_clip):
    data = AeganDataModule("toy_grid", toy_size=500, batch_size=50, labels_per_class=2)
    model = SemiSupervisedAAE(data_shape=(2,), num_classes=25, num_clusters=25, latent_dim=2, hidden=(16,),
                              disc_hidden=(16,), grad_clip=grad_clip)
    norms = GradientNorms()
    tiny_trainer(max_steps=4 * 6, limit_val_batches=0, callbacks=[norms]).fit(model, data)
    assert len(norms.norms) == 24  # four phases, six batches
    if grad_clip is None:  # the unclipped norms lie well above the bound
        assert min(norms.norms) > 0.1
    else:
        assert max(norms.norms) <= grad_clip * 1.0001


def test_normal_init_draws_small_weights_and_zero_biases(seeded):
    model = tiny(init="normal_0.01", hidden=(256,), disc_hidden=(256,))
    for name in ("encoder", "decoder", "disc_cat", "disc_style"):
        linears = [m for m in getattr(model, name).modules() if isinstance(m, torch.nn.Linear)]
        assert linears and all(m.weight.std().item() == pytest.approx(0.01, rel=0.2) for m in linears), name
        assert all(torch.equal(m.bias, torch.zeros_like(m.bias)) for m in linears), name
    assert tiny().encoder[1][0].weight.std().item() > 0.1  # PyTorch's default: 1/sqrt(3 * 2)


@pytest.mark.parametrize("kwargs, message", [
    ({"optimizer": "rmsprop"}, "unknown optimizer 'rmsprop'; valid choices: adam, sgd"),
    ({"decoder_y": "soft"}, "unknown decoder_y 'soft'; valid choices: gumbel, hard, softmax"),
    ({"init": "xavier"}, "unknown init 'xavier'; valid choices: default, normal_0.01"),
    ({"momentum": {"generator": 0.5}}, "momentum: unknown phase 'generator'; valid choices: ae, disc, gen, classify"),
    ({"lr_milestones": {"dis": [5]}}, "lr_milestones: unknown phase 'dis'; valid choices: ae, disc, gen, classify"),
    ({"grad_clip": 0.0}, "grad_clip must be positive"),
    ({"cat_noise": -0.1}, "cat_noise is a standard deviation and must be 0 or more, got -0.1"),
    ({"style_noise": -1.0}, "style_noise is a standard deviation and must be 0 or more, got -1.0"),
])
def test_bad_options_name_the_valid_choices(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        tiny(**kwargs)


def test_validation_logs_the_mean_confidence_of_q_y(seeded):
    data = AeganDataModule("mnist5k", batch_size=50, labels_per_class=0, val_fraction=0.05)
    model = SemiSupervisedAAE(data_shape=data.data_shape, num_classes=10, num_clusters=16, latent_dim=2,
                              hidden=(32,), disc_hidden=(16,))
    trainer = tiny_trainer(max_epochs=1, limit_train_batches=2)
    trainer.fit(model, data)
    confidence = trainer.callback_metrics["val/confidence"].item()
    x = data.splits["val"].tensors[0].float() / 255
    assert confidence == pytest.approx(model.classify(x).max(1).values.mean().item(), abs=1e-5)
    assert 1 / 16 <= confidence <= 1


def test_style_noise_reaches_only_the_style_the_decoder_reads(seeded):
    seen = []
    for style_noise, expected in ((0.0, 0.0), (0.5, 0.5)):
        model = tiny(style_noise=style_noise)
        z = torch.randn(4000, STYLE)
        model.heads_of = lambda x, z=z: (torch.zeros(len(x), K), z)
        model.decoder.register_forward_pre_hook(lambda m, args: seen.append(args[0]))
        model.reconstruction_terms(torch.zeros(4000, 2))
        assert seen[-1][:, K:].sub(z).std().item() == pytest.approx(expected, abs=0.01)
        assert torch.equal(seen[-1][:, :K], torch.full((4000, K), 1 / K))  # y untouched
        model.prior_sample = lambda x: (torch.zeros(len(x), K), torch.zeros(len(x), STYLE))
        styles = []
        model.disc_style.register_forward_pre_hook(lambda m, args: styles.append(args[0]))
        model.generator_terms(torch.zeros(4000, 2))
        assert torch.equal(styles[-1], z)  # D_style judges the encoder's own style


@pytest.mark.parametrize("latent_dim", [2, 5])
def test_cluster_heads_start_at_least_a_margin_apart(seeded, latent_dim):
    """Adam moves a head by about its learning rate per step: heads that start closer than the
    margin stay close for hundreds of steps whatever the margin penalty says."""
    model = tiny(heads=True, num_clusters=16, latent_dim=latent_dim, heads_margin=6.0)
    w = model.heads.weight.T.detach()
    gaps = torch.cdist(w, w)[torch.triu_indices(16, 16, 1).unbind()]
    assert gaps.min() >= 6.0 and gaps.max() < 6.0 * 8  # apart, and not scattered far beyond it
