"""Losses shared by the models.

Adversarial losses take raw logits and use ``binary_cross_entropy_with_logits`` (never a sigmoid
followed by BCE, which loses precision where the discriminator is confident). Reconstruction
losses are means over every element, so their size does not depend on the image size, except
``l2sq``: the squared Euclidean distance ||x - x_hat||^2 summed over an example's elements and
averaged over the batch, the WAE paper's cost c(x, y).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def discriminator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """-log D(real) - log(1 - D(fake)), each term averaged over its batch."""
    real = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
    fake = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    return real + fake


def generator_loss(fake_logits: Tensor) -> Tensor:
    """The non-saturating generator loss -log D(fake)."""
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


def accuracy(real_logits: Tensor, fake_logits: Tensor) -> tuple[Tensor, Tensor]:
    """The discriminator's accuracy on real and on fake samples (logit > 0 means "real")."""
    return (real_logits > 0).float().mean(), (fake_logits < 0).float().mean()


RECONSTRUCTION_LOSSES = ("bce", "mse", "l1", "l2sq")


def reconstruction_loss(kind: str, output: Tensor, target: Tensor, *, logits: bool) -> Tensor:
    """Mean reconstruction error of ``output`` against ``target``.

    ``logits=True`` means ``output`` is a pre-sigmoid decoder output for data in [0, 1]: BCE then
    works on the logits directly and MSE/L1 on their sigmoid.
    """
    if kind == "bce":
        if not logits:
            raise ValueError("the BCE reconstruction loss needs a decoder that outputs logits "
                             "(image data in [0, 1]); use 'mse', 'l1' or 'l2sq' for real-valued data")
        return F.binary_cross_entropy_with_logits(output, target)
    values = output.sigmoid() if logits else output
    if kind == "mse":
        return F.mse_loss(values, target)
    if kind == "l1":
        return F.l1_loss(values, target)
    if kind == "l2sq":
        return (values - target).pow(2).flatten(1).sum(-1).mean()
    raise ValueError(f"unknown reconstruction loss {kind!r}; valid choices: {', '.join(RECONSTRUCTION_LOSSES)}")
