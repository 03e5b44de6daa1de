"""Lightning's DDP on the CPU (gloo, two processes): one step on two shards equals one step on
their union, and figures are written once."""

import os
import sys

import pytest
import torch
import yaml

from tests.conftest import REPO, run_with_deadline

SCRIPT = REPO / "tests" / "distributed" / "one_step.py"


def base_configs(folder=REPO / "configs") -> list[str]:
    """One config per model class and network family, read from ``folder``: the one with the
    shortest name, which is the family's base (aae, not aae_style or wae_gan; gan, not gan_toy).
    A new model's config lands here by itself."""
    chosen: dict[tuple, str] = {}
    for path in sorted(folder.glob("*.yaml"), key=lambda p: (len(p.stem), p.stem)):
        model = (yaml.safe_load(path.read_text()) or {}).get("model")
        if model:
            chosen.setdefault((model["class_path"], (model.get("init_args") or {}).get("net")), path.stem)
    return sorted(chosen.values())


MODELS = base_configs()
# the data path does not depend on the model: the resident batches are checked with the AAEs (one
# stream and two), the DataLoader with every model
CASES = [(model, resident) for model in MODELS for resident in (False, True)
         if model in ("aae", "aae_semi") or not resident]


def run(out, *args):
    result = run_with_deadline([sys.executable, str(SCRIPT), str(out), *args], out, dict(os.environ), timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]


@pytest.mark.parametrize("model, resident", CASES, ids=[f"{m}-{'resident' if r else 'dataloader'}" for m, r in CASES])
def test_a_ddp_step_on_two_shards_equals_a_step_on_their_union(tmp_path, model, resident):
    """Each rank trains on its 50-example shard (and its 20-example shard of the labelled stream,
    for the semi-supervised AAE); a single process trains on the 100-example union (and the
    40-example labelled union): both data paths split the same seeded permutations rank::2.
    Phase gradients averaged over the ranks equal the union's gradients; tolerance 1e-6 absolute
    plus 1e-4 relative (float32 summation order: a bias gradient of alpha-GAN's generator sums
    100 x 28 x 28 terms, and differs by about 1e-5 of its size). No model here has BatchNorm: its
    batch statistics differ between a shard and the union (unless synchronised,
    --trainer.sync_batchnorm), so the models that take ``norm`` run here with ``norm="none"``.
    WAE-MMD's penalty is a statistic of the whole batch: it holds only because the codes of every
    process are gathered (with their gradients) before the MMD."""
    flags = ["--model", model] + (["--resident"] if resident else [])
    run(tmp_path, *flags, "--devices", "2", "--batch", "50", "--labelled-batch", "20")
    run(tmp_path, *flags, "--devices", "1", "--batch", "100", "--labelled-batch", "40")
    rank0, rank1, single = (torch.load(tmp_path / name, weights_only=True)
                            for name in ("rank0-of-2.pt", "rank1-of-2.pt", "rank0-of-1.pt"))
    # one batch, every phase: as many optimizer steps as phases ran, and the same everywhere
    assert rank0["phases"] == rank1["phases"] == single["phases"] and rank0["phases"]
    assert rank0["global_step"] == rank1["global_step"] == single["global_step"] == len(rank0["phases"])
    for key in ("weights", "grads"):
        for name, value in rank0[key].items():
            assert torch.equal(value, rank1[key][name]), f"ranks differ in {key} {name}"
            torch.testing.assert_close(value, single[key][name], atol=1e-6, rtol=1e-4, msg=f"{key} {name}")
    moved = [n for n, g in rank0["grads"].items() if g is not None and g.abs().sum() > 0]
    assert len(moved) == len(rank0["grads"])  # every network learned something in this step


def test_a_ddp_epoch_writes_its_figures_once(tmp_path):
    run(tmp_path, "--devices", "2", "--media")
    assert (tmp_path / "written.txt").read_text().splitlines() == ["latent rank 0"]
    frames = list((tmp_path / "run" / "version_0" / "media" / "latent").glob("*.png"))
    assert [f.name for f in frames] == ["epoch_0000.png"]


def test_batchnorm_statistics_agree_on_every_rank_after_a_ddp_epoch(tmp_path):
    """DCGAN with BatchNorm: each rank normalises its own shard, so the running statistics drift
    apart during the epoch; they are averaged before validation, so the figures, metrics and
    checkpoints that rank zero makes hold statistics of the whole batch."""
    run(tmp_path, "--model", "dcgan", "--devices", "2", "--norm-buffers")
    rank0, rank1 = (torch.load(tmp_path / f"norm-rank{r}.pt", weights_only=True) for r in (0, 1))
    assert rank0 and rank0.keys() == rank1.keys()
    for name, value in rank0.items():
        assert torch.equal(value, rank1[name]), name
    moved = [n for n, v in rank0.items() if n.endswith("running_mean") and v.abs().sum() > 0]
    assert moved, "the running means never moved: the test would pass without any training"
