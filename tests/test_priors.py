import math

import pytest
import torch

from aegan.errors import ConfigError
from aegan.priors import (
    PRIORS,
    CodePrior,
    GaussianPrior,
    MixturePrior,
    SwissRollPrior,
    UniformPrior,
    make_prior,
)

N = 200_000


def petal(z: torch.Tensor) -> torch.Tensor:
    """The mixture component a 2-D point belongs to, by its angle (petals are thin)."""
    return torch.remainder(torch.round(torch.atan2(z[..., 1], z[..., 0]) / (2 * math.pi / 10)), 10).long()


def draw(prior, labels=None, n=N):
    return prior.sample(n, labels, generator=torch.Generator().manual_seed(0))


def test_gaussian_has_the_mean_and_std_it_claims():
    z = draw(GaussianPrior(3, std=2.5))
    assert z.shape == (N, 3)
    assert z.mean(0).abs().max() < 0.03
    assert torch.allclose(z.std(0), torch.full((3,), 2.5), atol=0.02)
    assert torch.corrcoef(z.T)[0, 1].abs() < 0.01


def test_uniform_stays_in_range_with_the_right_variance():
    z = draw(UniformPrior(2, half_width=3.0))
    assert z.abs().max() <= 3.0
    assert torch.allclose(z.var(0), torch.full((2,), 3.0**2 / 3), rtol=0.02)
    assert UniformPrior(2, 3.0).log_prob(torch.tensor([[4.0, 0.0]])).item() == -math.inf
    assert UniformPrior(2, 3.0).log_prob(torch.zeros(1, 2)).item() == pytest.approx(-2 * math.log(6))


def test_mixture_component_k_has_its_mean_and_covariance():
    prior = MixturePrior(2, radius=2.0, radial_std=0.5, tangential_std=0.1)
    for k in (0, 3, 7):
        z = draw(prior, torch.full((N,), k), n=N)
        angle = 2 * math.pi * k / 10
        radial = torch.tensor([math.cos(angle), math.sin(angle)])
        tangential = torch.tensor([-math.sin(angle), math.cos(angle)])
        assert torch.allclose(z.mean(0), 2.0 * radial, atol=0.01)
        assert (z @ radial).std().item() == pytest.approx(0.5, rel=0.02)
        assert (z @ tangential).std().item() == pytest.approx(0.1, rel=0.02)


def test_unlabelled_mixture_uses_all_components_equally_and_log_prob_is_a_density():
    prior = MixturePrior(2)
    z = draw(prior)
    nearest = petal(z)
    share = torch.bincount(nearest, minlength=10).float() / N
    assert torch.allclose(share, torch.full((10,), 0.1), atol=0.005)
    # the density integrates to one over a fine grid covering the mixture
    ticks = torch.linspace(-4, 4, 801)
    grid = torch.stack(torch.meshgrid(ticks, ticks, indexing="ij"), -1).reshape(-1, 2)
    cell = (ticks[1] - ticks[0]) ** 2
    assert (prior.log_prob(grid).exp().sum() * cell).item() == pytest.approx(1.0, abs=0.01)


def test_swiss_roll_label_k_is_the_kth_tenth_of_the_roll():
    prior = SwissRollPrior(2, radius=3.0, turns=2.0)
    for k in (0, 4, 9):
        z = draw(prior, torch.full((20_000,), k), n=20_000)
        u = (z.norm(dim=1) / 3.0) ** 2  # radius = 3 sqrt(u)
        assert u.min() >= k / 10 - 1e-5 and u.max() <= (k + 1) / 10 + 1e-5
        assert u.mean().item() == pytest.approx((k + 0.5) / 10, abs=0.01)
        # the angle follows the radius: angle = 2 pi turns sqrt(u)
        expected = 2 * math.pi * 2.0 * u.sqrt()
        assert torch.allclose(torch.atan2(z[:, 1], z[:, 0]), torch.atan2(expected.sin(), expected.cos()), atol=1e-3)
    u = (draw(prior).norm(dim=1) / 3.0) ** 2
    assert u.mean().item() == pytest.approx(0.5, abs=0.005)  # unlabelled: u ~ U[0, 1)


def test_wider_latents_are_independent_pairs_and_labels_fix_every_pair():
    prior = MixturePrior(6)
    z = draw(prior).reshape(N, 3, 2)
    components = petal(z)
    same = (components[:, 0] == components[:, 1]).float().mean().item()
    assert same == pytest.approx(0.1, abs=0.005)  # independent components: equal 1 time in 10
    labelled = draw(prior, torch.full((1000,), 6), n=1000).reshape(1000, 3, 2)
    axes = prior.scales[6]  # columns: principal axes times their standard deviations
    whitened = torch.linalg.solve(axes, (labelled.reshape(-1, 2) - prior.means[6]).T)
    assert whitened.norm(dim=0).max() < 5  # every pair within 5 standard deviations of petal 6


def test_label_minus_one_means_any_component():
    prior = SwissRollPrior(2)
    labels = torch.tensor([-1] * 5000 + [2] * 5000)
    u = (draw(prior, labels, n=10_000).norm(dim=1) / prior.radius) ** 2
    assert u[:5000].min() < 0.1 and u[:5000].max() > 0.9
    assert ((u[5000:] >= 0.2 - 1e-5) & (u[5000:] <= 0.3 + 1e-5)).all()


def test_infogan_codes_are_noise_a_uniform_one_hot_category_and_uniform_continuous_codes():
    prior = CodePrior(GaussianPrior(3), categories=4, continuous=2)
    z = draw(prior, n=40_000)
    noise, one_hot, continuous = prior.split(z)
    assert z.shape == (40_000, 3 + 4 + 2) and prior.num_components == 4
    assert torch.allclose(noise.std(0), torch.ones(3), atol=0.02)
    assert torch.equal(one_hot.sum(-1), torch.ones(40_000)) and set(one_hot.unique().tolist()) == {0.0, 1.0}
    assert torch.allclose(one_hot.mean(0), torch.full((4,), 0.25), atol=0.01)
    assert continuous.min() >= -1 and continuous.max() <= 1
    assert torch.allclose(continuous.var(0), torch.full((2,), 1 / 3), atol=0.01)  # U[-1, 1]
    labels = torch.tensor([2, -1, 0])
    fixed = prior.split(prior.sample(3, labels))[1].argmax(-1)
    assert fixed[0] == 2 and fixed[2] == 0
    assert torch.equal(prior.join(*prior.split(z)[:1], one_hot.argmax(-1), continuous), z)  # join undoes split
    with pytest.raises(ValueError, match=r"\[-1, 3\]"):
        prior.sample(1, torch.tensor([4]))


@pytest.mark.parametrize("name", sorted(PRIORS))
def test_every_prior_samples_on_the_requested_device_and_repeats_with_a_seed(name):
    prior = make_prior(name, 4)
    a = prior.sample(10, generator=torch.Generator().manual_seed(3), device="cpu")
    b = prior.sample(10, generator=torch.Generator().manual_seed(3), device="cpu")
    assert a.shape == (10, 4) and torch.equal(a, b)


def test_bad_prior_requests_are_refused_with_the_choices():
    with pytest.raises(ConfigError, match="unknown prior 'nope'; valid choices: gaussian, mixture, swiss_roll, uniform"):
        make_prior("nope", 2)
    with pytest.raises(ConfigError, match="even"):
        make_prior("swiss_roll", 3)
    with pytest.raises(ConfigError, match="no parameter radius; valid parameters: std"):
        make_prior("gaussian", 2, radius=1.0)
    with pytest.raises(ValueError, match="cannot be sampled per label"):
        GaussianPrior(2).sample(3, torch.zeros(3))
    with pytest.raises(ValueError, match=r"\[-1, 9\]"):
        MixturePrior(2).sample(2, torch.tensor([0, 10]))
