"""Image grids from fixed inputs, one frame per epoch: decoded prior samples and
reconstructions."""

from __future__ import annotations

import torch

from aegan.callbacks.media import FigureCallback, image_grid_figure


class DecoderGrid(FigureCallback):
    """Decoded fixed prior samples. For a prior with components (the 10-Gaussian mixture, the
    swiss roll) row k holds ``per_row`` samples of component k, and for a decoder that takes a
    label row k is decoded with label k; otherwise ``rows`` x ``per_row`` samples. Needs a
    module with ``decode`` and ``prior`` and image data."""

    name = "decoder"

    def __init__(self, rows: int = 10, per_row: int = 10, seed: int = 0,
                 every_n_epochs: int = 1, fps: float = 4.0, video_every_n_epochs: int = 10):
        super().__init__(every_n_epochs, fps, video_every_n_epochs)
        self.rows, self.per_row, self.seed = rows, per_row, seed
        self._z: torch.Tensor | None = None
        self._labels: torch.Tensor | None = None

    def fixed_codes(self, module) -> torch.Tensor:
        if self._z is None:
            generator = torch.Generator().manual_seed(self.seed)
            components = module.prior.num_components
            classes = components or getattr(module, "decoder_classes", 0)
            if classes:
                self._labels = torch.arange(classes).repeat_interleave(self.per_row)
            n = len(self._labels) if classes else self.rows * self.per_row
            self._z = module.prior.sample(n, self._labels if components else None, generator=generator)
        return self._z

    def draw(self, trainer, module):
        if not (hasattr(module, "decode") and getattr(module, "is_image", False)):
            return None
        z = self.fixed_codes(module).to(module.device)
        labels = self._labels
        images = module.decode(z, labels.to(module.device)) if getattr(module, "decoder_classes", 0) else module.decode(z)
        kind = "fixed prior samples" if labels is None else "row k: component or label k"
        return image_grid_figure(images, len(z) // self.per_row, f"decoded p(z): {kind}, epoch {trainer.current_epoch}")


class ReconstructionGrid(FigureCallback):
    """The first ``n`` validation images and their reconstructions: rows alternate between
    ``per_row`` inputs and the same inputs reconstructed. Needs ``reconstruct`` and images."""

    name = "reconstruction"

    def __init__(self, n: int = 20, per_row: int = 10,
                 every_n_epochs: int = 1, fps: float = 4.0, video_every_n_epochs: int = 10):
        super().__init__(every_n_epochs, fps, video_every_n_epochs)
        self.per_row = per_row
        self.n = per_row * max(1, n // per_row)  # whole rows only

    def draw(self, trainer, module):
        if not (hasattr(module, "reconstruct") and getattr(module, "is_image", False)):
            return None
        x, y = trainer.datamodule.examples(self.n)
        x, y = x.to(module.device), y.to(module.device)
        x_hat = module.reconstruct(x, y) if getattr(module, "decoder_classes", 0) else module.reconstruct(x)
        pairs = torch.cat([torch.stack([a, b]) for a, b in zip(x.split(self.per_row), x_hat.split(self.per_row))])
        images = pairs.flatten(0, 1)
        return image_grid_figure(images, len(pairs),
                                 f"inputs (odd rows) and reconstructions, epoch {trainer.current_epoch}")


class StyleGrid(FigureCallback):
    """Style and content: ``styles`` fixed style vectors drawn from the prior, each decoded with
    every label (``decode(z, label)``), so a row shows one style written as every class, and a
    column one class in every style. ``classes_as_rows`` transposes the grid (the clustering
    figure: one row per cluster). Needs a decoder that takes labels (``decoder_classes``)."""

    name = "style"

    def __init__(self, styles: int = 10, classes_as_rows: bool = False, seed: int = 0,
                 every_n_epochs: int = 1, fps: float = 4.0, video_every_n_epochs: int = 10):
        super().__init__(every_n_epochs, fps, video_every_n_epochs)
        self.styles, self.classes_as_rows, self.seed = styles, classes_as_rows, seed
        self._z: torch.Tensor | None = None

    def draw(self, trainer, module):
        classes = getattr(module, "decoder_classes", 0)
        if not (classes and getattr(module, "is_image", False)):
            return None
        if self._z is None:
            self._z = module.prior.sample(self.styles, generator=torch.Generator().manual_seed(self.seed))
        style, label = torch.meshgrid(torch.arange(self.styles), torch.arange(classes), indexing="ij")
        if self.classes_as_rows:
            style, label = style.T, label.T
        images = module.decode(self._z[style.reshape(-1)].to(module.device), label.reshape(-1).to(module.device))
        rows, what = (classes, "row: class, column: style") if self.classes_as_rows else \
            (self.styles, "row: style, column: class")
        return image_grid_figure(images, rows, f"style x content ({what}), epoch {trainer.current_epoch}")
