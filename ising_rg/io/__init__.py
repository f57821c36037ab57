"""File formats: sample, model, results and validation files (``docs/formats.md``), written
atomically."""
