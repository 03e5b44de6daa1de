"""The AAE with a categorical latent (Makhzani et al. 2015, sections 5-6): semi-supervised
classification, unsupervised clustering and dimensionality reduction.

The encoder's trunk feeds two heads: a categorical ``y`` (softmax over K) and a continuous
style ``z``. The decoder rebuilds x from (y, z), or, for dimensionality reduction, from the
low-dimensional representation ``W y + z`` where the columns of W are K learned cluster heads.
Two discriminators regularise the heads: ``D_cat`` tells one-hot samples of Cat(K) (real) from
the softmax y (fake), ``D_style`` tells prior samples of p(z) (real) from the style z (fake).
Phases per batch, each with its own optimizer (Adam, or SGD with momentum and a stepped
schedule per phase as in the paper's appendix):

1. ``ae``       encoder, decoder (and heads W):  L = rec(x, dec(y, z))
                [+ rec(x_l, dec(onehot(label), z_l)) on the labelled batch (``recon_labelled``)]
                [+ heads_weight * sum_{i<j} max(0, heads_margin - |w_i - w_j|) for W]
2. ``disc``     D_cat, D_style:
                L = -log D_cat(c+n) - log(1 - D_cat(y+n)) - log D_style(z_p+n) - log(1 - D_style(z+n))
                with c ~ Cat(K) one-hot, z_p ~ p(z), n ~ N(0, disc_noise^2) drawn afresh per input
3. ``gen``      encoder:  L = -log D_cat(y+n) - log D_style(z+n)
4. ``classify`` encoder trunk and y head, on the labelled batch only:  L = cross-entropy(y logits, label)

Why the options (each off by default, so the earlier recipes stay reachable):

- ``disc_noise``: a discriminator that sees exact one-hot vectors as real and a softmax as fake
  separates them perfectly; the encoder's answer is to saturate its softmax, which then passes
  almost no gradient. Noise on both inputs blurs the two, keeps D's gradient informative, and
  still rewards a confident q(y|x) (musyoku/adversarial-autoencoder: std 0.3 in both Ds).
- ``decoder_y``: with the soft softmax in the decoder, y can serve as a continuous code; a
  straight-through one-hot (``hard``: argmax; ``gumbel``: a draw) gives the decoder K messages
  only, so all it can learn from y is a cluster, while the softmax's gradient still reaches the
  encoder.
- ``style_noise``: a deterministic encoder can pack any amount of information into a
  continuous z, even a 2-D one, and the prior only shapes its distribution; clustering runs
  showed the digit's identity in the style (one digit per style column of the style grid) and
  the clusters mixing digits. Noise on the style the decoder reads caps what z can tell it, so
  the identity becomes cheaper to send through y (its K messages) than through z.
- ``cat_noise``: D_cat's own noise, apart from D_style's (``disc_noise``), so that the two can
  be ablated one at a time.
- ``grad_clip``, ``init``, ``optimizer``: see :class:`~aegan.models.base.GenerativeModule`
  and :mod:`aegan.nets.init`.

Phase 4 runs when the batch has a labelled stream (``--data.labels_per_class k``, see
:class:`~aegan.data.AeganDataModule`); without one the same model clusters (K = ``num_clusters``).
Validation logs the classification error (argmax y against the label, meaningful when y was
trained with labels) and the cluster error by the paper's rule and by majority vote (see
:mod:`aegan.metrics.classification`), on the validation split and, where the data module has a
held-out test set, on it (clusters named from the validation split; examples ranked by the
log-odds of q(y|x), :func:`~aegan.metrics.classification.cluster_scores`, not by a softmax that
saturates).

Two diagnostics say whether the clusters still move: ``val/cluster_changed``, the share of
validation examples whose cluster (argmax q(y|x)) differs from the previous validation's, and
``train/{ae,gen}/logit_grad``, the mean norm over the batch of the gradient of each example's own
loss term at its y logits, in the ``ae`` phase (the reconstruction's pull on y) and the ``gen``
phase (D_cat's). A hard y passes the softmax's gradient, p(1 - p), which vanishes as q(y|x)
turns one-hot; then both fall towards zero and the clusters stop changing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchmetrics import CatMetric

from aegan.errors import ConfigError, unknown_choice
from aegan.losses import (
    RECONSTRUCTION_LOSSES,
    accuracy,
    discriminator_loss,
    generator_loss,
    reconstruction_loss,
)
from aegan.metrics.classification import classification_error, cluster_error, cluster_scores
from aegan.models.base import OPTIMIZERS, AutoencodingModule, Losses
from aegan.nets import initialise, mlp, mlp_decoder, mlp_encoder

PHASES = ("ae", "disc", "gen", "classify")
DECODER_Y = ("softmax", "hard", "gumbel")


def margin_penalty(w: Tensor, pairs: tuple[Tensor, Tensor], margin: float) -> Tensor:
    """sum over the ``pairs`` (i, j) of rows of ``w`` of max(0, margin - |w_i - w_j|)."""
    return F.relu(margin - torch.cdist(w, w)[pairs]).sum()


def spread_heads(k: int, dim: int, margin: float, steps: int = 5000) -> Tensor:
    """K cluster heads in ``dim`` dimensions with every pair at least ``margin`` apart: normal
    draws (std ``margin``) pushed apart by gradient descent on the margin penalty itself, before
    training. Adam moves a head by about its learning rate per step, so heads that start closer
    than the margin stay close for a whole short run: from PyTorch's default init they were 4
    groups of 4 at +-1 after 900 steps, and from the normal draws alone two heads were still 1.6
    apart (margin 6) after 20 epochs."""
    w = (torch.randn(k, dim) * margin).requires_grad_()
    pairs = torch.triu_indices(k, k, 1).unbind()
    with torch.enable_grad():  # also where the model is built under no_grad (a checkpoint load)
        for _ in range(steps):
            penalty = margin_penalty(w, pairs, 1.01 * margin)  # 1% slack: the gaps end >= margin
            if penalty.item() == 0:
                break
            (grad,) = torch.autograd.grad(penalty, w)
            with torch.no_grad():
                w -= 0.05 * margin * grad
    return w.detach()


class SemiSupervisedAAE(AutoencodingModule):
    """AAE with a categorical head y (K classes or clusters) and a style head z.

    Args:
        num_clusters: K, the width of y (10 for classification; 16 or 30 for clustering).
        latent_dim, prior, prior_args: the style z and its prior (Gaussian by default).
        heads: dimensionality reduction: the decoder sees ``W y + z`` (``latent_dim`` wide)
            instead of (y, z), and ``represent(x)`` gives that representation.
        heads_margin, heads_weight: cluster heads start at least the margin apart (see
            :func:`spread_heads`), and heads closer than it are pushed apart.
        hidden: the encoder trunk's and the decoder's hidden widths; disc_hidden: the
            discriminators'.
        input_noise: standard deviation of Gaussian noise added to the encoder's input while
            training (a regulariser; 0 turns it off).
        disc_noise: standard deviation of Gaussian noise added to every input of both
            discriminators, real and fake alike, in the ``disc`` and ``gen`` phases (0: none).
        cat_noise: D_cat's noise instead of ``disc_noise`` (None: ``disc_noise``); D_style keeps
            ``disc_noise``.
        cat_code: what D_cat sees of the encoder's y: the ``softmax`` probabilities (the paper),
            or ``gumbel``: a one-hot draw from them, straight-through Gumbel-softmax, so that D_cat
            compares one-hot vectors with one-hot vectors and can only tell them apart by how
            often each cluster comes up.
        decoder_y: what the decoder (and the representation ``W y + z``) gets of y: the
            ``softmax`` probabilities (the paper), or a straight-through one-hot whose value is
            the argmax (``hard``) or a Gumbel-softmax draw (``gumbel``; the argmax outside
            training) and whose gradient is the softmax's.
        style_noise: standard deviation of Gaussian noise added to the style z that the decoder
            reads in the ``ae`` phase (0: none); what the discriminators see is unchanged.
        recon_labelled: the ``ae`` phase also reconstructs the labelled batch from its true
            one-hot label and its style (musyoku/adversarial-autoencoder does).
        recon_loss: ``bce`` (images), ``mse`` or ``l1``.
        init: weight initialisation, see :data:`aegan.nets.INITS`.
        optimizer: ``adam`` (``betas``) or ``sgd`` with momentum (``momentum``).
        lr_ae, lr_gen, lr_disc, lr_classify: learning rate per phase.
        betas: Adam's betas (every phase).
        momentum: SGD's momentum, one number for every phase or ``{phase: momentum}`` (phases
            ``ae``, ``disc``, ``gen``, ``classify``; missing ones get 0.9).
        lr_milestones, lr_gamma: a learning rate is multiplied by ``lr_gamma`` after each of
            these epochs; one list for every phase or ``{phase: [epochs]}``.
        grad_clip: each phase's gradients are scaled to a total norm of at most this (None: off).
    """

    def __init__(self, data_shape: Sequence[int] = (1, 28, 28), num_classes: int = 10, num_clusters: int = 10,
                 latent_dim: int = 10, prior: str = "gaussian", prior_args: dict | None = None,
                 heads: bool = False, heads_margin: float = 3.0, heads_weight: float = 1.0,
                 hidden: Sequence[int] = (1000, 1000), disc_hidden: Sequence[int] = (1000, 1000),
                 input_noise: float = 0.3, disc_noise: float = 0.0, cat_noise: float | None = None,
                 cat_code: Literal["softmax", "gumbel"] = "softmax",
                 decoder_y: Literal["softmax", "hard", "gumbel"] = "softmax", style_noise: float = 0.0,
                 recon_labelled: bool = False,
                 recon_loss: str | None = None, init: Literal["default", "normal_0.01"] = "default",
                 optimizer: Literal["adam", "sgd"] = "adam",
                 lr_ae: float = 1e-3, lr_gen: float = 1e-3, lr_disc: float = 2e-4, lr_classify: float = 1e-3,
                 betas: tuple[float, float] = (0.5, 0.999), momentum: float | dict[str, float] = 0.9,
                 lr_milestones: Sequence[int] | dict[str, Sequence[int]] = (), lr_gamma: float = 0.1,
                 grad_clip: float | None = None, compile: Literal["none", "compile", "graph"] = "none"):
        super().__init__(data_shape, num_classes, latent_dim, prior, prior_args, betas, compile)
        self.save_hyperparameters()
        if optimizer not in OPTIMIZERS:
            raise unknown_choice("optimizer", optimizer, OPTIMIZERS)
        if decoder_y not in DECODER_Y:
            raise unknown_choice("decoder_y", decoder_y, DECODER_Y)
        for what, per_phase in (("momentum", momentum), ("lr_milestones", lr_milestones)):
            if isinstance(per_phase, dict) and set(per_phase) - set(PHASES):
                raise ConfigError(f"{what}: unknown phase {sorted(set(per_phase) - set(PHASES))[0]!r}; "
                                  f"valid choices: {', '.join(PHASES)}")
        for what, std in (("input_noise", input_noise), ("disc_noise", disc_noise), ("cat_noise", cat_noise),
                          ("style_noise", style_noise)):
            if std is not None and std < 0:
                raise ConfigError(f"{what} is a standard deviation and must be 0 or more, got {std}")
        if grad_clip is not None and grad_clip <= 0:
            raise ConfigError(f"grad_clip must be positive (or null for none), got {grad_clip}")
        self.optimizer_kind, self.grad_clip = optimizer, grad_clip
        self.momentum, self.lr_gamma = momentum, lr_gamma
        self.lr_milestones = lr_milestones if isinstance(lr_milestones, dict) else tuple(lr_milestones)
        self.recon_loss = recon_loss or ("bce" if self.is_image else "mse")
        if self.recon_loss not in RECONSTRUCTION_LOSSES or (self.recon_loss == "bce" and not self.is_image):
            raise ConfigError(f"recon_loss {self.recon_loss!r} does not suit this data; use "
                              f"{'bce, mse or l1' if self.is_image else 'mse or l1'}")
        if cat_code not in ("softmax", "gumbel"):
            raise ConfigError(f"unknown cat_code {cat_code!r}; valid choices: softmax, gumbel")
        if num_clusters < 2:
            raise ConfigError(f"num_clusters must be at least 2, got {num_clusters}")
        self.decoder_classes = num_clusters
        self.encoder = mlp_encoder(self.data_shape, hidden[:-1], hidden[-1])
        self.y_head = nn.Sequential(nn.ReLU(), nn.Linear(hidden[-1], num_clusters))
        self.z_head = nn.Sequential(nn.ReLU(), nn.Linear(hidden[-1], latent_dim))
        self.heads = nn.Linear(num_clusters, latent_dim, bias=False) if heads else None
        # the pairs of heads the margin compares, built once on the host and kept with the model,
        # so the step copies nothing from the host (it stays capturable as a CUDA graph)
        self.register_buffer("head_pairs", torch.triu_indices(num_clusters, num_clusters, 1) if heads else None,
                             persistent=False)
        if heads:
            with torch.no_grad():
                self.heads.weight.copy_(spread_heads(num_clusters, latent_dim, heads_margin).T)
        code_width = latent_dim if heads else num_clusters + latent_dim
        self.decoder = mlp_decoder(code_width, list(reversed(hidden)), self.data_shape)
        self.disc_cat = mlp(num_clusters, disc_hidden, 1)
        self.disc_style = mlp(latent_dim, disc_hidden, 1)
        for network in (self.encoder, self.y_head, self.z_head, self.decoder, self.disc_cat, self.disc_style):
            initialise(network, init)  # W stays as it is: the heads margin pushes it apart
        self.val_outputs = nn.ModuleDict({split: nn.ModuleDict({"logits": CatMetric(), "labels": CatMetric()})
                                          for split in ("val", "test")})
        # the validation examples' clusters at the last validation (for val/cluster_changed); kept
        # in checkpoints, so a resumed run compares with the epoch before it stopped
        self.last_clusters: Tensor | None = None

    # --- protocol ------------------------------------------------------------------------------

    def heads_of(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(y logits, style z) of a batch."""
        h = self.encoder(x)
        return self.y_head(h), self.z_head(h)

    def encode(self, x: Tensor) -> Tensor:
        return self.heads_of(x)[1]

    def classify(self, x: Tensor) -> Tensor:
        """q(y|x): class (or cluster) probabilities."""
        return self.heads_of(x)[0].softmax(-1)

    def code(self, y: Tensor, z: Tensor) -> Tensor:
        """What the decoder sees: (y, z), or W y + z for dimensionality reduction."""
        return z + self.heads(y) if self.heads is not None else torch.cat([y, z], -1)

    def decode(self, z: Tensor, labels: Tensor) -> Tensor:
        y = F.one_hot(labels.long(), self.decoder_classes).to(z.dtype)
        return self.data_output(self.decoder(self.code(y, z)))

    def reconstruct(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        """Through the encoder's own y and z (given labels are not used)."""
        logits, z = self.heads_of(x)
        return self.data_output(self.decoder(self.code(self.decoder_code(logits), z)))

    def represent(self, x: Tensor) -> Tensor:
        """The low-dimensional representation W y + z (dimensionality reduction only)."""
        logits, z = self.heads_of(x)
        return self.code(self.decoder_code(logits), z)

    def decoder_code(self, logits: Tensor) -> Tensor:
        """The y the decoder gets (see ``decoder_y``): the softmax, or a one-hot vector that
        passes the softmax's gradient straight through."""
        probs = logits.softmax(-1)
        if self.hparams.decoder_y == "softmax":
            return probs
        if self.hparams.decoder_y == "gumbel" and self.training:
            return F.gumbel_softmax(logits, hard=True)
        hard = F.one_hot(probs.argmax(-1), probs.shape[-1]).to(probs.dtype)
        return hard + probs - probs.detach()  # value: one-hot; gradient: the softmax's

    # --- the phases ----------------------------------------------------------------------------

    def noisy(self, x: Tensor) -> Tensor:
        return x + self.hparams.input_noise * torch.randn_like(x) if self.hparams.input_noise else x

    def noisy_style(self, z: Tensor) -> Tensor:
        return z + self.hparams.style_noise * torch.randn_like(z) if self.hparams.style_noise else z

    def judged(self, discriminator: nn.Module, v: Tensor) -> Tensor:
        """A discriminator's logit for ``v``, through its noise (``cat_noise`` for D_cat,
        ``disc_noise``): every input, real or fake, in either phase, passes here, so noise cannot
        tell them apart."""
        std = self.hparams.disc_noise
        if discriminator is self.disc_cat and self.hparams.cat_noise is not None:
            std = self.hparams.cat_noise
        if std:
            v = v + std * torch.randn_like(v)
        return discriminator(v).squeeze(-1)

    @staticmethod
    def logit_probe(logits: Tensor) -> Tensor:
        """A zero leaf tensor shaped as ``logits``: a phase adds it to its logits, and after the
        phase's backward its ``grad`` is d loss / d logits, read without a second backward or a
        hook, as tensors (no host sync)."""
        return torch.zeros_like(logits, requires_grad=True)

    @staticmethod
    def probed_norm(probe: Tensor) -> Tensor:
        """Mean over the batch of the norm of each example's own loss gradient at its logits
        (the losses are batch means, so an example's row of d loss / d logits is 1/B of it)."""
        if probe.grad is None:  # a phase whose loss did not reach the logits
            return probe.new_zeros((), dtype=torch.float32)
        return probe.grad.float().norm(dim=1).mean() * len(probe)

    def prior_sample(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """The real samples the discriminators see for this batch: one-hot c ~ Cat(K), z ~ p(z)."""
        clusters = torch.randint(self.decoder_classes, (len(x),), device=x.device)
        return F.one_hot(clusters, self.decoder_classes).to(x.dtype), self.prior.sample(len(x), device=x.device)

    def disc_cat_input(self, logits: Tensor) -> Tensor:
        """The categorical code D_cat judges (see ``cat_code``)."""
        return F.gumbel_softmax(logits, hard=True) if self.hparams.cat_code == "gumbel" else logits.softmax(-1)

    def reconstruction_terms(self, x: Tensor, x_labelled: Tensor | None = None,
                             y_labelled: Tensor | None = None, probe: list | None = None) -> Losses:
        """``probe``: a list that receives the :meth:`logit_probe` added to y's logits."""
        logits, z = self.heads_of(self.noisy(x))
        if probe is not None:
            probe.append(self.logit_probe(logits))
            logits = logits + probe[-1]
        raw = self.decoder(self.code(self.decoder_code(logits), self.noisy_style(z)))
        out = {"loss": reconstruction_loss(self.recon_loss, raw, x, logits=self.is_image)}
        if x_labelled is not None:  # the true label as y, the encoder's style as z
            _, z_labelled = self.heads_of(self.noisy(x_labelled))
            z_labelled = self.noisy_style(z_labelled)
            y = F.one_hot(y_labelled, self.decoder_classes).to(z_labelled.dtype)
            raw = self.decoder(self.code(y, z_labelled))
            out["labelled"] = reconstruction_loss(self.recon_loss, raw, x_labelled, logits=self.is_image)
            out["loss"] = out["loss"] + out["labelled"]
        if self.heads is not None:
            w = self.heads.weight.T  # (K, latent_dim): one head per cluster
            out["heads_penalty"] = margin_penalty(w, self.head_pairs.unbind(), self.hparams.heads_margin)
            out["loss"] = out["loss"] + self.hparams.heads_weight * out["heads_penalty"]
        return out

    def discriminator_terms(self, x: Tensor) -> Losses:
        cat_real, style_real = self.prior_sample(x)
        logits, z = self.heads_of(self.noisy(x))
        real_c = self.judged(self.disc_cat, cat_real)
        fake_c = self.judged(self.disc_cat, self.disc_cat_input(logits))
        real_z, fake_z = self.judged(self.disc_style, style_real), self.judged(self.disc_style, z)
        acc_cat, _ = accuracy(real_c, fake_c)
        acc_style, _ = accuracy(real_z, fake_z)
        return {"loss": discriminator_loss(real_c, fake_c) + discriminator_loss(real_z, fake_z),
                "acc_real_cat": acc_cat, "acc_real_style": acc_style}

    def generator_terms(self, x: Tensor, probe: list | None = None) -> Losses:
        logits, z = self.heads_of(self.noisy(x))
        if probe is not None:
            probe.append(self.logit_probe(logits))
            logits = logits + probe[-1]
        return {"loss": generator_loss(self.judged(self.disc_cat, self.disc_cat_input(logits)))
                + generator_loss(self.judged(self.disc_style, z))}

    def classification_terms(self, x: Tensor, y: Tensor) -> Losses:
        logits = self.y_head(self.encoder(self.noisy(x)))
        return {"loss": F.cross_entropy(logits, y), "error": (logits.argmax(-1) != y).float().mean()}

    def optimizer_groups(self):
        trunk = [*self.encoder.parameters(), *self.y_head.parameters(), *self.z_head.parameters()]
        ae = [*trunk, *self.decoder.parameters(), *(self.heads.parameters() if self.heads is not None else [])]
        return {
            "ae": (ae, self.hparams.lr_ae),
            "disc": ([*self.disc_cat.parameters(), *self.disc_style.parameters()], self.hparams.lr_disc),
            "gen": (trunk, self.hparams.lr_gen),
            "classify": ([*self.encoder.parameters(), *self.y_head.parameters()], self.hparams.lr_classify),
        }

    def step_inputs(self, batch) -> tuple[Tensor, ...]:
        if isinstance(batch, dict):  # {"all": (x, y), "labelled": (x, y)}
            return (*batch["all"], *batch["labelled"])
        return super().step_inputs(batch)

    def train_step(self, x: Tensor, y: Tensor, x_labelled: Tensor | None = None,
                   y_labelled: Tensor | None = None) -> Losses:
        labelled = (x_labelled, y_labelled) if self.hparams.recon_labelled and x_labelled is not None else ()
        ae_probe, gen_probe = [], []
        out = self.phase("ae", lambda: self.reconstruction_terms(x, *labelled, probe=ae_probe))
        out["ae/logit_grad"] = self.probed_norm(ae_probe[0])
        out |= self.phase("disc", lambda: self.discriminator_terms(x))
        out |= self.phase("gen", lambda: self.generator_terms(x, probe=gen_probe))
        out["gen/logit_grad"] = self.probed_norm(gen_probe[0])
        if x_labelled is not None:  # only the labelled stream ever reaches the classifier
            out |= self.phase("classify", lambda: self.classification_terms(x_labelled, y_labelled))
        return out

    # --- validation ----------------------------------------------------------------------------

    def validation_step(self, batch, batch_idx, dataloader_idx=0):
        super().validation_step(batch, batch_idx, dataloader_idx)
        x, y = batch
        outputs = self.val_outputs["val" if dataloader_idx == 0 else "test"]
        outputs["logits"].update(self.heads_of(x)[0].float())
        outputs["labels"].update(y)

    def on_validation_epoch_end(self):
        # compute() gathers every rank's examples (a collective each rank enters); from here on
        # every rank holds the same tensors and logs the same numbers without another sync
        gathered = {split: (o["logits"].compute(), o["labels"].compute()) for split, o in self.val_outputs.items()
                    if o["logits"].update_count}
        for o in self.val_outputs.values():
            for metric in o.values():
                metric.reset()
        if "val" not in gathered or self.trainer.sanity_checking:
            return
        scores = {split: cluster_scores(logits) for split, (logits, _) in gathered.items()}
        assign_labels = gathered["val"][1]
        for split, (logits, labels) in gathered.items():
            # mean max q(y|x): near 1 when y picks one cluster per input; far below it, y is a
            # continuous code and the clusters mean little
            self.log_global(f"{split}/confidence", logits.softmax(1).max(1).values.mean())
            if self.decoder_classes == self.num_classes:
                self.log_global(f"{split}/class_error", classification_error(logits.argmax(1), labels))
            for rule, suffix in (("paper", ""), ("majority", "_majority")):
                error = cluster_error(scores["val"], assign_labels, scores[split], labels, rule)
                self.log_global(f"{split}/cluster_error{suffix}", error)
        clusters = gathered["val"][0].argmax(1).cpu()
        if self.last_clusters is not None and self.last_clusters.shape == clusters.shape:
            changed = (clusters != self.last_clusters).float().mean().item()  # on the host already
            self.log_global("val/cluster_changed", changed)
        self.last_clusters = clusters

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        super().on_save_checkpoint(checkpoint)
        if self.last_clusters is not None:
            checkpoint["aegan_last_clusters"] = self.last_clusters

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        super().on_load_checkpoint(checkpoint)
        self.last_clusters = checkpoint.get("aegan_last_clusters")
