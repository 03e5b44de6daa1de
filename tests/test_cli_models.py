"""Every baseline's config trains from the command line, offline, on the embedded digits."""

import pytest
import torch

from tests.conftest import TINY_CLI, run_train

TINY_CONV = ["--model.channels", "[4, 8]"]
FIGURES = {"gan": ["decoder"], "dcgan": ["decoder"], "vae": ["decoder", "reconstruction", "latent"],
           "infogan": ["decoder", "traversal"]}


@pytest.mark.parametrize("model", sorted(FIGURES))
def test_each_baseline_trains_offline_from_its_config(model, tmp_path):
    extra = TINY_CONV if model in ("dcgan", "infogan") else []
    result = run_train(["--model", model, "--trainer.max_epochs", "1", *TINY_CLI, *extra], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-4000:]
    (run,) = (tmp_path / "runs" / "aegan").iterdir()
    state = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    assert state["aegan_class"].endswith({"vae": "VAE", "infogan": "InfoGAN"}.get(model, "GAN"))
    for name in FIGURES[model]:
        assert (run / "media" / f"{name}.gif").is_file(), name
