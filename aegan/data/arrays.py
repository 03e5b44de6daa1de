"""What every loader returns: the examples, their labels and where they came from."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Arrays:
    """A data set in memory.

    ``x`` is uint8 ``(N, C, H, W)`` for images (0 = black, 255 = white) or float32 ``(N, D)``
    for vectors; ``y`` is int64 ``(N,)`` with -1 for "no label"; ``source`` says in words where
    the data came from (it is logged with the run).
    """

    x: np.ndarray
    y: np.ndarray
    source: str

    def __post_init__(self):
        if self.y is None:
            self.y = np.full(len(self.x), -1, dtype=np.int64)
        self.y = np.asarray(self.y).astype(np.int64).reshape(-1)
        if len(self.y) != len(self.x):
            raise ValueError(f"{self.source}: {len(self.x)} examples but {len(self.y)} labels")

    @property
    def num_classes(self) -> int:
        return int(self.y.max()) + 1 if (self.y >= 0).any() else 0


def images_to_nchw(x: np.ndarray) -> np.ndarray:
    """(N, H, W) or (N, H, W, C) uint8 to (N, C, H, W)."""
    return x[:, None] if x.ndim == 3 else np.ascontiguousarray(x.transpose(0, 3, 1, 2))
