"""``python -m ising_rg``: the ``ising-rg`` command line (``ising_rg.cli``)."""

from ising_rg.cli import main

if __name__ == "__main__":
    main(prog_name="ising-rg")
