"""Probabilities of coin-flip sequences and their log-likelihood ratios.

A particular sequence of ``n`` independent flips with ``k`` heads has
probability p^k (1 − p)^(n − k) under a coin with heads probability ``p``.
Only ``k`` and ``n`` matter, not the order of the flips.

A Gaussian becomes a model for the same whole-number counts once it is
discretised: :func:`discretised_normal_logpmf` gives each whole number the
Gaussian probability of the interval that rounds to it, so that it can be
weighed against a binomial by a log-likelihood ratio (chapter 1).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import log_ndtr, xlog1py, xlogy

from klbook._validation import (
    TINY_PROBABILITY,
    as_counts,
    as_probabilities,
    as_real_array,
    log_base,
    scalar_or_array,
)

__all__ = ["discretised_normal_logpmf", "log_likelihood_ratio", "sequence_log_prob"]

Result = float | NDArray[np.float64]

#: A standardised interval at most this wide (and this far out, in widths times
#: distance) is integrated by the midpoint series in :func:`discretised_normal_logpmf`.
_NARROW = 0.01
_LOG_SQRT_2PI = 0.5 * np.log(2 * np.pi)


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


def discretised_normal_logpmf(x: ArrayLike, mean: ArrayLike, sd: ArrayLike) -> Result:
    """Log-probability of the whole number ``x`` under a Gaussian rounded to whole numbers.

    The Gaussian N(μ, σ²) gives the whole number x the probability of the
    interval [x − ½, x + ½], the values that round to x:

        G(x) = Φ((x + ½ − μ)/σ) − Φ((x − ½ − μ)/σ),

    with Φ the standard normal distribution function. The intervals tile the
    real line, so G is a probability distribution on the integers (it sums to
    one over x = …, −1, 0, 1, …). Unlike the Gaussian density, G(x) is a
    probability of the count x, so it may be compared with a binomial or a
    Poisson probability of the same count; with μ = np and σ² = np(1 − p) it
    is the normal approximation to Binomial(n, p) with its continuity
    correction.

    Parameters
    ----------
    x : array_like of int
        Whole numbers (negative allowed), finite.
    mean : array_like
        The Gaussian's mean μ, finite.
    sd : array_like
        The Gaussian's standard deviation σ, finite and positive.

    Returns
    -------
    float or ndarray
        log G(x) in nats (≤ 0), broadcast over ``x``, ``mean`` and ``sd``;
        finite also where G(x) itself is far below the smallest float64.

    Raises
    ------
    ValueError
        If ``x`` is not finite whole numbers, ``mean`` is not finite, ``sd``
        is not finite and positive, or the shapes do not broadcast.

    Notes
    -----
    The difference of the two Φ values underflows to 0 in the far tails
    (already for x − μ ≈ 39σ), so the logarithm is taken as

        log G = log Φ(b) + log(1 − exp(log Φ(a) − log Φ(b))),

    with a < b the two standardised interval ends, moved into the lower tail
    (Φ(b) − Φ(a) = Φ(−a) − Φ(−b)) where ``scipy.special.log_ndtr`` is
    accurate. For a wide Gaussian the interval is narrow in standard units
    (width w = 1/σ) and the two Φ values agree to nearly every digit, so where
    w and w·|x − μ|/σ are both at most 0.01 the density is integrated across
    the interval by its series round the midpoint m = (x − μ)/σ instead:
    G = w φ(m) [1 + (m² − 1) w²/24 + (m⁴ − 6m² + 3) w⁴/1920], whose next term is
    below 1e-16 of the sum there.

    Examples
    --------
    >>> import numpy as np
    >>> from klbook import discretised_normal_logpmf
    >>> G = np.exp(discretised_normal_logpmf(np.arange(-20, 21), 0.0, 1.0))
    >>> round(float(G.sum()), 12)  # a distribution on the integers
    1.0
    >>> round(float(G[20]), 4)  # Φ(½) − Φ(−½), the mass of the interval round 0
    0.3829
    >>> round(discretised_normal_logpmf(50, 0.0, 1.0), 2)  # Φ differences underflow here
    -1229.95
    >>> discretised_normal_logpmf(0.5, 0.0, 1.0)
    Traceback (most recent call last):
    ...
    ValueError: x must be whole numbers, got a fractional value
    """
    xa = as_real_array(x, "x")
    if np.isinf(xa).any():
        raise ValueError("x must be finite whole numbers, got an infinite value")
    if (xa != np.round(xa)).any():
        raise ValueError("x must be whole numbers, got a fractional value")
    mu = as_real_array(mean, "mean")
    if np.isinf(mu).any():
        raise ValueError("mean must be finite, got an infinite value")
    sigma = as_real_array(sd, "sd")
    if not (np.isfinite(sigma) & (sigma > 0)).all():
        raise ValueError("sd must be finite and positive")
    try:
        xa, mu, sigma = np.broadcast_arrays(xa, mu, sigma)
    except ValueError:
        raise ValueError(
            f"x, mean and sd have shapes {np.shape(x)}, {np.shape(mean)} and "
            f"{np.shape(sd)}, which do not broadcast"
        ) from None
    with np.errstate(over="ignore"):  # beyond the float range: G(x) = 0, log G = -inf
        lo = (xa - 0.5 - mu) / sigma  # the interval [x - 1/2, x + 1/2], standardised
        hi = (xa + 0.5 - mu) / sigma
        mid = (xa - mu) / sigma
        w = 1.0 / sigma  # the interval's width in standard units
    upper = lo + hi > 0  # interval above the mean: use Φ(hi) − Φ(lo) = Φ(−lo) − Φ(−hi)
    a = np.where(upper, -hi, lo)
    b = np.where(upper, -lo, hi)
    log_a, log_b = log_ndtr(a), log_ndtr(b)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_g = log_b + np.log(-np.expm1(log_a - log_b))
    log_g = np.where(np.isneginf(log_b), -np.inf, log_g)
    # A narrow interval (a wide Gaussian): the two Φ values agree to nearly every digit,
    # so integrate the density across it instead, by its series round the midpoint m:
    # G = w φ(m) [1 + (m² − 1) w²/24 + (m⁴ − 6m² + 3) w⁴/1920 + …], with w = 1/σ.
    narrow = (w <= _NARROW) & (np.abs(mid) <= _NARROW * sigma)
    if narrow.any():
        m2 = mid**2
        series = (m2 - 1) * w**2 / 24 + (m2 * m2 - 6 * m2 + 3) * w**4 / 1920
        log_mid = np.log(w) - m2 / 2 - _LOG_SQRT_2PI + np.log1p(series)
        log_g = np.where(narrow, log_mid, log_g)
    return scalar_or_array(log_g)
