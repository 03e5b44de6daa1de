import gzip

import numpy as np
import pytest
import torch
from PIL import Image

from aegan.data import AeganDataModule
from aegan.data.drawings import load_folder, load_quickdraw
from aegan.data.images import load_fashion_mnist
from aegan.errors import ConfigError


def write_quickdraw(folder, counts: dict[str, int]) -> None:
    """Official numpy_bitmap layout: <category>.npy, uint8 (N, 784); drawing i of category k is
    filled with the value 10 k + i so the tests can tell them apart."""
    folder.mkdir(exist_ok=True)
    for k, (name, n) in enumerate(counts.items()):
        np.save(folder / f"{name}.npy", (10 * k + np.arange(n, dtype=np.uint8))[:, None].repeat(784, 1))


def test_quickdraw_reads_the_chosen_categories_in_order_with_a_limit(tmp_path):
    write_quickdraw(tmp_path / "qd", {"cat": 5, "face": 7, "tree": 3})
    arrays = load_quickdraw(str(tmp_path / "qd"), "face, cat", limit=4)
    assert arrays.x.shape == (8, 1, 28, 28) and arrays.x.dtype == np.uint8
    assert arrays.y.tolist() == [0] * 4 + [1] * 4  # labels follow the requested order
    assert arrays.x[:4, 0, 0, 0].tolist() == [10, 11, 12, 13] and arrays.x[4:, 0, 5, 7].tolist() == [0, 1, 2, 3]
    data = AeganDataModule("quickdraw", path=str(tmp_path / "qd"), categories=["cat", "tree"], batch_size=2)
    assert data.data_shape == (1, 28, 28) and data.num_classes == 2
    data.setup()
    assert len(data.splits["train"]) + len(data.splits["val"]) == 8


def test_quickdraw_refuses_unknown_categories_naming_those_that_exist(tmp_path):
    write_quickdraw(tmp_path / "qd", {"cat": 2, "face": 2})
    with pytest.raises(ConfigError, match=r"unknown QuickDraw category 'dog'; available in .*qd: cat, face"):
        load_quickdraw(str(tmp_path / "qd"), "cat,dog")
    with pytest.raises(ConfigError, match="needs --data.categories .* available in .*: cat, face"):
        AeganDataModule("quickdraw", path=str(tmp_path / "qd"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="holds no QuickDraw <category>.npy files"):
        load_quickdraw(str(tmp_path / "empty"), "cat")
    np.save(tmp_path / "qd" / "bad.npy", np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(ConfigError, match=r"not a QuickDraw numpy bitmap: expected uint8 \(N, 784\)"):
        load_quickdraw(str(tmp_path / "qd"), "bad")


def banded(height: int, width: int) -> Image.Image:
    """A colour image that is white in its central square and black outside it."""
    image = np.zeros((height, width, 3), dtype=np.uint8)
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    image[top:top + side, left:left + side] = 255
    return Image.fromarray(image)


def test_folder_resizes_the_shorter_side_and_crops_the_centre(tmp_path):
    banded(40, 80).save(tmp_path / "wide.png")
    banded(90, 30).save(tmp_path / "tall.jpg")
    Image.fromarray(np.zeros((20, 20), np.uint8)).save(tmp_path / "grey.png")
    arrays = load_folder(str(tmp_path), image_size=16)
    assert arrays.x.shape == (3, 3, 16, 16) and arrays.x.dtype == np.uint8
    names = ["grey", "tall", "wide"]  # sorted file order
    assert arrays.x[names.index("grey")].max() == 0  # grey images become RGB
    for name in ("tall", "wide"):  # only the white centre survives the crop (squeezed: half black)
        assert arrays.x[names.index(name)].mean() > 240, name
    assert arrays.y.tolist() == [-1, -1, -1]  # directly in the folder: unlabelled
    assert load_folder(str(tmp_path), image_size=16, limit=2).x.shape[0] == 2


def test_folder_labels_sub_folders_and_refuses_an_empty_folder(tmp_path):
    for label, name in enumerate(["blond", "dark"]):
        (tmp_path / "faces" / name).mkdir(parents=True)
        for i in range(2):
            Image.fromarray(np.full((12, 12, 3), 100 * label, np.uint8)).save(tmp_path / "faces" / name / f"{i}.png")
    data = AeganDataModule("folder", path=str(tmp_path / "faces"), image_size=8, batch_size=2, val_fraction=0.25)
    assert data.data_shape == (3, 8, 8) and data.num_classes == 2
    x, y = data.examples(4, "all")
    assert y.tolist() == [0, 0, 1, 1] and torch.allclose(x[2:].mean(), torch.tensor(100 / 255))
    (tmp_path / "nothing").mkdir()
    (tmp_path / "nothing" / "notes.txt").write_text("no images here")
    with pytest.raises(ConfigError, match="holds no images"):
        AeganDataModule("folder", path=str(tmp_path / "nothing"))
    (tmp_path / "nothing" / "broken.png").write_text("not a png")
    with pytest.raises(ConfigError, match="cannot read .*broken.png as an image"):
        load_folder(str(tmp_path / "nothing"))
    with pytest.raises(ConfigError, match="data folder not found"):
        AeganDataModule("folder", path=str(tmp_path / "missing"))


def write_idx(path, array: np.ndarray) -> None:
    """The MNIST idx format torchvision reads: magic (0, 0, 8 = uint8, ndim), sizes, data."""
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(s).to_bytes(4, "big") for s in array.shape)
    with gzip.open(path, "wb") if path.suffix == ".gz" else open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def test_fashion_mnist_reads_torchvision_files_and_says_when_they_are_missing(tmp_path):
    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for split, n in (("train", 6), ("t10k", 2)):
        write_idx(raw / f"{split}-images-idx3-ubyte", np.full((n, 28, 28), 7))
        write_idx(raw / f"{split}-labels-idx1-ubyte", np.arange(n) % 10)
    arrays = load_fashion_mnist(str(tmp_path))
    assert arrays.x.shape == (6, 1, 28, 28) and arrays.y.tolist() == [0, 1, 2, 3, 4, 5]
    with pytest.raises(ConfigError, match="Fashion-MNIST is not in .* could not be downloaded"):
        load_fashion_mnist(str(tmp_path / "elsewhere"))
