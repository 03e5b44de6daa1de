"""Latent traversals of InfoGAN's codes (the paper's Figure 2: digit type, rotation, width)."""

from __future__ import annotations

import torch
from matplotlib.figure import Figure
from torchvision.utils import make_grid

from aegan.callbacks.media import FigureCallback


class CodeTraversal(FigureCallback):
    """One panel per continuous code: row k decodes categorical value k, and the columns sweep
    that continuous code over ``steps`` values from ``low`` to ``high`` (the paper shows -2 to 2,
    beyond the training range [-1, 1]); the noise (one draw from ``seed``) and the other
    continuous codes (0) stay fixed, so a column-to-column change is the code's alone. Needs a
    prior with a categorical and continuous codes (:class:`~aegan.priors.CodePrior`) and images.
    """

    name = "traversal"

    def __init__(self, steps: int = 10, low: float = -2.0, high: float = 2.0, seed: int = 0,
                 every_n_epochs: int = 1, fps: float = 4.0, video_every_n_epochs: int = 10):
        super().__init__(every_n_epochs, fps, video_every_n_epochs)
        self.steps, self.low, self.high, self.seed = steps, low, high, seed
        self._z: torch.Tensor | None = None

    def fixed_codes(self, prior) -> torch.Tensor:
        """(continuous codes, categories * steps, latent): panel j, row k, column t in row-major
        order."""
        if self._z is None:
            noise = prior.noise.sample(1, generator=torch.Generator().manual_seed(self.seed))
            k, m = prior.categories, prior.continuous
            category = torch.arange(k).repeat_interleave(self.steps)
            sweep = torch.linspace(self.low, self.high, self.steps).repeat(k)
            panels = []
            for j in range(m):
                continuous = torch.zeros(k * self.steps, m)
                continuous[:, j] = sweep
                panels.append(prior.join(noise.expand(k * self.steps, -1), category, continuous))
            self._z = torch.stack(panels)
        return self._z

    def draw(self, trainer, module):
        prior = module.prior
        if not (getattr(prior, "continuous", 0) and getattr(module, "is_image", False)):
            return None
        z = self.fixed_codes(prior).to(module.device)
        grids = [make_grid(module.decode(panel).float().clamp(0, 1).cpu(), nrow=self.steps, padding=2, pad_value=1.0)
                 for panel in z]
        height, width = grids[0].shape[1:]
        scale, dpi = 2.0, 100
        figure = Figure(figsize=(len(grids) * (scale * width / dpi + 0.2), scale * height / dpi + 0.6), dpi=dpi)
        for j, grid in enumerate(grids):
            axes = figure.add_subplot(1, len(grids), j + 1)
            axes.imshow(grid.permute(1, 2, 0).numpy(), interpolation="nearest")
            axes.set_xticks([])
            axes.set_yticks([])
            axes.set_xlabel(f"continuous code {j + 1}: {self.low:g} \u2192 {self.high:g}", fontsize=8)
            axes.set_ylabel("categorical code 0 \u2192 " + str(prior.categories - 1), fontsize=8)
        figure.suptitle(f"code traversals, noise fixed, epoch {trainer.current_epoch}", fontsize=9)
        figure.tight_layout()
        return figure
