"""benchmarks/studies.py: InfoGAN's and the toy mode-coverage JSON, page rows and README headline rows come from the
runs' CSV logs and what each run recorded when it trained; GAN and PacGAN train at equal updates."""

import importlib.util
import json
import os
import re
import shlex
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, run_with_deadline
from tests.test_aae_paper_benchmark import write_segment

sys.path.insert(0, str(REPO / "benchmarks"))
import aae_paper  # noqa: E402  (the runs' provenance)
spec = importlib.util.spec_from_file_location("studies", REPO / "benchmarks" / "studies.py")
studies = importlib.util.module_from_spec(spec)
sys.modules["studies"] = studies  # its dataclasses look their module up there
spec.loader.exec_module(studies)


def add_log(run: Path, segment: str, metric: str, values: dict[int, float]) -> None:
    (run / segment).mkdir(parents=True, exist_ok=True)
    lines = [f"epoch,step,{metric}", *(f"{epoch},{10 * epoch},{value}" for epoch, value in values.items())]
    (run / segment / "metrics.csv").write_text("\n".join(lines) + "\n")


def test_modes_rows_take_each_seeds_last_epoch_for_every_metric_and_what_the_run_recorded(tmp_path):
    runs = tmp_path / "runs"
    for seed, (modes, quality, kl) in {0: (24, 0.91, 0.05), 1: (25, 0.95, 0.02), 2: (23, 0.90, 0.11)}.items():
        run = runs / f"gan_grid_s{seed}"
        write_segment(run, "version_0", {0: 10, 1: modes}, "eval/modes_covered", 2)
        (run / "version_0" / "config.yaml").write_text("trainer:\n  max_epochs: 2\n  precision: bf16-mixed\n")
        add_log(run, "version_1", "eval/high_quality", {0: 0.1, 1: quality})  # a later segment's log
        add_log(run, "version_2", "eval/reverse_kl", {0: 2.5, 1: kl})
        (runs / f"gan_grid_s{seed}.times").write_text("start 0\nend 50 rc 0\n")
        (run / "provenance.jsonl").write_text(json.dumps({
            "commit": "abc1234" + ("-dirty" if seed == 2 else ""), "device": "CPU (2 cores), 1 torch thread",
            "torch": "2.14.1", "args": ["--model", "gan_toy", "--seed_everything", str(seed), "--data.seed",
                                        str(seed), "--trainer.max_epochs", "28", "--trainer.logger", "x"]}) + "\n")
    result = studies.make_json("modes", runs, tmp_path / "modes.json")
    assert json.loads((tmp_path / "modes.json").read_text()) == result
    modes, quality, kl = result["rows"]
    assert [r["metric"] for r in (modes, quality, kl)] == ["modes", "high_quality", "reverse_kl"]
    assert {r["setting"] for r in result["rows"]} == {"gan_grid"}
    assert modes["per_seed"] == [24, 25, 23] and modes["mean"] == 24 and modes["std"] == 1.0
    assert quality["per_seed"] == [0.91, 0.95, 0.90] and quality["mean"] == pytest.approx(0.92)
    assert kl["per_seed"] == [0.05, 0.02, 0.11] and kl["direction"] == "min" and kl["mean"] == pytest.approx(0.06)
    assert modes["wall_s"] == 150 and modes["epochs"] == 2 and modes["steps"] == 2 * 900
    # what each run recorded when it trained: its flags (seeds as {seed}, no logger), commit, device
    assert modes["command"] == ("python train.py --model gan_toy --seed_everything {seed} --data.seed {seed} "
                                "--trainer.max_epochs 28")
    assert modes["precision"] == "bf16-mixed" and modes["commit"] == "abc1234 + abc1234-dirty"
    assert modes["commit_per_seed"] == ["abc1234", "abc1234", "abc1234-dirty"]
    assert modes["device"] == "CPU (2 cores), 1 torch thread" and modes["torch"] == "2.14.1"
    page = tmp_path / "modes.md"
    page.write_text(f"a\n{studies.BEGIN.format(study='modes')}\nold\n{studies.END.format(study='modes')}\nb\n")
    studies.update_page("modes", result, page)
    text = page.read_text()
    assert "old" not in text and text.startswith("a\n") and text.endswith("b\n")
    assert ("modes 24.0 ± 1.0 (seeds [0, 1, 2]: 24.0, 25.0, 23.0); high quality 92.0% ± 2.6 (seeds [0, 1, 2]: "
            "91.0%, 95.0%, 90.0%); reverse kl 0.06 ± 0.05 (seeds [0, 1, 2]: 0.05, 0.02, 0.11), after 2/2/2 epochs "
            "(1,800 steps)") in text
    # the paper's number and the bar are the setting's, in the page's rows and the README's headline row
    assert "| 17.3 modes, 94.8%, reverse KL 0.70 | ≥ 24 modes, ≥ 90% (one method) |" in text
    (headline,) = studies.headline_rows(result)
    assert headline == {"setting": "GAN, grid", "paper": "17.3 modes, 94.8%, reverse KL 0.70",
                        "bar": "≥ 24 modes, ≥ 90% (one method)",
                        "ours": "24.0 ± 1.0 modes, 92.0% ± 2.6 high quality, reverse KL 0.06 ± 0.05 "
                                "(3 seeds, 2 epochs, 1,800 steps)"}
    # a setting no longer in the study keeps what its row recorded
    old = [r | {"setting": "pacgan_grid", "what": "PacGAN4, grid", "paper": "24.8 modes", "bar": "—"}
           for r in result["rows"]]
    (headline,) = studies.headline_rows({"study": "modes", "rows": old})
    assert headline["setting"] == "PacGAN4, grid" and (headline["paper"], headline["bar"]) == ("24.8 modes", "—")
    (tmp_path / "README.md").write_text("no markers\n")
    with pytest.raises(SystemExit, match="docs/results/modes.md"):
        studies.update_page("modes", result, tmp_path / "README.md")


def test_settings_without_runs_keep_their_rows_and_settings_the_study_dropped_go(tmp_path):
    out = tmp_path / "modes.json"
    out.write_text(json.dumps({"rows": [{"setting": s, "metric": "modes", "per_seed": [9]}
                                        for s in ("gan_grid", "alpha_gan_grid", "pacgan_grid")]}))
    add_log(tmp_path / "runs" / "gan_grid_s0", "version_0", "eval/modes_covered", {0: 20})
    rows = studies.make_json("modes", tmp_path / "runs", out)["rows"]
    assert [(r["setting"], r["per_seed"]) for r in rows] == [("gan_grid", [20]), ("alpha_gan_grid", [9])]


def test_an_infinite_reverse_kl_is_written_as_null_not_as_a_number(tmp_path):
    """No high-quality sample: the reverse KL is infinite, which JSON cannot hold."""
    run = tmp_path / "runs" / "pacgan4_grid_s0"
    add_log(run, "version_0", "eval/reverse_kl", {0: float("inf")})
    (row,) = studies.make_json("modes", tmp_path / "runs", tmp_path / "modes.json")["rows"]
    assert row["per_seed"] == [None] and row["mean"] is None and row["commit"] is None
    assert "Infinity" not in (tmp_path / "modes.json").read_text()


def test_infogan_rows_read_the_held_out_code_accuracy(tmp_path):
    runs = tmp_path / "runs"
    write_segment(runs / "infogan_s0", "version_0", {0: 0.5, 1: 0.96}, "test/q_accuracy", 2)
    (row,) = studies.make_json("infogan", runs, tmp_path / "infogan.json")["rows"]
    assert row["metric"] == "code_accuracy" and row["per_seed"] == [0.96] and row["std"] is None
    assert "--model infogan --data.name arrays" in row["command"] and "{seed}" in row["command"]
    assert "--trainer.max_epochs 2" in row["command"] and row["precision"] == "32-true"  # the epochs it trained
    assert studies.STUDIES["infogan"]["settings"]["infogan"].epochs == 65  # 5,005 steps: the official 5,000


def test_a_fraction_shown_as_a_percentage_has_its_spread_in_points():
    """The code accuracy's std is in points (± 2.2), as the high-quality share's, not a fraction (± 0.02)."""
    rows = [{"setting": "infogan", "what": "InfoGAN, official recipe", "metric": "code_accuracy", "seeds": [0, 1, 2],
             "per_seed": [0.869, 0.864, 0.8285], "mean": 0.8538, "std": 0.0221, "epochs_per_seed": [30, 30, 30],
             "command": "python train.py --model infogan", "device": "CPU", "precision": None}]
    result = {"study": "infogan", "rows": rows}
    assert "code accuracy 85.4% ± 2.2 (seeds [0, 1, 2]: 86.9%, 86.4%, 82.8%), after 30/30/30 epochs" in \
        studies.page_rows(result)
    (headline,) = studies.headline_rows(result)
    assert headline["ours"] == "code accuracy 85.4% ± 2.2 (3 seeds, 30 epochs)"
    assert (headline["paper"], headline["bar"]) == ("about 95% (5% error; full MNIST)", "≥ 95%")


def _flag(flags: list[str], name: str, default):
    return yaml.safe_load(flags[flags.index(name) + 1]) if name in flags else default


def test_gan_pacgan2_and_pacgan4_train_the_same_steps_with_100_packs_each(seeded):
    """Counted on the data module the runs train on: batches per epoch x epochs, and the steps
    before the learning-rate cut, are the same for every pack size; each batch holds 100 packs."""
    from aegan.data import AeganDataModule

    recipe = yaml.safe_load((REPO / "configs" / "gan_toy.yaml").read_text())
    counts = {}
    for name in ("gan_grid", "pacgan2_grid", "pacgan4_grid"):
        setting = studies.STUDIES["modes"]["settings"][name]
        flags = shlex.split(setting.command())
        pack = _flag(flags, "--model.pack", recipe["model"]["init_args"]["pack"])
        batch = _flag(flags, "--data.batch_size", recipe["data"]["batch_size"])
        (milestone,) = _flag(flags, "--model.lr_milestones", recipe["model"]["init_args"]["lr_milestones"])
        epochs = _flag(flags, "--trainer.max_epochs", None)
        data = AeganDataModule("toy_grid", toy_size=recipe["data"]["toy_size"], batch_size=batch)
        data.setup("fit")
        batches = len(data.train_dataloader())
        assert batch == 100 * pack
        counts[name] = (batches * epochs, batches * milestone, setting.steps)
    assert set(counts.values()) == {(25_200, 11_700, 25_200)}, counts
    with pytest.raises(ValueError, match="does not divide"):
        studies.equal_updates(7)


def test_run_trains_a_setting_and_records_its_commit_and_precision(tmp_path):
    """``run`` trains (here a tiny ring run), writing the times, log and provenance that the
    JSON reads back."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANDB_")} | {"PYTHONPATH": str(REPO),
                                                                                 "HOME": str(tmp_path)}
    tiny = ("--data.toy_size 1000 --trainer.max_epochs 1 --trainer.limit_train_batches 2 "
            "--trainer.limit_val_batches 1 --evaluation.init_args.samples 200")
    done = run_with_deadline([sys.executable, str(REPO / "benchmarks" / "studies.py"), "run", "modes", "gan_ring",
                              "--seeds", "3", "--runs", str(tmp_path / "runs"), "--train_args", tiny], tmp_path,
                             env, 300)
    assert done.returncode == 0, (done.stderr + (tmp_path / "runs" / "gan_ring_s3.log").read_text())[-3000:]
    assert "--model gan_toy --data.name toy_ring" in done.stdout
    assert re.fullmatch(r"start \d+\nend \d+ rc 0\n", (tmp_path / "runs" / "gan_ring_s3.times").read_text())
    rows = studies.make_json("modes", tmp_path / "runs", tmp_path / "modes.json")["rows"]
    assert [r["metric"] for r in rows] == ["modes", "high_quality", "reverse_kl"]
    commit = aae_paper.git_commit()
    assert rows[0]["seeds"] == [3] and rows[0]["commit"] == commit and commit
    assert rows[0]["precision"] == "32-true" and rows[0]["device"].endswith("1 torch thread")
    assert rows[0]["command"].startswith("python train.py --model gan_toy --data.name toy_ring")
    assert "{seed}" in rows[0]["command"] and "--data.toy_size 1000" in rows[0]["command"]  # as trained
    bad = run_with_deadline([sys.executable, str(REPO / "benchmarks" / "studies.py"), "run", "modes", "pacgan_grid"],
                            tmp_path, env, 60)
    assert bad.returncode == 2 and "unknown setting 'pacgan_grid' of study modes; valid choices: gan_grid" in bad.stderr
