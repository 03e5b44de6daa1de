"""Variational Autoencoder (Kingma & Welling 2014), with beta (Higgins et al. 2017).

A Gaussian encoder q(z|x) = N(mu(x), diag sigma(x)^2), a decoder p(x|z) and the prior
p(z) = N(0, I). One phase per batch, ``vae``, minimises the negative evidence lower bound
with the KL term weighted by ``beta``:

    L = E_{q(z|x)}[-log p(x|z)] + beta KL(q(z|x) || N(0, I))

The expectation is one reparameterised draw z = mu + sigma * eps, eps ~ N(0, I) (the
reparameterisation trick: the draw is a differentiable function of the encoder's outputs), and
the KL term has its closed form 1/2 sum_j (mu_j^2 + sigma_j^2 - 1 - log sigma_j^2). Both are
sums over dimensions, in nats per example, so that beta = 1 gives the true bound.

The decoder (``likelihood``) is ``bernoulli`` (logits; the default for images in [0, 1]) or
``gaussian``: N(x; mean, std^2) with the mean a sigmoid for images, and one standard deviation
for every dimension, learned (``decoder_std: null``) or fixed.

Validation logs, on held-out data, ``val/neg_elbo`` (the negative bound, beta = 1, nats per
example) and ``val/iw_nll``, the negative importance-weighted bound of Burda et al. 2016 with
k = ``iw_samples`` draws,

    log p(x) >= E[log (1/k) sum_i p(x, z_i) / q(z_i|x)],  z_i ~ q(z|x),

which tightens towards -log p(x) as k grows (k = 1 is the ELBO), beside the reconstruction error
and q(z)'s distance to p(z) that every autoencoder logs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.distributions import Normal

from aegan.cadence import due
from aegan.errors import ConfigError, unknown_choice
from aegan.models.base import AutoencodingModule, Losses
from aegan.nets import decoder, trunk

LIKELIHOODS = ("bernoulli", "gaussian")


def kl_to_standard_normal(mean: Tensor, log_var: Tensor) -> Tensor:
    """KL(N(mean, exp(log_var)) || N(0, I)) per example, summed over the last dimension."""
    return 0.5 * (mean.pow(2) + log_var.exp() - 1 - log_var).sum(-1)


class VAE(AutoencodingModule):
    """VAE with MLP or DCGAN-style conv networks.

    Args:
        latent_dim: width of z (the prior is N(0, I)).
        net: ``mlp`` or ``conv``; hidden, channels, norm, activation: see :mod:`aegan.nets.family`
            (the decoder mirrors the encoder).
        likelihood: ``bernoulli`` (images in [0, 1] only) or ``gaussian``; default: bernoulli for
            images, gaussian otherwise.
        decoder_std: the Gaussian decoder's standard deviation; ``None`` learns it.
        beta: weight of the KL term (1: the ELBO).
        iw_samples: k of the importance-weighted bound logged at validation.
        iw_every_n_epochs: the bound costs k decoder passes per example: it is logged at every
            n-th validation epoch (0, n, 2n, ...) and after the last epoch.
        lr, betas: Adam.
        compile: ``none``, ``compile`` or ``graph`` (see :class:`~aegan.models.base.GenerativeModule`).
    """

    def __init__(self, data_shape: Sequence[int] = (1, 28, 28), num_classes: int = 10, latent_dim: int = 20,
                 net: Literal["mlp", "conv"] = "mlp", hidden: Sequence[int] = (512, 512),
                 channels: Sequence[int] = (64, 128), norm: Literal["batch", "none"] = "batch",
                 activation: str = "relu", likelihood: Literal["bernoulli", "gaussian"] | None = None,
                 decoder_std: float | None = None, beta: float = 1.0, iw_samples: int = 100,
                 iw_every_n_epochs: int = 1, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), compile: Literal["none", "compile", "graph"] = "none"):
        super().__init__(data_shape, num_classes, latent_dim, "gaussian", None, betas, compile)
        self.save_hyperparameters()
        self.likelihood = likelihood or ("bernoulli" if self.is_image else "gaussian")
        if self.likelihood not in LIKELIHOODS:
            raise unknown_choice("likelihood", self.likelihood, LIKELIHOODS)
        if self.likelihood == "bernoulli" and not self.is_image:
            raise ConfigError("the bernoulli likelihood needs image data in [0, 1]; use 'gaussian'")
        if iw_samples < 1 or (decoder_std is not None and decoder_std <= 0):
            raise ConfigError(f"iw_samples must be at least 1 and decoder_std positive, got {iw_samples} "
                              f"and {decoder_std}")
        if iw_every_n_epochs < 1:
            raise ConfigError(f"iw_every_n_epochs must be at least 1, got {iw_every_n_epochs}")
        self.encoder_trunk = trunk(net, self.data_shape, hidden, channels, norm, activation)
        self.encoder_head = nn.Linear(self.encoder_trunk.out_features, 2 * latent_dim)
        self.decoder = decoder(net, latent_dim, self.data_shape, hidden, channels, norm, activation)
        learned = self.likelihood == "gaussian" and decoder_std is None
        self.decoder_log_std = nn.Parameter(torch.zeros(())) if learned else None
        # a fixed standard deviation lives on the model's device: a Python float handed to Normal
        # would be copied from the host inside the step (not capturable as a CUDA graph)
        self.register_buffer("decoder_std", None if learned or decoder_std is None else torch.tensor(float(decoder_std)),
                             persistent=False)

    # --- protocol --------------------------------------------------------------------------------

    def posterior(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """q(z|x)'s mean and log-variance."""
        return self.encoder_head(self.encoder_trunk(x)).chunk(2, -1)

    def encode(self, x: Tensor) -> Tensor:
        return self.posterior(x)[0]

    def posterior_noise(self, x: Tensor, mean: Tensor) -> Tensor:
        """The standard-normal eps of the reparameterisation for this batch (a seam: the
        distributed test pins it to the examples)."""
        return torch.randn_like(mean)

    def posterior_sample(self, x: Tensor) -> Tensor:
        mean, log_var = self.posterior(x)
        return mean + (0.5 * log_var).exp() * self.posterior_noise(x, mean)

    def decode(self, z: Tensor) -> Tensor:
        return self.data_output(self.decoder(z))

    # --- the bound ---------------------------------------------------------------------------------

    def log_likelihood(self, raw: Tensor, x: Tensor) -> Tensor:
        """log p(x|z) per example, from the decoder's raw output for z."""
        if self.likelihood == "bernoulli":
            return -F.binary_cross_entropy_with_logits(raw, x, reduction="none").flatten(1).sum(-1)
        std = self.decoder_log_std.exp() if self.decoder_log_std is not None else self.decoder_std
        # validate_args=False: the argument checks would wait on the device
        return Normal(self.data_output(raw), std, validate_args=False).log_prob(x).flatten(1).sum(-1)

    def elbo_terms(self, x: Tensor) -> Losses:
        mean, log_var = self.posterior(x)
        z = mean + (0.5 * log_var).exp() * self.posterior_noise(x, mean)
        nll = -self.log_likelihood(self.decoder(z), x).mean()
        kl = kl_to_standard_normal(mean, log_var).mean()
        return {"loss": nll + self.hparams.beta * kl, "nll": nll, "kl": kl, "neg_elbo": nll + kl}

    @torch.no_grad()
    def importance_weighted_bound(self, x: Tensor, k: int, chunk: int = 4096) -> Tensor:
        """log p(x) >= log (1/k) sum_i p(x|z_i) p(z_i) / q(z_i|x) per example, z_i ~ q(z|x); the
        decoder sees at most ``chunk`` codes at a time. The networks run in the precision the
        trainer sets (e.g. bf16-mixed), the densities and the log-sum-exp over k weights in
        float32: in bfloat16, log-weights of several hundred nats keep about two digits."""
        mean, log_var = (t.float() for t in self.posterior(x))
        x = x.float()
        q = Normal(mean, (0.5 * log_var).exp(), validate_args=False)
        prior = Normal(torch.zeros_like(mean), torch.ones_like(mean), validate_args=False)
        weights, step = [], max(1, chunk // len(x))
        for done in range(0, k, step):
            z = q.sample((min(k - done, step),))  # (draws, n, latent)
            repeated = x.expand(len(z), *x.shape).flatten(0, 1)
            raw = self.decoder(z.flatten(0, 1)).float()
            with torch.autocast(x.device.type, enabled=False):
                log_p_x = self.log_likelihood(raw, repeated).view(len(z), len(x))
            weights.append(log_p_x + prior.log_prob(z).sum(-1) - q.log_prob(z).sum(-1))
        return torch.logsumexp(torch.cat(weights), 0) - math.log(k)

    def optimizer_groups(self):
        return {"vae": (self.parameters(), self.hparams.lr)}

    def train_step(self, x: Tensor, y: Tensor) -> Losses:
        return self.phase("vae", lambda: self.elbo_terms(x))

    # --- validation ------------------------------------------------------------------------------

    def validation_step(self, batch, batch_idx, dataloader_idx=0):
        super().validation_step(batch, batch_idx, dataloader_idx)
        x, _ = batch
        split = "val" if dataloader_idx == 0 else "test"
        self.log(f"{split}/neg_elbo", self.elbo_terms(x)["neg_elbo"], sync_dist=True, add_dataloader_idx=False)
        if self._trainer is None or due(self.trainer, self.hparams.iw_every_n_epochs):
            self.log(f"{split}/iw_nll", -self.importance_weighted_bound(x, self.hparams.iw_samples).mean(),
                     sync_dist=True, add_dataloader_idx=False)
