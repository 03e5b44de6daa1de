"""Network builders: ``mlp`` (fully connected), ``conv`` (DCGAN-style) and ``family`` (pick one
of the two by name); the resnet family joins with its models.

One convention for every builder: a trunk (data to features) returns a
:class:`~aegan.nets.trunk.Trunk`, which knows its ``out_features``; a decoder (codes to data)
takes the widths of the trunk or encoder it mirrors, data side first, and runs through them in
reverse. ``decoder("mlp", ...)`` and ``decoder("conv", ...)`` are the way to build one."""

from aegan.nets.conv import conv_decoder, conv_trunk
from aegan.nets.family import NETS, decoder, trunk
from aegan.nets.init import INITS, initialise
from aegan.nets.mlp import ACTIVATIONS, mlp, mlp_decoder, mlp_encoder, mlp_trunk
from aegan.nets.trunk import Trunk

__all__ = ["ACTIVATIONS", "INITS", "NETS", "Trunk", "conv_decoder", "conv_trunk", "decoder", "initialise", "mlp",
           "mlp_decoder", "mlp_encoder", "mlp_trunk", "trunk"]
