"""Fréchet distance between real and generated images, on torchmetrics' implementation.

Two feature networks:

- ``domain`` (default): the digit CNN of :mod:`aegan.metrics.features`, shipped with the package;
  for 28x28 grey images. Its 128 features know what digits look like; Inception's do not.
- ``inception``: Inception v3 (2048 features, the classic FID) for other images; it needs
  ``torch-fidelity`` and its weights file (``pt_inception-2015-12-05-6726825d.pth``), passed as
  ``weights``, since nothing is downloaded at run time. Grey images are repeated to RGB.

The real statistics come from held-out real data and are kept between calls
(``reset_real_features=False``). The metric never syncs across processes
(``sync_on_compute=False``): under DDP only rank zero computes it (see
:class:`~aegan.callbacks.Evaluation`), and a sync there would wait forever for ranks that never
enter it. Scores depend on the number of samples (FID is biased
upwards for small sets), so every score is reported with it.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor
from torchmetrics.image.fid import FrechetInceptionDistance

from aegan.errors import ConfigError, unknown_choice
from aegan.metrics.features import load_digit_features

FEATURES = ("domain", "inception")
# images in [0, 1]; the real statistics kept between calls; computed by one process, no sync
LOCAL = dict(normalize=True, reset_real_features=False, sync_on_compute=False)


class FID:
    """FID of generated images against a fixed set of real ones.

    Args:
        real: real images (N, C, H, W) in [0, 1], held out from training.
        features: ``domain`` or ``inception``.
        weights: path of the Inception weights (``features="inception"`` only).
        batch_size: images per forward pass of the feature network.
        device: where the feature network runs.
    """

    def __init__(self, real: Tensor, features: str = "domain", weights: str | None = None,
                 batch_size: int = 500, device=None):
        if features not in FEATURES:
            raise unknown_choice("FID feature network", features, FEATURES)
        self.features, self.batch_size, self.device = features, batch_size, device
        if features == "domain":
            if real.shape[1:] != (1, 28, 28):
                raise ConfigError(f"the domain FID is for 28x28 grey digits, got images of shape "
                                  f"{tuple(real.shape[1:])}; use the inception features")
            extractor = load_digit_features()
            self.metric = FrechetInceptionDistance(feature=extractor, **LOCAL)
        else:
            if not weights or not Path(weights).is_file():
                raise ConfigError("the Inception FID needs its weights file (pt_inception-2015-12-05-6726825d.pth); "
                                  f"pass its path{'' if not weights else f' (not found: {weights})'}")
            self.metric = FrechetInceptionDistance(feature=2048, feature_extractor_weights_path=str(weights), **LOCAL)
        self.metric = self.metric.to(device)
        self.real_count = len(real)
        self._update(real, real=True)

    def _update(self, images: Tensor, real: bool) -> None:
        for batch in images.split(self.batch_size):
            batch = batch.to(self.device).float().clamp(0, 1)
            if self.features == "inception" and batch.shape[1] == 1:
                batch = batch.expand(-1, 3, -1, -1)
            self.metric.update(batch, real=real)

    @torch.no_grad()
    def __call__(self, fake: Tensor) -> float:
        """FID of ``fake`` (N, C, H, W in [0, 1]) against the real set."""
        self.metric.reset()  # forgets the fake statistics only
        self._update(fake, real=False)
        return float(self.metric.compute())
