"""alpha-GAN (Rosca et al. 2017): an autoencoder and a GAN sharing one generator.

Four networks: an encoder E (x -> z), a generator G (z -> x), an image discriminator D and a
code discriminator C. With x a data batch, x̂ = G(E(x)) its reconstructions, z ~ p(z) prior
draws and x̃ = G(z) samples, and logits everywhere (sigma = sigmoid, losses by
``binary_cross_entropy_with_logits``), each network has its own loss and its own Adam
optimizer, and each phase updates its own network only:

``encoder``             L_E = lam * |x - x̂|_1  -  log sigma(C(E(x)))
``generator``           L_G = lam * |x - x̂|_1  -  log sigma(D(x̂))  -  log sigma(D(x̃))
``discriminator``       L_D = -log sigma(D(x)) - 1/2 log(1 - sigma(D(x̂))) - 1/2 log(1 - sigma(D(x̃)))
``code_discriminator``  L_C = -log sigma(C(z)) - log(1 - sigma(C(E(x))))

|.|_1 is the mean absolute error per pixel, lam is ``recon_weight``. The code terms are the
density-ratio trick: C learns prior draws as real and codes as fake, so C's logit estimates
log p(z)/q(z), and the encoder makes its codes look like prior draws. (The first arXiv version
of the paper writes L_C with the two sides swapped, which would push q(z) away from the prior;
``test_alpha_gan.py`` fails on that swap.) The adversarial terms are the non-saturating ones
(-log sigma(logit), not log(1 - sigma(logit))). D weighs real and generated images equally, so
the reconstructions and the samples count half each.

Per batch, E and G step ``ae_steps`` times (2 by default), alternately, then D and C once
each. Reconstructions and samples go through G as one batch and through D as one batch, in
every phase, so BatchNorm always sees the same mixture. E's loss does not use the samples, but
where G has BatchNorm they still go through G in E's phase: without them G would normalise the
reconstructions with the statistics of the codes alone, and E's gradient would change. Where G
has none (``norm="none"``, the toy MLPs) E's phase decodes the codes only. D and C judge one
set of codes, draws, reconstructions and samples, made once after the E and G steps (neither
phase changes E or G; C's real codes are the draws G decoded for D).

``adversarial=False`` is the plain autoencoder of the comparison: only the lam-weighted L1
terms, E and G still stepping ``ae_steps`` times per batch, D and C never trained.

Images use residual conv nets (:mod:`aegan.nets.resnet`), vectors (the 2-D toy mixtures) MLPs;
the code discriminator is an MLP with LeakyReLU and no normalisation in both cases.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
from torch import Tensor, nn

from aegan.errors import ConfigError
from aegan.losses import accuracy, discriminator_loss, generator_loss, reconstruction_loss
from aegan.models.base import AutoencodingModule, Losses
from aegan.nets import mlp
from aegan.nets.resnet import NORMS, resnet_encoder, resnet_generator


class AlphaGAN(AutoencodingModule):
    """alpha-GAN: encoder, generator, image discriminator and code discriminator.

    Args:
        latent_dim, prior, prior_args: z and p(z) (see :mod:`aegan.priors`).
        channels, max_channels: images: the width of the finest level of the residual nets,
            doubling per level up to ``max_channels``.
        norm: images: ``batch`` (BatchNorm in E, G and D) or ``none``.
        hidden: vectors: hidden widths of the MLP encoder, generator and discriminator.
        code_hidden: hidden widths of the code discriminator (LeakyReLU, no normalisation).
        recon_weight: lam, the weight of the L1 reconstruction term of E and G.
        ae_steps: encoder and generator steps per discriminator step.
        adversarial: ``false`` trains the plain autoencoder (the L1 terms only).
        lr_ae, lr_disc: Adam learning rates of E and G, and of D and C.
        betas: Adam's betas for all four optimizers.
        lr_milestones, lr_gamma: every learning rate is multiplied by ``lr_gamma`` after each of
            these epochs (none: constant).
        compile: ``none``, ``compile`` or ``graph`` (see :class:`~aegan.models.base.GenerativeModule`).
    """

    def __init__(self, data_shape: Sequence[int] = (1, 28, 28), num_classes: int = 10,
                 latent_dim: int = 16, prior: str = "gaussian", prior_args: dict | None = None,
                 channels: int = 32, max_channels: int = 256, norm: Literal["batch", "none"] = "batch",
                 hidden: Sequence[int] = (256, 256), code_hidden: Sequence[int] = (512, 512),
                 recon_weight: float = 10.0, ae_steps: int = 2, adversarial: bool = True,
                 lr_ae: float = 2e-4, lr_disc: float = 2e-4, betas: tuple[float, float] = (0.5, 0.9),
                 compile: Literal["none", "compile", "graph"] = "none",
                 lr_milestones: Sequence[int] = (), lr_gamma: float = 0.1):
        super().__init__(data_shape, num_classes, latent_dim, prior, prior_args, betas, compile)
        self.save_hyperparameters()
        self.lr_milestones, self.lr_gamma = tuple(lr_milestones), lr_gamma
        if ae_steps < 1:
            raise ConfigError(f"ae_steps must be at least 1, got {ae_steps}")
        if self.is_image:
            if self.data_shape[1] != self.data_shape[2]:
                raise ConfigError(f"alpha-GAN's residual nets take square images, got {self.data_shape[1:]}; "
                                  f"crop them (e.g. --data.image_size for an image folder)")
            if norm not in NORMS:
                raise ConfigError(f"unknown norm {norm!r}; valid choices: {', '.join(NORMS)}")
            nets = dict(channels=channels, max_channels=max_channels, norm=norm)
            self.encoder = resnet_encoder(self.data_shape, latent_dim, **nets)
            self.generator = resnet_generator(latent_dim, self.data_shape, **nets)
            self.discriminator = resnet_encoder(self.data_shape, 1, **nets, leaky=True)
        else:
            self.encoder = mlp(self.data_size, hidden, latent_dim)
            self.generator = mlp(latent_dim, list(reversed(hidden)), self.data_size)
            self.discriminator = mlp(self.data_size, hidden, 1, "leaky_relu")
        self.code_discriminator = mlp(latent_dim, code_hidden, 1, "leaky_relu")

    # --- protocol --------------------------------------------------------------------------------

    def encode(self, x: Tensor) -> Tensor:
        return self.encoder(x)

    def decode(self, z: Tensor) -> Tensor:
        return self.data_output(self.generator(z))

    # --- the four phases -------------------------------------------------------------------------

    def prior_sample(self, x: Tensor, y: Tensor) -> Tensor:
        """The prior draws of this batch (C's real codes, G's sample inputs)."""
        return self.prior.sample(len(x), device=x.device)

    def reconstruct_and_sample(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """(codes E(x), prior draws z, reconstructions G(E(x)), samples G(z)); images in data
        space. G sees codes and draws as one batch (one set of BatchNorm statistics)."""
        codes, draws = self.encoder(x), self.prior_sample(x, y)
        reconstructions, samples = self.data_output(self.generator(torch.cat([codes, draws]))).chunk(2)
        return codes, draws, reconstructions, samples

    @property
    def generator_normalises(self) -> bool:
        """Whether G's output for one input depends on the rest of its batch (BatchNorm)."""
        return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in self.generator.modules())

    def discriminate(self, images: Tensor) -> Tensor:
        return self.discriminator(images).squeeze(-1)

    def discriminate_codes(self, z: Tensor) -> Tensor:
        return self.code_discriminator(z).squeeze(-1)

    def l1(self, reconstructions: Tensor, x: Tensor) -> Tensor:
        return reconstruction_loss("l1", reconstructions, x, logits=False)

    def encoder_terms(self, x: Tensor, y: Tensor) -> Losses:
        if self.generator_normalises:  # the samples set G's batch statistics (module docstring)
            codes, _, reconstructions, _ = self.reconstruct_and_sample(x, y)
        else:
            codes = self.encoder(x)
            reconstructions = self.data_output(self.generator(codes))
        recon = self.l1(reconstructions, x)
        if not self.hparams.adversarial:
            return {"loss": self.hparams.recon_weight * recon, "recon_l1": recon}
        code = generator_loss(self.discriminate_codes(codes))
        return {"loss": self.hparams.recon_weight * recon + code, "recon_l1": recon, "code": code}

    def generator_terms(self, x: Tensor, y: Tensor) -> Losses:
        _, _, reconstructions, samples = self.reconstruct_and_sample(x, y)
        recon = self.l1(reconstructions, x)
        if not self.hparams.adversarial:
            return {"loss": self.hparams.recon_weight * recon, "recon_l1": recon}
        on_reconstructions, on_samples = self.discriminate(torch.cat([reconstructions, samples])).chunk(2)
        adv_rec, adv_sample = generator_loss(on_reconstructions), generator_loss(on_samples)
        return {"loss": self.hparams.recon_weight * recon + adv_rec + adv_sample, "recon_l1": recon,
                "adv_reconstruction": adv_rec, "adv_sample": adv_sample}

    def discriminator_terms(self, x: Tensor, judged: tuple[Tensor, ...]) -> Losses:
        """D's loss on ``x`` against ``judged``, the output of :meth:`reconstruct_and_sample`."""
        _, _, reconstructions, samples = judged
        real, fake = self.discriminate(x), self.discriminate(torch.cat([reconstructions, samples]))
        acc_real, acc_fake = accuracy(real, fake)
        return {"loss": discriminator_loss(real, fake), "acc_real": acc_real, "acc_fake": acc_fake}

    def code_discriminator_terms(self, judged: tuple[Tensor, ...]) -> Losses:
        codes, draws, _, _ = judged
        prior = self.discriminate_codes(draws)  # real: draws from p(z)
        encoded = self.discriminate_codes(codes)  # fake: codes from q(z)
        acc_prior, acc_encoded = accuracy(prior, encoded)
        return {"loss": discriminator_loss(prior, encoded), "acc_prior": acc_prior, "acc_encoded": acc_encoded}

    def optimizer_groups(self):
        lr_ae, lr_disc = self.hparams.lr_ae, self.hparams.lr_disc
        return {"encoder": (self.encoder.parameters(), lr_ae),
                "generator": (self.generator.parameters(), lr_ae),
                "discriminator": (self.discriminator.parameters(), lr_disc),
                "code_discriminator": (self.code_discriminator.parameters(), lr_disc)}

    def train_step(self, x: Tensor, y: Tensor) -> Losses:
        out: Losses = {}
        for _ in range(self.hparams.ae_steps):
            out |= self.phase("encoder", lambda: self.encoder_terms(x, y))
            out |= self.phase("generator", lambda: self.generator_terms(x, y))
        if self.hparams.adversarial:
            with torch.no_grad():  # what D and C judge; neither phase trains E or G
                judged = self.reconstruct_and_sample(x, y)
            out |= self.phase("discriminator", lambda: self.discriminator_terms(x, judged))
            out |= self.phase("code_discriminator", lambda: self.code_discriminator_terms(judged))
        return out
