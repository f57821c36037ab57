"""The paper's numbers in one place: Mehta & Schwab's experiment and the recipe they trained with.

Sources:

* [MS] P. Mehta and D. J. Schwab, "An exact mapping between the Variational Renormalization
  Group and Deep Learning", arXiv:1410.3831 (2014): the 2D Ising experiment and App. B.
* [HS] G. E. Hinton and R. R. Salakhutdinov, Science 313, 504 (2006), and the Matlab code
  published with it (``rbm.m``, ``makebatches.m``), which [MS] trained with; its defaults fix
  what [MS] do not state. [MS] use an L1 penalty of the strength of ``rbm.m``'s L2 weight
  cost (2e-4) in its place.

Everything that defaults to the paper takes its value from here: ``BernoulliRBM`` and ``DBN``,
the sampler (``ising_rg.sampling.sampler.SampleOptions``), the ``ising-rg`` commands, the
experiment presets and the generated report (the Makefile's paper preset repeats the first
numbers, with a comment pointing here).
"""

from __future__ import annotations

__all__ = [
    "BATCH_SIZE",
    "CD_K",
    "COUPLING",
    "HIDDEN",
    "INIT",
    "L1",
    "L2",
    "LEARNING_RATE",
    "LEARNING_RATE_DECAY",
    "MOMENTUM_SCHEDULE",
    "NEGATIVE_VISIBLE",
    "N_EPOCHS",
    "N_SAMPLES",
    "PROPAGATE",
    "SIZE",
]

# -- the data [MS] ------------------------------------------------------------------------------
#: Lattice size L: 40 x 40 square lattice, periodic boundaries, nearest-neighbour Ising model.
SIZE = 40
#: Coupling K = J / k_B T = 0.408 (T = 2.451, just above T_c = 2.269). [MS]'s text also gives a
#: critical value 0.4352, a slip: the exact K_c = ln(1 + sqrt 2) / 2 = 0.4407 is used throughout.
COUPLING = 0.408
#: Equilibrium Monte Carlo configurations in the training set (the main text; the appendix
#: mentions 40,000).
N_SAMPLES = 20_000

# -- the network [MS] ---------------------------------------------------------------------------
#: Hidden layer sizes, bottom to top: the DBN is 1600-400-100-25.
HIDDEN = (400, 100, 25)
#: Training epochs per layer.
N_EPOCHS = 200
#: L1 weight penalty (its subgradient l1 sign(W) enters the momentum update where rbm.m puts
#: its weight cost).
L1 = 2e-4
#: No L2 penalty: the paper's L1 replaces rbm.m's L2 weight cost.
L2 = 0.0

# -- the training recipe [HS] (rbm.m's defaults) ------------------------------------------------
#: epsilonw = epsilonvb = epsilonhb = 0.1: one learning rate for weights and both biases.
LEARNING_RATE = 0.1
#: rbm.m keeps the learning rate constant over the epochs ('none'; the alternative is 'linear').
LEARNING_RATE_DECAY = "none"
#: (initial, final, epochs at initial): initialmomentum 0.5 for the first 5 epochs, then
#: finalmomentum 0.9.
MOMENTUM_SCHEDULE = (0.5, 0.9, 5)
#: Minibatch size (makebatches.m).
BATCH_SIZE = 100
#: Contrastive divergence with one Gibbs step.
CD_K = 1
#: Weight initialisation 'paper': W ~ 0.1 N(0, 1), zero biases.
INIT = "paper"
#: The negative phase keeps the visible probabilities P(v | h), not a binary sample.
NEGATIVE_VISIBLE = "probabilities"
#: Each layer is trained on the hidden probabilities P(h = 1 | v) of the layer below [HS, MS].
PROPAGATE = "probabilities"
