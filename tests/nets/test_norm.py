"""BatchNorm statistics estimated on chosen batches, and swapped in for a block."""

import pytest
import torch
from torch import nn

from aegan.nets import estimate_statistics, statistics_in_place


def net():
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2), nn.BatchNorm1d(2))


def test_the_estimate_averages_the_batch_statistics_and_leaves_the_network_as_it_was(seeded):
    model = net().eval()
    model[1].running_mean.fill_(5.0)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    batches = [torch.randn(16, 3) + i for i in range(3)]
    statistics = estimate_statistics(model, batches)
    with torch.no_grad():  # by hand: the mean over batches of each batch's mean and unbiased variance
        features = [model[0](b) for b in batches]
        mean = torch.stack([f.mean(0) for f in features]).mean(0)
        var = torch.stack([f.var(0) for f in features]).mean(0)
    assert set(statistics) == {"1", "4"}
    assert torch.allclose(statistics["1"][0], mean, atol=1e-6) and torch.allclose(statistics["1"][1], var, atol=1e-5)
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    assert not any(m.training for m in model.modules()) and model[1].momentum == 0.1


def test_statistics_hold_inside_the_block_only(seeded):
    model = net().eval()
    x = torch.randn(8, 3)
    own = model(x)
    statistics = estimate_statistics(model, [torch.randn(32, 3) * 3 + 2])
    with torch.no_grad(), statistics_in_place(model, statistics):
        swapped = model(x)
        assert torch.equal(model[1].running_mean, statistics["1"][0])
    assert not torch.allclose(swapped, own) and torch.equal(model(x), own)
    with pytest.raises(ValueError, match="statistics for layers"):
        with statistics_in_place(model, {"1": statistics["1"]}):
            pass
