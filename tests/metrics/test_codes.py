import pytest
import torch

from aegan.data import AeganDataModule
from aegan.errors import ConfigError
from aegan.metrics.codes import best_mapping_accuracy, code_accuracy
from aegan.metrics.suite import choose, evaluate
from aegan.models import GAN, InfoGAN
from aegan.priors import GaussianPrior


def test_best_one_to_one_mapping_beats_majority_votes():
    # code 2 holds a 3 and a 1; the majority vote would also send it to 3, which code 1 owns
    codes = torch.tensor([0, 0, 1, 1, 2, 2])
    labels = torch.tensor([5, 5, 3, 3, 3, 1])
    accuracy, mapping = best_mapping_accuracy(codes, labels, 3, 10)
    assert accuracy == pytest.approx(5 / 6) and mapping.tolist() == [5, 3, 1]
    # more codes than labels: one code stays unmapped
    accuracy, mapping = best_mapping_accuracy(torch.tensor([0, 1, 2]), torch.tensor([1, 1, 0]), 3, 2)
    assert accuracy == pytest.approx(2 / 3) and sorted(mapping.tolist()) == [-1, 0, 1]


class DigitsByCode(torch.nn.Module):
    """A stand-in generative model whose code value k draws real digits of class ``digit_of[k]``
    (or of any class, when it ignores its code)."""

    def __init__(self, digit_of, ignore_code=False):
        super().__init__()
        x, y = AeganDataModule("mnist5k").examples(5000, "all")
        self.by_class = [x[y == c] for c in range(10)]
        self.digit_of, self.ignore_code = digit_of, ignore_code
        self.prior = GaussianPrior(2)
        self.prior.num_components = 10
        self.device = torch.device("cpu")

    def sample(self, n, labels):
        classes = torch.randint(10, (n,)) if self.ignore_code else self.digit_of[labels]
        return torch.stack([self.by_class[c][torch.randint(500, ())] for c in classes.tolist()])


def test_code_accuracy_finds_a_permuted_code_and_scores_an_ignored_one_at_chance(seeded):
    permutation = torch.randperm(10)
    assert code_accuracy(DigitsByCode(permutation), per_code=50) > 0.97  # the classifier errs on ~1%
    assert code_accuracy(DigitsByCode(permutation, ignore_code=True), per_code=50) < 0.3


def test_the_suite_scores_codes_for_models_with_a_categorical_code(seeded):
    real, _ = AeganDataModule("mnist5k").examples(200)
    infogan = InfoGAN(net="mlp", hidden=(16,), noise_dim=4)
    assert "codes" in choose(None, infogan, real)
    assert "codes" not in choose(None, GAN(hidden=(16,)), real)
    with pytest.raises(ConfigError, match="metric 'codes' does not apply here: code accuracy needs"):
        choose("codes", GAN(hidden=(16,)), real)
    results = evaluate(infogan, real, ["codes"], samples=100)
    assert 0.1 <= results["code_accuracy"] <= 1.0
