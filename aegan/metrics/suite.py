"""One evaluation path for every model: the Evaluation callback and ``aegan.evaluate`` both call
:func:`evaluate`, which uses only the model protocol (``sample``, ``posterior_sample`` or
``encode``, ``reconstruct``, ``prior``).

| metric   | needs                         | reports                                            |
| -------- | ----------------------------- | -------------------------------------------------- |
| `fid`    | images                        | `fid` (with `fid_samples`, `fid_real`)             |
| `kid`    | images                        | `kid` (with `kid_std`, `kid_subset`)               |
| `pr`     | images                        | `precision`, `recall` (k-NN manifolds, k = 3)      |
| `critic` | anything                      | `critic_neg_w`: minus an independent critic's W1   |
| `latent` | an encoder                    | `latent_swd`, `latent_mmd` between q(z) and p(z)   |
| `recon`  | an encoder                    | `recon_mse`, `recon_l1` on the real examples       |
| `modes`  | 2-D toy mixtures (ring, grid) | `modes_covered`, `high_quality`, `reverse_kl`      |
| `codes`  | a categorical code, digits    | `code_accuracy`: code values matched to digits     |

`fid`, `kid` and `pr` share one feature network and compute the generated features once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from aegan.errors import ConfigError, unknown_choice
from aegan.metrics.codes import code_accuracy, code_values
from aegan.metrics.fid import FID
from aegan.metrics.latent import mmd, reconstruction_errors
from aegan.metrics.modes import mode_coverage
from aegan.metrics.wasserstein import critic_distance, sliced_wasserstein

METRICS = ("fid", "kid", "pr", "critic", "latent", "recon", "modes", "codes")
FEATURE_METRICS = ("fid", "kid", "pr")  # one feature network, features computed once


def applicable(module, real: Tensor, modes: Tensor | None = None, inception: bool = False) -> dict[str, str | None]:
    """For each metric, None when it applies to this module and data, else the reason why not.
    The domain FID takes 28x28 grey digits; other images need the Inception weights."""
    encoder = None if hasattr(module, "encode") else f"{type(module).__name__} has no encoder"
    digits = tuple(real.shape[1:]) == (1, 28, 28)
    features = None if digits or (inception and real.dim() == 4) else \
        "FID, KID and precision/recall need 28x28 digits (domain features) or images and the Inception weights"
    return {
        "fid": features,
        "kid": features,
        "pr": features,
        "critic": None,
        "latent": encoder,
        "recon": encoder,
        "modes": None if modes is not None else "mode coverage needs a 2-D toy mixture (toy_ring, toy_grid)",
        "codes": None if digits and code_values(module) else
        "code accuracy needs 28x28 digits and a categorical code to sample by (InfoGAN's c, a prior with components)",
    }


def choose(metrics: Sequence[str] | str | None, module, real: Tensor, modes: Tensor | None = None,
           default_skip: Sequence[str] = (), inception: bool = False) -> list[str]:
    """Validate the requested metrics (a list or "fid,latent"); None means every metric that
    applies except ``default_skip``."""
    reasons = applicable(module, real, modes, inception)
    if metrics is None:
        return [m for m in METRICS if reasons[m] is None and m not in default_skip]
    chosen = [m.strip() for m in metrics.split(",")] if isinstance(metrics, str) else list(metrics)
    for m in chosen:
        if m not in METRICS:
            raise unknown_choice("metric", m, METRICS)
        if reasons[m]:
            raise ConfigError(f"metric {m!r} does not apply here: {reasons[m]}")
    return chosen


def batched(fn, x: Tensor | int, batch_size: int, device) -> Tensor:
    """``fn`` over ``x`` (a tensor, or a count of samples to draw) in batches, gathered on the CPU."""
    if isinstance(x, int):
        sizes = [min(batch_size, x - i) for i in range(0, x, batch_size)]
        return torch.cat([fn(n).cpu() for n in sizes])
    return torch.cat([fn(b.to(device)).cpu() for b in x.split(batch_size)])


def reconstruct(module, x: Tensor, labels: Tensor | None, batch_size: int) -> Tensor:
    """Reconstructions of ``x`` in batches; decoders that take a label get ``labels``."""
    if not getattr(module, "decoder_classes", 0):
        return batched(module.reconstruct, x, batch_size, module.device)
    if labels is None:
        raise ConfigError(f"{type(module).__name__} reconstructs with the labels, and none were given")
    device = module.device
    return torch.cat([module.reconstruct(xb.to(device), yb.to(device)).cpu()
                      for xb, yb in zip(x.split(batch_size), labels.split(batch_size))])


@torch.no_grad()
def generate(module, n: int, batch_size: int = 500) -> Tensor:
    return batched(module.sample, n, batch_size, module.device).float()


def evaluate(module, real: Tensor, metrics: Sequence[str], *, labels: Tensor | None = None,
             samples: int | None = None, fid: FID | None = None, modes: Tensor | None = None,
             mode_std: float | None = None, critic_steps: int = 2000, batch_size: int = 500,
             seed: int = 0, progress: Callable[[str], None] | None = None) -> dict[str, float]:
    """Score ``module`` against held-out ``real`` examples (floats, as the model sees them) and
    their ``labels`` (used by decoders that take a label, for the reconstructions).

    ``samples`` generated examples (default: as many as ``real``) are compared with ``real``; a
    prepared :class:`FID` keeps its real statistics between calls. The module is put in eval
    mode for the duration and restored after, and the global random state is left as it was,
    so training that evaluates every epoch draws the same numbers as training that does not.
    ``progress(message)``, if given, hears what is being done and how long each part took.
    """
    was_training = module.training
    module.eval()
    devices = [module.device] if module.device.type == "cuda" else []
    try:
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            return _scores(module, real, labels, metrics, samples or len(real), fid, modes, mode_std,
                           critic_steps, batch_size, seed, progress or (lambda message: None))
    finally:
        module.train(was_training)


class _Timer:
    """Reports each part's duration to ``progress``."""

    def __init__(self, progress: Callable[[str], None]):
        self.progress = progress

    def __call__(self, what: str):
        self.what = what
        return self

    def __enter__(self):
        self.progress(f"{self.what} ...")
        self.start = time.perf_counter()

    def __exit__(self, *exc):
        if exc[0] is None:
            self.progress(f"{self.what}: {time.perf_counter() - self.start:.1f} s")


def _scores(module, real, labels, metrics, n, fid, modes, mode_std, critic_steps, batch_size, seed, progress):
    part = _Timer(progress)
    fake = None
    if {"critic", "modes", *FEATURE_METRICS} & set(metrics):
        with part(f"generating {n} samples"):
            fake = generate(module, n, batch_size)
    results: dict[str, float] = {}
    feature_metrics = [m for m in FEATURE_METRICS if m in metrics]
    if feature_metrics:
        if fid is None:
            with part(f"features of {len(real)} real examples"):
                fid = FID(real, device=module.device)
        with part(" and ".join(feature_metrics)):
            scores = fid.scores(fake, feature_metrics)
        if "fid" in scores:
            results.update(fid=scores.pop("fid"), fid_samples=n, fid_real=fid.real_count)
        results.update(scores)
    if "critic" in metrics:
        def critic_progress(step, steps, seconds):
            left = seconds / step * (steps - step)
            progress(f"critic: step {step}/{steps} after {seconds:.0f} s" + (f", about {left:.0f} s to go" if left else ""))

        with part(f"critic ({critic_steps} steps)"):
            results["critic_neg_w"] = -critic_distance(real, fake, steps=critic_steps, seed=seed, device=module.device,
                                                       progress=critic_progress)
    if "latent" in metrics or "recon" in metrics:
        with torch.no_grad(), part("encoding the real examples"):
            encode = getattr(module, "posterior_sample", module.encode)
            z = batched(encode, real, batch_size, module.device).float()
            if "latent" in metrics:
                generator = torch.Generator().manual_seed(seed)
                prior = module.prior.sample(len(z), generator=generator)
                results["latent_swd"] = sliced_wasserstein(z, prior, generator=generator).item()
                results["latent_mmd"] = mmd(z, prior).item()
            if "recon" in metrics:
                results.update(reconstruction_errors(real, reconstruct(module, real, labels, batch_size)))
    if "modes" in metrics:
        results.update(mode_coverage(fake, modes, mode_std))
    if "codes" in metrics:
        with part("code accuracy"):
            results["code_accuracy"] = code_accuracy(module, max(1, n // code_values(module)), batch_size)
    return results
