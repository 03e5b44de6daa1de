"""Residual convolutional networks for images (alpha-GAN's encoder, generator and image
discriminator).

A :class:`ResBlock` is conv-norm-act-conv-norm plus a skip connection (a 1x1 conv where the
width changes), with the activation after the sum. The encoder and the discriminator halve the
resolution after each block by average pooling, the generator doubles it before each block by
nearest-neighbour upsampling, so the three share one ladder of resolutions:
:func:`resolutions` halves the image side while it is even and at least 8, which gives
28 -> 14 -> 7 for MNIST-sized images and 64 -> 32 -> 16 -> 8 -> 4 for 64x64 ones. The width
is ``channels`` at full resolution and doubles at every coarser level, up to ``max_channels``.

``norm="none"`` builds the same networks without BatchNorm (BatchNorm's batch statistics make
a step on two DDP shards differ from a step on their union unless it is synchronised).
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from aegan.errors import unknown_choice

NORMS = ("batch", "none")


def resolutions(size: int) -> list[int]:
    """The image sides from ``size`` down to the smallest feature map: halve while even and >= 8."""
    sides = [size]
    while sides[-1] % 2 == 0 and sides[-1] >= 8:
        sides.append(sides[-1] // 2)
    return sides


def widths(levels: int, channels: int, max_channels: int) -> list[int]:
    """The widths a ladder of ``levels`` blocks goes through, finest first: block i maps
    ``widths[i]`` to ``widths[i + 1]``; the first keeps ``channels``, each later one doubles it."""
    return [channels] + [min(channels * 2 ** i, max_channels) for i in range(levels)]


def _norm(kind: str, width: int) -> nn.Module:
    return nn.BatchNorm2d(width) if kind == "batch" else nn.Identity()


class ResBlock(nn.Module):
    """out = act(norm(conv(act(norm(conv(x))))) + skip(x)), 3x3 convs, same resolution."""

    def __init__(self, in_channels: int, out_channels: int, norm: str = "batch",
                 activation: type[nn.Module] | None = None):
        super().__init__()
        if norm not in NORMS:
            raise unknown_choice("norm", norm, NORMS)
        make_act = activation or nn.ReLU
        bias = norm == "none"  # a BatchNorm right after the conv has its own shift
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=bias), _norm(norm, out_channels), make_act(),
            nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=bias), _norm(norm, out_channels),
        )
        self.skip = nn.Identity() if in_channels == out_channels else nn.Conv2d(in_channels, out_channels, 1)
        self.act = make_act()

    def forward(self, x: Tensor) -> Tensor:
        return self.act(self.body(x) + self.skip(x))


def _leaky() -> nn.Module:
    return nn.LeakyReLU(0.2)


def resnet_encoder(data_shape: Sequence[int], out_features: int, channels: int = 32, max_channels: int = 256,
                   norm: str = "batch", leaky: bool = False) -> nn.Sequential:
    """conv -> [ResBlock, average pool] per level -> dense to ``out_features``. With
    ``leaky`` (the image discriminator) the activations are LeakyReLU(0.2)."""
    c, size = data_shape[0], data_shape[-1]
    sides = resolutions(size)
    width = widths(len(sides) - 1, channels, max_channels)
    act = _leaky if leaky else nn.ReLU
    layers: list[nn.Module] = [nn.Conv2d(c, width[0], 3, padding=1)]
    for level in range(len(sides) - 1):
        layers += [ResBlock(width[level], width[level + 1], norm, act), nn.AvgPool2d(2)]
    layers += [nn.Flatten(), nn.Linear(width[-1] * sides[-1] ** 2, out_features)]
    return nn.Sequential(*layers)


def resnet_generator(latent_dim: int, data_shape: Sequence[int], channels: int = 32, max_channels: int = 256,
                     norm: str = "batch") -> nn.Sequential:
    """dense -> reshape to the smallest feature map -> [upsample x2, ResBlock] per level ->
    3x3 conv to the image's channels. Outputs raw values (logits for images in [0, 1])."""
    c, size = data_shape[0], data_shape[-1]
    sides = resolutions(size)
    width = widths(len(sides) - 1, channels, max_channels)
    layers: list[nn.Module] = [nn.Linear(latent_dim, width[-1] * sides[-1] ** 2),
                               nn.Unflatten(1, (width[-1], sides[-1], sides[-1]))]
    for level in reversed(range(len(sides) - 1)):
        layers += [nn.Upsample(scale_factor=2, mode="nearest"), ResBlock(width[level + 1], width[level], norm)]
    layers.append(nn.Conv2d(width[0], c, 3, padding=1))
    return nn.Sequential(*layers)
