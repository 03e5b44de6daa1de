import imageio.v3 as iio
import numpy as np
import pytest
import torch
from lightning.pytorch.loggers import CSVLogger

from aegan.callbacks import MorphGIF, run_dir
from aegan.callbacks.morph import slerp, walk
from aegan.data import AeganDataModule
from aegan.errors import ConfigError
from aegan.models import AlphaGAN
from tests.conftest import tiny_trainer


def test_slerp_keeps_to_the_great_circle_and_ends_at_both_codes():
    a, b = torch.tensor([[1.0, 0.0], [3.0, 0.0]]), torch.tensor([[0.0, 1.0], [0.0, 3.0]])
    path = slerp(a, b, torch.linspace(0, 1, 5))
    assert torch.allclose(path[0], a) and torch.allclose(path[-1], b, atol=1e-6)
    assert torch.allclose(path.norm(dim=-1), torch.tensor([1.0, 3.0]).expand(5, 2))  # on the circle
    assert torch.allclose(path[2, 0], torch.tensor([1.0, 1.0]) / 2 ** 0.5)
    straight = walk(a, b, 5, "linear")
    assert torch.allclose(straight[2], (a + b) / 2) and straight[2, 0].norm() < 0.8  # cuts the corner
    same = slerp(a, a, torch.linspace(0, 1, 3))  # parallel codes: no division by zero
    assert torch.isfinite(same).all() and torch.allclose(same, a.expand(3, 2, 2))
    with pytest.raises(ConfigError, match="unknown interpolation path 'cubic'; valid choices: linear, spherical"):
        walk(a, b, 3, "cubic")


def tile(frame: np.ndarray, row: int, column: int, side: int, scale: int) -> np.ndarray:
    """The image at (row, column) of a dance frame: make_grid's 1-pixel padding, then enlarged."""
    top, left = scale * (1 + row * (side + 1)), scale * (1 + column * (side + 1))
    return frame[top:top + scale * side:scale, left:left + scale * side:scale]


def test_the_morph_gif_runs_from_one_reconstruction_to_the_other_and_back(tmp_path, seeded):
    data = AeganDataModule("mnist5k", batch_size=50)
    model = AlphaGAN(channels=4, code_hidden=(8,), latent_dim=4)
    steps, pairs, scale = 5, 2, 2
    trainer = tiny_trainer(max_epochs=2, limit_train_batches=2, limit_val_batches=1,
                           logger=CSVLogger(tmp_path, name="run"),
                           callbacks=[MorphGIF(pairs=pairs, steps=steps, scale=scale)])
    trainer.fit(model, data)
    media = run_dir(trainer) / "media"
    assert sorted(p.name for p in (media / "morph").glob("*.png")) == ["epoch_0000.png", "epoch_0001.png"]
    assert iio.imread(media / "morph.gif", index=None).shape[0] == 2  # one figure per epoch
    frames = iio.imread(media / "morph_dance.gif", index=None)
    assert frames.shape[0] == 2 * (steps - 1)  # forward and back, the ends shown once
    x, _ = data.examples(2 * pairs)
    with torch.no_grad():
        ends = [(model.eval().reconstruct(x[i::2]) * 255).round().to(torch.uint8).numpy() for i in (0, 1)]
    frames = frames[..., 0] if frames.ndim == 4 else frames
    for path in range(2):  # row 0 linear, row 1 spherical: both start at E(x_a), reach E(x_b)
        for pair in range(pairs):
            for t, end in ((0, ends[0]), (steps - 1, ends[1])):
                difference = np.abs(tile(frames[t], path, pair, 28, scale).astype(int) - end[pair, 0])
                assert difference.max() <= 1, (path, pair, t)  # rounding only
    assert not np.array_equal(frames[1], frames[0]) and np.array_equal(frames[1], frames[-1])  # ping-pong
