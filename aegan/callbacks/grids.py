"""Image grids from fixed inputs, one frame per epoch: decoded prior samples and
reconstructions."""

from __future__ import annotations

import torch

from aegan.callbacks.media import FigureCallback, image_grid_figure


class DecoderGrid(FigureCallback):
    """Decoded fixed prior samples. For a prior with components (the 10-Gaussian mixture, the
    swiss roll) row k holds ``per_row`` samples of component k; otherwise ``rows`` x
    ``per_row`` samples. Needs a module with ``decode`` and ``prior`` and image data."""

    name = "decoder"

    def __init__(self, rows: int = 10, per_row: int = 10, seed: int = 0,
                 every_n_epochs: int = 1, fps: float = 4.0):
        super().__init__(every_n_epochs, fps)
        self.rows, self.per_row, self.seed = rows, per_row, seed
        self._z: torch.Tensor | None = None

    def fixed_codes(self, module) -> torch.Tensor:
        if self._z is None:
            generator = torch.Generator().manual_seed(self.seed)
            components = module.prior.num_components
            if components:
                labels = torch.arange(components).repeat_interleave(self.per_row)
                self._z = module.prior.sample(len(labels), labels, generator=generator)
            else:
                self._z = module.prior.sample(self.rows * self.per_row, generator=generator)
        return self._z

    def draw(self, trainer, module):
        if not (hasattr(module, "decode") and getattr(module, "is_image", False)):
            return None
        z = self.fixed_codes(module)
        images = module.decode(z.to(module.device))
        rows = len(z) // self.per_row
        kind = "one row per prior component" if module.prior.num_components else "fixed prior samples"
        return image_grid_figure(images, rows, f"decoded p(z): {kind}, epoch {trainer.current_epoch}")


class ReconstructionGrid(FigureCallback):
    """The first ``n`` validation images and their reconstructions: rows alternate between
    ``per_row`` inputs and the same inputs reconstructed. Needs ``reconstruct`` and images."""

    name = "reconstruction"

    def __init__(self, n: int = 20, per_row: int = 10, every_n_epochs: int = 1, fps: float = 4.0):
        super().__init__(every_n_epochs, fps)
        self.per_row = per_row
        self.n = per_row * max(1, n // per_row)  # whole rows only

    def draw(self, trainer, module):
        if not (hasattr(module, "reconstruct") and getattr(module, "is_image", False)):
            return None
        x, _ = trainer.datamodule.examples(self.n)
        x = x.to(module.device)
        x_hat = module.reconstruct(x)
        pairs = torch.cat([torch.stack([a, b]) for a, b in zip(x.split(self.per_row), x_hat.split(self.per_row))])
        images = pairs.flatten(0, 1)
        return image_grid_figure(images, len(pairs),
                                 f"inputs (odd rows) and reconstructions, epoch {trainer.current_epoch}")
