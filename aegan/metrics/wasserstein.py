"""Sliced Wasserstein distance between two sets of samples (images or latents).

Written here rather than taken from a library because it is a few lines of torch: the only
library implementation (POT) would be a new dependency and runs on NumPy arrays.
"""

from __future__ import annotations

import torch
from torch import Tensor


def sliced_wasserstein(a: Tensor, b: Tensor, projections: int = 256,
                       generator: torch.Generator | None = None) -> Tensor:
    """Sliced 2-Wasserstein distance between the empirical distributions of ``a`` and ``b``.

    Both are projected on ``projections`` random unit directions; in 1-D the optimal transport
    pairs sorted values, so SW2^2 is the mean over directions of the mean squared difference of
    matched quantiles. Sets of different sizes are compared at ``min(len(a), len(b))`` evenly
    spaced quantiles. Samples are flattened, so images work too. Returns a scalar tensor on the
    device of ``a``; pass a seeded ``generator`` for directions that repeat from call to call.
    """
    a, b = a.flatten(1).float(), b.flatten(1).float().to(a.device)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"sample sets have different dimensions: {a.shape[1]} and {b.shape[1]}")
    directions = torch.randn(a.shape[1], projections, generator=generator).to(a.device)
    directions = directions / directions.norm(dim=0, keepdim=True)
    pa, pb = (a @ directions).sort(0).values, (b @ directions).sort(0).values
    if len(pa) != len(pb):
        k = min(len(pa), len(pb))
        levels = (torch.arange(k, device=a.device) + 0.5) / k
        pa, pb = (p[(levels * len(p)).long()] for p in (pa, pb))
    return (pa - pb).pow(2).mean().sqrt()
