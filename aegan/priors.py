"""Latent priors p(z).

Every prior draws ``sample(n, labels=None)`` of shape ``(n, dim)`` on any device and with an
optional ``torch.Generator`` (so callbacks can draw the same z every epoch). Priors are modules
whose constants are (non-persistent) buffers: they move with the model, so sampling on the
model's device copies nothing from the host and can run inside a captured CUDA graph. Label
values are checked on CPU tensors only, where the check costs no device synchronisation. The two 2-D shapes
of the AAE paper, a mixture of 10 Gaussians on a circle and a swiss roll, are defined on pairs of
dimensions: a wider latent is a stack of independent 2-D pairs (an odd width is refused).
Priors made of components (``num_components``) can also be sampled per label: label ``k`` picks
component ``k`` (the k-th petal, the k-th tenth of the roll) in every pair, and label ``-1``
means "no label" (any component), which is how the label-conditioned AAE treats unlabelled data.
"""

from __future__ import annotations

import inspect
import math
from abc import ABCMeta, abstractmethod

import torch
from torch import Tensor, nn
from torch.distributions import Categorical, MixtureSameFamily, MultivariateNormal, Normal

from aegan.errors import ConfigError, unknown_choice


class Prior(nn.Module, metaclass=ABCMeta):
    """p(z) over ``dim`` dimensions."""

    num_components: int | None = None  # set by priors that can be sampled per label

    def __init__(self, dim: int):
        super().__init__()
        if dim < 1:
            raise ConfigError(f"latent_dim must be at least 1, got {dim}")
        self.dim = dim
        self.register_buffer("_device_marker", torch.zeros(0), persistent=False)

    def _device(self, device, generator) -> torch.device:
        """The requested device, else the generator's, else the device the prior lives on."""
        if device is not None:
            return torch.device(device)
        return generator.device if generator is not None else self._device_marker.device

    @abstractmethod
    def sample(self, n: int, labels: Tensor | None = None, *, device=None,
               generator: torch.Generator | None = None) -> Tensor:
        """``n`` draws of shape ``(n, dim)``; ``labels`` (n,) where the prior has components."""

    def extra_repr(self) -> str:
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return ", ".join(f"{name}={getattr(self, name)}" for name in names)


class GaussianPrior(Prior):
    """N(0, std^2 I)."""

    def __init__(self, dim: int, std: float = 1.0):
        super().__init__(dim)
        self.std = float(std)

    def sample(self, n, labels=None, *, device=None, generator=None):
        _refuse_labels(self, labels)
        return self.std * torch.randn(n, self.dim, device=self._device(device, generator), generator=generator)

    def log_prob(self, z: Tensor) -> Tensor:
        return Normal(0.0, self.std).log_prob(z).sum(-1)


class UniformPrior(Prior):
    """U[-half_width, half_width]^dim."""

    def __init__(self, dim: int, half_width: float = 1.0):
        super().__init__(dim)
        self.half_width = float(half_width)

    def sample(self, n, labels=None, *, device=None, generator=None):
        _refuse_labels(self, labels)
        u = torch.rand(n, self.dim, device=self._device(device, generator), generator=generator)
        return self.half_width * (2 * u - 1)

    def log_prob(self, z: Tensor) -> Tensor:
        inside = (z.abs() <= self.half_width).all(-1)
        density = -self.dim * math.log(2 * self.half_width)
        return torch.where(inside, density, -math.inf)


class _PairPrior(Prior):
    """A 2-D shape with ``num_components`` parts, stacked over pairs of latent dimensions."""

    def __init__(self, dim: int, num_components: int):
        super().__init__(dim)
        if dim % 2:
            raise ConfigError(f"{type(self).__name__} is defined on pairs of dimensions; "
                              f"latent_dim must be even, got {dim}")
        self.num_components = int(num_components)

    def sample(self, n, labels=None, *, device=None, generator=None):
        pairs = self.dim // 2
        device = self._device(device, generator)
        # one component per (sample, pair); a label fixes it across all pairs of that sample
        k = torch.randint(self.num_components, (n, pairs), device=device, generator=generator)
        k = _fix_components(self, k, labels)
        z = self._sample_2d(k.reshape(-1), generator)  # (n * pairs, 2)
        return z.reshape(n, self.dim)

    @abstractmethod
    def _sample_2d(self, k: Tensor, generator) -> Tensor:
        """One 2-D point from component ``k[i]`` for each i: shape ``(len(k), 2)``."""


class MixturePrior(_PairPrior):
    """Ten (``num_components``) elongated 2-D Gaussians placed evenly on a circle.

    Component k sits at angle 2*pi*k/K and distance ``radius`` from the origin, with standard
    deviation ``radial_std`` along the radius and ``tangential_std`` across it (the "petals" of
    the AAE paper's figures).
    """

    def __init__(self, dim: int, num_components: int = 10, radius: float = 2.0,
                 radial_std: float = 0.5, tangential_std: float = 0.1):
        super().__init__(dim, num_components)
        self.radius, self.radial_std, self.tangential_std = float(radius), float(radial_std), float(tangential_std)
        angle = 2 * math.pi * torch.arange(self.num_components) / self.num_components
        radial = torch.stack([angle.cos(), angle.sin()], -1)                  # (K, 2)
        tangential = torch.stack([-angle.sin(), angle.cos()], -1)
        self.register_buffer("means", self.radius * radial, persistent=False)
        # columns of scale: the two principal axes times their standard deviations
        scales = torch.stack([self.radial_std * radial, self.tangential_std * tangential], -1)
        self.register_buffer("scales", scales, persistent=False)

    def _sample_2d(self, k, generator):
        eps = torch.randn(k.shape[0], 2, 1, device=k.device, generator=generator)
        means, scales = self.means.to(k.device), self.scales.to(k.device)
        return means[k] + (scales[k] @ eps).squeeze(-1)

    def distribution(self, device=None) -> MixtureSameFamily:
        """The 2-D mixture of one pair as a ``torch.distributions`` object."""
        means, scales = self.means.to(device), self.scales.to(device)
        weights = Categorical(logits=torch.zeros(self.num_components, device=device))
        return MixtureSameFamily(weights, MultivariateNormal(means, covariance_matrix=scales @ scales.mT))

    def log_prob(self, z: Tensor) -> Tensor:
        pairs = z.reshape(*z.shape[:-1], self.dim // 2, 2)
        return self.distribution(z.device).log_prob(pairs).sum(-1)


class SwissRollPrior(_PairPrior):
    """A 2-D swiss roll: position u in [0, 1) maps to radius ``radius*sqrt(u)`` and angle
    ``2*pi*turns*sqrt(u)``; component k is the stretch u in [k/K, (k+1)/K). The square root makes
    the density roughly even along the arc. ``noise`` adds isotropic Gaussian jitter."""

    def __init__(self, dim: int, num_components: int = 10, radius: float = 3.0,
                 turns: float = 2.0, noise: float = 0.0):
        super().__init__(dim, num_components)
        self.radius, self.turns, self.noise = float(radius), float(turns), float(noise)

    def _sample_2d(self, k, generator):
        u = (k + torch.rand(k.shape[0], device=k.device, generator=generator)) / self.num_components
        s = u.sqrt()
        angle = 2 * math.pi * self.turns * s
        z = self.radius * s[:, None] * torch.stack([angle.cos(), angle.sin()], -1)
        if self.noise:
            z = z + self.noise * torch.randn(z.shape, device=z.device, generator=generator)
        return z


class CodePrior(Prior):
    """InfoGAN's latent (Chen et al. 2016): incompressible noise from the ``noise`` prior, a
    categorical code c ~ Cat(``categories``) as a one-hot vector, and ``continuous`` codes
    ~ U[-1, 1], concatenated in that order. A label fixes the categorical code (-1: drawn), so
    sampling per label gives one row per code value in the decoder grid."""

    def __init__(self, noise: Prior, categories: int = 10, continuous: int = 2):
        if categories < 2 or continuous < 0:
            raise ConfigError(f"InfoGAN needs at least 2 categories and 0 or more continuous codes, "
                              f"got {categories} and {continuous}")
        super().__init__(noise.dim + categories + continuous)
        self.noise, self.categories, self.continuous = noise, int(categories), int(continuous)
        self.num_components = self.categories

    def sample(self, n, labels=None, *, device=None, generator=None):
        device = self._device(device, generator)
        noise = self.noise.sample(n, device=device, generator=generator)
        k = torch.randint(self.categories, (n,), device=device, generator=generator)
        k = _fix_components(self, k[:, None], labels)[:, 0]
        c = 2 * torch.rand(n, self.continuous, device=device, generator=generator) - 1
        return self.join(noise, k, c)

    def join(self, noise: Tensor, categories: Tensor, continuous: Tensor) -> Tensor:
        """The latent of noise (n, noise dim), category indices (n,) and continuous codes (n, m)."""
        one_hot = (categories[:, None] == torch.arange(self.categories, device=noise.device)).to(noise.dtype)
        return torch.cat([noise, one_hot, continuous.to(noise.dtype)], -1)

    def split(self, z: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """(noise, one-hot categorical code, continuous codes) of latents ``z``."""
        return z.split([self.noise.dim, self.categories, self.continuous], -1)


def _fix_components(prior: Prior, k: Tensor, labels) -> Tensor:
    """Drawn component indices ``k`` (n, pairs), with those of the labelled samples set to their
    label (label -1: keep the draw). Label values are checked on CPU tensors only."""
    if labels is None:
        return k
    n = len(k)
    labels = torch.as_tensor(labels).reshape(-1)
    if labels.shape[0] != n:
        raise ValueError(f"{n} samples asked for but {labels.shape[0]} labels given")
    if labels.device.type == "cpu" and ((labels >= prior.num_components) | (labels < -1)).any():
        raise ValueError(f"labels must lie in [-1, {prior.num_components - 1}] for {type(prior).__name__}")
    labels = labels.to(k.device).long()
    return torch.where(labels[:, None] >= 0, labels[:, None], k)


def _refuse_labels(prior: Prior, labels) -> None:
    if labels is not None:
        raise ValueError(f"{type(prior).__name__} has no components and cannot be sampled per label")


PRIORS: dict[str, type[Prior]] = {
    "gaussian": GaussianPrior,
    "uniform": UniformPrior,
    "mixture": MixturePrior,
    "swiss_roll": SwissRollPrior,
}


def make_prior(name: str, dim: int, **kwargs) -> Prior:
    """Build a prior by name; ``kwargs`` are its shape parameters (e.g. ``std`` or ``radius``)."""
    if name not in PRIORS:
        raise unknown_choice("prior", name, PRIORS)
    cls = PRIORS[name]
    params = [p for p in inspect.signature(cls.__init__).parameters if p not in ("self", "dim")]
    bad = sorted(set(kwargs) - set(params))
    if bad:
        raise ConfigError(f"prior {name!r} has no parameter {', '.join(bad)}; "
                          f"valid parameters: {', '.join(params)}")
    return cls(dim, **kwargs)
