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

Under DDP each phase averages its own optimizer's gradients across processes before stepping
(DDP's reducer, built for one backward pass per forward, is kept out of the way with
``no_sync``), so several backward passes per batch and networks idle in a phase are fine.
BatchNorm running statistics are averaged over the processes before every validation and at
every epoch's end, so figures, metrics and checkpoints do not depend on the rank that made them.
Every batch starts from a random state derived from (seed, epoch, batch, rank), which is what
makes a run resumed at any batch boundary repeat the original exactly. A non-finite loss stops
training (see :mod:`aegan.models.guard`).

Callbacks and metrics use only the protocol, and test capabilities with ``hasattr``:
``latent_dim``, ``prior``, ``sample(n, labels)``, ``decode(z)``, and, for methods with an
encoder (:class:`AutoencodingModule`), ``encode(x)`` and ``reconstruct(x)``.
"""

from __future__ import annotations

import functools
import math
import os
import re
import warnings
from abc import ABCMeta, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from contextlib import nullcontext

import lightning as L
import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from lightning.pytorch.trainer.states import TrainerFn
from lightning.pytorch.utilities import rank_zero_warn
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel
from torch.optim.lr_scheduler import MultiStepLR
from torchmetrics import Metric

from aegan.errors import ConfigError, unknown_choice
from aegan.metrics.latent import LatentSlicedWasserstein
from aegan.models.capture import CapturedStep
from aegan.models.guard import NonFiniteGuard
from aegan.priors import Prior, make_prior

Losses = dict[str, Tensor]
COMPILE_MODES = ("none", "compile", "graph")
OPTIMIZERS = ("adam", "sgd")
FUSED_DEVICES = ("cpu", "cuda")  # where torch has fused Adam and SGD


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
        compile: how the training step runs: ``none`` (eager), ``compile`` (each network
            through ``torch.compile``) or ``graph`` (the whole step captured once as a CUDA
            graph and replayed, see :mod:`aegan.models.capture`; CUDA only).
    """

    #: False for a model whose step cannot be captured as a CUDA graph (its file says why);
    #: ``compile="graph"`` then runs eagerly with a warning.
    capturable = True
    #: the number of classes whose one-hot label the decoder takes beside z (0: it takes none);
    #: such models have ``decode(z, labels)`` and ``reconstruct(x, labels)``
    decoder_classes = 0
    #: epochs after which every learning rate is multiplied by ``lr_gamma`` (none: constant);
    #: ``phase_milestones`` may give each phase its own
    lr_milestones: Sequence[int] = ()
    lr_gamma = 0.1
    #: every phase's optimizer: ``adam`` (with ``betas``) or ``sgd`` (with ``momentum``)
    optimizer_kind = "adam"
    #: SGD's momentum: one number, or ``{phase: momentum}`` (missing phases: 0.9); like
    #: ``lr_milestones``, which may also be ``{phase: [epochs]}`` (missing phases: none)
    momentum: float | dict[str, float] = 0.9
    #: each phase's gradients are scaled down to at most this total norm before its step (None: off)
    grad_clip: float | None = None

    def __init__(self, data_shape: Sequence[int], num_classes: int, latent_dim: int,
                 prior: str, prior_args: dict | None, betas: tuple[float, float], compile: str = "none"):
        super().__init__()
        if compile not in COMPILE_MODES:
            raise unknown_choice("compile mode", compile, COMPILE_MODES)
        self.compile_mode = compile
        self._captured: CapturedStep | None = None
        self._raw_steps: list[str] | None = None  # set while a CUDA graph is being captured
        self.guard = NonFiniteGuard()
        self._epoch_totals: dict[tuple[str, ...], tuple[Tensor, int]] = {}  # loss names -> (sums, batches)
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
        """Decode ``n`` draws from the prior. ``labels`` pick the prior's components where it
        has them, and go to the decoder where it takes them (random ones when not given)."""
        z = self.prior.sample(n, labels if self.prior.num_components else None, device=self.device)
        if not self.decoder_classes:
            return self.decode(z)
        if labels is None:
            labels = torch.randint(self.decoder_classes, (n,), device=self.device)
        return self.decode(z, torch.as_tensor(labels, device=self.device))

    def data_output(self, raw: Tensor) -> Tensor:
        """A decoder's raw output in data space: the sigmoid of logits for images."""
        return raw.sigmoid() if self.is_image else raw

    # --- optimisation --------------------------------------------------------------------------

    @abstractmethod
    def optimizer_groups(self) -> dict[str, tuple[Iterable[nn.Parameter], float]]:
        """``{phase name: (parameters, learning rate)}``; one optimizer (``optimizer_kind``) per entry."""

    @abstractmethod
    def train_step(self, x: Tensor, y: Tensor) -> Losses:
        """One optimisation step over all phases; returns detached losses and statistics."""

    def graph_key(self) -> tuple:
        """The host-side state that changes what ``train_step`` does (one CUDA graph each)."""
        return ()

    def networks(self) -> list[nn.Module]:
        """The trained networks (every child module but the prior and the metrics)."""
        return [m for m in self.children() if not isinstance(m, (Prior, Metric, NonFiniteGuard))]

    def setup(self, stage: str) -> None:
        if stage != "fit":
            return
        if self.compile_mode == "graph":
            reason = self._why_not_capturable()
            if reason:
                rank_zero_warn(f"--model.compile graph: {reason}; running the step eagerly")
            else:
                self._captured = CapturedStep(self, self._step)
        elif self.compile_mode == "compile":
            for network in self.networks():
                network.compile()  # in place: the state-dict keys stay the same

    def _why_not_capturable(self) -> str | None:
        trainer = self.trainer
        if not type(self).capturable:
            return f"{type(self).__name__} cannot be captured (see its file)"
        if trainer.strategy.root_device.type != "cuda":
            return "CUDA graphs need a CUDA device"
        if trainer.world_size > 1:
            return "capture under several processes is not supported yet"
        if getattr(trainer.precision_plugin, "scaler", None) is not None:
            return "16-bit mixed precision scales the loss with a GradScaler; use bf16-mixed"
        return None

    def optimizer_mode(self) -> dict[str, bool]:
        """How this run's optimizers step: ``fused`` (one kernel per step, on the CPU and the
        GPU in every mode, so eager and captured runs do the same arithmetic; on the CPU fused
        Adam steps a 2x1000 MLP about 4x faster than the default multi-tensor one), and, only
        when this run's step is captured as a CUDA graph (``setup`` accepted the capture),
        ``capturable`` (step count on the device) and ``tensor_lr`` (the learning rate read from
        a device tensor, so a schedule can still change it). A capture that ``setup`` refused
        (several processes, 16-bit precision) steps like any eager run."""
        device = self._trainer.strategy.root_device if self._trainer is not None else self.device
        graph = self._captured is not None
        return {"fused": device.type in FUSED_DEVICES, "capturable": graph, "tensor_lr": graph}

    def phase_milestones(self, name: str) -> Sequence[int]:
        """Epochs after which phase ``name``'s learning rate is multiplied by ``lr_gamma``."""
        milestones = self.lr_milestones
        return milestones.get(name, ()) if isinstance(milestones, dict) else milestones

    def phase_momentum(self, name: str) -> float:
        """Phase ``name``'s momentum when ``optimizer_kind`` is ``sgd``."""
        return self.momentum.get(name, 0.9) if isinstance(self.momentum, dict) else self.momentum

    def configure_optimizers(self):
        if self.optimizer_kind not in OPTIMIZERS:
            raise unknown_choice("optimizer", self.optimizer_kind, OPTIMIZERS)
        groups = self.optimizer_groups()
        self._optimizer_index = {name: i for i, name in enumerate(groups)}
        if self.optimizer_kind == "sgd":
            optimizers = [torch.optim.SGD(list(params), lr=lr, momentum=self.phase_momentum(name))
                          for name, (params, lr) in groups.items()]
        else:
            optimizers = [torch.optim.Adam(list(params), lr=lr, betas=self.betas) for params, lr in groups.values()]
        for optimizer in optimizers:
            self._apply_optimizer_mode(optimizer)
        milestones = [list(self.phase_milestones(name)) for name in groups]
        if not any(milestones):
            return optimizers
        return optimizers, [MultiStepLR(o, m, self.lr_gamma) for o, m in zip(optimizers, milestones)]

    def _apply_optimizer_mode(self, optimizer: torch.optim.Optimizer) -> None:
        """Give ``optimizer`` this run's settings (:meth:`optimizer_mode`). Also after a
        checkpoint's optimizer state is loaded: ``load_state_dict`` brings back the settings of
        the run that wrote it (say eager on a CPU), and its step counts on that run's device."""
        mode = self.optimizer_mode()
        for group in optimizer.param_groups:
            if "fused" in group:  # Adam, SGD and their kin; other optimizers keep their own settings
                group["fused"] = mode["fused"] or None
                if "capturable" in group:  # Adam's step count on the device; SGD has none
                    group["capturable"] = mode["capturable"]
                if mode["fused"] or mode["capturable"]:
                    group["foreach"] = False
            lr = float(group["lr"])
            group["lr"] = torch.tensor(lr, device=self.device) if mode["tensor_lr"] else lr
            for p in group["params"]:
                state = optimizer.state.get(p, {})
                if torch.is_tensor(state.get("step")):  # on the device where fused or capturable need it
                    on_device = mode["fused"] or mode["capturable"]
                    state["step"] = state["step"].to(p.device if on_device else "cpu", torch.float32)

    def _optimizer(self, name: str):
        optimizers = self.optimizers()
        return optimizers[self._optimizer_index[name]] if isinstance(optimizers, list) else optimizers

    def phase(self, name: str, terms: Callable[[], Losses]) -> Losses:
        """Run one phase: compute ``terms()`` with only optimizer ``name``'s parameters
        trainable, step on ``terms()["loss"]``, and return the terms detached, keyed
        ``"{name}/{term}"``."""
        optimizer = self._optimizer(name)
        with self.toggled_optimizer(optimizer):
            out = terms()
            if self._raw_steps is None:
                optimizer.zero_grad(set_to_none=True)
                with self._ddp_reducer_off():
                    self.manual_backward(out["loss"])
                self._average_gradients(optimizer)
                self._clip_gradients(optimizer)
                optimizer.step()
            else:  # being captured as a CUDA graph: the raw optimizer, no Python hooks
                optimizer.optimizer.zero_grad(set_to_none=True)
                out["loss"].backward()
                self._clip_gradients(optimizer)
                optimizer.optimizer.step()
                self._raw_steps.append(name)
        return {f"{name}/{k}": v.detach() for k, v in out.items()}

    def _ddp_reducer_off(self):
        model = self.trainer.strategy.model
        return model.no_sync() if isinstance(model, DistributedDataParallel) else nullcontext()

    def _clip_gradients(self, optimizer) -> None:
        """Scale this phase's final gradients (after any averaging over processes) down to a
        total norm of at most ``grad_clip``; on the device, no host sync."""
        if self.grad_clip is not None:
            params = [p for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
            torch.nn.utils.clip_grad_norm_(params, self.grad_clip)

    def _average_gradients(self, optimizer) -> None:
        """Average this optimizer's gradients over all processes: one ``all_reduce`` over one
        flat buffer. Called directly, not through ``strategy.reduce``, which puts a barrier
        before every call and so would stall the host in every phase. A parameter without a
        gradient keeps ``None``, so Adam leaves it alone as it would in one process; which
        parameters have one depends only on the phase, the same on every rank."""
        if self.trainer.world_size == 1:
            return
        params = [p for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
        if not params:
            return
        flat = torch.cat([p.grad.reshape(-1) for p in params])
        if dist.get_backend() == dist.Backend.NCCL:
            dist.all_reduce(flat, op=dist.ReduceOp.AVG)
        else:  # gloo has no AVG
            dist.all_reduce(flat)
            flat /= self.trainer.world_size
        for p, g in zip(params, flat.split([p.numel() for p in params])):
            p.grad = g.view_as(p)

    def _average_norm_statistics(self) -> None:
        """Average BatchNorm running statistics over all processes (one ``all_reduce``): each
        rank normalised its own shard, and validation, figures, metrics and checkpoints should
        not depend on which rank made them. SyncBatchNorm (``--trainer.sync_batchnorm``) keeps
        them equal already."""
        if self.trainer is None or self.trainer.world_size == 1:
            return
        buffers = [b for m in self.modules() if isinstance(m, nn.modules.batchnorm._NormBase)
                   and not isinstance(m, nn.SyncBatchNorm) and m.track_running_stats
                   for b in (m.running_mean, m.running_var) if b is not None]
        if not buffers:
            return
        flat = torch.cat([b.reshape(-1) for b in buffers])
        dist.all_reduce(flat)
        flat /= self.trainer.world_size
        for b, value in zip(buffers, flat.split([b.numel() for b in buffers])):
            b.copy_(value.view_as(b))

    def count_optimizer_step(self, name: str) -> None:
        """Advance Lightning's optimizer-step counter (``global_step``) for a step taken inside
        a replayed CUDA graph: the two hooks ``LightningOptimizer.step`` calls around a step."""
        optimizer = self._optimizer(name)
        optimizer._on_before_step()
        optimizer._on_after_step()

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        if self.trainer.state.fn == TrainerFn.FITTING:
            self.guard.check(self.trainer.strategy)  # raising here means nothing is written
        # the class to rebuild, also for checkpoints written outside LightningCLI (which
        # records it as hyper_parameters["_class_path"] only)
        checkpoint["aegan_class"] = f"{type(self).__module__}.{type(self).__qualname__}"

    def on_train_start(self) -> None:
        # the optimizer states are loaded by now (a resumed run): back to this run's settings
        for optimizer in self.trainer.optimizers:
            self._apply_optimizer_mode(optimizer)
        self.guard.reset()

    def on_train_batch_start(self, batch, batch_idx) -> None:
        # the batch's randomness depends only on (seed, epoch, batch, rank): a run resumed at
        # any batch boundary draws exactly what the uninterrupted run drew, and processes draw
        # differently (numpy's SeedSequence mixes the four numbers into one seed)
        seed = int(os.environ.get("PL_GLOBAL_SEED", 0))
        words = np.random.SeedSequence([seed, self.current_epoch, batch_idx, self.global_rank]).generate_state(2)
        seed = int(words[0]) << 32 | int(words[1])
        # the generators this process draws from; torch.manual_seed would also queue a seed for
        # CUDA devices not yet in use, with a stack trace each time (1.4 ms per batch on a CPU)
        torch.default_generator.manual_seed(seed)
        if self.device.type == "cuda":
            torch.cuda.manual_seed(seed)

    def on_train_batch_end(self, outputs, batch, batch_idx) -> None:
        if logs_this_batch(self.trainer):  # the loggers read the losses now too: one host sync
            self.guard.check(self.trainer.strategy)

    def on_train_epoch_start(self) -> None:
        self._epoch_totals.clear()

    def on_train_epoch_end(self) -> None:
        # every rank enters these collectives in this order; Lightning runs this hook before the
        # epoch-end checkpoints
        self.guard.check(self.trainer.strategy)
        self._average_norm_statistics()
        self._log_epoch_means()
        schedulers = self.lr_schedulers()  # manual optimisation: stepped here, once per epoch
        for scheduler in schedulers if isinstance(schedulers, list) else [schedulers] if schedulers else []:
            with warnings.catch_warnings():
                # every schedule keeps to the epochs, also for a phase that has not run yet (the
                # AAE's regularisation during pretraining, the clustering AAE's classifier, which
                # never runs without labels), where PyTorch would warn of a step before any step
                warnings.filterwarnings("ignore", message=r"Detected call of `lr_scheduler.step\(\)` before")
                scheduler.step()

    def on_validation_start(self) -> None:
        if self.trainer.state.fn == TrainerFn.FITTING:  # (``trainer.training`` is False while validating)
            self.guard.check(self.trainer.strategy)
            self._average_norm_statistics()

    def step_inputs(self, batch) -> tuple[Tensor, ...]:
        """The tensors of a training batch that ``train_step`` takes: ``(x, y)``."""
        if isinstance(batch, dict):
            raise ConfigError(f"{type(self).__name__} trains on one stream of examples; --data.labels_per_class "
                              f"adds a labelled stream for the semi-supervised AAE (aae_semi)")
        x, y = batch
        return x, y

    def _step(self, *inputs: Tensor) -> Losses:
        return self.train_step(*inputs)

    def training_step(self, batch, batch_idx):
        inputs = self.step_inputs(batch)
        losses = self._captured(*inputs) if self._captured is not None else self._step(*inputs)
        # tensors stay on the device: Lightning reads the step values every log_every_n_steps (from
        # rank zero), so they are handed to it only then (self.log costs about 1 ms per metric
        # on a CPU, as much as a small network's step); the epoch means are summed here and
        # reduced at the epoch's end
        if logs_this_batch(self.trainer):
            self.log_dict({f"train/{k}": v for k, v in losses.items()}, on_step=True, on_epoch=False)
        keys = tuple(losses)
        values = torch.stack([v.float() for v in losses.values()])
        # the batch's number since training began, from 1 (total_batch_idx counts from 0)
        self.guard.record(keys, values, self.trainer.fit_loop.epoch_loop.total_batch_idx + 1)
        total, count = self._epoch_totals.get(keys, (0, 0))
        self._epoch_totals[keys] = (total + values, count + 1)

    def _log_epoch_means(self) -> None:
        """Log ``train_epoch/*``, the epoch's mean losses over every batch of every process (one
        ``all_reduce``). Done by hand rather than with ``self.log(..., sync_dist=True)``:
        Lightning's progress bar reads such metrics on rank zero alone at the epoch's end, and
        the sync inside that read meets the other ranks in a different collective."""
        if not self._epoch_totals:
            return
        groups = list(self._epoch_totals.items())
        flat = torch.cat([torch.cat([total, total.new_tensor([count])]) for _, (total, count) in groups])
        if self.trainer.world_size > 1:
            dist.all_reduce(flat)
        for (keys, _), chunk in zip(groups, flat.split([len(keys) + 1 for keys, _ in groups])):
            for k, v in zip(keys, chunk[:-1] / chunk[-1]):
                self.log_global(f"train_epoch/{k}", v)
        self._epoch_totals.clear()

    def log_global(self, name: str, value: Tensor | float) -> None:
        """Log a value that is already the same on every process (gathered by a metric, or
        reduced by hand): no sync, and none of Lightning's advice to sync it under DDP, which a
        reader would take for a bug in the number."""
        _quiet_sync_advice(name)
        self.log(name, value, sync_dist=False)


def logs_this_batch(trainer) -> bool:
    """Whether Lightning sends this training batch's step metrics to the loggers (every
    ``log_every_n_steps`` batches since training began, and when training stops); Lightning's
    own test, so that the losses are logged and read exactly where it reads them."""
    return trainer._logger_connector.should_update_logs


@functools.cache
def _quiet_sync_advice(name: str) -> None:
    warnings.filterwarnings("ignore", message=re.escape(f"It is recommended to use `self.log({name!r}, ..., sync_dist=True)`"))


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

    def reconstruct(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        """decode(encode(x)); ``labels`` go to decoders that take them."""
        z = self.encode(x)
        return self.decode(z, labels) if self.decoder_classes else self.decode(z)

    def validation_step(self, batch, batch_idx, dataloader_idx=0):
        """``val/*`` on the validation split; ``test/*`` on a second, held-out loader where the
        data module has one (``--data.test_path``)."""
        x, y = batch
        split = "val" if dataloader_idx == 0 else "test"
        self.log(f"{split}/recon_mse", F.mse_loss(self.reconstruct(x, y), x), sync_dist=True,
                 add_dataloader_idx=False)
        if split == "val":
            self.val_latent_swd.update(self.posterior_sample(x))
            self.log("val/latent_swd", self.val_latent_swd, add_dataloader_idx=False)
