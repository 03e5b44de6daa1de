"""Figures as files in the run directory, handed to whatever logger is attached.

Every figure callback draws one frame per validation epoch from fixed inputs, writes it as
``<run dir>/media/<name>/epoch_0003.png``, re-assembles ``<run dir>/media/<name>.gif`` from all
frames so far, and logs the frame to the logger (W&B: an image with a step slider;
TensorBoard: ``add_image``; CSV and others: files only). The GIF goes to W&B as a video when
training ends. Only rank zero draws; the others skip.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import torch
from lightning import Callback, LightningModule, Trainer
from lightning.pytorch.loggers import TensorBoardLogger, WandbLogger
from matplotlib.figure import Figure
from torchvision.utils import make_grid


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
        gif_every_n_frames: re-assemble the GIF from all frames after every n-th new frame, and
            when training ends or stops on an exception. Re-assembling reads and re-encodes
            every frame (about 0.4 s per frame on a CPU core), so doing it after each of a
            long run's epochs costs time quadratic in the epochs (hours over 100 epochs).
            The figure subclasses keep the default.
    """

    name = "figure"

    def __init__(self, every_n_epochs: int = 1, fps: float = 4.0, gif_every_n_frames: int = 10):
        self.every_n_epochs = every_n_epochs
        self.fps = fps
        self.gif_every_n_frames = gif_every_n_frames
        self._new_frames = 0

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
        if trainer.current_epoch % self.every_n_epochs:
            return
        with torch.no_grad():
            figure = self.draw(trainer, module)
        if figure is None:
            return
        folder = self.folder(trainer)
        folder.mkdir(parents=True, exist_ok=True)
        frame = folder / f"epoch_{trainer.current_epoch:04d}.png"
        figure.savefig(frame)
        self._new_frames += 1
        if self._new_frames % self.gif_every_n_frames == 0:
            self.write_gif(trainer)
        log_image(trainer, f"media/{self.name}", frame)

    def write_gif(self, trainer: Trainer) -> Path:
        frames = [iio.imread(p)[..., :3] for p in sorted(self.folder(trainer).glob("epoch_*.png"))]  # RGB: no transparency
        path = self.gif_path(trainer)
        # duration is per frame in milliseconds; loop=0 repeats forever
        iio.imwrite(path, np.stack(frames), duration=1000 / self.fps, loop=0)
        return path

    def on_fit_end(self, trainer: Trainer, module: LightningModule) -> None:
        if trainer.is_global_zero and any(self.folder(trainer).glob("epoch_*.png")):
            log_animation(trainer, f"media/{self.name}_gif", self.write_gif(trainer))

    def on_exception(self, trainer: Trainer, module: LightningModule, exception: BaseException) -> None:
        if trainer.is_global_zero and any(self.folder(trainer).glob("epoch_*.png")):
            self.write_gif(trainer)  # a stopped run keeps a GIF of every frame it drew


def log_image(trainer: Trainer, key: str, path: Path) -> None:
    for logger in trainer.loggers:
        if isinstance(logger, WandbLogger):
            logger.log_image(key, [str(path)], step=trainer.global_step)
        elif isinstance(logger, TensorBoardLogger):
            logger.experiment.add_image(key, iio.imread(path)[..., :3], trainer.global_step, dataformats="HWC")


def log_animation(trainer: Trainer, key: str, path: Path) -> None:
    for logger in trainer.loggers:
        if isinstance(logger, WandbLogger):
            logger.log_video(key, [str(path)], step=trainer.global_step, format=["gif"])


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
