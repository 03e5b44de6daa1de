"""Stop training on a non-finite loss without waiting on the device every step.

Each phase records, on the device, the first batch at which its loss was NaN or infinite (a
``torch.where``, no host synchronisation, so it also runs inside a captured CUDA graph). The host
reads the record every ``log_every_n_steps`` batches, at the end of every epoch and before
every checkpoint is written; a hit raises :class:`NonFiniteLossError` naming the phase and the
batch, on every process, and no checkpoint is written after it, so the last good one stays.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class NonFiniteLossError(RuntimeError):
    """A training loss became NaN or infinite."""


class NonFiniteGuard(nn.Module):
    def __init__(self):
        super().__init__()
        self.phases: list[str] = []
        self.register_buffer("batch", torch.zeros((), dtype=torch.long), persistent=False)
        self.register_buffer("first_bad", torch.empty(0, dtype=torch.long), persistent=False)

    def reset(self, phases: list[str], batch: int) -> None:
        """Watch ``phases``; the next batch is number ``batch + 1`` since training began."""
        self.phases = list(phases)
        self.first_bad = torch.full((len(phases),), -1, dtype=torch.long, device=self.batch.device)
        self.batch.fill_(batch)

    def next_batch(self) -> None:
        self.batch += 1

    def record(self, phase: str, loss: Tensor) -> None:
        i = self.phases.index(phase)
        bad = ~torch.isfinite(loss.detach())
        self.first_bad[i] = torch.where(bad & (self.first_bad[i] < 0), self.batch, self.first_bad[i])

    def check(self, strategy) -> None:
        """Raise on every process if any process saw a non-finite loss (one host sync)."""
        if not self.phases:
            return
        hits = self.first_bad.cpu()
        if not strategy.reduce_boolean_decision(bool((hits >= 0).any()), all=False):
            return
        if (hits >= 0).any():
            batch, i = min((int(b), i) for i, b in enumerate(hits) if b >= 0)
            where = f"in phase '{self.phases[i]}' at training batch {batch}"
        else:
            where = "on another process"
        raise NonFiniteLossError(f"non-finite loss {where} (counted from the start of training): training "
                                 f"stopped, and no checkpoint is written after it; the last one saved before "
                                 f"it is kept. Lower the learning rates or check the data.")
