"""q(z) scatter: how the encoded data settles onto the prior, one frame per epoch."""

from __future__ import annotations

import numpy as np
import torch
from matplotlib import colormaps
from matplotlib.figure import Figure

from aegan.callbacks.media import FigureCallback


class LatentScatterGIF(FigureCallback):
    """Scatter of the encoded validation examples (the first ``points``; for stochastic
    encoders a draw from q(z|x) each), coloured by label,
    over ``prior_points`` prior samples in grey. Inputs, prior samples and axis limits are fixed
    for the whole run, so the frames of the GIF compare. Latents wider than 2 show their first
    two dimensions. Needs a module with ``encode``.
    """

    name = "latent"

    def __init__(self, points: int = 2000, prior_points: int = 2000, seed: int = 0,
                 every_n_epochs: int = 1, fps: float = 4.0):
        super().__init__(every_n_epochs, fps)
        self.points, self.prior_points, self.seed = points, prior_points, seed
        self._prior_samples: np.ndarray | None = None

    def prior_samples(self, module) -> np.ndarray:
        if self._prior_samples is None:
            generator = torch.Generator().manual_seed(self.seed)
            self._prior_samples = module.prior.sample(self.prior_points, generator=generator)[:, :2].numpy()
        return self._prior_samples

    def draw(self, trainer, module):
        if not hasattr(module, "encode"):
            return None
        x, y = trainer.datamodule.examples(self.points)
        encode = getattr(module, "posterior_sample", module.encode)  # q(z) is made of draws from q(z|x)
        z = encode(x.to(module.device)).float()[:, :2].cpu().numpy()
        y = y.numpy()
        prior = self.prior_samples(module)
        low, high = np.quantile(prior, [0.005, 0.995], axis=0)
        margin = 0.25 * (high - low)
        low, high = low - margin, high + margin
        outside = np.mean(((z < low) | (z > high)).any(1))

        figure = Figure(figsize=(6, 5), dpi=100)
        axes = figure.add_subplot()
        axes.scatter(prior[:, 0], prior[:, 1], s=2, color="0.82", label="p(z)", rasterized=True)
        labels = np.unique(y)
        many = labels.max(initial=0) >= 10
        for k in labels:
            chosen = y == k
            colour = "black" if k < 0 else (colormaps["viridis"](k / labels.max()) if many else colormaps["tab10"](int(k)))
            axes.scatter(z[chosen, 0], z[chosen, 1], s=3, color=colour,
                         label="no label" if k < 0 else str(k), rasterized=True)
        axes.set_xlim(low[0], high[0])
        axes.set_ylim(low[1], high[1])
        axes.set_xlabel("z[0]")
        axes.set_ylabel("z[1]")
        axes.set_title(f"q(z) over p(z), epoch {trainer.current_epoch}"
                       + (f"  ({outside:.0%} of codes off the plot)" if outside > 0 else ""), fontsize=9)
        if len(labels) <= 11:
            axes.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=7, markerscale=3, frameon=False)
        figure.tight_layout()
        return figure
