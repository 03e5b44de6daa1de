"""One convention for every network builder: trunks know their width, decoders mirror the widths
they are given, and the models' state-dict keys stay what existing checkpoints hold."""

import pytest
import torch

from aegan.models import AAE, GAN, VAE
from aegan.nets import Trunk, decoder, mlp_decoder, trunk


@pytest.mark.parametrize("net, shape, hidden", [("mlp", (1, 28, 28), (32, 16)), ("mlp", (2,), ()),
                                                ("conv", (1, 28, 28), (16,)), ("conv", (1, 28, 28), ())])
def test_a_trunk_knows_its_width_and_a_decoder_mirrors_it(net, shape, hidden):
    body = trunk(net, shape, hidden, channels=(4, 8), norm="none")
    assert isinstance(body, Trunk)
    x = torch.rand(3, *shape)
    assert body(x).shape == (3, body.out_features)
    back = decoder(net, 5, shape, hidden, channels=(4, 8), norm="none")
    assert back(torch.randn(3, 5)).shape == (3, *shape)
    widths = [m.out_features for m in back.modules() if isinstance(m, torch.nn.Linear)]
    if net == "mlp":  # the trunk's widths, last first, then the data
        assert widths == [*reversed(hidden), 2 if shape == (2,) else 784]
    else:  # the fully connected widths in reverse, then the smallest feature map
        assert widths == [*reversed(hidden), 8 * 7 * 7]


def test_mlp_decoder_mirrors_the_widths_as_decoder_does():
    direct, chosen = mlp_decoder(4, (32, 16), (1, 28, 28)), decoder("mlp", 4, (1, 28, 28), (32, 16))
    assert [p.shape for p in direct.parameters()] == [p.shape for p in chosen.parameters()]


def test_the_state_dict_keys_of_existing_models_are_unchanged():
    """Checkpoints written before the builders were unified must load: the same keys and shapes."""
    aae = {k: tuple(v.shape) for k, v in AAE(hidden=(32, 16)).state_dict().items() if k.startswith("decoder")}
    assert aae == {"decoder.0.0.weight": (16, 2), "decoder.0.0.bias": (16,), "decoder.0.2.weight": (32, 16),
                   "decoder.0.2.bias": (32,), "decoder.0.4.weight": (784, 32), "decoder.0.4.bias": (784,)}
    gan = GAN(hidden=(32, 16)).state_dict()
    assert gan["trunk.1.weight"].shape == (32, 784) and gan["trunk.3.weight"].shape == (16, 32)
    assert gan["disc_head.weight"].shape == (1, 16) and gan["generator.0.0.weight"].shape == (16, 100)
    vae = VAE(net="conv", channels=(4, 8), hidden=(16,)).state_dict()
    assert vae["encoder_trunk.0.weight"].shape == (4, 1, 4, 4) and vae["encoder_head.weight"].shape == (40, 16)
