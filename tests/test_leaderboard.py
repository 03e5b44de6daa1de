"""benchmarks/leaderboard.py end to end on tiny settings: it trains every model for one budget
with train.py, scores with aegan.evaluate, and writes the JSON (with each run's precision and
commit), the figure and the table of its page (docs/results/leaderboard.md) with its budget; the page's
table again from the JSON alone; the README's headline row."""

import importlib.util
import json
import os
import sys

import numpy as np

from aegan.cli import CONFIG_DIR
from aegan.data.images import load_mnist5k
from tests.conftest import REPO, run_with_deadline

TINY = "--trainer.limit_train_batches 2 --trainer.limit_val_batches 1 --data.batch_size 16"

sys.path.insert(0, str(REPO / "benchmarks"))
import aae_paper  # noqa: E402  (the runs' provenance)
spec = importlib.util.spec_from_file_location("leaderboard", REPO / "benchmarks" / "leaderboard.py")
board = importlib.util.module_from_spec(spec)
spec.loader.exec_module(board)


def leaderboard(args, cwd, timeout=420):
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANDB_")} | {"HOME": str(cwd), "PYTHONPATH": str(REPO)}
    return run_with_deadline([sys.executable, str(REPO / "benchmarks" / "leaderboard.py"), *args], cwd, env, timeout)


def test_the_leaderboard_trains_every_model_for_one_budget_and_writes_its_table(tmp_path):
    digits = load_mnist5k()
    np.savez(tmp_path / "pool.npz", x=digits.x[:200, 0], y=digits.y[:200])
    np.savez(tmp_path / "heldout.npz", x=digits.x[-64:, 0], y=digits.y[-64:])
    page = tmp_path / "leaderboard.md"
    page.write_text("intro\n<!-- leaderboard: made by benchmarks/leaderboard.py -->\nold\n<!-- /leaderboard -->\nend\n")
    common = ["--pool", str(tmp_path / "pool.npz"), "--heldout", str(tmp_path / "heldout.npz"), "--runs",
              str(tmp_path / "runs"), "--epochs", "5", "--train_args", TINY, "--critic_steps", "5",
              "--out", str(tmp_path / "lb.json"), "--figure", str(tmp_path / "lb.png")]
    bf16 = ["--trainer.precision", "bf16-mixed"]  # passed on to every training command
    done = leaderboard([*common, "--models", "gan,vae", "--page", str(page), *bf16], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("] training 5 epochs") == 2 and done.stdout.count("--trainer.precision bf16-mixed") == 2
    result = json.loads((tmp_path / "lb.json").read_text())
    rows = result["rows"]
    metrics = {(r["setting"], r["metric"]) for r in rows}
    assert metrics == {("gan", m) for m in ("fid", "kid", "critic_neg_w", "epoch_s")} | \
        {("vae", m) for m in ("fid", "kid", "critic_neg_w", "recon_l1", "epoch_s")}  # recon only with an encoder
    commit = aae_paper.git_commit()
    assert result["budget"] == {"epochs": 5} and commit
    for row in rows:
        assert row["epochs"] == 5 and row["seeds"] == [0] and "{seed}" in row["command"] and row["per_seed"] == [row["mean"]]
        assert row["precision"] == "bf16-mixed" and row["commit"] == commit
        assert "--trainer.precision bf16-mixed" in row["command"] and row["device"].endswith("1 torch thread")
    assert (tmp_path / "lb.png").stat().st_size > 5_000
    text = page.read_text()
    assert text.startswith("intro\n") and text.endswith("end\n") and "old" not in text
    assert "| gan | 5 |" in text and "| vae | 5 |" in text
    assert "Budget — one budget: every model 5 epochs of the pool; precision bf16-mixed; commit " in text
    # a finished run of the same command is not retrained, and its scores with the same settings are read back
    again = leaderboard([*common, "--models", "vae", *bf16], tmp_path)
    assert again.returncode == 0 and "training" not in again.stdout and "scoring" in again.stdout
    assert "critic" not in again.stderr and json.loads((tmp_path / "lb.json").read_text())["rows"] == \
        [r for r in rows if r["setting"] == "vae"]
    # bad input is one line naming the valid choices
    bad = leaderboard([*common, "--models", "gan,vea"], tmp_path, timeout=60)
    assert bad.returncode == 2 and "unknown model 'vea'; valid choices: " in bad.stderr and "alpha_gan_ae" in bad.stderr
    short = leaderboard([*common[:6], "--epochs", "2"], tmp_path, timeout=60)
    assert short.returncode == 2 and "--epochs 2: the one budget is at least 5 epochs" in short.stderr
    moved = leaderboard([*common, "--readme", "README.md"], tmp_path, timeout=60)
    assert moved.returncode == 2 and "--readme is now --page: the table lives in docs/results/leaderboard.md" in \
        moved.stderr


def test_page_writes_the_table_again_from_the_json_alone(tmp_path):
    """``leaderboard.py page``: no training, no scoring; and the README's headline row, from the same rows."""
    rows = [{"setting": model, "metric": metric, "mean": value, "seeds": [0], "epochs": 5, "precision": "32-true",
             "commit": "abc1234", "command": f"python train.py --model {model}"} for model, metric, value in
            [("gan", "fid", 19.0), ("alpha_gan", "fid", 2.81777), ("alpha_gan_ae", "fid", 37.34), ("vae", "fid", 4.29),
             ("vae", "recon_l1", 0.0478)]]
    (tmp_path / "lb.json").write_text(json.dumps({"study": "leaderboard", "rows": rows}))
    page = tmp_path / "leaderboard.md"
    page.write_text(f"intro\n{board.BEGIN}\nold\n{board.END}\nend\n")
    done = leaderboard(["page", "--out", str(tmp_path / "lb.json"), "--page", str(page)], tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    text = page.read_text()
    assert "old" not in text and text.startswith("intro\n") and text.endswith("end\n")
    assert "| alpha_gan | 5 | **2.82** |" in text and "every model 5 epochs of the pool" in text
    assert not (tmp_path / "runs").exists()
    (headline,) = board.headline_rows({"rows": rows})
    assert headline["ours"] == ("best FID 2.82 (alpha_gan) of 4 models; alpha_gan 2.82 against its autoencoder "
                                "37.34 (5 epochs each; seed 0)")
    assert board.headline_rows({"rows": []}) == []


def test_every_model_config_is_a_leaderboard_model_by_its_name():
    """A new model (bigan, wae_mmd, ...) needs only its config: every config but the toy ones is
    accepted, alpha_gan_ae is alpha-GAN without its discriminators, and the default list is the
    image models whose configs exist."""
    configs = {p.stem for p in CONFIG_DIR.glob("*.yaml")} - {"defaults"}
    assert set(board.model_names()) == {c for c in configs if not c.endswith("_toy")} | {"alpha_gan_ae"}
    assert board.config_and_flags("alpha_gan_ae") == ("alpha_gan", ["--model.adversarial", "false"])
    assert board.config_and_flags("bigan") == ("bigan", [])
    assert board.default_models()[:7] == ["gan", "dcgan", "vae", "aae", "alpha_gan", "alpha_gan_ae", "infogan"]
    command = board.train_command("alpha_gan_ae", "pool.npz", "heldout.npz", 5, 0, ["--trainer.precision", "bf16-mixed"])
    assert command[:4] == ["--model", "alpha_gan", "--model.adversarial", "false"]
    assert command[command.index("--trainer.max_epochs") + 1] == "5" and command[-2:] == ["--trainer.precision",
                                                                                         "bf16-mixed"]


def test_the_leaderboard_documents_itself():
    done = run_with_deadline([sys.executable, str(REPO / "benchmarks" / "leaderboard.py"), "--help"], REPO,
                             dict(os.environ), 60)
    assert done.returncode == 0 and "--pool" in done.stdout and "critic_neg_w" in done.stdout
    assert "at least 5" in done.stdout and "bf16-mixed" in done.stdout
