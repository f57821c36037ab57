"""Monte Carlo sampling of the 2D Ising model: kernels, driver, observables."""
