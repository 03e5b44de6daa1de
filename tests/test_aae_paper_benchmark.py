"""benchmarks/aae_paper.py: the JSON, the figure and the README rows come from the runs' CSV logs."""

import csv
import importlib.util
import json
from pathlib import Path

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


def test_readme_rows_replace_the_block_between_the_markers(runs, tmp_path):
    result = aae_paper.make_json(runs, tmp_path / "aae_paper.json")
    readme = tmp_path / "README.md"
    readme.write_text(f"before\n{aae_paper.BEGIN}\nold rows\n{aae_paper.END}\nafter\n")
    aae_paper.update_readme(result, readme)
    text = readme.read_text()
    assert text.startswith("before\n") and text.endswith("after\n") and "old rows" not in text
    assert "3.00% ± 0.71 (seeds [0, 1]: 2.50%, 3.50%) after 3/3 epochs" in text
    assert "40.00% (seed 0) after 2 of 10 planned epochs" in text and "$OFFLINE" in text
    aae_paper.make_figure(runs, tmp_path / "curves.png")
    assert (tmp_path / "curves.png").stat().st_size > 10_000


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
