import math

import pytest
import torch

from aegan.metrics import LatentSlicedWasserstein, sliced_wasserstein
from aegan.priors import GaussianPrior

N = 20_000


def gaussian(n=N, seed=0):
    return torch.randn(n, 2, generator=torch.Generator().manual_seed(seed))


def test_identical_sets_are_at_distance_zero():
    a = gaussian(1000)
    assert sliced_wasserstein(a, a).item() == pytest.approx(0.0, abs=1e-6)


def test_a_shift_of_mu_is_mu_over_sqrt_two_in_two_dimensions():
    # SW2^2 = E_theta[(theta . mu)^2] = |mu|^2 / 2 for directions uniform on the circle
    a, b = gaussian(), gaussian(seed=1) + torch.tensor([1.0, 0.0])
    assert sliced_wasserstein(a, b, projections=1000).item() == pytest.approx(1 / math.sqrt(2), rel=0.03)


def test_a_scale_change_of_s_is_one_minus_s_for_isotropic_gaussians():
    a, b = gaussian(), 0.5 * gaussian(seed=1)
    assert sliced_wasserstein(a, b).item() == pytest.approx(0.5, rel=0.03)


def test_sets_of_different_sizes_and_images_are_compared():
    assert sliced_wasserstein(gaussian(1000), gaussian(3000, seed=1)).item() < 0.1
    images = torch.rand(100, 1, 4, 4)
    assert sliced_wasserstein(images, images.flip(0)).item() == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match="different dimensions"):
        sliced_wasserstein(torch.zeros(3, 2), torch.zeros(3, 3))


def test_latent_metric_compares_collected_codes_with_the_prior():
    metric = LatentSlicedWasserstein(GaussianPrior(2))
    for chunk in gaussian(4000, seed=5).split(500):
        metric.update(chunk)
    assert metric.compute().item() < 0.08
    metric.reset()
    metric.update(3 * gaussian(4000, seed=5))
    assert metric.compute().item() == pytest.approx(2.0, rel=0.05)
