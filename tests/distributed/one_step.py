"""Train one step (or one epoch with figures) under Lightning's DDP on the CPU and save what
each process ends with. Run by tests/distributed/test_ddp.py as a script, because Lightning's
DDP launcher starts the other processes by running this same command again.

    python tests/distributed/one_step.py OUT --model aae --devices 2 --batch 50 --labelled-batch 20 \
        [--resident] [--media]
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import lightning as L  # noqa: E402
import torch  # noqa: E402
from lightning.pytorch.loggers import CSVLogger  # noqa: E402

from aegan.callbacks import LatentScatterGIF  # noqa: E402
from aegan.callbacks.media import FigureCallback  # noqa: E402
from aegan.data import AeganDataModule  # noqa: E402
from aegan.models import AAE, GAN, VAE, AlphaGAN, InfoGAN, SemiSupervisedAAE  # noqa: E402


class PinnedAAE(AAE):
    """The prior draws for a batch are a fixed function of its examples, so a step on two
    shards and a step on their union see the same 'random' prior samples."""

    def prior_sample(self, x, y):
        return torch.tanh(x @ torch.tensor([[0.7, -0.3], [0.2, 0.9]], device=x.device))


class PinnedSemiSupervisedAAE(SemiSupervisedAAE):
    """Likewise for both discriminators' real samples (and no input noise)."""

    def prior_sample(self, x):
        cluster = (x.abs().sum(-1) * 1000).long() % self.decoder_classes
        style = torch.tanh(x @ torch.tensor([[0.7, -0.3], [0.2, 0.9]], device=x.device))
        return torch.nn.functional.one_hot(cluster, self.decoder_classes).to(x.dtype), style


def pinned_noise(x, width, scale=1.0):
    """Numbers in (-1, 1) that are a fixed function of each example."""
    flat = x.flatten(1)
    projection = torch.randn(flat.shape[1], width, generator=torch.Generator().manual_seed(0)).to(x.device)
    return torch.tanh(flat @ projection / scale)


class PinnedGAN(GAN):
    def noise(self, x):
        return pinned_noise(x, self.latent_dim)


class PinnedInfoGAN(InfoGAN):
    def noise(self, x):
        prior = self.prior
        u = pinned_noise(x, prior.noise.dim + prior.continuous)
        category = (x.flatten(1).abs().sum(-1) * 1000).long() % prior.categories
        return prior.join(u[:, :prior.noise.dim], category, u[:, prior.noise.dim:])


class PinnedVAE(VAE):
    def posterior_noise(self, x, mean):
        return pinned_noise(x, mean.shape[-1])


class PinnedAlphaGAN(AlphaGAN):
    def prior_sample(self, x, y):
        return pinned_noise(x, self.latent_dim, scale=10)


# name -> (model, data module settings); the semi-supervised AAE also gets a labelled stream, and
# alpha-GAN and DCGAN train on the embedded digits, without BatchNorm: each process would normalise
# with its own shard's statistics, and SyncBatchNorm, which shares them, needs GPUs (torch refuses
# it on CPU)
MODELS = {
    "aae": (lambda: PinnedAAE(data_shape=(2,), num_classes=25, hidden=(16, 16)), {}),
    "aae_semi": (lambda: PinnedSemiSupervisedAAE(data_shape=(2,), num_classes=25, num_clusters=25, latent_dim=2,
                                                 hidden=(16, 16), disc_hidden=(8,), input_noise=0.0),
                 {"labels_per_class": 2}),
    "alpha_gan": (lambda: PinnedAlphaGAN(channels=4, max_channels=8, norm="none", latent_dim=4, code_hidden=(8,)),
                  {"name": "mnist5k"}),
    "gan": (lambda: PinnedGAN(data_shape=(2,), num_classes=25, latent_dim=2, hidden=(16, 16)), {}),
    "dcgan": (lambda: PinnedGAN(net="conv", channels=(4, 8), hidden=(16,), norm="none", latent_dim=8),
              {"name": "mnist5k"}),
    # with BatchNorm, for --norm-buffers: running statistics must end equal on every rank
    "dcgan_bn": (lambda: GAN(net="conv", channels=(4, 8), hidden=(16,), norm="batch", latent_dim=8),
                 {"name": "mnist5k", "batch_size": 50}),
    "vae": (lambda: PinnedVAE(data_shape=(2,), num_classes=25, latent_dim=2, hidden=(16, 16)), {}),
    "infogan": (lambda: PinnedInfoGAN(data_shape=(2,), num_classes=25, noise_dim=2, code_categories=4, continuous_codes=1,
                                      net="mlp", hidden=(16, 16), q_hidden=8), {}),
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--model", default="aae")
    parser.add_argument("--devices", type=int, default=2)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--labelled-batch", type=int, default=20)
    parser.add_argument("--resident", action="store_true")
    parser.add_argument("--media", action="store_true", help="one epoch with figures instead of one step")
    parser.add_argument("--norm-buffers", action="store_true",
                        help="one epoch of 4 batches and a validation; save each rank's BatchNorm buffers")
    args = parser.parse_args()
    out = Path(args.out)
    L.seed_everything(0, verbose=False)
    make_model, data_settings = MODELS[args.model]
    model = make_model()
    data = AeganDataModule(**{"name": "toy_grid", "toy_size": 440, "batch_size": args.batch, **data_settings},
                           resident=args.resident, labelled_batch_size=args.labelled_batch)
    # one batch: every model steps each of its optimizers at least once per batch
    callbacks, logger, limits = [], False, {"max_steps": len(model.optimizer_groups())}
    if args.media:
        original = FigureCallback.write_gif

        def write_gif(self, trainer):  # record every GIF written, and by which process
            with open(out / "written.txt", "a") as log:
                log.write(f"{self.name} rank {trainer.global_rank}\n")
            return original(self, trainer)

        FigureCallback.write_gif = write_gif
        callbacks, logger, limits = [LatentScatterGIF(points=100)], CSVLogger(out, name="run"), {"max_epochs": 1}
    if args.norm_buffers:
        limits = {"max_epochs": 1, "limit_train_batches": 4}
    trainer = L.Trainer(accelerator="cpu", devices=args.devices, strategy="ddp" if args.devices > 1 else "auto",
                        logger=logger, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, num_sanity_val_steps=0, callbacks=callbacks,
                        limit_val_batches=1 if args.media or args.norm_buffers else 0, **limits)
    trainer.fit(model, data)
    if args.norm_buffers:
        buffers = {name: b for name, b in model.named_buffers() if "running" in name}
        torch.save(buffers, out / f"norm-rank{trainer.global_rank}.pt")
        return
    grads = {name: p.grad for name, p in model.named_parameters()}
    torch.save({"weights": model.state_dict(), "grads": grads, "global_step": trainer.global_step},
               out / f"rank{trainer.global_rank}-of-{args.devices}.pt")


if __name__ == "__main__":
    main()
