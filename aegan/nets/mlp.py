"""Fully connected networks (the AAE paper's MNIST nets: 2 x 1000 ReLU).

Two options serve PacGAN's toy nets (Lin et al. 2018, fjxmlzn/PacGAN): ``norm="batch"``
puts BatchNorm between each hidden layer and its activation (the generator: 4 x 400
BatchNorm-ReLU), and ``pieces > 1`` makes each hidden layer a :class:`Maxout` layer, whose
units take the largest of ``pieces`` linear functions instead of an activation (the
discriminator: 3 x 200 maxout with 5 pieces).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from torch import Tensor, nn

from aegan.errors import ConfigError, unknown_choice
from aegan.nets.trunk import Trunk

ACTIVATIONS = {"relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.2), "leaky_relu_0.01": lambda: nn.LeakyReLU(0.01),
               "elu": nn.ELU, "tanh": nn.Tanh}
MLP_NORMS = ("none", "batch")


class Maxout(nn.Module):
    """``out_features`` maxout units (Goodfellow et al. 2013): a linear map to
    ``out_features * pieces`` values, of which each unit keeps the largest of its ``pieces``
    (consecutive) ones. The unit is a learned convex piecewise-linear function, so the layer
    needs no activation after it."""

    def __init__(self, in_features: int, out_features: int, pieces: int):
        super().__init__()
        self.pieces = pieces
        self.linear = nn.Linear(in_features, out_features * pieces)

    def forward(self, x: Tensor) -> Tensor:
        return self.linear(x).unflatten(-1, (-1, self.pieces)).amax(-1)

    def extra_repr(self) -> str:
        return f"pieces={self.pieces}"


def _check(activation: str, norm: str, pieces: int) -> None:
    if activation not in ACTIVATIONS:
        raise unknown_choice("activation", activation, ACTIVATIONS)
    if norm not in MLP_NORMS:
        raise unknown_choice("MLP norm", norm, MLP_NORMS)
    if pieces < 1:
        raise ConfigError(f"maxout pieces must be at least 1 (1: no maxout), got {pieces}")
    if pieces > 1 and norm != "none":
        raise ConfigError("maxout layers take no BatchNorm here (PacGAN's maxout discriminator has none); "
                          "use norm 'none' with pieces > 1")


def hidden_layer(in_features: int, out_features: int, activation: str = "relu", norm: str = "none",
                 pieces: int = 1) -> list[nn.Module]:
    """One hidden layer: Linear then ``activation``; with ``norm="batch"`` Linear (no bias:
    BatchNorm's shift replaces it), BatchNorm, ``activation``; with ``pieces > 1`` a
    :class:`Maxout` layer."""
    _check(activation, norm, pieces)
    if pieces > 1:
        return [Maxout(in_features, out_features, pieces)]
    if norm == "batch":
        return [nn.Linear(in_features, out_features, bias=False), nn.BatchNorm1d(out_features), ACTIVATIONS[activation]()]
    return [nn.Linear(in_features, out_features), ACTIVATIONS[activation]()]


def mlp(in_features: int, hidden: Sequence[int], out_features: int, activation: str = "relu",
        dropout: float = 0.0, norm: str = "none", pieces: int = 1) -> nn.Sequential:
    """Hidden layers of widths ``hidden`` (see :func:`hidden_layer`); a linear output."""
    layers: list[nn.Module] = []
    width = in_features
    for h in hidden:
        layers += hidden_layer(width, h, activation, norm, pieces)
        if dropout:
            layers.append(nn.Dropout(dropout))
        width = h
    layers.append(nn.Linear(width, out_features))
    return nn.Sequential(*layers)


def mlp_encoder(data_shape: Sequence[int], hidden: Sequence[int], out_features: int,
                activation: str = "relu") -> nn.Sequential:
    """Flattens an input of ``data_shape`` and maps it to ``out_features``."""
    return nn.Sequential(nn.Flatten(), mlp(math.prod(data_shape), hidden, out_features, activation))


def mlp_trunk(data_shape: Sequence[int], hidden: Sequence[int], activation: str = "relu",
              pieces: int = 1) -> Trunk:
    """Flattens an input of ``data_shape`` and maps it through hidden layers of widths
    ``hidden`` (maxout layers with ``pieces > 1``): features for heads to share
    (``out_features`` wide)."""
    layers: list[nn.Module] = [nn.Flatten()]
    width = math.prod(data_shape)
    for h in hidden:
        layers += hidden_layer(width, h, activation, "none", pieces)
        width = h
    return Trunk(*layers, out_features=width)


def mlp_decoder(in_features: int, hidden: Sequence[int], data_shape: Sequence[int],
                activation: str = "relu", norm: str = "none") -> nn.Sequential:
    """Maps ``in_features`` to an output of ``data_shape`` (raw values: logits for images).
    ``hidden`` are the widths of the encoder or trunk it mirrors, data side first, so the decoder's
    layers run through them in reverse (like every decoder builder, :func:`aegan.nets.decoder`)."""
    return nn.Sequential(mlp(in_features, list(reversed(hidden)), math.prod(data_shape), activation, norm=norm),
                         nn.Unflatten(1, tuple(data_shape)))
