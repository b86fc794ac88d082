"""Expected values and Monte Carlo estimates of KL (chapter 2).

The expected value of a function ``h`` of a discrete random variable X with
distribution P is the weighted average E_P[h(X)] = Σ h(x) P(x). With
``h = log P/Q`` it is the Kullback–Leibler divergence KL(P‖Q), the expected
log-likelihood ratio. When the sum cannot be done, the average of h over
samples drawn from P estimates it (Monte Carlo), with a standard error that
shrinks like 1/√n.

Conventions, as in :mod:`klbook.measures`:

* ``p`` is the truth and ``q`` the model; estimates are of KL(P‖Q), in nats
  unless ``base`` is given (``base=2`` gives bits).
* An outcome of probability zero contributes nothing to an expectation, even
  where ``h`` is infinite there (the 0 · ∞ = 0 convention that also gives
  0 · log 0 = 0). An infinite value with positive probability makes the
  expectation infinite.
* Invalid input raises :class:`ValueError`; nothing is normalised silently and
  no NaN is returned.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from klbook._validation import (
    as_axis,
    as_counts,
    as_distribution,
    as_real_array,
    log_base,
    scalar_or_array,
)

__all__ = [
    "MonteCarloEstimate",
    "cumulative_mean",
    "expected_value",
    "kl_from_samples",
    "kl_monte_carlo",
    "monte_carlo_mean",
]

Result = float | NDArray[np.float64]


def _sum_shift(n: int) -> int:
    """Return c with 2**c > 2n: a sum of n float64 values times 2**-c cannot overflow.

    Multiplying by a power of two is exact (short of the subnormal range), so
    a sum, a running sum or a mean of the scaled values, scaled back, is
    bit-for-bit what float64 would give if its exponent range were wider.
    """
    return n.bit_length() + 1


def expected_value(values: ArrayLike, probs: ArrayLike, *, axis: int = -1) -> Result:
    """Compute the expected value E_P[h(X)] = Σ h(x_i) P(x_i) of a discrete random variable.

    Parameters
    ----------
    values : array_like
        The values h(x_i) of the function at each outcome, along ``axis``.
        Broadcast against ``probs`` by NumPy's rules (aligned on the trailing
        axes); a scalar is a constant function. Real; ±inf allowed, NaN not.
    probs : array_like
        Probability vector(s) P along ``axis``: non-negative, summing to one.
        Other axes are a batch.
    axis : int, default -1
        The axis that holds the outcomes.

    Returns
    -------
    float or ndarray
        The weighted average, a float for a single distribution.

    Raises
    ------
    ValueError
        If ``axis`` is not an integer; ``probs`` is not a distribution along
        ``axis``; ``values`` is not real, holds NaN or does not broadcast
        against ``probs`` without changing the number of outcomes; or the
        expectation is undefined because both +inf and −inf values have
        positive probability.

    See Also
    --------
    monte_carlo_mean : the estimate of the same quantity from samples.
    klbook.measures.kl_divergence : E_P[log P(X)/Q(X)].

    Notes
    -----
    Outcomes with probability zero are left out of the sum, so an infinite
    value there contributes 0 rather than NaN: this is the convention that
    makes 0 · log 0 = 0, and it means ``expected_value(np.log(p / q), p)``
    equals KL(P‖Q) even where ``p`` has zeros (whenever ``log(p / q)`` is not
    NaN, that is where ``p`` and ``q`` are both zero; put any number there). A
    sum of finite terms too large for float64 overflows to ±inf.

    Examples
    --------
    >>> from klbook import expected_value
    >>> faces = [1, 2, 3, 4, 5, 6]
    >>> expected_value(faces, [1 / 6] * 6)
    3.5
    >>> expected_value(7.0, [0.2, 0.3, 0.5])  # a constant
    7.0
    >>> expected_value([1.0, float("inf")], [1.0, 0.0])  # 0 · inf counts as 0
    1.0
    >>> expected_value([[0, 1], [1, 1]], [0.25, 0.75])  # two functions, one P
    array([0.75, 1.  ])
    """
    axis = as_axis(axis)
    pa = as_distribution(probs, "probs", axis)
    va = as_real_array(values, "values")
    try:
        shape = np.broadcast_shapes(va.shape, pa.shape)
    except ValueError:
        raise ValueError(
            f"values and probs have shapes {va.shape} and {pa.shape}, which do not broadcast"
        ) from None
    if shape[axis] != pa.shape[axis]:
        raise ValueError(
            f"values has {va.shape[axis]} outcomes along axis {axis} but probs has "
            f"{pa.shape[axis]}; they must describe the same outcomes"
        )
    va, pa = np.broadcast_arrays(va, pa)
    counted = pa > 0
    up = np.any(counted & (va == np.inf), axis=axis)
    down = np.any(counted & (va == -np.inf), axis=axis)
    if np.any(up & down):
        raise ValueError(
            "the expectation is undefined: values has both +inf and -inf at outcomes "
            "of positive probability (inf - inf)"
        )
    terms = np.zeros(shape)
    np.multiply(va, pa, out=terms, where=counted)
    with np.errstate(over="ignore"):  # documented: an overflowing sum is ±inf
        total = np.sum(terms, axis=axis)
    return scalar_or_array(total)


def cumulative_mean(values: ArrayLike, *, axis: int = -1) -> NDArray[np.float64]:
    """Compute running means of samples: the mean of the first 1, 2, …, n values.

    The law of large numbers says that, for independent draws from P, this
    sequence converges to E_P[h(X)].

    Parameters
    ----------
    values : array_like
        Sample values h(x_1), …, h(x_n) along ``axis`` (finite, real); other
        axes are independent runs.
    axis : int, default -1
        The axis along which samples accumulate.

    Returns
    -------
    ndarray
        Same shape as ``values``; entry ``i`` along ``axis`` is the mean of the
        first ``i + 1`` values.

    Raises
    ------
    ValueError
        If ``values`` is a scalar, empty along ``axis``, not real, or holds NaN
        or ±inf (an infinite sample makes every later mean infinite or
        undefined; handle it before averaging), or ``axis`` is not an integer
        in range.

    Notes
    -----
    Every mean is finite: where a running sum of huge finite values would
    overflow float64 (as ``1.7e308 + 1.7e308`` does), that part is summed on
    values scaled down by a power of two and scaled back, which is exact, so
    the result is the one float64 would give with a wider exponent range.
    Ordinary inputs take the plain ``cumsum / count`` path unchanged.

    Examples
    --------
    >>> from klbook import cumulative_mean
    >>> cumulative_mean([2, 4, 0, 6])
    array([2., 3., 2., 3.])
    >>> cumulative_mean([[1, 3], [10, 30]])  # one run per row
    array([[ 1.,  2.],
           [10., 20.]])
    >>> cumulative_mean([1.5e308, 1.7e308, -1.7e308]).tolist()  # no overflow to inf
    [1.5e+308, 1.6e+308, 5e+307]
    """
    axis = as_axis(axis)
    va = as_real_array(values, "values")
    if va.ndim == 0:
        raise ValueError("values must have at least one dimension, got a scalar")
    try:
        length = va.shape[axis]
    except IndexError:
        raise ValueError(
            f"axis {axis} is out of range for values with {va.ndim} dimension(s)"
        ) from None
    if length == 0:
        raise ValueError(f"values is empty along axis {axis}")
    if np.isinf(va).any():
        raise ValueError("values contains an infinite value")
    counts = np.arange(1, length + 1, dtype=np.float64).reshape(
        [length if d == axis % va.ndim else 1 for d in range(va.ndim)]
    )
    with np.errstate(over="ignore", invalid="ignore"):  # handled below
        out = np.cumsum(va, axis=axis) / counts
    if np.isfinite(out).all():
        return out
    # A running sum overflowed (values near the float64 limit), so the means
    # after it are ±inf or NaN. Redo the sums on values scaled down by an
    # exact power of two, where they cannot overflow, and scale the means
    # back up; a mean lies between the smallest and largest value so far, so
    # only rounding can push it past the float64 range, and the clip undoes
    # that. Entries that did not overflow keep their value.
    shift = _sum_shift(length)
    with np.errstate(over="ignore"):
        rescued = np.ldexp(np.cumsum(np.ldexp(va, -shift), axis=axis) / counts, shift)
    rescued = np.clip(
        rescued, np.minimum.accumulate(va, axis=axis), np.maximum.accumulate(va, axis=axis)
    )
    return np.where(np.isfinite(out), out, rescued)


@dataclass(frozen=True)
class MonteCarloEstimate:
    """A Monte Carlo estimate: the sample mean, its standard error and the sample size.

    Attributes
    ----------
    estimate : float
        The sample mean (1/n) Σ h(x_j).
    std_error : float
        The estimated standard deviation of ``estimate``: the sample standard
        deviation (with n − 1 in the denominator) divided by √n. ``inf`` when
        n = 1 (one value says nothing about spread) or when ``estimate`` is
        infinite, and finite otherwise (see :func:`monte_carlo_mean`).
    n : int
        The number of samples.

    Examples
    --------
    >>> from klbook import MonteCarloEstimate
    >>> est = MonteCarloEstimate(0.5, 0.01, 1000)
    >>> est
    MonteCarloEstimate(estimate=0.5, std_error=0.01, n=1000)
    >>> est.interval()
    (0.48, 0.52)
    """

    estimate: float
    std_error: float
    n: int

    def interval(self, z: float = 2.0) -> tuple[float, float]:
        """Return the interval ``(estimate − z·std_error, estimate + z·std_error)``.

        With ``z = 2`` this covers the true value in about 95 % of runs when n
        is large (central limit theorem).

        Parameters
        ----------
        z : float, default 2.0
            Half-width in standard errors, finite and ≥ 0.

        Returns
        -------
        (float, float)
            The lower and upper ends. An infinite ``estimate`` gives
            ``(estimate, estimate)``; an infinite ``std_error`` (n = 1) gives
            ``(-inf, inf)`` for z > 0; ``z = 0`` gives ``(estimate, estimate)``.
            Never NaN.

        Raises
        ------
        ValueError
            If ``z`` is negative or not a finite real number.

        Examples
        --------
        >>> from klbook import MonteCarloEstimate
        >>> est = MonteCarloEstimate(1.0, 0.25, 100)
        >>> est.interval()
        (0.5, 1.5)
        >>> est.interval(1)
        (0.75, 1.25)
        >>> MonteCarloEstimate(3.0, float("inf"), 1).interval()  # one sample: no spread known
        (-inf, inf)
        """
        if isinstance(z, bool) or not isinstance(z, int | float) or not math.isfinite(z) or z < 0:
            raise ValueError(f"z must be a finite non-negative number, got {z!r}")
        if math.isinf(self.estimate) or (z == 0 and math.isinf(self.std_error)):
            return (self.estimate, self.estimate)  # not 0 · inf = NaN
        half = z * self.std_error
        return (self.estimate - half, self.estimate + half)

    def __repr__(self) -> str:
        return (
            f"MonteCarloEstimate(estimate={self.estimate:.6g}, "
            f"std_error={self.std_error:.3g}, n={self.n})"
        )


def monte_carlo_mean(values: ArrayLike) -> MonteCarloEstimate:
    """Estimate E_P[h(X)] by the mean of samples h(x_1), …, h(x_n), with its standard error.

    Parameters
    ----------
    values : array_like
        A one-dimensional, non-empty array of sample values h(x_j), with x_j
        drawn independently from P. ±inf is allowed (not both signs), NaN not.

    Returns
    -------
    MonteCarloEstimate
        The mean, the standard error s/√n (s the sample standard deviation)
        and n. An infinite sample makes the estimate infinite and the
        standard error ``inf``; with n = 1 the standard error is ``inf``.
        Otherwise both are finite, however large the values (see Notes).

    Raises
    ------
    ValueError
        If ``values`` is not a non-empty 1-d array of real numbers, holds NaN,
        or holds both +inf and −inf.

    See Also
    --------
    expected_value : the exact weighted average.
    cumulative_mean : the running means of the same samples.

    Notes
    -----
    The mean and standard deviation are NumPy's ``np.mean`` and
    ``np.std(ddof=1)``. Only where those overflow float64 on finite values
    (sums or squares beyond about 1.8e308, e.g. two samples of 1.7e308) are
    they recomputed on values scaled by a power of two, which is exact, and
    scaled back. The results stay finite: the mean lies between the smallest
    and the largest value, and for values in [−M, M] the standard error is
    at most M/√(n − 1) ≤ M, even where s itself would exceed the float64
    range. Ordinary inputs never take that path, so their results are
    exactly NumPy's.

    Examples
    --------
    >>> from klbook import monte_carlo_mean
    >>> monte_carlo_mean([1.0, 3.0])
    MonteCarloEstimate(estimate=2, std_error=1, n=2)
    >>> monte_carlo_mean([1.7e308, 1.7e308])  # the sum overflows, the mean does not
    MonteCarloEstimate(estimate=1.7e+308, std_error=0, n=2)
    >>> est = monte_carlo_mean([1e200, -1e200])  # squares overflow; s/√n = 1e200
    >>> est.estimate, f"{est.std_error:.6g}"
    (0.0, '1e+200')
    """
    va = as_real_array(values, "values")
    if va.ndim != 1:
        raise ValueError(f"values must be one-dimensional, got shape {va.shape}")
    n = va.size
    if n == 0:
        raise ValueError("values is empty: a Monte Carlo estimate needs at least one sample")
    has_up = bool(np.any(va == np.inf))
    has_down = bool(np.any(va == -np.inf))
    if has_up and has_down:
        raise ValueError("values has both +inf and -inf: the mean is undefined (inf - inf)")
    if has_up or has_down:
        return MonteCarloEstimate(math.inf if has_up else -math.inf, math.inf, n)
    with np.errstate(over="ignore", invalid="ignore"):  # handled below
        mean = float(np.mean(va))
    if not math.isfinite(mean):
        mean = _rescued_mean(va)
    if n == 1:
        return MonteCarloEstimate(mean, math.inf, 1)
    with np.errstate(over="ignore", invalid="ignore"):  # handled below
        std = float(np.std(va, ddof=1))
    if math.isfinite(std):
        std_error = std / math.sqrt(n)
    else:
        std_error = _rescued_std_error(va)
    return MonteCarloEstimate(mean, std_error, n)


def _rescued_mean(va: NDArray[np.float64]) -> float:
    """Return the mean of finite values whose float64 sum overflows.

    The sum is taken of the values times 2**-c, which cannot overflow and is
    exact (a power of two), and the mean scaled back. The clip to [min, max],
    where every mean lies, only undoes rounding at the very top of the range
    (it keeps ``math.ldexp`` from overflowing).
    """
    shift = _sum_shift(va.size)
    scaled = np.ldexp(va, -shift)
    mean = min(max(float(np.mean(scaled)), float(scaled.min())), float(scaled.max()))
    return math.ldexp(mean, shift)


def _rescued_std_error(va: NDArray[np.float64]) -> float:
    """Return s/√n for finite values whose squared deviations overflow float64.

    The values are scaled by a power of two so that the largest |value| is
    below 1, which keeps every squared deviation below 4. With all values in
    [−M, M], s/√n ≤ M/√(n − 1) ≤ M, so the scaled-back result is finite; the
    clip to M only undoes rounding at the very top of the float64 range.
    """
    fraction, exponent = math.frexp(float(np.max(np.abs(va))))  # M = f · 2**e, ½ ≤ f < 1
    se = float(np.std(np.ldexp(va, -exponent), ddof=1)) / math.sqrt(va.size)
    return math.ldexp(min(se, fraction), exponent)


def _pair_1d(p: ArrayLike, q: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    pa = as_distribution(p, "p", -1)
    qa = as_distribution(q, "q", -1)
    for name, arr in (("p", pa), ("q", qa)):
        if arr.ndim != 1:
            raise ValueError(f"{name} must be a single probability vector, got shape {arr.shape}")
    if pa.size != qa.size:
        raise ValueError(
            f"p and q must have the same number of outcomes; got {pa.size} and {qa.size}"
        )
    return pa, qa


def kl_from_samples(
    samples: ArrayLike, p: ArrayLike, q: ArrayLike, *, base: float | None = None
) -> MonteCarloEstimate:
    """Monte Carlo estimate of KL(P‖Q) from outcomes already drawn from P.

    The estimate is the mean log-likelihood ratio (1/n) Σ log P(x_j)/Q(x_j),
    the sample version of KL(P‖Q) = E_P[log P(X)/Q(X)].

    Parameters
    ----------
    samples : array_like of int
        Outcome indices x_1, …, x_n in 0..m−1, drawn independently from P.
    p : array_like
        The true distribution P over m outcomes (a single vector).
    q : array_like
        The model distribution Q over the same m outcomes.
    base : float, optional
        Logarithm base; natural log (nats) when omitted, 2 for bits.

    Returns
    -------
    MonteCarloEstimate
        The estimate, its standard error and n. If a sample lands on an
        outcome where Q is zero, its log ratio is +inf and so is the estimate
        (and its standard error).

    Raises
    ------
    ValueError
        If ``p`` or ``q`` is not a single distribution, they differ in length,
        ``samples`` is not a non-empty 1-d array of indices in range, a sample
        has probability zero under P (it cannot have been drawn from P), or
        ``base`` is invalid.

    See Also
    --------
    kl_monte_carlo : draws the samples too.
    klbook.measures.kl_divergence : the exact value.

    Examples
    --------
    >>> from klbook import kl_from_samples
    >>> est = kl_from_samples([0, 0, 1, 0], [0.75, 0.25], [0.5, 0.5], base=2)
    >>> est.n, round(est.estimate, 6)  # (3 log2(0.75/0.5) + log2(0.25/0.5)) / 4
    (4, 0.188722)
    """
    scale = log_base(base)
    pa, qa = _pair_1d(p, q)
    xs = as_counts(samples, "samples")
    if xs.ndim != 1:
        raise ValueError(f"samples must be one-dimensional, got shape {xs.shape}")
    if xs.size == 0:
        raise ValueError("samples is empty: a Monte Carlo estimate needs at least one sample")
    if (xs >= pa.size).any():
        raise ValueError(
            f"samples must be outcome indices in 0..{pa.size - 1}; got {int(xs.max())}"
        )
    px = pa[xs]
    if (px == 0).any():
        bad = int(xs[np.argmax(px == 0)])
        raise ValueError(
            f"samples contains outcome {bad}, which has probability 0 under p: "
            "the samples must be drawn from P"
        )
    qx = qa[xs]
    llr = np.full(xs.shape, np.inf)
    hit = qx > 0
    llr[hit] = (np.log(px[hit]) - np.log(qx[hit])) / scale
    return monte_carlo_mean(llr)


def _check_n(n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, Integral):
        raise ValueError(f"n must be a positive integer (number of samples), got {n!r}")
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n!r}")
    return int(n)


def kl_monte_carlo(
    p: ArrayLike,
    q: ArrayLike,
    n: int,
    rng: np.random.Generator,
    *,
    base: float | None = None,
) -> MonteCarloEstimate:
    """Estimate KL(P‖Q) by drawing ``n`` outcomes from P and averaging log P/Q.

    Parameters
    ----------
    p : array_like
        The true distribution P over m outcomes (a single vector); the
        samples are drawn from it.
    q : array_like
        The model distribution Q over the same m outcomes.
    n : int
        Number of samples, at least 1.
    rng : numpy.random.Generator
        The source of randomness, e.g. ``np.random.default_rng(seed)``; the
        result is reproducible for a seeded generator.
    base : float, optional
        Logarithm base; natural log (nats) when omitted, 2 for bits.

    Returns
    -------
    MonteCarloEstimate
        The estimate of KL(P‖Q), its standard error and ``n``. The estimate
        is unbiased, and its standard error shrinks like 1/√n.

    Raises
    ------
    ValueError
        If ``p`` or ``q`` is not a single distribution or they differ in
        length, ``n`` is not a positive integer, ``rng`` is not a NumPy
        ``Generator``, or ``base`` is invalid.

    See Also
    --------
    kl_from_samples : the same estimate from samples you already have.
    klbook.measures.kl_divergence : the exact value.

    Notes
    -----
    Where Q(x) = 0 < P(x), KL(P‖Q) is infinite. The estimate is +inf as soon
    as one sample lands on such an outcome; if P gives it so little
    probability that none of the ``n`` samples does, the estimate is finite
    and misleading. Monte Carlo only sees the outcomes it draws: compare the
    supports of P and Q first when you can.

    Examples
    --------
    >>> import numpy as np
    >>> from klbook import kl_divergence, kl_monte_carlo
    >>> p, q = [0.5, 0.3, 0.2], [0.2, 0.3, 0.5]
    >>> est = kl_monte_carlo(p, q, 100_000, np.random.default_rng(0))
    >>> lo, hi = est.interval(4)
    >>> bool(lo < kl_divergence(p, q) < hi)
    True
    >>> kl_monte_carlo([0.5, 0.5], [1.0, 0.0], 50, np.random.default_rng(0)).estimate
    inf
    """
    log_base(base)  # validate before drawing
    pa, qa = _pair_1d(p, q)
    size = _check_n(n)
    if not isinstance(rng, np.random.Generator):
        raise ValueError(
            "rng must be a numpy.random.Generator (use np.random.default_rng(seed)), "
            f"got {type(rng).__name__}"
        )
    samples = rng.choice(pa.size, size=size, p=pa)
    return kl_from_samples(samples, pa, qa, base=base)
