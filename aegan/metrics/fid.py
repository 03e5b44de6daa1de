"""FID, KID and precision/recall between real and generated images, on one feature network.

Two feature networks:

- ``domain`` (default): the digit CNN of :mod:`aegan.metrics.features`, shipped with the package;
  for 28x28 grey images. Its 128 features know what digits look like; Inception's do not.
- ``inception``: Inception v3 (2048 features, the classic FID) for other images; it needs
  ``torch-fidelity`` and its weights file (``pt_inception-2015-12-05-6726825d.pth``), passed as
  ``weights``, since nothing is downloaded at run time. Grey images are repeated to RGB.

Three scores on the same features, each computed where it is maintained:

- ``fid``: torchmetrics' ``FrechetInceptionDistance``; biased upwards for small sets.
- ``kid``: torchmetrics' ``KernelInceptionDistance`` (the unbiased polynomial-kernel MMD of
  Binkowski et al. 2018, mean and spread over random subsets): unbiased, so it compares across
  sample sizes and stays meaningful at a few hundred images, where FID does not.
- ``precision``, ``recall``: k-nearest-neighbour manifolds (Kynkaanniemi et al. 2019, k = 3):
  the share of generated images inside the real manifold (quality) and of real images inside
  the generated one (coverage). torchmetrics has no implementation; torch-fidelity (already a
  dependency, for Inception) has one that works on given features, used here.

The real features are computed once and kept; each evaluation computes the generated
features once for all three scores. The torchmetrics metrics never sync across processes
(``sync_on_compute=False``): under DDP only rank zero computes them (see
:class:`~aegan.callbacks.Evaluation`), and a sync there would wait forever for ranks that never
enter it. Scores depend on the number of samples, so every score is reported with it.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import Tensor, nn
from torchmetrics.image.fid import FrechetInceptionDistance
from torchmetrics.image.kid import KernelInceptionDistance

from aegan.errors import ConfigError, unknown_choice
from aegan.metrics.features import load_digit_features

FEATURES = ("domain", "inception")
SCORES = ("fid", "kid", "pr")
# the real statistics kept between calls; computed by one process, no sync
LOCAL = dict(reset_real_features=False, sync_on_compute=False)
# KID: the mean over random subsets of up to 1,000 of each set (the usual size; 100 subsets are
# usual too, but cost 10x the time on a CPU for a spread that 10 subsets already show)
KID_SUBSETS, KID_SUBSET_SIZE = 10, 1000
PR_NEIGHBOURS = 3


class Precomputed(nn.Module):
    """Hands features computed once, outside the torchmetrics metrics, to them unchanged."""

    def __init__(self, num_features: int):
        super().__init__()
        self.num_features = num_features  # read by torchmetrics instead of probing

    def forward(self, features: Tensor) -> Tensor:
        return features


class InceptionFeatures(nn.Module):
    """Inception v3's 2048 pool features of images in [0, 1] (grey repeated to RGB), as
    torchmetrics' FID computes them."""

    def __init__(self, weights: str):
        super().__init__()
        from torchmetrics.image.fid import NoTrainInceptionV3

        self.net = NoTrainInceptionV3(name="inception-v3-compat", features_list=["2048"],
                                      feature_extractor_weights_path=str(weights))

    def forward(self, images: Tensor) -> Tensor:
        if images.shape[1] == 1:
            images = images.expand(-1, 3, -1, -1)
        return self.net((images * 255).byte())


class FID:
    """FID (and KID, precision/recall) of generated images against a fixed set of real ones.

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
        self.features_name, self.batch_size, self.device = features, batch_size, device
        if features == "domain":
            if real.shape[1:] != (1, 28, 28):
                raise ConfigError(f"the domain FID is for 28x28 grey digits, got images of shape "
                                  f"{tuple(real.shape[1:])}; use the inception features")
            self.extractor: nn.Module = load_digit_features()
        else:
            if not weights or not Path(weights).is_file():
                raise ConfigError("the Inception FID needs its weights file (pt_inception-2015-12-05-6726825d.pth); "
                                  f"pass its path{'' if not weights else f' (not found: {weights})'}")
            self.extractor = InceptionFeatures(weights)
        self.extractor = self.extractor.eval().requires_grad_(False).to(device)
        self.real_count = len(real)
        self.real_features = self.features(real)
        width = self.real_features.shape[1]
        self.metric = FrechetInceptionDistance(feature=Precomputed(width), **LOCAL).to(device)
        self.metric.update(self.real_features, real=True)
        with warnings.catch_warnings():  # "will save all extracted features": that is the point
            warnings.simplefilter("ignore", UserWarning)
            self.kid_metric = KernelInceptionDistance(feature=Precomputed(width), subsets=KID_SUBSETS,
                                                      subset_size=KID_SUBSET_SIZE, **LOCAL).to(device)
        self.kid_metric.update(self.real_features, real=True)

    @torch.no_grad()
    def features(self, images: Tensor) -> Tensor:
        """The feature network's output for ``images`` (N, C, H, W in [0, 1]), on ``device``."""
        return torch.cat([self.extractor(batch.to(self.device).float().clamp(0, 1))
                          for batch in images.split(self.batch_size)])

    def __call__(self, fake: Tensor) -> float:
        """FID of ``fake`` (N, C, H, W in [0, 1]) against the real set."""
        return self.scores(fake, ("fid",))["fid"]

    @torch.no_grad()
    def scores(self, fake: Tensor, which: Sequence[str] = SCORES) -> dict[str, float]:
        """``fid``, ``kid`` (with ``kid_std`` over subsets and ``kid_subset``, the subset size)
        and ``precision``/``recall`` of ``fake``, as chosen in ``which`` (from ``fid``, ``kid``,
        ``pr``); the generated features are computed once for all of them."""
        for name in which:
            if name not in SCORES:
                raise unknown_choice("feature score", name, SCORES)
        fake_features = self.features(fake)
        results: dict[str, float] = {}
        if "fid" in which:
            self.metric.reset()  # forgets the fake statistics only
            self.metric.update(fake_features, real=False)
            results["fid"] = float(self.metric.compute())
        if "kid" in which:
            # each subset draws this many of each set: at most the smaller set (torchmetrics refuses more)
            size = min(KID_SUBSET_SIZE, self.real_count, len(fake_features))
            self.kid_metric.subset_size = size
            # subsets as large as both sets are all the same set: one is the whole estimate
            self.kid_metric.subsets = 1 if size == self.real_count == len(fake_features) else KID_SUBSETS
            self.kid_metric.reset()
            self.kid_metric.update(fake_features, real=False)
            mean, std = self.kid_metric.compute()
            results.update(kid=float(mean), kid_std=float(std), kid_subset=self.kid_metric.subset_size)
        if "pr" in which:
            results.update(precision_recall(self.real_features, fake_features))
        return results


def precision_recall(real: Tensor, fake: Tensor, neighbours: int = PR_NEIGHBOURS) -> dict[str, float]:
    """Improved precision and recall (Kynkaanniemi et al. 2019) of ``fake`` against ``real``
    features, with ``neighbours``-NN balls, through torch-fidelity's implementation."""
    from torch_fidelity.metric_prc import calculate_precision_recall_full

    precision, recall = calculate_precision_recall_full(fake.float().cpu(), real.float().cpu(), neighbours)
    return {"precision": float(precision), "recall": float(recall)}
