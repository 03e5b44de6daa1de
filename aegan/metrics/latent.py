"""How well the aggregated posterior q(z) matches the prior p(z)."""

from __future__ import annotations

import torch
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
