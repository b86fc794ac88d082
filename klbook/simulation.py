"""Seeded simulation of coin and die sequences and their running log ratios (chapter 3).

A coin P with heads probability ``p`` is flipped N times; the log-likelihood
ratio of the sequence against a second coin Q (heads probability ``q``),
divided by N, is

    (1/N) log P(x_1..x_N)/Q(x_1..x_N)
        = (k_N/N) log(p/q) + ((N − k_N)/N) log((1 − p)/(1 − q)),

where k_N is the number of heads among the first N flips. As N grows, k_N/N
tends to p (law of large numbers), so the normalised ratio tends to
KL(P‖Q). This module draws such sequences and computes these running ratios:

* :func:`simulate_flips`, :func:`simulate_rolls`: the raw sequences.
* :func:`running_llr`: the running normalised ratio of given flips.
* :func:`running_llr_paths`: many long paths without materialising the flips
  (exact in distribution at the recorded N).
* :func:`count_outcomes`, :func:`multinomial_llr`: the die (m outcomes).
* :func:`llr_variance`: Var_P[log P(X)/Q(X)], the variance that sets the
  1/√N spread of the normalised ratio (central limit theorem).

Every random function takes a :class:`numpy.random.Generator` (never numpy's
global state), so the same seed gives the same output. Conventions as in
:mod:`klbook.measures`: ``p`` is the truth, ``q`` the model, nats unless
``base`` is given, and bad input raises :class:`ValueError`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from klbook._validation import (
    TINY_PROBABILITY,
    as_counts,
    as_distribution,
    as_probabilities,
    distribution_pair,
    log_base,
    scalar_or_array,
)
from klbook.measures import binary_kl
from klbook.sequences import log_likelihood_ratio, log_ratio

__all__ = [
    "MAX_RECORDED_VALUES",
    "LLRPaths",
    "count_outcomes",
    "llr_variance",
    "log_checkpoints",
    "multinomial_llr",
    "running_llr",
    "running_llr_paths",
    "simulate_flips",
    "simulate_rolls",
]

Result = float | NDArray[np.float64]

#: The most values (paths × checkpoints) :func:`running_llr_paths` records;
#: its two result arrays then take at most 2 × 8 × 2**24 bytes (256 MiB).
MAX_RECORDED_VALUES = 2**24
_BLOCK_VALUES = 2**18


# ---------------------------------------------------------------- validation


def _check_rng(rng: Any) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise ValueError(
            "rng must be a numpy.random.Generator, e.g. numpy.random.default_rng(seed); "
            f"got {type(rng).__name__}"
        )
    return rng


def _whole(x: Any, name: str, *, minimum: int = 0) -> int:
    """Return ``x`` as a Python int, or raise if it is not an integer >= minimum."""
    if isinstance(x, bool) or not isinstance(x, Integral):
        raise ValueError(f"{name} must be an integer, got {x!r} of type {type(x).__name__}")
    value = int(x)
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return value


def _batch_shape(size: Any) -> tuple[int, ...]:
    if size is None:
        return ()
    if isinstance(size, Integral) and not isinstance(size, bool):
        return (_whole(size, "size"),)
    try:
        items = tuple(size)
    except TypeError:
        raise ValueError(
            f"size must be None, an integer or a tuple of integers, got {size!r}"
        ) from None
    return tuple(_whole(s, "size") for s in items)


def _coin(p: Any, name: str) -> float:
    arr = as_probabilities(p, name)
    if arr.ndim != 0:
        raise ValueError(f"{name} must be a single probability, got an array of shape {arr.shape}")
    return float(arr)


def _flips(flips: ArrayLike) -> NDArray[np.int64]:
    arr = np.asarray(flips)
    if arr.ndim == 0:
        raise ValueError("flips must be a sequence (at least one dimension), got a scalar")
    counts = as_counts(arr, "flips")
    if (counts > 1).any():
        raise ValueError(f"flips must hold 0 (tails) or 1 (heads), got {int(counts.max())}")
    return counts


# ------------------------------------------------------------------- drawing


def simulate_flips(
    n: int, p: float, rng: np.random.Generator, *, size: int | tuple[int, ...] | None = None
) -> NDArray[np.int8]:
    """Flip a coin with heads probability ``p`` ``n`` times: 1 is heads, 0 tails.

    Parameters
    ----------
    n : int
        Number of flips per sequence, n ≥ 0.
    p : float
        Heads probability in [0, 1].
    rng : numpy.random.Generator
        The source of randomness, e.g. ``np.random.default_rng(seed)``.
    size : int or tuple of int, optional
        Shape of a batch of independent sequences. The result has shape
        ``(*size, n)``; a single sequence of shape ``(n,)`` when omitted.

    Returns
    -------
    ndarray of int8
        The flips, independent Bernoulli(p) draws, along the last axis.

    Raises
    ------
    ValueError
        If ``n`` is not a non-negative integer, ``p`` is not a single
        probability, ``rng`` is not a Generator or ``size`` is not a shape.

    See Also
    --------
    running_llr : the running normalised log ratio of these flips.

    Examples
    --------
    >>> import numpy as np
    >>> from klbook import simulate_flips
    >>> flips = simulate_flips(10_000, 0.3, np.random.default_rng(0))
    >>> flips.shape, flips.dtype, set(np.unique(flips).tolist())
    ((10000,), dtype('int8'), {0, 1})
    >>> round(float(flips.mean()), 1)
    0.3
    >>> simulate_flips(4, 0.5, np.random.default_rng(0), size=(2, 3)).shape
    (2, 3, 4)
    """
    n = _whole(n, "n")
    pf = _coin(p, "p")
    rng = _check_rng(rng)
    shape = (*_batch_shape(size), n)
    # random() lies in [0, 1): p = 0 never gives heads, p = 1 always does.
    return (rng.random(shape) < pf).astype(np.int8)


def simulate_rolls(
    n: int,
    probs: ArrayLike,
    rng: np.random.Generator,
    *,
    size: int | tuple[int, ...] | None = None,
) -> NDArray[np.int64]:
    """Roll a loaded die with face probabilities ``probs`` ``n`` times.

    Parameters
    ----------
    n : int
        Number of rolls per sequence, n ≥ 0.
    probs : array_like
        A probability vector over the m faces (non-negative, summing to one).
    rng : numpy.random.Generator
        The source of randomness.
    size : int or tuple of int, optional
        Shape of a batch of independent sequences; the result has shape
        ``(*size, n)``.

    Returns
    -------
    ndarray of int64
        The faces rolled, numbered 0..m−1, along the last axis.

    Raises
    ------
    ValueError
        If ``probs`` is not a single distribution, or ``n``, ``rng`` or
        ``size`` is invalid.

    See Also
    --------
    count_outcomes, multinomial_llr

    Examples
    --------
    >>> import numpy as np
    >>> from klbook import simulate_rolls
    >>> rolls = simulate_rolls(6_000, [0.5, 0.25, 0.25], np.random.default_rng(1))
    >>> rolls.shape, int(rolls.min()), int(rolls.max())
    ((6000,), 0, 2)
    >>> simulate_rolls(3, [1.0, 0.0], np.random.default_rng(1)).tolist()
    [0, 0, 0]
    """
    n = _whole(n, "n")
    pa = as_distribution(probs, "probs", -1)
    if pa.ndim != 1:
        raise ValueError(f"probs must be a single probability vector, got shape {pa.shape}")
    rng = _check_rng(rng)
    shape = (*_batch_shape(size), n)
    # Inverse-CDF sampling; the last edge is set to exactly 1 so that rounding in
    # the cumulative sum can never produce a face m.
    edges = np.cumsum(pa)
    edges[-1] = 1.0
    faces = np.searchsorted(edges, rng.random(shape), side="right")
    return np.minimum(faces, pa.size - 1).astype(np.int64)


def count_outcomes(outcomes: ArrayLike, m: int) -> NDArray[np.int64]:
    """Count how often each of the outcomes 0..m−1 occurs along the last axis.

    Parameters
    ----------
    outcomes : array_like of int
        Outcomes numbered 0..m−1, at least one-dimensional; leading axes are a
        batch of sequences.
    m : int
        Number of possible outcomes, m ≥ 1.

    Returns
    -------
    ndarray of int64
        Counts of shape ``(*outcomes.shape[:-1], m)``; each row sums to the
        sequence length.

    Raises
    ------
    ValueError
        If ``outcomes`` is a scalar, holds a value that is not a whole number
        in 0..m−1, or ``m`` is not a positive integer.

    Examples
    --------
    >>> from klbook import count_outcomes
    >>> count_outcomes([0, 2, 2, 1, 2], 4).tolist()
    [1, 1, 3, 0]
    >>> count_outcomes([[0, 0], [1, 0]], 2).tolist()
    [[2, 0], [1, 1]]
    """
    m = _whole(m, "m", minimum=1)
    arr = np.asarray(outcomes)
    if arr.ndim == 0:
        raise ValueError("outcomes must be a sequence (at least one dimension), got a scalar")
    oa = as_counts(arr, "outcomes")
    if oa.size and int(oa.max()) >= m:
        raise ValueError(f"outcomes must lie in 0..{m - 1}, got {int(oa.max())}")
    batch = oa.shape[:-1]
    rows = oa.reshape(math.prod(batch), oa.shape[-1])
    offsets = (np.arange(rows.shape[0], dtype=np.int64) * m)[:, None]
    flat = np.bincount((rows + offsets).ravel(), minlength=rows.shape[0] * m)
    return flat.reshape(*batch, m).astype(np.int64)


# ------------------------------------------------------------------- ratios


def running_llr(
    flips: ArrayLike, p: float, q: float, *, base: float | None = None
) -> NDArray[np.float64]:
    """Compute the running normalised log-likelihood ratio (1/N) log P(x_1..x_N)/Q(x_1..x_N).

    With k_N heads among the first N flips,

        (1/N) log P/Q = (k_N/N) log(p/q) + ((N − k_N)/N) log((1 − p)/(1 − q)),

    which tends to KL(P‖Q) when the flips come from P.

    Parameters
    ----------
    flips : array_like of 0/1
        One sequence along the last axis; leading axes are a batch of
        sequences. Booleans are accepted (True is heads).
    p, q : float
        Heads probabilities of the two coins P and Q, in [0, 1].
    base : float, optional
        Logarithm base; natural log (nats) when omitted.

    Returns
    -------
    ndarray of float64
        Same shape as ``flips``; entry ``N − 1`` along the last axis is the
        normalised ratio of the first N flips. ``+inf`` once only Q rules the
        prefix out, ``-inf`` once only P does.

    Raises
    ------
    ValueError
        If ``flips`` is a scalar or holds values other than 0 and 1, ``p`` or
        ``q`` is not a single probability, ``base`` is invalid, or a prefix
        is impossible under both coins (0/0 has no value).

    See Also
    --------
    running_llr_paths : the same for many long paths, without storing flips.
    klbook.sequences.log_likelihood_ratio : the unnormalised ratio from counts.

    Examples
    --------
    >>> from klbook import running_llr
    >>> running_llr([1, 1, 0, 0], 0.5, 0.5).tolist()
    [0.0, 0.0, 0.0, 0.0]
    >>> running_llr([1, 0, 1, 1], 0.5, 0.25, base=2).round(4)  # heads: log2(0.5/0.25) = 1
    array([1.    , 0.2075, 0.4717, 0.6038])
    >>> running_llr([0, 1], 0.5, 0.0).tolist()  # Q cannot show heads
    [-0.6931471805599453, inf]
    """
    fa = _flips(flips)
    pf, qf = _coin(p, "p"), _coin(q, "q")
    heads = np.cumsum(fa, axis=-1)
    n = np.arange(1, fa.shape[-1] + 1, dtype=np.int64)
    llr = log_likelihood_ratio(heads, n, pf, qf, base=base)
    return np.asarray(llr, dtype=np.float64) / n


def multinomial_llr(
    counts: ArrayLike, p: ArrayLike, q: ArrayLike, *, base: float | None = None
) -> Result:
    """Log-likelihood ratio Σ_i c_i log(p_i/q_i) of a sequence with outcome counts c.

    A particular sequence with c_i outcomes of face i has probability
    Π p_i^{c_i} under P and Π q_i^{c_i} under Q, so its log ratio depends on
    the counts only. (The multinomial coefficient, the number of orderings,
    is the same under both and cancels: this is also the log ratio of the
    counts' probabilities.) Divided by N = Σ c_i it tends to KL(P‖Q).

    Parameters
    ----------
    counts : array_like of int
        Non-negative whole counts along the last axis (the m outcomes);
        leading axes are a batch.
    p, q : array_like
        Probability vectors over the same m outcomes (along the last axis;
        broadcast against ``counts``).
    base : float, optional
        Logarithm base; natural log (nats) when omitted.

    Returns
    -------
    float or ndarray
        The log ratio, a float for one count vector; ``+inf`` where only Q
        rules the counts out (q_i = 0 < c_i), ``-inf`` where only P does.

    Raises
    ------
    ValueError
        If ``counts`` is not non-negative whole numbers with at least one
        dimension, ``p`` or ``q`` is not a distribution, the numbers of
        outcomes differ or shapes do not broadcast, ``base`` is invalid, or
        the counts are impossible under both P and Q (0/0).

    See Also
    --------
    klbook.sequences.log_likelihood_ratio : the two-outcome case, from k and n.
    count_outcomes : counts from a sequence of outcomes.

    Examples
    --------
    >>> from klbook import multinomial_llr
    >>> multinomial_llr([3, 1], [0.5, 0.5], [0.5, 0.5])
    0.0
    >>> round(multinomial_llr([2, 0, 1], [0.5, 0.25, 0.25], [0.25, 0.25, 0.5], base=2), 12)
    1.0
    >>> multinomial_llr([1, 1, 0], [0.5, 0.5, 0.0], [0.0, 0.5, 0.5])
    inf
    >>> multinomial_llr([[1, 0], [0, 1]], [0.8, 0.2], [0.5, 0.5]).round(4)
    array([ 0.47  , -0.9163])
    """
    scale = log_base(base)
    raw = np.asarray(counts)
    if raw.ndim == 0:
        raise ValueError("counts must be a count vector (at least one dimension), got a scalar")
    ca = as_counts(raw, "counts").astype(np.float64)
    pa, qa = np.broadcast_arrays(*distribution_pair(p, q, -1)[:2])
    if ca.shape[-1] != pa.shape[-1]:
        raise ValueError(
            f"counts has {ca.shape[-1]} outcomes but p and q have {pa.shape[-1]}; "
            "they must describe the same outcomes"
        )
    try:
        ca, pa, qa = np.broadcast_arrays(ca, pa, qa)
    except ValueError:
        raise ValueError(
            f"counts and p, q have shapes {ca.shape} and {pa.shape}, which do not broadcast"
        ) from None
    seen = ca > 0
    if np.any(np.any(seen & (pa == 0), axis=-1) & np.any(seen & (qa == 0), axis=-1)):
        raise ValueError(
            "the counts have probability zero under both p and q, so their ratio is undefined"
        )
    # Σ c_i log(p_i/q_i) term by term, not log P − log Q: each of those is about
    # N times larger than their difference when p ≈ q, and subtracting them loses digits.
    with np.errstate(all="ignore"):
        ratio = np.where(
            qa >= TINY_PROBABILITY, log_ratio(pa, qa, pa - qa), np.log(pa) - np.log(qa)
        )
        terms = np.where(seen, ca * ratio, 0.0)
    return scalar_or_array(np.sum(terms, axis=-1) / scale)


def llr_variance(p: ArrayLike, q: ArrayLike, *, base: float | None = None) -> Result:
    """Variance of the log-likelihood ratio under P: Var_P[log P(X)/Q(X)].

    The mean of log P(X)/Q(X) under P is KL(P‖Q); this is its spread. By the
    central limit theorem the normalised ratio of N independent draws has
    standard deviation close to √(Var_P[log P/Q] / N).

    Parameters
    ----------
    p, q : array_like
        Probability vectors along the last axis (for a coin, ``[p, 1 − p]``);
        leading axes are a batch.
    base : float, optional
        Logarithm base; natural log (nats², so to speak) when omitted. The
        variance scales by 1/log(base)².

    Returns
    -------
    float or ndarray
        Σ_x P(x) (log P(x)/Q(x) − KL)², summed over outcomes with P(x) > 0;
        ``inf`` where Q(x) = 0 < P(x).

    Raises
    ------
    ValueError
        If ``p`` or ``q`` is not a distribution, their shapes do not fit, or
        ``base`` is invalid.

    Examples
    --------
    >>> from klbook import llr_variance
    >>> llr_variance([0.5, 0.5], [0.5, 0.5])
    0.0
    >>> # log2 ratios 1 and log2(2/3), each with probability 1/2: ((1 - log2(2/3)) / 2)²
    >>> round(llr_variance([0.5, 0.5], [0.25, 0.75], base=2), 6)
    0.628027
    >>> llr_variance([0.5, 0.5], [1.0, 0.0])
    inf
    """
    scale = log_base(base)
    pa, qa = np.broadcast_arrays(*distribution_pair(p, q, -1)[:2])
    counted = pa > 0
    infinite = np.any(counted & (qa == 0), axis=-1)
    safe_q = np.where(counted & (qa > 0), qa, 1.0)
    safe_p = np.where(counted, pa, 1.0)
    ratio = np.where(counted, np.log(safe_p) - np.log(safe_q), 0.0)
    mean = np.sum(pa * ratio, axis=-1, keepdims=True)
    var = np.sum(np.where(counted, pa * (ratio - mean) ** 2, 0.0), axis=-1)
    var = np.where(infinite, np.inf, var)
    return scalar_or_array(var / scale**2)


# ------------------------------------------------------- many long paths


def log_checkpoints(n: int, *, per_decade: int = 20) -> NDArray[np.int64]:
    """Roughly log-spaced flip counts 1 ≤ N ≤ n, always ending at n.

    Parameters
    ----------
    n : int
        The largest N, n ≥ 1.
    per_decade : int, default 20
        About how many points per factor of ten (fewer at small N, where
        distinct integers run out).

    Returns
    -------
    ndarray of int64
        Strictly increasing, starting at 1 and ending at ``n``.

    Raises
    ------
    ValueError
        If ``n`` or ``per_decade`` is not a positive integer.

    Examples
    --------
    >>> from klbook import log_checkpoints
    >>> log_checkpoints(100, per_decade=4).tolist()
    [1, 2, 3, 6, 10, 18, 32, 56, 100]
    >>> log_checkpoints(1).tolist()
    [1]
    """
    n = _whole(n, "n", minimum=1)
    per_decade = _whole(per_decade, "per_decade", minimum=1)
    count = max(2, math.ceil(math.log10(n) * per_decade) + 1)
    grid = np.unique(np.round(np.logspace(0, math.log10(n), count)).astype(np.int64))
    grid[-1] = n
    return np.unique(grid)


def _checkpoints(record: Any, n_flips: int) -> NDArray[np.int64]:
    if record is None:
        return log_checkpoints(n_flips)
    arr = np.asarray(record)
    if arr.ndim == 0:
        step = _whole(record, "record", minimum=1)
        return np.unique(np.append(np.arange(step, n_flips + 1, step, dtype=np.int64), n_flips))
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(
            "record must be None (log-spaced), a step (int) or a non-empty 1-d array of "
            f"flip counts, got an array of shape {arr.shape}"
        )
    points = as_counts(arr, "record")
    if points[0] < 1 or points[-1] > n_flips:
        raise ValueError(f"record must hold flip counts in 1..n_flips={n_flips}")
    if np.any(np.diff(points) <= 0):
        raise ValueError("record must be strictly increasing")
    return points


@dataclass(frozen=True, eq=False)
class LLRPaths:
    """Running normalised log-likelihood ratios of many simulated paths.

    Attributes
    ----------
    n : ndarray of int64, shape (n_checkpoints,)
        The flip counts N at which the paths were recorded.
    heads : ndarray of int64, shape (n_paths, n_checkpoints)
        The number of heads k_N among the first N flips of each path.
    llr : ndarray of float64, shape (n_paths, n_checkpoints)
        The normalised ratio (1/N) log P(x_1..x_N)/Q(x_1..x_N) at each N.
    p, q : float
        The heads probabilities of the coins P (on top of the ratio) and Q.
    base : float or None
        The logarithm base of ``llr`` (None: nats).
    truth : float or None
        The heads probability of the coin that drew the flips; None means P.
    """

    n: NDArray[np.int64]
    heads: NDArray[np.int64]
    llr: NDArray[np.float64]
    p: float
    q: float
    base: float | None = None
    truth: float | None = None

    @property
    def kl(self) -> float:
        """KL(P‖Q) of the two coins (same base as ``llr``); the limit when P drew the flips."""
        return float(binary_kl(self.p, self.q, base=self.base))

    @property
    def limit(self) -> float:
        """The limit of every path, KL(H‖Q) − KL(H‖P) for flips from H (KL(P‖Q) when H = P).

        With flips from H the normalised ratio is a mean of log P(x)/Q(x) over
        draws from H, so it tends to E_H[log P/Q] = Σ h_i log(p_i/q_i), which is
        KL(H‖Q) − KL(H‖P) wherever both are finite: the ratio points to the coin
        closer to the truth in KL.
        """
        if self.truth is None:
            return self.kl
        h = np.array([self.truth, 1 - self.truth])
        llr = log_likelihood_ratio(np.array([1, 0]), 1, self.p, self.q)  # heads, tails
        with np.errstate(invalid="ignore"):
            limit = float(np.sum(np.where(h > 0, h * llr, 0.0)))
        if math.isnan(limit):
            raise ValueError("the limit is undefined: each coin rules out a face the truth shows")
        return limit / log_base(self.base)

    @property
    def predicted_std(self) -> NDArray[np.float64]:
        """The central-limit spread √(Var_H[log P/Q] / N) at each recorded N (H: the truth)."""
        if self.truth is None:
            var = llr_variance([self.p, 1 - self.p], [self.q, 1 - self.q], base=self.base)
            return np.sqrt(var / self.n)
        h = self.truth
        scale = log_base(self.base)
        a, b = log_likelihood_ratio(np.array([1, 0]), 1, self.p, self.q)  # heads, tails
        var = h * (1 - h) * (a - b) ** 2 if h * (1 - h) > 0 else 0.0
        return np.sqrt(var / scale**2 / self.n)


def running_llr_paths(
    n_paths: int,
    n_flips: int,
    p: float,
    q: float,
    rng: np.random.Generator,
    *,
    record: int | ArrayLike | None = None,
    base: float | None = None,
    truth: float | None = None,
) -> LLRPaths:
    """Simulate many long coin sequences from P and record their running normalised LLR.

    The flips themselves are never stored. The normalised ratio at N depends
    only on the head count k_N, and between two recorded counts N_{j−1} < N_j
    the count grows by an independent Binomial(N_j − N_{j−1}, p) draw. Drawing
    those increments and summing them gives head counts (k_{N_1}, …, k_{N_J})
    with exactly the joint distribution they have when every flip is drawn:
    **the paths are exact in distribution at the recorded N** (between them
    nothing is simulated). Time and memory grow with n_paths × n_checkpoints,
    not with n_flips.

    Parameters
    ----------
    n_paths : int
        Number of independent sequences, ≥ 1.
    n_flips : int
        Length of each sequence, ≥ 1.
    p : float
        Heads probability of the truth P, which draws the flips.
    q : float
        Heads probability of the model Q.
    rng : numpy.random.Generator
        The source of randomness; the same seed gives the same paths.
    record : int or array_like of int, optional
        Where to record: omitted, about 20 log-spaced N per decade (see
        :func:`log_checkpoints`); an int ``step``, every ``step`` flips (and at
        ``n_flips``); an array, exactly those N (strictly increasing, in
        1..n_flips).
    base : float, optional
        Logarithm base; natural log (nats) when omitted.
    truth : float, optional
        Heads probability of the coin that draws the flips, when it is not P:
        ``q`` draws from the model (the ratio then tends to −KL(Q‖P)), a third
        value H from a truth that is neither coin (the ratio tends to
        KL(H‖Q) − KL(H‖P)). P when omitted.

    Returns
    -------
    LLRPaths
        The recorded N, head counts and normalised ratios (shape
        ``(n_paths, n_checkpoints)``), with ``kl``, ``limit`` and
        ``predicted_std``.

    Raises
    ------
    ValueError
        If a count is not a positive integer, ``p`` or ``q`` is not a single
        probability, ``rng`` is not a Generator, ``record`` is invalid, or
        n_paths × n_checkpoints exceeds :data:`MAX_RECORDED_VALUES` (record
        less often).

    See Also
    --------
    running_llr : the same ratio from flips you already have.

    Examples
    --------
    >>> import numpy as np
    >>> from klbook import running_llr_paths
    >>> paths = running_llr_paths(500, 100_000, 0.5, 0.8, np.random.default_rng(0))
    >>> paths.llr.shape == (500, paths.n.size), int(paths.n[-1])
    (True, 100000)
    >>> round(paths.kl, 4), round(float(paths.llr[:, -1].mean()), 2)
    (0.2231, 0.22)
    >>> running_llr_paths(2, 10, 0.5, 0.5, np.random.default_rng(0), record=5).n.tolist()
    [5, 10]
    >>> wrong = running_llr_paths(500, 100_000, 0.7, 0.4, np.random.default_rng(0), truth=0.6)
    >>> round(wrong.limit, 4), round(float(wrong.llr[:, -1].mean()), 3)  # KL(H‖Q) − KL(H‖P)
    (0.0585, 0.059)
    """
    n_paths = _whole(n_paths, "n_paths", minimum=1)
    n_flips = _whole(n_flips, "n_flips", minimum=1)
    pf, qf = _coin(p, "p"), _coin(q, "q")
    hf = pf if truth is None else _coin(truth, "truth")
    rng = _check_rng(rng)
    log_base(base)  # validate before any work
    points = _checkpoints(record, n_flips)
    if n_paths * points.size > MAX_RECORDED_VALUES:
        raise ValueError(
            f"n_paths × checkpoints = {n_paths} × {points.size} exceeds the limit of "
            f"{MAX_RECORDED_VALUES} recorded values; record fewer checkpoints (a larger step)"
        )
    steps = np.diff(points, prepend=0)
    heads = rng.binomial(steps, hf, size=(n_paths, points.size)).astype(np.int64, copy=False)
    np.cumsum(heads, axis=1, out=heads)
    if truth is not None:
        _check_possible(heads, points, pf, qf)
    # Blocks of rows keep the temporaries of the ratio small next to the result.
    llr = np.empty(heads.shape, dtype=np.float64)
    rows = max(1, _BLOCK_VALUES // points.size)
    for start in range(0, n_paths, rows):
        block = slice(start, start + rows)
        llr[block] = log_likelihood_ratio(heads[block], points, pf, qf, base=base)
    llr /= points
    truth_f = None if truth is None else hf
    return LLRPaths(n=points, heads=heads, llr=llr, p=pf, q=qf, base=base, truth=truth_f)


def _check_possible(
    heads: NDArray[np.int64], points: NDArray[np.int64], p: float, q: float
) -> None:
    """Raise if a path drawn from a third coin is impossible under both P and Q."""
    some_heads = heads > 0
    some_tails = heads < points
    impossible_p = (some_heads & (p == 0)) | (some_tails & (p == 1))
    impossible_q = (some_heads & (q == 0)) | (some_tails & (q == 1))
    if np.any(impossible_p & impossible_q):
        raise ValueError(
            "truth drew a sequence that has probability zero under both p and q, "
            "so its ratio is undefined"
        )
