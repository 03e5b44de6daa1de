"""Morphing: encode two fixed inputs, walk from one code to the other, decode every step.

Per validation epoch :class:`MorphGIF` draws a figure (for each fixed pair, a row walked
linearly and a row walked along the great circle, "slerp"; one frame per epoch, assembled
into ``media/morph.gif`` like every figure) and writes ``media/morph_dance.gif``: the same
walks as an animation that runs from the first input's reconstruction to the second's and back
(a ping-pong loop: the doodle dances). The walk's end points are the two reconstructions
G(E(x_a)) and G(E(x_b)).
"""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor
from torchvision.utils import make_grid

from aegan.callbacks.media import FigureCallback, image_grid_figure, run_dir
from aegan.errors import unknown_choice

PATHS = ("linear", "spherical")


def slerp(a: Tensor, b: Tensor, t: Tensor) -> Tensor:
    """Spherical interpolation between rows of ``a`` and ``b`` at fractions ``t`` (steps,):
    ``(steps, N, D)``. Written out because torch has no slerp for tensors; the angle is between
    the codes as vectors from the origin (where the Gaussian prior's mass is a thin shell, which
    slerp follows and the straight line cuts through). Nearly parallel codes fall back to the
    straight line."""
    cos = F.cosine_similarity(a, b, dim=-1).clamp(-1, 1)
    omega = torch.arccos(cos)[None, :, None]
    t = t[:, None, None]
    sin = torch.sin(omega)
    near = sin.abs() < 1e-4
    wa = torch.where(near, 1 - t, torch.sin((1 - t) * omega) / torch.where(near, 1.0, sin))
    wb = torch.where(near, t, torch.sin(t * omega) / torch.where(near, 1.0, sin))
    return wa * a + wb * b


def walk(a: Tensor, b: Tensor, steps: int, path: str) -> Tensor:
    """``steps`` codes from ``a`` to ``b`` (both ends included) for each row: ``(steps, N, D)``."""
    if path not in PATHS:
        raise unknown_choice("interpolation path", path, PATHS)
    t = torch.linspace(0, 1, steps, device=a.device)
    if path == "linear":
        return (1 - t[:, None, None]) * a + t[:, None, None] * b
    return slerp(a, b, t)


@torch.no_grad()
def morph(module, x_a: Tensor, x_b: Tensor, steps: int, paths=PATHS) -> Tensor:
    """Decoded walks from E(x_a) to E(x_b): ``(len(paths), steps, N, C, H, W)``."""
    z_a, z_b = module.encode(x_a), module.encode(x_b)
    walks = torch.stack([walk(z_a, z_b, steps, path) for path in paths])
    images = module.decode(walks.flatten(0, 2))
    return images.reshape(*walks.shape[:3], *images.shape[1:])


def dance_frames(walks: Tensor, scale: int = 3) -> np.ndarray:
    """The GIF frames of ``walks`` ``(paths, steps, N, C, H, W)``: frame t shows step t of every
    walk (one row per path, one column per pair), enlarged ``scale`` times; the steps run
    forward and back without repeating the ends (``2 * (steps - 1)`` frames). uint8, (T, H, W)
    for grey images (exact in a GIF), (T, H, W, 3) for colour."""
    paths, steps, pairs = walks.shape[:3]
    order = list(range(steps)) + list(range(steps - 2, 0, -1))
    frames = []
    for t in order:
        grid = make_grid(walks[:, t].flatten(0, 1).float().clamp(0, 1).cpu(), nrow=pairs, padding=1, pad_value=1.0)
        grid = F.interpolate(grid[None], scale_factor=scale, mode="nearest")[0]
        frames.append((grid * 255).round().to(torch.uint8))
    video = torch.stack(frames).permute(0, 2, 3, 1).numpy()
    return video[..., 0] if walks.shape[3] == 1 else video


def write_dance(path: Path, walks: Tensor, fps: float = 12.0, scale: int = 3) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    iio.imwrite(path, dance_frames(walks, scale), duration=1000 / fps, loop=0)
    return path


class MorphGIF(FigureCallback):
    """Walks between the codes of ``pairs`` fixed validation pairs (examples 2i and 2i + 1),
    ``steps`` decoded steps each, linear and spherical: a figure per epoch and the dancing GIF
    ``media/morph_dance.gif`` of the latest epoch (``dance_fps`` frames per second). Needs a
    module with ``encode`` and ``decode(z)`` (no label) and image data."""

    name = "morph"

    def __init__(self, pairs: int = 4, steps: int = 12, every_n_epochs: int = 1, fps: float = 4.0,
                 video_every_n_epochs: int = 10, dance_fps: float = 12.0, scale: int = 3):
        super().__init__(every_n_epochs, fps, video_every_n_epochs)
        if steps < 2:
            raise ValueError(f"a morph needs at least 2 steps, got {steps}")
        self.pairs, self.steps, self.dance_fps, self.scale = pairs, steps, dance_fps, scale

    def dance_path(self, trainer) -> Path:
        return run_dir(trainer) / "media" / f"{self.name}_dance.gif"

    def draw(self, trainer, module):
        # a decoder that takes a label draws a style walk with a label to choose: not this figure
        if not (hasattr(module, "encode") and getattr(module, "is_image", False)) or module.decoder_classes:
            return None
        x, _ = trainer.datamodule.examples(2 * self.pairs)
        x = x.to(module.device)
        x_a, x_b = x[0::2], x[1::2]
        walks = morph(module, x_a, x_b, self.steps)
        write_dance(self.dance_path(trainer), walks, self.dance_fps, self.scale)
        # per pair a linear and a spherical row, each framed by the two inputs
        ends = [inputs[:, None, None].expand(-1, 2, 1, *inputs.shape[1:]) for inputs in (x_a, x_b)]
        rows = torch.cat([ends[0], walks.permute(2, 0, 1, 3, 4, 5), ends[1]], 2)
        return image_grid_figure(rows.flatten(0, 2), 2 * len(x_a), f"x_a, G(E(x_a)) ... G(E(x_b)), x_b; per pair "
                                 f"linear then spherical, epoch {trainer.current_epoch}")

    def animations(self, trainer) -> dict[str, Path]:
        return {**super().animations(trainer), f"media/{self.name}_dance": self.dance_path(trainer)}
