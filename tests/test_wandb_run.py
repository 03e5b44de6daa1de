"""What a researcher sees on the W&B page of ``python train.py --model alpha_gan`` (read back
from the offline run file: the same records ``wandb sync`` uploads)."""

from aegan.runs import read_wandb


def test_the_wandb_run_is_named_grouped_tagged_and_has_a_nested_config(alpha_gan_wandb_run):
    result, run, wandb_file = alpha_gan_wandb_run
    record = read_wandb(wandb_file)
    assert record.id == run.name
    assert record.name == f"alpha_gan-mnist5k-{run.name}"
    assert record.group == "alpha_gan" and record.tags == ["AlphaGAN", "mnist5k"]
    config = record.config
    assert config["model/class"] == "AlphaGAN" and config["model/config"] == "alpha_gan"
    assert config["model/latent_dim"] == 16 and config["model/channels"] == 4
    assert config["data/name"] == "mnist5k" and config["data/seed"] == 0 and config["seed"] == 0
    assert config["trainer/max_epochs"] == 2 and config["trainer/limit_train_batches"] == 3
    assert config["best"] == {"eval/fid": "min"} and config["evaluation/class"] == "Evaluation"
    # no 4 KB string, no flat model or data arguments
    assert "cli_config" not in config and "latent_dim" not in config and "name" not in config
    # nothing of ours warns
    for warning in ("anonymous setting", "git root"):
        assert warning not in result.stderr


def test_images_share_the_metrics_step_and_the_summary_keeps_the_best_fid(alpha_gan_wandb_run):
    _, _, wandb_file = alpha_gan_wandb_run
    record = read_wandb(wandb_file)
    fid_steps = {row["epoch"]: row["trainer/global_step"] for row in record.rows if "eval/fid" in row}
    image_steps = {}
    for row in record.rows:
        if row.get("media/decoder/_type") == "image-file":
            image_steps[row["epoch"]] = row["trainer/global_step"]
    assert sorted(fid_steps) == [0, 1] and image_steps == fid_steps  # 3 batches per epoch: steps 2 and 5
    assert record.metrics["eval/fid"] == {"step_metric": "trainer/global_step", "summary": ["min"]}
    fids = [row["eval/fid"] for row in record.rows if "eval/fid" in row]
    assert record.summary["eval/fid"] == {"min": min(fids)}


def test_a_gif_is_logged_during_training_and_checkpoints_become_artifacts(alpha_gan_wandb_run):
    _, _, wandb_file = alpha_gan_wandb_run
    record = read_wandb(wandb_file)
    last_metrics_step = max(row["trainer/global_step"] for row in record.rows if "eval/fid" in row)
    video_steps = [row["trainer/global_step"] for row in record.rows
                   if row.get("media/latent_gif/_type") == "video-file"]
    assert video_steps and min(video_steps) < last_metrics_step  # the first epoch's, before the fit ended
    artifacts = [a for a in record.artifacts if a["type"] == "model"]
    aliases = [alias for a in artifacts for alias in a["aliases"]]
    assert all(a["name"] == f"model-{record.id}" and a["files"] == ["model.ckpt"] for a in artifacts)
    assert "best" in aliases and "best-eval-fid" in aliases and "latest" in aliases


def test_a_sweep_optimises_a_metric_whose_direction_the_run_keeps_and_configs_agree_with_the_defaults():
    """A sweep's metric must have the direction the run's summary keeps for it: the defaults
    (aegan.loggers.DIRECTIONS) or the swept config's best. A config's best needs no entry in the
    defaults (the run takes the direction from the config), but must not contradict one."""
    import re

    import yaml

    from aegan.loggers import DIRECTIONS
    from tests.conftest import REPO

    for path in (REPO / "configs" / "sweeps").glob("*.yaml"):
        sweep = yaml.safe_load(path.read_text())
        (model,) = [re.fullmatch(r"--model=(\w+)", a).group(1) for a in sweep["command"] if a.startswith("--model=")]
        best = yaml.safe_load((REPO / "configs" / f"{model}.yaml").read_text()).get("best") or {}
        kept = {**DIRECTIONS, **best}
        metric = sweep["metric"]
        assert kept[metric["name"]] == {"minimize": "min", "maximize": "max"}[metric["goal"]], path.name
    for path in (REPO / "configs").glob("*.yaml"):
        for metric, mode in (yaml.safe_load(path.read_text()).get("best") or {}).items():
            assert DIRECTIONS.get(metric, mode) == mode, (path.name, metric)
