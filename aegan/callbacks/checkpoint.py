"""A best-so-far checkpoint that tolerates a metric this run does not log."""

from __future__ import annotations

from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.utilities import rank_zero_warn


class BestCheckpoint(ModelCheckpoint):
    """Lightning's ``ModelCheckpoint`` with a ``monitor``, except that a monitored metric this
    model or data set never logs (``eval/fid`` for 2-D toy data, ``val/cluster_error`` for a
    model without clusters) skips the checkpoint with one warning instead of stopping the run:
    the model configs name their best-checkpoint metrics once, for every data set."""

    def _monitor_missing(self, trainer) -> bool:
        # the sanity check logs no metrics, and Lightning saves nothing then anyway
        if trainer.sanity_checking or self.monitor is None or self.monitor in trainer.callback_metrics:
            return False
        if not getattr(self, "_warned_missing", False):
            rank_zero_warn(f"BestCheckpoint: {self.monitor!r} is not logged in this run, so no "
                           f"best-{self.monitor} checkpoint is kept (last.ckpt still is)")
            self._warned_missing = True
        return True

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        if not self._monitor_missing(trainer):
            super().on_train_epoch_end(trainer, pl_module)

    def on_validation_end(self, trainer, pl_module) -> None:
        if not self._monitor_missing(trainer):
            super().on_validation_end(trainer, pl_module)
