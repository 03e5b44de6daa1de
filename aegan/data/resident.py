"""Batches from a data set that lives on the accelerator.

MNIST-sized sets fit on a GPU many times over; keeping the uint8 tensor there removes the
DataLoader (workers, collation, host-to-device copies) from the hot path: a batch is one
indexing kernel. A torch DataLoader has no way to index a device tensor by a device
permutation, hence this small iterable.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor


class DeviceBatches:
    """Iterate over ``(x[idx], y[idx])`` batches of tensors already on their device.

    Each epoch draws a permutation from ``seed`` and the epoch number, which ``epoch()`` gives
    when iteration starts (the data module passes the trainer's current epoch), so every
    process draws the same one and a resumed run the same as the original. It keeps the first
    ``world_size * (N // world_size)`` indices, takes every ``world_size``-th of them starting
    at ``rank`` (disjoint, equal shards), and cuts that shard into batches. The order is
    index for index the one of the data module's CPU path (a ``DistributedSampler`` with
    ``drop_last``, seeded with ``seed + epoch``), so a seed trains on the same batches on a
    GPU as on a CPU and a checkpoint resumes on either. With
    ``drop_last`` the last partial batch is dropped (training: every step sees a full batch,
    which CUDA graphs need); without it, it is kept (validation: every example counts).
    """

    def __init__(self, x: Tensor, y: Tensor, batch_size: int, shuffle: bool, drop_last: bool,
                 seed: int = 0, rank: int = 0, world_size: int = 1, epoch: Callable[[], int] = lambda: 0,
                 position: Callable[[], dict[str, int]] | None = None):
        if len(x) != len(y):
            raise ValueError(f"{len(x)} examples but {len(y)} labels")
        self.x, self.y = x, y
        self.batch_size, self.shuffle, self.drop_last = batch_size, shuffle, drop_last
        self.seed, self.rank, self.world_size, self.epoch = seed, rank, world_size, epoch
        self.shard_size = len(x) // world_size
        self.position, self.skip = position, 0

    def state_dict(self) -> dict[str, int]:
        """Where the training steps are, ``{"epoch", "batches"}`` from ``position()`` (see
        ``ResumableLoader`` in :mod:`aegan.data.module`); Lightning keeps it in checkpoints."""
        return self.position() if self.position else {}

    def load_state_dict(self, state: dict[str, int]) -> None:
        """Resume mid-epoch: the next pass starts at the first batch not completed (once)."""
        if state and state["epoch"] == self.position()["epoch"]:
            self.skip = state["batches"] % len(self)

    def __len__(self) -> int:
        full, rest = divmod(self.shard_size, self.batch_size)
        return full if self.drop_last or not rest else full + 1

    def indices(self) -> Tensor:
        """This process's indices for the current epoch, on the data's device."""
        if self.shuffle:
            generator = torch.Generator().manual_seed(self.seed + self.epoch())  # DistributedSampler's seed
            order = torch.randperm(len(self.x), generator=generator)
        else:
            order = torch.arange(len(self.x))
        order = order[: self.shard_size * self.world_size][self.rank :: self.world_size]
        return order.to(self.x.device, non_blocking=True)

    def __iter__(self):
        order, skip = self.indices(), self.skip
        self.skip = 0
        for b in range(skip, len(self)):
            idx = order[b * self.batch_size : (b + 1) * self.batch_size]
            yield self.x[idx], self.y[idx]
