"""benchmarks/precision.py: the float32/bf16 pairs' JSON and table come from each run's CSV log
(the number after its last epoch) and what the run recorded; a failed run is left out."""

import importlib.util
import json

from tests.conftest import REPO

spec = importlib.util.spec_from_file_location("precision", REPO / "benchmarks" / "precision.py")
precision = importlib.util.module_from_spec(spec)
spec.loader.exec_module(precision)


def fake_run(runs, model, kind, seed, values, returncode=0, wall_s=60):
    folder = precision.run_folder(runs, model, kind, seed)
    (folder / "csv").mkdir(parents=True)
    rows = ["epoch,step,test/recon_mse,train/loss"] + [f"{e},{e},{v}," for e, v in enumerate(values)] + ["9,99,,0.5"]
    (folder / "csv" / "metrics.csv").write_text("\n".join(rows) + "\n")
    args = precision.command(model, kind, seed, folder)
    (folder / "run.json").write_text(json.dumps({
        "command": "python " + " ".join(map(str, args)), "commit": "abc1234", "torch": "2.14.1",
        "device": "CPU, 1 thread", "wall_s": wall_s, "returncode": returncode}))


def test_pairs_read_the_last_logged_value_per_seed_and_leave_failed_runs_out(tmp_path):
    runs = tmp_path / "runs"
    fake_run(runs, "aae", "float32", 0, [0.09, 0.05], wall_s=66)
    fake_run(runs, "aae", "float32", 1, [0.08, 0.06], wall_s=64)
    fake_run(runs, "aae", "bf16", 0, [0.07, 0.04], wall_s=50)
    fake_run(runs, "aae", "bf16", 1, [0.01], returncode=1)  # crashed: not a result
    rows = precision.make_json(runs, tmp_path / "precision.json")["rows"]
    (f32,) = [r for r in rows if r["precision"] == "float32" and r["metric"] == "test_recon_mse"]
    (bf16,) = [r for r in rows if r["precision"] == "bf16" and r["metric"] == "test_recon_mse"]
    assert f32["per_seed"] == [0.05, 0.06] and f32["seeds"] == [0, 1] and f32["wall_s"] == [66, 64]
    assert bf16["per_seed"] == [0.04] and bf16["seeds"] == [0]
    assert "--trainer.precision 32-true" in f32["command"] and "--trainer.precision bf16-mixed" in bf16["command"]
    assert "--seed_everything {seed} --data.seed {seed}" in f32["command"] and f32["epochs"] == 10
    assert not any(r["metric"] == "fid" for r in rows)  # never logged: no row
    table = precision.table(tmp_path / "precision.json").splitlines()
    assert table[2] == "| aae | test_recon_mse (test/recon_mse) | 10 | [0, 1] | 0.05, 0.06 | 0.04 | 65 / 50 |"


def test_the_readme_headline_is_one_row_of_each_models_first_metric(tmp_path):
    import sys
    sys.path.insert(0, str(REPO / "benchmarks"))
    import headlines

    runs = tmp_path / "runs"
    for seed, (f32, bf16) in enumerate([(0.05, 0.04), (0.07, 0.06)]):
        fake_run(runs, "aae", "float32", seed, [f32])
        fake_run(runs, "aae", "bf16", seed, [bf16])
    (row,) = headlines.precision_rows(precision.make_json(runs, tmp_path / "precision.json"))
    assert row["ours"] == "aae test_recon_mse 0.05 / 0.06 (2 seeds each)"
