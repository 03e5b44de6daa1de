"""DCGAN-style convolutional networks for images whose sides halve cleanly (28x28, 32x32, 64x64).

Radford et al.'s guidelines: strided convolutions down and transposed strided convolutions up
instead of pooling; BatchNorm in every hidden layer but the first layer of the down network;
LeakyReLU(0.2) going down (``slope``: the official InfoGAN uses 0.01), ReLU going up; no
activation on the outputs (logits). With the
defaults and 28x28 digits this is the InfoGAN paper's MNIST architecture (its appendix C.1):

    down: conv 64 4x4/2 - conv 128 4x4/2 BN - FC 1024 BN              (28 -> 14 -> 7)
    up:   FC 1024 BN - FC 7x7x128 BN - upconv 64 4x4/2 BN - upconv C 4x4/2

``norm="none"`` drops BatchNorm (e.g. where per-process batch statistics would differ, as on
CPUs under DDP, where SyncBatchNorm is not available).
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from aegan.errors import ConfigError
from aegan.nets.trunk import Trunk

NORMS = ("batch", "none")


def _checked_side(data_shape: Sequence[int], channels: Sequence[int]) -> int:
    """The side of the smallest feature map; refuses data that the strides do not divide."""
    if len(data_shape) != 3:
        raise ConfigError(f"conv networks need images (C, H, W), got data of shape {tuple(data_shape)}; use net 'mlp'")
    if not channels:
        raise ConfigError("conv networks need at least one channel width")
    factor = 2 ** len(channels)
    _, height, width = data_shape
    if height != width or height % factor:
        raise ConfigError(f"conv networks with {len(channels)} strided layers need square images whose side "
                          f"divides by {factor}, got {height}x{width}")
    return height // factor


def _norm(kind: str, width: int, dims: int) -> list[nn.Module]:
    if kind == "none":
        return []
    return [nn.BatchNorm2d(width) if dims == 2 else nn.BatchNorm1d(width)]


def conv_trunk(data_shape: Sequence[int], channels: Sequence[int] = (64, 128), hidden: Sequence[int] = (1024,),
               norm: str = "batch", slope: float = 0.2) -> Trunk:
    """Images to features: strided 4x4 convolutions of widths ``channels``, then fully connected
    layers of widths ``hidden``, each followed by a LeakyReLU of negative slope ``slope``
    (``out_features`` wide)."""
    side = _checked_side(data_shape, channels)
    bias = norm == "none"  # a bias right before BatchNorm is cancelled by it
    layers: list[nn.Module] = []
    width = data_shape[0]
    for i, out in enumerate(channels):
        first = i == 0  # DCGAN: no BatchNorm on the discriminator's input layer
        layers += [nn.Conv2d(width, out, 4, 2, 1, bias=bias or first), *([] if first else _norm(norm, out, 2)),
                   nn.LeakyReLU(slope)]
        width = out
    layers.append(nn.Flatten())
    width *= side * side
    for out in hidden:
        layers += [nn.Linear(width, out, bias=bias), *_norm(norm, out, 1), nn.LeakyReLU(slope)]
        width = out
    return Trunk(*layers, out_features=width)


def conv_decoder(in_features: int, data_shape: Sequence[int], channels: Sequence[int] = (64, 128),
                 hidden: Sequence[int] = (1024,), norm: str = "batch") -> nn.Sequential:
    """Codes to images (raw outputs: logits for images in [0, 1]); mirrors :func:`conv_trunk`
    with the same ``channels`` and ``hidden``."""
    side = _checked_side(data_shape, channels)
    bias = norm == "none"
    layers: list[nn.Module] = []
    width = in_features
    for out in [*reversed(hidden), channels[-1] * side * side]:
        layers += [nn.Linear(width, out, bias=bias), *_norm(norm, out, 1), nn.ReLU()]
        width = out
    layers.append(nn.Unflatten(1, (channels[-1], side, side)))
    width = channels[-1]
    for out in reversed(channels[:-1]):
        layers += [nn.ConvTranspose2d(width, out, 4, 2, 1, bias=bias), *_norm(norm, out, 2), nn.ReLU()]
        width = out
    layers.append(nn.ConvTranspose2d(width, data_shape[0], 4, 2, 1))
    return nn.Sequential(*layers)
