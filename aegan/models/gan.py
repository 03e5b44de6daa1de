"""Generative Adversarial Network (Goodfellow et al. 2014) and DCGAN (Radford et al. 2016).

A generator G maps noise z ~ p(z) to data; a discriminator D tells real examples from G's
samples. Two phases per batch, each with its own Adam optimizer:

1. ``disc``  D learns real examples as real and samples as fake:
             L_D = -log D(x) - log(1 - D(G(z)))
2. ``gen``   G fools D with the non-saturating loss (the paper's practical choice, strong
             gradients while D still wins easily):  L_G = -log D(G(z))

Both losses work on logits (``binary_cross_entropy_with_logits``); each phase draws its own z.
``disc_steps`` and ``gen_steps`` repeat the phases on every batch.

Networks (``net``, see :mod:`aegan.nets.family`): ``mlp`` with the defaults is the seeds' MLP
GAN, G: 100 -> 128 LeakyReLU(0.01) -> 784 and D: 784 -> 128 LeakyReLU(0.01) -> 1. The seed's
tanh output (images in [-1, 1]) is here a logit output whose sigmoid gives the image in [0, 1],
the codebase's convention (``decode`` applies the sigmoid; D sees images in [0, 1]); since
tanh(a) = 2 sigmoid(2a) - 1 the two generators describe the same images. ``conv`` is DCGAN: the
same algorithm with DCGAN-style networks (:mod:`aegan.nets.conv`, the ``dcgan`` config).

``pack`` (PacGAN, Lin et al. 2018): D judges ``pack`` examples at once, stacked along the
channels (images) or the features (vectors), so one logit says whether a whole pack is real. A
pack of samples that all sit on the same few modes looks unlike a pack of data, which is how
packing fights mode collapse. The packs are consecutive examples of a batch (``batch_size``
should divide by ``pack``; a remainder is left out of D's losses), so D sees batch / pack packs
of real data and as many of samples per step; the generator's loss is the same one on packs.

PacGAN's own toy nets (``pacgan_toy`` config) need three MLP options: ``gen_hidden`` (G's
widths, when they do not mirror D's), ``gen_norm="batch"`` (BatchNorm-ReLU hidden layers in G)
and ``maxout`` (D's hidden units are maxout units of that many pieces). ``init="normal_0.02"``
draws every weight from N(0, 0.02), as PacGAN, DCGAN and the official InfoGAN do.

D is a trunk (data to features) with a one-logit head, so that InfoGAN
(:mod:`aegan.models.infogan`) can put its Q head on the same trunk. Validation logs
``val/disc_acc_real``, the share of held-out real images D calls real: well below
``train/disc/acc_real``, it shows D memorising the training set.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from torch import Tensor, nn

from aegan.errors import ConfigError
from aegan.losses import accuracy, discriminator_loss, generator_loss
from aegan.models.base import GenerativeModule, Losses
from aegan.nets import decoder, initialise, mlp_decoder, trunk
from aegan.nets.family import check_family


class GAN(GenerativeModule):
    """GAN with MLP or DCGAN-style conv networks.

    Args:
        latent_dim, prior, prior_args: z and p(z) (see :mod:`aegan.priors`).
        net: ``mlp`` or ``conv``.
        hidden: fully connected widths of D (after the convolutions, for ``conv``); G mirrors them.
        channels: convolution widths of D (``conv`` only); G mirrors them.
        norm: ``batch`` or ``none``: BatchNorm in the conv networks.
        activation: the MLP networks' hidden activation, one of :data:`aegan.nets.ACTIVATIONS`.
        lr_gen, lr_disc, betas: Adam per phase.
        gen_steps, disc_steps: repetitions of each phase per batch.
        pack: examples per discriminator input (PacGAN's m; 1: the plain GAN).
        lr_milestones, lr_gamma: every learning rate is multiplied by ``lr_gamma`` after each of
            these epochs (none: constant).
        compile: ``none``, ``compile`` or ``graph`` (see :class:`~aegan.models.base.GenerativeModule`).
        gen_hidden: the MLP generator's widths from z outwards (None: ``hidden`` mirrored).
        gen_norm: ``batch``: BatchNorm between each hidden layer of the MLP generator and its activation.
        maxout: pieces of each maxout unit in the MLP discriminator's hidden layers (1: ``activation``).
        leaky_slope: negative slope of the conv discriminator's LeakyReLUs (DCGAN: 0.2).
        init: weight initialisation of every network, see :data:`aegan.nets.INITS`.
    """

    def __init__(self, data_shape: Sequence[int] = (1, 28, 28), num_classes: int = 10, latent_dim: int = 100,
                 prior: str = "gaussian", prior_args: dict | None = None, net: Literal["mlp", "conv"] = "mlp",
                 hidden: Sequence[int] = (128,), channels: Sequence[int] = (64, 128),
                 norm: Literal["batch", "none"] = "batch", activation: str = "leaky_relu_0.01",
                 lr_gen: float = 2e-4, lr_disc: float = 2e-4, betas: tuple[float, float] = (0.5, 0.999),
                 gen_steps: int = 1, disc_steps: int = 1, compile: Literal["none", "compile", "graph"] = "none",
                 pack: int = 1, lr_milestones: Sequence[int] = (),
                 lr_gamma: float = 0.1, gen_hidden: Sequence[int] | None = None,
                 gen_norm: Literal["none", "batch"] = "none", maxout: int = 1, leaky_slope: float = 0.2,
                 init: Literal["default", "normal_0.01", "normal_0.02"] = "default"):
        super().__init__(data_shape, num_classes, latent_dim, prior, prior_args, betas, compile)
        self.save_hyperparameters()
        self.lr_milestones, self.lr_gamma = tuple(lr_milestones), lr_gamma
        if gen_steps < 1 or disc_steps < 1:
            raise ConfigError(f"gen_steps and disc_steps must be at least 1, got {gen_steps} and {disc_steps}")
        if pack < 1:
            raise ConfigError(f"pack must be at least 1 (1: no packing), got {pack}")
        self.pack = pack  # an attribute, not read from hparams: InfoGAN records its own arguments, which have none
        check_family(net, norm, activation)
        if net == "conv" and (gen_hidden is not None or gen_norm != "none" or maxout != 1):
            raise ConfigError("gen_hidden, gen_norm and maxout shape the MLP nets; conv nets mirror hidden and "
                              "channels and take norm")
        if gen_hidden is None:
            self.generator = decoder(net, self.latent_dim, self.data_shape, hidden, channels, norm, activation,
                                     mlp_norm=gen_norm)
        else:
            # mlp_decoder takes the widths data side first (the trunk it would mirror)
            self.generator = mlp_decoder(self.latent_dim, list(reversed(gen_hidden)), self.data_shape, activation, gen_norm)
        packed_shape = (pack * self.data_shape[0], *self.data_shape[1:])
        self.trunk = trunk(net, packed_shape, hidden, channels, norm, activation, leaky_slope, maxout)
        self.disc_head = nn.Linear(self.trunk.out_features, 1)
        for network in (self.generator, self.trunk, self.disc_head):
            initialise(network, init)

    # --- protocol --------------------------------------------------------------------------------

    def decode(self, z: Tensor) -> Tensor:
        return self.data_output(self.generator(z))

    def discriminate(self, x: Tensor) -> Tensor:
        """D's logit per example, or per pack of ``pack`` consecutive examples (> 0: "real")."""
        return self.disc_head(self.trunk(self.packed(x))).squeeze(-1)

    def packed(self, x: Tensor) -> Tensor:
        """Examples (N, C, ...) as N // pack packs (N // pack, pack * C, ...): example j of a
        pack fills channels j * C to (j + 1) * C."""
        m = self.pack
        if m == 1:
            return x
        n = len(x) // m * m
        return x[:n].reshape(n // m, m * x.shape[1], *x.shape[2:])

    # --- the two phases --------------------------------------------------------------------------

    def noise(self, x: Tensor) -> Tensor:
        """The latents G decodes for this batch: draws from p(z), one per example (a seam: the
        distributed test pins them to the examples)."""
        return self.prior.sample(len(x), device=x.device)

    def discriminator_terms(self, x: Tensor) -> Losses:
        real, fake = self.discriminate(x), self.discriminate(self.decode(self.noise(x)))
        acc_real, acc_fake = accuracy(real, fake)
        return {"loss": discriminator_loss(real, fake), "acc_real": acc_real, "acc_fake": acc_fake}

    def generator_terms(self, x: Tensor) -> Losses:
        return {"loss": generator_loss(self.discriminate(self.decode(self.noise(x))))}

    def optimizer_groups(self):
        return {
            "disc": ([*self.trunk.parameters(), *self.disc_head.parameters()], self.hparams.lr_disc),
            "gen": (self.generator.parameters(), self.hparams.lr_gen),
        }

    def train_step(self, x: Tensor, y: Tensor) -> Losses:
        out: Losses = {}
        for _ in range(self.hparams.disc_steps):
            out |= self.phase("disc", lambda: self.discriminator_terms(x))
        for _ in range(self.hparams.gen_steps):
            out |= self.phase("gen", lambda: self.generator_terms(x))
        return out

    # --- validation ------------------------------------------------------------------------------

    def validation_step(self, batch, batch_idx, dataloader_idx=0):
        x, _ = batch
        split = "val" if dataloader_idx == 0 else "test"
        self.log(f"{split}/disc_acc_real", (self.discriminate(x) > 0).float().mean(), sync_dist=True,
                 add_dataloader_idx=False)
