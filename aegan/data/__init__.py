"""Data: one LightningDataModule over every data set, chosen by name."""

from aegan.data.arrays import Arrays
from aegan.data.module import DATASETS, AeganDataModule
from aegan.data.toy import toy_modes

__all__ = ["DATASETS", "AeganDataModule", "Arrays", "toy_modes"]
