"""The methods. Each file holds one method's whole algorithm."""

from aegan.models.aae import AAE
from aegan.models.aae_semi import SemiSupervisedAAE
from aegan.models.alpha_gan import AlphaGAN
from aegan.models.base import AutoencodingModule, GenerativeModule
from aegan.models.bigan import BiGAN
from aegan.models.gan import GAN
from aegan.models.infogan import InfoGAN
from aegan.models.vae import VAE
from aegan.models.wae import WAE

__all__ = ["AAE", "GAN", "VAE", "WAE", "AlphaGAN", "AutoencodingModule", "BiGAN", "GenerativeModule", "InfoGAN",
           "SemiSupervisedAAE"]
