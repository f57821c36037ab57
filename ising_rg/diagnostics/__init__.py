"""Model diagnostics: how well a trained network models the Ising distribution, apart from
the RG question (``ising_rg.rg``).

* :mod:`~ising_rg.diagnostics.quality`: the ``quality`` block (log-likelihood and its gap to the
  Ising model, exact KL on small lattices, effective couplings, thermodynamics) and training
  health;
* :mod:`~ising_rg.diagnostics.generative`: the DBN's ancestral samples and reconstructions;
* :mod:`~ising_rg.diagnostics.couplings`: the effective pairwise couplings of an RBM's visible
  marginal;
* :mod:`~ising_rg.diagnostics.rbm_flow`, :mod:`~ising_rg.diagnostics.flow_readout`: the RBM flow
  v -> h -> v and its end point read as a temperature;
* :mod:`~ising_rg.diagnostics.thermometry`, :mod:`~ising_rg.diagnostics.magnetization_calibration`:
  the temperature of an ensemble from E, |m| and C.
"""
