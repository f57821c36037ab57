"""Where RSMI looks: a block V, the buffer around it, and the environment E beyond the buffer.

Real-space mutual information coarse-graining (Koch-Janusz & Ringel, Nature Physics 14, 578
(2018)) gives each b x b block V of the L x L torus one coarse variable H, chosen to carry as much
information as possible about the block's *distant* environment E. The sites in between, the
buffer, are left out so that H is not rewarded for the short-range correlations of V with its
immediate neighbours.

Shape (periodic Chebyshev distance ``d(x, V)`` from a site x to the nearest site of the block,
in lattice spacings)::

    V      : the b x b block, the aligned blocks of the lattice (top-left corners at multiples
             of b), (L/b)^2 of them per configuration
    buffer : the sites with 0 < d(x, V) <= L_B           (L_B = ``buffer``, may be 0)
    E      : the sites with L_B < d(x, V) <= L_B + L_E   (L_E = ``environment``, >= 1)

When b + 2 (L_B + L_E) <= L, E is the square ring of width L_E around the square of side
b + 2 L_B centred on V: (b + 2 L_B + 2 L_E)^2 - (b + 2 L_B)^2 sites, e.g. 64 sites for b = 2,
L_B = 2, L_E = 2. On a smaller torus the ring wraps and E is every site at that periodic distance
(on the 4 x 4 torus with b = 2, L_B = 0 it is the 12 sites outside the block), which is what lets
the bound be checked against exact enumeration.

Sites are numbered row-major, ``i = row * L + col``; offsets are (row, col) displacements from
the block's top-left corner, as minimum images in (-L/2, L/2].
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ising_rg.checks import check_integer
from ising_rg.errors import IsingRGError

__all__ = ["RSMIGeometry", "block_distances", "rsmi_geometry"]


def block_distances(size: int, block_size: int) -> np.ndarray:
    """Periodic Chebyshev distance of every site from the block at the origin.

    Parameters
    ----------
    size : int, L
    block_size : int, b

    Returns
    -------
    int64 array, shape (L, L): 0 on the block ``[0, b) x [0, b)``, else
    ``max(dist(row), dist(col))`` with ``dist(y) = min(y - (b - 1), L - y)`` for y >= b.
    """
    y = np.arange(size)
    along = np.where(y < block_size, 0, np.minimum(y - (block_size - 1), size - y))
    return np.maximum(along[:, None], along[None, :]).astype(np.int64)


def _minimum_image(offset: np.ndarray, size: int) -> np.ndarray:
    """Offsets in [0, L) as displacements in (-L/2, L/2]."""
    return np.where(offset > size // 2, offset - size, offset)


@dataclass(frozen=True)
class RSMIGeometry:
    """Block, buffer and environment sites of every aligned block of the L x L torus.

    Attributes
    ----------
    size, block_size, buffer, environment : int
        L, b, L_B (buffer width) and L_E (environment width), in lattice spacings.
    block_offsets : int64 (b*b, 2)
        (row, col) of the block's sites from its top-left corner, row-major.
    environment_offsets : int64 (n_env, 2)
        (row, col) displacements of the environment sites from the block's top-left corner
        (minimum images), in row-major order of the torus.
    block_index : int64 (n_blocks, b*b)
        Flat site index (``row * L + col``) of each block's sites; block k has top-left corner
        ``(b * (k // (L/b)), b * (k % (L/b)))``.
    environment_index : int64 (n_blocks, n_env)
        Flat site index of each block's environment sites (same order as the offsets).
    """

    size: int
    block_size: int
    buffer: int
    environment: int
    block_offsets: np.ndarray = field(repr=False)
    environment_offsets: np.ndarray = field(repr=False)
    block_index: np.ndarray = field(repr=False)
    environment_index: np.ndarray = field(repr=False)

    @property
    def n_blocks(self) -> int:
        """(L / b)^2 blocks per configuration."""
        return int(self.block_index.shape[0])

    @property
    def n_environment(self) -> int:
        """Number of environment sites per block."""
        return int(self.environment_index.shape[1])

    def environment_field(self, values: np.ndarray) -> np.ndarray:
        """Per-environment-site values (e.g. decoder weights) on the lattice around a block.

        Parameters
        ----------
        values : array, shape (n_env,)

        Returns
        -------
        float64 array, shape (L, L): ``values`` at the environment sites of the block whose
        top-left corner is at the origin, NaN elsewhere (block and buffer included).
        """
        values = np.asarray(values, dtype=np.float64)
        if values.shape != (self.n_environment,):
            raise IsingRGError(f"values must be shaped ({self.n_environment},), got "
                               f"{values.shape}")
        out = np.full((self.size, self.size), np.nan)
        rows, cols = (self.environment_offsets % self.size).T
        out[rows, cols] = values
        return out


def _check_parameters(size: int, block_size: int, buffer: int, environment: int) -> None:
    size = check_integer(size, "lattice size", 2)
    block_size = check_integer(block_size, "block size", 1)
    check_integer(buffer, "buffer", 0)
    check_integer(environment, "environment", 1)
    if 2 * block_size > size:
        raise IsingRGError(f"block size {block_size} is larger than half the lattice "
                           f"({size} x {size}); RSMI needs an environment beyond the block")
    if size % block_size:
        raise IsingRGError(f"lattice size {size} is not divisible by block size {block_size}")


def rsmi_geometry(size: int, block_size: int, buffer: int, environment: int) -> RSMIGeometry:
    """The block/buffer/environment geometry of the L x L torus (module docstring).

    Parameters
    ----------
    size : int, L >= 2
    block_size : int, b with 2 b <= L and L divisible by b
    buffer : int, L_B >= 0
    environment : int, L_E >= 1

    Raises
    ------
    IsingRGError
        One line: a block larger than L/2, L not divisible by b, a negative buffer, or a buffer
        that leaves no environment site on the torus.
    """
    _check_parameters(size, block_size, buffer, environment)
    distance = block_distances(size, block_size)
    in_environment = (distance > buffer) & (distance <= buffer + environment)
    if not in_environment.any():
        raise IsingRGError(
            f"buffer {buffer} around a {block_size} x {block_size} block leaves no environment "
            f"on the {size} x {size} torus (largest distance from the block is "
            f"{int(distance.max())})")
    rows, cols = np.nonzero(in_environment)  # row-major order
    env_offsets = np.stack([_minimum_image(rows, size), _minimum_image(cols, size)], axis=1)
    block_rows, block_cols = np.divmod(np.arange(block_size * block_size), block_size)
    block_offsets = np.stack([block_rows, block_cols], axis=1)
    per_side = size // block_size
    corner_rows, corner_cols = np.divmod(np.arange(per_side * per_side), per_side)
    corners = block_size * np.stack([corner_rows, corner_cols], axis=1)

    def flat_index(offsets: np.ndarray) -> np.ndarray:
        r = (corners[:, None, 0] + offsets[None, :, 0]) % size
        c = (corners[:, None, 1] + offsets[None, :, 1]) % size
        return np.ascontiguousarray(r * size + c, dtype=np.int64)

    return RSMIGeometry(
        size=size, block_size=block_size, buffer=buffer, environment=environment,
        block_offsets=block_offsets.astype(np.int64),
        environment_offsets=env_offsets.astype(np.int64),
        block_index=flat_index(block_offsets), environment_index=flat_index(env_offsets))
