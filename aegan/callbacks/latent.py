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
                 every_n_epochs: int = 1, fps: float = 4.0, video_every_n_epochs: int = 10):
        super().__init__(every_n_epochs, fps, video_every_n_epochs)
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
        prior = self.prior_samples(module)
        low, high = np.quantile(prior, [0.005, 0.995], axis=0)
        margin = 0.25 * (high - low)
        return labelled_scatter(z, y.numpy(), (low - margin, high + margin),
                                f"q(z) over p(z), epoch {trainer.current_epoch}", background=prior, axis="z")


class RepresentationMap(FigureCallback):
    """The 2-D representation ``module.represent(x)`` of the test data (the validation split
    where there is no test set), coloured by label: the AAE paper's dimensionality-reduction
    map. The cluster heads move apart while training, so each frame sets its own limits (from
    the 0.5% and 99.5% quantiles of its points)."""

    name = "representation"

    def __init__(self, points: int = 2000,
                 every_n_epochs: int = 1, fps: float = 4.0, video_every_n_epochs: int = 10):
        super().__init__(every_n_epochs, fps, video_every_n_epochs)
        self.points = points

    def draw(self, trainer, module):
        if not hasattr(module, "represent") or getattr(module, "heads", None) is None:
            return None
        data = trainer.datamodule
        x, y = data.examples(self.points, "test" if "test" in data.splits else "val")
        points = module.represent(x.to(module.device)).float()[:, :2].cpu().numpy()
        low, high = np.quantile(points, [0.005, 0.995], axis=0)
        margin = 0.1 * (high - low)
        return labelled_scatter(points, y.numpy(), (low - margin, high + margin),
                                f"representation W y + z, epoch {trainer.current_epoch}", axis="r")


def labelled_scatter(points: np.ndarray, labels: np.ndarray, limits, title: str,
                     background: np.ndarray | None = None, axis: str = "z",
                     background_label: str = "p(z)") -> Figure:
    """Points coloured by label over an optional grey background, within fixed limits, with the
    share of points outside them in the title."""
    low, high = limits
    outside = np.mean(((points < low) | (points > high)).any(1))
    figure = Figure(figsize=(6, 5), dpi=100)
    axes = figure.add_subplot()
    if background is not None:
        axes.scatter(background[:, 0], background[:, 1], s=2, color="0.82", label=background_label,
                     rasterized=True)
    classes = np.unique(labels)
    many = classes.max(initial=0) >= 10
    for k in classes:
        colour = "black" if k < 0 else (colormaps["viridis"](k / classes.max()) if many else colormaps["tab10"](int(k)))
        chosen = labels == k
        axes.scatter(points[chosen, 0], points[chosen, 1], s=3, color=colour,
                     label="no label" if k < 0 else str(k), rasterized=True)
    axes.set_xlim(low[0], high[0])
    axes.set_ylim(low[1], high[1])
    axes.set_xlabel(f"{axis}[0]")
    axes.set_ylabel(f"{axis}[1]")
    axes.set_title(title + (f"  ({outside:.0%} of points off the plot)" if outside > 0 else ""), fontsize=9)
    if len(classes) <= 11:
        axes.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=7, markerscale=3, frameon=False)
    figure.tight_layout()
    return figure
