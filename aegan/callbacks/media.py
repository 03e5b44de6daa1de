"""Figures as files in the run directory, handed to whatever logger is attached.

Every figure callback draws one frame per validation epoch from fixed inputs, writes it as
``<run dir>/media/<name>/epoch_0003.png`` and logs the frame to the logger (W&B: an image with
a step slider; TensorBoard: ``add_image``; CSV and others: files only) at the step Lightning logs
that epoch's metrics at, so a frame and its epoch's ``eval/fid`` line up. Every
``video_every_n_epochs`` epochs, when training ends, and when it stops on an error or a signal,
``<run dir>/media/<name>.gif`` is re-assembled from all frames so far and goes to W&B as a
video, so a preempted run has its animation too. Re-assembling reads and re-encodes every frame
(about 0.4 s a frame on a CPU core); doing it after each epoch cost a 100-epoch run hours.
Only rank zero draws; the others skip.

The figures also work outside training: :meth:`FigureCallback.render` draws one for a model
and a data module (the notebook uses it).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from types import SimpleNamespace

import imageio.v3 as iio
import numpy as np
import torch
from lightning import Callback, LightningModule, Trainer
from lightning.pytorch.loggers import TensorBoardLogger, WandbLogger
from matplotlib.figure import Figure
from torchvision.utils import make_grid

from aegan.cadence import due


def run_dir(trainer: Trainer) -> Path:
    """The run's own directory: where ``ModelCheckpoint`` puts ``checkpoints/`` by default
    (``save_dir/name/version`` of the first logger, else ``default_root_dir``)."""
    if not trainer.loggers:
        return Path(trainer.default_root_dir)
    logger = trainer.loggers[0]
    version = logger.version if isinstance(logger.version, str) else f"version_{logger.version}"
    return Path(logger.save_dir or trainer.default_root_dir) / str(logger.name) / version


class FigureCallback(Callback, ABC):
    """Base of the figure callbacks: scheduling, files, GIF and logging.

    Subclasses implement ``draw(trainer, module) -> matplotlib Figure | None`` (None: nothing to
    draw for this module) and use ``name`` for their files and logger key.

    Args:
        every_n_epochs: draw on every n-th validation epoch.
        fps: frames per second of the GIF.
        video_every_n_epochs: re-assemble the GIF and log it as a video every n-th epoch (0: only
            at the end of training and when it stops early).
    """

    name = "figure"

    def __init__(self, every_n_epochs: int = 1, fps: float = 4.0, video_every_n_epochs: int = 10):
        self.every_n_epochs = every_n_epochs
        self.fps = fps
        self.video_every_n_epochs = video_every_n_epochs
        self._video_logged_at: int | None = None  # the step of the last video, to log each once

    @abstractmethod
    def draw(self, trainer: Trainer, module: LightningModule):
        """This epoch's frame as a matplotlib ``Figure`` (made directly, not through pyplot,
        so no GUI backend is touched), or None when the module lacks what the figure needs."""

    def folder(self, trainer: Trainer) -> Path:
        return run_dir(trainer) / "media" / self.name

    def gif_path(self, trainer: Trainer) -> Path:
        return run_dir(trainer) / "media" / f"{self.name}.gif"

    def on_validation_epoch_end(self, trainer: Trainer, module: LightningModule) -> None:
        if trainer.sanity_checking or not trainer.is_global_zero:
            return
        if not due(trainer, self.every_n_epochs):
            return
        with torch.no_grad():
            figure = self.draw(trainer, module)
        if figure is None:
            return
        folder = self.folder(trainer)
        folder.mkdir(parents=True, exist_ok=True)
        frame = folder / f"epoch_{trainer.current_epoch:04d}.png"
        figure.savefig(frame)
        log_image(trainer, f"media/{self.name}", frame)
        if self.video_every_n_epochs and (trainer.current_epoch + 1) % self.video_every_n_epochs == 0:
            self.log_videos(trainer)

    def render(self, module: LightningModule, datamodule, epoch: int | None = None, folder: str | Path = "."):
        """This figure for ``module`` and ``datamodule`` outside training (a notebook, a script):
        a matplotlib ``Figure``, or None when the figure does not apply to the module. Files a
        figure writes besides (the morph's dance GIF) go under ``folder``."""
        trainer = SimpleNamespace(current_epoch=epoch if epoch is not None else "-", datamodule=datamodule,
                                  loggers=[], default_root_dir=str(folder), is_global_zero=True,
                                  sanity_checking=False)
        datamodule.setup("validate")
        with torch.no_grad():
            return self.draw(trainer, module)

    def write_gif(self, trainer: Trainer) -> Path:
        frames = [iio.imread(p)[..., :3] for p in sorted(self.folder(trainer).glob("epoch_*.png"))]  # RGB: no transparency
        path = self.gif_path(trainer)
        # duration is per frame in milliseconds; loop=0 repeats forever
        iio.imwrite(path, np.stack(frames), duration=1000 / self.fps, loop=0)
        return path

    def animations(self, trainer: Trainer) -> dict[str, Path]:
        """``{logger key: GIF}`` of what this callback animates (subclasses may add more)."""
        return {f"media/{self.name}_gif": self.gif_path(trainer)}

    def log_videos(self, trainer: Trainer) -> None:
        """Re-assemble the GIF from the frames so far and log the animations as videos, once
        per step."""
        step = metrics_step(trainer)
        if not trainer.is_global_zero or self._video_logged_at == step:
            return
        if any(self.folder(trainer).glob("epoch_*.png")):
            self.write_gif(trainer)
        for key, path in self.animations(trainer).items():
            if path.exists():
                log_animation(trainer, key, path)
        self._video_logged_at = step

    def on_fit_end(self, trainer: Trainer, module: LightningModule) -> None:
        self.log_videos(trainer)

    def on_exception(self, trainer: Trainer, module: LightningModule, exception: BaseException) -> None:
        # a run stopped by a signal, an error or Ctrl-C keeps the animation it has so far
        try:
            self.log_videos(trainer)
        except Exception:  # noqa: BLE001 - never hide the exception that stopped the run
            pass


def metrics_step(trainer: Trainer) -> int:
    """The step Lightning logs metrics at: batches trained so far (not ``global_step``, which
    counts optimizer steps, several per batch for the models here). Lightning's own
    ``LearningRateMonitor`` reads the same counter."""
    return trainer.fit_loop.epoch_loop._batches_that_stepped


def log_image(trainer: Trainer, key: str, path: Path) -> None:
    """A figure's frame to every logger that shows images, at the metrics' step."""
    step = metrics_step(trainer)
    for logger in trainer.loggers:
        if isinstance(logger, WandbLogger):
            import wandb

            logger.log_metrics({key: wandb.Image(str(path)), "epoch": trainer.current_epoch}, step=step)
        elif isinstance(logger, TensorBoardLogger):
            logger.experiment.add_image(key, iio.imread(path)[..., :3], step, dataformats="HWC")


def log_animation(trainer: Trainer, key: str, path: Path) -> None:
    """A GIF to W&B as a video at the metrics' step. TensorBoard shows the frames as images
    with a step slider already (its videos need moviepy); CSV keeps the files only."""
    step = metrics_step(trainer)
    for logger in trainer.loggers:
        if isinstance(logger, WandbLogger):
            import wandb

            logger.log_metrics({key: wandb.Video(str(path), format="gif"), "epoch": trainer.current_epoch},
                               step=step)


def image_grid_figure(images: torch.Tensor, rows: int, title: str, scale: float = 2.0):
    """A figure showing ``images`` (N, C, H, W in [0, 1]) as a grid of ``rows`` rows, with a
    title; its pixel size depends only on the grid's, so frames of one GIF match."""
    columns = -(-len(images) // rows)
    grid = make_grid(images.float().clamp(0, 1).cpu(), nrow=columns, padding=2, pad_value=1.0)
    height, width = grid.shape[1:]
    dpi = 100
    figure = Figure(figsize=(scale * width / dpi, scale * height / dpi + 0.35), dpi=dpi)
    axes = figure.add_axes((0, 0, 1, scale * height / dpi / figure.get_figheight()))
    axes.imshow(grid.permute(1, 2, 0).numpy(), interpolation="nearest")  # make_grid gives RGB
    axes.axis("off")
    figure.suptitle(title, y=0.995, va="top", fontsize=9)
    return figure
