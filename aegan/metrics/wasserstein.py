"""Wasserstein distances between two sets of samples (images or latents).

- :func:`sliced_wasserstein`: cheap, no training; for latents and quick checks. Written here
  because it is a few lines of torch; the library that has it (POT) would be a new dependency.
- :func:`critic_distance`: an independent WGAN-GP critic, alpha-GAN's evaluation of samples.
  There is no library critic to take; it is the paper's recipe in about thirty lines.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import torch
from torch import Tensor, nn


def sliced_wasserstein(a: Tensor, b: Tensor, projections: int = 256,
                       generator: torch.Generator | None = None) -> Tensor:
    """Sliced 2-Wasserstein distance between the empirical distributions of ``a`` and ``b``.

    Both are projected on ``projections`` random unit directions; in 1-D the optimal transport
    pairs sorted values, so SW2^2 is the mean over directions of the mean squared difference of
    matched quantiles. Sets of different sizes are compared at ``min(len(a), len(b))`` evenly
    spaced quantiles. Samples are flattened, so images work too. Returns a scalar tensor on the
    device of ``a``; pass a seeded ``generator`` for directions that repeat from call to call.
    """
    a, b = a.flatten(1).float(), b.flatten(1).float().to(a.device)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"sample sets have different dimensions: {a.shape[1]} and {b.shape[1]}")
    directions = torch.randn(a.shape[1], projections, generator=generator).to(a.device)
    directions = directions / directions.norm(dim=0, keepdim=True)
    pa, pb = (a @ directions).sort(0).values, (b @ directions).sort(0).values
    if len(pa) != len(pb):
        k = min(len(pa), len(pb))
        levels = (torch.arange(k, device=a.device) + 0.5) / k
        pa, pb = (p[(levels * len(p)).long()] for p in (pa, pb))
    return (pa - pb).pow(2).mean().sqrt()


def _critic_network(shape: tuple[int, ...]) -> nn.Module:
    """Strided convolutions for images, an MLP for vectors; no normalisation layers, which
    the gradient penalty's per-example gradients forbid."""
    if len(shape) == 3:
        body = nn.Sequential(nn.Conv2d(shape[0], 64, 4, 2, 1), nn.LeakyReLU(0.2),
                             nn.Conv2d(64, 128, 4, 2, 1), nn.LeakyReLU(0.2), nn.Flatten())
    else:
        body = nn.Sequential(nn.Flatten(), nn.Linear(math.prod(shape), 256), nn.LeakyReLU(0.2),
                             nn.Linear(256, 256), nn.LeakyReLU(0.2))
    with torch.no_grad():
        width = body(torch.zeros(1, *shape)).shape[1]
    return nn.Sequential(body, nn.Linear(width, 1))


def critic_distance(real: Tensor, fake: Tensor, steps: int = 2000, batch_size: int = 128,
                    lr: float = 1e-4, penalty: float = 10.0, seed: int = 0, device=None,
                    progress: Callable[[int, int, float], None] | None = None) -> float:
    """Wasserstein-1 estimate of an independent critic (alpha-GAN's evaluation).

    A fresh WGAN-GP critic f (gradient penalty ``penalty``, Adam(lr, betas=(0.5, 0.9)) as in
    Gulrajani et al. 2017) learns to separate the first half of ``real`` from the first half of
    ``fake`` for ``steps`` steps; the estimate E f(real) - E f(fake) is then read on the other
    halves, so a critic that memorised its training samples does not inflate it. 0 means the
    critic cannot tell the sets apart; larger is further. ``progress(step, steps, seconds)``, if
    given, hears after the first 20 steps (enough for an estimate of the whole) and every tenth
    of the run.
    """
    if real.shape[1:] != fake.shape[1:]:
        raise ValueError(f"real and fake samples differ in shape: {tuple(real.shape[1:])} vs {tuple(fake.shape[1:])}")
    # callers may sit inside Lightning's validation loop, under inference mode
    with torch.inference_mode(False), torch.enable_grad():
        return _train_and_score_critic(real.clone().float(), fake.clone().float(), steps, batch_size, lr,
                                       penalty, seed, device, progress)


def _train_and_score_critic(real, fake, steps, batch_size, lr, penalty, seed, device, progress=None) -> float:
    start = time.perf_counter()
    report = {min(20, steps), *range(max(1, steps // 10), steps + 1, max(1, steps // 10))} if progress else set()
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    critic = _critic_network(tuple(real.shape[1:])).to(device)
    optimizer = torch.optim.Adam(critic.parameters(), lr=lr, betas=(0.5, 0.9))
    real_train, real_test = real.chunk(2)
    fake_train, fake_test = fake.chunk(2)
    for step in range(steps):
        r = real_train[torch.randint(len(real_train), (batch_size,), generator=generator)].to(device)
        f = fake_train[torch.randint(len(fake_train), (batch_size,), generator=generator)].to(device)
        mix = torch.rand(batch_size, *[1] * (r.dim() - 1), generator=generator).to(device)
        between = (mix * r + (1 - mix) * f).requires_grad_(True)
        (grad,) = torch.autograd.grad(critic(between).sum(), between, create_graph=True)
        gradient_penalty = (grad.flatten(1).norm(dim=1) - 1).pow(2).mean()
        loss = critic(f).mean() - critic(r).mean() + penalty * gradient_penalty
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if step + 1 in report:
            progress(step + 1, steps, time.perf_counter() - start)
    with torch.no_grad():
        scores = [torch.cat([critic(b.to(device)) for b in half.split(1000)]).mean() for half in (real_test, fake_test)]
    return float(scores[0] - scores[1])
