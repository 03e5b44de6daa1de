"""Adversarial Autoencoder (Makhzani et al. 2015), unsupervised and label-conditioned.

An autoencoder whose aggregated posterior q(z) = E_x[q(z|x)] is pushed onto a prior p(z) by a
discriminator on codes. Three phases per batch, each with its own Adam optimizer:

1. ``ae``   reconstruction: encoder + decoder minimise the reconstruction loss of x.
2. ``disc`` regularisation, discriminator: D(z) learns prior samples z ~ p(z) as real and
   codes z ~ q(z|x) as fake:  L_D = -log D(z_p) - log(1 - D(z_q)).
3. ``gen``  regularisation, generator: the encoder learns to fool D:  L_G = -log D(z_q).

``disc_steps`` and ``gen_steps`` repeat phases 2 and 3 on the same batch (the Qiita recipe
uses two generator steps); for the first ``pretrain_epochs`` epochs only phase 1 runs.

Joint update (``adversarial_weight`` = lam, the WAE-GAN of Tolstikhin et al. 2018): no phase 3;
phase 1 carries the encoder's adversarial term, and encoder and decoder take one step on

    L_ae = recon(x) + lam * (-log D(z_q))

so the adversarial pull on the codes is weighed against the reconstruction in one gradient,
at one learning rate, instead of being a step of its own (``configs/wae_gan.yaml`` says where
this is and is not the WAE-GAN).

Label-conditioned (``conditional=True``, the paper's Figure 6 on MNIST): D also receives the
one-hot label, and the prior sample for an example with label k is drawn from component k of a
mixture or swiss-roll prior, so each digit settles in its own petal or its own tenth of the roll.
The one-hot vector has one extra slot for "no label" (label -1), whose prior samples come from
the whole prior, as in the paper's semi-supervised use of this model.

Style and content (``decoder_labels=True``, the paper's section 5 and Figure 7): the decoder
receives the one-hot label beside z, so the label carries the content (which digit) and z only
the style; decoding one z with each label draws the same style as every digit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from aegan.errors import ConfigError, unknown_choice
from aegan.losses import (
    RECONSTRUCTION_LOSSES,
    accuracy,
    discriminator_loss,
    generator_loss,
    reconstruction_loss,
)
from aegan.models.base import AutoencodingModule, Losses
from aegan.nets import ACTIVATIONS, mlp, mlp_decoder, mlp_encoder

ENCODERS = ("deterministic", "gaussian")


class AAE(AutoencodingModule):
    """Adversarial Autoencoder with MLP encoder, decoder and code discriminator.

    Args:
        latent_dim, prior, prior_args: z and p(z) (see :mod:`aegan.priors`).
        hidden: widths of the encoder's and decoder's hidden layers (the decoder mirrors them).
        disc_hidden: widths of the discriminator's hidden layers (default: ``hidden``).
        activation: hidden activation, one of :data:`aegan.nets.ACTIVATIONS`.
        encoder: ``deterministic`` (z = f(x)) or ``gaussian`` (z ~ N(mu(x), sigma(x)^2), by the
            reparameterisation trick; ``encode`` returns the mean).
        conditional: feed the one-hot label to the discriminator and draw the prior per label.
        decoder_labels: feed the one-hot label to the decoder too (style/content separation);
            the data must be labelled.
        recon_loss: ``bce`` (images), ``mse`` or ``l1``; default ``bce`` for images, ``mse`` else.
        lr_ae, lr_gen, lr_disc: Adam learning rates of the three phases.
        betas: Adam's betas for all three optimizers.
        gen_steps, disc_steps: repetitions of the generator / discriminator phase per batch.
        pretrain_epochs: epochs of reconstruction alone before the regularisation starts.
        adversarial_weight: ``None`` (the AAE): the encoder fools D in a phase of its own
            (``gen``). A number lam (the WAE-GAN): no ``gen`` phase; the ``ae`` phase minimises
            recon + lam * (-log D(z_q)) over encoder and decoder together.
        compile: ``none``, ``compile`` or ``graph`` (see :class:`~aegan.models.base.GenerativeModule`).
    """

    def __init__(self, data_shape: Sequence[int] = (1, 28, 28), num_classes: int = 10,
                 latent_dim: int = 2, prior: str = "gaussian", prior_args: dict | None = None,
                 hidden: Sequence[int] = (1000, 1000), disc_hidden: Sequence[int] | None = None,
                 activation: str = "relu",
                 encoder: Literal["deterministic", "gaussian"] = "deterministic",
                 conditional: bool = False, decoder_labels: bool = False, recon_loss: str | None = None,
                 lr_ae: float = 1e-3, lr_gen: float = 1e-3, lr_disc: float = 2e-4,
                 betas: tuple[float, float] = (0.5, 0.999),
                 gen_steps: int = 1, disc_steps: int = 1, pretrain_epochs: int = 0,
                 compile: Literal["none", "compile", "graph"] = "none", adversarial_weight: float | None = None):
        super().__init__(data_shape, num_classes, latent_dim, prior, prior_args, betas, compile)
        self.save_hyperparameters()
        if activation not in ACTIVATIONS:
            raise unknown_choice("activation", activation, ACTIVATIONS)
        if encoder not in ENCODERS:
            raise unknown_choice("encoder", encoder, ENCODERS)
        self.recon_loss = recon_loss or ("bce" if self.is_image else "mse")
        if self.recon_loss not in RECONSTRUCTION_LOSSES:
            raise unknown_choice("reconstruction loss", self.recon_loss, RECONSTRUCTION_LOSSES)
        if self.recon_loss == "bce" and not self.is_image:
            raise ConfigError("recon_loss 'bce' needs image data in [0, 1]; use 'mse', 'l1' or 'l2sq'")
        if adversarial_weight is not None and adversarial_weight <= 0:
            raise ConfigError(f"adversarial_weight must be positive (or null: a generator phase of its own), "
                              f"got {adversarial_weight}")
        if conditional and (self.prior.num_components or 0) < num_classes:
            raise ConfigError(f"a conditional AAE needs a prior with a component per class "
                              f"({num_classes}): use prior 'mixture' or 'swiss_roll', got {prior!r}")

        self.gaussian_encoder = encoder == "gaussian"
        self.conditional = conditional
        # one extra one-hot slot stands for "no label" (label -1)
        self.label_slots = self.prior.num_components + 1 if conditional else 0
        self.decoder_classes = num_classes if decoder_labels else 0
        code_width = 2 * latent_dim if self.gaussian_encoder else latent_dim
        self.encoder = mlp_encoder(self.data_shape, hidden, code_width, activation)
        self.decoder = mlp_decoder(latent_dim + self.decoder_classes, hidden, self.data_shape, activation)
        self.discriminator = mlp(latent_dim + self.label_slots, disc_hidden or hidden, 1, activation)

    # --- protocol --------------------------------------------------------------------------------

    def encode(self, x: Tensor) -> Tensor:
        code = self.encoder(x)
        return code.chunk(2, -1)[0] if self.gaussian_encoder else code

    def decode(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.data_output(self.decoder(self.decoder_input(z, labels)))

    def decoder_input(self, z: Tensor, labels: Tensor | None) -> Tensor:
        """z, with the one-hot label beside it when the decoder takes labels (unlabelled: zeros)."""
        if not self.decoder_classes:
            return z
        one_hot = F.one_hot(labels.clamp(min=0), self.decoder_classes) * (labels >= 0)[:, None]
        return torch.cat([z, one_hot.to(z.dtype)], -1)

    # --- the three phases ----------------------------------------------------------------------

    def posterior_sample(self, x: Tensor) -> Tensor:
        """z ~ q(z|x): the code itself, or a reparameterised draw for a Gaussian encoder."""
        code = self.encoder(x)
        if not self.gaussian_encoder:
            return code
        mean, log_var = code.chunk(2, -1)
        return mean + (0.5 * log_var).exp() * torch.randn_like(mean)

    def discriminate(self, z: Tensor, y: Tensor) -> Tensor:
        if self.conditional:
            slot = torch.where(y < 0, self.label_slots - 1, y)
            z = torch.cat([z, F.one_hot(slot, self.label_slots).to(z.dtype)], -1)
        return self.discriminator(z).squeeze(-1)

    @property
    def joint(self) -> bool:
        """Whether the encoder's adversarial term rides in the reconstruction phase (WAE-GAN)."""
        return self.hparams.adversarial_weight is not None

    def reconstruction_terms(self, x: Tensor, y: Tensor) -> Losses:
        z = self.posterior_sample(x)
        recon = reconstruction_loss(self.recon_loss, self.decoder(self.decoder_input(z, y)), x, logits=self.is_image)
        if not self.joint or self.current_epoch < self.hparams.pretrain_epochs:
            return {"loss": recon}
        adversarial = generator_loss(self.discriminate(z, y))
        return {"loss": recon + self.hparams.adversarial_weight * adversarial, "recon": recon,
                "adversarial": adversarial}

    def prior_sample(self, x: Tensor, y: Tensor) -> Tensor:
        """The prior draws that the discriminator sees as real for this batch."""
        return self.prior.sample(len(x), y if self.conditional else None, device=x.device)

    def discriminator_terms(self, x: Tensor, y: Tensor) -> Losses:
        real = self.discriminate(self.prior_sample(x, y), y)
        fake = self.discriminate(self.posterior_sample(x), y)
        acc_real, acc_fake = accuracy(real, fake)
        return {"loss": discriminator_loss(real, fake), "acc_real": acc_real, "acc_fake": acc_fake}

    def generator_terms(self, x: Tensor, y: Tensor) -> Losses:
        return {"loss": generator_loss(self.discriminate(self.posterior_sample(x), y))}

    def optimizer_groups(self):
        groups = {
            "ae": (list(self.encoder.parameters()) + list(self.decoder.parameters()), self.hparams.lr_ae),
            "disc": (self.discriminator.parameters(), self.hparams.lr_disc),
            "gen": (self.encoder.parameters(), self.hparams.lr_gen),
        }
        if self.joint:
            del groups["gen"]  # the encoder's adversarial term is in "ae"
        return groups

    def graph_key(self):
        return (self.current_epoch < self.hparams.pretrain_epochs,)

    def train_step(self, x: Tensor, y: Tensor) -> Losses:
        out = self.phase("ae", lambda: self.reconstruction_terms(x, y))
        if self.current_epoch < self.hparams.pretrain_epochs:
            return out
        for _ in range(self.hparams.disc_steps):
            out |= self.phase("disc", lambda: self.discriminator_terms(x, y))
        for _ in range(0 if self.joint else self.hparams.gen_steps):
            out |= self.phase("gen", lambda: self.generator_terms(x, y))
        return out
