import pytest
import torch
from torch import nn

from aegan.errors import ConfigError
from aegan.nets.resnet import ResBlock, resnet_encoder, resnet_generator, resolutions


def test_the_resolution_ladders_of_28_and_64_pixel_images():
    assert resolutions(28) == [28, 14, 7]
    assert resolutions(64) == [64, 32, 16, 8, 4]


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 64, 64)])
def test_encoder_generator_and_discriminator_shapes(shape):
    x = torch.rand(3, *shape)
    assert resnet_encoder(shape, 8, channels=4)(x).shape == (3, 8)
    assert resnet_encoder(shape, 1, channels=4, leaky=True)(x).shape == (3, 1)
    assert resnet_generator(8, shape, channels=4)(torch.randn(3, 8)).shape == (3, *shape)


def test_encoder_pools_and_generator_upsamples_by_nearest_neighbour():
    encoder, generator = resnet_encoder((1, 28, 28), 8, channels=4), resnet_generator(8, (1, 28, 28), channels=4)
    assert sum(isinstance(m, nn.AvgPool2d) for m in encoder.modules()) == 2
    ups = [m for m in generator.modules() if isinstance(m, nn.Upsample)]
    assert len(ups) == 2 and all(m.mode == "nearest" and m.scale_factor == 2 for m in ups)
    discriminator = resnet_encoder((1, 28, 28), 1, channels=4, leaky=True)
    assert any(isinstance(m, nn.LeakyReLU) for m in discriminator.modules())
    assert not any(isinstance(m, nn.ReLU) for m in discriminator.modules())


def test_res_block_adds_the_skip_before_its_activation():
    block = ResBlock(4, 4, norm="none").eval()
    assert isinstance(block.skip, nn.Identity)
    for layer in block.body:  # a body that outputs zero leaves act(x)
        if isinstance(layer, nn.Conv2d):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)
    x = torch.randn(2, 4, 5, 5)
    assert torch.equal(block(x), torch.relu(x))
    widening = ResBlock(4, 8)
    assert isinstance(widening.skip, nn.Conv2d) and widening(x).shape == (2, 8, 5, 5)


def test_norm_batch_keeps_the_default_eps_and_none_has_no_batch_norm():
    norms = [m for m in resnet_encoder((1, 28, 28), 8, channels=4).modules() if isinstance(m, nn.BatchNorm2d)]
    assert norms and all(m.eps == 1e-5 for m in norms)
    plain = resnet_generator(8, (1, 28, 28), channels=4, norm="none")
    assert not any(isinstance(m, nn.BatchNorm2d) for m in plain.modules())
    with pytest.raises(ConfigError, match="unknown norm 'layer'; valid choices: batch, none"):
        ResBlock(4, 4, norm="layer")
