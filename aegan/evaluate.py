"""Score a checkpoint: ``python -m aegan.evaluate CKPT [--metrics fid,critic,latent,recon,modes,codes]``.

Loads any aegan checkpoint (the model class is recorded in it), rebuilds its data module from
the checkpoint (or from ``--data``/``--data_path``), scores it on held-out real data with
:func:`aegan.metrics.suite.evaluate`, prints a table and writes ``<checkpoint>.eval.json``
beside the checkpoint. The real data is the validation split of the training data, or every
example of ``--data_path`` (a held-out ``.npz``).
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import torch
from jsonargparse import CLI

from aegan.data import AeganDataModule
from aegan.errors import ConfigError
from aegan.metrics.fid import FID
from aegan.metrics.suite import choose, evaluate
from aegan.models.base import GenerativeModule


def load_checkpoint(path: str | Path, device="cpu") -> tuple[GenerativeModule, dict]:
    """The model saved in an aegan checkpoint, in eval mode, and the checkpoint's data module
    settings. Anything else (a missing, corrupt or foreign file) raises a one-line ConfigError."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"checkpoint not found: {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch.load fails on garbage in many ways, all meaning "unreadable"
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ConfigError(f"{path} is not a readable checkpoint ({reason[:200]})") from None
    hparams = state.get("hyper_parameters") if isinstance(state, dict) else None
    class_path = state.get("aegan_class") or (hparams or {}).get("_class_path") if isinstance(state, dict) else None
    if not class_path or "state_dict" not in state:
        raise ConfigError(f"{path} is not an aegan checkpoint (it records no aegan model class); "
                          f"train one with: python train.py --model NAME")
    module_name, _, class_name = class_path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError):
        raise ConfigError(f"{path} was saved by model class {class_path}, which this aegan does not have") from None
    if not (isinstance(cls, type) and issubclass(cls, GenerativeModule)):
        raise ConfigError(f"{path} holds a {class_path}, not an aegan GenerativeModule")
    model = cls.load_from_checkpoint(path, map_location=device, weights_only=True)
    data = {k: v for k, v in state.get("datamodule_hyper_parameters", {}).items() if not k.startswith("_")}
    return model.eval(), data


def evaluate_checkpoint(checkpoint: str, metrics: str | None = None, data: str | None = None,
                        data_path: str | None = None, real: int | None = None, samples: int | None = None,
                        critic_steps: int = 2000, inception_weights: str | None = None, device: str = "auto",
                        seed: int = 0) -> dict:
    """Score CHECKPOINT and write <checkpoint>.eval.json beside it.

    Args:
        checkpoint: an aegan checkpoint (.ckpt).
        metrics: comma-separated, from fid, critic, latent, recon, modes, codes (default: all that apply).
        data: data set name (default: the one the model was trained on).
        data_path: a held-out .npz; all of its examples are the real data.
        real: use at most this many real examples (default: all of the split or file).
        samples: generated examples (default: as many as real examples).
        critic_steps: training steps of the independent Wasserstein critic.
        inception_weights: Inception v3 weights file, for FID on images other than 28x28 digits.
        device: cpu, cuda or auto.
        seed: seed of the samples and the critic.
    """
    device = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
    model, data_settings = load_checkpoint(checkpoint, device)
    if data_path:
        data_settings.update(name="arrays", path=data_path)
    elif data:
        data_settings.update(name=data, path=None)
    datamodule = AeganDataModule(**data_settings)
    split = "all" if data_path else "val"  # a held-out file is used whole
    x, labels = datamodule.examples(real or sys.maxsize, split)
    modes, mode_std = datamodule.modes()
    chosen = choose(metrics, model, x, modes, inception=bool(inception_weights))
    fid = None
    if "fid" in chosen:
        features = "inception" if inception_weights else "domain"
        fid = FID(x, features=features, weights=inception_weights, device=model.device)
    results = evaluate(model, x, chosen, labels=labels, samples=samples, fid=fid, modes=modes, mode_std=mode_std,
                       critic_steps=critic_steps, seed=seed)
    report = {"checkpoint": str(checkpoint), "model": type(model).__name__,
              "data": f"{datamodule.data_source}, {split if data_path else 'validation split'}",
              "real_examples": len(x), "metrics": results}
    out = Path(checkpoint).with_suffix(".eval.json")
    out.write_text(json.dumps(report, indent=2))
    print(format_report(report))
    print(f"written to {out}")
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
