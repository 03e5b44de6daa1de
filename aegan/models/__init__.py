"""The methods. Each file holds one method's whole algorithm."""

from aegan.models.aae import AAE
from aegan.models.aae_semi import SemiSupervisedAAE
from aegan.models.alpha_gan import AlphaGAN
from aegan.models.base import AutoencodingModule, GenerativeModule

__all__ = ["AAE", "AlphaGAN", "AutoencodingModule", "GenerativeModule", "SemiSupervisedAAE"]
