import pytest
from lightning.pytorch.callbacks import ModelCheckpoint

from aegan.callbacks import BestCheckpoint, Evaluation
from aegan.data import AeganDataModule
from aegan.models import AAE
from tests.conftest import tiny_trainer


def test_metrics_are_logged_and_a_checkpoint_can_monitor_them(tmp_path, seeded):
    data = AeganDataModule("mnist5k", batch_size=50)
    model = AAE(hidden=(32,))
    best = ModelCheckpoint(dirpath=tmp_path, monitor="eval/fid", mode="min", filename="best-fid")
    trainer = tiny_trainer(max_epochs=2, limit_train_batches=3, limit_val_batches=1, enable_checkpointing=True,
                           callbacks=[Evaluation(real=300, samples=300), best])
    trainer.fit(model, data)
    metrics = trainer.callback_metrics
    for key in ("eval/fid", "eval/latent_swd", "eval/latent_mmd", "eval/recon_mse", "eval/recon_l1"):
        assert key in metrics
    assert "eval/critic_neg_w" not in metrics  # the critic is off unless asked for
    assert best.best_model_path.endswith("best-fid.ckpt") and float(best.best_model_score) > 0


def test_toy_mixtures_get_mode_coverage_and_the_schedule_is_kept(seeded, monkeypatch):
    calls = []
    original = Evaluation.compute
    monkeypatch.setattr(Evaluation, "compute", lambda self, t, m: calls.append(t.current_epoch) or original(self, t, m))
    data = AeganDataModule("toy_grid", toy_size=1000, batch_size=100)
    model = AAE(data_shape=(2,), num_classes=25, hidden=(16,))
    trainer = tiny_trainer(max_epochs=5, limit_train_batches=2,
                           callbacks=[Evaluation(every_n_epochs=2, metrics=["modes", "critic"], critic_steps=20)])
    trainer.fit(model, data)
    assert calls == [1, 3, 4]  # after the 2nd and 4th epochs, and after the last
    assert set(trainer.callback_metrics) >= {"eval/modes_covered", "eval/high_quality", "eval/reverse_kl",
                                             "eval/critic_neg_w"}
    assert "eval/fid" not in trainer.callback_metrics


def test_a_best_checkpoint_on_a_metric_the_run_never_logs_warns_instead_of_stopping(tmp_path, seeded):
    data = AeganDataModule("toy_grid", toy_size=1000, batch_size=100)
    model = AAE(data_shape=(2,), num_classes=25, hidden=(16,))
    fid, modes = (BestCheckpoint(dirpath=tmp_path, monitor=key, mode="max", filename=name)
                  for key, name in (("eval/fid", "best-fid"), ("eval/modes_covered", "best-modes")))
    trainer = tiny_trainer(max_epochs=2, limit_train_batches=2, enable_checkpointing=True, num_sanity_val_steps=1,
                           callbacks=[Evaluation(metrics=["modes"]), fid, modes])
    with pytest.warns(UserWarning, match="is not logged in this run") as warned:
        trainer.fit(model, data)  # Lightning's own ModelCheckpoint raises here
    # one warning, for the metric that is never logged (none for eval/modes_covered, which the
    # sanity check does not compute)
    assert [str(w.message) for w in warned if "is not logged" in str(w.message)] == [
        "BestCheckpoint: 'eval/fid' is not logged in this run, so no best-eval/fid checkpoint is kept "
        "(last.ckpt still is)"]
    assert fid.best_model_path == "" and modes.best_model_path.endswith("best-modes.ckpt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best-modes.ckpt"]
