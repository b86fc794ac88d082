"""klbook.gaussian: closed-form Gaussian KL, the VAE term, the mixture, grid KL and fits."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.integrate
import scipy.stats
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import klbook
from klbook import (
    GaussianFit,
    GaussianMixture,
    fit_gaussian_kl,
    gaussian_kl,
    kl_on_grid,
    vae_kl,
)

from . import exact

means = st.floats(-20.0, 20.0, allow_nan=False)
sigmas = st.floats(0.05, 20.0, allow_nan=False)
LN2 = math.log(2)


def quad_kl(mu_p, sigma_p, mu_q, sigma_q):
    """KL(P||Q) = ∫ p log(p/q) by adaptive quadrature, from scipy's own densities."""
    p = scipy.stats.norm(mu_p, sigma_p)
    q = scipy.stats.norm(mu_q, sigma_q)

    def integrand(x):
        return p.pdf(x) * (p.logpdf(x) - q.logpdf(x))

    lo, hi = mu_p - 30 * sigma_p, mu_p + 30 * sigma_p
    value, _ = scipy.integrate.quad(integrand, lo, hi, points=[mu_p], limit=200)
    return value


# --- gaussian_kl: known values and cross-checks ------------------------------------


def test_equal_parameters_give_zero():
    assert gaussian_kl(0.3, 1.7, 0.3, 1.7) == 0.0


def test_equal_widths_give_squared_distance():
    # log(σ/σ) = 0 and σ²/(2σ²) − 1/2 = 0 leave (μp − μq)²/(2σ²)
    assert gaussian_kl(1.0, 2.0, -1.0, 2.0) == pytest.approx(4.0 / 8.0, rel=1e-15, abs=0)


def test_equal_means_depend_on_the_ratio_only():
    r = 3.0
    expected = 0.5 * (r**2 - 1) - math.log(r)
    assert gaussian_kl(5.0, 3.0, 5.0, 1.0) == pytest.approx(expected, rel=1e-14, abs=0)
    assert gaussian_kl(0.0, 6.0, 0.0, 2.0) == pytest.approx(expected, rel=1e-14, abs=0)


def test_the_textbook_formula_far_from_equal():
    mp, sp, mq, sq = 1.5, 0.7, -0.4, 2.3
    textbook = math.log(sq / sp) + (sp**2 + (mp - mq) ** 2) / (2 * sq**2) - 0.5
    assert gaussian_kl(mp, sp, mq, sq) == pytest.approx(textbook, rel=1e-13, abs=0)
    assert gaussian_kl(mp, sp, mq, sq) == pytest.approx(
        exact.gaussian_kl(mp, sp, mq, sq), rel=1e-15, abs=0
    )


@pytest.mark.parametrize(
    ("mp", "sp", "mq", "sq"),
    [(0, 1, 0, 2), (0, 2, 0, 1), (1, 1, 0, 1), (-3, 0.5, 2, 4), (0.2, 1.1, 0.0, 1.0)],
)
def test_matches_quadrature(mp, sp, mq, sq):
    assert gaussian_kl(mp, sp, mq, sq) == pytest.approx(quad_kl(mp, sp, mq, sq), rel=1e-8, abs=0)


@settings(max_examples=30)  # each example runs an adaptive quadrature
@given(means, sigmas, means, sigmas)
def test_matches_quadrature_property(mp, sp, mq, sq):
    expected = quad_kl(mp, sp, mq, sq)
    assert gaussian_kl(mp, sp, mq, sq) == pytest.approx(expected, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize(("mp", "sp", "mq", "sq"), [(0, 1, 1, 2), (2, 0.5, 0, 1), (0, 3, 0, 1)])
def test_matches_monte_carlo_within_four_standard_errors(mp, sp, mq, sq):
    rng = np.random.default_rng(20260520)
    x = rng.normal(mp, sp, size=200_000)
    log_ratio = scipy.stats.norm.logpdf(x, mp, sp) - scipy.stats.norm.logpdf(x, mq, sq)
    estimate = log_ratio.mean()
    se = log_ratio.std(ddof=1) / math.sqrt(x.size)
    assert abs(gaussian_kl(mp, sp, mq, sq) - estimate) < 4 * se


def test_accurate_when_p_and_q_are_close():
    # KL of N(0, σ²) from N(0, 1) is t² + 2t³/3 + O(t⁴) with t = log σ. The width passed
    # in is the float σ = 1.0 + ε, not 1 + ε: its log is not log1p(ε) (1.65e-7 apart,
    # relatively, at ε = 1e-9), so the reference is computed from that float exactly.
    # abs=0 throughout: these KLs are 1e-8 to 1e-18, below pytest.approx's default 1e-12.
    for eps in (1e-4, 1e-6, 1e-9, 1e-12, -1e-6, 2.0**-52):
        sigma = 1.0 + eps
        want = exact.gaussian_kl(0.0, sigma, 0.0, 1.0)
        assert gaussian_kl(0.0, sigma, 0.0, 1.0) == pytest.approx(want, rel=1e-14, abs=0)
        assert gaussian_kl(0.0, 1.0, 0.0, sigma) == pytest.approx(
            exact.gaussian_kl(0.0, 1.0, 0.0, sigma), rel=1e-14, abs=0
        )
        t = math.log(sigma)  # exact to rounding here, since σ is exactly representable
        assert want == pytest.approx(t**2 + 2 * t**3 / 3 + t**4 / 3, rel=1e-10, abs=0)
    # a tiny shift of the mean: δ²/2 exactly, not rounding noise
    assert gaussian_kl(1e-8, 1.0, 0.0, 1.0) == pytest.approx(
        exact.gaussian_kl(1e-8, 1.0, 0.0, 1.0), rel=1e-15, abs=0
    )
    assert gaussian_kl(1e-8, 1.0, 0.0, 1.0) == pytest.approx(0.5e-16, rel=1e-15, abs=0)


@given(means, sigmas, means, sigmas)
def test_matches_an_exact_decimal_reference(mp, sp, mq, sq):
    # the closed form keeps its relative accuracy everywhere, not only near P = Q
    want = exact.gaussian_kl(mp, sp, mq, sq)
    assert gaussian_kl(mp, sp, mq, sq) == pytest.approx(want, rel=1e-13, abs=0)


@given(means, sigmas, st.floats(-1e-3, 1e-3), st.floats(-1e-3, 1e-3))
def test_keeps_its_relative_accuracy_when_p_and_q_nearly_agree(mp, sp, shift, stretch):
    # the widths within 0.1 %: the Taylor series of the width term, and the log1p of the ratio
    mq, sq = mp + shift * sp, sp * (1 + stretch)
    want = exact.gaussian_kl(mp, sp, mq, sq)
    assert gaussian_kl(mp, sp, mq, sq) == pytest.approx(want, rel=1e-13, abs=0)
    assert gaussian_kl(mq, sq, mp, sp) == pytest.approx(
        exact.gaussian_kl(mq, sq, mp, sp), rel=1e-13, abs=0
    )


def test_series_and_direct_branches_agree_at_the_cutoff():
    # t = log(σp/σq) just below and above 0.1 use the two branches
    s_lo, s_hi = math.exp(0.1 - 1e-9), math.exp(0.1 + 1e-9)
    lo, hi = gaussian_kl(0, s_lo, 0, 1), gaussian_kl(0, s_hi, 0, 1)
    assert lo < hi
    assert hi - lo == pytest.approx(2e-9 * (math.exp(0.2) - 1), rel=1e-4, abs=0)
    # each side matches the exact value, whichever branch computes it
    for s in (s_lo, s_hi, math.exp(-0.1 + 1e-9), math.exp(-0.1 - 1e-9)):
        assert gaussian_kl(0, s, 0, 1) == pytest.approx(
            exact.gaussian_kl(0, s, 0, 1), rel=1e-14, abs=0
        )


def test_extreme_width_ratios_stay_finite_or_inf_without_nan():
    assert gaussian_kl(0, 1e-200, 0, 1) == pytest.approx(200 * math.log(10) - 0.5, rel=1e-14, abs=0)
    assert gaussian_kl(0, 1e200, 0, 1) == math.inf
    # no overflow warning escapes (pytest turns klbook's RuntimeWarnings into errors)
    assert gaussian_kl(0, 1e300, 0, 1e-300) == math.inf
    assert gaussian_kl(1e308, 1, -1e308, 1) == math.inf
    assert gaussian_kl(0, 1e-300, 0, 1e300) == pytest.approx(
        600 * math.log(10) - 0.5, rel=1e-14, abs=0
    )


def test_broadcasting_and_diagonal_sum():
    mp = np.array([[0.0, 1.0, -1.0], [0.5, 0.5, 0.5]])
    got = gaussian_kl(mp, 1.5, 0.0, [1.0, 2.0, 0.5])
    assert got.shape == (2, 3)
    for i in range(2):
        for j, sq in enumerate([1.0, 2.0, 0.5]):
            assert got[i, j] == pytest.approx(
                exact.gaussian_kl(mp[i, j], 1.5, 0.0, sq), rel=1e-15, abs=0
            )
    diag = gaussian_kl(mp, 1.5, 0.0, [1.0, 2.0, 0.5], axis=-1)
    np.testing.assert_allclose(diag, got.sum(axis=-1), rtol=1e-14, atol=0)
    assert gaussian_kl(mp, 1.5, 0.0, 1.0, axis=(0, 1)) == pytest.approx(
        float(gaussian_kl(mp, 1.5, 0.0, 1.0).sum()), rel=1e-14, abs=0
    )


def test_diagonal_gaussian_matches_monte_carlo():
    rng = np.random.default_rng(7)
    mp, sp = np.array([0.0, 1.0, -2.0]), np.array([1.0, 0.5, 2.0])
    mq, sq = np.array([0.5, 0.0, -1.0]), np.array([1.5, 1.0, 1.0])
    x = rng.normal(mp, sp, size=(200_000, 3))
    log_ratio = (scipy.stats.norm.logpdf(x, mp, sp) - scipy.stats.norm.logpdf(x, mq, sq)).sum(1)
    se = log_ratio.std(ddof=1) / math.sqrt(len(x))
    assert abs(gaussian_kl(mp, sp, mq, sq, axis=-1) - log_ratio.mean()) < 4 * se
    # and against scipy's multivariate normal with diagonal covariance
    lp = scipy.stats.multivariate_normal(mp, np.diag(sp**2)).logpdf(x[:1000])
    lq = scipy.stats.multivariate_normal(mq, np.diag(sq**2)).logpdf(x[:1000])
    assert np.allclose(lp - lq, log_ratio[:1000], rtol=1e-10, atol=1e-10)


def test_bits_and_types():
    nats = gaussian_kl(0.0, 2.0, 1.0, 1.0)
    assert type(nats) is float
    assert gaussian_kl(0.0, 2.0, 1.0, 1.0, base=2) == pytest.approx(nats / LN2, rel=1e-15, abs=0)
    assert isinstance(gaussian_kl([0.0], 1.0, 0.0, 1.0), np.ndarray)


# --- gaussian_kl: properties -------------------------------------------------------


@given(means, sigmas, means, sigmas)
def test_non_negative(mp, sp, mq, sq):
    assert gaussian_kl(mp, sp, mq, sq) >= 0.0


@given(means, sigmas, means, sigmas)
def test_zero_only_for_equal_parameters(mp, sp, mq, sq):
    # a KL below the smallest float (means 1e-200 apart, say) rounds to 0; keep clear of that
    assume(mp == mq or abs(mp - mq) / sq > 1e-150)
    kl = gaussian_kl(mp, sp, mq, sq)
    if (mp, sp) == (mq, sq):
        assert kl == 0.0
    else:
        assert kl > 0.0


@given(means, sigmas, sigmas)
def test_scale_and_shift_invariance(shift, sp, sq):
    # KL does not change when both Gaussians are shifted or scaled together
    kl = gaussian_kl(0.3, sp, -0.2, sq)
    assert gaussian_kl(0.3 + shift, sp, -0.2 + shift, sq) == pytest.approx(kl, rel=1e-9, abs=1e-12)
    assert gaussian_kl(0.6, 2 * sp, -0.4, 2 * sq) == pytest.approx(kl, rel=1e-9, abs=1e-12)


@given(st.lists(st.tuples(means, sigmas, means, sigmas), min_size=1, max_size=5))
def test_diagonal_is_sum_of_univariate(rows):
    mp, sp, mq, sq = (np.array(c) for c in zip(*rows, strict=True))
    total = gaussian_kl(mp, sp, mq, sq, axis=0)
    parts = sum(gaussian_kl(*r) for r in rows)
    assert total == pytest.approx(parts, rel=1e-12, abs=1e-300)


# --- gaussian_kl: bad input --------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((0.0, 0.0, 0.0, 1.0), "sigma_p must be a positive"),
        ((0.0, 1.0, 0.0, -1.0), "sigma_q must be a positive"),
        ((0.0, math.inf, 0.0, 1.0), "sigma_p must be finite"),
        ((math.nan, 1.0, 0.0, 1.0), "mu_p contains NaN"),
        ((0.0, 1.0, math.inf, 1.0), "mu_q must be finite"),
        ((0.0, 1.0, 0.0, math.nan), "sigma_q contains NaN"),
        (([0.0, 1.0], 1.0, [0.0, 1.0, 2.0], 1.0), "do not broadcast"),
        (("a", 1.0, 0.0, 1.0), "mu_p must be an array of real numbers"),
    ],
)
def test_gaussian_kl_rejects_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        gaussian_kl(*args)


def test_gaussian_kl_rejects_bad_axis_and_base():
    with pytest.raises(ValueError, match="axis 1 is out of range"):
        gaussian_kl([0.0, 1.0], 1.0, 0.0, 1.0, axis=1)
    with pytest.raises(ValueError, match="axis"):
        gaussian_kl(0.0, 1.0, 0.0, 1.0, axis=0)
    with pytest.raises(ValueError, match="base"):
        gaussian_kl(0.0, 1.0, 0.0, 1.0, base=1)


NON_INTEGER_AXES = [1.0, -1.0, np.float64(0.0), "0", True, False, (0, 1.0), (True,), 1j, {0}]


@pytest.mark.parametrize("axis", NON_INTEGER_AXES)
def test_gaussian_kl_rejects_non_integer_axis(axis):
    # a ValueError that names the argument, not a TypeError or "out of range"
    with pytest.raises(ValueError, match="axis must be None, an integer or a tuple of integers"):
        gaussian_kl([[0.0, 1.0]], 1.0, 0.0, 1.0, axis=axis)


def test_gaussian_kl_axis_float_message_is_not_out_of_range():
    with pytest.raises(ValueError) as info:
        gaussian_kl([0.0, 1.0], 1.0, 0.0, 1.0, axis=1.0)
    assert "out of range" not in str(info.value)
    assert "axis" in str(info.value) and "1.0" in str(info.value)


def test_gaussian_kl_accepts_integer_axes():
    mp = np.array([[0.0, 1.0], [2.0, 0.0]])
    want = gaussian_kl(mp, 1.0, 0.0, 1.0, axis=1)
    np.testing.assert_array_equal(gaussian_kl(mp, 1.0, 0.0, 1.0, axis=np.int64(1)), want)
    np.testing.assert_array_equal(gaussian_kl(mp, 1.0, 0.0, 1.0, axis=(np.int32(1),)), want)
    assert gaussian_kl(mp, 1.0, 0.0, 1.0, axis=(0, 1)) == 2.5
    np.testing.assert_array_equal(
        gaussian_kl(mp, 1.0, 0.0, 1.0, axis=None), gaussian_kl(mp, 1.0, 0.0, 1.0)
    )


def test_gaussian_kl_rejects_repeated_axis():
    with pytest.raises(ValueError, match=r"axis \(1, -1\) repeats an axis"):
        gaussian_kl([[0.0, 1.0]], 1.0, 0.0, 1.0, axis=(1, -1))


# --- vae_kl ------------------------------------------------------------------------


def test_vae_kl_formula_by_hand():
    mu, log_var = np.array([0.5, -1.0]), np.array([0.2, -0.7])
    expected = 0.5 * np.sum(mu**2 + np.exp(log_var) - 1 - log_var)
    assert vae_kl(mu, log_var) == pytest.approx(expected, rel=1e-13, abs=0)
    assert vae_kl(mu, log_var) == pytest.approx(exact.vae_kl(mu, log_var), rel=1e-15, abs=0)


@given(st.lists(st.tuples(means, st.floats(-8.0, 8.0, allow_nan=False)), min_size=1, max_size=6))
def test_vae_kl_equals_gaussian_kl_to_the_standard_normal(rows):
    mu, log_var = (np.array(c) for c in zip(*rows, strict=True))
    expected = gaussian_kl(mu, np.exp(log_var / 2), 0.0, 1.0, axis=-1)
    # exp(log_var / 2) rounds σ, so allow an absolute error far below anything visible
    assert vae_kl(mu, log_var) == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert vae_kl(mu, log_var) >= 0.0


def test_vae_kl_batches_and_shapes():
    rng = np.random.default_rng(3)
    mu, log_var = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    per_example = vae_kl(mu, log_var)
    assert per_example.shape == (4,)
    np.testing.assert_allclose(
        per_example, vae_kl(mu, log_var, axis=None).sum(axis=1), rtol=1e-14, atol=0
    )
    for row in range(4):
        assert per_example[row] == pytest.approx(
            exact.vae_kl(mu[row], log_var[row]), rel=1e-14, abs=0
        )
    assert vae_kl(mu, log_var, axis=None).shape == (4, 3)
    assert type(vae_kl(0.5, 0.0)) is float
    assert vae_kl(0.5, 0.0) == 0.125
    assert vae_kl(0.0, 0.0) == 0.0
    assert vae_kl([1.0], [0.0], base=2) == pytest.approx(0.5 / LN2, rel=1e-15, abs=0)


def test_vae_kl_accurate_near_zero():
    # ½(e^v − 1 − v) ≈ v²/4 for small v; abs=0, as 2.5e-13 is below approx's default 1e-12
    for v in (1e-6, -1e-6, 1e-9, 0.05, -0.05, 0.5):
        assert vae_kl(0.0, v) == pytest.approx(exact.vae_kl([0.0], [v]), rel=1e-14, abs=0)
    assert vae_kl(0.0, 1e-6) == pytest.approx(1e-12 / 4, rel=1e-6, abs=0)
    # and a tiny mean: μ²/2
    assert vae_kl(1e-9, 0.0) == pytest.approx(0.5e-18, rel=1e-15, abs=0)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((math.nan, 0.0), "^mu contains NaN"),
        ((0.0, math.inf), "^log_var must be finite"),
        (
            ([0.0, 1.0], [0.0, 1.0, 2.0]),
            r"^the shapes do not broadcast: mu \(2,\), log_var \(3,\)$",
        ),
    ],
)
def test_vae_kl_rejects_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        vae_kl(*args)
    with pytest.raises(ValueError, match="axis"):
        vae_kl([0.0], [0.0], axis=2)


@pytest.mark.parametrize("axis", NON_INTEGER_AXES)
def test_vae_kl_rejects_non_integer_axis(axis):
    with pytest.raises(ValueError, match="axis must be None, an integer or a tuple of integers"):
        vae_kl([[0.0, 1.0]], [[0.0, 0.0]], axis=axis)


def test_vae_kl_overflows_to_inf_without_a_warning():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert vae_kl(1e200, 0.0) == math.inf
        assert vae_kl([1e200, 0.0], [0.0, 0.0]) == math.inf
        assert gaussian_kl(1e200, 1.0, -1e200, 1.0) == math.inf


def test_vae_kl_axis_none_and_numpy_integers():
    mu, log_var = np.array([[1.0, 0.0]]), np.zeros((1, 2))
    np.testing.assert_array_equal(vae_kl(mu, log_var, axis=None), [[0.5, 0.0]])
    np.testing.assert_array_equal(vae_kl(mu, log_var, axis=np.int64(-1)), [0.5])
    with pytest.raises(ValueError, match="repeats an axis"):
        vae_kl(mu, log_var, axis=(0, 0))


# --- GaussianMixture ---------------------------------------------------------------

MIX = GaussianMixture(weights=(0.3, 0.7), means=(-2.0, 1.5), sigmas=(0.5, 1.2))


def test_mixture_pdf_integrates_to_one():
    total, _ = scipy.integrate.quad(MIX.pdf, -np.inf, np.inf, points=None)
    assert total == pytest.approx(1.0, abs=1e-10)


def test_mixture_matches_scipy_norm_mixture():
    x = np.linspace(-8, 8, 101)
    expected = 0.3 * scipy.stats.norm.pdf(x, -2.0, 0.5) + 0.7 * scipy.stats.norm.pdf(x, 1.5, 1.2)
    np.testing.assert_allclose(MIX.pdf(x), expected, rtol=1e-13, atol=0)
    np.testing.assert_allclose(MIX.logpdf(x), np.log(expected), rtol=1e-13, atol=0)
    for point in (-8.0, -2.0, 0.0, 1.5, 8.0):
        want = exact.normal_mixture_logpdf(point, MIX.weights, MIX.means, MIX.sigmas)
        assert MIX.logpdf(point) == pytest.approx(want, rel=1e-14, abs=0)
    assert type(MIX.pdf(0.0)) is float


def test_mixture_logpdf_is_finite_where_the_pdf_underflows():
    far = 60.0
    assert MIX.pdf(far) == 0.0
    # only the wider component matters out there
    expected = math.log(0.7) + scipy.stats.norm.logpdf(far, 1.5, 1.2)
    assert MIX.logpdf(far) == pytest.approx(expected, rel=1e-14, abs=0)
    want = exact.normal_mixture_logpdf(far, MIX.weights, MIX.means, MIX.sigmas)
    assert MIX.logpdf(far) == pytest.approx(want, rel=1e-14, abs=0)


def test_mixture_moments_match_quadrature_and_samples():
    mean, _ = scipy.integrate.quad(lambda x: x * MIX.pdf(x), -np.inf, np.inf)
    var, _ = scipy.integrate.quad(lambda x: (x - mean) ** 2 * MIX.pdf(x), -np.inf, np.inf)
    assert MIX.mean == pytest.approx(mean, rel=1e-9, abs=0)
    assert MIX.var == pytest.approx(var, rel=1e-9, abs=0)
    assert MIX.mean == pytest.approx(0.3 * -2.0 + 0.7 * 1.5, rel=1e-15, abs=0)
    x = MIX.sample(100_000, np.random.default_rng(11))
    assert x.shape == (100_000,)
    assert abs(x.mean() - mean) < 4 * math.sqrt(var / x.size)
    # a two-sample Kolmogorov–Smirnov comparison with scipy's draws would be circular;
    # compare with the CDF instead
    cdf = lambda t: 0.3 * scipy.stats.norm.cdf(t, -2, 0.5) + 0.7 * scipy.stats.norm.cdf(t, 1.5, 1.2)  # noqa: E731
    assert scipy.stats.kstest(x, cdf).pvalue > 1e-3


def test_mixture_sample_is_reproducible_and_handles_zero():
    a = MIX.sample(5, np.random.default_rng(1))
    b = MIX.sample(5, np.random.default_rng(1))
    assert np.array_equal(a, b)
    assert MIX.sample(0, np.random.default_rng(1)).shape == (0,)


def test_mixture_with_a_zero_weight_ignores_that_component():
    m = GaussianMixture((1.0, 0.0), (0.0, 5.0), (1.0, 1.0))
    assert m.logpdf(5.0) == pytest.approx(scipy.stats.norm.logpdf(5.0), rel=1e-14, abs=0)


def test_mixture_is_frozen_and_stores_floats():
    m = GaussianMixture([0.5, 0.5], np.array([0, 1]), [1, 2])
    assert m.means == (0.0, 1.0) and all(type(v) is float for v in m.sigmas)
    with pytest.raises(AttributeError):
        m.weights = (1.0, 0.0)  # type: ignore[misc]
    assert hash(m) == hash(GaussianMixture((0.5, 0.5), (0.0, 1.0), (1.0, 2.0)))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"weights": (0.5, 0.6), "means": (0, 1), "sigmas": (1, 1)}, "^weights does not sum"),
        ({"weights": (1.5, -0.5), "means": (0, 1), "sigmas": (1, 1)}, "^weights has a negative"),
        ({"weights": (0.5, math.nan), "means": (0, 1), "sigmas": (1, 1)}, "^weights contains NaN"),
        ({"weights": ("a", "b"), "means": (0, 1), "sigmas": (1, 1)}, "^weights must be an array"),
        ({"weights": (0.5, 0.5), "means": (0, math.nan), "sigmas": (1, 1)}, "means contains NaN"),
        ({"weights": (0.5, 0.5), "means": (0, 1), "sigmas": (1, 0)}, "sigmas must be a positive"),
        ({"weights": (0.5, 0.5), "means": (0, 1, 2), "sigmas": (1, 1)}, "same length"),
        ({"weights": (), "means": (), "sigmas": ()}, "empty"),
    ],
)
def test_mixture_rejects_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GaussianMixture(**kwargs)


def test_mixture_sample_rejects_bad_arguments():
    with pytest.raises(ValueError, match="n must be a non-negative integer"):
        MIX.sample(-1, np.random.default_rng(0))
    with pytest.raises(ValueError, match="n must be a non-negative integer"):
        MIX.sample(2.5, np.random.default_rng(0))  # type: ignore[arg-type]
    with pytest.raises(
        ValueError,
        match=r"^rng must be a numpy\.random\.Generator \(np\.random\.default_rng\(seed\)\), "
        r"got int$",
    ):
        MIX.sample(3, 42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="x contains NaN"):
        MIX.pdf(math.nan)


# --- kl_on_grid --------------------------------------------------------------------

GRID = np.linspace(-15, 15, 3001)


@given(st.floats(-2, 2), st.floats(0.5, 2), st.floats(-2, 2), st.floats(0.5, 2))
def test_grid_kl_matches_closed_form(mp, sp, mq, sq):
    lp = scipy.stats.norm.logpdf(GRID, mp, sp)
    lq = scipy.stats.norm.logpdf(GRID, mq, sq)
    assert kl_on_grid(lp, lq, GRID) == pytest.approx(gaussian_kl(mp, sp, mq, sq), abs=1e-5)


def test_grid_kl_of_mixture_matches_quadrature():
    lp, lq = MIX.logpdf(GRID), scipy.stats.norm.logpdf(GRID, 0.0, 2.0)
    expected, _ = scipy.integrate.quad(
        lambda x: MIX.pdf(x) * (MIX.logpdf(x) - scipy.stats.norm.logpdf(x, 0, 2)),
        -15,
        15,
        limit=200,
    )
    assert kl_on_grid(lp, lq, GRID) == pytest.approx(expected, rel=1e-5, abs=0)
    assert kl_on_grid(lp, lq, GRID, base=2) == pytest.approx(expected / LN2, rel=1e-5, abs=0)


def test_grid_kl_zero_and_infinite_cases():
    lp = scipy.stats.norm.logpdf(GRID)
    assert kl_on_grid(lp, lp, GRID) == 0.0
    # uniform densities: P = U(0, 1) inside Q = U(0, 2) gives log 2; reverse is infinite
    x = np.linspace(-1, 3, 40001)
    lu1 = np.where((x >= 0) & (x <= 1), 0.0, -np.inf)
    lu2 = np.where((x >= 0) & (x <= 2), -LN2, -np.inf)
    assert kl_on_grid(lu1, lu2, x, mass_tol=1e-3) == pytest.approx(LN2, rel=1e-3, abs=0)
    assert kl_on_grid(lu2, lu1, x) == math.inf


def test_grid_kl_rejects_bad_input():
    lp = scipy.stats.norm.logpdf(GRID)
    with pytest.raises(ValueError, match="strictly increasing"):
        kl_on_grid(lp, lp, GRID[::-1])
    with pytest.raises(ValueError, match="one-dimensional grid"):
        kl_on_grid([0.0], [0.0], [0.0])
    with pytest.raises(ValueError, match="log_q must have the shape of x"):
        kl_on_grid(lp, lp[:-1], GRID)
    with pytest.raises(ValueError, match=r"log_p contains \+inf"):
        kl_on_grid(np.where(GRID == 0, np.inf, lp), lp, GRID)
    with pytest.raises(ValueError, match="log_p contains NaN"):
        kl_on_grid(np.where(GRID == 0, np.nan, lp), lp, GRID)
    narrow = np.linspace(-1, 1, 201)
    with pytest.raises(ValueError) as info:
        kl_on_grid(scipy.stats.norm.logpdf(narrow), scipy.stats.norm.logpdf(narrow), narrow)
    assert str(info.value) == (
        "exp(log_p) integrates to 0.682685 on x, not 1 (tolerance 0.001): "
        "widen or refine the grid; klbook does not renormalise"
    )
    # Q too wide for the grid: the message names log_q
    x = np.linspace(-12, 12, 2001)
    lp, lq = scipy.stats.norm.logpdf(x), scipy.stats.norm.logpdf(x, 0.0, 4.0)
    with pytest.raises(ValueError, match=r"^exp\(log_q\) integrates to 0\.9973 on x"):
        kl_on_grid(lp, lq, x)
    # the tolerance is inclusive: a miss of exactly mass_tol passes
    miss = abs(float(np.trapezoid(np.exp(lq), x)) - 1.0)
    assert kl_on_grid(lp, lq, x, mass_tol=miss) > 0
    with pytest.raises(ValueError, match="log_q"):
        kl_on_grid(lp, lq, x, mass_tol=miss * (1 - 1e-12))


# --- fit_gaussian_kl ---------------------------------------------------------------


def _grid_moments(logp, x):
    p = np.exp(logp)
    mean = np.trapezoid(x * p, x)
    return mean, np.trapezoid((x - mean) ** 2 * p, x)


@settings(max_examples=30)  # each example runs an optimiser
@given(
    st.lists(
        st.tuples(st.floats(0.05, 1.0), st.floats(-3.0, 3.0), st.floats(0.3, 1.5)),
        min_size=1,
        max_size=3,
    )
)
def test_forward_fit_matches_moments(components):
    w, m, s = (np.array(c) for c in zip(*components, strict=True))
    mix = GaussianMixture(tuple(w / w.sum()), tuple(m), tuple(s))
    x = np.linspace(-12, 12, 1201)
    fit = fit_gaussian_kl(mix.logpdf, x, "forward")
    mean, var = _grid_moments(mix.logpdf(x), x)
    assert fit.mu == pytest.approx(mean, abs=1e-6)
    assert fit.sigma**2 == pytest.approx(var, rel=1e-6, abs=0)
    # and the grid moments are the mixture's true moments
    assert mean == pytest.approx(mix.mean, abs=1e-6)
    assert var == pytest.approx(mix.var, rel=1e-5, abs=0)


def test_forward_fit_matches_moments_of_a_skewed_non_gaussian():
    x = np.linspace(-20, 40, 6001)  # room for the fitted Gaussian's left tail
    gamma = scipy.stats.gamma(a=2.5, scale=1.5)
    fit = fit_gaussian_kl(gamma.logpdf(x), x, "forward", x0=(1.0, 1.0))
    assert fit.mu == pytest.approx(gamma.mean(), rel=1e-4, abs=0)
    assert fit.sigma == pytest.approx(gamma.std(), rel=1e-4, abs=0)


def test_forward_fit_reports_the_kl_it_reached():
    mix = GaussianMixture((0.5, 0.5), (-2.0, 2.0), (0.6, 0.6))
    x = np.linspace(-10, 10, 2001)
    fit = fit_gaussian_kl(mix.logpdf, x, "forward")
    assert isinstance(fit, GaussianFit)
    lq = scipy.stats.norm.logpdf(x, fit.mu, fit.sigma)
    assert fit.kl == pytest.approx(kl_on_grid(mix.logpdf(x), lq, x), rel=1e-9, abs=0)
    # any other Gaussian does worse in forward KL
    for mu, sigma in [(fit.mu + 0.1, fit.sigma), (fit.mu, 0.6), (2.0, 0.6)]:
        assert kl_on_grid(mix.logpdf(x), scipy.stats.norm.logpdf(x, mu, sigma), x) > fit.kl


def test_reverse_fit_seeks_a_mode():
    mix = GaussianMixture((0.6, 0.4), (-2.0, 2.5), (0.6, 0.8))
    x = np.linspace(-10, 10, 2001)
    left = fit_gaussian_kl(mix.logpdf, x, "reverse", x0=(-1.0, 1.0))
    right = fit_gaussian_kl(mix.logpdf, x, "reverse", x0=(1.0, 1.0))
    assert left.mu == pytest.approx(-2.0, abs=0.02) and left.sigma == pytest.approx(0.6, abs=0.02)
    assert right.mu == pytest.approx(2.5, abs=0.02) and right.sigma == pytest.approx(0.8, abs=0.02)
    # for well separated modes, KL(Q||P) at a mode is at most, and about, -log(weight)
    assert -math.log(0.6) - 5e-3 < left.kl <= -math.log(0.6)
    assert -math.log(0.4) - 5e-3 < right.kl <= -math.log(0.4)
    forward = fit_gaussian_kl(mix.logpdf, x, "forward")
    assert forward.sigma > 2.5 * max(left.sigma, right.sigma)


def test_fit_of_a_gaussian_recovers_it_both_ways():
    x = np.linspace(-10, 10, 2001)
    lp = scipy.stats.norm.logpdf(x, 1.2, 0.9)
    for direction in ("forward", "reverse"):
        fit = fit_gaussian_kl(lp, x, direction, x0=(0.0, 2.0))
        assert fit.mu == pytest.approx(1.2, abs=1e-5)
        assert fit.sigma == pytest.approx(0.9, abs=1e-5)
        assert fit.kl == pytest.approx(0.0, abs=1e-9)


def test_fit_rejects_bad_input():
    x = np.linspace(-10, 10, 201)
    lp = scipy.stats.norm.logpdf(x)
    with pytest.raises(ValueError, match="direction must be"):
        fit_gaussian_kl(lp, x, "sideways")  # type: ignore[arg-type]
    for x0 in ((0.0, -1.0), (0.0, 0.0), (math.inf, 1.0), (0.0, math.nan)):
        with pytest.raises(ValueError) as info:
            fit_gaussian_kl(lp, x, x0=x0)
        assert str(info.value) == f"x0 must be a finite (mu, sigma) with sigma > 0, got {x0!r}"
    with pytest.raises(ValueError, match="integrates to"):
        fit_gaussian_kl(lp + 1.0, x)
    with pytest.raises(ValueError, match="target_logpdf must have the shape"):
        fit_gaussian_kl(lp[:-1], x)


def test_fit_refuses_a_grid_that_cuts_off_the_fitted_gaussian():
    # the target sits at the edge of the grid, so a Gaussian fit spills over it
    x = np.linspace(0, 10, 1001)
    lp = scipy.stats.expon.logpdf(x)
    with pytest.raises(ValueError, match="widen the grid"):
        fit_gaussian_kl(lp, x, "forward")


def test_public_api():
    for name in klbook.gaussian.__all__:
        assert hasattr(klbook, name)


# --- chapter 5's self-checks agree with klbook.gaussian ------------------------------


def test_chapter5_checks_agree_with_the_library():
    from klbook.checks.ch05 import CHECKS, HEADS_PROB, N_FLIPS, PRIOR, X_OBS

    assert CHECKS["ex-ch5-same-mean"].judge(gaussian_kl(0.0, 2.0, 0.0, 1.0))[0] == "correct"
    mix = GaussianMixture((0.5, 0.5), (-3.0, 3.0), (1.0, 1.0))
    fit = fit_gaussian_kl(mix.logpdf, np.linspace(-15, 15, 3001), "forward")
    assert CHECKS["ex-ch5-moment-match"].judge(fit.sigma)[0] == "correct"
    # the exact ELBO gap with q = prior, through klbook's discrete KL (q first)
    lik = scipy.stats.binom.pmf(X_OBS, N_FLIPS, np.array(HEADS_PROB))
    posterior = np.array(PRIOR) * lik / np.sum(np.array(PRIOR) * lik)
    gap = klbook.kl_divergence(PRIOR, posterior)
    assert CHECKS["ex-ch5-elbo-prior"].judge(gap)[0] == "correct"
    assert CHECKS["ex-ch5-elbo-prior"].judge(gap / LN2)[1] == "Correct (in bits)."
    assert CHECKS["ex-ch5-kl-function"].judge(gaussian_kl)[0] == "correct"


def test_chapter5_checks_catch_the_typical_mistakes():
    from klbook.checks.ch05 import CHECKS

    for label, spec in CHECKS.items():
        for wrong, hint in getattr(spec, "mistakes", ()):
            status, message = spec.judge(wrong)
            assert status == "incorrect", (label, wrong)
            assert hint in message, (label, wrong)
    swapped = lambda mp, sp, mq, sq: gaussian_kl(mq, sq, mp, sp)  # noqa: E731
    assert CHECKS["ex-ch5-kl-function"].judge(swapped)[0] == "incorrect"


def test_reverse_fit_starts_from_the_targets_highest_point_by_default():
    # the heavier mode is on the right: started there (the grid point where P is
    # largest), reverse KL settles on it, not on the nearer-to-the-edge left mode
    mix = GaussianMixture((0.3, 0.7), (-2.0, 2.5), (0.6, 0.8))
    x = np.linspace(-10, 10, 2001)
    fit = fit_gaussian_kl(mix.logpdf, x, "reverse")
    assert fit.mu == pytest.approx(2.5, abs=0.02) and fit.sigma == pytest.approx(0.8, abs=0.02)


def test_fit_refuses_a_target_that_does_not_integrate_to_one_and_warns_of_nothing():
    import warnings

    x = np.linspace(-10, 10, 201)
    lp = scipy.stats.norm.logpdf(x)
    for mass in (0.5, 1.5, 1 - 2e-3):
        with pytest.raises(ValueError) as info:
            fit_gaussian_kl(lp + math.log(mass), x)
        assert str(info.value) == (
            f"the target integrates to {mass:.6g} on x, not 1: widen or refine the grid"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an unknown optimiser option would warn
        fit = fit_gaussian_kl(lp, x, "reverse", x0=(0.5, 2.0))
    assert fit.mu == pytest.approx(0.0, abs=1e-6) and fit.sigma == pytest.approx(1.0, abs=1e-6)


def test_the_grid_needs_two_strictly_increasing_points():
    from klbook.gaussian import _grid

    assert _grid([0.0, 1.0]).tolist() == [0.0, 1.0]
    for bad, message in (
        ([0.0], "x must be a one-dimensional grid of at least 2 points, got (1,)"),
        ([[0.0, 1.0]], "x must be a one-dimensional grid of at least 2 points, got (1, 2)"),
        ([0.0, 1.0, 1.0, 2.0], "x must be strictly increasing"),
        ([0.0, np.inf], "x must be finite, got an infinite value"),
    ):
        with pytest.raises(ValueError) as info:
            _grid(bad)
        assert str(info.value) == message


def test_tail_check_looks_at_the_larger_end_times_the_grids_length():
    from klbook.gaussian import _check_tails

    x = np.array([0.0, 1.0, 2.0, 10.0])  # length 10; the inner points differ from the ends
    # the left end is the larger: 0.2 · 10 = 2 nats
    with pytest.raises(ValueError) as info:
        _check_tails(np.array([-0.2, 5.0, 5.0, 0.1]), x, 1.0)
    assert str(info.value) == (
        "x: the integrand p log(p/q) is -0.2 at x = 0, not negligible at the ends of the "
        "grid (times the grid's length, 2 nats > tail_tol = 1): widen the grid"
    )
    # the right end is the larger; a tie goes to the left end
    with pytest.raises(ValueError, match=r"is 0\.3 at x = 10, .* length, 3 nats > tail_tol"):
        _check_tails(np.array([0.1, 5.0, 5.0, 0.3]), x, 1.0)
    with pytest.raises(ValueError, match=r"is 0\.3 at x = 0, "):
        _check_tails(np.array([0.3, 5.0, 5.0, -0.3]), x, 1.0)
    # within the tolerance, the boundary included: nothing to say
    _check_tails(np.array([0.1, 5.0, 5.0, 0.1]), x, 1.0)
    _check_tails(np.array([0.25, 5.0, 5.0, 0.0]), x, 2.5)


def test_full_covariance_symmetry_is_checked_to_1e12_of_the_largest_entry():
    from klbook.gaussian import gaussian_kl_full

    eye = np.eye(2)
    # asymmetric by 1e-9 next to an entry 1e-3 (a relative check would let it pass), and
    # by 1e-10 next to zero (NumPy's default absolute 1e-8 would let it pass)
    for cov in ([[1.0, 1e-3 + 1e-9], [1e-3, 1.0]], [[1.0, 1e-10], [0.0, 1.0]]):
        with pytest.raises(ValueError) as info:
            gaussian_kl_full([0.0, 0.0], cov, [0.0, 0.0], eye)
        assert (
            str(info.value) == "cov_p must be symmetric: a covariance matrix equals its transpose"
        )
    # within 1e-12 of the largest entry: symmetric enough
    assert gaussian_kl_full([0.0, 0.0], [[2.0, 1e-13], [0.0, 2.0]], [0.0, 0.0], eye) > 0
    with pytest.raises(ValueError) as info:
        gaussian_kl_full([0.0, 0.0], eye, [0.0, 0.0], [[1.0, 0.0], [0.0, 0.0]])
    assert str(info.value) == (
        "cov_q must be positive definite (a Cholesky factorisation failed): "
        "every direction needs a positive variance"
    )


def test_full_covariance_kl_overflows_to_inf_without_a_warning():
    import warnings

    from klbook.gaussian import gaussian_kl_full

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert gaussian_kl_full([1e200, 0.0], np.eye(2), [0.0, 0.0], np.eye(2)) == math.inf


def test_gaussian_kl_messages_name_every_argument():
    with pytest.raises(ValueError) as info:
        gaussian_kl([0.0, 1.0], 1.0, [0.0, 1.0, 2.0], 1.0)
    assert str(info.value) == (
        "the shapes do not broadcast: mu_p (2,), sigma_p (), mu_q (3,), sigma_q ()"
    )
    with pytest.raises(ValueError) as info:
        gaussian_kl(0.0, [1.0, 2.0], 0.0, [1.0, 2.0, 3.0])
    assert str(info.value) == (
        "the shapes do not broadcast: mu_p (), sigma_p (2,), mu_q (), sigma_q (3,)"
    )
    with pytest.raises(ValueError) as info:
        gaussian_kl([[0.0, 1.0]], 1.0, 0.0, 1.0, axis=1.0)
    assert str(info.value) == (
        "axis must be None, an integer or a tuple of integers, got 1.0 (float)"
    )


def test_a_bad_width_is_quoted_in_the_message():
    # the first width that is not positive: 0.0 (not the 1.0 before it, nor the -2.0 after)
    with pytest.raises(ValueError) as info:
        gaussian_kl(0.0, [1.0, 0.0, -2.0], 0.0, 1.0)
    assert str(info.value) == (
        "sigma_p must be a positive standard deviation, got 0.0: a Gaussian needs sigma > 0"
    )


def test_width_term_beyond_where_e_to_the_2t_overflows():
    # 354.89 < t < 355.24: e^{2t} overflows but ½e^{2t} does not; the KL is ½e^{2t} − ½ − t
    # to the last bit (½ + t is far below one unit in its last place)
    for t in (354.9, 355.0, 355.2):
        sigma = math.exp(t)
        got = gaussian_kl(0.0, sigma, 0.0, 1.0)
        assert math.isfinite(got)
        assert got == pytest.approx(exact.gaussian_kl(0.0, sigma, 0.0, 1.0), rel=1e-13, abs=0)
    assert gaussian_kl(0.0, math.exp(355.3), 0.0, 1.0) == math.inf


def test_near_equal_widths_give_a_float64_array():
    got = gaussian_kl([0.0, 0.0, 0.0], [1.0, 1.01, 3.0], 0.0, 1.0)
    assert got.dtype == np.float64
    for i, s in enumerate([1.0, 1.01, 3.0]):
        assert got[i] == pytest.approx(exact.gaussian_kl(0.0, s, 0.0, 1.0), rel=1e-14, abs=0)


def test_reverse_fit_checks_the_tails_of_its_own_integrand():
    # A mode near the grid's left end: P is not negligible there, but the reverse fit
    # settles on the right mode, and its integrand q log(q/p) vanishes at both ends.
    mix = GaussianMixture((0.5, 0.5), (-7.0, 3.0), (0.8, 0.8))
    x = np.linspace(-10, 10, 2001)
    fit = fit_gaussian_kl(mix.logpdf, x, "reverse", x0=(3.0, 1.0))
    assert fit.mu == pytest.approx(3.0, abs=1e-6) and fit.sigma == pytest.approx(0.8, abs=1e-6)
    assert fit.kl == pytest.approx(math.log(2), abs=1e-6)
    # the forward fit of the same target sees P's left tail and asks for a wider grid
    with pytest.raises(ValueError, match="widen the grid"):
        fit_gaussian_kl(mix.logpdf, x, "forward")


def test_wide_gaussians_a_little_apart_in_width_keep_their_digits():
    # σ near 50 and a ratio 1.002: log σp − log σq would lose about ten bits to the size
    # of the two logs (about 3.9); log1p((σp − σq)/σq) keeps them
    for sq in (50.0, 200.0, 1e6):
        for ratio in (1.002, 0.997, 1.3):
            sp = sq * ratio
            assert gaussian_kl(0.0, sp, 0.0, sq) == pytest.approx(
                exact.gaussian_kl(0.0, sp, 0.0, sq), rel=1e-13, abs=0
            )
