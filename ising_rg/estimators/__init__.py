"""Statistical estimators that the package's measurements share: the correlation length of a
field on a torus (wall-to-wall correlator, effective mass, plateau) and the convergence of
Markov chains run from independent starts (split R-hat).

* :mod:`~ising_rg.estimators.correlation_length`: ``wall_correlation_length`` (spins or binned
  hidden units), its flags;
* :mod:`~ising_rg.estimators.effective_mass`: the decay rate between neighbouring separations;
* :mod:`~ising_rg.estimators.plateau`: the window of effective masses averaged, and its error;
* :mod:`~ising_rg.estimators.convergence`: split R-hat and the package's convergence rule.
"""
