"""The ``ising-rg`` commands of the RG measured as RG (``ising_rg.cli`` adds them to its
group): ``rsmi`` trains the coarse-grainer built for RG, ``mcrg`` measures coarse couplings and
exponents of any coarse-grainer. Thin layers over ``ising_rg.pipeline.run_rsmi`` and
``run_mcrg``; docs/mcrg.md and docs/rsmi.md describe what they measure.
"""

from __future__ import annotations

from pathlib import Path

import click

from ising_rg.cli_output import mcrg_table, rsmi_lines
from ising_rg.cli_types import (
    INPUT_FILE,
    MAX_EPOCHS,
    OUTPUT_FILE,
    OUTPUT_FOLDER,
    SEED,
    Number,
    default_of,
)
from ising_rg.settings import RSMIOptions

__all__ = ["mcrg", "rsmi"]


@click.command(short_help="Train an RSMI filter, the coarse-grainer trained for RG.")
@click.option("--data", "data_path", type=INPUT_FILE, required=True,
              help="Sample file written by `ising-rg sample`.")
@click.option("--block-size", "--block", "block_size", type=click.IntRange(1),
              default=default_of(RSMIOptions, "block_size"), show_default=True,
              help="Block side b of the coarse variable (b <= L/2).")
@click.option("--buffer", type=click.IntRange(0), default=None,
              help="Width L_B of the buffer between block and environment [default: b].")
@click.option("--environment", type=click.IntRange(1), default=None,
              help="Width L_E of the environment ring beyond the buffer [default: b].")
@click.option("--compression", type=Number(min=0), default=default_of(RSMIOptions, "compression"),
              show_default=True,
              help="Weight of I(H;V) subtracted from the bound on I(H;E) (docs/rsmi.md); 0 "
                   "maximizes the bound alone.")
@click.option("--epochs", type=click.IntRange(1, MAX_EPOCHS),
              default=default_of(RSMIOptions, "epochs"), show_default=True,
              help="Passes over the training configurations.")
@click.option("--seed", type=SEED, default=0, show_default=True,
              help="Seed of the split, the filter's start and the order of the data.")
@click.option("--out", "out_path", type=OUTPUT_FILE, default="models/rsmi.h5",
              show_default=True, help="Output filter file.")
@click.option("--overwrite", is_flag=True, help="Replace an existing output file.")
def rsmi(data_path, block_size, buffer, environment, compression, epochs, seed, out_path,
         overwrite):
    """Train a real-space mutual-information filter (Koch-Janusz & Ringel 2018): the b x b
    block's coarse variable H = +-1, P(H = +1) = sigmoid(Lambda . v), that keeps the most
    information about the block's environment beyond a buffer (a variational lower bound on
    I(H; E), with a logistic decoder). The positive control beside the DBN: a network trained
    for RG. Prints the filter and I(H; E) in bits; `ising-rg mcrg --filter` measures it as RG.
    """
    from ising_rg.pipeline import run_rsmi
    from ising_rg.rg.rsmi import RSMIFilter

    model = RSMIFilter(block_size=block_size, buffer=buffer, environment=environment,
                       compression=compression, epochs=epochs, random_state=seed)
    run_rsmi(data_path, out_path, model, overwrite=overwrite)
    for line in rsmi_lines(model):
        click.echo(line, err=True)
    click.echo(f"wrote {out_path}", err=True)


@click.command(short_help="RG measured as RG: coarse couplings and exponents (MCRG).")
@click.option("--data", "data_path", type=INPUT_FILE, required=True,
              help="Sample file written by `ising-rg sample` (best at the critical coupling).")
@click.option("--model", "model_paths", type=INPUT_FILE, multiple=True,
              help="Model file whose layers are the block lattices (L/2, L/4, ... squared "
                   "units), measured as a coarse-grainer beside majority rule and decimation "
                   "(repeatable).")
@click.option("--filter", "filter_paths", type=INPUT_FILE, multiple=True,
              help="RSMI filter file written by `ising-rg rsmi`, applied at every level as a "
                   "coarse-grainer of its block size (repeatable).")
@click.option("--seed", type=SEED, default=0, show_default=True,
              help="Root of the coarse-grainers' random streams (tie-breaks, sampled units).")
@click.option("--out", "out_dir", type=OUTPUT_FOLDER, default="results", show_default=True,
              help="Folder for mcrg.json.")
@click.option("--overwrite", is_flag=True, help="Replace an existing mcrg.json.")
def mcrg(data_path, model_paths, filter_paths, seed, out_dir, overwrite):
    """Coarse-grain the data level by level (majority rule, decimation and each model's
    layers, b = 2, and each RSMI filter); at every level fit the coarse Hamiltonian's couplings
    (nearest, next-nearest, plaquette, ..., field; maximum pseudo-likelihood with jackknife
    errors), and linearize every step by Swendsen's Monte Carlo renormalization group for the
    exponents y_t and y_h (exact in 2D: 1 and 15/8). Writes OUT/mcrg.json (docs/mcrg.md).
    """
    from ising_rg.pipeline import run_mcrg

    result = run_mcrg(data_path, out_dir, model_paths=model_paths, filter_paths=filter_paths,
                      seed=seed, overwrite=overwrite)
    for line in mcrg_table(result):
        click.echo(line, err=True)
    click.echo(f"wrote {Path(out_dir) / 'mcrg.json'}", err=True)
