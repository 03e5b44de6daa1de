"""Network builders: ``mlp`` (fully connected, with maxout and BatchNorm options), ``conv``
(DCGAN-style) and ``family`` (pick one of the two by name); the resnet family joins with its
models. ``init``: weight initialisation schemes; ``norm``: BatchNorm statistics estimated on
chosen inputs.

One convention for every builder: a trunk (data to features) returns a
:class:`~aegan.nets.trunk.Trunk`, which knows its ``out_features``; a decoder (codes to data)
takes the widths of the trunk or encoder it mirrors, data side first, and runs through them in
reverse. ``decoder("mlp", ...)`` and ``decoder("conv", ...)`` are the way to build one."""

from aegan.nets.conv import conv_decoder, conv_trunk
from aegan.nets.family import NETS, decoder, trunk
from aegan.nets.init import INITS, initialise
from aegan.nets.mlp import ACTIVATIONS, MLP_NORMS, Maxout, mlp, mlp_decoder, mlp_encoder, mlp_trunk
from aegan.nets.norm import estimate_statistics, statistics_in_place
from aegan.nets.trunk import Trunk

__all__ = ["ACTIVATIONS", "INITS", "MLP_NORMS", "Maxout", "NETS", "Trunk", "conv_decoder", "conv_trunk", "decoder",
           "estimate_statistics", "initialise", "mlp", "mlp_decoder", "mlp_encoder", "mlp_trunk",
           "statistics_in_place", "trunk"]
