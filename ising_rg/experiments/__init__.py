"""Beyond the paper: sets of independent (coupling, seed, variant) jobs, run end to end and
aggregated over seeds (``ising-rg experiment``), and the generated report (``make report``).

Studies are TOML files (``spec``; the presets in ``presets/``); ``jobs`` runs one job,
``runner`` all of a study's, ``aggregate`` and ``table`` summarise them, ``report`` writes the
report."""

#: Default of ``ising-rg experiment --max-jobs``: a larger study is refused before it runs.
MAX_JOBS = 200
