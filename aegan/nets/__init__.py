"""Network builders: ``mlp`` (fully connected); conv and resnet families join with their models."""

from aegan.nets.mlp import ACTIVATIONS, mlp, mlp_decoder, mlp_encoder

__all__ = ["ACTIVATIONS", "mlp", "mlp_decoder", "mlp_encoder"]
