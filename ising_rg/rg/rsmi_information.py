"""How much a coarse-graining rule keeps of a block's environment: I(H; E) in bits, one code path.

:func:`environment_information` measures any block rule (decimation, majority rule, a trained
RSMI filter, a DBN unit restricted to a b x b window, any filter) the same way: the
Barber-Agakov bound of :mod:`ising_rg.rg.rsmi_bound` with the rule held fixed, its
logistic-regression decoder trained by Adam on one seeded part of the configurations and the
bound evaluated on the other part (held out, so an overfitted decoder can only lower it). Any
decoder gives a lower bound, so the estimate is at most I(H; E) up to its statistical error; its
distance below I(H; E) is calibrated against exact enumeration of the 4 x 4 torus in
``docs/rsmi.md``.

:func:`compare_rules` measures several rules on the same split and gives each one's paired
difference from a reference rule, with its (much smaller) paired error.

:func:`best_window_filters` turns receptive fields on the whole lattice (a DBN's first-layer
units) into b x b filters: each unit's best periodic b x b window (the one holding the largest
share of its squared weight) and the share that restricting it to the window drops.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ising_rg.checks import check_integer, check_number
from ising_rg.errors import IsingRGError
from ising_rg.rg.rsmi import RSMIFilter, check_spins, split_configurations
from ising_rg.rg.rsmi_bound import (
    CoarseRule,
    TrainingOptions,
    bound_difference,
    estimate_bound,
    maximize_bound,
)
from ising_rg.rg.rsmi_geometry import RSMIGeometry, rsmi_geometry
from ising_rg.rg.shape import best_window_fraction
from ising_rg.seeding import as_generator, seed_sequence, seed_stream

__all__ = ["InformationEstimate", "RuleComparison", "as_rule", "best_window_filters",
           "compare_rules", "environment_information"]

RULE_NAMES = ("decimation", "majority")


@dataclass(frozen=True)
class InformationEstimate:
    """I(H; E) of one rule, in bits (a lower bound, held-out configurations).

    Attributes
    ----------
    bits, error : the bound and its blocked-jackknife error (bits)
    entropy_bits : H(H), the bound's ceiling (bits)
    block_information_bits : I(H; V) (bits), how much of the block the rule keeps
    train_bits : the bound on the decoder's training configurations (well above ``bits``
        only if the decoder overfits)
    n_train, n_held_out : configurations used to train the decoder and to evaluate
    decoder_weights : float64 (n_env,), decoder_bias : float
    """

    bits: float
    error: float
    entropy_bits: float
    block_information_bits: float
    train_bits: float
    n_train: int
    n_held_out: int
    decoder_weights: np.ndarray
    decoder_bias: float


def as_rule(rule: Any, block_size: int | None = None) -> CoarseRule:
    """A :class:`CoarseRule` from ``"decimation"``, ``"majority"`` (these need
    ``block_size``), a fitted :class:`RSMIFilter`, a CoarseRule, or a square (b, b) filter in
    spin units (P(H = +1 | V) = sigmoid(filter . s_V))."""
    if isinstance(rule, CoarseRule):
        return rule
    if isinstance(rule, RSMIFilter):
        return rule.rule_
    if isinstance(rule, str):
        if rule not in RULE_NAMES:
            raise IsingRGError(f"rule must be 'decimation', 'majority', a filter or an "
                               f"RSMIFilter, got {rule!r}")
        if block_size is None:
            raise IsingRGError(f"rule {rule!r} needs a block size")
        b = check_integer(block_size, "block size", 1)
        return CoarseRule.majority(b) if rule == "majority" else CoarseRule.decimation(b)
    return CoarseRule.filter(rule)


def _geometry(spins: np.ndarray, block_size: int, rules: list[Any], buffer: int | None,
              environment: int | None) -> tuple[np.ndarray, RSMIGeometry]:
    """Flattened spins (n, L*L) and the geometry: explicit widths, else a fitted
    RSMIFilter's own, else b."""
    for rule in rules:
        if isinstance(rule, RSMIFilter):
            own = rule.geometry(rule.lattice_size_)
            buffer = own.buffer if buffer is None else buffer
            environment = own.environment if environment is None else environment
    s = check_spins(spins)
    n, size, _ = s.shape
    geometry = rsmi_geometry(size, block_size, block_size if buffer is None else buffer,
                             block_size if environment is None else environment)
    return np.ascontiguousarray(s.reshape(n, -1)), geometry


def _measure(flat: np.ndarray, geometry: RSMIGeometry, coarse: CoarseRule,
             split: tuple[np.ndarray, np.ndarray], options: TrainingOptions, seed: int
             ) -> tuple[InformationEstimate, np.ndarray]:
    """Train the decoder on ``split[0]``, evaluate on ``split[1]``; the estimate and the
    held-out per-configuration terms (for paired differences)."""
    train, held_out = split
    _, decoder, _ = maximize_bound(flat, train, geometry, coarse, options,
                                   as_generator(seed_stream(seed, 2)))
    estimate = estimate_bound(flat, held_out, geometry, coarse, decoder)
    on_train = estimate_bound(flat, train, geometry, coarse, decoder)
    return InformationEstimate(
        bits=estimate.bits, error=estimate.error, entropy_bits=estimate.entropy_bits,
        block_information_bits=estimate.block_information_bits, train_bits=on_train.bits,
        n_train=int(train.size), n_held_out=int(held_out.size),
        decoder_weights=decoder.weights.copy(), decoder_bias=decoder.bias), estimate.terms


def _options(epochs: int, batch_size: int, learning_rate: float) -> TrainingOptions:
    return TrainingOptions(epochs=check_integer(epochs, "decoder_epochs", 1),
                           batch_size=check_integer(batch_size, "decoder_batch_size", 1),
                           learning_rate=check_number(learning_rate, "decoder_learning_rate",
                                                      above=0),
                           train_filter=False)


def _check_block_size(coarse: CoarseRule, block_size: int | None) -> int:
    b = coarse.block_size
    if block_size is not None and check_integer(block_size, "block size", 1) != b:
        raise IsingRGError(f"the rule is for {b} x {b} blocks, not {block_size} x {block_size}")
    return b


def environment_information(spins: np.ndarray, rule: Any, *, block_size: int | None = None,
                            buffer: int | None = None, environment: int | None = None,
                            held_out_fraction: float = 0.5, decoder_epochs: int = 10,
                            decoder_batch_size: int = 32, decoder_learning_rate: float = 0.01,
                            seed: int = 0) -> InformationEstimate:
    """I(H; E) in bits for a fixed block rule, by the Barber-Agakov bound (module docstring).

    Parameters
    ----------
    spins : int8 (n, L, L), +-1
    rule : "decimation", "majority", RSMIFilter, CoarseRule or (b, b) filter (:func:`as_rule`)
    block_size : int, optional
        b for a named rule; must match the rule's own size otherwise.
    buffer, environment : int, optional
        L_B and L_E (:mod:`ising_rg.rg.rsmi_geometry`); default: a fitted RSMIFilter's own,
        else b.
    held_out_fraction : float in (0, 1)
        Share of configurations the bound is evaluated on (the rest trains the decoder).
    decoder_epochs, decoder_batch_size, decoder_learning_rate : the decoder's Adam (learning
        rate decaying to 0)
    seed : int
        Seeds the split (stream 0) and the order of the configurations (stream 2).

    Returns
    -------
    InformationEstimate
    """
    coarse = as_rule(rule, block_size)
    b = _check_block_size(coarse, block_size)
    flat, geometry = _geometry(spins, b, [rule], buffer, environment)
    check_number(held_out_fraction, "held_out_fraction", above=0, below=1)
    seed = int(seed_sequence(seed).entropy)
    split = split_configurations(flat.shape[0], held_out_fraction, seed)
    options = _options(decoder_epochs, decoder_batch_size, decoder_learning_rate)
    return _measure(flat, geometry, coarse, split, options, seed)[0]


@dataclass(frozen=True)
class RuleComparison:
    """One rule's I(H; E) and its paired difference from the reference rule (bits)."""

    estimate: InformationEstimate
    difference_bits: float  # this rule's bound minus the reference's, same configurations
    difference_error: float  # paired blocked-jackknife error of the difference


def compare_rules(spins: np.ndarray, rules: Mapping[str, Any], *, reference: str,
                  block_size: int | None = None, buffer: int | None = None,
                  environment: int | None = None, held_out_fraction: float = 0.5,
                  decoder_epochs: int = 10, decoder_batch_size: int = 32,
                  decoder_learning_rate: float = 0.01,
                  seed: int = 0) -> dict[str, RuleComparison]:
    """:func:`environment_information` of several rules on the same split, with paired
    differences from ``reference`` (much smaller errors than the bounds' own: the
    configuration-to-configuration fluctuations they share cancel).

    Parameters
    ----------
    rules : mapping name -> rule (anything :func:`as_rule` takes), one block size for all
    reference : str, one of the names
    (the other parameters as in :func:`environment_information`)

    Returns
    -------
    dict name -> RuleComparison, in the order of ``rules``.
    """
    if reference not in rules:
        raise IsingRGError(f"reference {reference!r} is not one of the rules "
                           f"({', '.join(map(repr, rules))})")
    coarse = {name: as_rule(rule, block_size) for name, rule in rules.items()}
    sizes = {rule.block_size for rule in coarse.values()}
    if len(sizes) != 1:
        raise IsingRGError(f"the rules are for different block sizes: {sorted(sizes)}")
    b = _check_block_size(next(iter(coarse.values())), block_size)
    flat, geometry = _geometry(spins, b, list(rules.values()), buffer, environment)
    check_number(held_out_fraction, "held_out_fraction", above=0, below=1)
    seed = int(seed_sequence(seed).entropy)
    split = split_configurations(flat.shape[0], held_out_fraction, seed)
    options = _options(decoder_epochs, decoder_batch_size, decoder_learning_rate)
    measured = {name: _measure(flat, geometry, rule, split, options, seed)
                for name, rule in coarse.items()}
    base = measured[reference][1]
    out = {}
    for name, (estimate, terms) in measured.items():
        difference, error = bound_difference(terms, base)
        out[name] = RuleComparison(estimate, difference, error)
    return out


def best_window_filters(fields: np.ndarray, block_size: int
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each unit's best periodic b x b window as a b x b filter.

    Parameters
    ----------
    fields : array (n_units, L, L)
        Receptive fields, e.g. a DBN's first-layer weights ``W.T.reshape(-1, L, L)``. RBM
        visible units are v = (s + 1) / 2, so a unit's input ``W . v`` is ``(W / 2) . s`` plus
        a constant: pass ``W / 2`` to get filters in spin units.
    block_size : int, b <= L

    Returns
    -------
    filters : float64 (n_units, b, b)
        The field on the window, ``fields[u, (r + i) % L, (c + j) % L]``.
    corners : int64 (n_units, 2), (r, c), the window's top-left corner (the first best one)
    dropped : float64 (n_units,), in [0, 1]
        Share of the unit's squared weight outside the window (1 - the locality of
        :func:`ising_rg.rg.shape.best_window_fraction`).
    """
    r = np.asarray(fields, dtype=np.float64)
    if r.ndim != 3 or r.shape[1] != r.shape[2] or r.shape[0] == 0:
        raise IsingRGError(f"fields must be shaped (n_units, L, L), got {r.shape}")
    if not np.isfinite(r).all():
        raise IsingRGError("fields contain NaN or infinite values")
    size = r.shape[1]
    b = check_integer(block_size, "block size", 1, size)
    fraction, corners = best_window_fraction(r, b)
    rows = (corners[:, 0, None] + np.arange(b)[None, :]) % size  # (n_units, b)
    cols = (corners[:, 1, None] + np.arange(b)[None, :]) % size
    units = np.arange(r.shape[0])[:, None, None]
    filters = r[units, rows[:, :, None], cols[:, None, :]]
    return filters, corners.astype(np.int64), np.clip(1.0 - fraction, 0.0, 1.0)
