import pytest
import torch
from torchvision.transforms.v2.functional import gaussian_blur

from aegan.data import AeganDataModule
from aegan.errors import ConfigError
from aegan.metrics.features import WEIGHTS, accuracy, load_digit_features
from aegan.metrics.fid import FID


@pytest.fixture(scope="module")
def digits():
    data = AeganDataModule("mnist5k")
    return data.examples(5000, "all")


def noised(x, level):
    return (x + level * torch.randn(x.shape, generator=torch.Generator().manual_seed(0))).clamp(0, 1)


def shuffled(x, fraction):
    """Move a fraction of each image's pixels to random places."""
    flat = x.flatten(1).clone()
    generator = torch.Generator().manual_seed(0)
    chosen = torch.randperm(784, generator=generator)[: int(fraction * 784)]
    flat[:, chosen] = flat[:, chosen[torch.randperm(len(chosen), generator=generator)]]
    return flat.view_as(x)


def test_shipped_feature_network_is_small_and_classifies_the_digits_it_learned_from(digits):
    x, y = digits
    assert WEIGHTS.stat().st_size < 1_000_000
    net = load_digit_features()
    assert net(x[:10]).shape == (10, 128)
    assert accuracy(net, (x * 255).round().to(torch.uint8), y) > 0.99


@pytest.mark.parametrize("corrupt, levels", [
    (lambda x, s: gaussian_blur(x, kernel_size=9, sigma=s), [0.6, 1.0, 1.5, 2.5]),
    (noised, [0.1, 0.2, 0.4, 0.8]),
    (shuffled, [0.05, 0.1, 0.2, 0.4]),
])
def test_fid_between_real_halves_is_far_below_corrupted_and_grows_with_corruption(digits, corrupt, levels):
    x, _ = digits
    half_a, half_b = x[0::2], x[1::2]  # the embedded digits are sorted by class
    fid = FID(half_a)
    clean = fid(half_b)
    scores = [fid(corrupt(half_b, level)) for level in levels]
    assert clean < 0.2 * scores[0], (clean, scores)
    assert all(a < b for a, b in zip(scores, scores[1:])), scores


def test_fid_reports_bad_inputs():
    with pytest.raises(ConfigError, match="28x28 grey digits"):
        FID(torch.rand(10, 3, 32, 32))
    with pytest.raises(ConfigError, match="needs its weights file"):
        FID(torch.rand(10, 3, 32, 32), features="inception")
    with pytest.raises(ConfigError, match="unknown FID feature network 'vgg'"):
        FID(torch.rand(10, 1, 28, 28), features="vgg")


def test_kid_and_precision_recall_tell_real_digits_from_corrupted_and_collapsed_ones(digits):
    x, _ = digits
    real, other = x[0:2000:2], x[1:2000:2]  # 1,000 each, every class
    fid = FID(real)
    clean = fid.scores(other)
    blurred = fid.scores(gaussian_blur(other, kernel_size=9, sigma=1.5))
    collapsed = fid.scores(other[:10].repeat(100, 1, 1, 1))  # ten digits, each 100 times
    # KID: about 0 between real sets, unbiased, and clearly positive for blur
    assert abs(clean["kid"]) < 0.1 * blurred["kid"] and clean["kid_subset"] == 1000
    # precision (quality) and recall (coverage) high between real sets; blur loses precision,
    # a collapse to ten digits keeps precision and loses recall
    assert clean["precision"] > 0.7 and clean["recall"] > 0.7, clean
    assert blurred["precision"] < 0.5 * clean["precision"], blurred
    assert collapsed["precision"] > 0.7 and collapsed["recall"] < 0.3, collapsed
    assert fid(other) == pytest.approx(clean["fid"], rel=1e-6)  # __call__ is the FID of scores()
