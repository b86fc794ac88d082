"""Information measures of discrete distributions: entropy, cross-entropy, KL.

Conventions, the same everywhere in the book:

* ``p`` is the truth and ``q`` the model; ``kl_divergence(p, q)`` is KL(P‖Q).
* Natural logarithms (nats) unless ``base`` is given; ``base=2`` gives bits.
* ``0 · log 0 = 0``; KL and cross-entropy are ``+inf`` where ``q = 0 < p``.
* A vector that is not a probability distribution raises :class:`ValueError`;
  nothing is normalised silently (unlike :func:`scipy.stats.entropy`).
* Results along ``axis`` are batched over the other axes; a 0-d result is
  returned as a Python ``float``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import xlog1py, xlogy

from klbook._validation import (
    TINY_PROBABILITY,
    as_probabilities,
    broadcast_pair,
    distribution,
    distribution_pair,
    log_base,
    rows_minimum,
    scalar_or_array,
    sum_tolerance,
)

__all__ = [
    "binary_cross_entropy",
    "binary_entropy",
    "binary_kl",
    "cross_entropy",
    "entropy",
    "kl_divergence",
]

Result = float | NDArray[np.float64]


def _dot_last(a: NDArray[np.float64], b: NDArray[np.float64], axis: int) -> NDArray[np.float64]:
    """Σ a·b along ``axis``, broadcasting the other axes, without an (a·b) temporary."""
    return np.vecdot(a, b, axis=axis)


def _log_where_positive(
    x: NDArray[np.float64],
    weights: NDArray[np.float64],
    weights_min: float,
    out: NDArray[np.float64] | None = None,
) -> NDArray[np.float64]:
    """Return log x, with 0 wherever ``weights`` is 0 (0 · log 0 and 0 · log(0/q) count as 0).

    With ``out`` given, the logs are written there (it must have x's shape).
    """
    with np.errstate(divide="ignore"):
        out = np.log(x, out=out)
    if weights_min == 0.0:
        np.copyto(out, 0.0, where=np.broadcast_to(weights == 0.0, out.shape))
    return out


#: Batches of at least this many entries take the fused path (:func:`_fused_log_dot`).
FUSED_MIN_ENTRIES = 1 << 16
#: Entries per block on the fused path: a block of p, of q and of log q (1 MiB
#: each in float64) stays in the core's cache while it is checked, logged and summed.
BLOCK_ENTRIES = 1 << 17


def _fusable(axis: object, *arrays: object) -> bool:
    """Whether the fused path applies: big same-shape C-ordered float64 arrays, outcomes last."""
    fit = [
        a
        for a in arrays
        if type(a) is np.ndarray and a.dtype == np.float64 and a.flags.c_contiguous
    ]
    if len(fit) != len(arrays) or any(a.shape != fit[0].shape for a in fit):
        return False
    return type(axis) is int and axis in (-1, fit[0].ndim - 1) and fit[0].size >= FUSED_MIN_ENTRIES


def _fused_log_dot(p: ArrayLike, x: ArrayLike) -> NDArray[np.float64] | None:
    """Σ p · log x along the last axis, checking that p and x are distributions on the way.

    The general path makes whole passes over memory: the sums and the minimum of
    each array, then log x, then the dot product. Here each block of rows is
    checked, logged and summed while it is in cache, which makes the checks
    nearly free. Returns None at the first block that is not made of
    distributions (a sum off one, NaN, infinity, a negative entry): the caller
    then takes the general path, whose checks say exactly what is wrong. As
    there, 0 · log x counts as 0 where p = 0. Call it where :func:`_fusable` holds.
    """
    p, x = np.asarray(p), np.asarray(x)  # the same objects: they are float64 arrays
    length = p.shape[-1]
    p2, x2 = p.reshape(-1, length), x.reshape(-1, length)
    tolerance = sum_tolerance(p.dtype, length)
    rows = max(1, BLOCK_ENTRIES // length)
    out = np.empty(p2.shape[0])
    log_x = np.empty((min(rows, p2.shape[0]), length))
    for start in range(0, p2.shape[0], rows):
        pb, xb = p2[start : start + rows], x2[start : start + rows]
        p_smallest = rows_minimum(pb, tolerance)
        if p_smallest is None or (x is not p and rows_minimum(xb, tolerance) is None):
            return None
        logs = _log_where_positive(xb, pb, p_smallest, out=log_x[: len(pb)])
        out[start : start + len(pb)] = _dot_last(pb, logs, -1)
    return out.reshape(p.shape[:-1])


def entropy(p: ArrayLike, *, base: float | None = None, axis: int = -1) -> Result:
    """Shannon entropy H(P) = −Σ P(x) log P(x).

    Parameters
    ----------
    p : array_like
        Probability vector(s) along ``axis``: non-negative, summing to one.
    base : float, optional
        Logarithm base; natural log (nats) when omitted, 2 for bits.
    axis : int, default -1
        The axis that holds the outcomes; other axes are a batch.

    Returns
    -------
    float or ndarray
        The entropy, a float for a single vector.

    Raises
    ------
    ValueError
        If ``p`` is not a distribution along ``axis`` or ``base`` is invalid.

    See Also
    --------
    cross_entropy, kl_divergence, binary_entropy

    Examples
    --------
    >>> from klbook import entropy
    >>> entropy([0.5, 0.5], base=2)
    1.0
    >>> round(entropy([0.9, 0.1]), 6)
    0.325083
    >>> entropy([1.0, 0.0])
    0.0
    """
    scale = log_base(base)
    fused = _fused_log_dot(p, p) if _fusable(axis, p) else None
    if fused is not None:
        h = -fused
    else:
        pa, ax, pmin = distribution(p, "p", axis)
        h = -_dot_last(pa, _log_where_positive(pa, pa, pmin), ax)
    # Each term -p log p is >= 0, so only signed zeros can appear here.
    return scalar_or_array(np.abs(h) / scale)


def cross_entropy(
    p: ArrayLike, q: ArrayLike, *, base: float | None = None, axis: int = -1
) -> Result:
    """Cross-entropy H(P, Q) = −Σ P(x) log Q(x), coding P's outcomes with Q's code.

    Parameters
    ----------
    p : array_like
        The true distribution(s) along ``axis``.
    q : array_like
        The model distribution(s) along ``axis``; broadcast against ``p``.
    base : float, optional
        Logarithm base; natural log (nats) when omitted, 2 for bits.
    axis : int, default -1
        The axis that holds the outcomes.

    Returns
    -------
    float or ndarray
        H(P, Q) = KL(P‖Q) + H(P); ``inf`` where Q gives zero probability to an
        outcome that P can produce.

    Raises
    ------
    ValueError
        If ``p`` or ``q`` is not a distribution, their shapes do not fit, or
        ``base`` is invalid.

    See Also
    --------
    entropy, kl_divergence, klbook.losses.cross_entropy_loss

    Examples
    --------
    >>> from klbook import cross_entropy
    >>> cross_entropy([0.5, 0.5], [0.5, 0.5], base=2)
    1.0
    >>> round(cross_entropy([0.5, 0.5], [0.9, 0.1], base=2), 6)
    1.736966
    >>> cross_entropy([0.5, 0.5], [1.0, 0.0])
    inf
    """
    scale = log_base(base)
    # log q is -inf where q = 0: a term with p > 0 there makes the sum +inf, as it should.
    fused = _fused_log_dot(p, q) if _fusable(axis, p, q) else None
    if fused is not None:
        h = -fused
    else:
        pa, qa, ax, pmin, _ = distribution_pair(p, q, axis)
        h = -_dot_last(pa, _log_where_positive(qa, pa, pmin), ax)
    return scalar_or_array(np.abs(h) / scale)


def kl_divergence(
    p: ArrayLike, q: ArrayLike, *, base: float | None = None, axis: int = -1
) -> Result:
    """Kullback–Leibler divergence KL(P‖Q) = Σ P(x) log(P(x)/Q(x)).

    The first argument is the truth, as in ``scipy.stats.entropy(p, q)``; KL is
    the expected log-likelihood ratio E_P[log P(X)/Q(X)].

    Parameters
    ----------
    p : array_like
        The true distribution(s) P along ``axis``.
    q : array_like
        The model distribution(s) Q along ``axis``; broadcast against ``p``.
    base : float, optional
        Logarithm base; natural log (nats) when omitted, 2 for bits.
    axis : int, default -1
        The axis that holds the outcomes.

    Returns
    -------
    float or ndarray
        KL(P‖Q) ≥ 0, zero exactly when P = Q, ``inf`` where Q(x) = 0 < P(x).

    Raises
    ------
    ValueError
        If ``p`` or ``q`` is not a distribution, their shapes do not fit, or
        ``base`` is invalid.

    See Also
    --------
    entropy, cross_entropy, binary_kl

    Notes
    -----
    Computed as Σ p·log(p/q) with 0·log(0/q) = 0 and +inf where q = 0 < p, as
    :func:`scipy.special.rel_entr` defines the terms.
    Rounding can make a sum of tiny terms fall a hair below zero when P ≈ Q;
    such a result is returned as 0, since KL is never negative (Gibbs'
    inequality).

    Examples
    --------
    >>> from klbook import kl_divergence
    >>> round(kl_divergence([0.5, 0.5], [0.9, 0.1], base=2), 6)
    0.736966
    >>> round(kl_divergence([0.9, 0.1], [0.5, 0.5], base=2), 6)
    0.531004
    >>> kl_divergence([0.5, 0.5], [1.0, 0.0])
    inf
    >>> kl_divergence([[0.5, 0.5], [0.2, 0.8]], [0.5, 0.5]).round(4)
    array([0.    , 0.1927])
    """
    scale = log_base(base)
    pa, qa, ax, pmin, qmin = distribution_pair(p, q, axis)
    if qmin >= TINY_PROBABILITY:
        # Every ratio p/q is finite (p <= 1), so log(p/q) needs one division and one log.
        with np.errstate(divide="ignore", under="ignore"):
            log_ratio = np.divide(pa, qa)
        log_ratio = _log_where_positive(log_ratio, pa, pmin)
    else:
        # q = 0 gives +inf where p > 0; tiny q would overflow p/q, so subtract logs.
        with np.errstate(divide="ignore", invalid="ignore"):
            log_ratio = np.log(pa) - np.log(qa)
        np.copyto(log_ratio, 0.0, where=np.broadcast_to(pa == 0.0, log_ratio.shape))
    d = _dot_last(pa, log_ratio, ax)
    # Rounding can leave a sum of terms of both signs a hair below zero.
    return scalar_or_array(np.maximum(d, 0.0) / scale)


def _binary_pair(p: ArrayLike, q: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    pa = as_probabilities(p, "p")
    qa = as_probabilities(q, "q")
    return broadcast_pair(pa, qa)


def binary_entropy(p: ArrayLike, *, base: float | None = None) -> Result:
    """Entropy of a coin with heads probability ``p``, elementwise.

    H(p) = −p log p − (1 − p) log(1 − p), computed with ``log1p`` so that it
    stays accurate for ``p`` near zero.

    Parameters
    ----------
    p : array_like
        Heads probabilities in [0, 1].
    base : float, optional
        Logarithm base; natural log (nats) when omitted, 2 for bits.

    Returns
    -------
    float or ndarray
        The entropy, maximal (1 bit) at ``p = 0.5`` and 0 at ``p`` = 0 or 1.

    Raises
    ------
    ValueError
        If a value of ``p`` lies outside [0, 1] or is NaN, or ``base`` is invalid.

    Examples
    --------
    >>> from klbook import binary_entropy
    >>> binary_entropy(0.5, base=2)
    1.0
    >>> binary_entropy([0.0, 1.0])
    array([0., 0.])
    """
    scale = log_base(base)
    pa = as_probabilities(p, "p")
    h = -(xlogy(pa, pa) + xlog1py(1.0 - pa, -pa))
    return scalar_or_array(np.abs(h) / scale)


def binary_cross_entropy(p: ArrayLike, q: ArrayLike, *, base: float | None = None) -> Result:
    """Cross-entropy of a coin ``p`` (truth) coded with a coin ``q`` (model).

    H(p, q) = −p log q − (1 − p) log(1 − q), elementwise with broadcasting.
    This takes probabilities; for logits use
    :func:`klbook.losses.cross_entropy_loss`.

    Parameters
    ----------
    p : array_like
        True heads probabilities in [0, 1].
    q : array_like
        Model heads probabilities in [0, 1].
    base : float, optional
        Logarithm base; natural log (nats) when omitted, 2 for bits.

    Returns
    -------
    float or ndarray
        H(p, q); ``inf`` where the model rules out an outcome the truth allows.

    Raises
    ------
    ValueError
        If a value lies outside [0, 1] or is NaN, the shapes do not broadcast,
        or ``base`` is invalid.

    Examples
    --------
    >>> from klbook import binary_cross_entropy
    >>> binary_cross_entropy(0.5, 0.5, base=2)
    1.0
    >>> round(binary_cross_entropy(1.0, 0.8), 6)
    0.223144
    """
    scale = log_base(base)
    pa, qa = _binary_pair(p, q)
    h = -(xlogy(pa, qa) + xlog1py(1.0 - pa, -qa))
    return scalar_or_array(np.abs(h) / scale)


def binary_kl(p: ArrayLike, q: ArrayLike, *, base: float | None = None) -> Result:
    """KL divergence between two coins, KL(Bern(p) ‖ Bern(q)), elementwise.

    KL = p log(p/q) + (1 − p) log((1 − p)/(1 − q)). The two terms have
    opposite signs and nearly cancel when p ≈ q, so it is computed as a sum of
    two terms that are never negative,

        KL = q g((p − q)/q) + (1 − q) g((q − p)/(1 − q)),  g(e) = (1 + e) log(1 + e) − e,

    with a series for g near 0: the result keeps its relative accuracy even
    when KL is of the order (p − q)², and it is accurate for tiny ``p``
    and ``q`` too.

    Parameters
    ----------
    p : array_like
        True heads probabilities in [0, 1].
    q : array_like
        Model heads probabilities in [0, 1].
    base : float, optional
        Logarithm base; natural log (nats) when omitted, 2 for bits.

    Returns
    -------
    float or ndarray
        KL ≥ 0; ``inf`` where the model rules out an outcome the truth allows.

    Raises
    ------
    ValueError
        If a value lies outside [0, 1] or is NaN, the shapes do not broadcast,
        or ``base`` is invalid.

    Examples
    --------
    >>> from klbook import binary_kl
    >>> round(binary_kl(0.5, 0.9, base=2), 6)
    0.736966
    >>> binary_kl(0.3, 0.3)
    0.0
    >>> binary_kl(0.5, 1.0)
    inf
    """
    scale = log_base(base)
    pa, qa = _binary_pair(p, q)
    heads = _kl_term(pa, qa)
    tails = _kl_term(1.0 - pa, 1.0 - qa, qa - pa)
    return scalar_or_array((heads + tails) / scale)


#: Taylor coefficients of g(e) = (1 + e) log(1 + e) − e = Σ_{k≥2} (−1)^k e^k / (k(k − 1)),
#: highest power first, for :func:`numpy.polyval`.
_G_SERIES = np.array([(-1.0) ** k / (k * (k - 1)) for k in range(17, 1, -1)])
#: Where the series replaces the closed form of g (its error there is below 1e-16).
_G_SERIES_RADIUS = 0.1


def _kl_term(
    a: NDArray[np.float64], b: NDArray[np.float64], diff: NDArray[np.float64] | None = None
) -> NDArray[np.float64]:
    """Return a log(a/b) − a + b ≥ 0, one outcome's term: a under the truth, b the model.

    Near a = b this is b g(e) with e = (a − b)/b and g(e) = (1 + e) log(1 + e) − e,
    summed as a series (the closed form would cancel); elsewhere the closed form
    loses at most a few digits' worth of units in the last place. ``diff`` is
    a − b when it is known more accurately than the difference of ``a`` and ``b``
    themselves (for the tails, 1 − p and 1 − q are rounded).
    """
    d = a - b if diff is None else diff
    with np.errstate(all="ignore"):
        e = d / b
        small = np.abs(e) < _G_SERIES_RADIUS
        series = b * np.polyval(np.append(_G_SERIES, [0.0, 0.0]), np.where(small, e, 0.0))
        # a/b would overflow for a tiny b: subtract logs there instead.
        log_ratio = np.where(b >= TINY_PROBABILITY, np.log(a / b), np.log(a) - np.log(b))
        closed = np.where(a > 0.0, a * log_ratio, 0.0) - d
    out = np.where(small, series, closed)
    out = np.where(b == 0.0, np.where(a > 0.0, np.inf, 0.0), out)
    return np.maximum(out, 0.0)
