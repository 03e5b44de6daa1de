"""benchmarks/aae_paper.py: the JSON, the figure, the rows of the study's page and its README headline rows
come from the runs' CSV logs."""

import contextlib
import csv
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("aae_paper", REPO / "benchmarks" / "aae_paper.py")
aae_paper = importlib.util.module_from_spec(spec)
spec.loader.exec_module(aae_paper)


def write_segment(run: Path, segment: str, errors: dict[int, float], metric: str, max_epochs: int):
    folder = run / segment
    folder.mkdir(parents=True)
    with open(folder / "metrics.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["epoch", "step", metric, "train/ae/loss"])
        writer.writeheader()
        for epoch, error in errors.items():
            writer.writerow({"epoch": epoch, "step": 10 * epoch, "train/ae/loss": 0.1})  # a step row
            writer.writerow({"epoch": epoch, "step": 10 * epoch, metric: error})
    (folder / "config.yaml").write_text(f"trainer:\n  max_epochs: {max_epochs}\n")


@pytest.fixture
def runs(tmp_path):
    runs = tmp_path / "runs"
    for seed, errors in {0: [0.05, 0.03, 0.025], 1: [0.06, 0.04, 0.035]}.items():
        write_segment(runs / f"semi_100_s{seed}", "version_0", dict(enumerate(errors[:2])), "test/class_error", 3)
        write_segment(runs / f"semi_100_s{seed}", "segment1", {2: errors[2]}, "test/class_error", 3)
        (runs / f"semi_100_s{seed}.times").write_text("start 100\nend 160 rc 0\nstart 200\nend 230 rc 0\n")
    write_segment(runs / "cluster_16_s0", "version_0", {0: 0.5, 1: 0.4}, "test/cluster_error", 10)
    return runs


def test_json_takes_each_runs_last_epoch_over_all_its_segments(runs, tmp_path):
    result = aae_paper.make_json(runs, tmp_path / "aae_paper.json")
    assert json.loads((tmp_path / "aae_paper.json").read_text()) == result
    semi, cluster = result["rows"]
    assert semi["setting"] == "semi_100" and semi["metric"] == "test_error" and semi["seeds"] == [0, 1]
    assert semi["per_seed"] == [0.025, 0.035] and semi["mean"] == 0.03 and semi["std"] == pytest.approx(0.0071, abs=1e-4)
    assert semi["epochs"] == 3 and semi["wall_s"] == 2 * 90
    assert "{seed}" in semi["command"] and "--data.labels_per_class 10" in semi["command"]
    assert cluster["per_seed"] == [0.4] and cluster["std"] is None and cluster["epochs_planned"] == [10]


def test_json_rewrites_the_settings_it_has_runs_for_and_keeps_the_other_rows(runs, tmp_path):
    out = tmp_path / "aae_paper.json"
    aae_paper.write_rows({"semi_100": {"setting": "semi_100", "per_seed": [0.9]},
                          "semi_1000": {"setting": "semi_1000", "per_seed": [0.02]},
                          "semi_10": {"setting": "semi_10", "per_seed": [0.5]}}, out)  # no such setting
    rows = {row["setting"]: row for row in aae_paper.make_json(runs, out)["rows"]}
    assert rows["semi_100"]["per_seed"] == [0.025, 0.035]  # from the runs
    assert rows["semi_1000"] == {"setting": "semi_1000", "per_seed": [0.02]}  # no runs here: kept
    assert rows["cluster_16"]["per_seed"] == [0.4] and "semi_10" not in rows


def test_page_rows_replace_the_block_between_the_markers(runs, tmp_path):
    result = aae_paper.make_json(runs, tmp_path / "aae_paper.json")
    page = tmp_path / "aae_paper.md"
    page.write_text(f"before\n{aae_paper.BEGIN}\nold rows\n{aae_paper.END}\nafter\n")
    aae_paper.update_page(result, page)
    text = page.read_text()
    assert text.startswith("before\n") and text.endswith("after\n") and "old rows" not in text
    assert "3.00% ± 0.71 (seeds [0, 1]: 2.50%, 3.50%) after 3/3 epochs" in text
    assert "40.00% (seed 0) after 2 of 10 planned epochs" in text and "$OFFLINE" in text
    # the README's headline rows: the same numbers, the seeds counted, the paper's and the bar beside
    semi, cluster = aae_paper.headline_rows(result)
    assert semi == {"setting": "semi-supervised, 100 labels", "ours": "test error 3.00% ± 0.71 (2 seeds, 3 epochs)",
                    "paper": "1.9% ± 0.1", "bar": "≤ 3.0%"}
    assert cluster["ours"] == "test error 40.00% (seed 0, 2 of 10 planned epochs)" and cluster["paper"] == "9.55% ± 2.05"
    # a page without the markers is named, with where the rows live
    (tmp_path / "README.md").write_text("no markers\n")
    with pytest.raises(SystemExit, match="docs/results/aae_paper.md"):
        aae_paper.update_page(result, tmp_path / "README.md")
    aae_paper.make_figure(runs, tmp_path / "curves.png")
    assert (tmp_path / "curves.png").stat().st_size > 10_000
    # a panel per setting with runs in the folder: semi_100 and cluster_16 side by side, one row
    from PIL import Image
    width, height = Image.open(tmp_path / "curves.png").size
    assert width > 2 * height
    with pytest.raises(aae_paper.ConfigError, match="no runs of semi_100"):
        aae_paper.make_figure(tmp_path / "empty", tmp_path / "none.png")


def test_dimred_numbers_come_from_a_checkpoint(model_checkpoints, tmp_path):
    """benchmarks/aae_dimred.py: clusters in use, confidence and cluster error of a checkpoint."""
    spec = importlib.util.spec_from_file_location("aae_dimred", REPO / "benchmarks" / "aae_dimred.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    dimred = module.main
    out = tmp_path / "aae_dimred.json"
    dimred([str(model_checkpoints["aae_semi"]), "--points", "200", "--out", str(out)])
    rows = {row["metric"]: row for row in json.loads(out.read_text())["rows"]}
    assert 1 <= rows["clusters_used"]["mean"] <= 10 and rows["clusters_over_1pct"]["mean"] <= rows["clusters_used"]["mean"]
    assert 0.1 <= rows["confidence"]["mean"] <= 1 and 0 <= rows["val_cluster_error"]["mean"] <= 1
    assert rows["confidence"]["epochs"] == 1 and rows["confidence"]["seeds"] == [0]


def blobs(path: Path, n: int, seed: int):
    """``n`` 28x28 digits of three kinds (a bright square in one of three places, plus noise),
    labelled 0-2, in the offline protocol's .npz format."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = rng.integers(0, 40, (n, 28, 28))
    for kind, (r, c) in enumerate([(2, 2), (2, 16), (16, 9)]):
        x[y == kind, r:r + 10, c:c + 10] += 200
    np.savez(path, x=x.astype(np.uint8), y=y)


def test_kmeans_rows_fit_the_aae_training_split_and_stand_beside_the_clustering_rows(runs, tmp_path, monkeypatch):
    from sklearn.cluster import KMeans

    from aegan.data import AeganDataModule

    blobs(tmp_path / "pool.npz", 300, 0)
    blobs(tmp_path / "heldout.npz", 60, 1)
    out = tmp_path / "aae_paper.json"
    aae_paper.make_json(runs, out)
    fitted = []
    fit = KMeans.fit
    monkeypatch.setattr(KMeans, "fit", lambda self, x, *a, **k: fitted.append(x) or fit(self, x, *a, **k))
    result = aae_paper.make_kmeans(out, str(tmp_path / "pool.npz"), str(tmp_path / "heldout.npz"), [16], [0, 1],
                                   n_init=2)
    # fitted on the training split that --data.seed gives the AAE (another seed, another split)
    for seed, x in zip([0, 1], fitted):
        data = AeganDataModule("arrays", path=str(tmp_path / "pool.npz"), seed=seed, labels_per_class=0)
        data.setup()
        assert np.array_equal(x, data.splits["train"].tensors[0].flatten(1).numpy() / np.float32(255))
    assert not np.array_equal(fitted[0], fitted[1])
    assert [row["setting"] for row in result["rows"]] == ["semi_100", "cluster_16", "kmeans_16"]  # AAE rows kept
    row = result["rows"][2]
    assert row["seeds"] == [0, 1] and row["per_seed"] == [0.0, 0.0]  # three separate blobs: named right
    assert all(0 <= e <= 1 for e in row["per_seed_majority_rule"]) and row["digits"] == {"train": 270, "val": 30,
                                                                                          "test": 60}
    assert row["commit"] and row["precision"] == "float32" and "--clusters 16 --seeds 0 1" in row["command"]
    # the runs' rows are rewritten from the logs; the k-means rows stay
    again = aae_paper.make_json(runs, out)
    assert again["rows"][2] == row
    page = tmp_path / "aae_paper.md"
    page.write_text(f"{aae_paper.BEGIN}\n{aae_paper.END}\n")
    aae_paper.update_page(again, page)
    lines = page.read_text().splitlines()
    beside = lines.index(next(line for line in lines if line.startswith("| clustering, 16 clusters"))) + 1
    assert lines[beside].startswith("| k-means on pixels, 16 clusters | `python benchmarks/aae_paper.py kmeans")
    assert "0.00% ± 0.00 (seeds [0, 1]: 0.00%, 0.00%); by majority vote" in lines[beside]
    (_, cluster) = aae_paper.headline_rows(again)  # the headline's clustering row has its k-means baseline
    assert cluster["ours"] == "test error 40.00% (seed 0, 2 of 10 planned epochs); k-means on pixels 0.00% ± 0.00 (2 seeds)"


def test_rows_record_the_commit_device_precision_and_command_each_run_trained_on(runs, tmp_path):
    flags = ["--model", "aae_cluster", *aae_paper.OFFLINE.split(), "--seed_everything", "0", "--data.seed", "0",
             "--trainer.logger", "lightning.pytorch.loggers.CSVLogger", "--trainer.logger.save_dir",
             "runs/paper/cluster_16_s0", "--trainer.max_epochs", "10", "--model.style_noise", "0",
             "--model.lr_milestones", "[5]",
             "--ckpt_path", "last"]
    record = aae_paper.write_provenance(runs / "cluster_16_s0", flags)
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True,
                          check=True).stdout
    assert record["commit"].removesuffix("-dirty") == head.strip() and record["args"] == flags
    (runs / "cluster_16_s0" / "version_0" / "config.yaml").write_text(
        "trainer:\n  precision: bf16-mixed\n  max_epochs: 10\n")
    cluster = aae_paper.make_json(runs, tmp_path / "aae_paper.json")["rows"][1]
    assert cluster["commit"] == record["commit"] and cluster["precision"] == "bf16-mixed"
    assert cluster["device"] == record["device"] and cluster["torch"] == record["torch"]
    assert cluster["command"] == ("python train.py --model aae_cluster " + aae_paper.OFFLINE + " --seed_everything {seed}"
                                  " --data.seed {seed} --trainer.max_epochs 10 --model.style_noise 0"
                                  " --model.lr_milestones '[5]'")
    # a run whose segments trained on different commits says so; runs without a record say nothing
    with open(runs / "cluster_16_s0" / aae_paper.PROVENANCE, "a") as f:
        f.write(json.dumps({**record, "commit": "abc1234"}) + "\n")
    semi, cluster = aae_paper.make_json(runs, tmp_path / "aae_paper.json")["rows"]
    assert cluster["commit"] == f"{record['commit']} + abc1234"
    assert semi["commit"] is None and semi["precision"] == "32-true" and "--data.labels_per_class 10" in semi["command"]


@pytest.mark.parametrize("argv, message", [
    (["kmeans", "--clusters", "12"], "error: no k-means row for 12 clusters; valid choices: 16, 30"),
    (["kmeans", "--pool", "missing.npz"], "error: data file not found: missing.npz"),
    (["provenance"], "error: provenance needs the run's folder"),
])
def test_bad_input_is_one_line(argv, message, tmp_path):
    with pytest.raises(SystemExit) as stop:
        aae_paper.main([*argv, "--json", str(tmp_path / "out.json")] if argv[0] == "kmeans" else argv)
    assert str(stop.value).startswith(message) and "\n" not in str(stop.value)


def test_the_launcher_records_what_each_segment_trains_on(tmp_path):
    """benchmarks/paper.sh as documented, tiny: a run, then its resumption, each with a provenance
    line and a times line; the row made from them names the commit and the recipe."""
    blobs(tmp_path / "pool.npz", 300, 0)
    blobs(tmp_path / "heldout.npz", 60, 1)
    env = {**os.environ, "PYTHON": sys.executable, "RUNS": str(tmp_path / "runs"), "HOME": str(tmp_path)}
    env = {k: v for k, v in env.items() if not k.startswith("WANDB_")}
    tiny = ["--data.path", str(tmp_path / "pool.npz"), "--data.test_path", str(tmp_path / "heldout.npz"),
            "--model.hidden", "[16]", "--model.disc_hidden", "[8]", "--trainer.limit_train_batches", "2",
            "--trainer.limit_val_batches", "1", "--trainer.callbacks", "[]"]
    times_file = tmp_path / "runs/cluster_16_s0.times"
    for epochs in (1, 2):  # the second launch resumes the first
        # the launcher returns at once and leaves the run in the background, in the launcher's
        # process group (a session of its own), which the test kills if the run outlives its deadline
        launcher = subprocess.Popen(["bash", str(REPO / "benchmarks/paper.sh"), "cluster_16_s0", "aae_cluster",
                                     str(epochs), "0", *tiny], cwd=REPO, env=env, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            out, err = launcher.communicate(timeout=120)
            assert launcher.returncode == 0 and out.startswith("cluster_16_s0 pid "), err
            deadline = time.monotonic() + 240
            # this launch has ended when the file holds one "end" per launch so far: the last line
            # alone is the previous launch's "end" until the background run writes its "start"
            while (times_file.read_text().count("end ") if times_file.exists() else 0) < epochs:
                assert time.monotonic() < deadline, (tmp_path / "runs/cluster_16_s0.log").read_text()[-3000:]
                time.sleep(0.5)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(launcher.pid, signal.SIGKILL)
    times = (tmp_path / "runs/cluster_16_s0.times").read_text().splitlines()
    assert [line.split()[0] for line in times] == ["start", "end", "start", "end"] and times[2].endswith("last")
    assert all(line.endswith("rc 0") for line in times[1::2]), (tmp_path / "runs/cluster_16_s0.log").read_text()[-3000:]
    records = aae_paper.provenance(tmp_path / "runs/cluster_16_s0")
    assert len(records) == 2 and records[1]["args"][-2:] == ["--ckpt_path", "last"]
    row = aae_paper.make_json(tmp_path / "runs", tmp_path / "aae_paper.json")["rows"][0]
    assert row["setting"] == "cluster_16" and row["epochs"] == 2 and row["commit"] == records[0]["commit"]
    assert row["command"].startswith("python train.py --model aae_cluster " + aae_paper.OFFLINE)
    assert "--seed_everything {seed} --data.seed {seed}" in row["command"] and "--ckpt_path" not in row["command"]
    assert "CPU" in row["device"] and "1 torch thread" in row["device"] and row["precision"] == "32-true"


def test_ablations_table_reports_each_runs_last_epoch_and_how_its_logit_gradient_moved(tmp_path):
    run = tmp_path / "abl_softy_s0" / "version_0"
    run.mkdir(parents=True)
    with open(run / "metrics.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["epoch", "step", "test/cluster_error", "train_epoch/ae/logit_grad"])
        writer.writeheader()
        for epoch, (error, grad) in enumerate([(0.5, 0.02), (0.4, 0.01), (0.3, 0.001)]):
            writer.writerow({"epoch": epoch, "step": epoch, "test/cluster_error": error})
            writer.writerow({"epoch": epoch, "step": epoch, "train_epoch/ae/logit_grad": grad})
    (tmp_path / "abl_softy_s0.times").write_text("start 0\nend 60 rc 0\n")
    (tmp_path / "cluster_16_s0").mkdir()  # not an ablation
    table = aae_paper.ablation_rows(tmp_path, "abl_").splitlines()
    assert len(table) == 3 and table[2].startswith("| abl_softy_s0 | 3 | 0.3 | ")
    assert "| 0.02 → 0.001 |" in table[2] and table[2].endswith("| 20 |  |")
