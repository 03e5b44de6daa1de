"""Network builders: ``mlp`` (fully connected), ``conv`` (DCGAN-style) and ``family`` (pick one
of the two by name); the resnet family joins with its models."""

from aegan.nets.conv import conv_decoder, conv_trunk
from aegan.nets.family import NETS, decoder, trunk
from aegan.nets.init import INITS, initialise
from aegan.nets.mlp import ACTIVATIONS, mlp, mlp_decoder, mlp_encoder, mlp_trunk

__all__ = ["ACTIVATIONS", "INITS", "NETS", "conv_decoder", "conv_trunk", "decoder", "initialise", "mlp", "mlp_decoder",
           "mlp_encoder", "mlp_trunk", "trunk"]
