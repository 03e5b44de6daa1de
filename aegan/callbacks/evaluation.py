"""Metrics during training, logged to every logger as ``eval/<metric>``.

Rank zero computes (the data and the feature networks live there once), then broadcasts the
numbers so that every process logs the same values and a ``ModelCheckpoint(monitor="eval/fid")``
sees them on every rank.
"""

from __future__ import annotations

from collections.abc import Sequence

from lightning import Callback, LightningModule, Trainer

from aegan.cadence import due
from aegan.metrics.fid import FID
from aegan.metrics.suite import choose, evaluate


class Evaluation(Callback):
    """Score the model every ``every_n_epochs`` validation epochs and after the last epoch (see
    :mod:`aegan.metrics.suite`).

    Args:
        metrics: names from ``fid, critic, latent, recon, modes, codes``; by default every one that
            applies to the model and data except the critic, which trains a network each time.
        every_n_epochs: evaluate on every n-th validation epoch.
        real: number of held-out validation examples to compare with (at most the split).
        samples: generated examples per evaluation (default: as many as real examples).
        critic_steps: training steps of the independent critic.
    """

    def __init__(self, metrics: Sequence[str] | None = None, every_n_epochs: int = 1, real: int = 2000,
                 samples: int | None = None, critic_steps: int = 500):
        self.metrics, self.every_n_epochs = metrics, every_n_epochs
        self.real, self.samples, self.critic_steps = real, samples, critic_steps
        self._fid: FID | None = None

    def on_validation_epoch_end(self, trainer: Trainer, module: LightningModule) -> None:
        if trainer.sanity_checking or not due(trainer, self.every_n_epochs):
            return
        results = self.compute(trainer, module) if trainer.is_global_zero else None
        results = trainer.strategy.broadcast(results)
        for name, value in results.items():
            module.log_global(f"eval/{name}", float(value))  # the same on every rank: broadcast above

    def compute(self, trainer: Trainer, module: LightningModule) -> dict[str, float]:
        data = trainer.datamodule
        real, labels = data.examples(self.real, "val")
        modes, mode_std = data.modes() if hasattr(data, "modes") else (None, None)
        metrics = choose(self.metrics, module, real, modes, default_skip=("critic",))
        if "fid" in metrics and self._fid is None:
            self._fid = FID(real, device=module.device)
        return evaluate(module, real, metrics, labels=labels, samples=self.samples, fid=self._fid, modes=modes,
                        mode_std=mode_std, critic_steps=self.critic_steps)
