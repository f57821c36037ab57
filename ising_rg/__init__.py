"""ising_rg: does a deep belief network learn block-spin RG? A measured reproduction of Mehta &
Schwab (arXiv:1410.3831).

The public API, importable from here (each name loads its module on first use, so that
``import ising_rg`` stays light)::

    from ising_rg import SampleOptions, sample              # Monte Carlo data
    from ising_rg import Recipe, RECIPES, DBN, BernoulliRBM # training
    from ising_rg import AnalysisOptions, measure_network   # the RG analysis and diagnostics
    from ising_rg import read_samples, load_dbn             # files
    from ising_rg import exact                              # exact results (Kaufman, Onsager)

``examples/tutorial.py`` walks through them; docs/architecture.md maps the modules.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: Public name -> the module that defines it.
_API = {
    # settings (ising_rg.settings): what to sample, how to train, what to measure
    "SampleOptions": "ising_rg.settings",
    "Recipe": "ising_rg.settings",
    "RECIPES": "ising_rg.settings",
    "AnalysisOptions": "ising_rg.settings",
    # sampling
    "sample": "ising_rg.sampling.sampler",
    "SampleSet": "ising_rg.sampling.sampler",
    # models
    "BernoulliRBM": "ising_rg.rbm.rbm",
    "DBN": "ising_rg.rbm.dbn",
    "ising_rbm": "ising_rg.rbm.ising",
    # the stages (ising_rg.pipeline)
    "train_dbn": "ising_rg.pipeline",
    "measure_network": "ising_rg.pipeline",
    "run_train": "ising_rg.pipeline",
    "run_analyze": "ising_rg.pipeline",
    # analysis building blocks
    "receptive_field_arrays": "ising_rg.rg.analysis",
    "majority_block_spins": "ising_rg.rg.kadanoff",
    "wall_correlation_length": "ising_rg.estimators.correlation_length",
    "spins_to_visible": "ising_rg.spins",
    # files
    "read_samples": "ising_rg.io.samples",
    "write_samples": "ising_rg.io.samples",
    "load_dbn": "ising_rg.io.models",
    "save_dbn": "ising_rg.io.models",
    # errors
    "IsingRGError": "ising_rg.errors",
}

__all__ = ["__version__", "exact", *_API]


def __getattr__(name: str) -> Any:
    if name == "exact":
        return importlib.import_module("ising_rg.exact")
    if name not in _API:
        raise AttributeError(f"module 'ising_rg' has no attribute {name!r}")
    value = getattr(importlib.import_module(_API[name]), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
