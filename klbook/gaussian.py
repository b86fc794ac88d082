"""Gaussian KL in closed form, and the tools for forward and reverse KL fits (chapter 5).

Conventions, as everywhere in the book:

* ``p`` is the truth (or the target) and ``q`` the model; ``gaussian_kl`` with
  the P parameters first is KL(P‖Q).
* Natural logarithms (nats) unless ``base`` is given; ``base=2`` gives bits.
* Standard deviations must be positive and finite, means finite; nothing is
  repaired or normalised silently.
* A 0-d result is returned as a Python ``float``.

Contents: :func:`gaussian_kl` (univariate and diagonal multivariate),
:func:`gaussian_kl_full` (multivariate with full covariance matrices),
:func:`vae_kl` (the KL term of a variational autoencoder),
:class:`GaussianMixture` (a one-dimensional mixture of Gaussians),
:func:`kl_on_grid` (KL between two densities by the trapezoid rule) and
:func:`fit_gaussian_kl` (fit one Gaussian by forward or reverse KL on a grid).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import logsumexp

from klbook._validation import (
    as_distribution,
    as_real_array,
    is_axis_index,
    log_base,
    scalar_or_array,
)

__all__ = [
    "GaussianFit",
    "GaussianMixture",
    "fit_gaussian_kl",
    "gaussian_kl",
    "gaussian_kl_full",
    "kl_on_grid",
    "vae_kl",
]

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)
_LN2 = math.log(2.0)


def _normal_logpdf(x: ArrayLike, mu: ArrayLike, sigma: ArrayLike) -> NDArray[np.float64]:
    """Log-density of N(mu, sigma^2) at x (no validation; callers validate)."""
    z = (np.asarray(x) - mu) / sigma
    return -0.5 * z * z - np.log(sigma) - _LOG_SQRT_2PI


Result = float | NDArray[np.float64]
Axis = int | tuple[int, ...] | None

#: kl_on_grid's default tail_tol, which fit_gaussian_kl applies to its fit.
_DEFAULT_TAIL_TOL = 1e-4

#: Below this |t| the variance term uses its Taylor series (see ``_variance_term``).
_SERIES_CUTOFF = 0.1


# --- validation ----------------------------------------------------------------


def _finite(x: ArrayLike, name: str) -> NDArray[np.float64]:
    arr = as_real_array(x, name)
    if np.isinf(arr).any():
        raise ValueError(f"{name} must be finite, got an infinite value")
    return arr


def _positive(x: ArrayLike, name: str) -> NDArray[np.float64]:
    arr = _finite(x, name)
    if (arr <= 0).any():
        value = float(arr.flat[int(np.argmax(np.ravel(arr <= 0)))])
        raise ValueError(
            f"{name} must be a positive standard deviation, got {value!r}: "
            "a Gaussian needs sigma > 0"
        )
    return arr


def _broadcast(arrays: Sequence[NDArray[np.float64]], names: Sequence[str]) -> list[NDArray]:
    try:
        return list(np.broadcast_arrays(*arrays))
    except ValueError:
        shapes = ", ".join(f"{n} {a.shape}" for n, a in zip(names, arrays, strict=True))
        raise ValueError(f"the shapes do not broadcast: {shapes}") from None


def _check_axis(axis: object) -> Axis:
    """Return ``axis`` as None, an int or a tuple of ints, or raise ValueError.

    Only the type is checked here; the range is checked against the data in
    :func:`_sum_over`. Booleans and floats (even whole ones like 1.0) are
    refused rather than silently read as integers.
    """
    if axis is None:
        return None
    if is_axis_index(axis):
        return int(axis)  # type: ignore[call-overload]
    if isinstance(axis, tuple | list) and all(is_axis_index(a) for a in axis):
        return tuple(int(a) for a in axis)
    raise ValueError(
        f"axis must be None, an integer or a tuple of integers, got {axis!r} "
        f"({type(axis).__name__})"
    )


def _sum_over(values: NDArray[np.float64], axis: Axis) -> NDArray[np.float64]:
    if axis is None:
        return values
    try:
        axes = np.lib.array_utils.normalize_axis_tuple(axis, values.ndim)
    except np.exceptions.AxisError:
        raise ValueError(
            f"axis {axis!r} is out of range for inputs with {values.ndim} dimension(s)"
        ) from None
    except ValueError:  # normalize_axis_tuple: "repeated axis"
        raise ValueError(f"axis {axis!r} repeats an axis; each axis may appear once") from None
    return values.sum(axis=axes)


# --- the closed form -------------------------------------------------------------


def _variance_term(t: NDArray[np.float64]) -> NDArray[np.float64]:
    """Return (e^{2t} − 1)/2 − t, which is ≥ 0, without cancellation near t = 0.

    With t = log(σp/σq) this is the part of KL between two Gaussians that
    comes from their different widths: ½(σp²/σq² − 1) − log(σp/σq).
    For small |t| the two terms nearly cancel, so the Taylor series
    Σ_{k≥2} (2t)^k / (2·k!) = t² + 2t³/3 + t⁴/3 + … is used instead.

    For large t, e^{2t} overflows (t > 354.89) before ½e^{2t} does (t > 355.24):
    there ½e^{2t} is formed as e^{2t − ln 2}, so the result is ``inf`` only where
    the true value exceeds the largest float.
    """
    with np.errstate(over="ignore"):  # the overflows are replaced or real; see above
        direct = 0.5 * np.expm1(2.0 * t) - t
        halved = np.exp(2.0 * t - _LN2) - 0.5 - t
    direct = np.where(np.isinf(direct), halved, direct)
    small = np.abs(t) < _SERIES_CUTOFF
    if small.any():
        ts = np.where(small, t, 0.0)
        u = 2.0 * ts
        # Horner form of sum_{k=2}^{13} u^k / (2 k!): the next term is < 1e-16 of t².
        series = np.zeros_like(u)
        for k in range(13, 1, -1):
            series = (series + 1.0 / (2.0 * math.factorial(k))) * u
        series = series * u
        direct = np.where(small, series, direct)
    return direct


def _log_ratio(sigma_p: NDArray[np.float64], sigma_q: NDArray[np.float64]) -> NDArray:
    """Return log(σp/σq) accurately: through log1p when the two are close."""
    diff = sigma_p - sigma_q  # exact when the two are within a factor of two
    close = np.abs(diff) < 0.5 * sigma_q
    with np.errstate(over="ignore"):  # diff / sigma_q may overflow where it is not used
        near = np.log1p(np.where(close, diff / sigma_q, 0.0))
        far = np.log(sigma_p) - np.log(sigma_q)
    return np.where(close, near, far)


def gaussian_kl(
    mu_p: ArrayLike,
    sigma_p: ArrayLike,
    mu_q: ArrayLike,
    sigma_q: ArrayLike,
    *,
    base: float | None = None,
    axis: Axis = None,
) -> Result:
    """KL(N(μp, σp²) ‖ N(μq, σq²)) in closed form.

    KL = log(σq/σp) + (σp² + (μp − μq)²) / (2σq²) − 1/2.

    Parameters
    ----------
    mu_p, sigma_p : array_like
        Mean and standard deviation (not variance) of P, the truth.
    mu_q, sigma_q : array_like
        Mean and standard deviation of Q, the model. All four broadcast
        against each other.
    base : float, optional
        Logarithm base; natural log (nats) when omitted, 2 for bits.
    axis : int or tuple of int, optional
        Without it the result is elementwise: one univariate KL per broadcast
        element. With it, the elements along ``axis`` are the coordinates of
        a Gaussian with diagonal covariance, and their KLs are summed, since
        the KL of independent coordinates is the sum of their KLs.

    Returns
    -------
    float or ndarray
        KL(P‖Q) ≥ 0, zero exactly when the parameters are equal.

    Raises
    ------
    ValueError
        If a mean is NaN or infinite, a standard deviation is not positive
        and finite, the shapes do not broadcast, ``axis`` is not None, an
        integer or a tuple of integers (``1.0`` and ``True`` are refused), is
        out of range or repeats an axis, or ``base`` is invalid.

    See Also
    --------
    vae_kl, kl_on_grid, klbook.measures.kl_divergence

    Notes
    -----
    The width part ½(σp²/σq² − 1) − log(σp/σq) is computed from
    t = log(σp/σq) as (e^{2t} − 1)/2 − t, with ``log1p`` for t and a Taylor
    series where |t| < 0.1, so the result keeps its relative accuracy when P
    and Q are close (where the textbook formula cancels to rounding noise).
    Every term is then non-negative; a final clip to 0 only guards against
    rounding, since KL is never negative (Gibbs' inequality). Neither term
    forms a square that could overflow before the half of it that the KL
    needs (σp²/σq² and (μp − μq)²/σq² both do for ratios from 1.34e154 to
    1.9e154), so the result is ``inf`` only where the KL exceeds the largest
    float, or where μp − μq itself does.

    Examples
    --------
    >>> from klbook import gaussian_kl
    >>> gaussian_kl(0.0, 1.0, 0.0, 1.0)
    0.0
    >>> gaussian_kl(1.0, 1.0, 0.0, 1.0)   # equal widths: (μp − μq)² / (2σ²)
    0.5
    >>> round(gaussian_kl(0.0, 2.0, 0.0, 1.0), 6), round(gaussian_kl(0.0, 1.0, 0.0, 2.0), 6)
    (0.806853, 0.318147)
    >>> gaussian_kl([0.0, 1.0], [1.0, 1.0], 0.0, 1.0, axis=-1)   # a 2-D diagonal Gaussian
    0.5
    """
    scale = log_base(base)
    axis = _check_axis(axis)
    names = ("mu_p", "sigma_p", "mu_q", "sigma_q")
    mp = _finite(mu_p, "mu_p")
    sp = _positive(sigma_p, "sigma_p")
    mq = _finite(mu_q, "mu_q")
    sq = _positive(sigma_q, "sigma_q")
    mp, sp, mq, sq = _broadcast((mp, sp, mq, sq), names)
    width = _variance_term(_log_ratio(sp, sq))
    with np.errstate(over="ignore"):  # an overflow here is real: the KL exceeds the float range
        z = (mp - mq) / sq
        location = (0.5 * z) * z  # ½z², never forming z², which overflows first
    kl = np.maximum(width + location, 0.0)
    return scalar_or_array(_sum_over(kl, axis) / scale)


def _mean_vector(x: ArrayLike, name: str) -> NDArray[np.float64]:
    arr = _finite(x, name)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(
            f"{name} must be a non-empty one-dimensional vector, got shape {arr.shape}"
        )
    return arr


def _covariance_cholesky(cov: ArrayLike, name: str, d: int) -> NDArray[np.float64]:
    """Return the lower Cholesky factor L (cov = L Lᵀ) of a d × d covariance, or raise."""
    arr = _finite(cov, name)
    if arr.shape != (d, d):
        raise ValueError(f"{name} must be a {d} × {d} matrix to match the means, got {arr.shape}")
    if not np.allclose(arr, arr.T, rtol=0.0, atol=1e-12 * float(np.abs(arr).max())):
        raise ValueError(f"{name} must be symmetric: a covariance matrix equals its transpose")
    try:
        return np.linalg.cholesky(arr)
    except np.linalg.LinAlgError:
        raise ValueError(
            f"{name} must be positive definite (a Cholesky factorisation failed): "
            "every direction needs a positive variance"
        ) from None


def gaussian_kl_full(
    mu_p: ArrayLike,
    cov_p: ArrayLike,
    mu_q: ArrayLike,
    cov_q: ArrayLike,
    *,
    base: float | None = None,
) -> float:
    """KL(N(μp, Σp) ‖ N(μq, Σq)) between two d-dimensional Gaussians with full covariances.

    KL = ½ [tr(Σq⁻¹ Σp) + (μp − μq)ᵀ Σq⁻¹ (μp − μq) − d + log det Σq − log det Σp].

    Parameters
    ----------
    mu_p, cov_p : array_like
        Mean vector (length d) and covariance matrix (d × d, symmetric,
        positive definite) of P, the truth.
    mu_q, cov_q : array_like
        Mean vector and covariance matrix of Q, the model.
    base : float, optional
        Logarithm base; natural log (nats) when omitted, 2 for bits.

    Returns
    -------
    float
        KL(P‖Q) ≥ 0, zero when the means and the covariances are equal (up
        to rounding in the factorisations: of order 1e-30 nats).

    Raises
    ------
    ValueError
        If a mean is not a finite non-empty vector, a covariance is not a
        finite d × d matrix that is symmetric (to 1e-12 of its largest
        entry) and positive definite, the dimensions differ, or ``base`` is
        invalid.

    See Also
    --------
    gaussian_kl : the univariate and diagonal case, to which this reduces.

    Notes
    -----
    With the Cholesky factors Σp = Lp Lpᵀ and Σq = Lq Lqᵀ, let s_i be the
    singular values of A = Lq⁻¹ Lp and v = Lq⁻¹ (μp − μq). Then
    tr(Σq⁻¹ Σp) = Σ s_i² and log det Σp − log det Σq = Σ log s_i², so

        KL = Σ_i [½(s_i² − 1) − log s_i] + ½ vᵀv,

    the same width term as :func:`gaussian_kl`, with s_i in place of σp/σq,
    computed in the same cancellation-free way. For diagonal covariances
    s_i = σp,i/σq,i and v_i = (μp,i − μq,i)/σq,i, which is the sum of
    univariate KLs. For P ≈ Q the textbook formula cancels to rounding
    noise; this form keeps the result's relative accuracy. The matrices are
    factorised once each; nothing is inverted explicitly.

    Examples
    --------
    >>> import numpy as np
    >>> from klbook import gaussian_kl, gaussian_kl_full
    >>> cov = np.array([[1.0, 0.9], [0.9, 1.0]])
    >>> gaussian_kl_full([0.0, 0.0], cov, [0.0, 0.0], cov)
    0.0
    >>> round(gaussian_kl_full([0.0, 0.0], cov, [0.0, 0.0], np.eye(2)), 6)   # ½ log(1/0.19)
    0.830366
    >>> kl_diag = gaussian_kl_full([0.0, 1.0], np.diag([4.0, 1.0]), [0.0, 0.0], np.eye(2))
    >>> kl_diag == gaussian_kl([0.0, 1.0], [2.0, 1.0], 0.0, 1.0, axis=-1)
    True
    """
    scale = log_base(base)
    mp = _mean_vector(mu_p, "mu_p")
    mq = _mean_vector(mu_q, "mu_q")
    if mp.shape != mq.shape:
        raise ValueError(f"mu_p and mu_q must have the same length, got {mp.size} and {mq.size}")
    lp = _covariance_cholesky(cov_p, "cov_p", mp.size)
    lq = _covariance_cholesky(cov_q, "cov_q", mp.size)
    a = np.linalg.solve(lq, lp)  # Lq⁻¹ Lp: the shape of P measured in Q's units
    s = np.linalg.svd(a, compute_uv=False)
    v = np.linalg.solve(lq, mp - mq)
    width = float(np.sum(_variance_term(np.log(s))))
    with np.errstate(over="ignore"):  # an overflow here is real: the KL exceeds the float range
        location = float(np.sum((0.5 * v) * v))
    return max(width + location, 0.0) / scale


def vae_kl(
    mu: ArrayLike, log_var: ArrayLike, *, base: float | None = None, axis: Axis = -1
) -> Result:
    """Return the KL term of a VAE's ELBO, KL(N(μ, σ²) ‖ N(0, 1)), summed over the latent axis.

    KL = ½ Σ (μ² + σ² − 1 − log σ²), with σ² = exp(log_var), as in Kingma
    and Welling (2014, appendix B). Encoders output the log-variance because
    it can be any real number, while σ² must stay positive.

    Parameters
    ----------
    mu : array_like
        Means of the encoder's Gaussian q(z|x), latent coordinates along ``axis``.
    log_var : array_like
        Log-variances log σ² of q(z|x), broadcast against ``mu``.
    base : float, optional
        Logarithm base; natural log (nats) when omitted, 2 for bits.
    axis : int or tuple of int or None, default -1
        The latent axis that is summed over; the other axes are a batch (one
        KL per example). ``None`` gives the elementwise terms. A scalar input
        is one latent coordinate.

    Returns
    -------
    float or ndarray
        The KL term, ≥ 0, zero exactly when μ = 0 and log_var = 0. It equals
        ``gaussian_kl(mu, exp(log_var / 2), 0, 1, axis=axis)``.

    Raises
    ------
    ValueError
        If a value is NaN or infinite, the shapes do not broadcast, ``axis``
        is not None, an integer or a tuple of integers (``1.0`` and ``True``
        are refused), is out of range or repeats an axis, or ``base`` is
        invalid.

    See Also
    --------
    gaussian_kl

    Notes
    -----
    The result is ``inf`` only where the true KL exceeds the largest float:
    σ² = e^{log_var} overflows for log_var > 709.78, but ½σ² is formed
    without it, so log_var up to about 710.47 (and |μ| up to 1.9e154) gives
    a finite KL.

    Examples
    --------
    >>> import numpy as np
    >>> from klbook import vae_kl
    >>> vae_kl([0.0, 0.0], [0.0, 0.0])
    0.0
    >>> vae_kl([[1.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [np.log(4.0), 0.0]]).round(6)
    array([0.5     , 0.806853])
    """
    scale = log_base(base)
    axis = _check_axis(axis)
    m = _finite(mu, "mu")
    lv = _finite(log_var, "log_var")
    m, lv = _broadcast((m, lv), ("mu", "log_var"))
    if axis is not None:
        m, lv = np.atleast_1d(m), np.atleast_1d(lv)
    # ½(σ² − 1 − log σ²) is the width term of gaussian_kl with t = log σ = log_var / 2.
    with np.errstate(over="ignore"):  # an overflow here is real: the KL exceeds the float range
        kl = np.maximum(_variance_term(0.5 * lv) + (0.5 * m) * m, 0.0)
    return scalar_or_array(_sum_over(kl, axis) / scale)


# --- a mixture of Gaussians ------------------------------------------------------


@dataclass(frozen=True)
class GaussianMixture:
    """A one-dimensional mixture of Gaussians, Σ_k w_k N(μ_k, σ_k²).

    Chapter 5 fits a single Gaussian to a two-mode mixture by forward and by
    reverse KL. The parameters are stored as tuples of floats, so a mixture
    is immutable and hashable.

    Parameters
    ----------
    weights : sequence of float
        Mixing weights: non-negative and summing to one (never normalised
        silently).
    means : sequence of float
        Component means, finite.
    sigmas : sequence of float
        Component standard deviations, positive and finite.

    Raises
    ------
    ValueError
        If the weights are not a distribution, a mean is not finite, a
        standard deviation is not positive, or the three lengths differ.

    Examples
    --------
    >>> from klbook import GaussianMixture
    >>> mix = GaussianMixture(weights=(0.5, 0.5), means=(-2.0, 2.0), sigmas=(1.0, 1.0))
    >>> mix.mean, mix.var
    (0.0, 5.0)
    >>> round(mix.pdf(0.0), 6)
    0.053991
    """

    weights: tuple[float, ...]
    means: tuple[float, ...]
    sigmas: tuple[float, ...]

    def __post_init__(self) -> None:
        w = as_distribution(np.ravel(as_real_array(self.weights, "weights")), "weights", -1)
        m = np.ravel(_finite(self.means, "means"))
        s = np.ravel(_positive(self.sigmas, "sigmas"))
        if not (len(w) == len(m) == len(s)):
            raise ValueError(
                f"weights, means and sigmas must have the same length; "
                f"got {len(w)}, {len(m)} and {len(s)}"
            )
        for name, arr in (("weights", w), ("means", m), ("sigmas", s)):
            object.__setattr__(self, name, tuple(float(v) for v in arr))

    @property
    def n_components(self) -> int:
        """Number of components.

        Examples
        --------
        >>> GaussianMixture((0.2, 0.3, 0.5), (-1.0, 0.0, 1.0), (1.0, 1.0, 1.0)).n_components
        3
        """
        return len(self.weights)

    @property
    def mean(self) -> float:
        """Mean of the mixture, Σ w_k μ_k.

        Examples
        --------
        >>> GaussianMixture((0.25, 0.75), (-2.0, 2.0), (1.0, 1.0)).mean
        1.0
        """
        return float(np.dot(self.weights, self.means))

    @property
    def var(self) -> float:
        """Variance of the mixture, Σ w_k (σ_k² + (μ_k − mean)²) (law of total variance).

        Examples
        --------
        >>> GaussianMixture((0.5, 0.5), (-1.0, 1.0), (0.5, 0.5)).var   # 0.25 + 1
        1.25
        """
        w, m, s = (np.asarray(a) for a in (self.weights, self.means, self.sigmas))
        return float(np.sum(w * (s**2 + (m - self.mean) ** 2)))

    def logpdf(self, x: ArrayLike) -> Result:
        """Log-density at ``x``, by log-sum-exp so that it stays finite in the tails.

        Examples
        --------
        >>> mix = GaussianMixture((0.5, 0.5), (-2.0, 2.0), (1.0, 1.0))
        >>> round(mix.logpdf(100.0), 3)  # the density itself underflows to 0 here
        -4803.612
        """
        xa = _finite(x, "x")
        comp = _normal_logpdf(xa[..., None], self.means, self.sigmas)
        with np.errstate(divide="ignore"):  # a zero weight contributes log 0 = -inf
            log_w = np.log(self.weights)
        return scalar_or_array(logsumexp(comp + log_w, axis=-1))

    def pdf(self, x: ArrayLike) -> Result:
        """Density at ``x``.

        Examples
        --------
        >>> mix = GaussianMixture((1.0,), (0.0,), (1.0,))
        >>> round(mix.pdf(0.0), 6)
        0.398942
        """
        return scalar_or_array(np.exp(self.logpdf(x)))

    def sample(self, n: int, rng: np.random.Generator) -> NDArray[np.float64]:
        """Draw ``n`` independent samples: pick a component by weight, then draw from it.

        Parameters
        ----------
        n : int
            Number of samples, ≥ 0.
        rng : numpy.random.Generator
            The source of randomness (never numpy's global state).

        Returns
        -------
        ndarray
            Shape ``(n,)``.

        Examples
        --------
        >>> import numpy as np
        >>> mix = GaussianMixture((0.5, 0.5), (-2.0, 2.0), (1.0, 1.0))
        >>> mix.sample(4, np.random.default_rng(0)).shape
        (4,)
        """
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
            raise ValueError(f"n must be a non-negative integer, got {n!r}")
        if not isinstance(rng, np.random.Generator):
            raise ValueError(
                f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), "
                f"got {type(rng).__name__}"
            )
        k = rng.choice(self.n_components, size=int(n), p=self.weights)
        return rng.normal(np.asarray(self.means)[k], np.asarray(self.sigmas)[k])


# --- KL on a grid, and fitting one Gaussian --------------------------------------


def _grid(x: ArrayLike) -> NDArray[np.float64]:
    xa = _finite(x, "x")
    if xa.ndim != 1 or xa.size < 2:
        raise ValueError(f"x must be a one-dimensional grid of at least 2 points, got {xa.shape}")
    if (np.diff(xa) <= 0).any():
        raise ValueError("x must be strictly increasing")
    return xa


def _log_density(values: ArrayLike, name: str, x: NDArray[np.float64]) -> NDArray[np.float64]:
    arr = as_real_array(values, name)
    if arr.shape != x.shape:
        raise ValueError(f"{name} must have the shape of x, {x.shape}; got {arr.shape}")
    if (arr == np.inf).any():
        raise ValueError(f"{name} contains +inf: a density must be finite")
    return arr


def _kl_integrand(log_p: NDArray[np.float64], log_q: NDArray[np.float64]) -> NDArray[np.float64]:
    """Return p log(p/q) at each grid point, 0 where p = 0 (the convention 0 log 0 = 0)."""
    p = np.exp(log_p)
    with np.errstate(invalid="ignore"):  # -inf - -inf where both are zero; masked below
        return np.where(p > 0, p * (log_p - log_q), 0.0)


def _trapezoid_kl(
    log_p: NDArray[np.float64], log_q: NDArray[np.float64], x: NDArray[np.float64]
) -> float:
    return float(np.trapezoid(_kl_integrand(log_p, log_q), x))


def _check_tails(integrand: NDArray[np.float64], x: NDArray[np.float64], tail_tol: float) -> None:
    """Raise unless the KL integrand at the grid's ends, times its length, is within tail_tol."""
    end = 0 if abs(integrand[0]) >= abs(integrand[-1]) else -1
    tail = abs(float(integrand[end])) * float(x[-1] - x[0])
    if tail > tail_tol:
        raise ValueError(
            f"x: the integrand p log(p/q) is {float(integrand[end]):.3g} at "
            f"x = {float(x[end]):g}, not negligible at the ends of the grid (times the "
            f"grid's length, {tail:.3g} nats > tail_tol = {tail_tol:g}): widen the grid"
        )


def _tolerance(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return float(value)


def kl_on_grid(
    log_p: ArrayLike,
    log_q: ArrayLike,
    x: ArrayLike,
    *,
    base: float | None = None,
    mass_tol: float = 1e-3,
    tail_tol: float = _DEFAULT_TAIL_TOL,
) -> float:
    """KL(P‖Q) = ∫ p log(p/q) dx between two densities, by the trapezoid rule on a grid.

    Parameters
    ----------
    log_p, log_q : array_like
        Log-densities of P (truth) and Q (model) at the points ``x``;
        ``-inf`` marks a zero density.
    x : array_like
        Strictly increasing grid (uniform in the book) that holds nearly all
        of both distributions' mass.
    base : float, optional
        Logarithm base; natural log (nats) when omitted, 2 for bits.
    mass_tol : float, default 1e-3
        How far the trapezoid integral of each density may stray from one.
        A larger miss means the grid is too narrow or too coarse, and the KL
        would be wrong; it is an error rather than a silent renormalisation.
    tail_tol : float, default 1e-4
        How large, in nats, the integrand p log(p/q) at either end of the
        grid may be once multiplied by the grid's length. A larger value
        means the integral is still growing where the grid stops, so the
        tails it leaves out would change the KL. The product is a generous
        yardstick: Gaussian-like tails beyond the grid add far less.

    Returns
    -------
    float
        The estimate, ≥ 0; ``inf`` where q = 0 < p on the grid.

    Raises
    ------
    ValueError
        If the grid is not strictly increasing, a shape differs from the
        grid's, a log-density is NaN or +inf, a density does not integrate
        to one within ``mass_tol``, the integrand is not negligible at the
        ends of ``x`` (``tail_tol``), or a tolerance is not a positive number.

    Notes
    -----
    Discretisation can make the estimate fall a hair below zero when P ≈ Q;
    it is then returned as 0, since KL is never negative.

    A grid can hold nearly all of both densities' mass and still cut off
    part of the KL: where Q is wider than P, log(q/p) grows without bound in
    the tails, so q log(q/p) can matter where q itself is tiny. The
    ``tail_tol`` check catches that.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.stats import norm
    >>> from klbook import gaussian_kl, kl_on_grid
    >>> x = np.linspace(-16, 16, 2001)
    >>> est = kl_on_grid(norm.logpdf(x, 1, 2), norm.logpdf(x, 0, 1), x)
    >>> round(est, 5), round(gaussian_kl(1, 2, 0, 1), 5)
    (1.30685, 1.30685)

    On ±8 both densities hold all but 3e-4 of their mass, but at x = 8 the
    log ratio of the wide P to the narrow Q is about 25 nats:

    >>> x = np.linspace(-8, 8, 1001)
    >>> kl_on_grid(norm.logpdf(x, 1, 2), norm.logpdf(x, 0, 1), x)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: x: the integrand p log(p/q) is 0.011 at x = 8, not negligible ...: widen the grid
    """
    scale = log_base(base)
    mass_tol = _tolerance(mass_tol, "mass_tol")
    tail_tol = _tolerance(tail_tol, "tail_tol")
    xa = _grid(x)
    lp = _log_density(log_p, "log_p", xa)
    lq = _log_density(log_q, "log_q", xa)
    for name, lv in (("log_p", lp), ("log_q", lq)):
        mass = float(np.trapezoid(np.exp(lv), xa))
        if not abs(mass - 1.0) <= mass_tol:
            raise ValueError(
                f"exp({name}) integrates to {mass:.6g} on x, not 1 (tolerance {mass_tol:g}): "
                "widen or refine the grid; klbook does not renormalise"
            )
    integrand = _kl_integrand(lp, lq)
    kl = float(np.trapezoid(integrand, xa))
    if math.isfinite(kl):  # an infinite KL (q = 0 < p) needs no wider grid
        _check_tails(integrand, xa, tail_tol)
    return max(kl, 0.0) / scale


class GaussianFit(NamedTuple):
    """The Gaussian N(mu, sigma²) found by :func:`fit_gaussian_kl`, and its KL in nats.

    A named tuple, so it unpacks as ``mu, sigma, kl = fit``.

    Attributes
    ----------
    mu : float
        Mean of the fitted Gaussian.
    sigma : float
        Standard deviation (not variance) of the fitted Gaussian, > 0.
    kl : float
        The KL the fit reached, in nats, ≥ 0: KL(P‖Q) for a forward fit and
        KL(Q‖P) for a reverse fit, computed on the grid.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.stats import norm
    >>> from klbook import fit_gaussian_kl
    >>> x = np.linspace(-10, 10, 2001)
    >>> fit = fit_gaussian_kl(norm.logpdf(x, 1.0, 0.5), x)   # the target is Gaussian itself
    >>> mu, sigma, kl = fit
    >>> round(mu, 4), round(sigma, 4), round(kl, 8) + 0.0
    (1.0, 0.5, 0.0)
    """

    mu: float
    sigma: float
    kl: float


def fit_gaussian_kl(
    target_logpdf: Callable[[NDArray[np.float64]], ArrayLike] | ArrayLike,
    x: ArrayLike,
    direction: Literal["forward", "reverse"] = "forward",
    *,
    x0: tuple[float, float] | None = None,
) -> GaussianFit:
    """Fit one Gaussian Q = N(μ, σ²) to a target P by minimising KL on a grid.

    ``direction="forward"`` minimises KL(P‖Q), the book's usual order (truth
    first), which makes Q cover all of P's mass: the optimum matches P's mean
    and variance. ``direction="reverse"`` minimises KL(Q‖P), which makes Q
    avoid regions where P is small. Reverse KL is not convex in (μ, σ): for a
    target with several modes it has a local minimum on each well separated
    mode and can have others (for two modes, a wide Gaussian spanning both),
    and the fit returns the one that the optimiser reaches from ``x0``.

    Parameters
    ----------
    target_logpdf : callable or array_like
        The target's log-density: a function of the grid, or its values on
        ``x``.
    x : array_like
        Strictly increasing grid holding nearly all of P's mass and of the
        fitted Q's mass.
    direction : {"forward", "reverse"}, default "forward"
        Which KL to minimise.
    x0 : (float, float), optional
        Starting (μ, σ). By default μ starts at the grid point where P is
        largest and σ at P's standard deviation on the grid.

    Returns
    -------
    GaussianFit
        ``(mu, sigma, kl)``: the fitted parameters and the KL reached, in nats.

    Raises
    ------
    ValueError
        If ``direction`` is unknown, the grid or the target is invalid, P does
        not integrate to one on the grid within 1e-3, ``x0`` has a
        non-positive σ, or the fitted Q has mass outside the grid or a KL
        integrand that the grid cuts off (see Notes).

    Notes
    -----
    The optimiser (Nelder–Mead from :func:`scipy.optimize.minimize`) works on
    (μ, log σ), so σ stays positive. It finds a local minimum, not
    necessarily the global one: forward KL has a single minimum (the
    moments), but reverse KL can have several, so compare fits from a few
    starts ``x0`` and keep the one with the smallest KL.

    The fitted Q is checked as :func:`kl_on_grid` checks its densities: it
    must have all but 1e-3 of its mass on the grid, and the integrand of the
    KL that was minimised must be negligible at the grid's ends (its default
    ``tail_tol``).

    Examples
    --------
    >>> import numpy as np
    >>> from klbook import GaussianMixture, fit_gaussian_kl
    >>> mix = GaussianMixture((0.5, 0.5), (-2.0, 2.0), (0.5, 0.5))
    >>> x = np.linspace(-8, 8, 1601)
    >>> fwd = fit_gaussian_kl(mix.logpdf, x, "forward")
    >>> round(fwd.mu, 3) + 0.0, round(fwd.sigma**2, 3)   # the mixture's moments: 0 and 4.25
    (0.0, 4.25)
    >>> rev = fit_gaussian_kl(mix.logpdf, x, "reverse", x0=(1.0, 1.0))
    >>> round(rev.mu, 2), round(rev.sigma, 2)            # one mode: about N(2, 0.5²)
    (2.0, 0.5)

    Reverse KL has more than one local minimum: a wide start finds a wide
    Gaussian between the modes, with a larger KL than the one-mode fit's:

    >>> x = np.linspace(-12, 12, 2401)
    >>> wide = fit_gaussian_kl(mix.logpdf, x, "reverse", x0=(0.0, 3.0))
    >>> round(abs(wide.mu), 3), round(wide.sigma, 3), round(wide.kl, 3), round(rev.kl, 3)
    (0.0, 1.736, 1.871, 0.693)
    """
    if direction not in ("forward", "reverse"):
        raise ValueError(f"direction must be 'forward' or 'reverse', got {direction!r}")
    xa = _grid(x)
    values = target_logpdf(xa) if callable(target_logpdf) else target_logpdf
    lp = _log_density(values, "target_logpdf", xa)
    p = np.exp(lp)
    mass = float(np.trapezoid(p, xa))
    if not abs(mass - 1.0) <= 1e-3:
        raise ValueError(
            f"the target integrates to {mass:.6g} on x, not 1: widen or refine the grid"
        )
    if x0 is None:
        mean = float(np.trapezoid(xa * p, xa))
        sd = math.sqrt(float(np.trapezoid((xa - mean) ** 2 * p, xa)))
        x0 = (float(xa[int(np.argmax(lp))]), sd)
    mu0, sigma0 = (float(v) for v in x0)
    if not (math.isfinite(mu0) and math.isfinite(sigma0) and sigma0 > 0):
        raise ValueError(f"x0 must be a finite (mu, sigma) with sigma > 0, got {x0!r}")

    def objective(theta: NDArray[np.float64]) -> float:
        lq = _normal_logpdf(xa, theta[0], math.exp(theta[1]))
        kl = _trapezoid_kl(lp, lq, xa) if direction == "forward" else _trapezoid_kl(lq, lp, xa)
        return kl if math.isfinite(kl) else math.inf

    from scipy.optimize import minimize  # imported here: it is slow to import

    res = minimize(
        objective,
        np.array([mu0, math.log(sigma0)]),
        method="Nelder-Mead",
        options={"xatol": 1e-9, "fatol": 1e-13, "maxiter": 4000},
    )
    mu, sigma = float(res.x[0]), math.exp(float(res.x[1]))
    lq = _normal_logpdf(xa, mu, sigma)
    q_mass = float(np.trapezoid(np.exp(lq), xa))
    if abs(q_mass - 1.0) > 1e-3:
        raise ValueError(
            f"the fitted Gaussian N({mu:.4g}, {sigma:.4g}²) has mass {q_mass:.4g} on x: "
            "widen the grid"
        )
    if math.isfinite(res.fun):
        integrand = _kl_integrand(lp, lq) if direction == "forward" else _kl_integrand(lq, lp)
        _check_tails(integrand, xa, _DEFAULT_TAIL_TOL)
    return GaussianFit(mu, sigma, max(float(res.fun), 0.0))
