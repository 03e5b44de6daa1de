"""BiGAN (Donahue et al. 2017) and ALI (Dumoulin et al. 2017): an encoder and a generator judged
jointly by one discriminator on pairs (x, z).

An encoder E (x -> z), a generator G (z -> x) and a discriminator D(x, z). D learns data with
their codes, (x, E(x)), as real and samples with their latents, (G(z), z) with z ~ p(z), as fake;
E and G learn together to make D swap the two. Logits everywhere (sigma = sigmoid, losses by
``binary_cross_entropy_with_logits``), two phases per batch:

1. ``disc``  D:          L_D  = -log sigma(D(x, E(x))) - log(1 - sigma(D(G(z), z)))
2. ``gen``   E and G:    L_EG = -log sigma(D(G(z), z)) - log(1 - sigma(D(x, E(x))))

L_EG is L_D with the labels swapped: the non-saturating form of the minimax game, with the same
fixed point. At that point the joint distributions p(x) q(z|x) and p(z) p(x|z) are equal, which
makes E and G inverses of each other, so ``reconstruct`` (G(E(x))) reconstructs although no
reconstruction loss is ever trained. E and G share one Adam optimizer: one objective, one step.
``disc_steps`` and ``gen_steps`` repeat the phases on every batch; each phase draws its own z.

``encoder``: ``deterministic`` is BiGAN's z = E(x); ``gaussian`` is ALI's stochastic encoder,
z = mu(x) + sigma(x) * eps by the reparameterisation trick (``encode`` returns mu, and q(z) is
made of the draws).

Networks (``net``, see :mod:`aegan.nets.family`): E is a trunk with a linear head, G the decoder
that mirrors it. D puts z beside the features of its own trunk on x (``conv``: the strided
convolutions; ``mlp``: x itself, flattened) and judges the pair with an MLP of widths
``disc_hidden`` and LeakyReLU(0.2). For the 2-D toy mixtures D is thus an MLP on the four
coordinates (x, z), as ALI's discriminator is in the VEEGAN and PacGAN mode-coverage tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
from torch import Tensor, nn

from aegan.errors import ConfigError, unknown_choice
from aegan.losses import accuracy, discriminator_loss
from aegan.models.base import AutoencodingModule, Losses
from aegan.nets import decoder, mlp, trunk

ENCODERS = ("deterministic", "gaussian")


class BiGAN(AutoencodingModule):
    """BiGAN (deterministic encoder) or ALI (Gaussian encoder) with MLP or DCGAN-style conv nets.

    Args:
        latent_dim, prior, prior_args: z and p(z) (see :mod:`aegan.priors`).
        encoder: ``deterministic`` (BiGAN) or ``gaussian`` (ALI).
        net: ``mlp`` or ``conv``; hidden, channels, norm, activation: E's trunk (G mirrors it, D's
            trunk on x takes the same ``channels`` and ``norm``), see :mod:`aegan.nets.family`.
        disc_hidden: widths of D's MLP on (features of x, z).
        lr_gen, lr_disc, betas: Adam per phase (``lr_gen`` for E and G together).
        gen_steps, disc_steps: repetitions of each phase per batch.
        lr_milestones, lr_gamma: every learning rate is multiplied by ``lr_gamma`` after each of
            these epochs (none: constant).
        compile: ``none``, ``compile`` or ``graph`` (see :class:`~aegan.models.base.GenerativeModule`).
    """

    def __init__(self, data_shape: Sequence[int] = (1, 28, 28), num_classes: int = 10, latent_dim: int = 50,
                 prior: str = "gaussian", prior_args: dict | None = None,
                 encoder: Literal["deterministic", "gaussian"] = "deterministic", net: Literal["mlp", "conv"] = "mlp",
                 hidden: Sequence[int] = (1024, 1024), channels: Sequence[int] = (64, 128),
                 norm: Literal["batch", "none"] = "batch", activation: str = "relu",
                 disc_hidden: Sequence[int] = (1024, 1024), lr_gen: float = 2e-4, lr_disc: float = 2e-4,
                 betas: tuple[float, float] = (0.5, 0.999), gen_steps: int = 1, disc_steps: int = 1,
                 lr_milestones: Sequence[int] = (), lr_gamma: float = 0.1,
                 compile: Literal["none", "compile", "graph"] = "none"):
        super().__init__(data_shape, num_classes, latent_dim, prior, prior_args, betas, compile)
        self.save_hyperparameters()
        self.lr_milestones, self.lr_gamma = tuple(lr_milestones), lr_gamma
        if encoder not in ENCODERS:
            raise unknown_choice("encoder", encoder, ENCODERS)
        if gen_steps < 1 or disc_steps < 1:
            raise ConfigError(f"gen_steps and disc_steps must be at least 1, got {gen_steps} and {disc_steps}")
        self.gaussian_encoder = encoder == "gaussian"
        self.encoder_trunk = trunk(net, self.data_shape, hidden, channels, norm, activation)
        self.encoder_head = nn.Linear(self.encoder_trunk.out_features, (2 if self.gaussian_encoder else 1) * latent_dim)
        self.generator = decoder(net, latent_dim, self.data_shape, hidden, channels, norm, activation)
        self.disc_trunk = trunk(net, self.data_shape, (), channels, norm, activation)
        self.disc_joint = mlp(self.disc_trunk.out_features + latent_dim, disc_hidden, 1, "leaky_relu")

    # --- protocol --------------------------------------------------------------------------------

    def encode(self, x: Tensor) -> Tensor:
        code = self.encoder_head(self.encoder_trunk(x))
        return code.chunk(2, -1)[0] if self.gaussian_encoder else code

    def posterior_noise(self, x: Tensor, mean: Tensor) -> Tensor:
        """ALI's standard-normal eps for this batch (a seam: the distributed test pins it)."""
        return torch.randn_like(mean)

    def posterior_sample(self, x: Tensor) -> Tensor:
        """z ~ q(z|x): E(x) itself (BiGAN), or a reparameterised draw (ALI)."""
        code = self.encoder_head(self.encoder_trunk(x))
        if not self.gaussian_encoder:
            return code
        mean, log_var = code.chunk(2, -1)
        return mean + (0.5 * log_var).exp() * self.posterior_noise(x, mean)

    def decode(self, z: Tensor) -> Tensor:
        return self.data_output(self.generator(z))

    # --- the two phases --------------------------------------------------------------------------

    def noise(self, x: Tensor) -> Tensor:
        """The latents G decodes for this batch, one per example (a seam: the distributed test
        pins them to the examples)."""
        return self.prior.sample(len(x), device=x.device)

    def discriminate(self, x: Tensor, z: Tensor) -> Tensor:
        """D's logit per pair (> 0: "data with its code")."""
        return self.disc_joint(torch.cat([self.disc_trunk(x), z], -1)).squeeze(-1)

    def pair_logits(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """D's logits on (x, E(x)) and on (G(z), z) for fresh prior draws z."""
        z = self.noise(x)
        return self.discriminate(x, self.posterior_sample(x)), self.discriminate(self.decode(z), z)

    def discriminator_terms(self, x: Tensor) -> Losses:
        encoded, generated = self.pair_logits(x)
        acc_encoded, acc_generated = accuracy(encoded, generated)
        return {"loss": discriminator_loss(encoded, generated), "acc_encoded": acc_encoded,
                "acc_generated": acc_generated}

    def encoder_generator_terms(self, x: Tensor) -> Losses:
        encoded, generated = self.pair_logits(x)
        return {"loss": discriminator_loss(generated, encoded)}  # the labels swapped

    def optimizer_groups(self):
        return {
            "disc": ([*self.disc_trunk.parameters(), *self.disc_joint.parameters()], self.hparams.lr_disc),
            "gen": ([*self.encoder_trunk.parameters(), *self.encoder_head.parameters(), *self.generator.parameters()],
                    self.hparams.lr_gen),
        }

    def train_step(self, x: Tensor, y: Tensor) -> Losses:
        out: Losses = {}
        for _ in range(self.hparams.disc_steps):
            out |= self.phase("disc", lambda: self.discriminator_terms(x))
        for _ in range(self.hparams.gen_steps):
            out |= self.phase("gen", lambda: self.encoder_generator_terms(x))
        return out
