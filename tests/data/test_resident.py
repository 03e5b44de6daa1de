from types import SimpleNamespace

import torch

from aegan.data import AeganDataModule
from aegan.data.resident import DeviceBatches
from aegan.models import AAE
from tests.conftest import tiny_trainer

N = 103


def batches(**kwargs):
    x = torch.arange(N)
    settings = dict(batch_size=10, shuffle=True, drop_last=False, seed=0) | kwargs
    return DeviceBatches(x, x % 7, **settings)


def seen(loader):
    return torch.cat([x for x, _ in loader])


def test_each_epoch_is_a_seeded_permutation_of_all_examples():
    epoch = [0]
    loader = batches(epoch=lambda: epoch[0])
    first = seen(loader)
    assert sorted(first.tolist()) == list(range(N))
    assert torch.equal(first, seen(batches()))  # same seed, same epoch: same order
    epoch[0] = 1
    second = seen(loader)
    assert sorted(second.tolist()) == list(range(N)) and not torch.equal(first, second)
    assert not torch.equal(first, seen(batches(seed=1)))
    assert torch.equal(seen(batches(shuffle=False)), torch.arange(N))


def test_labels_travel_with_their_examples():
    for x, y in batches():
        assert torch.equal(y, x % 7)


def test_last_partial_batch_is_dropped_for_training_and_kept_for_validation():
    assert [len(x) for x, _ in batches(drop_last=True)] == [10] * 10 and len(batches(drop_last=True)) == 10
    assert [len(x) for x, _ in batches(drop_last=False)] == [10] * 10 + [3] and len(batches()) == 11


def test_ranks_get_disjoint_equal_shards_of_the_same_permutation():
    shards = [seen(batches(rank=r, world_size=3)) for r in range(3)]
    assert [len(s) for s in shards] == [34, 34, 34]  # 103 // 3 each; one example sits out
    union = torch.cat(shards)
    assert len(set(union.tolist())) == 102
    order = batches(world_size=1).indices()[:102]
    for r in range(3):
        assert torch.equal(shards[r], order[r::3])  # the same permutation, split by rank


def test_resident_data_trains_through_lightning_with_the_epochs_permutation(seeded, monkeypatch):
    data = AeganDataModule("toy_ring", toy_size=600, batch_size=100, resident=True)
    model = AAE(data_shape=(2,), num_classes=8, hidden=(8,))
    first_batches = []
    original = AAE.train_step
    monkeypatch.setattr(AAE, "train_step", lambda self, x, y: (first_batches.append(x.clone())
                                                                 if self.trainer.fit_loop.batch_idx == 0 else None)
                        or original(self, x, y))
    trainer = tiny_trainer(max_epochs=2)
    trainer.fit(model, data)
    assert isinstance(trainer.train_dataloader, DeviceBatches)
    assert trainer.num_training_batches == 5  # 540 training examples, full batches only
    assert data.resident_device == torch.device("cpu")
    x, y = data.splits["train"].tensors
    for epoch, batch in enumerate(first_batches):  # epoch e uses the permutation of epoch e
        expected, _ = next(iter(DeviceBatches(x, y, 100, shuffle=True, drop_last=True, epoch=lambda: epoch)))
        assert torch.equal(batch, expected)
    assert len(first_batches) == 2 and not torch.equal(*first_batches)



def test_the_gpu_path_and_the_cpu_path_train_on_the_same_batches():
    """One seed, one data order on either path: the resident batches equal, index by index,
    the batches of the data module's DataLoader path (its DistributedSampler), for each epoch,
    seed, rank and number of processes; so a CPU checkpoint resumes on a GPU at the batch it
    stopped at."""
    x = torch.arange(N)
    for seed, epoch, world_size in [(0, 0, 1), (3, 5, 1), (7, 2, 2), (1, 4, 3)]:
        data = AeganDataModule("toy_ring", toy_size=N * 10, batch_size=10, seed=seed)
        data.setup("fit")
        data.splits["train"] = torch.utils.data.TensorDataset(x, x % 7)
        for rank in range(world_size):
            data.trainer = SimpleNamespace(global_rank=rank, world_size=world_size, current_epoch=epoch)
            data.resident_device = None
            loader = data._loader("train", train=True)
            loader.sampler.set_epoch(epoch)  # as Lightning does at each epoch's start
            data.resident_device = torch.device("cpu")
            resident = data._loader("train", train=True)
            assert isinstance(resident, DeviceBatches)
            on_cpu, on_gpu = [b for b, _ in loader], [b for b, _ in resident]
            assert len(on_cpu) == len(on_gpu) == N // world_size // 10
            for a, b in zip(on_cpu, on_gpu):
                assert torch.equal(a, b), (seed, epoch, world_size, rank)
