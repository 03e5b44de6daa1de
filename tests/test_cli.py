import sys

import imageio.v3 as iio
import numpy as np
import pytest
import torch
import yaml

from aegan.cli import expand_arguments, main
from tests.conftest import REPO, TINY_CLI, run_train

TINY = TINY_CLI


def run_main(args, monkeypatch, capsys):
    """``main(args)`` in this process; returns (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["train.py"])
    monkeypatch.setenv("WANDB_MODE", "disabled")
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    out = capsys.readouterr()
    return exit_info.value.code, out.out, out.err


# every epoch validated and saved (the aae config does both every 5 epochs)
EVERY_EPOCH = ["--trainer.check_val_every_n_epoch", "1", "--checkpoint.init_args.every_n_epochs", "1"]


def test_end_to_end_training_leaves_checkpoints_gifs_and_an_offline_wandb_run(tmp_path):
    result = run_train(["--model", "aae", "--trainer.max_epochs", "2", *TINY, *EVERY_EPOCH], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-4000:]
    (run,) = (tmp_path / "runs" / "aegan").iterdir()
    assert (run / "checkpoints" / "last.ckpt").is_file()
    assert len(list((run / "checkpoints").glob("best-recon_mse-*.ckpt"))) == 1
    assert len(list((run / "checkpoints").glob("best-fid-*.ckpt"))) == 1
    for name in ("latent", "decoder", "reconstruction"):
        frames = iio.imread(run / "media" / f"{name}.gif", index=None)
        assert frames.shape[0] == 2, name  # one frame per epoch
        assert not np.array_equal(frames[0], frames[1]), name  # the model moved between epochs
    (wandb_run,) = (tmp_path / "runs" / "wandb").glob("offline-run-*")
    assert list(wandb_run.glob("run-*.wandb"))
    assert "prior: gaussian" in (run / "config.yaml").read_text()

    # --ckpt_path resumes in place: epochs and steps continue, in the same run directory and
    # W&B run, and the GIFs go on with the next frame
    result = run_train(["--model", "aae", "--trainer.max_epochs", "3", *TINY, *EVERY_EPOCH,
                        "--ckpt_path", str(run / "checkpoints" / "last.ckpt")], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-4000:]
    assert list((tmp_path / "runs" / "aegan").iterdir()) == [run]
    state = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    assert state["global_step"] == 3 * 5 * 3  # 3 epochs x 5 batches x 3 phases
    assert iio.imread(run / "media" / "latent.gif", index=None).shape[0] == 3

    # --ckpt_path last finds the newest run's last checkpoint
    result = run_train(["--model", "aae", "--trainer.max_epochs", "4", *TINY, "--ckpt_path", "last"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-4000:]
    assert torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == 4 * 5 * 3


def test_help_lists_the_models(monkeypatch, capsys):
    code, out, _ = run_main(["--help"], monkeypatch, capsys)
    assert code == 0
    assert "models:" in out and "aae " in out


def test_print_config_merges_the_model_config_and_dotted_overrides(monkeypatch, capsys):
    code, out, _ = run_main(["--model", "aae", "--model.prior", "swiss_roll", "--model.conditional", "true",
                             "--trainer.max_epochs", "20", "--data.name", "mnist5k", "--print_config"],
                            monkeypatch, capsys)
    assert code == 0
    for line in ("class_path: aegan.models.AAE", "prior: swiss_roll", "conditional: true",
                 "max_epochs: 20", "name: mnist5k", "class_path: aegan.callbacks.LatentScatterGIF"):
        assert line in out


def test_the_model_shortcut_becomes_a_leading_config(monkeypatch):
    args = expand_arguments(["--trainer.max_epochs", "3", "--model", "aae", "--model.latent_dim", "4"])
    assert args == ["fit", "--config", str(REPO / "configs" / "aae.yaml"), "--trainer.max_epochs", "3",
                    "--model.latent_dim", "4"]
    assert expand_arguments(["validate", "--model=aae"])[:3] == ["validate", "--config", str(REPO / "configs" / "aae.yaml")]
    assert expand_arguments(["--model", "aegan.models.AAE"])[-2:] == ["--model", "aegan.models.AAE"]
    assert expand_arguments([])[1:] == ["--config", str(REPO / "configs" / "aae.yaml")]  # the default model


@pytest.mark.parametrize("args, message", [
    (["--model", "nope"], "unknown model 'nope'; valid choices: aae"),
    (["--model.prior", "nope"], "unknown prior 'nope'; valid choices: gaussian, mixture, swiss_roll, uniform"),
    (["--data.name", "nope"], ("unknown dataset 'nope'; valid choices: arrays, fashion_mnist, folder, mnist, "
                               "mnist5k, quickdraw, toy_grid, toy_ring, toy_swiss_roll")),
    (["--data.name", "arrays", "--data.path", "missing.npz"], "data file not found: missing.npz"),
    (["--data.name", "arrays", "--data.path", "{noxs}"], "has no array 'x' (it has: a); expected x uint8"),
    (["--model.encoder", "vae"], "--model.encoder: Expected a typing.Literal['deterministic', 'gaussian']"),
    (["--data.batch_size", "0"], "batch_size must be at least 1, got 0"),
    (["--ckpt_path", "missing.ckpt"], "checkpoint not found: missing.ckpt"),
    (["--ckpt_path", "{junk}"], "junk.ckpt is not a checkpoint: not a whole PyTorch archive"),
    (["--ckpt_path", "{truncated}"], "truncated.ckpt is not a checkpoint: not a whole PyTorch archive"),
    (["validate", "--ckpt_path", "{junk}"], "junk.ckpt is not a checkpoint"),
])
def test_bad_input_exits_non_zero_with_one_line(args, message, monkeypatch, capsys, tmp_path):
    np.savez(tmp_path / "noxs.npz", a=np.zeros(3))
    (tmp_path / "junk.ckpt").write_text("not a checkpoint")
    torch.save({"state_dict": {"w": torch.zeros(1000)}}, tmp_path / "whole.ckpt")
    (tmp_path / "truncated.ckpt").write_bytes((tmp_path / "whole.ckpt").read_bytes()[:2000])
    paths = {name: tmp_path / f"{name}.{suffix}" for name, suffix in
             (("noxs", "npz"), ("junk", "ckpt"), ("truncated", "ckpt"))}
    args = [a.format(**paths) for a in args]
    code, _, err = run_main(args, monkeypatch, capsys)
    assert code == 2
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and message in errors[0]
    assert "Traceback" not in err


def test_the_slurm_script_keeps_the_model_figures_and_logs_plain_progress_lines(monkeypatch, capsys):
    import re

    import yaml

    script = (REPO / "scripts" / "slurm_train.sh").read_text()
    line = re.search(r'srun python train\.py "\$@" (.*?)\n\n?$', script.replace("\\\n", " "), flags=re.S | re.M)
    values = {"${SLURM_JOB_NUM_NODES}": "2", "${SLURM_NTASKS_PER_NODE%%(*}": "8", "${SLURM_JOB_ID}": "123"}
    args = line.group(1).split()
    args = [a.strip('"') for a in args]
    args = [values.get(a, a).replace("${SLURM_JOB_ID}", "123") for a in args]
    monkeypatch.chdir(REPO)
    code, out, err = run_main(["--model", "aae", *args, "--print_config"], monkeypatch, capsys)
    assert code == 0, err
    printed = yaml.safe_load(out)
    callbacks = [c["class_path"].rsplit(".", 1)[-1] for c in printed["trainer"]["callbacks"]]
    assert callbacks == ["LatentScatterGIF", "DecoderGrid", "ReconstructionGrid", "ProgressLines"]
    assert printed["trainer"]["num_nodes"] == 2 and printed["trainer"]["logger"]["init_args"]["id"] == "slurm-123"


def test_runs_without_a_logger_get_a_folder_each(monkeypatch, tmp_path):
    """--trainer.logger false: each run writes its config and checkpoints into a folder of its
    own (two runs used to share runs/ itself, the second overwriting the first's config.yaml and
    last.ckpt link); --ckpt_path last resumes the newest in its folder."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["train.py"])
    monkeypatch.setenv("WANDB_MODE", "disabled")
    quiet = ["--trainer.logger", "false", "--evaluation", "null", "--trainer.max_epochs", "1",
             "--trainer.limit_train_batches", "2", "--trainer.limit_val_batches", "1",
             "--trainer.enable_progress_bar", "false", "--model.hidden", "[8]"]
    main(["--model", "aae", "--data.name", "mnist5k", *quiet])
    main(["--model", "gan_toy", "--data.toy_size", "1000", *quiet])
    runs = sorted((tmp_path / "runs" / "aegan").iterdir(), key=lambda p: p.stat().st_mtime)
    assert len(runs) == 2 and not (tmp_path / "runs" / "checkpoints").exists()
    for run, model in zip(runs, ("AAE", "GAN")):
        assert yaml.safe_load((run / "config.yaml").read_text())["model"]["class_path"].endswith(f".{model}")
        assert (run / "checkpoints" / "last.ckpt").exists()
    main(["--model", "gan_toy", "--data.toy_size", "1000", *quiet, "--trainer.max_epochs", "2", "--ckpt_path", "last"])
    assert sorted((tmp_path / "runs" / "aegan").iterdir()) == sorted(runs)  # no third folder
    assert list((runs[1] / "checkpoints").glob("epoch001-*.ckpt")), "the resumed epoch is not in its run's folder"
