"""Replaying a model's whole training step as one CUDA graph (``--model.compile graph``).

Small GAN-family networks spend most of an eager step launching kernels: hundreds of them, each
too short to keep the GPU busy. A CUDA graph records every kernel of one step (all phases,
forwards, backwards and fused/capturable Adam steps) once and replays the recording with a
single launch. What this needs from the step, and what ``GenerativeModule.train_step`` is
written to give:

- static shapes: every batch has the same size (the training loaders drop the last partial
  batch) and is copied into the same input buffers;
- no host synchronisation and no Python branch on tensor values inside the step;
- no allocation outside the graph's memory pool: optimizer states exist before capture (hence
  the warm-up steps) and constants live on the device (priors are modules with buffers);
- optimizer steps on the raw ``torch.optim.Adam`` with ``capturable=True`` (Lightning's
  optimizer wrapper runs Python hooks around each step), after which Lightning's step counter
  is advanced by hand so ``global_step``, logging intervals and checkpoints stay as in eager mode.

Python branches on host values (e.g. AAE's pretraining epochs) give different graphs; the model
names them in ``graph_key()`` and each key is captured once. The warm-up steps run on a side
stream on copies of the batch and are then undone (weights, optimizer states and the RNG are
restored), so a captured run follows the same trajectory as an eager one.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

import torch
from torch import Tensor

WARMUP_STEPS = 3


class CapturedStep:
    """``step(*inputs)`` replaying ``fn(*inputs)`` (the module's whole step on a batch's
    tensors), captured once per ``module.graph_key()``."""

    def __init__(self, module, fn: Callable):
        self.module, self.fn = module, fn
        self.graphs: dict[Hashable, tuple[torch.cuda.CUDAGraph, tuple[Tensor, ...], dict[str, Tensor], list[str]]] = {}

    def __call__(self, *inputs: Tensor) -> dict[str, Tensor]:
        key = self.module.graph_key()
        if key not in self.graphs:
            self.graphs[key] = self.capture(inputs)
        graph, static_inputs, out, steps = self.graphs[key]
        for static, value in zip(static_inputs, inputs):
            static.copy_(value)
        graph.replay()
        for name in steps:  # the optimizer steps inside the graph, for Lightning's counters
            self.module.count_optimizer_step(name)
        return {k: v.clone() for k, v in out.items()}

    def capture(self, inputs: tuple[Tensor, ...]):
        module = self.module
        static_inputs = tuple(t.clone() for t in inputs)
        with restored(module):
            side = torch.cuda.Stream()
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side), capturing(module):
                for _ in range(WARMUP_STEPS):
                    self.fn(*static_inputs)
            torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with capturing(module) as steps, autocast_without_cache(), torch.cuda.graph(graph):
            out = self.fn(*static_inputs)
        return graph, static_inputs, out, steps


class capturing:
    """Makes ``module.phase`` step the raw optimizers and record which it stepped."""

    def __init__(self, module):
        self.module, self.steps = module, []

    def __enter__(self) -> list[str]:
        self.module._raw_steps = self.steps
        return self.steps

    def __exit__(self, *exc):
        self.module._raw_steps = None


class restored:
    """Undo whatever the block does to the weights and buffers, the optimizer states and the
    CUDA RNG, in place so that every tensor keeps its address for the graph. Optimizer states
    the block created go back to zero, which is how Adam starts."""

    def __init__(self, module):
        self.module = module

    def __enter__(self):
        self.weights = [t.detach().clone() for t in (*self.module.parameters(), *self.module.buffers())]
        self.states = [{id(p): {k: v.clone() for k, v in state.items() if isinstance(v, Tensor)}
                        for p, state in optimizer.state.items()} for optimizer in self.module.trainer.optimizers]
        self.rng = torch.cuda.get_rng_state()

    def __exit__(self, *exc):
        with torch.no_grad():
            for t, saved in zip((*self.module.parameters(), *self.module.buffers()), self.weights):
                t.copy_(saved)
            for optimizer, saved in zip(self.module.trainer.optimizers, self.states):
                for p, state in optimizer.state.items():
                    for name, value in state.items():
                        if isinstance(value, Tensor) and id(p) in saved:
                            value.copy_(saved[id(p)][name])
                        elif isinstance(value, Tensor):
                            value.zero_()
                optimizer.zero_grad(set_to_none=True)
        torch.cuda.set_rng_state(self.rng)


def autocast_without_cache() -> torch.autocast:
    """The surrounding autocast (e.g. Lightning's bf16-mixed) with its weight-cast cache off,
    which graph capture requires; a disabled autocast when there is none."""
    enabled = torch.is_autocast_enabled("cuda")
    dtype = torch.get_autocast_dtype("cuda") if enabled else torch.bfloat16
    return torch.autocast("cuda", dtype=dtype, enabled=enabled, cache_enabled=False)

