import pytest
import torch

from aegan.metrics.classification import classification_error, cluster_error, cluster_labels, cluster_scores


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


def test_cluster_scores_order_examples_as_q_y_does_and_stay_apart_where_it_saturates():
    torch.manual_seed(0)
    logits = torch.randn(200, 6) * 3
    scores = cluster_scores(logits)
    probs = logits.double().softmax(1)
    torch.testing.assert_close(scores, (probs / (1 - probs)).log())  # the log-odds, where they are exact
    assert torch.equal(scores.argmax(1), logits.argmax(1))
    # where float32 probabilities round to 1 (or underflow to 0), the log-odds are still the margins
    saturated = torch.tensor([[30.0, 0, 0], [80, 0, 0], [0, -150, 0], [0, -120, 0]])
    assert saturated.softmax(1)[:2, 0].tolist() == [1.0, 1.0] and saturated.softmax(1)[2:, 1].tolist() == [0.0, 0.0]
    log2 = torch.tensor(2.0, dtype=torch.float64).log()
    torch.testing.assert_close(cluster_scores(saturated)[:, 0], torch.stack([30 - log2, 80 - log2, 0 * log2, 0 * log2]))
    assert cluster_scores(saturated)[3, 1] > cluster_scores(saturated)[2, 1]


def test_the_paper_rule_breaks_saturated_ties_by_confidence():
    # cluster 0: a 7 at logit margin 30 and a 1 at 80; cluster 1: a 2 at 20 and a 3 at 90;
    # cluster 2: a 4. Probabilities tie at 1.0 and give the first; the log-odds give the more confident
    logits = torch.tensor([[30.0, 0, 0], [80, 0, 0], [0, 20, 0], [0, 90, 0], [0, 0, 5]])
    labels = torch.tensor([7, 1, 2, 3, 4])
    assert cluster_labels(logits.softmax(1), labels).tolist() == [7, 2, 4]  # the tie, as it was
    assert cluster_labels(cluster_scores(logits), labels).tolist() == [1, 3, 4]
    test = torch.tensor([[50.0, 0, 0], [0, 50, 0], [0, 0, 9]])
    assert cluster_error(cluster_scores(logits), labels, cluster_scores(test), torch.tensor([1, 3, 4])) == 0
