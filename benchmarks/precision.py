"""float32 against bf16-mixed on the CPU: the same short run of each study model in both
precisions, on the same seeds, scored by the model's study metric.

    python benchmarks/precision.py run aae bf16 0 --runs runs/precision     # one run (foreground)
    python benchmarks/precision.py json --runs runs/precision                # benchmarks/results/precision-cpu.json
    python benchmarks/precision.py table                                      # the RESULTS.md table

Each run trains ``train.py --model MODEL`` with its study's data and epochs (:data:`MODELS`),
``--trainer.precision`` 32-true or bf16-mixed, one torch thread and the CSV logger, into
``<runs>/<model>_<precision>_s<seed>``, and records there what it ran (command, commit, torch,
wall time). A run's number is the one logged after its last epoch.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OFFLINE = ["--data.name", "arrays", "--data.path", "data/offline/pool.npz",
           "--data.test_path", "data/offline/heldout.npz"]
PRECISIONS = {"float32": "32-true", "bf16": "bf16-mixed"}
# model -> (train.py flags, epochs, {metric name: (logged metric, direction)})
MODELS = {
    "aae": (OFFLINE, 10, {"test_recon_mse": ("test/recon_mse", "min"), "fid": ("eval/fid", "min")}),
    "aae_semi": ([*OFFLINE, "--data.labels_per_class", "10"], 10, {"test_error": ("test/class_error", "min")}),
    "infogan": (OFFLINE, 10, {"code_accuracy": ("test/q_accuracy", "max")}),
    "alpha_gan": (OFFLINE, 2, {"fid": ("eval/fid", "min")}),
    "gan_toy": ([], 28, {"modes": ("eval/modes_covered", "max"), "high_quality": ("eval/high_quality", "max"),
                         "reverse_kl": ("eval/reverse_kl", "min")}),
}


def run_folder(runs: Path, model: str, precision: str, seed: int) -> Path:
    return runs / f"{model}_{precision}_s{seed}"


def command(model: str, precision: str, seed: int, folder: Path) -> list[str]:
    flags, epochs, _ = MODELS[model]
    return ["train.py", "--model", model, *flags, "--seed_everything", str(seed), "--data.seed", str(seed),
            "--trainer.max_epochs", str(epochs), "--trainer.precision", PRECISIONS[precision],
            "--trainer.logger", "lightning.pytorch.loggers.CSVLogger", "--trainer.logger.save_dir", str(folder),
            "--trainer.enable_progress_bar", "false"]


def run(model: str, precision: str, seed: int, runs: Path) -> None:
    folder = run_folder(runs, model, precision, seed)
    folder.mkdir(parents=True, exist_ok=True)
    args = command(model, precision, seed, folder)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True,
                           text=True).stdout.strip()
    import torch

    record = {"command": "python " + " ".join(args), "commit": commit.strip() + ("-dirty" if dirty else ""),
              "torch": torch.__version__, "device": "CPU, 1 thread", "started": time.time()}
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    started = time.perf_counter()
    with open(folder / "train.log", "w") as log:
        code = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT).returncode
    record |= {"wall_s": round(time.perf_counter() - started), "returncode": code}
    (folder / "run.json").write_text(json.dumps(record, indent=2) + "\n")


def last_logged(folder: Path, metric: str) -> tuple[float, int] | None:
    """(the metric's value at its last logged epoch, that epoch + 1) from the run's CSV log."""
    found = None
    for path in folder.rglob("metrics.csv"):
        with open(path) as handle:
            for row in csv.DictReader(handle):
                if row.get(metric) not in (None, ""):
                    epoch = int(row["epoch"])
                    if found is None or epoch >= found[1] - 1:
                        found = (float(row[metric]), epoch + 1)
    return found


def make_json(runs: Path, out: Path) -> dict:
    rows = []
    for model, (_, epochs, metrics) in MODELS.items():
        for precision in PRECISIONS:
            folders = sorted(runs.glob(f"{model}_{precision}_s*"), key=lambda p: int(p.name.rsplit("_s", 1)[1]))
            done = [f for f in folders if (f / "run.json").exists() and json.loads((f / "run.json").read_text())["returncode"] == 0]
            if not done:
                continue
            records = [json.loads((f / "run.json").read_text()) for f in done]
            for metric, (logged, direction) in metrics.items():
                values = [last_logged(f, logged) for f in done]
                per_seed = [round(v[0], 5) for v in values if v is not None]
                if not per_seed:
                    continue
                rows.append({
                    "setting": model, "precision": precision, "metric": metric, "logged": logged,
                    "direction": direction, "command": records[0]["command"].replace(
                        f"--seed_everything {done[0].name.rsplit('_s', 1)[1]}", "--seed_everything {seed}").replace(
                        f"--data.seed {done[0].name.rsplit('_s', 1)[1]}", "--data.seed {seed}"),
                    "seeds": [int(f.name.rsplit("_s", 1)[1]) for f in done], "per_seed": per_seed,
                    "mean": round(statistics.mean(per_seed), 5),
                    "std": round(statistics.stdev(per_seed), 5) if len(per_seed) > 1 else None,
                    "epochs": epochs, "device": records[0]["device"], "commit": records[0]["commit"],
                    "torch": records[0]["torch"], "wall_s": [r["wall_s"] for r in records],
                })
    report = {"study": "precision-cpu", "protocol": "the same short run in float32 (32-true) and bf16 (bf16-mixed), "
              "one torch thread, same seeds; each number logged after the run's last epoch", "rows": rows}
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return report


def table(path: Path) -> str:
    rows = json.loads(path.read_text())["rows"]
    lines = ["| model | metric | epochs | seeds | float32 | bf16 | s per run (f32 / bf16) |",
             "| --- | --- | ---: | --- | ---: | ---: | ---: |"]
    for model in MODELS:
        for metric in MODELS[model][2]:
            pair = {r["precision"]: r for r in rows if r["setting"] == model and r["metric"] == metric}
            if len(pair) < 2:
                continue
            f32, bf16 = pair["float32"], pair["bf16"]
            fmt = lambda r: ", ".join(f"{v:.4g}" for v in r["per_seed"])  # noqa: E731
            walls = f"{statistics.mean(f32['wall_s']):.0f} / {statistics.mean(bf16['wall_s']):.0f}"
            lines.append(f"| {model} | {metric} ({f32['logged']}) | {f32['epochs']} | {f32['seeds']} | {fmt(f32)} | "
                         f"{fmt(bf16)} | {walls} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    one = sub.add_parser("run", help="train one model in one precision on one seed")
    one.add_argument("model", choices=list(MODELS))
    one.add_argument("precision", choices=list(PRECISIONS))
    one.add_argument("seed", type=int)
    for p in (one, sub.add_parser("json", help="write the results file from the runs")):
        p.add_argument("--runs", type=Path, default=Path("runs/precision"))
        p.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/precision-cpu.json")
    sub.add_parser("table", help="print the markdown table").add_argument(
        "--out", type=Path, default=ROOT / "benchmarks/results/precision-cpu.json")
    args = parser.parse_args(argv)
    if args.what == "run":
        run(args.model, args.precision, args.seed, args.runs)
    elif args.what == "json":
        print(json.dumps(make_json(args.runs, args.out), indent=1)[:2000])
    else:
        print(table(args.out))


if __name__ == "__main__":
    main()
