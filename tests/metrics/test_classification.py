import pytest
import torch

from aegan.metrics.classification import classification_error, cluster_error, cluster_labels


def one_hot(clusters, k):
    return torch.nn.functional.one_hot(torch.tensor(clusters), k).float()


def test_paper_rule_names_each_cluster_after_its_most_confident_validation_example():
    # 3 clusters; the most confident validation example of cluster 0 is a 7, of cluster 1 a 2, and
    # of cluster 2 (a tie at 0.7) the first, a 5
    probs = torch.tensor([[0.9, 0.1, 0.0], [0.6, 0.4, 0.0], [0.1, 0.8, 0.1], [0.0, 0.3, 0.7], [0.2, 0.1, 0.7]])
    labels = torch.tensor([7, 7, 2, 5, 7])
    assert cluster_labels(probs, labels, "paper").tolist() == [7, 2, 5]
    assert cluster_labels(probs, labels, "majority").tolist() == [7, 2, 5]  # cluster 2: {5, 7}, a tie: 5
    # test examples in clusters 0, 1, 2, 2 with true labels 7, 2, 5, 7: one of four wrong
    test = one_hot([0, 1, 2, 2], 3)
    assert cluster_error(probs, labels, test, torch.tensor([7, 2, 5, 7])) == pytest.approx(0.25)


def test_majority_vote_and_empty_clusters():
    probs = one_hot([0, 0, 0, 1, 1], 3)  # nobody in cluster 2
    labels = torch.tensor([3, 3, 8, 1, 1])
    assert cluster_labels(probs, labels, "majority").tolist() == [3, 1, -1]
    # an example in the empty cluster gets no label: an error
    assert cluster_error(probs, labels, one_hot([0, 1, 2], 3), torch.tensor([3, 1, 4]), "majority") == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="valid choices: paper, majority"):
        cluster_labels(probs, labels, "vote")


def test_classification_error():
    assert classification_error(torch.tensor([1, 2, 3, 4]), torch.tensor([1, 2, 0, 0])) == 0.5
