"""The progress displays read the device only where Lightning logs: on a GPU each read of a
device tensor (``float()``, ``.item()``) waits for the device, so a read in every batch would
put a host sync into every step."""

import lightning as L
import pytest
import torch

from aegan.callbacks import LossProgressBar, ProgressLines
from aegan.data import AeganDataModule
from aegan.models import AAE
from tests.conftest import tiny_trainer


class BatchIndex(L.Callback):
    """Which training batch is running (its end hooks included)."""

    def __init__(self):
        self.batch = None

    def on_train_batch_start(self, trainer, module, batch, batch_idx):
        self.batch = batch_idx


@pytest.mark.parametrize("bar", [LossProgressBar, ProgressLines], ids=["bar", "lines"])
def test_progress_reads_the_device_only_on_logging_batches(monkeypatch, bar):
    """Every host read of a tensor during training (counted by wrapping ``Tensor.__float__``
    and ``Tensor.item``) happens in a batch where Lightning logs (every 10th): with the old bar,
    which read the logged losses at every refresh, every batch had reads."""
    where = BatchIndex()
    reads = []
    for name in ("__float__", "item"):
        original = getattr(torch.Tensor, name)

        def counting(self, *args, _original=original, **kwargs):
            reads.append(where.batch)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, counting)
    L.seed_everything(0, verbose=False)
    data = AeganDataModule("toy_grid", toy_size=2000, batch_size=50)
    model = AAE(data_shape=(2,), num_classes=25, hidden=(8,), latent_dim=2)
    progress = bar(every_n_batches=5) if bar is ProgressLines else bar()
    trainer = tiny_trainer(max_epochs=1, limit_train_batches=30, limit_val_batches=0, log_every_n_steps=10,
                           enable_progress_bar=True, callbacks=[where, progress])
    trainer.fit(model, data)
    during_training = {b for b in reads if b is not None}
    assert during_training, "nothing was read: the test would pass without looking"
    assert during_training <= {9, 19, 29}, sorted(during_training)
    assert progress.shown.values.keys() >= {"ae", "disc", "gen"}  # and the display has the losses
