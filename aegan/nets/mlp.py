"""Fully connected networks (the AAE paper's MNIST nets: 2 x 1000 ReLU)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from torch import nn

from aegan.nets.trunk import Trunk

ACTIVATIONS = {"relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.2), "leaky_relu_0.01": lambda: nn.LeakyReLU(0.01),
               "elu": nn.ELU, "tanh": nn.Tanh}


def mlp(in_features: int, hidden: Sequence[int], out_features: int, activation: str = "relu",
        dropout: float = 0.0) -> nn.Sequential:
    """Linear layers of widths ``hidden`` with ``activation`` between them; a linear output."""
    layers: list[nn.Module] = []
    width = in_features
    for h in hidden:
        layers += [nn.Linear(width, h), ACTIVATIONS[activation]()]
        if dropout:
            layers.append(nn.Dropout(dropout))
        width = h
    layers.append(nn.Linear(width, out_features))
    return nn.Sequential(*layers)


def mlp_encoder(data_shape: Sequence[int], hidden: Sequence[int], out_features: int,
                activation: str = "relu") -> nn.Sequential:
    """Flattens an input of ``data_shape`` and maps it to ``out_features``."""
    return nn.Sequential(nn.Flatten(), mlp(math.prod(data_shape), hidden, out_features, activation))


def mlp_trunk(data_shape: Sequence[int], hidden: Sequence[int], activation: str = "relu") -> Trunk:
    """Flattens an input of ``data_shape`` and maps it through layers of widths ``hidden``, each
    followed by ``activation``: features for heads to share (``out_features`` wide)."""
    if not hidden:
        return Trunk(nn.Flatten(), out_features=math.prod(data_shape))
    body = mlp(math.prod(data_shape), hidden[:-1], hidden[-1], activation)
    return Trunk(nn.Flatten(), *body, ACTIVATIONS[activation](), out_features=hidden[-1])


def mlp_decoder(in_features: int, hidden: Sequence[int], data_shape: Sequence[int],
                activation: str = "relu") -> nn.Sequential:
    """Maps ``in_features`` to an output of ``data_shape`` (raw values: logits for images).
    ``hidden`` are the widths of the encoder or trunk it mirrors, data side first, so the decoder's
    layers run through them in reverse (like every decoder builder, :func:`aegan.nets.decoder`)."""
    return nn.Sequential(mlp(in_features, list(reversed(hidden)), math.prod(data_shape), activation),
                         nn.Unflatten(1, tuple(data_shape)))
