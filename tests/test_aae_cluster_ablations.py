"""Issue 23's clustering ablations are one command-line flag each on the clustering configs (the
commands in benchmarks/aae_paper_runs.md): every flag reaches the model or the data module, and a
run with all of them changed trains from the command line."""

import pytest
import torch
import yaml

from tests.conftest import TINY_CLI, run_train

#: flag -> (where it lands in the merged config, the value the ablation gives it)
ABLATIONS = {
    "--model.style_noise": (("model", "style_noise"), 0.0),
    "--model.latent_dim": (("model", "latent_dim"), 10),
    "--model.decoder_y": (("model", "decoder_y"), "hard"),  # the configs: softmax
    "--model.disc_noise": (("model", "disc_noise"), 0.5),
    "--model.cat_noise": (("model", "cat_noise"), 0.0),
    "--model.lr_ae": (("model", "lr_ae"), 3e-4),
    "--model.lr_gen": (("model", "lr_gen"), 2e-4),
    "--model.lr_disc": (("model", "lr_disc"), 5e-5),
    "--model.lr_milestones": (("model", "lr_milestones"), [5]),
    "--data.batch_size": (("data", "batch_size"), 32),
}


def flags() -> list[str]:
    return [arg for flag, (_, value) in ABLATIONS.items() for arg in (flag, yaml.safe_dump(value).strip()
                                                                         .removesuffix("...").strip())]


@pytest.mark.parametrize("config", ["aae_cluster", "aae_cluster30"])
def test_each_ablation_is_one_flag_on_the_clustering_configs(config, tmp_path):
    result = run_train(["--model", config, *flags(), "--print_config"], cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    merged = yaml.safe_load(result.stdout)
    for flag, ((part, key), value) in ABLATIONS.items():
        section = merged[part]["init_args"] if part == "model" else merged[part]
        assert section[key] == value, flag
    assert merged["model"]["init_args"]["num_clusters"] == {"aae_cluster": 16, "aae_cluster30": 30}[config]


def test_a_clustering_run_with_every_ablation_changed_trains(tmp_path):
    result = run_train(["--model", "aae_cluster", *flags(), *TINY_CLI, "--model.disc_hidden", "[16]",
                        "--trainer.max_epochs", "2", "--trainer.logger", "lightning.pytorch.loggers.CSVLogger",
                        "--trainer.logger.save_dir", "runs"], cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    (checkpoint,) = tmp_path.rglob("last.ckpt")
    hparams = torch.load(checkpoint, weights_only=False)["hyper_parameters"]
    assert hparams["latent_dim"] == 10 and hparams["decoder_y"] == "hard" and hparams["cat_noise"] == 0.0
    (metrics,) = tmp_path.rglob("metrics.csv")
    header = metrics.read_text().splitlines()[0].split(",")
    for name in ("val/cluster_changed", "train/ae/logit_grad", "train/gen/logit_grad", "val/cluster_error"):
        assert name in header, name
