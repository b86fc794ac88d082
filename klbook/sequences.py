"""Probabilities of coin-flip sequences and their log-likelihood ratios.

A particular sequence of ``n`` independent flips with ``k`` heads has
probability p^k (1 − p)^(n − k) under a coin with heads probability ``p``.
Only ``k`` and ``n`` matter, not the order of the flips.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import xlog1py, xlogy

from klbook._validation import (
    TINY_PROBABILITY,
    as_counts,
    as_probabilities,
    log_base,
    scalar_or_array,
)

__all__ = ["log_likelihood_ratio", "sequence_log_prob"]

Result = float | NDArray[np.float64]


def _heads_and_flips(k: ArrayLike, n: ArrayLike) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    ka = as_counts(k, "k")
    na = as_counts(n, "n")
    try:
        ka, na = np.broadcast_arrays(ka, na)
    except ValueError:
        raise ValueError(
            f"k and n have shapes {ka.shape} and {na.shape}, which do not broadcast"
        ) from None
    if (ka > na).any():
        raise ValueError("k must lie in 0..n: a sequence cannot have more heads than flips")
    return ka, na


def _log_prob(
    ka: NDArray[np.int64], na: NDArray[np.int64], pa: NDArray[np.float64], name: str
) -> NDArray[np.float64]:
    try:
        ka, na, pa = np.broadcast_arrays(ka, na, pa)
    except ValueError:
        raise ValueError(
            f"k, n and {name} have shapes {ka.shape}, {na.shape} and {pa.shape}, "
            "which do not broadcast"
        ) from None
    return xlogy(ka, pa) + xlog1py(na - ka, -pa)


def sequence_log_prob(
    k: ArrayLike, n: ArrayLike, p: ArrayLike, *, base: float | None = None
) -> Result:
    """Log-probability of one particular sequence of ``n`` flips with ``k`` heads.

    log[p^k (1 − p)^(n − k)] = k log p + (n − k) log(1 − p), computed with
    ``xlogy`` and ``log1p`` so that it is exact at ``p`` = 0 or 1 (where the
    answer is 0 or −inf) and never underflows the way the product does.

    Parameters
    ----------
    k : array_like of int
        Number of heads, 0 ≤ k ≤ n.
    n : array_like of int
        Number of flips, n ≥ 0.
    p : array_like
        Heads probability of the coin, in [0, 1].
    base : float, optional
        Logarithm base; natural log when omitted.

    Returns
    -------
    float or ndarray
        The log-probability (≤ 0), broadcast over ``k``, ``n`` and ``p``.

    Raises
    ------
    ValueError
        If ``k`` or ``n`` is not a whole number, ``k`` lies outside 0..n,
        ``p`` lies outside [0, 1], or the shapes do not broadcast.

    Examples
    --------
    >>> from klbook import sequence_log_prob
    >>> import math
    >>> round(math.exp(sequence_log_prob(3, 4, 0.5)), 6)  # 1/16
    0.0625
    >>> sequence_log_prob(0, 10, 0.0)
    0.0
    >>> sequence_log_prob(1, 10, 0.0)
    -inf
    >>> round(sequence_log_prob(5_000, 10_000, 0.5), 3)  # 0.5**10000 underflows
    -6931.472
    """
    scale = log_base(base)
    ka, na = _heads_and_flips(k, n)
    return scalar_or_array(_log_prob(ka, na, as_probabilities(p, "p"), "p") / scale)


def log_likelihood_ratio(
    k: ArrayLike,
    n: ArrayLike,
    p: ArrayLike,
    q: ArrayLike,
    *,
    base: float | None = None,
) -> Result:
    """Log-likelihood ratio log P(x)/Q(x) of a sequence with ``k`` heads in ``n`` flips.

    P is a coin with heads probability ``p``, Q one with ``q``. The ratio is
    positive when the sequence is better explained by P, negative when by Q,
    and zero when both explain it equally well:

        log P(x)/Q(x) = k log(p/q) + (n − k) log((1 − p)/(1 − q)).

    Parameters
    ----------
    k : array_like of int
        Number of heads, 0 ≤ k ≤ n.
    n : array_like of int
        Number of flips.
    p, q : array_like
        Heads probabilities of the two coins, in [0, 1].
    base : float, optional
        Logarithm base; natural log when omitted.

    Returns
    -------
    float or ndarray
        The log-likelihood ratio; ``+inf`` if only Q rules the sequence out,
        ``-inf`` if only P does.

    Raises
    ------
    ValueError
        For bad ``k``, ``n``, ``p``, ``q`` as in :func:`sequence_log_prob`, and
        if the sequence is impossible under both coins (the ratio 0/0 has no
        value).

    Examples
    --------
    >>> from klbook import log_likelihood_ratio
    >>> log_likelihood_ratio(5, 10, 0.5, 0.5)
    0.0
    >>> round(log_likelihood_ratio(8, 10, 0.8, 0.5), 4)  # favours the biased coin
    1.9274
    >>> log_likelihood_ratio(3, 10, 0.5, 0.0)
    inf
    """
    scale = log_base(base)
    ka, na = _heads_and_flips(k, n)
    logp = _log_prob(ka, na, as_probabilities(p, "p"), "p")
    logq = _log_prob(ka, na, as_probabilities(q, "q"), "q")
    both_impossible = np.isneginf(logp) & np.isneginf(logq)
    if both_impossible.any():
        raise ValueError(
            "the sequence has probability zero under both p and q, so their ratio is undefined"
        )
    with np.errstate(invalid="ignore"):
        llr = logp - logq  # exact where a coin is certain; -inf/+inf where one rules x out
    return scalar_or_array(_accurate_llr(ka, na, p, q, llr) / scale)


def _accurate_llr(
    ka: NDArray[np.int64],
    na: NDArray[np.int64],
    p: ArrayLike,
    q: ArrayLike,
    llr: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Replace log P − log Q by a form without cancellation where both coins are uncertain.

    log P(x) and log Q(x) are each about n times larger than their difference
    when p ≈ q, so subtracting them loses digits (even the sign, for n = 10^6
    and p − q = 10^-9). Instead

        log P/Q = k log(p/q) + (n − k) log((1 − p)/(1 − q)),

    with each log of a ratio from :func:`log_ratio`, accurate to a few units in
    the last place.
    """
    pa = np.asarray(p, dtype=np.float64)
    qa = np.asarray(q, dtype=np.float64)
    ka, na, pa, qa = np.broadcast_arrays(ka, na, pa, qa)
    inner = (pa > 0) & (pa < 1) & (qa >= TINY_PROBABILITY) & (qa < 1)
    if not inner.any():
        return llr
    with np.errstate(all="ignore"):
        heads = log_ratio(pa, qa, pa - qa)
        tails = log_ratio(1.0 - pa, 1.0 - qa, qa - pa)
        direct = np.where(ka > 0, ka * heads, 0.0) + np.where(na > ka, (na - ka) * tails, 0.0)
    return np.where(inner, direct, llr)


def log_ratio(
    a: NDArray[np.float64], b: NDArray[np.float64], diff: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Return log(a/b) for positive a, b, given ``diff`` = a − b, accurately also when a ≈ b.

    Near a = b, log1p(diff/b) keeps the digits that rounding a/b to the nearest
    float would lose; far from it, log(a/b) is the accurate form (log1p near −1
    would amplify the rounding of its argument).

    Examples
    --------
    >>> import numpy as np
    >>> a, b = np.array([1e-6, 0.5]), np.array([0.5, 0.5 - 2**-50])
    >>> log_ratio(a, b, a - b).tolist()  # the second is log1p(2**-50 / b) to the last digit
    [-13.122363377404328, 1.776356839400252e-15]
    >>> np.log(a / b).tolist()  # rounding a/b costs the second its last digits
    [-13.122363377404328, 1.7763568394002489e-15]
    """
    with np.errstate(all="ignore"):
        near = np.abs(diff) < 0.5 * b
        return np.where(near, np.log1p(diff / b), np.log(a / b))
