"""Seeded studies from their runs' CSV logs: InfoGAN's code accuracy and the toy mode coverage.

Each run trains with the CSV logger into ``<runs>/<setting>_s<seed>``. ``run`` starts (or
resumes) the runs of a setting as the study defines them, one torch thread each, recording what
each segment trains on in ``<run>/provenance.jsonl`` (commit, device, torch, flags; written
before it trains, :func:`aae_paper.write_provenance`) and its wall-clock segments
(``<setting>_s<seed>.times``)::

    python benchmarks/studies.py run modes pacgan4_grid --seeds 0 1 2      # runs/studies/pacgan4_grid_s{0,1,2}
    python benchmarks/studies.py commands modes                            # every setting's command

Then, for STUDY ``infogan`` or ``modes``::

    python benchmarks/studies.py json STUDY --runs runs/studies     # benchmarks/results/STUDY.json
    python benchmarks/studies.py page STUDY                      # the rows of docs/results/STUDY.md, from the JSON
    python benchmarks/headlines.py                               # then the README's headline table
    python benchmarks/studies.py figure modes --runs runs/studies    # docs/modes_samples.png

A run's number is the one logged after its last completed epoch (never the best epoch, which
would choose on the test data): InfoGAN's ``test/q_accuracy`` on the 2,000 held-out digits
(Q's code matched one to one to the digits, Q reading them with the BatchNorm statistics of the
fakes it trains on), and the ``eval/modes_covered``, ``eval/high_quality`` and
``eval/reverse_kl`` of 2,500 samples for the toy mixtures (VEEGAN / PacGAN protocol).

GAN, PacGAN2 and PacGAN4 on the grid train at equal updates, as PacGAN's own runs do: every
step takes 100 packs (batch 100 m for packs of m), so an epoch of the 90,000 training points
has 900 / m steps, and PacGAN_m trains m times the epochs, with its learning-rate cut m times
later: 25,200 steps each, the cut after 11,700 (:func:`equal_updates`).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from aae_paper import OFFLINE, WHERE, last_values, one_value, runs_of, write_provenance  # noqa: E402

MODE_METRICS = {"modes": ("eval/modes_covered", "max"), "high_quality": ("eval/high_quality", "max"),
                "reverse_kl": ("eval/reverse_kl", "min")}
#: the toy grid's training points (configs gan_toy, pacgan_toy: 100,000 points, 10% held out)
GRID_POINTS = 90_000
#: gan_toy's recipe: 28 epochs of 900 steps, the learning rates / 10 after epoch 13
GAN_TOY_EPOCHS, GAN_TOY_MILESTONE = 28, 13


@dataclass(frozen=True)
class Setting:
    """One row group of a study: what it is, its flags to ``train.py``, the epochs it trains,
    {metric: (logged metric, direction)}, the paper's number and the issue's bar."""
    what: str
    flags: str
    epochs: int
    metrics: dict = field(default_factory=lambda: MODE_METRICS)
    paper: str = "—"
    bar: str = "—"
    steps: int | None = None  # optimizer steps per phase, where a study compares at equal updates

    def command(self, epochs: int | None = None) -> str:
        return (f"python train.py {self.flags} --seed_everything {{seed}} --data.seed {{seed}} "
                f"--trainer.max_epochs {epochs or self.epochs}")


def equal_updates(pack: int, config: str = "gan_toy", epochs: int = GAN_TOY_EPOCHS,
                  milestone: int | None = GAN_TOY_MILESTONE) -> tuple[str, int, int]:
    """(flags, epochs, steps) of PacGAN_``pack`` at the plain GAN's updates: 100 packs per step,
    ``pack`` times the epochs and the milestone of the GAN's ``epochs`` and ``milestone``."""
    steps_per_epoch = GRID_POINTS // (100 * pack)
    if GRID_POINTS % (100 * pack):
        raise ValueError(f"pack {pack} does not divide the grid's {GRID_POINTS} points into whole steps of 100 packs")
    flags = f"--model {config}"
    if pack > 1:
        flags += f" --model.pack {pack} --data.batch_size {100 * pack}"
        if milestone is not None:
            flags += f" --model.lr_milestones [{milestone * pack}]"
    return flags, epochs * pack, epochs * pack * steps_per_epoch


def _equal(what: str, pack: int, paper: str, bar: str = "—", **kwargs) -> Setting:
    flags, epochs, steps = equal_updates(pack, **kwargs)
    return Setting(what, flags, epochs, paper=paper, bar=bar, steps=steps)


#: PacGAN's Table 1 (10 trials, 400,000 steps): modes / high quality / reverse KL
PACGAN_TABLE = {1: "17.3 modes, 94.8%, reverse KL 0.70", 2: "23.8 modes, 91.3%, reverse KL 0.13",
                4: "24.8 modes, 93.6%, reverse KL 0.04"}
#: PacGAN's own nets, one setting: PacGAN4 for 100 of the plain GAN's epochs, 90,000 steps (400 epochs of
#: 225), 44 CPU-minutes on one thread; their runs make 400,000 (--train_args "--trainer.max_epochs 1778", 3.3 h)
PAPER_NETS_EPOCHS = 100
GRID_BAR = "≥ 24 modes, ≥ 90% (one method)"

STUDIES = {
    "infogan": {
        "protocol": "offline MNIST: train on mnist5k + the first 6,000 digits of mnist-test-8k.npz, test on its "
                    "last 2,000 digits; Q's categorical code matched one to one to the digits, Q reading them "
                    "with the BatchNorm statistics of the fakes it trains on (q_statistics fakes)",
        "settings": {
            # 65 epochs of 77 steps of batch 128: 5,005 steps, the official run's 5,000
            "infogan": Setting("InfoGAN, official recipe", f"--model infogan {OFFLINE}", 65,
                               {"code_accuracy": ("test/q_accuracy", "max")}, "about 95% (5% error; full MNIST)",
                               "≥ 95%"),
        },
    },
    "modes": {
        "protocol": "2-D Gaussian mixtures (grid: 25 modes, std 0.05; ring: 8 modes, std 0.02); 2,500 samples; "
                    "high quality: within 3 std of a mode; covered: nearest mode of a high-quality sample; reverse "
                    "KL: of the high-quality samples' shares of the modes to uniform. GAN and PacGAN_m on the grid "
                    "at equal updates: 100 packs per step, 25,200 steps, lr / 10 after 11,700",
        "settings": {
            "gan_grid": _equal("GAN, grid", 1, PACGAN_TABLE[1], GRID_BAR),
            "pacgan2_grid": _equal("PacGAN2 (GAN, pack 2), grid", 2, PACGAN_TABLE[2], GRID_BAR),
            "pacgan4_grid": _equal("PacGAN4 (GAN, pack 4), grid", 4, PACGAN_TABLE[4], GRID_BAR),
            "pacgan4_grid_paper_nets": _equal(
                "PacGAN4 with PacGAN's own nets and optimiser (pacgan_toy), grid", 4, PACGAN_TABLE[4], GRID_BAR,
                config="pacgan_toy", epochs=PAPER_NETS_EPOCHS, milestone=None),
            "alpha_gan_grid": Setting("alpha-GAN, grid", "--model alpha_gan_toy", 35, bar=GRID_BAR),
            "ali_grid": Setting("ALI, grid", "--model ali_toy", 28, paper="24.1 modes, 95.7%", bar=GRID_BAR),
            "gan_ring": Setting("GAN, ring", "--model gan_toy --data.name toy_ring --model.lr_milestones [7]", 14,
                                bar="8 modes"),
            "alpha_gan_ring": Setting("alpha-GAN, ring",
                                      "--model alpha_gan_toy --data.name toy_ring --model.lr_milestones [14]", 20,
                                      bar="8 modes"),
        },
    },
}
#: each study's page, whose rows ``page STUDY`` writes between BEGIN and END
PAGES = ROOT / "docs" / "results"
BEGIN, END = "<!-- {study} rows: made by benchmarks/studies.py page {study} -->", "<!-- /{study} rows -->"


def _finite(values: list[float]) -> bool:
    return all(math.isfinite(v) for v in values)


def make_json(study: str, runs: Path, out: Path) -> dict:
    import torch

    # a setting without runs here keeps its rows from ``out`` (its runs can live in another folder,
    # or a row outlive its machine); rows of settings the study no longer has go
    kept = json.loads(out.read_text())["rows"] if out.exists() else []
    rows = []
    for name, setting in STUDIES[study]["settings"].items():
        if not runs_of(runs, name):
            rows += [row for row in kept if row["setting"] == name]
            continue
        for metric, (logged, direction) in setting.metrics.items():
            found = last_values(runs, name, logged)
            seeds, per_seed, epochs, walls, planned = (
                found[k] for k in ("seeds", "per_seed", "epochs", "wall_s", "planned"))
            if not seeds:
                continue
            # reverse KL is infinite where no sample is high quality: kept out of JSON as null
            finite = _finite(per_seed)
            row = {
                "setting": name, "what": setting.what, "metric": metric, "direction": direction,
                # the command the runs recorded (a longer run through --train_args reads true), else the setting's
                "command": one_value(found["command"]) or setting.command(max(epochs)), "seeds": seeds,
                "per_seed": [v if math.isfinite(v) else None for v in per_seed],
                "mean": round(statistics.mean(per_seed), 4) if finite else None,
                "std": round(statistics.stdev(per_seed), 4) if finite and len(per_seed) > 1 else None,
                "epochs": min(epochs), "epochs_per_seed": epochs, "epochs_planned": planned,
                "steps": None if setting.steps is None else setting.steps * min(epochs) // setting.epochs,
                "device": one_value(found["device"]) or "CPU, 2 cores (shared)",
                "precision": one_value(found["precision"]), "commit": one_value(found["commit"]),
                "wall_s": sum(walls), "torch": one_value(found["torch"]) or torch.__version__.split("+")[0],
                "logged_metric": logged, "paper": setting.paper, "bar": setting.bar}
            for key in WHERE:  # each seed's value beside, where the seeds differ
                if len(set(found[key])) > 1:
                    row[f"{key}_per_seed"] = found[key]
            rows.append(row)
    result = {"study": study, "protocol": STUDIES[study]["protocol"], "written": time.strftime("%Y-%m-%d"),
              "rows": rows}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, allow_nan=False) + "\n")
    return result


def _value(metric: str, value: float | None) -> str:
    if value is None:
        return "∞"
    if metric == "modes":
        return f"{value:.1f}"
    return f"{value:.2f}" if metric == "reverse_kl" else f"{100 * value:.1f}%"


def _mean(metric: str, row: dict) -> str:
    """The mean, ``± std`` where there is one (in points for the fractions shown as percentages)."""
    if row["std"] is None:
        return _value(metric, row["mean"])
    if metric == "modes":
        std = f"{row['std']:.1f}"
    else:
        std = f"{row['std']:.2f}" if metric == "reverse_kl" else f"{100 * row['std']:.1f}"
    return f"{_value(metric, row['mean'])} ± {std}"


def _spread(metric: str, row: dict) -> str:
    if len(row["seeds"]) == 1:
        return f"{_value(metric, row['mean'])} (seed {row['seeds'][0]})"
    per_seed = ", ".join(_value(metric, v) for v in row["per_seed"])
    return f"{_mean(metric, row)} (seeds {row['seeds']}: {per_seed})"


def _by_setting(result: dict) -> dict[str, list[dict]]:
    by_setting: dict[str, list[dict]] = {}
    for row in result["rows"]:
        by_setting.setdefault(row["setting"], []).append(row)
    return by_setting


def paper_and_bar(study: str, row: dict) -> tuple[str, str]:
    """The paper's number and the bar of a row's setting: the study's settings (:data:`STUDIES`),
    or what the row recorded where its setting is no longer one of them."""
    setting = STUDIES.get(study, {}).get("settings", {}).get(row["setting"])
    if setting is not None:
        return setting.paper, setting.bar
    return row.get("paper") or "—", row.get("bar") or "—"


def headline_rows(result: dict) -> list[dict]:
    """The README's headline rows: per setting, each metric's mean (± std over the seeds), the
    seeds and epochs, the paper's number and the bar."""
    names = {"modes": "{} modes", "high_quality": "{} high quality", "reverse_kl": "reverse KL {}"}
    out = []
    for rows in _by_setting(result).values():
        first = rows[0]
        numbers = ", ".join(names.get(r["metric"], r["metric"].replace("_", " ") + " {}").format(_mean(r["metric"], r))
                            for r in rows)
        seeds = f"seed {first['seeds'][0]}" if len(first["seeds"]) == 1 else f"{len(first['seeds'])} seeds"
        epochs = first["epochs_per_seed"]
        epochs = "/".join(map(str, epochs)) if len(set(epochs)) > 1 else str(epochs[0])
        steps = f", {first['steps']:,} steps" if first.get("steps") else ""
        paper, bar = paper_and_bar(result["study"], first)
        out.append({"setting": first["what"], "ours": f"{numbers} ({seeds}, {epochs} epochs{steps})",
                    "paper": paper, "bar": bar})
    return out


def page_rows(result: dict) -> str:
    lines = ["| setting | command (seeds as listed) | ours | paper | bar |", "| --- | --- | --- | --- | --- |"]
    for rows in _by_setting(result).values():
        ours = "; ".join(f"{r['metric'].replace('_', ' ')} {_spread(r['metric'], r)}" for r in rows)
        epochs = "/".join(str(e) for e in rows[0]["epochs_per_seed"])
        steps = f" ({rows[0]['steps']:,} steps)" if rows[0].get("steps") else ""
        lines.append(f"| {rows[0]['what']} | `{rows[0]['command']}` | {ours}, after {epochs} epochs{steps}, "
                     f"{rows[0]['device']}, {rows[0].get('precision') or '32-true'} | "
                     f"{' | '.join(paper_and_bar(result['study'], rows[0]))} |")
    return "\n".join(lines)


def update_page(study: str, result: dict, page: Path | None = None) -> None:
    """Replace the rows between the study's markers of ``page`` (default: its page) with the JSON's."""
    begin, end = BEGIN.format(study=study), END.format(study=study)
    page = page or PAGES / f"{study}.md"
    text = page.read_text()
    if begin not in text or end not in text:
        raise SystemExit(f"error: {page} has no {begin} ... {end} block "
                         f"(the rows live in {(PAGES / f'{study}.md').relative_to(ROOT)})")
    head, rest = text.split(begin, 1)
    page.write_text(f"{head}{begin}\n{page_rows(result)}\n{end}{rest.split(end, 1)[1]}")


def run_setting(study: str, name: str, seeds: list[int], runs: Path, threads: int, extra: list[str],
                dry_run: bool = False) -> list[int]:
    """Train (or resume, where a checkpoint exists) each seed of a setting in turn, one process
    each; returns their exit codes."""
    import torch

    setting = STUDIES[study]["settings"][name]
    codes = []
    for seed in seeds:
        run = runs / f"{name}_s{seed}"
        resume = ["--ckpt_path", "last"] if any(run.glob("**/checkpoints/last.ckpt")) else []
        args = [*shlex.split(setting.command().replace("{seed}", str(seed)))[2:], *extra,
                "--trainer.logger", "lightning.pytorch.loggers.CSVLogger", "--trainer.logger.save_dir", str(run),
                "--trainer.enable_progress_bar", "false", *resume]
        command = [sys.executable, str(ROOT / "train.py"), *args]
        print(f"[{name} seed {seed}] {shlex.join(['python', 'train.py', *args])}", flush=True)
        if dry_run:
            continue
        if threads:
            torch.set_num_threads(threads)  # the device record names the threads the run gets
        write_provenance(run, args)
        times = runs / f"{run.name}.times"
        with open(times, "a") as f:
            f.write(f"start {time.time():.0f}\n")
        env = os.environ | ({"OMP_NUM_THREADS": str(threads)} if threads else {})
        with open(runs / f"{run.name}.log", "a") as log:
            code = subprocess.run(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT).returncode
        with open(times, "a") as f:
            f.write(f"end {time.time():.0f} rc {code}\n")
        codes.append(code)
    return codes


def make_figure(runs: Path, out: Path, seed: int = 0) -> None:
    """2,500 samples of each mode-coverage setting's seed-``seed`` run over the mixture's modes
    (red circles), titled with the scores of these samples (fresh draws: they differ a little
    from the logged ones)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import torch

    import aegan
    from aegan.data.toy import TOY_STD, toy_modes
    from aegan.metrics.modes import mode_coverage

    settings = [s for s in STUDIES["modes"]["settings"] if (runs / f"{s}_s{seed}").is_dir()]
    fig, axes = plt.subplots(1, len(settings), figsize=(3.2 * len(settings), 3.9), squeeze=False)
    for ax, setting in zip(axes[0], settings):
        checkpoint = sorted((runs / f"{setting}_s{seed}").rglob("last.ckpt"), key=lambda p: p.stat().st_mtime)[-1]
        model = aegan.load(checkpoint)
        data = "toy_ring" if setting.endswith("_ring") else "toy_grid"
        torch.manual_seed(seed)
        samples = model.sample(2500).numpy()
        modes = toy_modes(data)
        scores = mode_coverage(torch.as_tensor(samples), torch.as_tensor(modes), TOY_STD[data])
        ax.scatter(samples[:, 0], samples[:, 1], s=1, c="k", alpha=0.4)
        ax.scatter(modes[:, 0], modes[:, 1], s=30, facecolors="none", edgecolors="tab:red")
        ax.set_title(f"{STUDIES['modes']['settings'][setting].what}\n{scores['modes_covered']} modes, "
                     f"{100 * scores['high_quality']:.0f}% high quality, reverse KL {scores['reverse_kl']:.2f}",
                     fontsize=9)
        limit = 1.6 * abs(modes).max()
        ax.set_xlim(-limit, limit)
        ax.set_ylim(-limit, limit)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout(pad=1.5)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110, bbox_inches="tight")
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["json", "page", "readme", "figure", "run", "commands"],
                        help="page (readme: its old name): the rows of docs/results/STUDY.md, from the JSON")
    parser.add_argument("study", choices=list(STUDIES))
    parser.add_argument("setting", nargs="?", help="run: the setting to train")
    parser.add_argument("--runs", type=Path, default=ROOT / "runs" / "studies")
    parser.add_argument("--out", type=Path, help="default: benchmarks/results/STUDY.json (docs/modes_samples.png)")
    parser.add_argument("--page", type=Path, help="page: the file to write the rows into (default: "
                                                  "docs/results/STUDY.md)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="run: the seeds, one after another")
    parser.add_argument("--threads", type=int, default=1, help="run: OMP threads per run (0: torch's default)")
    parser.add_argument("--train_args", default="", help="run: flags added to every training command (quoted)")
    parser.add_argument("--dry_run", action="store_true", help="run: print the commands only")
    args = parser.parse_args(argv)
    settings = STUDIES[args.study]["settings"]
    if args.what == "run" and args.setting not in settings:
        parser.error(f"unknown setting {args.setting!r} of study {args.study}; valid choices: {', '.join(settings)}")
    results = args.out or ROOT / "benchmarks" / "results" / f"{args.study}.json"
    if args.what == "json":
        result = make_json(args.study, args.runs, results)
        print(page_rows(result))
    elif args.what in ("page", "readme"):
        update_page(args.study, json.loads(results.read_text()), args.page)
        print(f"{args.page or PAGES / (args.study + '.md')}: rows from {results}; "
              "the README's headline table: python benchmarks/headlines.py")
    elif args.what == "run":
        codes = run_setting(args.study, args.setting, args.seeds, args.runs, args.threads,
                            shlex.split(args.train_args), args.dry_run)
        sys.exit(max(codes, default=0))
    elif args.what == "commands":
        for name, setting in settings.items():
            steps = f" ({setting.steps:,} steps)" if setting.steps else ""
            print(f"{name}{steps}: {setting.command()}")
    elif args.study == "modes":
        make_figure(args.runs, args.out or ROOT / "docs" / "modes_samples.png")
    else:
        parser.error("the InfoGAN figure is the run's code traversal (docs/infogan_traversal.png)")


if __name__ == "__main__":
    main()
