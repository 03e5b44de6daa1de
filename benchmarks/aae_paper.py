"""The AAE paper's semi-supervised and clustering results on the offline MNIST protocol: the
JSON of results, the learning-curve figure and the README rows, all from the runs' CSV logs.

Each run trains with the CSV logger into its own folder, ``<runs>/<setting>_s<seed>`` (every
``metrics.csv`` below it counts: one per log folder, where a resumed run started a new one), e.g.::

    python train.py --model aae_semi $OFFLINE --seed_everything 0 --data.seed 0 \\
        --trainer.logger lightning.pytorch.loggers.CSVLogger --trainer.logger.save_dir runs/paper/semi_100_s0

(``benchmarks/aae_paper_runs.md`` lists the runs behind the numbers and how to resume them.)
Then::

    python benchmarks/aae_paper.py json      # benchmarks/results/aae_paper.json
    python benchmarks/aae_paper.py figure    # docs/aae_paper_curves.png
    python benchmarks/aae_paper.py readme    # the README's AAE paper rows, from the JSON

The test error of a run is its error on the 2,000 held-out digits after its last completed
epoch (not the best epoch: choosing one would use the test set). ``wall_s`` is the training
time of the run, summed over its segments, from ``<setting>_s<seed>.times`` (written by
``runs/paper.sh``-style launchers: ``start <unix time>`` / ``end <unix time>`` lines).
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OFFLINE = "--data.name arrays --data.path data/offline/pool.npz --data.test_path data/offline/heldout.npz"
PROTOCOL = ("offline MNIST: train on mnist5k + the first 6,000 digits of mnist-test-8k.npz (10% of that "
            "pool held out for validation), test on its last 2,000 digits")

#: setting -> (what it is, config, extra flags, the metric logged per epoch, the paper's error
#: and its std, in percent, from the paper's Table 2 and section 6; full MNIST, 50,000-digit pool)
SETTINGS = {
    "semi_100": ("semi-supervised, 100 labels", "aae_semi", "--data.labels_per_class 10",
                 "test/class_error", (1.90, 0.10)),
    "semi_1000": ("semi-supervised, 1000 labels", "aae_semi", "--data.labels_per_class 100",
                  "test/class_error", (1.60, 0.08)),
    "cluster_16": ("clustering, 16 clusters", "aae_cluster", "", "test/cluster_error", (9.55, 2.05)),
    "cluster_30": ("clustering, 30 clusters", "aae_cluster30", "", "test/cluster_error", (4.10, 1.13)),
}


#: the bar issue 13 sets for each setting (test error, percent)
BARS = {"semi_100": 3.0, "semi_1000": 2.0, "cluster_16": 15.0, "cluster_30": 10.0}


def curve(run: Path, metric: str) -> dict[int, float]:
    """{epoch: metric} over every segment of a run (a later segment wins for the same epoch)."""
    points: dict[int, float] = {}
    for path in sorted(run.rglob("metrics.csv"), key=lambda p: p.stat().st_mtime):
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                if row.get(metric):
                    points[int(row["epoch"])] = float(row[metric])
    return dict(sorted(points.items()))


def wall_seconds(times: Path, run: Path) -> float:
    """Training time summed over the run's segments (a running one counts up to its last log)."""
    total, start = 0.0, None
    for line in times.read_text().splitlines() if times.exists() else []:
        kind, stamp = line.split()[:2]
        if kind == "start":
            start = float(stamp)
        elif kind == "end" and start is not None:
            total, start = total + float(stamp) - start, None
    if start is not None:
        logs = list(run.rglob("metrics.csv"))
        total += max([p.stat().st_mtime for p in logs], default=start) - start
    return round(total)


def command(setting: str, epochs: int) -> str:
    _, config, extra, _, _ = SETTINGS[setting]
    flags = " ".join(x for x in (OFFLINE, extra) if x)
    return (f"python train.py --model {config} {flags} --seed_everything {{seed}} --data.seed {{seed}} "
            f"--trainer.max_epochs {epochs}")


def runs_of(runs: Path, setting: str) -> dict[int, Path]:
    found = {}
    for path in runs.glob(f"{setting}_s*"):
        match = re.fullmatch(rf"{setting}_s(\d+)", path.name)
        if match and path.is_dir():
            found[int(match.group(1))] = path
    return dict(sorted(found.items()))


def planned_epochs(run: Path) -> int | None:
    """max_epochs of the run's newest segment (its saved config)."""
    configs = sorted(run.rglob("config.yaml"), key=lambda p: p.stat().st_mtime)
    if not configs:
        return None
    match = re.search(r"^\s*max_epochs:\s*(\d+)", configs[-1].read_text(), re.MULTILINE)
    return int(match.group(1)) if match else None


def last_values(runs: Path, setting: str, metric: str) -> dict[str, list]:
    """Per seed with a logged ``metric``: the value after its run's last epoch (``per_seed``),
    ``epochs``, ``wall_s``, ``planned`` epochs and the run folder (``runs``)."""
    found: dict[str, list] = {key: [] for key in ("seeds", "per_seed", "epochs", "wall_s", "planned", "runs")}
    for seed, run in runs_of(runs, setting).items():
        points = curve(run, metric)
        if points:
            last = max(points)
            for key, value in (("seeds", seed), ("per_seed", round(points[last], 4)), ("epochs", last + 1),
                               ("wall_s", wall_seconds(runs / f"{run.name}.times", run)),
                               ("planned", planned_epochs(run)), ("runs", run)):
                found[key].append(value)
    return found


def make_json(runs: Path, out: Path) -> dict:
    import torch

    rows = []
    for setting, (_, _, _, metric, _) in SETTINGS.items():
        found = last_values(runs, setting, metric)
        seeds, per_seed, epochs, walls, planned = (found[k] for k in ("seeds", "per_seed", "epochs", "wall_s", "planned"))
        majority = []
        if metric == "test/cluster_error":
            for run, epoch in zip(found["runs"], epochs):
                by_majority = curve(run, "test/cluster_error_majority").get(epoch - 1)
                majority.append(None if by_majority is None else round(by_majority, 4))
        if not seeds:
            continue
        row = {"setting": setting, "metric": "test_error", "direction": "min",
               "command": command(setting, max(p or 0 for p in planned) or max(epochs)),
               "seeds": seeds, "per_seed": per_seed, "mean": round(statistics.mean(per_seed), 4),
               "std": round(statistics.stdev(per_seed), 4) if len(per_seed) > 1 else None,
               "epochs": min(epochs), "epochs_per_seed": epochs, "epochs_planned": planned,
               "device": "CPU, 2 cores (shared)", "wall_s": sum(walls), "torch": torch.__version__.split("+")[0],
               "logged_metric": metric}
        if any(m is not None for m in majority):  # the same clusters named by majority vote instead of the paper's rule
            row["per_seed_majority_rule"] = majority
        rows.append(row)
    result = {"study": "aae_paper", "protocol": PROTOCOL, "written": time.strftime("%Y-%m-%d"), "rows": rows}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    return result


def make_figure(runs: Path, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from matplotlib.ticker import FormatStrFormatter

    fig, axes = plt.subplots(2, 2, figsize=(10, 7.5))
    for ax, (setting, (title, _, _, metric, (paper, paper_std))) in zip(axes.flat, SETTINGS.items()):
        for seed, run in runs_of(runs, setting).items():
            points = curve(run, metric)
            if points:
                ax.plot([e + 1 for e in points], [100 * v for v in points.values()], lw=1.2,
                        label=f"aegan, seed {seed} ({100 * points[max(points)]:.2f}% at epoch {max(points) + 1})")
        ax.axhline(paper, color="k", ls="--", lw=1, label=f"paper: {paper}% ± {paper_std} (final, 50k pool)")
        ax.axhspan(paper - paper_std, paper + paper_std, color="k", alpha=0.08)
        ax.axhline(BARS[setting], color="tab:red", ls=":", lw=1.2, label=f"bar of issue 13: {BARS[setting]}%")
        ax.set(title=title, xlabel="epoch", ylabel="test error, 2,000 held-out digits (%)", yscale="log")
        ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.yaxis.set_minor_formatter(FormatStrFormatter("%g"))
        ax.tick_params(axis="y", which="minor", labelsize=7)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7)
    fig.suptitle("AAE paper settings on the offline MNIST protocol (CPU runs): test error by epoch", fontsize=11)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)


BEGIN, END = "<!-- aae_paper rows: made by benchmarks/aae_paper.py readme -->", "<!-- /aae_paper rows -->"


def readme_rows(result: dict) -> str:
    lines = ["| setting | command (`$OFFLINE` above; seeds as listed) | ours: test error | paper (50,000-digit pool) |",
             "| --- | --- | --- | --- |"]
    for row in result["rows"]:
        title, _, _, _, (paper, paper_std) = SETTINGS[row["setting"]]
        command_text = row["command"].replace(OFFLINE, "$OFFLINE")
        errors = ", ".join(f"{100 * e:.2f}%" for e in row["per_seed"])
        if row["std"] is None:
            ours = f"{errors} (seed {row['seeds'][0]})"
        elif len(set(row["epochs_per_seed"])) > 1:  # a mean over runs of different lengths means little
            ours = f"seeds {row['seeds']}: {errors}"
        else:
            ours = f"{100 * row['mean']:.2f}% ± {100 * row['std']:.2f} (seeds {row['seeds']}: {errors})"
        done = "/".join(str(e) for e in row["epochs_per_seed"])
        planned = row["epochs_planned"]
        if any(p and p > e for p, e in zip(planned, row["epochs_per_seed"])):
            done += f" of {max(p or 0 for p in planned)} planned"
        ours += f" after {done} epochs, CPU"
        lines.append(f"| {title} | `{command_text}` | {ours} | {paper}% ± {paper_std} |")
    return "\n".join(lines)


def update_readme(result: dict, readme: Path) -> None:
    text = readme.read_text()
    if BEGIN not in text or END not in text:
        sys.exit(f"{readme} has no {BEGIN} ... {END} block to fill")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{BEGIN}\n{readme_rows(result)}\n{END}{tail}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["json", "figure", "readme"])
    parser.add_argument("--runs", type=Path, default=ROOT / "runs/paper", help="one folder per <setting>_s<seed>")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks/results/aae_paper.json")
    parser.add_argument("--figure", type=Path, default=ROOT / "docs/aae_paper_curves.png")
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md")
    args = parser.parse_args(argv)
    if args.what == "json":
        result = make_json(args.runs, args.json)
        print(json.dumps(result, indent=2))
    elif args.what == "figure":
        make_figure(args.runs, args.figure)
        print(args.figure)
    else:
        update_readme(json.loads(args.json.read_text()), args.readme)
        print(f"{args.readme}: rows from {args.json}")


if __name__ == "__main__":
    main()
