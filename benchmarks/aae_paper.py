"""The AAE paper's semi-supervised and clustering results on the offline MNIST protocol: the
JSON of results, the learning-curve figure and the rows of the study's page
(``docs/results/aae_paper.md``), all from the runs' CSV logs, and k-means on raw pixels beside
the clustering rows.

Each run trains with the CSV logger into its own folder, ``<runs>/<setting>_s<seed>`` (every
``metrics.csv`` below it counts: one per log folder, where a resumed run started a new one), e.g.::

    python train.py --model aae_semi $OFFLINE --seed_everything 0 --data.seed 0 \\
        --trainer.logger lightning.pytorch.loggers.CSVLogger --trainer.logger.save_dir runs/paper/semi_100_s0

(``benchmarks/paper.sh`` launches and resumes such runs; ``benchmarks/aae_paper_runs.md`` lists the
runs behind the numbers.) Then::

    python benchmarks/aae_paper.py json      # benchmarks/results/aae_paper.json (its k-means rows stay)
    python benchmarks/aae_paper.py kmeans    # the k-means rows kmeans_16, kmeans_30 (seeds 0, 1, 2)
    python benchmarks/aae_paper.py figure    # docs/aae_paper_curves.png
    python benchmarks/aae_paper.py page      # the rows of docs/results/aae_paper.md, from the JSON
    python benchmarks/headlines.py           # then the README's headline table, from every JSON
    python benchmarks/aae_paper.py ablations --runs runs/paper23   # the ablation runs abl_*, as a table

The test error of a run is its error on the 2,000 held-out digits after its last completed
epoch (not the best epoch: choosing one would use the test set). ``wall_s`` is the training
time of the run, summed over its segments, from ``<setting>_s<seed>.times`` (written by the
launcher: ``start <unix time>`` / ``end <unix time>`` lines).

What a row trained on: ``commit``, ``device``, ``torch`` and the ``command`` come from
``provenance.jsonl`` in the run's folder, one line per segment, which the launcher writes at each
launch (``python benchmarks/aae_paper.py provenance <run folder> <train.py flags>``); ``precision``
from the run's saved ``config.yaml``. Runs launched before that was recorded get null there, and
the command their setting names. Where seeds or segments differ, the field says ``a + b`` and
``<field>_per_seed`` gives each seed's.

k-means: scikit-learn's ``KMeans`` on the pixels of the AAE's training split (the pool less the
validation split that ``--data.seed`` draws: the same data module draws both), its clusters named
by the same scorer (:mod:`aegan.metrics.classification`) from the same validation split, the error
on the same 2,000 held-out digits. Its scores are minus the distances to the centroids, so the
paper's rule names a cluster after the validation digit nearest its centroid.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aegan.errors import ConfigError  # noqa: E402

OFFLINE = "--data.name arrays --data.path data/offline/pool.npz --data.test_path data/offline/heldout.npz"
POOL, HELDOUT = "data/offline/pool.npz", "data/offline/heldout.npz"
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

#: k-means on raw pixels: setting -> (what it is, number of clusters, the AAE setting it stands beside)
KMEANS = {"kmeans_16": ("k-means on pixels, 16 clusters", 16, "cluster_16"),
          "kmeans_30": ("k-means on pixels, 30 clusters", 30, "cluster_30")}
#: the order of the JSON's and the page's rows: each k-means row right below its AAE row
ORDER = ["semi_100", "semi_1000", "cluster_16", "kmeans_16", "cluster_30", "kmeans_30"]
PROVENANCE = "provenance.jsonl"
#: train.py flags that say where a run logs, not what it trains (left out of a row's command)
NOT_RECIPE = ("--trainer.logger", "--trainer.logger.save_dir", "--trainer.enable_progress_bar", "--ckpt_path")


def git_commit(root: Path = ROOT) -> str | None:
    """The short hash of the checked-out commit, with ``-dirty`` where tracked files differ from it
    (what runs is then not that commit); None outside a git repository."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                                check=True, timeout=60).stdout.strip()
        changed = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                                 capture_output=True, text=True, check=True, timeout=60).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("-dirty" if changed else "")


def flag_value(args: list[str], flag: str) -> str | None:
    """The value of ``flag`` in a train.py argument list (``--flag value`` or ``--flag=value``)."""
    found = None
    for i, arg in enumerate(args):
        if arg == flag and i + 1 < len(args):
            found = args[i + 1]
        elif arg.startswith(flag + "="):
            found = arg.split("=", 1)[1]
    return found


def device_name(train_args: list[str]) -> str:
    """What a train.py run with these flags trains on: the GPU's name (Lightning's ``auto``
    accelerator takes one where there is one), or the CPU and the torch threads it gets."""
    import torch

    if torch.cuda.is_available() and flag_value(train_args, "--trainer.accelerator") != "cpu":
        return torch.cuda.get_device_name(0)
    threads = torch.get_num_threads()  # OMP_NUM_THREADS, where set
    return f"CPU ({os.cpu_count()} cores), {threads} torch thread{'s' if threads > 1 else ''}"


def write_provenance(run: Path, train_args: list[str]) -> dict:
    """Append what this segment of ``run`` trains on to ``run/provenance.jsonl``: the launcher
    calls this at each launch, right before train.py, with train.py's flags."""
    import torch

    record = {"start": round(time.time()), "commit": git_commit(), "device": device_name(train_args),
              "torch": torch.__version__.split("+")[0], "args": train_args}
    run.mkdir(parents=True, exist_ok=True)
    with open(run / PROVENANCE, "a") as f:
        f.write(json.dumps(record) + "\n")
    return record


def provenance(run: Path) -> list[dict]:
    """The segments' records of a run, oldest first (none for a run launched without them)."""
    path = run / PROVENANCE
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def recipe_command(args: list[str]) -> str:
    """A row's command from a run's train.py flags: the seeds as ``{seed}``, the offline data as
    in :data:`OFFLINE`, and without the flags that only say where it logs."""
    kept, i = [], 0
    while i < len(args):
        name = args[i].split("=", 1)[0]
        takes_value = "=" not in args[i] and i + 1 < len(args) and not args[i + 1].startswith("--")
        value = args[i].split("=", 1)[1] if "=" in args[i] else (args[i + 1] if takes_value else None)
        if name not in NOT_RECIPE:
            if name in ("--seed_everything", "--data.seed"):
                value = "{seed}"
            elif value is not None:
                value = shlex.quote(value)  # '[250]', not a glob, when the command is pasted into a shell
            kept += [name] if value is None else [name, value]
        i += 2 if takes_value else 1
    return "python train.py " + " ".join(kept)


def precisions(run: Path) -> list[str]:
    """The trainer's precision in each segment's saved config, oldest first (Lightning's default,
    ``32-true``, where the config leaves it null)."""
    import yaml

    found = []
    for config in sorted(run.rglob("config.yaml"), key=lambda p: p.stat().st_mtime):
        trainer = (yaml.safe_load(config.read_text()) or {}).get("trainer") or {}
        found.append(str(trainer.get("precision") or "32-true"))
    return found


def one_value(values: list):
    """Several segments' or seeds' values as one field: the value where they agree, else the
    distinct values in order, joined by `` + `` ("unrecorded" for a missing one); None where
    none was recorded."""
    if all(v is None for v in values):
        return None
    distinct = list(dict.fromkeys("unrecorded" if v is None else v for v in values))
    return distinct[0] if len(distinct) == 1 else " + ".join(map(str, distinct))


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
    """The command a setting names (for runs launched without a provenance record)."""
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


WHERE = ("commit", "device", "torch", "precision", "command")


def last_values(runs: Path, setting: str, metric: str) -> dict[str, list]:
    """Per seed with a logged ``metric``: the value after its run's last epoch (``per_seed``),
    ``epochs``, ``wall_s``, ``planned`` epochs, the run folder (``runs``) and what it trained on
    (:data:`WHERE`: one value per seed, over its segments, see :func:`one_value`)."""
    keys = ("seeds", "per_seed", "epochs", "wall_s", "planned", "runs", *WHERE)
    found: dict[str, list] = {key: [] for key in keys}
    for seed, run in runs_of(runs, setting).items():
        points = curve(run, metric)
        if not points:
            continue
        last = max(points)
        segments = provenance(run)
        where = {key: one_value([s.get(key) for s in segments]) for key in ("commit", "device", "torch")}
        where["precision"] = one_value(precisions(run))
        # the newest segment's flags: a resumed segment runs the recipe it was started with
        where["command"] = recipe_command(segments[-1]["args"]) if segments and "args" in segments[-1] else None
        for key, value in (("seeds", seed), ("per_seed", round(points[last], 4)), ("epochs", last + 1),
                           ("wall_s", wall_seconds(runs / f"{run.name}.times", run)),
                           ("planned", planned_epochs(run)), ("runs", run), *where.items()):
            found[key].append(value)
    return found


def read_rows(path: Path) -> dict[str, dict]:
    """The rows of an existing results file, by setting (none where there is no file)."""
    return {row["setting"]: row for row in json.loads(path.read_text())["rows"]} if path.exists() else {}


def write_rows(rows: dict[str, dict], out: Path) -> dict:
    result = {"study": "aae_paper", "protocol": PROTOCOL, "written": time.strftime("%Y-%m-%d"),
              "rows": [rows[s] for s in ORDER if s in rows] + [r for s, r in rows.items() if s not in ORDER]}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    return result


def make_json(runs: Path, out: Path) -> dict:
    """The AAE rows of the settings that have runs in ``runs``, from their logs; every other row
    already in ``out`` stays: the k-means rows (``kmeans`` writes them) and the settings whose runs
    are elsewhere (a study's runs can live in several folders, or a row outlive its machine); rows
    of settings the study no longer has go."""
    rows = {setting: row for setting, row in read_rows(out).items() if setting in SETTINGS or setting in KMEANS}
    for setting, (_, _, _, metric, _) in SETTINGS.items():
        found = last_values(runs, setting, metric)
        seeds, per_seed, epochs, walls, planned = (found[k] for k in ("seeds", "per_seed", "epochs", "wall_s", "planned"))
        if not seeds:
            continue
        majority = []
        if metric == "test/cluster_error":
            for run, epoch in zip(found["runs"], epochs):
                by_majority = curve(run, "test/cluster_error_majority").get(epoch - 1)
                majority.append(None if by_majority is None else round(by_majority, 4))
        row = {"setting": setting, "metric": "test_error", "direction": "min",
               "command": command(setting, max(p or 0 for p in planned) or max(epochs)),
               "seeds": seeds, "per_seed": per_seed, "mean": round(statistics.mean(per_seed), 4),
               "std": round(statistics.stdev(per_seed), 4) if len(per_seed) > 1 else None,
               "epochs": min(epochs), "epochs_per_seed": epochs, "epochs_planned": planned,
               "wall_s": sum(walls), "logged_metric": metric}
        for key in WHERE:  # one value where the seeds agree; each seed's beside it where not
            if key == "command" and all(c is None for c in found[key]):
                continue  # launched without a record: the command the setting names
            row[key] = one_value(found[key])
            if len(set(found[key])) > 1:
                row[f"{key}_per_seed"] = found[key]
        if any(m is not None for m in majority):  # the same clusters named by majority vote instead of the paper's rule
            row["per_seed_majority_rule"] = majority
        rows[setting] = row
    return write_rows(rows, out)


def kmeans_errors(pool: str, heldout: str, clusters: int, seed: int, n_init: int = 10) -> dict:
    """k-means with ``clusters`` centroids on the pixels of the training split that ``--data.seed
    seed`` gives the AAE: the test error of its clusters named from the validation split, by the
    paper's rule and by majority vote, the fit's seconds and the sizes of the splits."""
    import numpy as np
    import torch
    from sklearn.cluster import KMeans

    from aegan.data import AeganDataModule
    from aegan.data.module import to_float
    from aegan.metrics.classification import cluster_error

    if clusters < 2:
        raise ConfigError(f"k-means needs at least 2 clusters, got {clusters}")
    # the data module draws the splits, so they are the AAE run's for the same seed
    data = AeganDataModule("arrays", path=pool, test_path=heldout, seed=seed, labels_per_class=0)
    data.setup()
    pixels = {split: (to_float(data.splits[split].tensors[0]).flatten(1).numpy(), data.splits[split].tensors[1])
              for split in ("train", "val", "test")}
    start = time.perf_counter()
    kmeans = KMeans(n_clusters=clusters, n_init=n_init, random_state=seed).fit(pixels["train"][0])
    seconds = time.perf_counter() - start
    # minus the distance to each centroid: a digit's best cluster is its nearest centroid, and the
    # paper's rule names a cluster after the validation digit nearest its centroid
    scores = {split: torch.from_numpy(-kmeans.transform(x).astype(np.float64)) for split, (x, _) in pixels.items()}
    errors = {rule: cluster_error(scores["val"], pixels["val"][1], scores["test"], pixels["test"][1], rule)
              for rule in ("paper", "majority")}
    return {**errors, "seconds": seconds, "digits": {split: len(x) for split, (x, _) in pixels.items()}}


def make_kmeans(out: Path, pool: str, heldout: str, clusters: list[int], seeds: list[int],
                n_init: int = 10) -> dict:
    """The k-means rows for ``clusters`` over ``seeds``, merged into ``out`` (its other rows stay)."""
    import sklearn
    import torch

    rows = read_rows(out)
    for setting, (_, k, _) in KMEANS.items():
        if k not in clusters:
            continue
        fits = {}
        for seed in seeds:
            fits[seed] = fit = kmeans_errors(pool, heldout, k, seed, n_init)
            print(f"{setting} seed {seed}: {fit['paper']:.4f} by the paper's rule, {fit['majority']:.4f} by "
                  f"majority vote ({fit['digits']} digits, fitted in {fit['seconds']:.0f} s)", flush=True)
        paper = [round(fit["paper"], 4) for fit in fits.values()]
        data = "" if (pool, heldout) == (POOL, HELDOUT) else f" --pool {pool} --heldout {heldout}"
        rows[setting] = {
            "setting": setting, "metric": "test_error", "direction": "min",
            "command": f"python benchmarks/aae_paper.py kmeans --clusters {k} --seeds {' '.join(map(str, seeds))} "
                       f"--n_init {n_init}{data}",
            "seeds": seeds, "per_seed": paper, "mean": round(statistics.mean(paper), 4),
            "std": round(statistics.stdev(paper), 4) if len(paper) > 1 else None,
            "per_seed_majority_rule": [round(fit["majority"], 4) for fit in fits.values()],
            "epochs": None, "digits": fits[seeds[0]]["digits"],
            "device": f"CPU ({os.cpu_count()} cores), OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}",
            "precision": "float32",
            "commit": git_commit(), "wall_s": round(sum(fit["seconds"] for fit in fits.values())),
            "torch": torch.__version__.split("+")[0], "sklearn": sklearn.__version__,
        }
    return write_rows(rows, out)


#: what ``ablations`` reports of each run, after its last epoch: (metric, column)
ABLATION_COLUMNS = [("test/cluster_error", "test error, paper rule"), ("test/cluster_error_majority", "majority"),
                    ("val/confidence", "confidence"), ("val/cluster_changed", "clusters changed"),
                    ("train_epoch/ae/logit_grad", "logit grad, ae"), ("train_epoch/gen/logit_grad", "logit grad, gen")]


def ablation_rows(runs: Path, prefix: str) -> str:
    """A markdown table of the runs ``<runs>/<prefix>*``: each metric of :data:`ABLATION_COLUMNS`
    after the run's last epoch (the logit gradients also after its first: do they vanish?), its
    epochs, seconds per epoch and commit."""
    lines = ["| run | epochs | " + " | ".join(title for _, title in ABLATION_COLUMNS) + " | s/epoch | commit |",
             "| --- " * (len(ABLATION_COLUMNS) + 4) + "|"]
    for run in sorted(p for p in runs.glob(f"{prefix}*") if p.is_dir()):
        curves = {metric: curve(run, metric) for metric, _ in ABLATION_COLUMNS}
        done = max((max(c) + 1 for c in curves.values() if c), default=0)
        cells = []
        for metric, _ in ABLATION_COLUMNS:
            points = curves[metric]
            last = f"{points[max(points)]:.4g}" if points else ""
            if points and "logit_grad" in metric and len(points) > 1:
                last = f"{points[min(points)]:.3g} → {last}"
            cells.append(last)
        wall = wall_seconds(runs / f"{run.name}.times", run)
        per_epoch = f"{wall / done:.0f}" if done and wall else ""
        commit = one_value([s.get("commit") for s in provenance(run)]) or ""
        lines.append(f"| {run.name} | {done} | " + " | ".join(cells) + f" | {per_epoch} | {commit} |")
    return "\n".join(lines)


def make_figure(runs: Path, out: Path, rows: dict[str, dict] | None = None) -> None:
    """Test error by epoch per setting; ``rows``: the JSON's rows, whose k-means means are drawn
    beside their AAE setting."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from matplotlib.ticker import FormatStrFormatter

    drawn = {s: v for s, v in SETTINGS.items() if runs_of(runs, s)}  # a panel per setting with runs here
    if not drawn:
        raise ConfigError(f"no runs of {', '.join(SETTINGS)} in {runs}")
    rows_n = (len(drawn) + 1) // 2
    fig, axes = plt.subplots(rows_n, 2, figsize=(10, 3.75 * rows_n), squeeze=False)
    for ax in axes.flat[len(drawn):]:
        ax.axis("off")
    for ax, (setting, (title, _, _, metric, (paper, paper_std))) in zip(axes.flat, drawn.items()):
        for seed, run in runs_of(runs, setting).items():
            points = curve(run, metric)
            if points:
                ax.plot([e + 1 for e in points], [100 * v for v in points.values()], lw=1.2,
                        label=f"aegan, seed {seed} ({100 * points[max(points)]:.2f}% at epoch {max(points) + 1})")
        ax.axhline(paper, color="k", ls="--", lw=1, label=f"paper: {paper}% ± {paper_std} (final, 50k pool)")
        ax.axhspan(paper - paper_std, paper + paper_std, color="k", alpha=0.08)
        ax.axhline(BARS[setting], color="tab:red", ls=":", lw=1.2, label=f"bar of issue 13: {BARS[setting]}%")
        for name, (kmeans_title, _, beside) in KMEANS.items():
            row = (rows or {}).get(name)
            if beside == setting and row:
                ax.axhline(100 * row["mean"], color="tab:gray", ls="-.", lw=1.2,
                           label=f"{kmeans_title}: {100 * row['mean']:.2f}% (mean of {len(row['seeds'])} seeds)")
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


#: the study's page, whose rows ``page`` writes between BEGIN and END
PAGE = ROOT / "docs" / "results" / "aae_paper.md"
BEGIN, END = "<!-- aae_paper rows: made by benchmarks/aae_paper.py page -->", "<!-- /aae_paper rows -->"


def summary(values: list[float], seeds: list[int], averaged: bool = True) -> str:
    """``mean% ± std (seeds [..]: a%, b%)``; the values alone for one seed, or where no mean is
    meant (``averaged`` False: runs of different lengths)."""
    errors = ", ".join(f"{100 * e:.2f}%" for e in values)
    if len(values) == 1:
        return f"{errors} (seed {seeds[0]})"
    if not averaged:
        return f"seeds {seeds}: {errors}"
    return f"{100 * statistics.mean(values):.2f}% ± {100 * statistics.stdev(values):.2f} (seeds {seeds}: {errors})"


def brief(values: list[float], seeds: list[int], averaged: bool = True) -> tuple[str, str]:
    """:func:`summary` for the README's headline table, as (number, seeds): the same mean and
    spread, the seeds counted."""
    if len(values) == 1:
        return f"{100 * values[0]:.2f}%", f"seed {seeds[0]}"
    if not averaged:
        return ", ".join(f"{100 * e:.2f}%" for e in values), f"seeds {seeds}"
    return f"{100 * statistics.mean(values):.2f}% ± {100 * statistics.stdev(values):.2f}", f"{len(values)} seeds"


def headline_rows(result: dict) -> list[dict]:
    """The README's headline rows of the AAE settings (test error, the paper's, issue 13's bar),
    each clustering row with its k-means baseline; the k-means rows themselves stay on the page."""
    rows = {row["setting"]: row for row in result["rows"]}
    out = []
    for setting, row in rows.items():
        if setting not in SETTINGS:
            continue
        title, _, _, _, (paper_mean, paper_std) = SETTINGS[setting]
        epochs = row["epochs_per_seed"]
        number, seeds = brief(row["per_seed"], row["seeds"], len(set(epochs)) == 1)
        done = "/".join(map(str, epochs)) if len(set(epochs)) > 1 else str(epochs[0])
        planned = [p for p in row.get("epochs_planned") or [] if p]
        if any(p > e for p, e in zip(row.get("epochs_planned") or [], epochs) if p):
            done += f" of {max(planned)} planned"
        ours = f"test error {number} ({seeds}, {done} epochs)"
        for name, (_, _, beside) in KMEANS.items():
            if beside == setting and name in rows:
                ours += "; k-means on pixels {} ({})".format(*brief(rows[name]["per_seed"], rows[name]["seeds"]))
        out.append({"setting": title, "ours": ours, "paper": f"{paper_mean}% ± {paper_std}",
                    "bar": f"≤ {BARS[setting]}%" if setting in BARS else "—"})
    return out


def page_rows(result: dict) -> str:
    lines = ["| setting | command (`$OFFLINE` above; seeds as listed) | ours: test error | paper (50,000-digit pool) |",
             "| --- | --- | --- | --- |"]
    for row in result["rows"]:
        command_text = row["command"].replace(OFFLINE, "$OFFLINE")
        if row["setting"] in KMEANS:
            title, paper = KMEANS[row["setting"]][0], "not reported"
            averaged = True
        else:
            title, _, _, _, (paper_mean, paper_std) = SETTINGS[row["setting"]]
            paper = f"{paper_mean}% ± {paper_std}"
            averaged = len(set(row["epochs_per_seed"])) == 1  # a mean over runs of different lengths means little
        ours = summary(row["per_seed"], row["seeds"], averaged)
        majority = row.get("per_seed_majority_rule")
        if majority and None not in majority:
            ours += f"; by majority vote {summary(majority, row['seeds'], averaged)}"
        if row["setting"] not in KMEANS:
            done = "/".join(str(e) for e in row["epochs_per_seed"])
            planned = row["epochs_planned"]
            if any(p and p > e for p, e in zip(planned, row["epochs_per_seed"])):
                done += f" of {max(p or 0 for p in planned)} planned"
            on_gpu = row.get("device") and "CPU" not in row["device"]
            ours += f" after {done} epochs, {'GPU' if on_gpu else 'CPU'}"
        lines.append(f"| {title} | `{command_text}` | {ours} | {paper} |")
    return "\n".join(lines)


def update_page(result: dict, page: Path = PAGE) -> None:
    """Replace the rows between the markers of ``page`` (the study's page) with the JSON's."""
    text = page.read_text()
    if BEGIN not in text or END not in text:
        sys.exit(f"{page} has no {BEGIN} ... {END} block to fill (the rows live in {PAGE.relative_to(ROOT)})")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    page.write_text(f"{head}{BEGIN}\n{page_rows(result)}\n{END}{tail}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["json", "kmeans", "figure", "page", "readme", "ablations", "provenance"],
                        help="page (readme: its old name): the rows of the study's page, from the JSON")
    parser.add_argument("run", nargs="?", type=Path,
                        help="provenance: the run's folder (runs/paper/NAME); train.py's flags follow it")
    parser.add_argument("--runs", type=Path, default=ROOT / "runs/paper", help="one folder per <setting>_s<seed>")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks/results/aae_paper.json")
    parser.add_argument("--figure", type=Path, default=ROOT / "docs/aae_paper_curves.png")
    parser.add_argument("--page", type=Path, default=PAGE, help="the page whose rows page writes")
    parser.add_argument("--pool", default=POOL, help="kmeans: the training pool (.npz), as --data.path")
    parser.add_argument("--heldout", default=HELDOUT,
                        help="kmeans: the held-out digits (.npz), as --data.test_path")
    parser.add_argument("--clusters", type=int, nargs="+", default=[16, 30], help="kmeans: 16 and/or 30")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="kmeans: each as --data.seed")
    parser.add_argument("--n_init", type=int, default=10, help="kmeans: k-means++ restarts; the best fit counts")
    parser.add_argument("--prefix", default="abl_", help="ablations: the runs <runs>/<prefix>* to report")
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["provenance"]:  # train.py's flags pass through untouched
        if len(argv) < 2 or argv[1].startswith("-"):
            sys.exit("error: provenance needs the run's folder: "
                     "aae_paper.py provenance runs/paper/NAME [train.py flags]")
        print(json.dumps(write_provenance(Path(argv[1]), argv[2:])))
        return
    args = parser.parse_args(argv)
    try:
        if args.what == "json":
            print(json.dumps(make_json(args.runs, args.json), indent=2))
        elif args.what == "kmeans":
            unknown = sorted(set(args.clusters) - {k for _, k, _ in KMEANS.values()})
            if unknown:
                raise ConfigError(f"no k-means row for {unknown[0]} clusters; valid choices: 16, 30")
            if args.n_init < 1:
                raise ConfigError(f"--n_init must be at least 1, got {args.n_init}")
            make_kmeans(args.json, args.pool, args.heldout, args.clusters, args.seeds, args.n_init)
            print(args.json)
        elif args.what == "figure":
            make_figure(args.runs, args.figure, read_rows(args.json))
            print(args.figure)
        elif args.what == "ablations":
            print(ablation_rows(args.runs, args.prefix))
        elif args.what in ("page", "readme"):
            update_page(json.loads(args.json.read_text()), args.page)
            print(f"{args.page}: rows from {args.json}; the README's headline table: python benchmarks/headlines.py")
        else:
            parser.error("provenance takes the run's folder first: aae_paper.py provenance runs/paper/NAME")
    except ConfigError as error:  # bad input: one line, no traceback
        sys.exit(f"error: {error}")


if __name__ == "__main__":
    main()
