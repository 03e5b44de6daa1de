"""Drawings and photographs from files: QuickDraw's numpy bitmaps and any folder of images.

- ``quickdraw``: the official "numpy_bitmap" files of Google's Quick, Draw! data set, one
  ``<category>.npy`` per category (``cat.npy``, ``face.npy``, ...), each an ``(N, 784)`` uint8
  array of 28x28 drawings (white strokes on black, like MNIST). The label is the category's
  position in the requested list.
- ``folder``: every image file under a folder (e.g. CelebA's ``img_align_celeba/``), decoded
  by Pillow (torchvision's own decoders are deprecated), resized by torchvision so that the
  shorter side is ``image_size`` and centre-cropped to a square. Images in sub-folders are
  labelled by their sub-folder (sorted names, as torchvision's ``ImageFolder`` does); images
  directly in the folder are unlabelled.

Both load into uint8 ``(N, C, H, W)`` arrays; images are resized one at a time into a
preallocated array, so a large folder never sits in memory at its original size.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from aegan.data.arrays import Arrays
from aegan.errors import ConfigError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp")


def category_list(categories: str | Sequence[str] | None) -> list[str]:
    """``"cat,face"`` or ``["cat", "face"]`` to ``["cat", "face"]``."""
    if categories is None:
        return []
    names = categories.split(",") if isinstance(categories, str) else list(categories)
    return [name.strip() for name in names if name.strip()]


def load_quickdraw(path: str | None, categories: str | Sequence[str] | None, limit: int | None = None) -> Arrays:
    """The first ``limit`` drawings (all by default) of each category's ``<category>.npy`` in
    the folder ``path``, labelled by the category's position in ``categories``."""
    folder = _existing_folder(path, "quickdraw", "the folder of QuickDraw <category>.npy files")
    available = sorted(p.stem for p in folder.glob("*.npy"))
    if not available:
        raise ConfigError(f"{folder} holds no QuickDraw <category>.npy files; download numpy_bitmap files "
                          f"(e.g. cat.npy) from the Quick, Draw! data set into it")
    names = category_list(categories)
    if not names:
        raise ConfigError(f"quickdraw needs --data.categories (comma-separated); available in {folder}: "
                          f"{', '.join(available)}")
    unknown = [name for name in names if name not in available]
    if unknown:
        raise ConfigError(f"unknown QuickDraw categor{'y' if len(unknown) == 1 else 'ies'} "
                          f"{', '.join(map(repr, unknown))}; available in {folder}: {', '.join(available)}")
    xs, ys = [], []
    for label, name in enumerate(names):
        drawings = np.load(folder / f"{name}.npy", mmap_mode="r")  # read only the rows taken below
        if drawings.dtype != np.uint8 or drawings.ndim != 2 or drawings.shape[1] != 28 * 28:
            raise ConfigError(f"{folder / name}.npy is not a QuickDraw numpy bitmap: expected uint8 (N, 784), "
                              f"got {drawings.dtype} {tuple(drawings.shape)}")
        taken = np.array(drawings[:limit]).reshape(-1, 1, 28, 28)
        xs.append(taken)
        ys.append(np.full(len(taken), label, dtype=np.int64))
    counts = ", ".join(f"{name} {len(x)}" for name, x in zip(names, xs))
    return Arrays(np.concatenate(xs), np.concatenate(ys), f"quickdraw: {folder} ({counts})")


def load_folder(path: str | None, image_size: int = 64, limit: int | None = None) -> Arrays:
    """Every image under ``path`` (the first ``limit`` in sorted order), as RGB uint8
    ``(N, 3, image_size, image_size)``: resized (shorter side) and centre-cropped."""
    from PIL import Image, UnidentifiedImageError
    from torchvision.transforms.v2.functional import center_crop, resize

    folder = _existing_folder(path, "folder", "a folder of images")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())[:limit]
    if not files:
        raise ConfigError(f"{folder} holds no images (looked for {', '.join(IMAGE_SUFFIXES)}, also in sub-folders)")
    if image_size < 8:
        raise ConfigError(f"image_size must be at least 8, got {image_size}")
    classes = sorted({f.relative_to(folder).parts[0] for f in files if f.parent != folder})
    x = np.empty((len(files), 3, image_size, image_size), dtype=np.uint8)
    y = np.empty(len(files), dtype=np.int64)
    for i, file in enumerate(files):
        try:
            with Image.open(file) as image:
                image.draft("RGB", (image_size, image_size))  # JPEG: decode at a reduced scale, much faster
                image = center_crop(resize(image.convert("RGB"), [image_size]), [image_size, image_size])
        except (UnidentifiedImageError, OSError) as error:
            raise ConfigError(f"cannot read {file} as an image: {error}") from None
        x[i] = np.asarray(image).transpose(2, 0, 1)
        y[i] = classes.index(file.relative_to(folder).parts[0]) if file.parent != folder else -1
    return Arrays(x, y, f"folder: {len(files)} images under {folder} at {image_size}x{image_size}")


def _existing_folder(path: str | None, name: str, what: str) -> Path:
    if not path:
        raise ConfigError(f"data {name!r} needs {what}: pass --data.path FOLDER")
    folder = Path(path)
    if not folder.is_dir():
        raise ConfigError(f"data folder not found: {path}")
    return folder
