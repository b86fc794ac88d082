"""klbook.sequences.discretised_normal_logpmf: a Gaussian rounded to whole numbers."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import scipy.stats
from hypothesis import given
from hypothesis import strategies as st

from klbook import discretised_normal_logpmf

means = st.floats(-50.0, 50.0, allow_nan=False)
sds = st.floats(0.05, 20.0, allow_nan=False)


def _log_upper_tail(z: float) -> float:
    """log Pr(Z > z) for z >= 25 from the asymptotic series of the Mills ratio.

    Pr(Z > z) = φ(z)/z · (1 − 1/z² + 3/z⁴ − 15/z⁶ + 105/z⁸ − …); at z ≥ 25 the
    first omitted term is below 1e-13 of the sum. Independent of scipy.
    """
    series = 1 - z**-2 + 3 * z**-4 - 15 * z**-6 + 105 * z**-8
    return -0.5 * z * z - 0.5 * math.log(2 * math.pi) - math.log(z) + math.log(series)


@given(means, sds)
def test_sums_to_one_over_the_integers(mean, sd):
    centre = round(mean)
    x = np.arange(centre - 40 * math.ceil(sd) - 2, centre + 40 * math.ceil(sd) + 3)
    total = math.fsum(np.exp(discretised_normal_logpmf(x, mean, sd)))
    assert total == pytest.approx(1.0, abs=1e-12)


@given(st.integers(-30, 30), means, sds)
def test_is_the_difference_of_two_normal_cdfs(x, mean, sd):
    # Where the difference is not tiny, scipy's two CDF values give it to ~1e-16 absolute.
    direct = scipy.stats.norm.cdf(x + 0.5, mean, sd) - scipy.stats.norm.cdf(x - 0.5, mean, sd)
    got = math.exp(discretised_normal_logpmf(x, mean, sd))
    assert got == pytest.approx(direct, rel=1e-9, abs=1e-15)


@pytest.mark.parametrize("x", [30, 45, 100, 400])
def test_far_tails_are_accurate_where_the_cdf_difference_underflows(x):
    # G(x) = Pr(x - 1/2 < Z < x + 1/2) for N(0, 1); the second tail is negligible
    # against the first (ratio e^{-x}), so log G = log Pr(Z > x - 1/2) + log(1 - ratio).
    lower, upper = _log_upper_tail(x - 0.5), _log_upper_tail(x + 0.5)
    expected = lower + math.log1p(-math.exp(upper - lower))
    assert discretised_normal_logpmf(x, 0.0, 1.0) == pytest.approx(expected, rel=1e-12, abs=0)
    assert discretised_normal_logpmf(-x, 0.0, 1.0) == pytest.approx(expected, rel=1e-12, abs=0)
    if x >= 45:  # where the plain difference of tail probabilities is already 0.0
        assert scipy.stats.norm.sf(x - 0.5) - scipy.stats.norm.sf(x + 0.5) == 0.0


@given(st.integers(0, 60), st.integers(-20, 20), sds)
def test_symmetric_about_an_integer_mean(d, mean, sd):
    assert discretised_normal_logpmf(mean + d, mean, sd) == pytest.approx(
        discretised_normal_logpmf(mean - d, mean, sd), rel=1e-12, abs=1e-300
    )


def test_narrow_gaussian_puts_all_its_mass_on_the_nearest_integer():
    assert discretised_normal_logpmf(3, 3.2, 1e-3) == 0.0
    # 4 is 300 standard deviations above the interval's lower end: G(4) is about
    # e^{-45006}, far below the smallest float64, but its log is finite.
    expected = _log_upper_tail((3.5 - 3.2) / 1e-3)
    assert discretised_normal_logpmf(4, 3.2, 1e-3) == pytest.approx(expected, rel=1e-12, abs=0)
    assert discretised_normal_logpmf(3, 3.0, 1e-300) == 0.0


def test_normal_approximation_to_a_binomial():
    # Binomial(400, 0.5): mean 200, sd 10; the continuity-corrected Gaussian is
    # within 1e-4 of the binomial probabilities (de Moivre-Laplace).
    k = np.arange(150, 251)
    approx = np.exp(discretised_normal_logpmf(k, 200.0, 10.0))
    exact = scipy.stats.binom.pmf(k, 400, 0.5)
    assert np.max(np.abs(approx - exact)) < 1e-4
    assert np.max(np.abs(approx - exact)) > 0  # an approximation, not the binomial


def test_broadcasts_and_returns_floats_for_scalars():
    out = discretised_normal_logpmf(np.arange(3)[:, None], [0.0, 1.0], 2.0)
    assert out.shape == (3, 2)
    assert out[1, 1] == discretised_normal_logpmf(1, 1.0, 2.0)
    assert isinstance(discretised_normal_logpmf(0, 0.0, 1.0), float)


@pytest.mark.parametrize(
    ("x", "mean", "sd", "message"),
    [
        (0.5, 0.0, 1.0, "x must be whole numbers"),
        (np.inf, 0.0, 1.0, "x must be finite"),
        (np.nan, 0.0, 1.0, "x contains NaN"),
        ("3", 0.0, 1.0, "x must be an array of real numbers"),
        (0, np.inf, 1.0, "mean must be finite"),
        (0, np.nan, 1.0, "mean contains NaN"),
        (0, 0.0, 0.0, "sd must be finite and positive"),
        (0, 0.0, -1.0, "sd must be finite and positive"),
        (0, 0.0, np.inf, "sd must be finite and positive"),
        ([0, 1, 2], [0.0, 1.0], 1.0, "do not broadcast"),
    ],
)
def test_bad_input_raises_value_error_naming_the_argument(x, mean, sd, message):
    with pytest.raises(ValueError, match=message):
        discretised_normal_logpmf(x, mean, sd)


def _log_interval_by_series(x: float, mean: float, sd: float, terms: int = 6) -> float:
    """log of ∫ φ over the standardised interval round x, from the series of φ's
    derivatives at its midpoint summed to many terms in 50-digit decimal arithmetic:
    w φ(m) Σ_k He_2k(m) (w/2)^(2k) / (2k + 1)!, with the Hermite polynomials He."""
    import decimal

    with decimal.localcontext() as ctx:
        ctx.prec = 50
        m = (decimal.Decimal(x) - decimal.Decimal(mean)) / decimal.Decimal(sd)
        w = 1 / decimal.Decimal(sd)
        he = [decimal.Decimal(1), m]  # He_0, He_1; He_{n+1} = m He_n - n He_{n-1}
        for n in range(1, 2 * terms + 1):
            he.append(m * he[n] - n * he[n - 1])
        total = sum(
            he[2 * k] * (w / 2) ** (2 * k) / math.factorial(2 * k + 1) for k in range(terms + 1)
        )
        two_pi = 2 * decimal.Decimal("3.14159265358979323846264338327950288419716939937510")
        log_g = w.ln() - m * m / 2 - two_pi.ln() / 2 + total.ln()
        return float(log_g)


@pytest.mark.parametrize(
    ("x", "sd"),
    [(0, 1e17), (0, 1e8), (5_000, 1e8), (1_000_000, 1e12), (1_000_000, 1e5), (3, 150.0)],
)
def test_a_wide_gaussian_keeps_its_digits(x, sd):
    # The interval is 1/σ wide in standard units: Φ(b) − Φ(a) would cancel to nothing
    # (σ = 1e17 gave -inf) or keep about 16 − log10 σ digits; the density is integrated
    # across it instead.
    got = discretised_normal_logpmf(x, 0.0, sd)
    assert math.isfinite(got)
    assert got == pytest.approx(_log_interval_by_series(x, 0.0, sd), rel=1e-15, abs=0)


def test_the_two_ways_agree_where_they_meet():
    # Just inside the series' domain (width 1/σ = 0.0099 in standard units) the CDF
    # difference still keeps 14 digits: the two must agree there.
    for x in (0, 1, 7, 30):
        sd = 1 / 0.0099
        direct = scipy.stats.norm.cdf(x + 0.5, 0, sd) - scipy.stats.norm.cdf(x - 0.5, 0, sd)
        assert discretised_normal_logpmf(x, 0.0, sd) == pytest.approx(
            math.log(direct), rel=1e-12, abs=0
        )


def test_beyond_the_float_range_is_minus_infinity_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert discretised_normal_logpmf(0, 1e300, 1e-300) == -math.inf
        assert discretised_normal_logpmf(0, 0.0, 1e17) == pytest.approx(
            -math.log(1e17) - 0.5 * math.log(2 * math.pi), rel=1e-15, abs=0
        )


@pytest.mark.parametrize(
    ("x", "mean", "sd"),
    [(5_000, -1234.5, 1e8), (-100, 50.25, 150.0), (37, 12.5, 100.0), (107, 7.0, 100.0)],
)
def test_a_wide_gaussian_off_zero_keeps_its_digits(x, mean, sd):
    # The midpoint m = (x − μ)/σ, with μ ≠ 0; where w = 1/σ is near 0.01 the series'
    # w⁴ term (about 1e-11 of G) counts.
    got = discretised_normal_logpmf(x, mean, sd)
    assert got == pytest.approx(_log_interval_by_series(x, mean, sd), rel=1e-15, abs=0)


@pytest.mark.parametrize(("x", "mean"), [(0, 0.0), (100, 0.0), (-100, 0.0), (7, 7.0)])
def test_the_series_edge_keeps_every_digit(x, mean):
    # σ = 100: w = 1/σ = 0.01 and, for x − μ = ±100, |m| = 0.01 σ, the edges of the
    # series' domain, which it includes. There the CDF difference is off by 1e-14 to
    # 2e-14 in log G (about 5.5), the series by less than 2 units in the last place.
    got = discretised_normal_logpmf(x, mean, 100.0)
    assert got == pytest.approx(_log_interval_by_series(x, mean, 100.0), rel=0, abs=2e-15)


def test_narrow_and_wide_intervals_in_one_call():
    x = np.array([0, 3, 0, 1_000_000])
    sd = np.array([1.0, 2.0, 1e8, 1e5])  # the last two by the series, the first two not
    got = discretised_normal_logpmf(x, 0.0, sd)
    assert got.dtype == np.float64
    for i in range(4):
        assert got[i] == discretised_normal_logpmf(int(x[i]), 0.0, float(sd[i]))
    assert got[0] == pytest.approx(
        math.log(scipy.stats.norm.cdf(0.5) - scipy.stats.norm.cdf(-0.5)), rel=1e-14, abs=0
    )
