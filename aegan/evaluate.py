"""Score a checkpoint: ``aegan-evaluate CKPT`` (or ``python -m aegan.evaluate CKPT``).

Loads any aegan checkpoint or run folder (the model class is recorded in the checkpoint; see
:mod:`aegan.api`), rebuilds its data module from the checkpoint (or from
``--data``/``--data_path``), scores it on held-out real data with
:func:`aegan.metrics.suite.evaluate`, prints what it is doing as it goes, then a table, and
writes ``<checkpoint>.eval.json`` beside the checkpoint. The real data is the validation split of
the training data (at most ``--real`` examples, 2,000 by default), or every example of
``--data_path`` (a held-out ``.npz``).

By default every metric that applies except the independent critic, which trains a network
(2,000 steps, minutes on a CPU): ask for it with ``--metrics all`` or by name; it prints an
estimate of its duration after its first steps. On two CPU cores the default run on an AAE
checkpoint takes well under a minute (``docs/metrics.md`` has the measurement).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import torch
from jsonargparse import CLI

from aegan.api import checkpoint_path, load_checkpoint
from aegan.errors import ConfigError

__all__ = ["evaluate_checkpoint", "load_checkpoint", "main"]


def say(message: str) -> None:
    """Progress goes to stderr, so stdout keeps only the report."""
    print(message, file=sys.stderr, flush=True)


def evaluate_checkpoint(checkpoint: str, metrics: str | None = None, data: str | None = None,
                        data_path: str | None = None, real: int | None = 2000, samples: int | None = None,
                        critic_steps: int = 2000, inception_weights: str | None = None, device: str = "auto",
                        seed: int = 0) -> dict:
    """Score CHECKPOINT (a .ckpt file or a run folder) and write <checkpoint>.eval.json beside it.

    Args:
        checkpoint: an aegan checkpoint (.ckpt), or a run folder (its checkpoints/last.ckpt).
        metrics: comma-separated, from fid, kid, pr, critic, latent, recon, modes, codes; "all" for
            every one that applies (default: all that apply except the critic, which trains a network).
        data: data set name (default: the one the model was trained on).
        data_path: a held-out .npz; all of its examples are the real data.
        real: use at most this many real examples (default 2000; 0: all of the split or file).
        samples: generated examples (default: as many as real examples).
        critic_steps: training steps of the independent Wasserstein critic.
        inception_weights: Inception v3 weights file, for FID on images other than 28x28 digits.
        device: cpu, cuda or auto.
        seed: seed of the samples and the critic.
    """
    from aegan.data import AeganDataModule
    from aegan.metrics.fid import FID
    from aegan.metrics.suite import choose, evaluate

    start = time.perf_counter()
    device = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
    path = checkpoint_path(checkpoint)
    model, data_settings = load_checkpoint(path, device)
    if data_path:
        data_settings.update(name="arrays", path=data_path)
    elif data:
        data_settings.update(name=data, path=None)
    datamodule = AeganDataModule(**data_settings)
    split = "all" if data_path else "val"  # a held-out file is used whole
    x, labels = datamodule.examples(real or sys.maxsize, split)
    modes, mode_std = datamodule.modes()
    inception = bool(inception_weights)
    chosen = choose(None if metrics == "all" else metrics, model, x, modes, inception=inception,
                    default_skip=() if metrics == "all" else ("critic",))
    say(f"{type(model).__name__} on {len(x)} real examples ({datamodule.data_source}); metrics: {', '.join(chosen)}"
        + ("" if "critic" in chosen else " (the critic is opt-in: --metrics all)"))
    fid = None
    if {"fid", "kid", "pr"} & set(chosen):
        say(f"features of the {len(x)} real examples ...")
        fid = FID(x, features="inception" if inception else "domain", weights=inception_weights, device=model.device)
    results = evaluate(model, x, chosen, labels=labels, samples=samples, fid=fid, modes=modes, mode_std=mode_std,
                       critic_steps=critic_steps, seed=seed, progress=say)
    report = {"checkpoint": str(path), "model": type(model).__name__,
              "data": f"{datamodule.data_source}, {split if data_path else 'validation split'}",
              "real_examples": len(x), "seconds": round(time.perf_counter() - start, 1), "metrics": results}
    out = path.with_suffix(".eval.json")
    out.write_text(json.dumps(report, indent=2))
    print(format_report(report))
    print(f"written to {out} ({report['seconds']:.0f} s)")
    return report


def format_report(report: dict) -> str:
    lines = [f"{report['model']} from {report['checkpoint']}", f"real data: {report['data']} "
             f"({report['real_examples']} examples)", "", f"{'metric':<16}{'value':>12}"]
    for name, value in report["metrics"].items():
        lines.append(f"{name:<16}{value:>12.4f}" if isinstance(value, float) else f"{name:<16}{value:>12}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    try:
        CLI(evaluate_checkpoint, args=argv, as_positional=True)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
