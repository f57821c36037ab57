"""Training recipes by name: complete sets of ``BernoulliRBM`` / ``train_dbn`` keywords.

* ``paper``: Mehta & Schwab's recipe, i.e. the library defaults (:mod:`ising_rg.paper`).
* ``density``: a recipe that learns the Ising distribution: the paper's with sampled negative
  visible states, learning rate 0.03 decaying linearly to 0, and L1 2e-3. docs/recipes.md
  gives the measurements behind each change.

:func:`resolve_recipe` turns a name and explicit overrides into the full settings; the
``ising-rg train`` command and the experiment runner's ``recipe = { name = ... }`` both use it.
"""

from __future__ import annotations

from typing import Any

from ising_rg import paper
from ising_rg.errors import IsingRGError

__all__ = ["RECIPES", "RECIPE_KEYS", "resolve_recipe"]

_PAPER: dict[str, Any] = {
    "n_epochs": paper.N_EPOCHS,
    "learning_rate": paper.LEARNING_RATE,
    "learning_rate_decay": paper.LEARNING_RATE_DECAY,
    "momentum_schedule": paper.MOMENTUM_SCHEDULE,
    "batch_size": paper.BATCH_SIZE,
    "cd_k": paper.CD_K,
    "persistent": False,
    "n_persistent_chains": None,
    "negative_visible": paper.NEGATIVE_VISIBLE,
    "l1": paper.L1,
    "l2": paper.L2,
    "init": paper.INIT,
    "propagate": paper.PROPAGATE,
    "validation_fraction": 0.1,
}

#: name -> every training keyword (``BernoulliRBM`` hyper-parameters but the layer size, the
#: seed and ``n_monitor``; and ``train_dbn``'s ``propagate`` and ``validation_fraction``).
RECIPES: dict[str, dict[str, Any]] = {
    "paper": dict(_PAPER),
    "density": {
        **_PAPER,
        # a binary negative visible state: CD-k without the mean-field bias of P(h | P(v | h))
        "negative_visible": "samples",
        # lr 0.1 under momentum 0.9 leaves about half of 400 hidden units dead at L = 40
        "learning_rate": 0.03,
        # the step shrinks to 0, so the parameters settle instead of jittering at the
        # noise level of the minibatch gradient
        "learning_rate_decay": "linear",
        # L1 >= 1e-3 cuts the overfitting of 18,000 configurations at L = 40
        "l1": 2e-3,
    },
}
#: The keywords every recipe sets, in one order.
RECIPE_KEYS = tuple(_PAPER)


def resolve_recipe(name: str = "paper", **overrides: Any) -> dict[str, Any]:
    """The full training settings of a named recipe with explicit values overriding its own.

    Parameters
    ----------
    name : a key of :data:`RECIPES`
    **overrides
        Values of :data:`RECIPE_KEYS` that replace the recipe's; ``None`` means "not given"
        (the recipe's value stays), except for ``n_persistent_chains``, whose None is a value
        (the batch size) and a recipe's own default. The values are checked where they are
        used (``BernoulliRBM.fit``, ``DBN.fit``).

    Returns
    -------
    dict: ``{"recipe": name, **every key of RECIPE_KEYS}``.

    Raises
    ------
    IsingRGError
        An unknown recipe name or override key.
    """
    if not isinstance(name, str) or name not in RECIPES:
        raise IsingRGError(f"unknown recipe {name!r}; known: {', '.join(RECIPES)}")
    unknown = sorted(set(overrides) - set(RECIPE_KEYS))
    if unknown:
        raise IsingRGError(f"unknown recipe option(s) {', '.join(unknown)}; known: "
                           f"{', '.join(RECIPE_KEYS)}")
    settings = dict(RECIPES[name])
    settings.update({key: value for key, value in overrides.items() if value is not None})
    return {"recipe": name, **settings}
