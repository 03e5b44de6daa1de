"""Stop on SIGTERM, SIGINT (Ctrl-C) or SLURM's SIGUSR1 at a batch boundary, with one checkpoint.

A signal can arrive anywhere: inside an optimizer step, between two phases of a batch, inside a
collective. Lightning's handlers act there and then: its SLURM handler saves a checkpoint from
inside the signal handler (and our ``on_save_checkpoint`` enters a collective, which can
deadlock against a gradient all-reduce), its SIGTERM handler broadcasts from inside the handler,
and Ctrl-C raises ``KeyboardInterrupt`` mid-batch, so the checkpoint written on the way out holds
a batch half applied. :class:`Preemption` replaces those handlers with ones that only set a flag.
At the start of a training batch (every ``check_every_n_batches`` batches under several
processes, every batch in one) the processes agree on the flag with one ``all_reduce``; if any
process was signalled, every process then, at that same boundary:

1. saves once, through the checkpoint callbacks that save on exceptions (the configs'
   ``ModelCheckpoint(save_on_exception=True)``: ``epochNNN-stepM.ckpt``, linked as
   ``last.ckpt``), so the checkpoint holds whole batches only and resumes exactly;
2. requeues the SLURM job (global rank zero, SIGUSR1 under ``SLURMEnvironment(auto_requeue=True)``);
3. raises :class:`Preempted`, which ``train.py`` turns into exit status 128 + the signal's number.

A second signal while stopping ends the process at once, without saving (a stuck job can still
be stopped by pressing Ctrl-C twice).
"""

from __future__ import annotations

import os
import signal
import subprocess

import torch
import torch.distributed as dist
from lightning import Callback, LightningModule, Trainer
from lightning.fabric.plugins.environments import SLURMEnvironment
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.utilities import rank_zero_info, rank_zero_warn

SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1)


class Preempted(SystemExit):
    """Training stopped at a batch boundary after a signal; the checkpoint is written.

    ``exit_code`` is 128 + the signal's number for the process the user started, and 0 for the
    processes Lightning started beside it (a failing child would make Lightning kill the
    main process before it finishes)."""

    def __init__(self, signum: int, exit_code: int):
        super().__init__(exit_code)
        self.signum, self.exit_code = signum, exit_code

    def __str__(self) -> str:
        return (f"stopped by {signal.Signals(self.signum).name} at a batch boundary; the checkpoint written "
                f"then resumes the run (--ckpt_path .../checkpoints/last.ckpt)")


class Preemption(Callback):
    """Signals set a flag; the processes stop together at a batch boundary (see the module).

    Args:
        check_every_n_batches: under several processes, how often the processes agree on the
            flag (one small ``all_reduce`` each time); ``None``: every ``log_every_n_steps``
            batches, when the losses are read anyway. One process checks every batch.
    """

    def __init__(self, check_every_n_batches: int | None = None):
        self.check_every_n_batches = check_every_n_batches
        self.signum = 0  # the first signal received; 0: none
        self._installed = False

    def setup(self, trainer: Trainer, module: LightningModule, stage: str) -> None:
        if stage == "fit" and not any(isinstance(c, ModelCheckpoint) and c.save_on_exception
                                      for c in trainer.checkpoint_callbacks):
            rank_zero_warn("Preemption: no ModelCheckpoint(save_on_exception=True) in this run, so a signal "
                           "stops it without a checkpoint")

    # Lightning installs its own handlers just before the sanity check; ours replace them after
    def on_sanity_check_start(self, trainer: Trainer, module: LightningModule) -> None:
        self._install()

    def on_train_start(self, trainer: Trainer, module: LightningModule) -> None:
        self._install()

    def _install(self) -> None:
        if self._installed:
            return
        for signum in SIGNALS:
            signal.signal(signum, self._handle)
        self._installed = True  # Lightning restores the handlers it found when fitting ends

    def _handle(self, signum: int, frame) -> None:
        # os.write, not print: the signal may have interrupted a print to the same stream
        name = signal.Signals(signum).name
        if self.signum:  # a second signal: stop now, without saving
            os.write(2, f"{name} again: stopping now, without a checkpoint\n".encode())
            os._exit(128 + signum)
        self.signum = signum
        os.write(2, f"{name} received: stopping at the next batch boundary with a checkpoint (send it "
                    f"again to stop at once, without one)\n".encode())

    def on_train_batch_start(self, trainer: Trainer, module: LightningModule, batch, batch_idx: int) -> None:
        if trainer.world_size == 1:
            signum = self.signum
        else:
            every = self.check_every_n_batches or trainer.log_every_n_steps
            if batch_idx % every:
                return
            # every process enters this collective at the same batch: the batch counts agree
            flag = torch.tensor([self.signum], device=trainer.strategy.root_device)
            dist.all_reduce(flag, op=dist.ReduceOp.MAX)
            signum = int(flag.item())
        if signum:
            self._stop(trainer, module, signum)

    def _stop(self, trainer: Trainer, module: LightningModule, signum: int) -> None:
        rank_zero_info(f"{signal.Signals(signum).name}: stopping at epoch {trainer.current_epoch}, "
                       f"batch {trainer.fit_loop.epoch_loop.batch_progress.current.completed}")
        environment = getattr(trainer.strategy, "cluster_environment", None)  # None: one process
        child = trainer.local_rank != 0 and not environment.creates_processes_externally
        stop = Preempted(signum, 0 if child else 128 + signum)
        for callback in trainer.checkpoint_callbacks:  # save once, here; their on_exception then skips
            if isinstance(callback, ModelCheckpoint) and callback.save_on_exception:
                callback.on_exception(trainer, module, stop)
        if (isinstance(environment, SLURMEnvironment) and environment.auto_requeue
                and signum == environment.requeue_signal and trainer.is_global_zero):
            requeue()
        raise stop


def requeue() -> None:
    """Put this SLURM job back in the queue (it resumes from the checkpoint just written)."""
    job = os.environ.get("SLURM_JOB_ID")
    if os.environ.get("SLURM_ARRAY_JOB_ID"):
        job = f"{os.environ['SLURM_ARRAY_JOB_ID']}_{os.environ['SLURM_ARRAY_TASK_ID']}"
    if not job:
        rank_zero_warn("Preemption: no SLURM_JOB_ID, so the job is not requeued")
        return
    result = subprocess.run(["scontrol", "requeue", job], capture_output=True, text=True)
    rank_zero_info(f"requeued SLURM job {job}" if result.returncode == 0 else
                   f"requeueing SLURM job {job} failed: {result.stderr.strip()}")
