import imageio.v3 as iio
import torch
from lightning.pytorch.loggers import CSVLogger

from aegan.callbacks import DecoderGrid, LatentScatterGIF, ReconstructionGrid, SampleScatter, run_dir
from aegan.data import AeganDataModule
from aegan.models import AAE
from tests.conftest import tiny_trainer


def fit_with_figures(tmp_path, data, model, epochs=2):
    callbacks = [LatentScatterGIF(points=300, prior_points=300), DecoderGrid(), ReconstructionGrid(),
                 SampleScatter(points=300)]
    trainer = tiny_trainer(max_epochs=epochs, limit_train_batches=3, limit_val_batches=1,
                           logger=CSVLogger(tmp_path, name="run"), callbacks=callbacks)
    trainer.fit(model, data)
    return run_dir(trainer)


def test_figures_are_written_per_epoch_and_assembled_into_gifs(tmp_path, seeded):
    data = AeganDataModule("mnist5k", batch_size=50)
    model = AAE(hidden=(16,), prior="mixture")
    folder = fit_with_figures(tmp_path, data, model, epochs=3)
    assert folder == tmp_path / "run" / "version_0"
    for name in ("latent", "decoder", "reconstruction"):
        frames = sorted((folder / "media" / name).glob("*.png"))
        assert [f.name for f in frames] == ["epoch_0000.png", "epoch_0001.png", "epoch_0002.png"]
        gif = iio.imread(folder / "media" / f"{name}.gif", index=None)
        assert gif.shape[0] == 3 and gif.shape[1:3] == iio.imread(frames[0]).shape[:2]
    assert not (folder / "media" / "samples").exists()  # the sample scatter is for 2-D data


def test_decoder_grid_draws_one_row_per_prior_component_from_fixed_codes():
    model = AAE(hidden=(8,), prior="swiss_roll")
    grid = DecoderGrid(per_row=7)
    z = grid.fixed_codes(model)
    assert z.shape == (70, 2) and grid.fixed_codes(model) is z
    u = (z.norm(dim=1) / model.prior.radius) ** 2  # the roll's position: row k is the k-th tenth
    row = torch.arange(10).repeat_interleave(7)
    assert ((u >= row / 10 - 1e-5) & (u <= (row + 1) / 10 + 1e-5)).all()
    assert torch.equal(DecoderGrid(per_row=7).fixed_codes(model), z)  # the same seed, the same codes


def test_vector_data_gets_the_latent_and_sample_scatters_but_no_image_grids(tmp_path, seeded):
    data = AeganDataModule("toy_ring", toy_size=1000, batch_size=100)
    model = AAE(data_shape=data.data_shape, num_classes=data.num_classes, hidden=(8,))
    folder = fit_with_figures(tmp_path, data, model)
    assert len(list((folder / "media" / "latent").glob("*.png"))) == 2
    assert iio.imread(folder / "media" / "samples.gif", index=None).shape[0] == 2
    assert not (folder / "media" / "decoder").exists() and not (folder / "media" / "reconstruction").exists()


def test_the_gif_is_reassembled_with_each_video_and_at_the_end_not_every_epoch(tmp_path, seeded, monkeypatch):
    """Re-encoding every frame after every epoch costs time quadratic in the epochs."""
    data = AeganDataModule("toy_ring", toy_size=500, batch_size=100)
    model = AAE(data_shape=data.data_shape, num_classes=data.num_classes, hidden=(8,))
    written = []
    original = SampleScatter.write_gif
    monkeypatch.setattr(SampleScatter, "write_gif", lambda self, trainer: written.append(
        len(list(self.folder(trainer).glob("*.png")))) or original(self, trainer))
    callback = SampleScatter(points=100, video_every_n_epochs=2)
    trainer = tiny_trainer(max_epochs=5, limit_train_batches=1, limit_val_batches=1,
                           logger=CSVLogger(tmp_path, name="run"), callbacks=[callback])
    trainer.fit(model, data)
    assert written == [2, 4, 5]  # after frames 2 and 4, and when training ends
    assert iio.imread(run_dir(trainer) / "media" / "samples.gif", index=None).shape[0] == 5
