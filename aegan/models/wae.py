"""Wasserstein Autoencoder with the MMD penalty, WAE-MMD (Tolstikhin et al. 2018).

A deterministic encoder Q (x -> z) and a decoder G (z -> x). With a batch of n examples x_i,
their codes z~_i = Q(x_i) and as many prior draws z_i ~ p(z) = N(0, sigma^2 I), one phase,
``ae`` (one Adam optimizer over Q and G), minimises

    L = 1/n sum_i ||x_i - G(z~_i)||^2  +  lam * MMD_k(z~, z)

    MMD_k = 1/(n(n-1)) sum_{i != j} [k(z_i, z_j) + k(z~_i, z~_j)]  -  2/n^2 sum_{i, j} k(z_i, z~_j)

The cost c(x, y) = ||x - y||^2 is the squared Euclidean distance summed over an example's
pixels (images: G's sigmoid output against x in [0, 1]). The kernel is the paper's inverse
multiquadratic summed over scales, k(a, b) = sum_s C_s / (C_s + ||a - b||^2) with
C_s = s * 2 d sigma^2 for s in :data:`SCALES`: 2 d sigma^2 is the expected squared distance
between two prior draws in d dimensions, and the scales are those of the authors' code. Its heavy
tails keep pulling codes that sit far from the prior's mass, where a Gaussian kernel's gradient
has all but vanished. The two within-sample sums leave out i = j (an unbiased estimate); the
cross sum keeps every pair, as the paper's Algorithm 2 does.

lam is ``mmd_weight``. The authors' code scales the cost by 0.05 and uses lam = 10 on MNIST; Adam's
steps do not change when the whole loss is multiplied by a constant, so that is lam = 200 on the
cost as written here (the config's value).

Where the AAE (and WAE-GAN, its other weighting, ``configs/wae_gan.yaml``) needs a discriminator
to pull q(z) onto p(z), the MMD is a statistic of the batch itself. So under DDP it must be the
statistic of the global batch: each process gathers every process's codes and prior draws
(``torch.distributed.nn.functional.all_gather``, whose backward hands each process the gradient
for its own codes summed over the processes). The phase's gradient averaged over the processes is
then the gradient of one process on the union (``tests/distributed/test_ddp.py``); the mean of
the shards' own MMDs would not be.

Networks (``net``, see :mod:`aegan.nets.family`): ``mlp`` or ``conv`` (DCGAN-style); the paper's
MNIST runs use conv nets, with noise added to the encoder's input and an encoder pretrained to
match the prior's moments, neither of which is here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.distributed.nn.functional import all_gather

from aegan.errors import ConfigError
from aegan.losses import reconstruction_loss
from aegan.models.base import AutoencodingModule, Losses
from aegan.nets import decoder, trunk
from aegan.priors import GaussianPrior

#: multiples of 2 d sigma^2 whose inverse multiquadratic kernels are summed
SCALES = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)


def imq_mmd(codes: Tensor, draws: Tensor, base: float, scales: Sequence[float] = SCALES) -> Tensor:
    """The WAE's MMD estimate between ``codes`` and ``draws`` (n each) with the inverse
    multiquadratic kernels C / (C + ||a - b||^2), C = ``base`` * s for s in ``scales``, summed."""
    n = len(codes)
    if n < 2 or len(draws) != n:
        raise ValueError(f"the MMD needs as many codes as prior draws, at least 2; got {n} and {len(draws)}")
    points = torch.cat([codes, draws])
    # differences, not torch.cdist: exact where points coincide, and no square root to differentiate at 0
    squared = (points[:, None] - points[None]).pow(2).sum(-1)
    within = 1 - torch.eye(n, device=codes.device, dtype=codes.dtype)
    total = codes.new_zeros(())
    for scale in scales:
        c = base * scale
        kernel = c / (c + squared)
        kqq, kpp, kqp = kernel[:n, :n], kernel[n:, n:], kernel[:n, n:]
        total = total + ((kqq + kpp) * within).sum() / (n * (n - 1)) - 2 * kqp.mean()
    return total


def gathered(t: Tensor) -> Tensor:
    """``t`` from every process, in rank order; gradients flow back to each process's own part."""
    if not dist.is_available() or not dist.is_initialized() or dist.get_world_size() == 1:
        return t
    return torch.cat(all_gather(t))


class WAE(AutoencodingModule):
    """WAE-MMD with MLP or DCGAN-style conv networks and a Gaussian prior.

    Args:
        latent_dim: width of z.
        prior_args: the Gaussian prior's ``std`` (sigma; default 1); the prior must be ``gaussian``.
        net: ``mlp`` or ``conv``; hidden, channels, norm, activation: see :mod:`aegan.nets.family`
            (the decoder mirrors the encoder).
        mmd_weight: lam, the weight of the MMD penalty.
        lr, betas: Adam.
        lr_milestones, lr_gamma: the learning rate is multiplied by ``lr_gamma`` after each of
            these epochs (none: constant).
        compile: ``none``, ``compile`` or ``graph`` (see :class:`~aegan.models.base.GenerativeModule`).
    """

    def __init__(self, data_shape: Sequence[int] = (1, 28, 28), num_classes: int = 10, latent_dim: int = 8,
                 prior: str = "gaussian", prior_args: dict | None = None, net: Literal["mlp", "conv"] = "mlp",
                 hidden: Sequence[int] = (1000, 1000), channels: Sequence[int] = (64, 128),
                 norm: Literal["batch", "none"] = "batch", activation: str = "relu", mmd_weight: float = 200.0,
                 lr: float = 1e-3, betas: tuple[float, float] = (0.5, 0.999), lr_milestones: Sequence[int] = (),
                 lr_gamma: float = 0.1, compile: Literal["none", "compile", "graph"] = "none"):
        super().__init__(data_shape, num_classes, latent_dim, prior, prior_args, betas, compile)
        self.save_hyperparameters()
        self.lr_milestones, self.lr_gamma = tuple(lr_milestones), lr_gamma
        if not isinstance(self.prior, GaussianPrior):
            raise ConfigError(f"WAE-MMD's kernel widths are set by a Gaussian prior's variance; "
                              f"valid choices: gaussian (got {prior!r})")
        if mmd_weight < 0:
            raise ConfigError(f"mmd_weight must be at least 0, got {mmd_weight}")
        self.encoder_trunk = trunk(net, self.data_shape, hidden, channels, norm, activation)
        self.encoder_head = nn.Linear(self.encoder_trunk.out_features, latent_dim)
        self.decoder = decoder(net, latent_dim, self.data_shape, hidden, channels, norm, activation)
        self.kernel_base = 2 * latent_dim * self.prior.std ** 2  # E||z - z'||^2 for z, z' ~ p(z)

    # --- protocol --------------------------------------------------------------------------------

    def encode(self, x: Tensor) -> Tensor:
        return self.encoder_head(self.encoder_trunk(x))

    def decode(self, z: Tensor) -> Tensor:
        return self.data_output(self.decoder(z))

    # --- the one phase -----------------------------------------------------------------------------

    def prior_sample(self, x: Tensor) -> Tensor:
        """This batch's prior draws, one per example (a seam: the distributed test pins them)."""
        return self.prior.sample(len(x), device=x.device)

    def wae_terms(self, x: Tensor) -> Losses:
        codes = self.encode(x)
        cost = reconstruction_loss("l2sq", self.decoder(codes), x, logits=self.is_image)
        mmd = imq_mmd(gathered(codes), gathered(self.prior_sample(x)), self.kernel_base)
        return {"loss": cost + self.hparams.mmd_weight * mmd, "cost": cost, "mmd": mmd}

    def optimizer_groups(self):
        return {"ae": (self.parameters(), self.hparams.lr)}

    def train_step(self, x: Tensor, y: Tensor) -> Losses:
        return self.phase("ae", lambda: self.wae_terms(x))
