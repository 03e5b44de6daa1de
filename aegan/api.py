"""The Python API: a trained model from a checkpoint, and the data it was trained on.

    import aegan
    model = aegan.load("runs/aegan/<id>")            # or .../checkpoints/last.ckpt
    images = model.sample(16)                         # (16, 1, 28, 28) in [0, 1]
    z = model.encode(images)                          # models with an encoder
    data = aegan.load_data("runs/aegan/<id>")         # the run's AeganDataModule
    x, y = data.examples(100)                         # held-out validation examples

Every aegan checkpoint records its model class, so one ``load`` serves every model; the
command line (``aegan-evaluate``), the notebook and the tests all load through here.
"""

from __future__ import annotations

import importlib
import zipfile
from pathlib import Path

import torch

from aegan.errors import ConfigError


def checkpoint_path(path: str | Path) -> Path:
    """``path`` itself, or for a run directory its ``checkpoints/last.ckpt``."""
    path = Path(path)
    if path.is_dir():
        last = path / "checkpoints" / "last.ckpt"
        if not last.exists():
            raise ConfigError(f"{path} is a folder without checkpoints/last.ckpt; pass a .ckpt file or a run folder")
        return last
    if not path.is_file():
        raise ConfigError(f"checkpoint not found: {path}")
    return path


def read_checkpoint(path: str | Path, mmap: bool = False) -> dict:
    """The contents of a checkpoint file; a missing or unreadable file (not a checkpoint,
    truncated, corrupt) raises a one-line :class:`~aegan.errors.ConfigError`. ``mmap``: map the
    tensors instead of reading them (a cheap check that the whole file is a checkpoint)."""
    path = checkpoint_path(path)
    if not zipfile.is_zipfile(path):  # what torch.save writes (and what mmap needs)
        raise ConfigError(f"{path} is not a checkpoint: not a whole PyTorch archive (another kind of file, or cut short)")
    try:
        return torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
    except Exception as error:  # torch.load fails on garbage in many ways, all meaning "unreadable"
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ConfigError(f"{path} is not a readable checkpoint ({reason[:200]})") from None


def load_checkpoint(path: str | Path, device: str | torch.device = "cpu"):
    """``(model, data settings)``: the model saved in an aegan checkpoint (or a run folder's
    ``last.ckpt``) in eval mode on ``device``, and the keyword arguments of its data module. A
    missing, corrupt or foreign file raises a one-line :class:`~aegan.errors.ConfigError`."""
    from aegan.models.base import GenerativeModule

    path = checkpoint_path(path)
    state = read_checkpoint(path)
    hparams = state.get("hyper_parameters") if isinstance(state, dict) else None
    class_path = state.get("aegan_class") or (hparams or {}).get("_class_path") if isinstance(state, dict) else None
    if not class_path or "state_dict" not in state:
        raise ConfigError(f"{path} is not an aegan checkpoint (it records no aegan model class); "
                          f"train one with: aegan-train --model NAME")
    module_name, _, class_name = class_path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError):
        raise ConfigError(f"{path} was saved by model class {class_path}, which this aegan does not have") from None
    if not (isinstance(cls, type) and issubclass(cls, GenerativeModule)):
        raise ConfigError(f"{path} holds a {class_path}, not an aegan GenerativeModule")
    # arguments added to a class after a checkpoint was saved take the value it was trained with
    older = {k: v for k, v in getattr(cls, "added_arguments", {}).items() if k not in (hparams or {})}
    model = cls.load_from_checkpoint(path, map_location=device, weights_only=True, **older)
    data = {k: v for k, v in state.get("datamodule_hyper_parameters", {}).items() if not k.startswith("_")}
    return model.eval(), data


def load(path: str | Path, device: str | torch.device = "cpu"):
    """The model in an aegan checkpoint, or in a run folder's ``checkpoints/last.ckpt``, ready
    to use: on ``device``, in eval mode, gradients off (so ``sample``, ``decode``, ``encode`` and
    ``reconstruct`` need no ``torch.no_grad()``; ``requires_grad_(True)`` to train it further).

    What every model offers: ``sample(n, labels=None)``, ``decode(z)``, ``prior.sample(n)``,
    ``latent_dim``; with an encoder (AAEs, alpha-GAN, VAE): ``encode(x)`` and
    ``reconstruct(x)``; decoders that take a label (``decoder_classes > 0``: ``aae_style``, the
    semi-supervised and clustering AAEs) take it as ``decode(z, labels)`` and
    ``reconstruct(x, labels)``; models with a y head (semi-supervised AAE, InfoGAN's Q):
    ``classify(x)``. Images are (N, C, H, W) floats in [0, 1].
    """
    model, _ = load_checkpoint(path, device)
    return model.requires_grad_(False)


def load_data(path: str | Path, **overrides):
    """The :class:`~aegan.data.AeganDataModule` a checkpoint (or run folder) was trained with,
    set up; ``overrides`` replace its settings (``name="arrays", path="heldout.npz"``)."""
    from aegan.data import AeganDataModule

    path = checkpoint_path(path)
    state = torch.load(path, map_location="cpu", weights_only=True)
    settings = {k: v for k, v in state.get("datamodule_hyper_parameters", {}).items() if not k.startswith("_")}
    data = AeganDataModule(**{**settings, **overrides})
    data.setup("validate")
    return data
