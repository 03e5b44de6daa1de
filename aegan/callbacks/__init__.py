"""Callbacks: figures as PNG frames and GIFs in the run directory, logged to any logger."""

from aegan.callbacks.evaluation import Evaluation
from aegan.callbacks.grids import DecoderGrid, ReconstructionGrid
from aegan.callbacks.latent import LatentScatterGIF
from aegan.callbacks.media import FigureCallback, run_dir

__all__ = ["DecoderGrid", "Evaluation", "FigureCallback", "LatentScatterGIF", "ReconstructionGrid", "run_dir"]
