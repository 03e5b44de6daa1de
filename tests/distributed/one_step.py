"""Train one batch (or one epoch with figures) of a model config under Lightning's DDP on the CPU
and save what each process ends with. Run by tests/distributed/test_ddp.py as a script, because
Lightning's DDP launcher starts the other processes by running this same command again.

    python tests/distributed/one_step.py OUT --model aae --devices 2 --batch 50 --labelled-batch 20 \
        [--resident] [--media] [--norm-buffers]

The model is the config's (``configs/<model>.yaml``: its class and settings, tiny networks from
the class's signature, :mod:`tests.tiny`, and no BatchNorm unless ``--norm-buffers``), built as
``Pinned<Class>`` where this file defines one: a subclass whose random draws are fixed functions
of the examples, so that a step on two shards and a step on their union draw alike. A model
that draws nothing at random needs none. The data are the config's (the embedded digits where it
would download MNIST).
"""

import argparse
import inspect
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import lightning as L  # noqa: E402
import torch  # noqa: E402
from lightning.pytorch.loggers import CSVLogger  # noqa: E402

from aegan.callbacks import LatentScatterGIF  # noqa: E402
from aegan.callbacks.media import FigureCallback  # noqa: E402
from aegan.data import AeganDataModule  # noqa: E402
from aegan.models import AAE, GAN, VAE, WAE, AlphaGAN, BiGAN, GenerativeModule, InfoGAN, SemiSupervisedAAE  # noqa: E402
from tests.tiny import model_class, tiny_arguments  # noqa: E402

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def pinned_noise(x, width, scale=1.0):
    """Numbers in (-1, 1) that are a fixed function of each example (of each row of ``x``)."""
    flat = x.flatten(1)
    projection = torch.randn(flat.shape[1], width, generator=torch.Generator().manual_seed(0)).to(x.device, x.dtype)
    return torch.tanh(flat @ projection / scale)


class PinnedAAE(AAE):
    """The prior draws for a batch are a fixed function of its examples, so a step on two
    shards and a step on their union see the same 'random' prior samples."""

    def prior_sample(self, x, y):
        return pinned_noise(x, self.latent_dim)


class PinnedSemiSupervisedAAE(SemiSupervisedAAE):
    """Likewise for both discriminators' real samples, and the noise on the encoder's input, on
    the style and on the discriminators' inputs."""

    def prior_sample(self, x):
        cluster = (x.flatten(1).abs().sum(-1) * 1000).long() % self.decoder_classes
        return torch.nn.functional.one_hot(cluster, self.decoder_classes).to(x.dtype), pinned_noise(x, self.latent_dim)

    def noisy(self, x):
        return x + self.hparams.input_noise * pinned_noise(x, x[0].numel()).view_as(x)

    def noisy_style(self, z):
        return z + self.hparams.style_noise * pinned_noise(z, z.shape[-1])

    def judged(self, discriminator, v):
        return discriminator(v + self.hparams.disc_noise * pinned_noise(v, v.shape[-1])).squeeze(-1)


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


class PinnedBiGAN(BiGAN):
    def noise(self, x):
        return pinned_noise(x, self.latent_dim)

    def posterior_noise(self, x, mean):
        return pinned_noise(x, mean.shape[-1], scale=3)


class PinnedWAE(WAE):
    def prior_sample(self, x):
        return pinned_noise(x, self.latent_dim)


def build(name: str, keep_norm: bool) -> tuple[GenerativeModule, dict]:
    """The model of config ``name`` with tiny networks (as ``Pinned<Class>`` where one is defined
    here) and the settings of its data. BatchNorm goes unless ``keep_norm``: each process would
    normalise with its own shard's statistics, and SyncBatchNorm, which shares them, needs GPUs
    (torch refuses it on CPU)."""
    config = yaml.safe_load((CONFIGS / f"{name}.yaml").read_text())
    cls = model_class(config["model"]["class_path"])
    cls = globals().get(f"Pinned{cls.__name__}", cls)
    arguments = {**config["model"].get("init_args", {}), **tiny_arguments(cls), "compile": "none"}
    if "norm" in inspect.signature(cls.__init__).parameters and not keep_norm:
        arguments["norm"] = "none"
    data = {key: value for key, value in config.get("data", {}).items() if key in ("name", "labels_per_class")}
    if data.get("name", "mnist") == "mnist":  # the embedded digits, not a download
        data["name"] = "mnist5k"
    return cls(**arguments), data


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--model", default="aae", help="a config name")
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
    model, data_settings = build(args.model, keep_norm=args.norm_buffers)
    data = AeganDataModule(**{"toy_size": 440, **data_settings, "batch_size": args.batch},
                           resident=args.resident, labelled_batch_size=args.labelled_batch)
    phases = []  # the optimizer steps of the batch, counted rather than listed per model
    original_phase = GenerativeModule.phase
    GenerativeModule.phase = lambda self, name, terms: phases.append(name) or original_phase(self, name, terms)
    callbacks, logger, limits = [], False, {"max_epochs": 1, "limit_train_batches": 1}
    if args.media:
        original = FigureCallback.write_gif

        def write_gif(self, trainer):  # record every GIF written, and by which process
            with open(out / "written.txt", "a") as log:
                log.write(f"{self.name} rank {trainer.global_rank}\n")
            return original(self, trainer)

        FigureCallback.write_gif = write_gif
        callbacks, logger = [LatentScatterGIF(points=100)], CSVLogger(out, name="run")
        limits = {"max_epochs": 1, "limit_train_batches": 4}
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
    torch.save({"weights": model.state_dict(), "grads": grads, "global_step": trainer.global_step, "phases": phases},
               out / f"rank{trainer.global_rank}-of-{args.devices}.pt")


if __name__ == "__main__":
    main()
