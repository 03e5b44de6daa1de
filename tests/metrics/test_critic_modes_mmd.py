import math

import pytest
import torch

from aegan.data import toy_modes
from aegan.data.toy import TOY_STD, make_toy
from aegan.metrics.latent import mmd, reconstruction_errors
from aegan.metrics.modes import mode_coverage
from aegan.metrics.wasserstein import critic_distance

GRID = torch.as_tensor(toy_modes("toy_grid"), dtype=torch.float32)


def grid_samples(n, seed=0, modes=None):
    x = torch.from_numpy(make_toy("toy_grid", n, seed).x)
    if modes is not None:  # keep points of the chosen modes only
        x = x[torch.cdist(x, GRID).argmin(1).unsqueeze(1).eq(torch.tensor(modes)).any(1)]
    return x


def test_samples_of_the_grid_itself_cover_all_modes_with_high_quality():
    result = mode_coverage(grid_samples(2500), GRID, TOY_STD["toy_grid"])
    assert result["modes_covered"] == 25 and result["high_quality"] >= 0.95
    assert result["reverse_kl"] < 0.02


def test_samples_of_five_modes_cover_five():
    result = mode_coverage(grid_samples(5000, modes=[0, 6, 12, 18, 24]), GRID, TOY_STD["toy_grid"])
    assert result["modes_covered"] == 5 and result["high_quality"] >= 0.95
    assert result["reverse_kl"] == pytest.approx(math.log(25 / 5), abs=0.05)


def test_points_far_from_every_mode_are_not_high_quality():
    result = mode_coverage(torch.tensor([[1.0, 1.0], [3.0, 3.0], [0.0, 0.01]]), GRID, 0.05)
    assert result["high_quality"] == pytest.approx(1 / 3) and result["modes_covered"] == 1


def test_independent_critic_tells_apart_different_sets_but_not_equal_ones():
    real, same = grid_samples(2000, seed=1), grid_samples(2000, seed=2)
    shifted = same + torch.tensor([1.0, 0.0])
    equal = critic_distance(real, same, steps=300)
    apart = critic_distance(real, shifted, steps=300)
    assert abs(equal) < 0.1
    assert apart > 0.5  # W1 of a shift by 1 is 1; a critic trained briefly gets most of it


def test_mmd_is_near_zero_for_equal_distributions_and_grows_with_the_difference():
    a, b = torch.randn(1000, 2), torch.randn(1000, 2)
    assert abs(mmd(a, b).item()) < 0.01
    assert mmd(a, b + 0.5).item() < mmd(a, b + 1.0).item()
    assert mmd(a, b + 1.0).item() > 0.1


def test_reconstruction_errors():
    x = torch.zeros(2, 3)
    assert reconstruction_errors(x, x + 0.5) == {"recon_mse": 0.25, "recon_l1": 0.5}
