"""Weight initialisation schemes, chosen by name (``--model.init``)."""

from __future__ import annotations

from torch import nn

from aegan.errors import unknown_choice

#: ``default``: PyTorch's own (Kaiming-uniform weights and biases); ``normal_0.01``: weights
#: N(0, 0.01), biases zero (the Chainer AAE of musyoku/adversarial-autoencoder): every layer
#: starts nearly linear and small, so a softmax head starts near uniform, far from saturation;
#: ``normal_0.02``: weights N(0, 0.02), biases zero, the DCGAN convention that the official
#: InfoGAN (openai/InfoGAN, every layer) and PacGAN's toy nets (fjxmlzn/PacGAN) use. BatchNorm
#: keeps scale 1 and shift 0 in every scheme (the official InfoGAN draws its scales from
#: N(1, 0.02), a 2% difference at the start)
INITS = ("default", "normal_0.01", "normal_0.02")
STDS = {"normal_0.01": 0.01, "normal_0.02": 0.02}


def initialise(module: nn.Module, scheme: str) -> nn.Module:
    """Re-initialise every linear and convolutional layer of ``module`` by ``scheme``."""
    if scheme not in INITS:
        raise unknown_choice("init", scheme, INITS)
    if scheme == "default":
        return module
    for layer in module.modules():
        if isinstance(layer, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(layer.weight, 0.0, STDS[scheme])
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
    return module
