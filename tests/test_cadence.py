from types import SimpleNamespace

from aegan.cadence import due


def test_every_n_epochs_work_runs_after_every_n_epochs_and_after_the_last_epoch():
    def epochs(n, max_epochs):
        return [e for e in range(max_epochs) if due(SimpleNamespace(current_epoch=e, max_epochs=max_epochs), n)]

    assert epochs(5, 12) == [4, 9, 11]  # epochs count from 0: after the 5th, the 10th and the last
    assert epochs(1, 3) == [0, 1, 2]
    assert epochs(5, 10) == [4, 9]
    assert due(SimpleNamespace(current_epoch=7, max_epochs=-1), 5) is False  # no end known: no last epoch
