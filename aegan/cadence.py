"""When work done every n epochs (figures, metrics, costly bounds) runs: after epochs n, 2n, ...
(Lightning's own rule for ``check_val_every_n_epoch``, so the two line up) and after the last
epoch of training, so that a run always ends with its figures and numbers."""

from lightning.pytorch.callbacks import Callback


def due(trainer, every_n_epochs: int) -> bool:
    """Whether this epoch's validation does the every-``every_n_epochs`` work."""
    return (trainer.current_epoch + 1) % every_n_epochs == 0 or is_last_epoch(trainer)


def is_last_epoch(trainer) -> bool:
    return trainer.max_epochs not in (None, -1) and trainer.current_epoch + 1 >= trainer.max_epochs


class LastEpoch(Callback):
    """Makes the last epoch of a run validate and write its checkpoints, whatever
    ``check_val_every_n_epoch`` and the checkpoints' ``every_n_epochs`` say: Lightning does both
    only after epochs n, 2n, ..., so a 7-epoch run of a config that validates every 5 would end
    without its last figures and numbers and lose its last two epochs of training. Lightning has
    no setting for this; the two counters are read afresh at every epoch, so setting them to 1
    for the last epoch is all it takes."""

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        if not is_last_epoch(trainer):
            return
        if trainer.check_val_every_n_epoch is not None:
            trainer.check_val_every_n_epoch = 1
        for checkpoint in trainer.checkpoint_callbacks:
            if (checkpoint.every_n_epochs or 0) > 1:
                checkpoint._every_n_epochs = 1  # ModelCheckpoint's counter; its property has no setter
