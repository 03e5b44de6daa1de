"""Mode coverage on the 2-D toy mixtures, by the VEEGAN / PacGAN protocol.

A generated point is *high quality* when it lies within 3 standard deviations of its nearest
mode. A mode is *covered* when it is the nearest mode of at least one high-quality point. The
*reverse KL* is KL(q || p) between the share of high-quality points per mode (q) and the data's
uniform share (p = 1/K); it is 0 when every mode gets its fair share and ln K when only one
mode is hit.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


def mode_coverage(samples: Tensor, modes: Tensor, std: float, threshold: float = 3.0) -> dict[str, float]:
    """``{"modes_covered", "high_quality", "reverse_kl"}`` for 2-D ``samples`` (N, 2) against
    ``modes`` (K, 2) of a mixture whose components have standard deviation ``std``."""
    samples, modes = samples.float().cpu(), torch.as_tensor(modes).float()
    distance, nearest = torch.cdist(samples, modes).min(1)
    good = distance <= threshold * std
    counts = torch.bincount(nearest[good], minlength=len(modes)).float()
    share = counts / counts.sum().clamp(min=1)
    hit = share > 0
    reverse_kl = (share[hit] * (share[hit] * len(modes)).log()).sum().item() if hit.any() else math.inf
    return {"modes_covered": int(hit.sum()), "high_quality": good.float().mean().item(), "reverse_kl": reverse_kl}
