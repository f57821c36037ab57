"""Monte Carlo sampling of the 2D Ising model: numba kernels (``metropolis``, ``wolff``,
``rng``), chains of one algorithm each (``chains``), the driver (``sampler``: ``sample``,
``SampleSet``), observables and their errors (``observables``), and the sampler's validation
against Kaufman's exact values (``validation``)."""

from ising_rg.sampling.sampler import SampleSet, sample
from ising_rg.settings import SampleOptions

__all__ = ["SampleOptions", "SampleSet", "sample"]
