"""benchmarks/studies.py: InfoGAN's and the toy mode-coverage JSON and README rows come from the runs' CSV logs."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from tests.test_aae_paper_benchmark import write_segment

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
spec = importlib.util.spec_from_file_location("studies", REPO / "benchmarks" / "studies.py")
studies = importlib.util.module_from_spec(spec)
spec.loader.exec_module(studies)


def test_modes_rows_take_each_seeds_last_epoch_for_both_metrics(tmp_path):
    runs = tmp_path / "runs"
    for seed, (modes, quality) in {0: (24, 0.91), 1: (25, 0.95), 2: (23, 0.90)}.items():
        write_segment(runs / f"gan_grid_s{seed}", "version_0", {0: 10, 1: modes}, "eval/modes_covered", 2)
        (runs / f"gan_grid_s{seed}" / "version_1").mkdir()  # the other metric, in a later segment's log
        (runs / f"gan_grid_s{seed}" / "version_1" / "metrics.csv").write_text(
            f"epoch,step,eval/high_quality\n0,10,0.1\n1,20,{quality}\n")
        (runs / f"gan_grid_s{seed}.times").write_text("start 0\nend 50 rc 0\n")
    result = studies.make_json("modes", runs, tmp_path / "modes.json")
    assert json.loads((tmp_path / "modes.json").read_text()) == result
    modes, quality = result["rows"]
    assert (modes["setting"], modes["metric"], quality["metric"]) == ("gan_grid", "modes", "high_quality")
    assert modes["per_seed"] == [24, 25, 23] and modes["mean"] == 24 and modes["std"] == 1.0
    assert quality["per_seed"] == [0.91, 0.95, 0.90] and quality["mean"] == pytest.approx(0.92)
    assert modes["wall_s"] == 150 and modes["epochs"] == 2 and "--model gan_toy" in modes["command"]
    readme = tmp_path / "README.md"
    readme.write_text(f"a\n{studies.BEGIN.format(study='modes')}\nold\n{studies.END.format(study='modes')}\nb\n")
    studies.update_readme("modes", result, readme)
    text = readme.read_text()
    assert "old" not in text and text.startswith("a\n") and text.endswith("b\n")
    assert "modes 24.0 ± 1.0 (seeds [0, 1, 2]: 24.0, 25.0, 23.0); high quality 92.0% ± 2.6 (seeds [0, 1, 2]: 91.0%, 95.0%, 90.0%)" in text


def test_infogan_rows_read_the_held_out_code_accuracy(tmp_path):
    runs = tmp_path / "runs"
    write_segment(runs / "infogan_s0", "version_0", {0: 0.5, 1: 0.96}, "test/q_accuracy", 2)
    (row,) = studies.make_json("infogan", runs, tmp_path / "infogan.json")["rows"]
    assert row["metric"] == "code_accuracy" and row["per_seed"] == [0.96] and row["std"] is None
    assert "--model infogan --data.name arrays" in row["command"] and "{seed}" in row["command"]
