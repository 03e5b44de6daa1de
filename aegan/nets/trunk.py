"""What every trunk builder returns: a network that knows the width of its output."""

from __future__ import annotations

from torch import nn


class Trunk(nn.Sequential):
    """Data to features, for heads to sit on (a discriminator's logit, an encoder's code).

    A plain ``nn.Sequential`` (its state-dict keys are the layers' indices, as before this class
    existed) whose ``out_features`` is the width of the features, so that a model builds its
    heads from the trunk alone."""

    def __init__(self, *layers: nn.Module, out_features: int):
        super().__init__(*layers)
        self.out_features = int(out_features)
