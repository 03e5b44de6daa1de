"""The common protocol of every aegan method and the manual-optimisation helpers.

A method is a :class:`GenerativeModule`: it builds its networks in ``__init__``, names its
optimizers in :meth:`~GenerativeModule.optimizer_groups`, and writes one training step,
:meth:`~GenerativeModule.train_step`, as a sequence of phases::

    def train_step(self, x, y):
        out = self.phase("ae", lambda: {"loss": self.reconstruction_loss(x)})
        out |= self.phase("disc", lambda: self.discriminator_terms(x, y))
        return out

Each phase names its optimizer and touches only that optimizer's parameters:
``toggle_optimizer`` switches ``requires_grad`` off for every other parameter, so no gradient
reaches, say, the discriminator during a generator step. The step returns detached tensors and
never calls ``.item()``, so it does not wait on the device.

Callbacks and metrics use only the protocol, and test capabilities with ``hasattr``:
``latent_dim``, ``prior``, ``sample(n, labels)``, ``decode(z)``, and, for methods with an
encoder (:class:`AutoencodingModule`), ``encode(x)`` and ``reconstruct(x)``.
"""

from __future__ import annotations

import math
from abc import ABCMeta, abstractmethod
from collections.abc import Callable, Iterable, Sequence

import lightning as L
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from aegan.errors import ConfigError
from aegan.metrics.latent import LatentSlicedWasserstein
from aegan.priors import Prior, make_prior

Losses = dict[str, Tensor]


class GenerativeModule(L.LightningModule, metaclass=ABCMeta):
    """Base class: a prior, named optimizers, phases, and the sampling protocol.

    Args:
        data_shape: shape of one example, ``(C, H, W)`` for images in [0, 1] or ``(D,)`` for
            vectors; linked from the data module by the CLI.
        num_classes: number of labels in the data (linked from the data module).
        latent_dim: width of z.
        prior: name of p(z), see :data:`aegan.priors.PRIORS`.
        prior_args: the prior's shape parameters, e.g. ``{"std": 2.0}``.
        betas: Adam's betas for every optimizer.
    """

    def __init__(self, data_shape: Sequence[int], num_classes: int, latent_dim: int,
                 prior: str, prior_args: dict | None, betas: tuple[float, float]):
        super().__init__()
        self.automatic_optimization = False
        self.data_shape = tuple(int(s) for s in data_shape)
        if len(self.data_shape) not in (1, 3):
            raise ConfigError(f"data_shape must be (C, H, W) or (D,), got {self.data_shape}")
        self.num_classes = int(num_classes)
        self.latent_dim = int(latent_dim)
        self.prior: Prior = make_prior(prior, self.latent_dim, **(prior_args or {}))
        self.betas = tuple(betas)

    @property
    def is_image(self) -> bool:
        """Image data lives in [0, 1]: decoders then output logits and ``decode`` a sigmoid."""
        return len(self.data_shape) == 3

    @property
    def data_size(self) -> int:
        return math.prod(self.data_shape)

    # --- sampling protocol -------------------------------------------------------------------

    @abstractmethod
    def decode(self, z: Tensor) -> Tensor:
        """Map latent codes to data space (images in [0, 1])."""

    def sample(self, n: int, labels: Tensor | None = None) -> Tensor:
        """Decode ``n`` draws from the prior (per label, where the prior has components)."""
        return self.decode(self.prior.sample(n, labels, device=self.device))

    def data_output(self, raw: Tensor) -> Tensor:
        """A decoder's raw output in data space: the sigmoid of logits for images."""
        return raw.sigmoid() if self.is_image else raw

    # --- optimisation --------------------------------------------------------------------------

    @abstractmethod
    def optimizer_groups(self) -> dict[str, tuple[Iterable[nn.Parameter], float]]:
        """``{phase name: (parameters, learning rate)}``; one Adam optimizer per entry."""

    @abstractmethod
    def train_step(self, x: Tensor, y: Tensor) -> Losses:
        """One optimisation step over all phases; returns detached losses and statistics."""

    def configure_optimizers(self):
        groups = self.optimizer_groups()
        self._optimizer_index = {name: i for i, name in enumerate(groups)}
        return [torch.optim.Adam(list(params), lr=lr, betas=self.betas) for params, lr in groups.values()]

    def phase(self, name: str, terms: Callable[[], Losses]) -> Losses:
        """Run one phase: compute ``terms()`` with only optimizer ``name``'s parameters
        trainable, step on ``terms()["loss"]``, and return the terms detached, keyed
        ``"{name}/{term}"``."""
        optimizers = self.optimizers()
        optimizer = optimizers[self._optimizer_index[name]] if isinstance(optimizers, list) else optimizers
        with self.toggled_optimizer(optimizer):
            out = terms()
            optimizer.zero_grad(set_to_none=True)
            self.manual_backward(out["loss"])
            optimizer.step()
        return {f"{name}/{k}": v.detach() for k, v in out.items()}

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        # the class to rebuild, also for checkpoints written outside LightningCLI (which
        # records it as hyper_parameters["_class_path"] only)
        checkpoint["aegan_class"] = f"{type(self).__module__}.{type(self).__qualname__}"

    def training_step(self, batch, batch_idx):
        x, y = batch
        losses = self.train_step(x, y)
        self.log_dict({f"train/{k}": v for k, v in losses.items()}, on_step=True, on_epoch=True)


class AutoencodingModule(GenerativeModule):
    """A method with an encoder: adds ``encode``/``reconstruct`` and validates both.

    Validation logs ``val/recon_mse`` (mean squared error of reconstructions, whatever loss
    the method trains with, so methods compare) and ``val/latent_swd``, the sliced Wasserstein
    distance between q(z) (``posterior_sample`` of the validation set) and as many prior
    samples p(z).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.val_latent_swd = LatentSlicedWasserstein(self.prior)

    @abstractmethod
    def encode(self, x: Tensor) -> Tensor:
        """A latent code per input (the posterior mean for stochastic encoders)."""

    def posterior_sample(self, x: Tensor) -> Tensor:
        """A draw z ~ q(z|x); the aggregated posterior q(z) is made of these. Deterministic
        encoders return ``encode(x)``."""
        return self.encode(x)

    def reconstruct(self, x: Tensor) -> Tensor:
        return self.decode(self.encode(x))

    def validation_step(self, batch, batch_idx):
        x, _ = batch
        self.log("val/recon_mse", F.mse_loss(self.reconstruct(x), x), sync_dist=True)
        self.val_latent_swd.update(self.posterior_sample(x))
        self.log("val/latent_swd", self.val_latent_swd)
