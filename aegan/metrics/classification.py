"""Classification and clustering error, by the AAE paper's protocols.

Clustering (Makhzani et al. 2015, section 6): after training without labels, every cluster k
takes the label of the validation example with the highest q(y=k|x); each test example then
gets the label of its most probable cluster, and the error is the share of wrong labels. The
majority-vote variant gives each cluster the most common label among the validation examples
assigned to it. A cluster that no example defines gets no label, which counts as an error.

The functions take *scores*: one number per (example, cluster), larger meaning more confident
that the example belongs to the cluster, whose row-wise argmax is the example's cluster.
Probabilities q(y|x) are such scores, but a float32 softmax saturates: examples with logit
margins of 20 and of 60 both get exactly 1.0, and the paper's rule, which picks one example per
cluster by the highest score, then takes the first of the tied examples, not the most confident.
:func:`cluster_scores` gives scores from the logits that order examples as q(y=k|x) does without
saturating; another clusterer passes its own (k-means: minus the distance to each centroid).
"""

from __future__ import annotations

import torch
from torch import Tensor

RULES = ("paper", "majority")


def cluster_scores(logits: Tensor) -> Tensor:
    """The log-odds of q(y=k|x) = softmax(logits)_k, ``logits_k - logsumexp_{j != k} logits_j``,
    in float64 on the host: strictly increasing in q(y=k|x), so they rank examples per cluster as
    the probabilities do and pick the same cluster per example, but they stay distinct where the
    probabilities round to 1 (or to 0)."""
    logits = logits.detach().double().cpu()
    top = logits.argmax(1, keepdim=True)
    shifted = logits - logits.gather(1, top)  # <= 0, and 0 at the top
    weights = shifted.exp()
    # log sum_{j != k} exp(shifted_j): for k below the top the sum keeps the top's 1, so the
    # subtraction loses nothing; at the top it would cancel (1 + tiny - 1), so sum the others there
    others = (weights.sum(1, keepdim=True) - weights).log()
    others = others.scatter(1, top, shifted.scatter(1, top, float("-inf")).logsumexp(1, keepdim=True))
    return shifted - others


def classification_error(predicted: Tensor, labels: Tensor) -> float:
    """Share of ``predicted`` classes that differ from ``labels``."""
    return (predicted.long().cpu() != labels.long().cpu()).float().mean().item()


def cluster_labels(scores: Tensor, labels: Tensor, rule: str = "paper") -> Tensor:
    """The label each of the ``scores.shape[1]`` clusters stands for, from labelled examples
    (``scores``: (N, K), see the module's docstring); -1 where a cluster gets none."""
    if rule not in RULES:
        raise ValueError(f"unknown rule {rule!r}; valid choices: {', '.join(RULES)}")
    scores, labels = scores.detach().cpu(), labels.long().cpu()
    k = scores.shape[1]
    if rule == "paper":
        return labels[scores.argmax(0)]
    assigned = scores.argmax(1)
    result = torch.full((k,), -1, dtype=torch.long)
    for cluster in range(k):
        members = labels[assigned == cluster]
        if len(members):
            result[cluster] = torch.bincount(members).argmax()
    return result


def cluster_error(scores_assign: Tensor, labels_assign: Tensor, scores_test: Tensor, labels_test: Tensor,
                  rule: str = "paper") -> float:
    """Error on the test examples of the labels the clusters take from the assignment examples."""
    mapping = cluster_labels(scores_assign, labels_assign, rule)
    return classification_error(mapping[scores_test.detach().cpu().argmax(1)], labels_test)
