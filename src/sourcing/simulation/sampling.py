"""Uniform samples for the engine: plain Monte Carlo, Latin hypercube, scrambled Sobol.

Seeding: a run's ``seed`` becomes a :class:`numpy.random.SeedSequence`; chunk ``c`` and stream
``key`` (an input name such as ``"failure[V03]"``) get the child sequence with spawn key
``(c, crc32(key))``.  Streams therefore depend only on (seed, chunk size, chunk index, input
name): adding a scenario to a run does not change the draws of inputs already present, and the
same seed and chunk size always reproduce the same numbers.  Latin hypercube stratifies within
each chunk; one scrambled Sobol sequence runs across all chunks (its scrambling seeded from
``seed``).
"""

from __future__ import annotations

import warnings
import zlib

import numpy as np
from scipy.stats import qmc

__all__ = ["METHODS", "UniformSource", "stream"]

METHODS = ("mc", "lhs", "sobol")
_EPS = 2.0 ** -53


def _entropy(seed: object) -> int | list[int] | None:
    if seed is None:
        return None
    if isinstance(seed, np.random.SeedSequence):
        return seed.entropy  # type: ignore[return-value]
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        if seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed}")
        return int(seed)
    raise TypeError(f"seed must be None, a non-negative int or a SeedSequence, got {seed!r}")


def stream(entropy: object, chunk: int, key: str) -> np.random.Generator:
    """Generator for input *key* in chunk *chunk* of a run with *entropy*."""
    ss = np.random.SeedSequence(entropy, spawn_key=(chunk, zlib.crc32(key.encode())))
    return np.random.Generator(np.random.PCG64(ss))


class UniformSource:
    """Hands out blocks of uniforms in (0, 1) for the correlated inputs, chunk by chunk.

    Parameters
    ----------
    keys : list of str
        Input names, one column each.
    method : {"mc", "lhs", "sobol"}
    seed : int, SeedSequence or None
    """

    def __init__(self, keys: list[str], *, method: str = "mc", seed: object = None):
        if method not in METHODS:
            raise ValueError(f"unknown sampling {method!r}; valid choices: {', '.join(METHODS)}")
        self.keys = list(keys)
        self.method = method
        ent = _entropy(seed)
        self.entropy = ent if ent is not None else np.random.SeedSequence().entropy
        self._sobol = None
        if method == "sobol" and self.keys:
            ss = np.random.SeedSequence(self.entropy, spawn_key=(2 ** 31 - 1,))
            self._sobol = qmc.Sobol(d=len(self.keys), scramble=True,
                                    rng=np.random.default_rng(ss))

    def rng(self, chunk: int, key: str) -> np.random.Generator:
        """Generator of stream *key* in *chunk*."""
        return stream(self.entropy, chunk, key)

    def block(self, chunk: int, n: int) -> np.ndarray:
        """Uniforms of shape (n, len(keys)) for *chunk*."""
        k = len(self.keys)
        if k == 0:
            return np.empty((n, 0))
        if self.method == "mc":
            ut = np.empty((k, n))
            for j, key in enumerate(self.keys):  # one stream per input (loop over inputs)
                self.rng(chunk, key).random(n, out=ut[j])
            np.clip(ut, _EPS, 1.0 - _EPS, out=ut)
            return ut.T  # (n, k) view whose columns are contiguous
        elif self.method == "lhs":
            eng = qmc.LatinHypercube(d=k, rng=self.rng(chunk, "__lhs__"))
            u = eng.random(n)
        else:
            with warnings.catch_warnings():
                # balance properties need powers of 2; any n is still a valid QMC point set
                warnings.simplefilter("ignore", UserWarning)
                u = self._sobol.random(n)  # type: ignore[union-attr]
        return np.clip(u, _EPS, 1.0 - _EPS)
