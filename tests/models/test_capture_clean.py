"""Options that once copied from the host inside the training step (which a CUDA graph cannot
capture) or lost precision under bf16: the dimensionality-reduction heads' margin, the VAE's
fixed decoder standard deviation, and the VAE's importance-weighted bound."""

import pytest
import torch
from torch.distributions import Normal

import aegan.models.vae as vae_module
from aegan.models import VAE, SemiSupervisedAAE


def test_the_head_margin_uses_pairs_built_once_not_in_the_step(monkeypatch):
    torch.manual_seed(0)
    model = SemiSupervisedAAE(data_shape=(4,), num_clusters=5, latent_dim=2, hidden=(8,), disc_hidden=(4,),
                              heads=True, heads_margin=10.0, input_noise=0.0)
    w = model.heads.weight.T.detach()
    i, j = torch.triu_indices(5, 5, 1)
    expected = torch.relu(10.0 - (w[i] - w[j]).norm(dim=-1)).sum()

    def host_indices(*args, **kwargs):
        raise AssertionError("torch.triu_indices called inside the step")

    monkeypatch.setattr(torch, "triu_indices", host_indices)
    terms = model.reconstruction_terms(torch.rand(6, 4))
    torch.testing.assert_close(terms["heads_penalty"], expected)
    assert model.head_pairs.shape == (2, 10)


def test_a_fixed_decoder_std_is_a_tensor_that_moves_with_the_model(monkeypatch):
    model = VAE(data_shape=(3,), hidden=(8,), latent_dim=2, decoder_std=0.5).double()
    scales = []

    class Recording(Normal):
        def __init__(self, loc, scale, **kwargs):
            scales.append(scale)
            super().__init__(loc, scale, **kwargs)

    monkeypatch.setattr(vae_module, "Normal", Recording)
    x = torch.rand(4, 3, dtype=torch.float64)
    raw = torch.rand(4, 3, dtype=torch.float64)
    log_p = model.log_likelihood(raw, x)
    assert torch.is_tensor(scales[0]) and scales[0].dtype == torch.float64  # a buffer, cast with the model
    torch.testing.assert_close(log_p, Normal(raw, 0.5).log_prob(x).sum(-1))


def test_the_importance_weighted_bound_is_float32_under_bf16(monkeypatch):
    torch.manual_seed(0)
    model = VAE(data_shape=(1, 28, 28), hidden=(32,), latent_dim=4).eval()
    x = torch.rand(8, 1, 28, 28).round()
    torch.manual_seed(1)
    reference = model.importance_weighted_bound(x, k=16)
    densities = []

    class Recording(Normal):
        def __init__(self, loc, scale, **kwargs):
            densities.append(loc.dtype)
            super().__init__(loc, scale, **kwargs)

    monkeypatch.setattr(vae_module, "Normal", Recording)
    torch.manual_seed(1)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        bound = model.importance_weighted_bound(x, k=16)
    # the networks ran in bf16; q(z|x), p(z) and the log-sum-exp of ~550-nat weights did not
    assert densities and set(densities) == {torch.float32}
    assert bound.dtype == torch.float32 and bound.tolist() == pytest.approx(reference.tolist(), rel=1e-3)
