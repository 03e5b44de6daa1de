"""Metrics: sample-set distances and latent matching (FID and friends join with their issue)."""

from aegan.metrics.latent import LatentSlicedWasserstein
from aegan.metrics.wasserstein import sliced_wasserstein

__all__ = ["LatentSlicedWasserstein", "sliced_wasserstein"]
