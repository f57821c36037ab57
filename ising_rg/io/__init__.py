"""File formats: sample files and model files (SPEC section 3), written atomically."""
