"""ising_rg: does a deep belief network learn block-spin RG?"""
__version__ = "0.1.0"
