"""benchmarks/throughput.py end to end on a tiny budget: every variant it names runs, and the
ratios are to the plain loop at the same thread count."""

import json
import sys

import numpy as np

from tests.conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))

import throughput  # noqa: E402


def test_the_plain_loop_and_aegan_run_for_models_with_and_without_a_hand_written_loop(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "digits.npz", x=rng.integers(0, 256, (700, 28, 28), np.uint8), y=rng.integers(0, 10, 700))
    out = tmp_path / "throughput.json"
    throughput.main(["--models", "aae,aae_semi,gan", "--data", str(tmp_path / "digits.npz"), "--steps", "2",
                     "--model_steps", "gan=3", "--epochs", "1", "--threads", "1",
                     "--variants", "plain,aegan,aegan-bf16", "--out", str(out)])
    rows = json.loads(out.read_text())["rows"]
    assert [(r["model"], r["variant"], r["threads"]) for r in rows] == [
        (m, v, 1) for m in ("aae", "aae_semi", "gan") for v in ("plain", "aegan", "aegan-bf16")]
    assert [r["steps_per_epoch"] for r in rows] == [2] * 6 + [3] * 3
    for row in rows:
        assert row["steps_per_s"] > 0
        plain = next(r for r in rows if r["model"] == row["model"] and r["variant"] == "plain")
        assert row["vs_eager"] == row["steps_per_s"] / plain["steps_per_s"]
