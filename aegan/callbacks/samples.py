"""Generated 2-D points over the real ones: what a model does with the toy mixtures."""

from __future__ import annotations

import numpy as np
import torch

from aegan.callbacks.latent import labelled_scatter
from aegan.callbacks.media import FigureCallback


class SampleScatter(FigureCallback):
    """Decoded fixed prior samples (black) over real validation points (grey), for 2-D vector
    data such as ``toy_grid``; the codes, the real points and the axis limits stay fixed for
    the run, so the GIF's frames compare. Needs a module with ``decode`` and 2-D data."""

    name = "samples"

    def __init__(self, points: int = 2500, seed: int = 0,
                 every_n_epochs: int = 1, fps: float = 4.0, video_every_n_epochs: int = 10):
        super().__init__(every_n_epochs, fps, video_every_n_epochs)
        self.points, self.seed = points, seed
        self._fixed: tuple[torch.Tensor, np.ndarray, tuple] | None = None

    def draw(self, trainer, module):
        if not hasattr(module, "decode") or tuple(getattr(module, "data_shape", ())) != (2,):
            return None
        if self._fixed is None:
            z = module.prior.sample(self.points, generator=torch.Generator().manual_seed(self.seed))
            real = trainer.datamodule.examples(self.points)[0].numpy()
            low, high = real.min(0), real.max(0)
            margin = 0.25 * (high - low)
            self._fixed = z, real, (low - margin, high + margin)
        z, real, limits = self._fixed
        samples = module.decode(z.to(module.device)).float().cpu().numpy()
        return labelled_scatter(samples, np.full(len(samples), -1), limits,
                                f"samples G(z) over real data, epoch {trainer.current_epoch}",
                                background=real, axis="x", background_label="real")
