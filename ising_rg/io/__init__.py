"""File formats: sample, model, results and validation files (``docs/formats.md``), written
atomically. Only this package reads and writes the package's files.

* ``samples``: ``read_samples``, ``write_samples``;
* ``models``: ``load_dbn``, ``save_dbn``, ``read_model_metadata``;
* ``results``: the results folder of ``ising-rg analyze`` and ``validate``;
* ``atomic``, ``hdf5``, ``jsonfile``: atomic output, checked HDF5 reading, strict JSON.
"""
