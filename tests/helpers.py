"""Callbacks that tests hand to train.py (importable with the repository on PYTHONPATH)."""

import os
import signal

import torch
from lightning import Callback


class SendSignal(Callback):
    """At batch ``batch`` of epoch ``epoch``, process ``rank`` sends ``signal`` (a name) to itself
    (``to="self"``: ``kill`` or ``timeout`` hitting the process the user started) or to its whole
    process group (``to="group"``: Ctrl-C in a terminal, or SLURM signalling every task): a
    preemption in the middle of an epoch."""

    def __init__(self, epoch: int = 1, batch: int = 2, signal: str = "SIGTERM", rank: int = 0, to: str = "self"):
        self.epoch, self.batch, self.signal, self.rank, self.to = epoch, batch, signal, rank, to

    def on_train_batch_start(self, trainer, module, batch, batch_idx):
        if (trainer.current_epoch, batch_idx, trainer.global_rank) == (self.epoch, self.batch, self.rank):
            signum = getattr(signal, self.signal)
            os.kill(os.getpid(), signum) if self.to == "self" else os.killpg(os.getpgid(0), signum)


class RecordStop(Callback):
    """Append "rank epoch batch global_step" to ``out`` when training stops by an exception,
    and "rank end global_step" when it ends normally: where each process stopped."""

    def __init__(self, out: str):
        self.out = out

    def _write(self, line: str) -> None:
        with open(self.out, "a") as log:
            log.write(line + "\n")

    def on_exception(self, trainer, module, exception):
        done = trainer.fit_loop.epoch_loop.batch_progress.current.completed
        self._write(f"{trainer.global_rank} {trainer.current_epoch} {done} {trainer.global_step}")

    def on_train_end(self, trainer, module):
        self._write(f"{trainer.global_rank} end {trainer.global_step}")


class PoisonWeights(Callback):
    """Turn the first decoder layer's weights into NaN at batch ``batch`` of epoch ``epoch``."""

    def __init__(self, epoch: int = 1, batch: int = 2):
        self.epoch, self.batch = epoch, batch

    def on_train_batch_start(self, trainer, module, batch, batch_idx):
        if (trainer.current_epoch, batch_idx) == (self.epoch, self.batch):
            with torch.no_grad():
                next(module.decoder.parameters()).fill_(float("nan"))


class ListCheckpoints(Callback):
    """At the start of every epoch, append the names in the checkpoint folder to ``out``."""

    def __init__(self, out: str):
        self.out = out

    def on_train_epoch_start(self, trainer, module):
        folder = trainer.checkpoint_callback.dirpath
        names = sorted(os.listdir(folder)) if os.path.isdir(folder) else []
        with open(self.out, "a") as log:
            log.write(f"{trainer.current_epoch}: {' '.join(names)}\n")


class RankZeroCollective(Callback):
    """The bug a DDP run must survive by failing, not hanging: at the first validation's end,
    rank zero alone enters an all-reduce (as a torchmetrics sync inside rank-zero-only code did)."""

    def on_validation_epoch_end(self, trainer, module):
        if not trainer.sanity_checking and trainer.is_global_zero:
            torch.distributed.all_reduce(torch.ones(3))
