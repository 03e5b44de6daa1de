"""aegan: autoencoder/GAN hybrids on PyTorch Lightning.

    import aegan
    model = aegan.load("runs/aegan/<id>")     # a checkpoint or a run folder
    model.sample(16), model.encode(x), model.reconstruct(x)

See :mod:`aegan.api`. Importing ``aegan`` stays light: torch and Lightning load on first use.
"""

__version__ = "0.1.0"


def load(path, device="cpu"):
    """The model in an aegan checkpoint (or a run folder's last checkpoint), in eval mode with
    gradients off, ready to ``sample``, ``encode`` and ``reconstruct``; see :func:`aegan.api.load`."""
    from aegan.api import load as _load

    return _load(path, device)


def load_data(path, **overrides):
    """The data module a checkpoint was trained with, set up; see :func:`aegan.api.load_data`."""
    from aegan.api import load_data as _load_data

    return _load_data(path, **overrides)
