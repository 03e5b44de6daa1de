"""The MLP builders' PacGAN options: maxout units and BatchNorm hidden layers."""

import pytest
import torch

from aegan.errors import ConfigError
from aegan.nets import Maxout, mlp, mlp_decoder, mlp_trunk


def test_a_maxout_unit_is_the_largest_of_its_own_pieces(seeded):
    layer = Maxout(3, 2, pieces=5)
    x = torch.randn(7, 3)
    pieces = x @ layer.linear.weight.T + layer.linear.bias  # (7, 10): unit j owns outputs 5j .. 5j + 4
    expected = torch.stack([pieces[:, 0:5].max(1).values, pieces[:, 5:10].max(1).values], 1)
    assert torch.equal(layer(x), expected)
    # convex and piecewise linear in its input: never below any one piece
    assert (layer(x)[:, :1] >= pieces[:, 0:5]).all()


def test_pacgans_toy_nets_from_the_builders():
    """G: 2 -> 4 x 400 (Linear without bias, BatchNorm, ReLU) -> 2; D: 3 x 200 maxout (5 pieces)."""
    generator = mlp_decoder(2, [400] * 4, (2,), "relu", norm="batch")
    kinds = [type(m).__name__ for m in generator[0]]
    assert kinds == ["Linear", "BatchNorm1d", "ReLU"] * 4 + ["Linear"]
    linears = [m for m in generator[0] if isinstance(m, torch.nn.Linear)]
    assert [m.bias is None for m in linears] == [True] * 4 + [False]  # BatchNorm's shift stands for the bias
    trunk = mlp_trunk((8,), [200] * 3, pieces=5)
    assert trunk.out_features == 200 and [type(m).__name__ for m in trunk] == ["Flatten"] + ["Maxout"] * 3
    assert trunk(torch.randn(4, 8)).shape == (4, 200)


def test_the_plain_mlp_keeps_its_layout():
    """Old checkpoints name their layers by position: the trunk is Flatten, then Linear and
    activation per hidden layer."""
    trunk = mlp_trunk((1, 28, 28), [32, 16], "leaky_relu")
    assert [type(m).__name__ for m in trunk] == ["Flatten", "Linear", "LeakyReLU", "Linear", "LeakyReLU"]
    assert list(mlp(4, [8], 2).state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


@pytest.mark.parametrize("kwargs, message", [
    (dict(pieces=0), "maxout pieces must be at least 1"),
    (dict(norm="layer"), "unknown MLP norm 'layer'; valid choices: batch, none"),
    (dict(norm="batch", pieces=5), "maxout layers take no BatchNorm"),
])
def test_bad_mlp_options_are_refused(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        mlp(2, [8], 1, **kwargs)
