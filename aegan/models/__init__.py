"""The methods. Each file holds one method's whole algorithm."""

from aegan.models.aae import AAE
from aegan.models.aae_semi import SemiSupervisedAAE
from aegan.models.base import AutoencodingModule, GenerativeModule

__all__ = ["AAE", "AutoencodingModule", "GenerativeModule", "SemiSupervisedAAE"]
