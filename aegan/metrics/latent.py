"""How well the aggregated posterior q(z) matches the prior p(z), and reconstruction errors.

MMD is written here (a few lines) rather than taken from torchmetrics, whose kernel distance
(KID) fixes a polynomial kernel on image features; latents want Gaussian kernels.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor
from torchmetrics import Metric
from torchmetrics.utilities import dim_zero_cat

from aegan.metrics.wasserstein import sliced_wasserstein


class LatentSlicedWasserstein(Metric):
    """Sliced Wasserstein distance between encoded codes and as many prior samples.

    ``update`` collects codes (gathered across processes at ``compute``); ``compute`` draws the
    same number of prior samples and compares. Prior samples and projection directions come from
    a fixed seed, so the value moves only when q(z) moves.
    """

    full_state_update = False

    def __init__(self, prior, projections: int = 256, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.prior, self.projections, self.seed = prior, projections, seed
        self.add_state("codes", default=[], dist_reduce_fx="cat")

    def update(self, z: Tensor) -> None:
        self.codes.append(z.detach().float())

    def compute(self) -> Tensor:
        codes = dim_zero_cat(self.codes)
        generator = torch.Generator().manual_seed(self.seed)
        reference = self.prior.sample(len(codes), generator=generator).to(codes.device)
        return sliced_wasserstein(codes, reference, self.projections, generator=generator)


def mmd(a: Tensor, b: Tensor, scales: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0)) -> Tensor:
    """Unbiased squared maximum mean discrepancy between samples ``a`` and ``b`` with a sum of
    Gaussian kernels, their widths ``scales`` times the median distance between all points
    (so the result does not depend on the latent's scale). 0 in expectation when the two
    distributions are equal; it can come out slightly negative from sampling noise."""
    a, b = a.flatten(1).float(), b.flatten(1).float().to(a.device)
    points = torch.cat([a, b])
    squared = torch.cdist(points, points).pow(2)
    width = squared[squared > 0].median()
    kernel = sum(torch.exp(-squared / (2 * s * s * width)) for s in scales)
    n, m = len(a), len(b)
    kaa, kbb, kab = kernel[:n, :n], kernel[n:, n:], kernel[:n, n:]
    return ((kaa.sum() - kaa.diagonal().sum()) / (n * (n - 1)) + (kbb.sum() - kbb.diagonal().sum()) / (m * (m - 1))
            - 2 * kab.mean())


def reconstruction_errors(x: Tensor, x_hat: Tensor) -> dict[str, float]:
    """Mean squared and mean absolute error per element."""
    return {"recon_mse": F.mse_loss(x_hat, x).item(), "recon_l1": F.l1_loss(x_hat, x).item()}
