"""The two network families a model can be built from, chosen by name (``--model.net``):
``mlp`` (fully connected) and ``conv`` (DCGAN-style, :mod:`aegan.nets.conv`).

Both come as a *trunk* (data to features, for a discriminator or an encoder to put heads on; a
:class:`~aegan.nets.trunk.Trunk`, which knows its ``out_features``) and a *decoder* (codes to
data) that mirrors the trunk's widths, so one set of options describes a pair of networks: ``hidden`` are the fully connected widths (after the convolutions, for
``conv``), ``channels`` the convolution widths. ``norm`` and ``activation`` concern one family
each: BatchNorm in the conv nets (``batch`` or ``none``), the MLP's hidden activation. Options
of one family only: ``slope`` (the conv trunk's LeakyReLU), ``pieces`` (maxout units in the MLP
trunk) and ``mlp_norm`` (BatchNorm in the MLP decoder's hidden layers).
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from aegan.errors import unknown_choice
from aegan.nets.conv import NORMS, conv_decoder, conv_trunk
from aegan.nets.mlp import ACTIVATIONS, mlp_decoder, mlp_trunk
from aegan.nets.trunk import Trunk

NETS = ("mlp", "conv")


def check_family(net: str, norm: str, activation: str) -> None:
    for kind, value, choices in (("network family", net, NETS), ("norm", norm, NORMS),
                                 ("activation", activation, ACTIVATIONS)):
        if value not in choices:
            raise unknown_choice(kind, value, choices)


def trunk(net: str, data_shape: Sequence[int], hidden: Sequence[int], channels: Sequence[int] = (64, 128),
          norm: str = "batch", activation: str = "relu", slope: float = 0.2, pieces: int = 1) -> Trunk:
    """Data to features (``out_features`` wide)."""
    check_family(net, norm, activation)
    if net == "conv":
        return conv_trunk(data_shape, channels, hidden, norm, slope)
    return mlp_trunk(data_shape, hidden, activation, pieces)


def decoder(net: str, in_features: int, data_shape: Sequence[int], hidden: Sequence[int],
            channels: Sequence[int] = (64, 128), norm: str = "batch", activation: str = "relu",
            mlp_norm: str = "none") -> nn.Sequential:
    """Codes to data of ``data_shape`` (raw outputs: logits for images); mirrors :func:`trunk`."""
    check_family(net, norm, activation)
    if net == "conv":
        return conv_decoder(in_features, data_shape, channels, hidden, norm)
    return mlp_decoder(in_features, hidden, data_shape, activation, mlp_norm)
