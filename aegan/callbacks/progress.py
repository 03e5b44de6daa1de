"""Progress with the numbers that matter: each phase's loss and the monitored metrics.

Two progress bars, the same numbers:

- :class:`LossProgressBar`: Lightning's tqdm bar (the command line's default on a terminal);
- :class:`ProgressLines`: one plain line every ``every_n_batches`` batches and one per
  validation, for log files (a SLURM job's output), where a bar's carriage returns pile up in
  one endless line. The SLURM preset uses it; elsewhere:
  ``--trainer.callbacks+=aegan.callbacks.ProgressLines``.

Both show the values of the last logging step: they copy ``trainer.logged_metrics`` to the
host every ``log_every_n_steps`` batches (when Lightning reads them for the loggers anyway) and
at validation and epoch ends, never in between. ``logged_metrics`` holds every batch's losses
as device tensors, and reading one (``float()``) waits for the device: reading them at every
refresh of the bar would put one host sync in every batch of a GPU run.
"""

from __future__ import annotations

import sys
import time

from lightning.pytorch.callbacks import ProgressBar, TQDMProgressBar


def _short(key: str) -> str | None:
    """The progress name of a logged metric, or None to leave it out: ``train/ae/loss`` ->
    ``ae``, ``eval/fid`` -> ``fid``, ``val/recon_mse`` -> ``recon_mse``."""
    parts = key.split("/")
    if parts[0] == "train" and len(parts) == 3 and parts[2] == "loss":
        return parts[1]
    return None


def progress_metrics(trainer) -> dict[str, float]:
    """Each phase's latest loss, and the latest value of every metric a checkpoint monitors
    (read from the device: call it only where a host sync is due anyway)."""
    logged = trainer.logged_metrics
    shown: dict[str, float] = {}
    for key, value in logged.items():
        name = _short(key)
        if name is not None:
            shown[name] = float(value)
    for callback in trainer.checkpoint_callbacks:
        monitor = getattr(callback, "monitor", None)
        if monitor and monitor in logged:
            shown[monitor.split("/")[-1]] = float(logged[monitor])
    return shown


def _format(metrics: dict[str, float]) -> str:
    return "  ".join(f"{k} {v:.4g}" for k, v in metrics.items())


class ShownMetrics:
    """The host copy of :func:`progress_metrics` that a progress display shows: refreshed on
    the batches where Lightning logs (``log_every_n_steps``) and at validation and epoch ends."""

    def __init__(self):
        self.values: dict[str, float] = {}

    def after_batch(self, trainer, batch_idx: int) -> None:
        if trainer._logger_connector.should_update_logs:  # Lightning's own test of a logging batch
            self.refresh(trainer)

    def refresh(self, trainer) -> None:
        self.values = progress_metrics(trainer)


class LossProgressBar(TQDMProgressBar):
    """Lightning's progress bar, showing each phase's loss and the monitored metrics
    (``ae 0.0712 disc 1.38 gen 0.701 fid 3.2``) instead of only the run id."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.shown = ShownMetrics()

    def get_metrics(self, trainer, pl_module):
        metrics = super().get_metrics(trainer, pl_module)
        metrics.pop("v_num", None)  # the run id: in the run's folder name and the log already
        return {**metrics, **{k: f"{v:.4g}" for k, v in self.shown.values.items()}}

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self.shown.after_batch(trainer, batch_idx)  # before the bar asks for the metrics
        super().on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)

    def on_train_epoch_end(self, trainer, pl_module):
        self.shown.refresh(trainer)
        super().on_train_epoch_end(trainer, pl_module)

    def on_validation_end(self, trainer, pl_module):
        self.shown.refresh(trainer)
        super().on_validation_end(trainer, pl_module)


class ProgressLines(ProgressBar):
    """Plain progress lines for log files: ``epoch 3/50  batch 200/600  12.3 batches/s  ae
    0.0712  disc 1.38 ...`` every ``every_n_batches`` training batches, and one line per
    validation with its metrics.

    Args:
        every_n_batches: training batches between two lines (0: none; validation lines only).
    """

    def __init__(self, every_n_batches: int = 100):
        super().__init__()
        self.every_n_batches = every_n_batches
        self.shown = ShownMetrics()
        self._enabled = True
        self._epoch_start = time.perf_counter()

    def disable(self) -> None:
        self._enabled = False

    def enable(self) -> None:
        self._enabled = True

    def _line(self, text: str) -> None:
        if self._enabled and self.trainer.is_global_zero:
            print(text, file=sys.stdout, flush=True)

    def _epoch(self, trainer) -> str:
        return f"epoch {trainer.current_epoch + 1}/{trainer.max_epochs if trainer.max_epochs != -1 else '?'}"

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self._epoch_start = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.shown.after_batch(trainer, batch_idx)
        n = batch_idx + 1
        if not self.every_n_batches or n % self.every_n_batches:
            return
        rate = n / max(time.perf_counter() - self._epoch_start, 1e-9)
        total = self.total_train_batches
        of = f"/{total}" if isinstance(total, int) else ""
        self._line(f"{self._epoch(trainer)}  batch {n}{of}  {rate:.1f} batches/s  {_format(self.shown.values)}")

    def on_validation_end(self, trainer, pl_module) -> None:
        if trainer.sanity_checking:
            return
        self.shown.refresh(trainer)
        seconds = time.perf_counter() - self._epoch_start
        self._line(f"{self._epoch(trainer)}  validated after {seconds:.0f} s  {_format(self.shown.values)}")
