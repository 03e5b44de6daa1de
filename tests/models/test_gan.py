import pytest
import torch
import yaml

from aegan.data import AeganDataModule
from aegan.errors import ConfigError
from aegan.metrics import sliced_wasserstein
from aegan.models import GAN, GenerativeModule, InfoGAN
from aegan.nets import Maxout
from tests.conftest import REPO, record_phases, tiny_trainer

TINY_CONV = dict(net="conv", channels=(4, 8), hidden=(16,))


@pytest.mark.parametrize("model_class, pack", [(GAN, 1), (InfoGAN, 1), (GAN, 4)])
@pytest.mark.parametrize("net", ["mlp", "conv"])
def test_each_phase_updates_exactly_its_own_networks(monkeypatch, seeded, model_class, pack, net):
    changed, graded = record_phases(monkeypatch)
    data = AeganDataModule("mnist5k", batch_size=20)
    kwargs = (TINY_CONV if net == "conv" else dict(net="mlp", hidden=(16,))) | (dict(pack=pack) if pack > 1 else {})
    tiny_trainer(max_steps=4, limit_val_batches=0).fit(model_class(**kwargs), data)
    disc = {"trunk", "disc_head"} | ({"q_head"} if model_class is InfoGAN else set())
    expected = {"disc": disc, "gen": {"generator"}}
    assert changed == expected
    assert graded == expected  # no gradient leaks: D's trunk stays untouched by the generator's step


def test_discriminator_and_generator_steps_set_the_phase_schedule(monkeypatch, seeded):
    calls = []
    original = GenerativeModule.phase
    monkeypatch.setattr(GenerativeModule, "phase", lambda self, name, terms: calls.append(name) or original(self, name, terms))
    data = AeganDataModule("toy_ring", toy_size=250, batch_size=100)  # 225 training examples: 2 batches
    model = GAN(data_shape=(2,), num_classes=8, latent_dim=2, hidden=(8,), disc_steps=2, gen_steps=3)
    tiny_trainer(max_epochs=1, limit_val_batches=0).fit(model, data)
    assert calls == ["disc", "disc", "gen", "gen", "gen"] * 2


def test_the_seed_mlp_and_the_dcgan_networks():
    gan = GAN()
    assert [m.__class__.__name__ for m in gan.generator[0]] == ["Linear", "LeakyReLU", "Linear"]
    assert gan.generator[0][0].in_features == 100 and gan.generator[0][0].out_features == 128
    assert gan.generator[0][1].negative_slope == 0.01 and gan.trunk[1].in_features == 784
    dcgan = GAN(net="conv", hidden=(1024,))
    convs = [m for m in dcgan.trunk if isinstance(m, torch.nn.Conv2d)]
    assert [(c.out_channels, c.stride) for c in convs] == [(64, (2, 2)), (128, (2, 2))]
    norms = [m for m in [*dcgan.trunk, *dcgan.generator] if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    assert norms and all(n.eps == 1e-5 for n in norms)  # BatchNorm at its default eps
    assert not any(isinstance(m, (torch.nn.MaxPool2d, torch.nn.AvgPool2d)) for m in dcgan.modules())
    for model in (gan, dcgan):
        images = model.eval().sample(6)
        assert images.shape == (6, 1, 28, 28) and images.min() >= 0 and images.max() <= 1


@pytest.mark.parametrize("net, data_shape", [("mlp", (2,)), ("conv", (1, 28, 28))])
def test_a_packed_discriminator_judges_each_pack_from_its_own_examples_alone(seeded, net, data_shape):
    """PacGAN: with pack 4, D's input stacks 4 examples (4x the channels or features), a batch of
    12 gives 3 logits, and the gradient of pack k's logit reaches exactly examples 4k to 4k + 3."""
    kwargs = TINY_CONV if net == "conv" else dict(net="mlp", hidden=(16,))
    model = GAN(data_shape=data_shape, pack=4, **kwargs).eval()  # eval: BatchNorm mixes nothing
    first = next(m for m in model.trunk.modules() if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d)))
    assert (first.in_channels if net == "conv" else first.in_features) == 4 * data_shape[0]
    x = torch.randn(12, *data_shape, requires_grad=True)
    logits = model.discriminate(x)
    assert logits.shape == (3,)
    for k in range(3):
        (grad,) = torch.autograd.grad(logits[k], x, retain_graph=True)
        touched = grad.flatten(1).abs().sum(1) > 0
        assert touched.tolist() == [4 * k <= i < 4 * k + 4 for i in range(12)]
    packed = model.packed(x[:9])  # a remainder is left out
    assert packed.shape == (2, 4 * data_shape[0], *data_shape[1:]) and torch.equal(packed[1, data_shape[0]:2 * data_shape[0]], x[5])


def test_bad_settings_are_refused():
    with pytest.raises(ConfigError, match="unknown network family 'resnet'; valid choices: conv, mlp"):
        GAN(net="resnet")
    with pytest.raises(ConfigError, match="conv networks need images"):
        GAN(data_shape=(2,), net="conv")
    with pytest.raises(ConfigError, match="side divides by 4, got 30x30"):
        GAN(data_shape=(1, 30, 30), net="conv")
    with pytest.raises(ConfigError, match="unknown norm 'layer'"):
        GAN(net="conv", norm="layer")
    with pytest.raises(ConfigError, match="gen_steps and disc_steps must be at least 1"):
        GAN(gen_steps=0)
    with pytest.raises(ConfigError, match="pack must be at least 1"):
        GAN(pack=0)


def test_adversarial_training_moves_samples_onto_the_data(seeded):
    """On the 8-Gaussian ring (radius 2), an MLP GAN's samples come within SW2 < 0.4 of the
    data. Measured (CPU, seeds 0 and 1): 1.33 at initialisation (samples bunched near the
    origin), 0.23 after these 16 epochs; a generator that does not learn stays near 1."""
    data = AeganDataModule("toy_ring", toy_size=3000, batch_size=100)
    data.setup()
    model = GAN(data_shape=(2,), num_classes=8, latent_dim=2, hidden=(64, 64), activation="leaky_relu",
                lr_gen=1e-3, lr_disc=1e-3)
    real, _ = data.examples(1000, "train")

    def distance():
        with torch.no_grad():
            fake = model.sample(1000)
        return sliced_wasserstein(fake, real, generator=torch.Generator().manual_seed(0)).item()

    before = distance()
    tiny_trainer(max_epochs=16, limit_val_batches=0).fit(model, data)
    after = distance()
    print("SW2 before, after:", before, after)
    assert before > 1.0 and after < 0.4


def test_learning_rates_drop_after_their_milestones(seeded):
    data = AeganDataModule("toy_ring", toy_size=250, batch_size=100)
    model = GAN(data_shape=(2,), num_classes=8, latent_dim=2, hidden=(8,), lr_gen=1e-3, lr_disc=2e-3,
                lr_milestones=[1], lr_gamma=0.5)
    tiny_trainer(max_epochs=2, limit_val_batches=0).fit(model, data)
    assert [o.param_groups[0]["lr"] for o in model.optimizers()] == pytest.approx([1e-3, 5e-4])  # disc, gen


def test_pacgans_own_nets_from_the_config(seeded):
    """configs/pacgan_toy.yaml: G 4 x 400 BatchNorm-ReLU, D 3 x 200 maxout of 5 pieces, weights
    N(0, 0.02) and zero biases, Adam 1e-4 with beta1 0.8, no learning-rate cut; packing widens D's input."""
    recipe = yaml.safe_load((REPO / "configs" / "pacgan_toy.yaml").read_text())["model"]["init_args"]
    model = GAN(data_shape=(2,), **(recipe | {"pack": 4}))
    norms = [m for m in model.generator.modules() if isinstance(m, torch.nn.BatchNorm1d)]
    assert [n.num_features for n in norms] == [400] * 4
    maxouts = [m for m in model.trunk if isinstance(m, Maxout)]
    assert [(m.linear.in_features, m.linear.out_features, m.pieces) for m in maxouts] == \
        [(8, 1000, 5), (200, 1000, 5), (200, 1000, 5)]
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    weights = torch.cat([m.weight.flatten() for m in linears])
    assert abs(weights.std().item() - 0.02) < 0.001 and all(m.bias is None or not m.bias.any() for m in linears)
    assert (recipe["lr_gen"], recipe["lr_disc"], recipe["betas"][0]) == (1e-4, 1e-4, 0.8)
    assert not recipe.get("lr_milestones")
    assert model.eval().sample(5).shape == (5, 2)


def test_mlp_options_are_refused_for_conv_nets():
    with pytest.raises(ConfigError, match="gen_hidden, gen_norm and maxout shape the MLP nets"):
        GAN(net="conv", channels=(4, 8), hidden=(16,), maxout=5)
    with pytest.raises(ConfigError, match="unknown init 'xavier'"):
        GAN(init="xavier")
