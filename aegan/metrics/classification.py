"""Classification and clustering error, by the AAE paper's protocols.

Clustering (Makhzani et al. 2015, section 6): after training without labels, every cluster k
takes the label of the validation example with the highest q(y=k|x); each test example then
gets the label of its most probable cluster, and the error is the share of wrong labels. The
majority-vote variant gives each cluster the most common label among the validation examples
assigned to it. A cluster that no example defines gets no label, which counts as an error.
"""

from __future__ import annotations

import torch
from torch import Tensor

RULES = ("paper", "majority")


def classification_error(predicted: Tensor, labels: Tensor) -> float:
    """Share of ``predicted`` classes that differ from ``labels``."""
    return (predicted.long().cpu() != labels.long().cpu()).float().mean().item()


def cluster_labels(probs: Tensor, labels: Tensor, rule: str = "paper") -> Tensor:
    """The label each of the ``probs.shape[1]`` clusters stands for, from labelled examples
    (``probs``: q(y|x) per example, (N, K)); -1 where a cluster gets none."""
    probs, labels = probs.float().cpu(), labels.long().cpu()
    k = probs.shape[1]
    if rule == "paper":
        return labels[probs.argmax(0)]
    if rule != "majority":
        raise ValueError(f"unknown rule {rule!r}; valid choices: {', '.join(RULES)}")
    assigned = probs.argmax(1)
    result = torch.full((k,), -1, dtype=torch.long)
    for cluster in range(k):
        members = labels[assigned == cluster]
        if len(members):
            result[cluster] = torch.bincount(members).argmax()
    return result


def cluster_error(probs_assign: Tensor, labels_assign: Tensor, probs_test: Tensor, labels_test: Tensor,
                  rule: str = "paper") -> float:
    """Error on the test examples of the labels the clusters take from the assignment examples."""
    mapping = cluster_labels(probs_assign, labels_assign, rule)
    return classification_error(mapping[probs_test.float().cpu().argmax(1)], labels_test)
