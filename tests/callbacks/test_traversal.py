import imageio.v3 as iio
import torch
from lightning.pytorch.loggers import CSVLogger

from aegan.callbacks import CodeTraversal, DecoderGrid, run_dir
from aegan.data import AeganDataModule
from aegan.models import GAN, InfoGAN
from tests.conftest import tiny_trainer


def test_each_panel_sweeps_one_continuous_code_per_row_of_categorical_values():
    model = InfoGAN(net="mlp", hidden=(8,), noise_dim=5, code_categories=4, continuous_codes=3)
    traversal = CodeTraversal(steps=5)
    z = traversal.fixed_codes(model.prior)
    assert z.shape == (3, 4 * 5, 5 + 4 + 3)
    sweep = torch.tensor([-2.0, -1.0, 0.0, 1.0, 2.0])
    for j, panel in enumerate(z):
        noise, one_hot, continuous = model.prior.split(panel)
        assert torch.equal(noise, noise[:1].expand_as(noise))  # one noise draw everywhere
        assert torch.equal(one_hot.argmax(-1), torch.arange(4).repeat_interleave(5))  # row k: category k
        assert torch.equal(continuous[:, j], sweep.repeat(4))  # columns: code j from -2 to 2
        others = [i for i in range(3) if i != j]
        assert torch.equal(continuous[:, others], torch.zeros(20, 2))


def test_infogan_gets_traversal_and_per_code_frames_and_a_gan_none(tmp_path, seeded):
    data = AeganDataModule("mnist5k", batch_size=20)
    for model, name in ((InfoGAN(net="mlp", hidden=(16,), noise_dim=4), "infogan"), (GAN(hidden=(16,)), "gan")):
        trainer = tiny_trainer(max_epochs=2, limit_train_batches=2, limit_val_batches=1,
                               logger=CSVLogger(tmp_path, name=name), callbacks=[CodeTraversal(), DecoderGrid()])
        trainer.fit(model, data)
        media = run_dir(trainer) / "media"
        assert (media / "decoder.gif").is_file()
        if name == "gan":
            assert not (media / "traversal").exists()
            continue
        frames = sorted((media / "traversal").glob("*.png"))
        assert [f.name for f in frames] == ["epoch_0000.png", "epoch_0001.png"]
        assert iio.imread(media / "traversal.gif", index=None).shape[0] == 2
