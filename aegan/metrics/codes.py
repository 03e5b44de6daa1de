"""Does a categorical latent code stand for the digit? (InfoGAN's categorical-code accuracy.)

For a model whose samples can be conditioned on the value of a categorical code (InfoGAN's
c, a prior with components, a decoder that takes a label), generate the same number of images
for every code value, name each image's digit with the domain classifier
(:mod:`aegan.metrics.features`), and map code values to digits one to one in the way that
agrees with the most images (the Hungarian algorithm, ``scipy.optimize.linear_sum_assignment``,
on the code-by-digit count table). The accuracy is the share of images whose digit is the one
their code value maps to: 1 when every code value draws exactly one digit, 0.1 by chance.
"""

from __future__ import annotations

import torch
from scipy.optimize import linear_sum_assignment
from torch import Tensor

from aegan.metrics.features import load_digit_features


def code_values(module) -> int:
    """How many values the module's categorical code takes (0: it has none): the prior's
    components, else the classes of a decoder that takes a label."""
    return int(getattr(module.prior, "num_components", None) or getattr(module, "decoder_classes", 0) or 0)


def best_mapping_accuracy(codes: Tensor, labels: Tensor, num_codes: int, num_labels: int) -> tuple[float, Tensor]:
    """Accuracy of the best one-to-one mapping of ``codes`` (N,) in [0, num_codes) to ``labels``
    (N,) in [0, num_labels), and the mapping (code value -> label, -1 for code values left
    unmapped when there are more codes than labels)."""
    codes, labels = codes.long().cpu(), labels.long().cpu()
    counts = torch.bincount(codes * num_labels + labels, minlength=num_codes * num_labels).view(num_codes, num_labels)
    rows, cols = linear_sum_assignment(counts.numpy(), maximize=True)
    mapping = torch.full((num_codes,), -1, dtype=torch.long)
    mapping[torch.from_numpy(rows)] = torch.from_numpy(cols)
    return counts[rows, cols].sum().item() / max(len(codes), 1), mapping


@torch.no_grad()
def code_accuracy(module, per_code: int, batch_size: int = 500) -> float:
    """Generate ``per_code`` images per code value with ``module.sample(n, labels)``, classify
    them with the domain digit network and score the best one-to-one mapping of code values to
    digits (see the module's docstring). Uses the global random state."""
    k = code_values(module)
    codes = torch.arange(k).repeat_interleave(per_code)
    classifier = load_digit_features(module.device)
    digits = torch.cat([classifier.classify(module.sample(len(c), c.to(module.device)).float()).argmax(1).cpu()
                        for c in codes.split(batch_size)])
    return best_mapping_accuracy(codes, digits, k, 10)[0]
