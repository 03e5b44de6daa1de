"""BatchNorm statistics estimated on chosen inputs, and swapped in for a while.

A BatchNorm layer normalises a training batch by that batch's own statistics, and an
evaluation input by the running averages of the training batches it has seen. Where one layer
sees batches of different kinds in training (a GAN's discriminator reads a batch of real data,
then a batch of samples), the running averages mix the kinds and describe none of them. These
helpers estimate a network's statistics on inputs of one kind (``torch.optim.swa_utils.update_bn``:
a cumulative average of the batch statistics over every batch given, which is what training
normalised each of those batches with, on average) and put them in place only inside a
``with`` block, so the running averages that training keeps are left as they were.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import torch
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.optim.swa_utils import update_bn

#: per BatchNorm layer (by its name in the module): (running mean, running variance)
NormStatistics = dict[str, tuple[Tensor, Tensor]]


def _norm_layers(module: nn.Module) -> dict[str, _BatchNorm]:
    return {name: m for name, m in module.named_modules() if isinstance(m, _BatchNorm) and m.track_running_stats}


def current_statistics(module: nn.Module) -> NormStatistics:
    """A copy of the running statistics every BatchNorm layer of ``module`` holds now."""
    return {name: (m.running_mean.clone(), m.running_var.clone()) for name, m in _norm_layers(module).items()}


@torch.no_grad()
def estimate_statistics(module: nn.Module, batches: Iterable[Tensor]) -> NormStatistics:
    """The statistics ``module``'s BatchNorm layers reach when they average the batch
    statistics of ``batches`` (each run through ``module`` in training mode, as a batch of its
    own). ``module`` comes back exactly as it was: its running statistics, momenta and modes."""
    layers = _norm_layers(module)
    saved = {name: (m.running_mean.clone(), m.running_var.clone(), m.num_batches_tracked.clone())
             for name, m in layers.items()}
    modes = {m: m.training for m in module.modules()}
    try:
        update_bn(batches, module)
        return current_statistics(module)
    finally:
        for name, m in layers.items():
            for buffer, value in zip((m.running_mean, m.running_var, m.num_batches_tracked), saved[name]):
                buffer.copy_(value)
        for m, training in modes.items():
            m.training = training


@contextmanager
def statistics_in_place(module: nn.Module, statistics: NormStatistics) -> Iterator[None]:
    """Inside the block, ``module``'s BatchNorm layers (in evaluation mode) normalise with
    ``statistics``; afterwards with their own running statistics again."""
    layers = _norm_layers(module)
    if set(layers) != set(statistics):
        raise ValueError(f"statistics for layers {sorted(statistics)} given to a module whose BatchNorm layers "
                         f"are {sorted(layers)}")
    saved = current_statistics(module)
    with torch.no_grad():
        for name, m in layers.items():
            m.running_mean.copy_(statistics[name][0])
            m.running_var.copy_(statistics[name][1])
    try:
        yield
    finally:
        with torch.no_grad():
            for name, m in layers.items():
                m.running_mean.copy_(saved[name][0])
                m.running_var.copy_(saved[name][1])
