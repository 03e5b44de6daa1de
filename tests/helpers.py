"""Callbacks that tests hand to train.py (importable with the repository on PYTHONPATH)."""

import os
import signal

import torch
from lightning import Callback


class SendSignal(Callback):
    """Send SIGTERM to this process at batch ``batch`` of epoch ``epoch``: a preemption."""

    def __init__(self, epoch: int = 1, batch: int = 2):
        self.epoch, self.batch = epoch, batch

    def on_train_batch_start(self, trainer, module, batch, batch_idx):
        if (trainer.current_epoch, batch_idx) == (self.epoch, self.batch):
            os.kill(os.getpid(), signal.SIGTERM)


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
