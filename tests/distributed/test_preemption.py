"""Signals stop a run at a batch boundary with one checkpoint that resumes exactly.

A two-process DDP job (gloo, CPU) is stopped three times, each time mid-epoch and each time
resumed from its ``last.ckpt``: SIGTERM to the process the user started only (``kill``,
``timeout``), SIGUSR1 to every process (SLURM's warning before preemption), SIGINT to every
process (Ctrl-C in a terminal). Every process must stop at the same batch, one checkpoint must
be written per stop, and the resumed job must end with the uninterrupted job's step count and
exactly its weights. The same for SIGINT on a single process, on the GPU-resident data path.
"""

import signal

import pytest
import torch

from tests.conftest import REPO, run_train

TINY = ["--model", "aae", "--model.hidden", "[16]", "--data.name", "mnist5k", "--trainer.limit_train_batches", "5",
        "--trainer.limit_val_batches", "1", "--trainer.max_epochs", "3", "--trainer.enable_progress_bar", "false",
        "--trainer.logger", "false", "--trainer.log_every_n_steps", "2"]
DDP = ["--trainer", str(REPO / "configs" / "trainer" / "ddp.yaml"), "--trainer.accelerator", "cpu",
       "--trainer.devices", "2"]
STEPS_PER_BATCH = 3  # the AAE's phases


def send(signal_name: str, epoch: int, batch: int, to: str, stops) -> list[str]:
    return ["--trainer.callbacks+=tests.helpers.SendSignal", f"--trainer.callbacks.signal={signal_name}",
            f"--trainer.callbacks.epoch={epoch}", f"--trainer.callbacks.batch={batch}", f"--trainer.callbacks.to={to}",
            "--trainer.callbacks+=tests.helpers.RecordStop", f"--trainer.callbacks.out={stops}"]


def weights(path):
    return torch.load(path, weights_only=True)["state_dict"]


def checkpoint_folder(root):
    """The checkpoints of the one run under ``root`` (``root/aegan/<run id>/checkpoints``)."""
    folders = list(root.glob("aegan/*/checkpoints"))
    assert len(folders) <= 1, folders  # a resumed run continues in its own folder
    return folders[0] if folders else root / "none yet"


def stop_and_resume(tmp_path, base, interruptions, processes):
    straight = run_train([*base, "--trainer.default_root_dir", "straight"], cwd=tmp_path)
    assert straight.returncode == 0, straight.stderr[-3000:]
    resume = []
    for signal_name, epoch, batch, to in interruptions:
        stops = tmp_path / f"stops-{signal_name}.txt"
        before = set(checkpoint_folder(tmp_path / "cut").glob("*.ckpt"))
        cut = run_train([*base, "--trainer.default_root_dir", "cut", *resume, *send(signal_name, epoch, batch, to, stops)],
                        cwd=tmp_path)
        assert cut.returncode == 128 + getattr(signal, signal_name), cut.stderr[-3000:]
        checkpoints = checkpoint_folder(tmp_path / "cut")
        # every process stopped before the same batch of the same epoch
        assert sorted(stops.read_text().split("\n")[:-1]) == [
            f"{rank} {epoch} {batch} {(5 * epoch + batch) * STEPS_PER_BATCH}" for rank in range(processes)]
        # one checkpoint for the stop (besides the earlier epochs' ends), and last.ckpt is it
        written = {p.name for p in set(checkpoints.glob(f"epoch{epoch:03d}-*.ckpt")) - before}
        assert written == {f"epoch{epoch:03d}-step{(5 * epoch + batch) * STEPS_PER_BATCH}.ckpt"}
        assert torch.load(checkpoints / "last.ckpt", weights_only=True)["global_step"] == \
            (5 * epoch + batch) * STEPS_PER_BATCH
        resume = ["--ckpt_path", str(checkpoints / "last.ckpt")]
    finished = run_train([*base, "--trainer.default_root_dir", "cut", *resume], cwd=tmp_path)
    assert finished.returncode == 0, finished.stderr[-3000:]
    expected, resumed = torch.load(checkpoint_folder(tmp_path / "straight") / "last.ckpt", weights_only=True), \
        torch.load(checkpoint_folder(tmp_path / "cut") / "last.ckpt", weights_only=True)
    assert resumed["global_step"] == expected["global_step"] == 3 * 5 * STEPS_PER_BATCH
    for name, value in expected["state_dict"].items():
        assert torch.equal(value, resumed["state_dict"][name]), name


def test_signals_stop_a_ddp_job_together_and_it_resumes_exactly(tmp_path):
    stop_and_resume(tmp_path, [*TINY, *DDP], [("SIGTERM", 0, 2, "self"), ("SIGUSR1", 1, 4, "group"),
                                              ("SIGINT", 2, 2, "group")], processes=2)


def test_ctrl_c_stops_one_process_at_a_batch_boundary_and_it_resumes_exactly(tmp_path):
    stop_and_resume(tmp_path, [*TINY, "--data.resident", "true"], [("SIGINT", 1, 3, "group")], processes=1)


@pytest.mark.parametrize("to", ["self"])
def test_a_second_signal_stops_at_once_without_a_checkpoint(tmp_path, to):
    """Stopping waits for the next boundary; a second Ctrl-C must not wait."""
    args = [*TINY, "--trainer.default_root_dir", "cut", "--trainer.callbacks+=tests.helpers.SendSignal",
            "--trainer.callbacks.signal=SIGINT", "--trainer.callbacks.epoch=1", "--trainer.callbacks.batch=2",
            "--trainer.callbacks+=tests.helpers.SendSignal", "--trainer.callbacks.signal=SIGINT",
            "--trainer.callbacks.epoch=1", "--trainer.callbacks.batch=2"]
    result = run_train(args, cwd=tmp_path)
    assert result.returncode == 128 + signal.SIGINT
    assert "stopping now, without a checkpoint" in result.stderr
    assert not list((tmp_path / "cut").glob("aegan/*/checkpoints/epoch001-*"))
