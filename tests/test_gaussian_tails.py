"""klbook.gaussian at the edges: overflow near the float range, grids that cut off tails,
and reverse KL's several local minima (chapter 5).

High-precision references come from :mod:`decimal` (50 significant digits), which
computes exp and ln to full precision, independently of numpy.
"""

from __future__ import annotations

import math
from decimal import Decimal, localcontext

import numpy as np
import pytest
import scipy.integrate
import scipy.special
import scipy.stats

from klbook import GaussianMixture, fit_gaussian_kl, gaussian_kl, kl_on_grid, vae_kl

FLOAT_MAX = Decimal(np.finfo(np.float64).max.item())


def exact_width_term(t: float) -> Decimal:
    """(e^{2t} − 1)/2 − t to 50 digits: ½(σ² − 1 − log σ²) with log σ² = 2t."""
    with localcontext() as ctx:
        ctx.prec = 50
        two_t = 2 * Decimal(t)
        return (two_t.exp() - 1) / 2 - Decimal(t)


def exact_ratio_kl(r: float) -> Decimal:
    """KL(N(0, r²) ‖ N(0, 1)) = ½(r² − 1) − ln r to 50 digits."""
    with localcontext() as ctx:
        ctx.prec = 50
        big = Decimal(r)
        return (big * big - 1) / 2 - big.ln()


def as_float(value: Decimal) -> float:
    return math.inf if value > FLOAT_MAX else float(value)


# --- overflow: inf only where the true value exceeds the float range ------------------


def test_the_issue_case_is_finite():
    # e^{709.9} overflows; half of it does not: the true value is 1.0107e308
    got = vae_kl(0.0, 709.9, axis=None)
    assert math.isfinite(got)
    assert got == pytest.approx(float(exact_width_term(709.9 / 2)), rel=1e-12, abs=0)
    assert got == pytest.approx(1.0107e308, rel=1e-4, abs=0)


@pytest.mark.parametrize(
    "log_var", [0.25, 1.0, 20.0, 200.0, 700.0, 709.7, 709.78, 709.79, 709.9, 710.2, 710.47]
)
def test_vae_width_term_matches_high_precision(log_var):
    expected = exact_width_term(log_var / 2)
    assert expected < FLOAT_MAX
    # relative accuracy: an ulp or two of e^{2t}, plus 2t·eps where 2t − ln 2 is rounded
    assert vae_kl(0.0, log_var, axis=None) == pytest.approx(float(expected), rel=2e-13, abs=0)


@pytest.mark.parametrize("log_var", [710.48, 711.0, 800.0, 1e6])
def test_vae_kl_is_inf_only_beyond_the_float_range(log_var):
    assert exact_width_term(log_var / 2) > FLOAT_MAX
    assert vae_kl(0.0, log_var, axis=None) == math.inf


def test_the_largest_finite_log_variance():
    # the boundary, found from the exact value: ½e^{2t} = max float at 2t = ln(2·max)
    boundary = float((2 * FLOAT_MAX).ln())
    below, above = boundary - 1e-9, boundary + 1e-9
    assert math.isfinite(vae_kl(0.0, below, axis=None))
    assert vae_kl(0.0, above, axis=None) == math.inf


@pytest.mark.parametrize("ratio", [1.0e154, 1.34e154, 1.5e154, 1.8e154, 1.89e154])
def test_gaussian_kl_of_huge_width_ratios_is_finite(ratio):
    # (σp/σq)² overflows from 1.34e154 on; half of it only from 1.896e154
    expected = exact_ratio_kl(ratio)
    assert expected < FLOAT_MAX
    assert gaussian_kl(0.0, ratio, 0.0, 1.0) == pytest.approx(float(expected), rel=2e-13, abs=0)
    # the same ratio with both widths scaled: σq ≠ 1
    assert gaussian_kl(0.0, ratio * 1e-100, 0.0, 1e-100) == pytest.approx(
        float(expected), rel=2e-13
    )


@pytest.mark.parametrize("ratio", [1.9e154, 1e155, 1e300])
def test_gaussian_kl_is_inf_beyond_the_float_range(ratio):
    assert exact_ratio_kl(ratio) > FLOAT_MAX
    assert gaussian_kl(0.0, ratio, 0.0, 1.0) == math.inf


@pytest.mark.parametrize("z", [1.0e154, 1.5e154, 1.89e154])
def test_huge_mean_differences_are_finite(z):
    # ½z² with z = (μp − μq)/σq: z² overflows first
    with localcontext() as ctx:
        ctx.prec = 50
        expected = float(Decimal(z) * Decimal(z) / 2)
    assert gaussian_kl(z, 1.0, 0.0, 1.0) == pytest.approx(expected, rel=1e-15, abs=0)
    assert vae_kl(z, 0.0, axis=None) == pytest.approx(expected, rel=1e-15, abs=0)
    assert gaussian_kl(1.9e154, 1.0, 0.0, 1.0) == math.inf


def test_the_fix_does_not_change_ordinary_values():
    # away from overflow the result is what the textbook formula gives
    rng = np.random.default_rng(3)
    log_var = rng.uniform(-30, 30, size=2000)
    mu = rng.normal(0, 3, size=2000)
    textbook = 0.5 * (mu**2 + np.exp(log_var) - 1 - log_var)
    got = vae_kl(mu, log_var, axis=None)
    big = np.abs(log_var) > 1  # no cancellation in the textbook formula there
    assert np.allclose(got[big], textbook[big], rtol=1e-13, atol=0)


# --- kl_on_grid refuses a grid that cuts off the integrand's tails --------------------

# Chapter 5's mixture and its forward (moment-matched) fit.
MIX = GaussianMixture(weights=(0.6, 0.4), means=(-2.0, 2.5), sigmas=(0.6, 0.8))
FWD_MU, FWD_SIGMA = MIX.mean, math.sqrt(MIX.var)


_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def _normal_logpdf(x, mu, sigma):
    return -0.5 * ((x - mu) / sigma) ** 2 - math.log(sigma) - _LOG_SQRT_2PI


def _mixture_logpdf(x):
    """log Σ w_k N(x; m_k, s_k²), by log-sum-exp in plain floats (quad calls it often)."""
    terms = [
        math.log(w) + _normal_logpdf(x, m, s)
        for w, m, s in zip(MIX.weights, MIX.means, MIX.sigmas, strict=True)
    ]
    top = max(terms)
    return top + math.log(sum(math.exp(t - top) for t in terms))


def _reverse_kl_quad(mu, sigma):
    """KL(N(mu, sigma²) ‖ MIX) by adaptive quadrature over mu ± 40 sigma."""

    def integrand(x):
        lq = _normal_logpdf(x, mu, sigma)
        return math.exp(lq) * (lq - _mixture_logpdf(x))

    lo, hi = mu - 40 * sigma, mu + 40 * sigma
    value, _ = scipy.integrate.quad(
        integrand, lo, hi, points=[*MIX.means, mu], limit=500, epsabs=1e-13
    )
    return value


def test_the_true_reverse_kl_of_the_forward_fit():
    # the chapter once printed 1.336 from a grid on ±10; the integral is 1.3377
    assert _reverse_kl_quad(FWD_MU, FWD_SIGMA) == pytest.approx(1.33765345, abs=1e-8)


def test_a_narrow_grid_is_refused_naming_x():
    x = np.linspace(-10, 10, 2001)
    lq = scipy.stats.norm.logpdf(x, FWD_MU, FWD_SIGMA)
    # both densities hold their mass on ±10, so the mass check alone would pass ...
    assert abs(np.trapezoid(np.exp(lq), x) - 1) < 1e-4
    # ... but log(q/p) is about 79 at x = -10
    with pytest.raises(ValueError, match=r"^x: the integrand .* at x = -10, .*widen the grid"):
        kl_on_grid(lq, MIX.logpdf(x), x)
    # what it would have returned: 1.3365, not 1.3377
    loose = kl_on_grid(lq, MIX.logpdf(x), x, tail_tol=1.0)
    assert loose == pytest.approx(1.33647, abs=1e-5)


def test_a_wide_grid_is_accepted_and_right():
    x = np.linspace(-20, 20, 4001)
    lq = scipy.stats.norm.logpdf(x, FWD_MU, FWD_SIGMA)
    assert kl_on_grid(lq, MIX.logpdf(x), x) == pytest.approx(
        _reverse_kl_quad(FWD_MU, FWD_SIGMA), abs=1e-7
    )


def test_the_tail_check_looks_at_both_ends():
    # N(0, 1) against a narrower N(3, 0.5): the integrand is large on the left only
    x = np.linspace(-5, 12, 3401)
    lp, lq = scipy.stats.norm.logpdf(x, 0, 1), scipy.stats.norm.logpdf(x, 3, 0.5)
    with pytest.raises(ValueError, match="at x = -5,"):
        kl_on_grid(lp, lq, x)
    # mirrored, the right end is the one named
    with pytest.raises(ValueError, match="at x = 5,"):
        kl_on_grid(lp[::-1], lq[::-1], -x[::-1])


def test_tail_tol_sets_the_threshold():
    x = np.linspace(-15, 15, 3001)
    lq = scipy.stats.norm.logpdf(x, FWD_MU, FWD_SIGMA)
    integrand = np.exp(lq) * (lq - MIX.logpdf(x))
    tail = max(abs(integrand[0]), abs(integrand[-1])) * 30.0
    assert 1e-7 < tail < 1e-4  # accepted by default
    kl_on_grid(lq, MIX.logpdf(x), x)
    kl_on_grid(lq, MIX.logpdf(x), x, tail_tol=tail * 1.01)
    with pytest.raises(ValueError, match="tail_tol"):
        kl_on_grid(lq, MIX.logpdf(x), x, tail_tol=tail * 0.99)


def test_an_infinite_kl_is_not_a_tail_problem():
    # P = U(0, 2) against Q = U(0, 1): q = 0 < p on (1, 2], KL = inf, whatever the ends
    x = np.linspace(-1, 3, 4001)
    lp = np.where((x >= 0) & (x <= 2), -math.log(2), -np.inf)
    lq = np.where((x >= 0) & (x <= 1), 0.0, -np.inf)
    assert kl_on_grid(lp, lq, x, mass_tol=2e-3) == math.inf


@pytest.mark.parametrize("bad", [0.0, -1e-4, math.nan, math.inf, "1e-4", True])
def test_tolerances_must_be_positive_numbers(bad):
    x = np.linspace(-10, 10, 2001)
    lp = scipy.stats.norm.logpdf(x)
    with pytest.raises(ValueError, match="tail_tol must be"):
        kl_on_grid(lp, lp, x, tail_tol=bad)
    with pytest.raises(ValueError, match="mass_tol must be"):
        kl_on_grid(lp, lp, x, mass_tol=bad)


def test_fit_refuses_a_grid_that_cuts_off_the_reverse_integrand():
    # the wide local minimum of reverse KL spills its integrand over a ±7 grid
    x = np.linspace(-7, 7, 1401)
    with pytest.raises(ValueError, match="widen the grid"):
        fit_gaussian_kl(MIX.logpdf, x, "reverse", x0=(0.0, 3.0))


# --- reverse KL is not convex: a third, wide local minimum -----------------------------


def _hessian(f, point, h=1e-4):
    point = np.asarray(point, dtype=float)
    hess = np.zeros((2, 2))
    for i in range(2):
        for j in range(2):
            ei, ej = np.eye(2)[i] * h, np.eye(2)[j] * h
            hess[i, j] = (
                f(point + ei + ej) - f(point + ei - ej) - f(point - ei + ej) + f(point - ei - ej)
            ) / (4 * h * h)
    return hess


def test_the_chapters_mixture_has_a_wide_local_minimum():
    # found by fit_gaussian_kl, confirmed by quadrature (independent of klbook's grid)
    x = np.linspace(-20, 20, 4001)
    wide = fit_gaussian_kl(MIX.logpdf, x, "reverse", x0=(0.0, 3.0))
    assert wide.mu == pytest.approx(0.5667, abs=1e-3)
    assert wide.sigma == pytest.approx(2.0190, abs=1e-3)
    assert wide.kl == pytest.approx(_reverse_kl_quad(wide.mu, wide.sigma), abs=1e-6)
    assert wide.kl == pytest.approx(1.0900, abs=1e-3)

    # a true minimum: by quadrature the gradient in (mu, log sigma) vanishes there and
    # the Hessian is positive definite (eigenvalues about 0.245 and 9.21)
    def objective(theta):
        return _reverse_kl_quad(theta[0], math.exp(theta[1]))

    theta = np.array([wide.mu, math.log(wide.sigma)])
    h = 1e-5
    grad = [(objective(theta + e) - objective(theta - e)) / (2 * h) for e in np.eye(2) * h]
    assert max(abs(g) for g in grad) < 1e-4, grad
    eig = np.linalg.eigvalsh(_hessian(objective, theta))
    assert eig == pytest.approx([0.245, 9.21], abs=0.01)

    # and it is a worse minimum than either one-mode fit
    left = fit_gaussian_kl(MIX.logpdf, x, "reverse", x0=(-1.0, 1.0))
    right = fit_gaussian_kl(MIX.logpdf, x, "reverse", x0=(1.0, 1.0))
    assert left.kl < right.kl < wide.kl


def test_the_symmetric_mixture_has_a_wide_local_minimum_at_zero():
    sym = GaussianMixture((0.5, 0.5), (-3.0, 3.0), (1.0, 1.0))
    x = np.linspace(-20, 20, 4001)
    wide = fit_gaussian_kl(sym.logpdf, x, "reverse", x0=(0.0, 3.0))
    assert wide.mu == pytest.approx(0.0, abs=1e-6)
    assert wide.sigma == pytest.approx(2.7438, abs=1e-3)
    one_mode = fit_gaussian_kl(sym.logpdf, x, "reverse", x0=(-1.0, 1.0))
    assert one_mode.kl < wide.kl
    # the KL rises in every direction from the wide fit
    for d_mu, d_sigma in [(0.05, 0), (-0.05, 0), (0, 0.05), (0, -0.05), (0.05, 0.05)]:
        lq = scipy.stats.norm.logpdf(x, wide.mu + d_mu, wide.sigma + d_sigma)
        assert kl_on_grid(lq, sym.logpdf(x), x) > wide.kl
