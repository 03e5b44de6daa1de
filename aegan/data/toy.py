"""2-D toy data sets for fast tests and mode-coverage studies.

- ``toy_ring``: 8 Gaussians (std 0.02) evenly on a circle of radius 2;
- ``toy_grid``: 25 Gaussians (std 0.05) on the 5 x 5 grid {-4, -2, 0, 2, 4}^2;
- ``toy_swiss_roll``: a 2-D swiss roll with small noise, labelled by its ten stretches.

The ring and grid settings are those of the VEEGAN / PacGAN mode-coverage benchmarks. The
label of a point is its mode (its stretch of the roll).
"""

from __future__ import annotations

import math

import numpy as np

from aegan.data.arrays import Arrays

TOY_STD = {"toy_ring": 0.02, "toy_grid": 0.05}


def toy_modes(name: str) -> np.ndarray:
    """The centres of the ring's or the grid's Gaussians, shape (modes, 2)."""
    if name == "toy_ring":
        angle = 2 * math.pi * np.arange(8) / 8
        return 2.0 * np.stack([np.cos(angle), np.sin(angle)], -1)
    if name == "toy_grid":
        ticks = np.arange(-4.0, 4.1, 2.0)
        return np.stack(np.meshgrid(ticks, ticks, indexing="ij"), -1).reshape(-1, 2)
    raise ValueError(f"{name!r} has no discrete modes; valid: {', '.join(TOY_STD)}")


def make_toy(name: str, n: int, seed: int) -> Arrays:
    rng = np.random.default_rng(seed)
    if name in TOY_STD:
        modes = toy_modes(name)
        y = rng.integers(len(modes), size=n)
        x = modes[y] + TOY_STD[name] * rng.standard_normal((n, 2))
    else:  # toy_swiss_roll: position u along the roll, radius and angle grow with sqrt(u)
        u = rng.random(n)
        y = np.minimum((u * 10).astype(int), 9)
        angle = 3 * math.pi * np.sqrt(u) + math.pi / 2
        x = 2.5 * np.sqrt(u)[:, None] * np.stack([np.cos(angle), np.sin(angle)], -1)
        x += 0.05 * rng.standard_normal((n, 2))
    return Arrays(x.astype(np.float32), y, f"{name}: {n} points, seed {seed}")
