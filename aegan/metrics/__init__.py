"""Metrics with one protocol (see ``docs/metrics.md`` and ``suite.py``)."""

from aegan.metrics.fid import FID
from aegan.metrics.latent import LatentSlicedWasserstein, mmd, reconstruction_errors
from aegan.metrics.modes import mode_coverage
from aegan.metrics.suite import METRICS, evaluate
from aegan.metrics.wasserstein import critic_distance, sliced_wasserstein

__all__ = ["FID", "METRICS", "LatentSlicedWasserstein", "critic_distance", "evaluate", "mmd", "mode_coverage",
           "reconstruction_errors", "sliced_wasserstein"]
