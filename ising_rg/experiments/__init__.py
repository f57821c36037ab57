"""Beyond the paper: sets of independent (coupling, seed, variant) jobs, run end to end and
aggregated over seeds (``ising-rg experiment``), and the generated report (``make report``)."""
