"""Seeded studies from their runs' CSV logs: InfoGAN's code accuracy and the toy mode coverage.

Each run trains with the CSV logger into ``<runs>/<setting>_s<seed>`` (``runs/bg.sh``-style
launchers also write ``<setting>_s<seed>.times``, the wall-clock segments), e.g.::

    python train.py --model gan_toy --model.pack 4 --seed_everything 0 --data.seed 0 \\
        --trainer.logger lightning.pytorch.loggers.CSVLogger --trainer.logger.save_dir runs/studies/pacgan_grid_s0

Then, for STUDY ``infogan`` or ``modes``::

    python benchmarks/studies.py json STUDY --runs runs/studies     # benchmarks/results/STUDY.json
    python benchmarks/studies.py readme STUDY                    # the README's rows, from the JSON
    python benchmarks/studies.py figure modes --runs runs/studies    # docs/modes_samples.png

A run's number is the one logged after its last completed epoch (never the best epoch, which
would choose on the test data): InfoGAN's ``test/q_accuracy`` on the 2,000 held-out digits
(Q's code matched one to one to the digits), and the ``eval/modes_covered`` and
``eval/high_quality`` of 2,500 samples for the toy mixtures (VEEGAN / PacGAN protocol).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from aae_paper import OFFLINE, last_values  # noqa: E402

MODE_METRICS = {"modes": ("eval/modes_covered", "max"), "high_quality": ("eval/high_quality", "max")}
# study -> protocol, and setting -> (what it is, command flags, {metric: (logged metric, direction)},
# the paper's number, the bar of issue 15)
STUDIES = {
    "infogan": {
        "protocol": "offline MNIST: train on mnist5k + the first 6,000 digits of mnist-test-8k.npz, test on its "
                    "last 2,000 digits; Q's categorical code matched one to one to the digits",
        "settings": {
            "infogan": ("InfoGAN, official recipe", f"--model infogan {OFFLINE}",
                        {"code_accuracy": ("test/q_accuracy", "max")}, "about 95% (5% error; full MNIST)",
                        "≥ 95%"),
        },
    },
    "modes": {
        "protocol": "2-D Gaussian mixtures (grid: 25 modes, std 0.05; ring: 8 modes, std 0.02); 2,500 samples; "
                    "high quality: within 3 std of a mode; covered: nearest mode of a high-quality sample",
        "settings": {
            "gan_grid": ("GAN, grid", "--model gan_toy", MODE_METRICS, "17.3 modes, 94.8%", "≥ 24 modes, ≥ 90%"),
            "pacgan_grid": ("PacGAN4 (GAN, pack 4), grid",
                            "--model gan_toy --model.pack 4 --data.batch_size 400 --model.lr_milestones [7]",
                            MODE_METRICS, "24.8 modes, 93.6%", "—"),
            "alpha_gan_grid": ("alpha-GAN, grid", "--model alpha_gan_toy", MODE_METRICS, "—", "≥ 24 modes, ≥ 90%"),
            "ali_grid": ("ALI, grid", "--model ali_toy", MODE_METRICS, "24.1 modes, 95.7%", "≥ 24 modes, ≥ 90%"),
            "gan_ring": ("GAN, ring", "--model gan_toy --data.name toy_ring --model.lr_milestones [7]",
                         MODE_METRICS, "—", "8 modes"),
            "alpha_gan_ring": ("alpha-GAN, ring",
                               "--model alpha_gan_toy --data.name toy_ring --model.lr_milestones [14]",
                               MODE_METRICS, "—", "8 modes"),
        },
    },
}
BEGIN, END = "<!-- {study} rows: made by benchmarks/studies.py readme {study} -->", "<!-- /{study} rows -->"


def make_json(study: str, runs: Path, out: Path) -> dict:
    import torch

    rows = []
    for setting, (what, flags, metrics, paper, bar) in STUDIES[study]["settings"].items():
        for metric, (logged, direction) in metrics.items():
            found = last_values(runs, setting, logged)
            seeds, per_seed, epochs, walls, planned = (found[k] for k in ("seeds", "per_seed", "epochs", "wall_s",
                                                                          "planned"))
            if not seeds:
                continue
            rows.append({"setting": setting, "what": what, "metric": metric, "direction": direction,
                         "command": f"python train.py {flags} --seed_everything {{seed}} --data.seed {{seed}} "
                                    f"--trainer.max_epochs {max(epochs)}", "epochs_planned": planned,
                         "seeds": seeds, "per_seed": per_seed, "mean": round(statistics.mean(per_seed), 4),
                         "std": round(statistics.stdev(per_seed), 4) if len(per_seed) > 1 else None,
                         "epochs": min(epochs), "epochs_per_seed": epochs, "device": "CPU, 2 cores (shared)",
                         "wall_s": sum(walls), "torch": torch.__version__.split("+")[0], "logged_metric": logged,
                         "paper": paper, "bar": bar})
    result = {"study": study, "protocol": STUDIES[study]["protocol"], "written": time.strftime("%Y-%m-%d"),
              "rows": rows}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    return result


def _value(metric: str, value: float) -> str:
    return f"{value:.1f}" if metric == "modes" else f"{100 * value:.1f}%"


def _spread(metric: str, row: dict) -> str:
    if row["std"] is None:
        return f"{_value(metric, row['mean'])} (seed {row['seeds'][0]})"
    std = f"{row['std']:.1f}" if metric == "modes" else f"{100 * row['std']:.1f}"
    per_seed = ", ".join(_value(metric, v) for v in row["per_seed"])
    return f"{_value(metric, row['mean'])} ± {std} (seeds {row['seeds']}: {per_seed})"


def readme_rows(result: dict) -> str:
    by_setting: dict[str, list[dict]] = {}
    for row in result["rows"]:
        by_setting.setdefault(row["setting"], []).append(row)
    lines = ["| setting | command (seeds as listed) | ours | paper | bar |", "| --- | --- | --- | --- | --- |"]
    for setting, rows in by_setting.items():
        ours = "; ".join(f"{r['metric'].replace('_', ' ')} {_spread(r['metric'], r)}" for r in rows)
        epochs = "/".join(str(e) for e in rows[0]["epochs_per_seed"])
        lines.append(f"| {rows[0]['what']} | `{rows[0]['command']}` | {ours}, after {epochs} epochs, CPU "
                     f"| {rows[0]['paper']} | {rows[0]['bar']} |")
    return "\n".join(lines)


def update_readme(study: str, result: dict, readme: Path) -> None:
    begin, end = BEGIN.format(study=study), END.format(study=study)
    text = readme.read_text()
    if begin not in text or end not in text:
        raise SystemExit(f"error: {readme} has no {begin} ... {end} block")
    head, rest = text.split(begin, 1)
    readme.write_text(f"{head}{begin}\n{readme_rows(result)}\n{end}{rest.split(end, 1)[1]}")


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
        ax.set_title(f"{STUDIES['modes']['settings'][setting][0]}\n{scores['modes_covered']} modes, "
                     f"{100 * scores['high_quality']:.0f}% high quality", fontsize=9)
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
    parser.add_argument("what", choices=["json", "readme", "figure"])
    parser.add_argument("study", choices=list(STUDIES))
    parser.add_argument("--runs", type=Path, default=ROOT / "runs" / "studies")
    parser.add_argument("--out", type=Path, help="default: benchmarks/results/STUDY.json (docs/modes_samples.png)")
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md")
    args = parser.parse_args(argv)
    results = args.out or ROOT / "benchmarks" / "results" / f"{args.study}.json"
    if args.what == "json":
        result = make_json(args.study, args.runs, results)
        print(readme_rows(result))
    elif args.what == "readme":
        update_readme(args.study, json.loads(results.read_text()), args.readme)
    elif args.study == "modes":
        make_figure(args.runs, args.out or ROOT / "docs" / "modes_samples.png")
    else:
        parser.error("the InfoGAN figure is the run's code traversal (docs/infogan_traversal.png)")


if __name__ == "__main__":
    main()
