"""Callbacks: figures as PNG frames and GIFs in the run directory, logged to any logger."""

from aegan.callbacks.checkpoint import BestCheckpoint
from aegan.callbacks.evaluation import Evaluation
from aegan.callbacks.grids import DecoderGrid, ReconstructionGrid, StyleGrid
from aegan.callbacks.latent import LatentScatterGIF, RepresentationMap
from aegan.callbacks.media import FigureCallback, run_dir
from aegan.callbacks.morph import MorphGIF
from aegan.callbacks.preemption import Preempted, Preemption
from aegan.callbacks.progress import LossProgressBar, ProgressLines
from aegan.callbacks.samples import SampleScatter
from aegan.callbacks.traversal import CodeTraversal

__all__ = ["BestCheckpoint", "CodeTraversal", "DecoderGrid", "Evaluation", "FigureCallback", "LatentScatterGIF",
           "LossProgressBar", "MorphGIF", "Preempted", "Preemption", "ProgressLines", "ReconstructionGrid",
           "RepresentationMap", "SampleScatter", "StyleGrid", "run_dir"]
