"""Training throughput of each model, in one process, as rows ``{model, variant, threads,
steps_per_s, vs_eager}``:

  plain          a plain eager PyTorch loop, float32: for aae and alpha_gan written here as a peer
                 codebase would (the same networks, phases, optimizers and batch as aegan, fakes
                 detached, PyTorch's default Adam); for the other models the model's own loss terms
                 in a bare loop (:class:`PlainSteps`: default Adam per phase, the other networks
                 frozen during a phase, no Lightning, no logging, no checks)
  plain-graph    the plain aae / alpha_gan step captured once as a CUDA graph and replayed: the
                 speed-of-light reference (CUDA only)
  aegan          aegan through the Lightning Trainer with default settings (float32)
  aegan-bf16     ``--trainer.precision bf16-mixed``
  aegan-compile  ``--model.compile compile``
  aegan-graph    ``--model.compile graph`` (CUDA only)

``vs_eager`` is the ratio to ``plain`` at the same thread count, in the same run. Every variant
sees an MNIST-sized set (60,000 images of 28x28; random pixels unless --data names an .npz,
since speed does not depend on the pixels) held on the device, batch 100, and is timed over
whole epochs of ``--steps`` batches after a warm-up epoch (torch.compile and graph capture
happen there), with the device synchronised at the clock reads. On a CPU every variant runs at
each of ``--threads``. Prints a table and writes JSON::

    python benchmarks/throughput.py --out benchmarks/results/throughput.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aegan.data import AeganDataModule  # noqa: E402
from aegan.losses import discriminator_loss, generator_loss  # noqa: E402
from aegan.models import AAE, GAN, VAE, AlphaGAN, InfoGAN, SemiSupervisedAAE  # noqa: E402
from aegan.nets import mlp, mlp_decoder, mlp_encoder  # noqa: E402
from aegan.nets.resnet import resnet_encoder, resnet_generator  # noqa: E402


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


# --- plain PyTorch loops, one per model ------------------------------------------------------------

class PlainAAE:
    """The AAE recipe as a peer would write it: three MLPs, three Adam optimizers, three phases."""

    def __init__(self, device, capturable=False):
        self.encoder = mlp_encoder((1, 28, 28), (1000, 1000), 2).to(device)
        self.decoder = mlp_decoder(2, (1000, 1000), (1, 28, 28)).to(device)
        self.discriminator = mlp(2, (1000, 1000), 1).to(device)
        extra = {"fused": True, "capturable": capturable} if device.type == "cuda" else {}
        adam = lambda params, lr: torch.optim.Adam(params, lr=lr, betas=(0.5, 0.999), **extra)  # noqa: E731
        self.opt_ae = adam([*self.encoder.parameters(), *self.decoder.parameters()], 1e-3)
        self.opt_d = adam(self.discriminator.parameters(), 2e-4)
        self.opt_g = adam(self.encoder.parameters(), 1e-3)

    def step(self, x):
        recon = F.binary_cross_entropy_with_logits(self.decoder(self.encoder(x)), x)
        self.opt_ae.zero_grad(set_to_none=True)
        recon.backward()
        self.opt_ae.step()
        z_fake = self.encoder(x).detach()
        z_real = torch.randn_like(z_fake)
        d_loss = discriminator_loss(self.discriminator(z_real), self.discriminator(z_fake))
        self.opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        self.opt_d.step()
        g_loss = generator_loss(self.discriminator(self.encoder(x)))
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        self.opt_g.step()
        return recon.detach(), d_loss.detach(), g_loss.detach()


class PlainAlphaGAN:
    """alpha-GAN as a peer would write it, with aegan's default networks (residual E, G, D; MLP
    code discriminator), four Adam optimizers and the same phases: E and G twice, then D and C."""

    def __init__(self, device, capturable=False, latent_dim=16, recon_weight=10.0):
        shape = (1, 28, 28)
        self.latent_dim, self.recon_weight = latent_dim, recon_weight
        self.encoder = resnet_encoder(shape, latent_dim).to(device)
        self.generator = resnet_generator(latent_dim, shape).to(device)
        self.discriminator = resnet_encoder(shape, 1, leaky=True).to(device)
        self.code_discriminator = mlp(latent_dim, (512, 512), 1, "leaky_relu").to(device)
        extra = {"fused": True, "capturable": capturable} if device.type == "cuda" else {}
        adam = lambda net: torch.optim.Adam(net.parameters(), lr=2e-4, betas=(0.5, 0.9), **extra)  # noqa: E731
        self.opt_e, self.opt_g = adam(self.encoder), adam(self.generator)
        self.opt_d, self.opt_c = adam(self.discriminator), adam(self.code_discriminator)

    def forward(self, x):
        z = self.encoder(x)
        z_prior = torch.randn_like(z)
        recon, fake = torch.sigmoid(self.generator(torch.cat([z, z_prior]))).chunk(2)
        return z, z_prior, recon, fake

    def update(self, optimizer, loss):
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss.detach()

    def step(self, x):
        for _ in range(2):
            z, _, recon, _ = self.forward(x)
            e_loss = self.update(self.opt_e, self.recon_weight * (recon - x).abs().mean()
                                 + generator_loss(self.code_discriminator(z)))
            _, _, recon, fake = self.forward(x)
            on_recon, on_fake = self.discriminator(torch.cat([recon, fake])).chunk(2)
            g_loss = self.update(self.opt_g, self.recon_weight * (recon - x).abs().mean()
                                 + generator_loss(on_recon) + generator_loss(on_fake))
        with torch.no_grad():
            z, z_prior, recon, fake = self.forward(x)
        d_loss = self.update(self.opt_d, discriminator_loss(self.discriminator(x),
                                                            self.discriminator(torch.cat([recon, fake]))))
        c_loss = self.update(self.opt_c, discriminator_loss(self.code_discriminator(z_prior),
                                                            self.code_discriminator(z)))
        return e_loss, g_loss, d_loss, c_loss


class PlainSteps:
    """A model's own phases in a bare PyTorch loop: one Adam per phase as PyTorch makes it by
    default (multi-tensor, float learning rate), each phase computing the model's loss terms
    with the other phases' parameters frozen, then backward and step; no Lightning, no logging,
    no non-finite check, no per-batch seeding. The arithmetic is aegan's by construction, so the
    difference to aegan is the loop around it (and aegan's fused Adam)."""

    def __init__(self, model, device, capturable=False):
        self.model = model.to(device).train()
        groups = model.optimizer_groups()
        self.params = {name: list(params) for name, (params, _) in groups.items()}
        self.optimizers = {name: torch.optim.Adam(self.params[name], lr=lr, betas=model.betas)
                           for name, (_, lr) in zip(groups, groups.values())}
        self.everything = list(model.parameters())
        model.phase = self.phase  # the instance attribute shadows GenerativeModule.phase
        self.labelled = None

    def phase(self, name, terms):
        trainable = {id(p) for p in self.params[name]}
        for p in self.everything:
            p.requires_grad_(id(p) in trainable)
        out = terms()
        optimizer = self.optimizers[name]
        optimizer.zero_grad(set_to_none=True)
        out["loss"].backward()
        optimizer.step()
        return {f"{name}/{k}": v.detach() for k, v in out.items()}

    def step(self, x):
        y = torch.zeros(len(x), dtype=torch.long, device=x.device)
        if isinstance(self.model, SemiSupervisedAAE):  # a labelled batch beside, as aegan's data module gives
            return self.model.train_step(x, y, x, y)
        return self.model.train_step(x, y)


# every model with its config's networks; plain loops written here for aae and alpha_gan
AEGAN = {"aae": lambda compile: AAE(compile=compile), "alpha_gan": lambda compile: AlphaGAN(compile=compile),
         "aae_semi": lambda compile: SemiSupervisedAAE(compile=compile),
         "gan": lambda compile: GAN(compile=compile),
         "dcgan": lambda compile: GAN(net="conv", prior="uniform", hidden=(1024,), compile=compile),
         "vae": lambda compile: VAE(compile=compile), "infogan": lambda compile: InfoGAN(compile=compile)}
PLAIN = {"aae": PlainAAE, "alpha_gan": PlainAlphaGAN}


def plain_model(name, device, graph):
    if name in PLAIN:
        return PLAIN[name](device, capturable=graph)
    return PlainSteps(AEGAN[name]("none"), device)


def plain_epochs(model_name, x, batch, steps, epochs, device, graph):
    """Epoch times of the plain loop; the first epoch is warm-up."""
    model = plain_model(model_name, device, graph)
    static_x = x[:batch].float().div(255)
    run = lambda: model.step(static_x)  # noqa: E731
    if graph:
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(3):
                model.step(static_x)
        torch.cuda.current_stream().wait_stream(side)
        captured = torch.cuda.CUDAGraph()
        with torch.cuda.graph(captured):
            model.step(static_x)
        run = captured.replay
    times = []
    for _ in range(epochs + 1):
        order = torch.randperm(len(x), device=device)
        sync(device)
        start = time.perf_counter()
        for b in range(steps):
            static_x.copy_(x[order[b * batch:(b + 1) * batch]].float().div_(255))
            run()
        sync(device)
        times.append(time.perf_counter() - start)
    return times[1:], steps


class EpochTimer(L.Callback):
    def __init__(self):
        self.times, self.start = [], 0.0

    def on_train_epoch_start(self, trainer, module):
        sync(module.device)
        self.start = time.perf_counter()

    def on_train_epoch_end(self, trainer, module):
        sync(module.device)
        self.times.append(time.perf_counter() - self.start)


def aegan_epochs(model_name, data_path, batch, steps, epochs, device, compile, precision="32-true"):
    timer = EpochTimer()
    trainer = L.Trainer(accelerator=device.type, devices=1, max_epochs=epochs + 1, logger=False,
                        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                        limit_val_batches=0, limit_train_batches=steps, precision=precision, callbacks=[timer])
    # the semi-supervised AAE also draws a labelled stream of 100 examples (the paper's setting)
    data = AeganDataModule("arrays", path=data_path, batch_size=batch, val_fraction=1 / 61, resident=True,
                           labels_per_class=10 if model_name == "aae_semi" else None)
    trainer.fit(AEGAN[model_name](compile), data)
    return timer.times[1:], trainer.num_training_batches


def variants(name, device):
    """``{variant: run(x, path, batch, steps, epochs)}`` for this model and device."""
    on_gpu = device.type == "cuda"
    found = {"plain": lambda x, path, b, s, e: plain_epochs(name, x, b, s, e, device, graph=False)}
    if name in PLAIN and on_gpu:
        found["plain-graph"] = lambda x, path, b, s, e: plain_epochs(name, x, b, s, e, device, graph=True)
    found["aegan"] = lambda x, path, b, s, e: aegan_epochs(name, path, b, s, e, device, "none")
    found["aegan-bf16"] = lambda x, path, b, s, e: aegan_epochs(name, path, b, s, e, device, "none", "bf16-mixed")
    if on_gpu:
        found["aegan-graph"] = lambda x, path, b, s, e: aegan_epochs(name, path, b, s, e, device, "graph")
    found["aegan-compile"] = lambda x, path, b, s, e: aegan_epochs(name, path, b, s, e, device, "compile")
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=",".join(AEGAN), help=f"comma-separated, from {', '.join(AEGAN)}")
    parser.add_argument("--data", help="an .npz with x (N, 28, 28) uint8 and y (default: 61,000 random images)")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per variant (after one warm-up)")
    parser.add_argument("--steps", type=int, default=None, help="batches per epoch (default: the whole set)")
    parser.add_argument("--model_steps", default="",
                        help="per-model batches per epoch instead of --steps, e.g. alpha_gan=10,infogan=20 "
                             "(the conv models take seconds per step on a CPU)")
    parser.add_argument("--threads", default=None,
                        help="CPU only: comma-separated torch thread counts, each variant at each (default: 1,2)")
    parser.add_argument("--variants", default=None, help="comma-separated subset of the variants (default: all)")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--out", default="benchmarks/results/throughput.json")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.models.split(",")) - set(AEGAN))
    if unknown:
        parser.error(f"unknown model {', '.join(unknown)}; valid choices: {', '.join(AEGAN)}")
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    threads = [None] if device.type == "cuda" else [int(t) for t in (args.threads or "1,2").split(",")]
    with tempfile.TemporaryDirectory() as folder:
        path = args.data
        if path is None:  # 60,000 training images after the data module's validation split
            path = str(Path(folder) / "random.npz")
            rng = np.random.default_rng(0)
            np.savez(path, x=rng.integers(0, 256, (61000, 28, 28), dtype=np.uint8), y=rng.integers(0, 10, 61000))
        with np.load(path) as archive:
            x = torch.from_numpy(archive["x"][:60000]).reshape(-1, 1, 28, 28).to(device)
        steps = args.steps or len(x) // args.batch
        per_model = {name: int(n) for name, n in (item.split("=") for item in args.model_steps.split(",") if item)}
        rows = []
        for count in threads:
            if count is not None:
                torch.set_num_threads(count)
            for name in args.models.split(","):
                for variant, run in variants(name, device).items():
                    if args.variants and variant not in args.variants.split(","):
                        continue
                    L.seed_everything(0, verbose=False)
                    times, done = run(x, path, args.batch, per_model.get(name, steps), args.epochs)
                    epoch = float(np.median(times))
                    rows.append({"model": name, "variant": variant, "threads": count or torch.get_num_threads(),
                                 "steps_per_epoch": done, "epoch_s": epoch, "steps_per_s": done / epoch})
                    print(f"{name} {variant} ({rows[-1]['threads']} threads): {done / epoch:.1f} steps/s", flush=True)
    for row in rows:
        same = [r for r in rows if r["model"] == row["model"] and r["threads"] == row["threads"]]
        for ref, key in (("plain", "vs_eager"), ("plain-graph", "vs_graph")):
            base = next((r for r in same if r["variant"] == ref), None)
            row[key] = row["steps_per_s"] / base["steps_per_s"] if base else None
    name = torch.cuda.get_device_name() if device.type == "cuda" else f"CPU ({os.cpu_count()} cores)"
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=Path(__file__).resolve().parents[1],
                            capture_output=True, text=True).stdout.strip()
    report = {"device": name, "torch": torch.__version__, "commit": commit, "date": time.strftime("%Y-%m-%d"),
              "command": "python benchmarks/throughput.py " + " ".join(sys.argv[1:] if argv is None else argv),
              "batch": args.batch, "steps_per_epoch": steps,
              "epochs_timed": args.epochs, "rows": rows}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(f"\ndevice: {name}, torch {torch.__version__}, batch {args.batch}, median of {args.epochs} epochs "
          f"of {steps} batches\n")
    print(table(rows))
    print(f"\nwritten to {args.out}")


def table(rows) -> str:
    """One line per model and thread count: steps per second of each variant, and its ratio to
    the plain loop at the same thread count."""
    variants = list(dict.fromkeys(r["variant"] for r in rows))
    lines = [f"| model | threads | {' | '.join(variants)} |", "| --- | ---: |" + " ---: |" * len(variants)]
    for model, threads in dict.fromkeys((r["model"], r["threads"]) for r in rows):
        cells = []
        for variant in variants:
            row = next((r for r in rows if (r["model"], r["threads"], r["variant"]) == (model, threads, variant)), None)
            rate = row and (f"{row['steps_per_s']:.2f}" if row["steps_per_s"] < 10 else f"{row['steps_per_s']:.1f}")
            cells.append("-" if row is None else rate if variant == "plain" else f"{rate} ({row['vs_eager']:.2f}x)")
        lines.append(f"| {model} | {threads} | {' | '.join(cells)} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
