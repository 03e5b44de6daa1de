"""InfoGAN (Chen et al. 2016): a GAN whose generator must keep part of its latent recoverable.

The latent is [noise, one-hot c_cat, c_cont] (:class:`~aegan.priors.CodePrior`): 62 noise
dimensions (uniform on [-1, 1], as in the paper's code), a categorical code c_cat ~ Cat(10) and
two continuous codes c_cont ~ U[-1, 1]. Q, the approximate posterior of the codes given an
image, is a head on the discriminator's trunk: logits of c_cat, and a diagonal Gaussian over the
continuous codes. As in the official code (openai/InfoGAN, ``run_mnist_exp.py``) the Gaussian's
standard deviation is fixed at ``continuous_std`` = 1 and both parts weigh 1, so the continuous
part is a squared error, NLL = sum_j (c_j - mean_j)^2 / 2 + ln(2 pi) / 2 per code; with
``continuous_std=None`` Q also learns a log standard deviation per code (floor e^-3), which pulls
on the means up to e^6 = 400 times harder per unit of weight (40 times at the earlier weight 0.1).
The mutual-information lower bound

    L_I = E_{c ~ p(c), x ~ G(noise, c)} [log Q(c | x)] + H(c)  <=  I(c; G(noise, c))

is maximised by G and by Q (weights ``lambda_cat`` and ``lambda_cont``). Its categorical part,
L_I,cat = ln 10 - CE(Q_cat(x), c_cat), is at most H(c_cat) = ln 10 = 2.30, reached when Q reads
the code off every sample; the continuous part is L_I,cont = m ln 2 + E[log Q(c_cont | x)]. Two
phases per batch (the entropies H(c) are constants and carry no gradient):

1. ``disc`` trunk, D head and Q head:  L_D + lambda_cat CE + lambda_cont NLL   (on the fake batch)
2. ``gen``  G:  -log D(G(z)) + lambda_cat CE + lambda_cont NLL

with CE the categorical cross-entropy and NLL the Gaussian negative log-likelihood of the codes G
was given. The data's labels never reach Q's loss (``train_step`` ignores y): a popular peer
feeds the real labels to it, which makes a conditional GAN instead. Both phases log
``mi_cat`` and ``mi_cont`` (nats); ``gen/mi_cat`` should approach ln 10.

The ``infogan`` config sets the official networks' details (openai/InfoGAN,
``regularized_gan.py`` and ``custom_ops.py``): LeakyReLU of slope 0.01 in D's trunk and in Q
(``leaky_slope``; the class's default is DCGAN's 0.2) and every weight drawn from N(0, 0.02) with
zero biases (``init="normal_0.02"``; the class's default is PyTorch's own). They are the
config's and not the class's defaults because N(0, 0.02) suits the BatchNorm conv nets: the small
MLP nets without BatchNorm start from signals that shrink by ~0.1 per layer, and on the toy ring
the code was not learned at all in 8 epochs (L_I,cat 0.006 nats against 2.04 with PyTorch's
initialisation). Checkpoints saved before these arguments existed load with the values they
were trained with (``added_arguments``).

``classify(x)`` gives Q's categorical probabilities; validation logs ``val/q_accuracy`` and
``test/q_accuracy``, the share of real digits whose Q code matches their label under the best
one-to-one mapping of codes to digits (the paper's "5% error" protocol), beside the GAN's
``val/disc_acc_real``.

Q is scored as it was trained. In training, Q reads only fakes, and every BatchNorm layer on its
path (the trunk's and its own) normalises each fake batch by that batch's statistics. The
running statistics are another thing: Q's own layer has tracked only fakes, but the trunk's
has tracked two fake batches (one per phase) for every real one, so in evaluation mode a real
digit would pass through a normalisation that Q never saw in training. With
``q_statistics="fakes"`` (the default) Q reads a digit in evaluation mode with the statistics
of the fakes it trains on, estimated afresh on ``Q_STATISTICS_SAMPLES`` samples of G (batches
of ``Q_STATISTICS_BATCH``, the official batch size): it reads a real digit as it would read
it among a batch of fakes. Re-estimating on the scored digits themselves would also be
defensible once G matches the data, but it adapts Q to the test set, so a score would depend
on which digits are scored together; the fakes' statistics do not. The statistics are
estimated once per stretch of evaluation mode (``train()``/``eval()`` drop them) and swapped in
only around Q, so D's ``val/disc_acc_real`` and the running statistics are untouched.
``q_statistics="running"`` is the earlier scoring, with the running statistics; with ``fakes``
validation also logs that reading as ``val/q_accuracy_running`` and ``test/q_accuracy_running``,
so one run shows what the statistics change.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.distributions import Normal
from torchmetrics import CatMetric

from aegan.errors import ConfigError, unknown_choice
from aegan.losses import accuracy, discriminator_loss, generator_loss
from aegan.metrics.codes import best_mapping_accuracy
from aegan.models.base import Losses
from aegan.models.gan import GAN
from aegan.nets import initialise
from aegan.nets.norm import NormStatistics, estimate_statistics, statistics_in_place
from aegan.priors import CodePrior, make_prior

# Q's standard deviations stay above e^-3 = 0.05: below it the likelihood's gradients (1 / sigma^2)
# would swamp the adversarial ones
LOG_STD_FLOOR = -3.0
#: how Q's BatchNorm layers normalise in evaluation mode (see the module's docstring)
Q_STATISTICS = ("fakes", "running")
#: the samples of G, and their batch size, that the fakes' statistics are estimated on
Q_STATISTICS_SAMPLES, Q_STATISTICS_BATCH = 2048, 128


class InfoGAN(GAN):
    """InfoGAN with DCGAN-style (default: the paper's MNIST networks) or MLP networks.

    Args:
        noise_dim, prior, prior_args: the incompressible noise and its distribution.
        code_categories: values of the categorical code; continuous_codes: number of continuous codes.
        lambda_cat, lambda_cont: weights of the two parts of L_I.
        continuous_std: Q's fixed standard deviation of each continuous code; None: learned.
        q_hidden: width of Q's hidden layer on top of the trunk.
        leaky_slope: negative slope of the LeakyReLUs of the conv trunk and of Q (official, and the
            config's: 0.01).
        init: weight initialisation of every network (official, and the config's: ``normal_0.02``),
            see :data:`aegan.nets.INITS`.
        q_statistics: ``fakes`` or ``running``: the BatchNorm statistics Q reads with in
            evaluation mode (see the module's docstring).
        net, hidden, channels, norm, activation, lr_gen, lr_disc, betas, gen_steps, disc_steps,
        compile: as for :class:`~aegan.models.gan.GAN`.
    """

    #: arguments newer than some checkpoints, with the value those checkpoints were trained with
    #: (:func:`aegan.api.load_checkpoint` passes it): before ``continuous_std``, Q learned it;
    #: before ``leaky_slope`` and ``init``, DCGAN's slope 0.2 and PyTorch's initialisation.
    #: (``q_statistics`` changes no training: old checkpoints are scored the new way too)
    added_arguments = {"continuous_std": None, "leaky_slope": 0.2, "init": "default"}

    def __init__(self, data_shape: Sequence[int] = (1, 28, 28), num_classes: int = 10, noise_dim: int = 62,
                 prior: str = "uniform", prior_args: dict | None = None, code_categories: int = 10,
                 continuous_codes: int = 2, lambda_cat: float = 1.0, lambda_cont: float = 1.0,
                 continuous_std: float | None = 1.0,
                 net: Literal["mlp", "conv"] = "conv", hidden: Sequence[int] = (1024,),
                 channels: Sequence[int] = (64, 128), norm: Literal["batch", "none"] = "batch",
                 activation: str = "leaky_relu", q_hidden: int = 128, lr_gen: float = 1e-3, lr_disc: float = 2e-4,
                 betas: tuple[float, float] = (0.5, 0.999), gen_steps: int = 1, disc_steps: int = 1,
                 compile: Literal["none", "compile", "graph"] = "none", leaky_slope: float = 0.2,
                 init: Literal["default", "normal_0.01", "normal_0.02"] = "default",
                 q_statistics: Literal["fakes", "running"] = "fakes"):
        if continuous_std is not None and continuous_std <= 0:
            raise ConfigError(f"continuous_std must be positive or null (learned), got {continuous_std}")
        if q_statistics not in Q_STATISTICS:
            raise unknown_choice("q_statistics", q_statistics, Q_STATISTICS)
        noise = make_prior(prior, noise_dim, **(prior_args or {}))
        code_prior = CodePrior(noise, code_categories, continuous_codes)
        super().__init__(data_shape, num_classes, code_prior.dim, prior, prior_args, net, hidden, channels, norm,
                         activation, lr_gen, lr_disc, betas, gen_steps, disc_steps, compile, leaky_slope=leaky_slope,
                         init=init)
        # GAN's call recorded GAN's arguments too; latent_dim is not InfoGAN's (it follows from the codes)
        self.hparams.pop("latent_dim", None)
        self.save_hyperparameters()
        self.prior = code_prior
        width = self.disc_head.in_features
        batch_norm = [nn.BatchNorm1d(q_hidden)] if net == "conv" and norm == "batch" else []
        self.q_head = initialise(nn.Sequential(
            nn.Linear(width, q_hidden), *batch_norm, nn.LeakyReLU(leaky_slope),
            nn.Linear(q_hidden, code_categories + self._std_outputs(continuous_codes))), init)
        self._fake_statistics: NormStatistics | None = None  # estimated when Q first scores in evaluation mode
        self.q_outputs = nn.ModuleDict({split: nn.ModuleDict({"codes": CatMetric(), "codes_running": CatMetric(),
                                                              "labels": CatMetric()}) for split in ("val", "test")})

    # --- Q ---------------------------------------------------------------------------------------

    def _std_outputs(self, continuous: int) -> int:
        """Q's outputs for the continuous codes: a mean each, and a log standard deviation each
        when it is learned."""
        return continuous if self.hparams.continuous_std is not None else 2 * continuous

    def posterior(self, features: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Q's (categorical logits, means, log standard deviations) from trunk features."""
        categories, continuous = self.prior.categories, self.prior.continuous
        out = self.q_head(features)
        logits, mean = out[:, :categories], out[:, categories:categories + continuous]
        if self.hparams.continuous_std is not None:
            return logits, mean, torch.full_like(mean, math.log(self.hparams.continuous_std))
        return logits, mean, out[:, categories + continuous:].clamp(min=LOG_STD_FLOOR)

    def classify(self, x: Tensor) -> Tensor:
        """Q(c_cat | x): the categorical code's probabilities. In evaluation mode, with the
        BatchNorm statistics of G's samples (``q_statistics="fakes"``, see the module's docstring)."""
        if self.training or self.hparams.q_statistics == "running":
            return self.posterior(self.trunk(x))[0].softmax(-1)
        if self._fake_statistics is None:
            self._fake_statistics = self.fake_statistics()
        with statistics_in_place(self.q_network, self._fake_statistics):
            return self.posterior(self.trunk(x))[0].softmax(-1)

    @property
    def q_network(self) -> nn.Sequential:
        """Q's path from an image: the trunk and the Q head (the modules themselves, not copies)."""
        return nn.Sequential(self.trunk, self.q_head)

    def fake_statistics(self) -> NormStatistics:
        """The BatchNorm statistics of Q's path over ``Q_STATISTICS_SAMPLES`` fresh samples of G
        (a fixed seed, so a checkpoint scores the same each time; the global random state is left
        as it was). G samples as ``sample`` does (in evaluation mode where the model is)."""
        devices = [self.device] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices), torch.no_grad():
            torch.manual_seed(0)
            fakes = [self.sample(Q_STATISTICS_BATCH) for _ in range(Q_STATISTICS_SAMPLES // Q_STATISTICS_BATCH)]
        return estimate_statistics(self.q_network, fakes)

    def train(self, mode: bool = True):
        # the fakes' statistics belong to the weights of one stretch of evaluation mode
        self._fake_statistics = None
        return super().train(mode)

    def information_terms(self, features: Tensor, z: Tensor) -> Losses:
        """The weighted L_I loss of samples generated from ``z`` (trunk ``features`` of them), and
        the two lower bounds in nats."""
        _, one_hot, c = self.prior.split(z)
        logits, mean, log_std = self.posterior(features)
        cross_entropy = F.cross_entropy(logits, one_hot.argmax(-1))
        nll = -Normal(mean, log_std.exp(), validate_args=False).log_prob(c).sum(-1).mean()
        return {"info": self.hparams.lambda_cat * cross_entropy + self.hparams.lambda_cont * nll,
                "mi_cat": math.log(self.prior.categories) - cross_entropy,
                "mi_cont": self.prior.continuous * math.log(2) - nll}

    # --- the two phases --------------------------------------------------------------------------

    def discriminator_terms(self, x: Tensor) -> Losses:
        z = self.noise(x)
        features = self.trunk(self.decode(z))
        real, fake = self.discriminate(x), self.disc_head(features).squeeze(-1)
        out = self.information_terms(features, z)
        acc_real, acc_fake = accuracy(real, fake)
        return {"loss": discriminator_loss(real, fake) + out.pop("info"), "acc_real": acc_real,
                "acc_fake": acc_fake, **out}

    def generator_terms(self, x: Tensor) -> Losses:
        z = self.noise(x)
        features = self.trunk(self.decode(z))
        adversarial = generator_loss(self.disc_head(features).squeeze(-1))
        out = self.information_terms(features, z)
        return {"loss": adversarial + out.pop("info"), "adversarial": adversarial, **out}

    def optimizer_groups(self):
        groups = super().optimizer_groups()
        params, lr = groups["disc"]
        groups["disc"] = ([*params, *self.q_head.parameters()], lr)
        return groups

    # --- validation: Q as a classifier of real digits ---------------------------------------------

    def validation_step(self, batch, batch_idx, dataloader_idx=0):
        super().validation_step(batch, batch_idx, dataloader_idx)
        x, y = batch
        outputs = self.q_outputs["val" if dataloader_idx == 0 else "test"]
        outputs["codes"].update(self.classify(x).argmax(-1))
        if self.hparams.q_statistics == "fakes":  # the running statistics' reading beside, to show what they change
            outputs["codes_running"].update(self.posterior(self.trunk(x))[0].argmax(-1))
        outputs["labels"].update(y)

    def on_validation_epoch_end(self):
        for split, outputs in self.q_outputs.items():
            if not outputs["codes"].update_count:
                continue
            labels = outputs["labels"].compute().long()
            readings = {name: outputs[key].compute().long() for name, key in
                        (("q_accuracy", "codes"), ("q_accuracy_running", "codes_running"))
                        if outputs[key].update_count}
            for metric in outputs.values():
                metric.reset()
            known = labels >= 0
            if known.any() and not self.trainer.sanity_checking:
                for name, codes in readings.items():
                    score, _ = best_mapping_accuracy(codes[known], labels[known], self.prior.categories,
                                                     max(self.num_classes, int(labels.max()) + 1))
                    self.log_global(f"{split}/{name}", score)
