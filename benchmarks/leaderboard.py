"""One leaderboard for every image model, on the offline MNIST protocol, at one budget.

Trains each model for the same number of epochs (``--epochs``, at least 5; or takes a finished
checkpoint), scores every one with ``aegan.evaluate`` on the held-out digits, and writes the
JSON, a figure of samples side by side and, with ``--page``, the table of the study's page
(``docs/results/leaderboard.md``); ``page`` writes that table again from the JSON alone:

    python benchmarks/offline_mnist.py mnist-test-8k.npz --out data/offline
    python benchmarks/leaderboard.py --pool data/offline/pool.npz --heldout data/offline/heldout.npz \
        --epochs 5 --page docs/results/leaderboard.md [--trainer.precision bf16-mixed]
    python benchmarks/leaderboard.py page     # the page's table from benchmarks/results/leaderboard.json
    python benchmarks/headlines.py            # then the README's headline table

Any model config is a model here (``--models gan,vae,bigan``: a new model needs only its name),
and so is a variant: ``alpha_gan_ae`` is alpha-GAN without its discriminators
(``--model.adversarial false``), its own autoencoder at the same epochs. Each model trains
with ``python train.py --model <config> <its flags> --seed_everything SEED`` on the pool (its
validation split as every run's), without the per-epoch evaluation; flags for every training
command go in ``--train_args``, and ``--trainer.*``, ``--model.*`` and ``--data.*`` flags given
to this script are passed on too (``--trainer.precision bf16-mixed``). ``epoch_s`` is the
training command's wall time over its epochs (start-up and validation included; left out for a
model taken from a checkpoint). A model whose run folder (``--runs``/<model>) already holds a
checkpoint of the full budget, trained by the same command, is not trained again;
``--checkpoint infogan=PATH`` takes any finished run. Each row records the trainer's precision
and the commit its run trained on (``<run>/provenance.jsonl``, written before it trains by
:func:`aae_paper.write_provenance`, the studies' record).

Scores, on every held-out digit (``aegan.evaluate``; samples: as many as real digits):
``fid`` and ``kid`` on the domain digit features, ``critic_neg_w`` (minus the W1 estimate of an
independent WGAN-GP critic trained for ``--critic_steps``; nearer 0 is better) and, for models
with an encoder, ``recon_l1`` (mean absolute error per pixel of the reconstructions).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from aae_paper import PROVENANCE, one_value, precisions, provenance, write_provenance  # noqa: E402
from aegan.api import checkpoint_path, load  # noqa: E402
from aegan.cli import available_models  # noqa: E402
from aegan.evaluate import evaluate_checkpoint  # noqa: E402

#: the image models of the leaderboard, in its order; those whose config exists are the default
IMAGE_MODELS = ("gan", "dcgan", "vae", "aae", "alpha_gan", "alpha_gan_ae", "infogan", "bigan", "wae_mmd", "wae_gan")
#: leaderboard names that are a config with flags
VARIANTS = {"alpha_gan_ae": ("alpha_gan", ["--model.adversarial", "false"])}
#: the fewest epochs of the one budget (issue 24: at least 5)
MIN_EPOCHS = 5
METRICS = {"fid": "min", "kid": "min", "critic_neg_w": "max", "recon_l1": "min", "epoch_s": "min"}
#: the study's page, whose table ``--page`` (or ``page``) writes between BEGIN and END
PAGE = ROOT / "docs" / "results" / "leaderboard.md"
RESULTS = ROOT / "benchmarks" / "results" / "leaderboard.json"
BEGIN, END = "<!-- leaderboard: made by benchmarks/leaderboard.py -->", "<!-- /leaderboard -->"


def model_names() -> list[str]:
    """Every name the leaderboard accepts: each model config (but the toy ones), and the variants."""
    return [*(m for m in available_models() if not m.endswith("_toy")), *VARIANTS]


def default_models() -> list[str]:
    names = model_names()
    return [m for m in IMAGE_MODELS if m in names]


def config_and_flags(model: str) -> tuple[str, list[str]]:
    return VARIANTS.get(model, (model, []))


def train_command(model: str, pool: Path, heldout: Path, epochs: int, seed: int, extra: list[str]) -> list[str]:
    config, flags = config_and_flags(model)
    return ["--model", config, *flags, "--data.name", "arrays", "--data.path", str(pool),
            "--data.test_path", str(heldout), "--seed_everything", str(seed), "--data.seed", str(seed),
            "--trainer.max_epochs", str(epochs), "--evaluation", "null", *extra]


def last_checkpoint(run: Path) -> Path | None:
    """The newest ``last.ckpt`` under a run folder (the logger puts it in <run>/aegan/<id>/)."""
    found = sorted(run.glob("**/checkpoints/last.ckpt"), key=lambda p: p.stat().st_mtime)
    return found[-1] if found else None


def finished(run: Path, epochs: int, arguments: list[str]) -> Path | None:
    """The run's last checkpoint when it has trained all ``epochs`` with ``arguments`` (the
    flags its provenance recorded last), else None."""
    path = last_checkpoint(run)
    trained = provenance(run)
    if path is None or not trained or trained[-1].get("args", [])[:len(arguments)] != arguments:
        return None
    return path if torch.load(path, map_location="cpu", weights_only=False)["epoch"] + 1 >= epochs else None


def train(model: str, run: Path, args, epochs: int, arguments: list[str]) -> tuple[Path, float]:
    """Train ``model`` into ``run`` (1 torch thread when asked); its checkpoint and wall seconds."""
    command = [sys.executable, str(ROOT / "train.py"), *arguments,
               "--trainer.logger", "lightning.pytorch.loggers.CSVLogger", "--trainer.logger.save_dir", str(run),
               "--trainer.enable_progress_bar", "false"]
    env = os.environ | ({"OMP_NUM_THREADS": str(args.threads)} if args.threads else {})
    print(f"[{model}] training {epochs} epochs: {shlex.join(command[1:])}", flush=True)
    if args.threads:
        torch.set_num_threads(args.threads)  # the device record names the threads the run gets
    write_provenance(run, command[2:])
    start = time.perf_counter()
    with open(run / "train.log", "a") as log:
        subprocess.run(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, check=True)
    wall_s = time.perf_counter() - start
    (run / "wall_s.txt").write_text(f"{wall_s}\n")  # read back when the leaderboard is made again
    return last_checkpoint(run), wall_s


def score(model: str, path: Path, args) -> dict:
    """aegan.evaluate's scores of ``path``; a report it already wrote for this checkpoint with
    the same settings is read instead of scoring again (the critic takes minutes)."""
    chosen = "fid,kid,critic" + (",recon" if hasattr(load(path), "encode") else "")
    settings = {"metrics": chosen, "data_path": str(args.heldout), "real": args.real,
                "critic_steps": args.critic_steps, "seed": args.seed}
    saved = path.with_suffix(".eval.json")
    report = json.loads(saved.read_text()) if saved.exists() else {}
    if report.get("leaderboard") != settings or saved.stat().st_mtime < path.resolve().stat().st_mtime:
        report = evaluate_checkpoint(str(path), device=args.device, **settings)
        saved.write_text(json.dumps(report | {"leaderboard": settings}, indent=2))
    return {name: report["metrics"].get(name) for name in ("fid", "kid", "critic_neg_w", "recon_l1")}


def rows(model: str, scores: dict, epochs: int, wall_s: float | None, args, run: Path | None,
         taken: str | None = None) -> list[dict]:
    """The model's rows; ``run``: the folder it trained in (or that holds the taken checkpoint),
    whose provenance and config give the commit and the precision."""
    if taken:
        command = f"taken from {taken} (its run's config.yaml has the command)"
    else:
        command = shlex.join(["python", "train.py", *train_command(model, Path("data/offline/pool.npz"),
                                                                   Path("data/offline/heldout.npz"), epochs, 0,
                                                                   args.extra)])
        command = command.replace("--seed_everything 0 --data.seed 0", "--seed_everything {seed} --data.seed {seed}")
    segments = provenance(run) if run else []
    precision = one_value(precisions(run)) if run else None
    commit, device = (one_value([s.get(key) for s in segments]) for key in ("commit", "device"))
    out = []
    for metric, value in scores.items():
        if value is None:
            continue
        out.append({"setting": model, "metric": metric, "direction": METRICS[metric], "command": command,
                    "seeds": [args.seed], "per_seed": [round(value, 6)], "mean": round(value, 6), "std": None,
                    "epochs": epochs, "device": device or args.device_name,
                    "precision": precision, "commit": commit, "wall_s": None if wall_s is None else round(wall_s),
                    "torch": torch.__version__.split("+")[0]})
    return out


def figure(checkpoints: dict[str, Path], out: Path, seed: int) -> None:
    """64 samples of each model, side by side."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from torchvision.utils import make_grid

    fig, axes = plt.subplots(1, len(checkpoints), figsize=(2.4 * len(checkpoints), 2.7), squeeze=False)
    for ax, (model, path) in zip(axes[0], checkpoints.items()):
        torch.manual_seed(seed)
        with torch.no_grad():
            grid = make_grid(load(path).sample(64).cpu(), nrow=8, padding=1, pad_value=1.0)
        ax.imshow(grid.permute(1, 2, 0).clamp(0, 1).numpy(), cmap="gray")
        ax.set_title(model, fontsize=10)
        ax.axis("off")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)


def budget_line(result: dict) -> str:
    """The page's statement of the budget, from the rows."""
    epochs = sorted({r["epochs"] for r in result["rows"]})
    precisions = sorted({r.get("precision") or "unknown" for r in result["rows"]})
    commits = sorted({r.get("commit") or "unknown" for r in result["rows"]})
    budget = (f"one budget: every model {epochs[0]} epochs of the pool" if len(epochs) == 1 else
              f"budgets differ: {', '.join(map(str, epochs))} epochs (see the epochs column)")
    return (f"Budget — {budget}; precision {', '.join(precisions)}; commit {', '.join(commits)}; "
            f"seed {result['rows'][0]['seeds'][0] if result['rows'] else '—'}.")


def table(result: dict) -> str:
    values: dict[str, dict] = {}
    for row in result["rows"]:
        entry = values.setdefault(row["setting"], {"epochs": row["epochs"], "command": row["command"]})
        entry[row["metric"]] = row["mean"]
    best = {m: (min if d == "min" else max)(v[m] for v in values.values() if m in v)
            for m, d in METRICS.items() if any(m in v for v in values.values())}

    def cell(v: dict, metric: str, digits: int) -> str:
        if metric not in v:
            return "—"
        text = f"{v[metric]:.{digits}f}"
        return f"**{text}**" if v[metric] == best.get(metric) else text

    lines = ["| model | epochs | FID ↓ | KID ↓ | critic −W ↑ | recon L1 ↓ | s / epoch |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for model, v in values.items():
        lines.append(f"| {model} | {v['epochs']} | {cell(v, 'fid', 2)} | {cell(v, 'kid', 4)} "
                     f"| {cell(v, 'critic_neg_w', 3)} | {cell(v, 'recon_l1', 4)} | {cell(v, 'epoch_s', 0)} |")
    return "\n".join(lines)


def headline_rows(result: dict) -> list[dict]:
    """The README's headline row: the best FID, alpha-GAN against its own autoencoder (the
    alpha-GAN paper's question) where both are there, the epochs and the seed."""
    fid = {r["setting"]: r for r in result["rows"] if r["metric"] == "fid"}
    if not fid:
        return []
    best = min(fid.values(), key=lambda r: r["mean"])
    ours = f"best FID {best['mean']:.2f} ({best['setting']}) of {len(fid)} models"
    if "alpha_gan" in fid and "alpha_gan_ae" in fid:
        ours += (f"; alpha_gan {fid['alpha_gan']['mean']:.2f} against its autoencoder "
                 f"{fid['alpha_gan_ae']['mean']:.2f}")
    epochs = sorted({r["epochs"] for r in result["rows"]})
    budget = f"{epochs[0]} epochs each" if len(epochs) == 1 else f"budgets differ: {', '.join(map(str, epochs))} epochs"
    seeds = sorted({s for r in result["rows"] for s in r["seeds"]})
    return [{"setting": "FID on the held-out digits, every image model", "paper": "—", "bar": "—",
             "ours": f"{ours} ({budget}; seed {', '.join(map(str, seeds))})"}]


def update_page(result: dict, page: Path = PAGE) -> None:
    """Replace the table between the markers of ``page`` (the study's page) with the JSON's."""
    text = page.read_text()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"error: {page} has no {BEGIN} ... {END} block for the table "
                         f"(it lives in {PAGE.relative_to(ROOT)})")
    head, rest = text.split(BEGIN, 1)
    page.write_text(f"{head}{BEGIN}\n{budget_line(result)}\n\n{table(result)}\n{END}{rest.split(END, 1)[1]}")


def page_main(argv: list[str]) -> None:
    """``leaderboard.py page``: the page's table again, from the JSON alone (no training, no scoring)."""
    parser = argparse.ArgumentParser(prog="leaderboard.py page", description=page_main.__doc__)
    parser.add_argument("--out", type=Path, default=RESULTS, help="the leaderboard's JSON")
    parser.add_argument("--page", type=Path, default=PAGE)
    args = parser.parse_args(argv)
    update_page(json.loads(args.out.read_text()), args.page)
    print(f"{args.page}: table from {args.out}; the README's headline table: python benchmarks/headlines.py")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                     allow_abbrev=False)  # --model.x is passed on, never taken for --models
    parser.add_argument("--pool", type=Path, required=True,
                        help="the training digits (.npz, benchmarks/offline_mnist.py)")
    parser.add_argument("--heldout", type=Path, required=True, help="the held-out digits (.npz)")
    parser.add_argument("--runs", type=Path, default=ROOT / "runs" / "leaderboard", help="one run folder per model")
    parser.add_argument("--models", help="comma-separated model configs or variants (default: every image model "
                                         f"there is a config for, of {', '.join(IMAGE_MODELS)})")
    parser.add_argument("--epochs", type=int, default=MIN_EPOCHS,
                        help=f"the one budget: epochs every model trains (at least {MIN_EPOCHS})")
    parser.add_argument("--checkpoint", action="append", default=[], metavar="MODEL=PATH",
                        help="score this finished checkpoint or run folder instead of training (repeatable)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--train_args", default="", help="flags added to every training command (quoted)")
    parser.add_argument("--threads", type=int, default=1, help="OMP threads per training run (0: torch's default)")
    parser.add_argument("--real", type=int, default=0, help="held-out digits scored (0: all)")
    parser.add_argument("--critic_steps", type=int, default=50,
                        help="steps of the independent critic (aegan.evaluate's default is 2,000; 50 keeps "
                             "every model within minutes on a CPU)")
    parser.add_argument("--device", default="cpu", help="scoring device: cpu, cuda or auto")
    parser.add_argument("--device_name", default="unrecorded",
                        help="how the JSON names the training device of a run that recorded none")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--figure", type=Path, default=ROOT / "docs" / "leaderboard_samples.png")
    parser.add_argument("--page", type=Path, help="replace the table between the leaderboard markers of this file "
                                                  f"(the study's page: {PAGE.relative_to(ROOT)})")
    args, unknown = parser.parse_known_args(argv)
    passed = [a for a in unknown if not a.startswith("--") or a.split("=", 1)[0].split(".")[0] in
              ("--trainer", "--model", "--data")]
    if "--readme" in unknown:
        parser.error(f"--readme is now --page: the table lives in {PAGE.relative_to(ROOT)}")
    if len(passed) != len(unknown) or (passed and not passed[0].startswith("--")):
        parser.error(f"unrecognized arguments: {' '.join(unknown)} (training flags passed on start with "
                     f"--trainer., --model. or --data.)")
    args.extra = [*shlex.split(args.train_args), *passed]
    valid = model_names()
    args.models = [m.strip() for m in (args.models or ",".join(default_models())).split(",") if m.strip()]
    unknown_models = [m for m in args.models if m not in valid]
    if unknown_models:
        parser.error(f"unknown model {unknown_models[0]!r}; valid choices: {', '.join(valid)}")
    if args.epochs < MIN_EPOCHS:
        parser.error(f"--epochs {args.epochs}: the one budget is at least {MIN_EPOCHS} epochs")
    args.taken = dict(c.split("=", 1) for c in args.checkpoint)
    for path in (args.pool, args.heldout):
        if not path.is_file():
            parser.error(f"{path} does not exist; make it with benchmarks/offline_mnist.py")
    return args


def main(argv=None) -> dict | None:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["page"]:
        page_main(argv[1:])
        return None
    args = parse_args(argv)
    result = {"study": "leaderboard", "protocol": f"offline MNIST: train {args.pool.name}, score on every digit of "
              f"{args.heldout.name} (aegan.evaluate; critic {args.critic_steps} steps)",
              "budget": {"epochs": args.epochs}, "rows": []}
    checkpoints = {}
    for model in args.models:
        epochs, wall_s, run = args.epochs, None, args.runs / model
        arguments = train_command(model, args.pool, args.heldout, epochs, args.seed, args.extra)
        if model in args.taken:
            path = checkpoint_path(args.taken[model])
            epochs = torch.load(path, map_location="cpu", weights_only=False)["epoch"] + 1
            # the run folder: where it recorded its provenance, else where its config.yaml is
            run = next((p for p in path.resolve().parents if (p / PROVENANCE).exists()),
                       next((p for p in path.resolve().parents if (p / "config.yaml").exists()), None))
        elif (path := finished(run, epochs, arguments)) is None:
            path, wall_s = train(model, run, args, epochs, arguments)
        elif (run / "wall_s.txt").exists():
            wall_s = float((run / "wall_s.txt").read_text())
        print(f"[{model}] scoring {path}", flush=True)
        scores = score(model, path, args) | {"epoch_s": wall_s / epochs if wall_s else None}
        result["rows"] += rows(model, scores, epochs, wall_s, args, run, args.taken.get(model))
        checkpoints[model] = path
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    figure(checkpoints, args.figure, args.seed)
    print(budget_line(result))
    print(table(result))
    print(f"written: {args.out}, {args.figure}")
    if args.page:
        update_page(result, args.page)
    return result


if __name__ == "__main__":
    main()
