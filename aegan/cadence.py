"""When work done every n epochs (figures, metrics, costly bounds) runs: after epochs n, 2n, ...
(Lightning's own rule for ``check_val_every_n_epoch``, so the two line up) and after the last
epoch of training, so that a run always ends with its figures and numbers."""


def due(trainer, every_n_epochs: int) -> bool:
    """Whether this epoch's validation does the every-``every_n_epochs`` work."""
    last = trainer.max_epochs not in (None, -1) and trainer.current_epoch + 1 >= trainer.max_epochs
    return (trainer.current_epoch + 1) % every_n_epochs == 0 or last
