"""klbook.expectation: expected values and Monte Carlo estimates of KL."""

from __future__ import annotations

import math
import warnings
from fractions import Fraction

import numpy as np
import pytest
import scipy.stats
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import klbook
from klbook import (
    MonteCarloEstimate,
    cumulative_mean,
    expected_value,
    kl_divergence,
    kl_from_samples,
    kl_monte_carlo,
    monte_carlo_mean,
)

LN2 = math.log(2)

# --- strategies --------------------------------------------------------------


@st.composite
def distributions(draw, n=None, allow_zeros=True):
    """A probability vector: non-negative weights divided by their sum here in the test."""
    size = n if n is not None else draw(st.integers(1, 8))
    low = 0.0 if allow_zeros else 1e-3
    weights = draw(
        arrays(np.float64, size, elements=st.floats(low, 1.0, allow_nan=False, width=64))
    )
    assume(weights.sum() > 1e-3)
    return weights / weights.sum()


finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


@st.composite
def values_and_probs(draw):
    p = draw(distributions())
    v = draw(arrays(np.float64, p.size, elements=finite))
    return v, p


# --- expected_value: known values ----------------------------------------------


def test_fair_die_mean_and_second_moment():
    faces = np.arange(1, 7)
    fair = np.full(6, 1 / 6)
    assert expected_value(faces, fair) == pytest.approx(3.5, rel=1e-15, abs=0)
    # E[X^2] = (1 + 4 + 9 + 16 + 25 + 36) / 6 = 91/6
    assert expected_value(faces**2, fair) == pytest.approx(91 / 6, rel=1e-14, abs=0)


def test_loaded_die_against_exact_fractions():
    weights = [Fraction(1, 10)] * 4 + [Fraction(2, 10), Fraction(4, 10)]
    exact = sum(w * x for w, x in zip(weights, range(1, 7), strict=True))
    got = expected_value(np.arange(1, 7), [float(w) for w in weights])
    assert got == pytest.approx(float(exact), rel=1e-15, abs=0)


def test_returns_python_float_for_a_single_distribution():
    out = expected_value([1.0, 2.0], [0.5, 0.5])
    assert type(out) is float
    assert out == 1.5


def test_batched_over_distributions_and_functions():
    probs = np.array([[1.0, 0.0, 0.0], [0.0, 0.5, 0.5]])
    out = expected_value([1.0, 2.0, 4.0], probs)
    np.testing.assert_allclose(out, [1.0, 3.0], rtol=1e-15, atol=0)
    funcs = np.array([[1.0, 1.0, 1.0], [0.0, 1.0, 2.0]])
    out = expected_value(funcs, [0.25, 0.25, 0.5])
    np.testing.assert_allclose(out, [1.0, 1.25], rtol=1e-15, atol=0)


def test_axis_zero():
    probs = np.array([[0.5, 0.1], [0.5, 0.9]])  # columns are distributions
    values = np.array([[2.0, 2.0], [4.0, 4.0]])
    np.testing.assert_allclose(
        expected_value(values, probs, axis=0), [3.0, 3.8], rtol=1e-15, atol=0
    )


def test_constant_scalar_value():
    assert expected_value(-2.5, [0.3, 0.7]) == pytest.approx(-2.5, rel=1e-15, abs=0)


def test_infinite_value_with_zero_probability_contributes_nothing():
    with np.errstate(all="raise"):
        assert expected_value([1.0, np.inf], [1.0, 0.0]) == 1.0
        assert expected_value([-np.inf, 3.0], [0.0, 1.0]) == 3.0
        assert expected_value([np.inf, -np.inf, 2.0], [0.0, 0.0, 1.0]) == 2.0


def test_infinite_value_with_positive_probability_is_infinite():
    assert expected_value([1.0, np.inf], [0.5, 0.5]) == math.inf
    assert expected_value([1.0, -np.inf], [0.5, 0.5]) == -math.inf


def test_expectation_of_llr_is_kl_with_zeros_in_p_and_q():
    p = np.array([0.5, 0.5, 0.0])
    q = np.array([0.25, 0.25, 0.5])
    with np.errstate(divide="ignore"):
        llr = np.log(p) - np.log(q)  # -inf at the third outcome
    assert expected_value(llr, p) == pytest.approx(kl_divergence(p, q), rel=1e-14, abs=0)
    assert expected_value(llr, p) == pytest.approx(math.log(2), rel=1e-15, abs=0)
    # q = 0 < p: infinite, like KL
    p2, q2 = np.array([0.5, 0.5]), np.array([1.0, 0.0])
    with np.errstate(divide="ignore"):
        llr2 = np.log(p2) - np.log(q2)
    assert expected_value(llr2, p2) == math.inf == kl_divergence(p2, q2)


def test_matches_scipy_discrete_expect():
    xk = np.arange(5)
    pk = np.array([0.1, 0.2, 0.3, 0.15, 0.25])
    dist = scipy.stats.rv_discrete(values=(xk, pk))
    for h in (lambda x: x, lambda x: x**2, lambda x: np.exp(-x)):
        assert expected_value(h(xk), pk) == pytest.approx(dist.expect(h), rel=1e-12, abs=0)


# --- expected_value: properties ------------------------------------------------


@given(distributions(), finite)
def test_expectation_of_a_constant_is_the_constant(p, c):
    assert expected_value(np.full(p.size, c), p) == pytest.approx(c, rel=1e-12, abs=1e-9)


@given(values_and_probs(), finite, finite, st.data())
def test_linearity(vp, a, b, data):
    v, p = vp
    w = data.draw(arrays(np.float64, p.size, elements=finite))
    lhs = expected_value(a * v + b * w, p)
    rhs = a * expected_value(v, p) + b * expected_value(w, p)
    scale = 1.0 + abs(a) * np.abs(v).max() + abs(b) * np.abs(w).max()
    assert lhs == pytest.approx(rhs, rel=1e-9, abs=1e-12 * scale)


@given(values_and_probs())
def test_lies_between_min_and_max(vp):
    v, p = vp
    ev = expected_value(v, p)
    support = v[p > 0]
    tol = 1e-9 * (1 + np.abs(v).max())
    assert support.min() - tol <= ev <= support.max() + tol


@given(st.integers(1, 8).flatmap(lambda n: st.tuples(distributions(n), distributions(n))))
def test_expected_llr_equals_kl(pq):
    p, q = pq
    with np.errstate(divide="ignore", invalid="ignore"):
        llr = np.log(p) - np.log(q)
    llr = np.where((p == 0) & (q == 0), 0.0, llr)  # 0/0 outcome: any value, weight 0
    kl = kl_divergence(p, q)
    got = expected_value(llr, p)
    if math.isinf(kl):
        assert got == math.inf
    else:
        assert got == pytest.approx(kl, rel=1e-9, abs=1e-12)


# --- expected_value: bad input ----------------------------------------------------


@pytest.mark.parametrize(
    ("values", "probs", "match"),
    [
        ([1.0, 2.0], [0.5, 0.6], "probs does not sum to one"),
        ([1.0, 2.0], [-0.5, 1.5], "probs has a negative entry"),
        ([1.0, 2.0], [0.5, np.nan], "probs contains NaN"),
        ([1.0, 2.0], 1.0, "probs must be a probability vector"),
        ([1.0, np.nan], [0.5, 0.5], "values contains NaN"),
        ([1.0, np.nan], [1.0, 0.0], "values contains NaN"),
        (["a", "b"], [0.5, 0.5], "values must be an array of real numbers"),
        ([1.0 + 1j, 2.0], [0.5, 0.5], "values must be real"),
        ([1.0, 2.0, 3.0], [0.5, 0.5], "do not broadcast"),
        ([1.0, 2.0, 3.0], [1.0], "same outcomes"),
        ([np.inf, -np.inf], [0.5, 0.5], "undefined"),
        ([], [], "probs is empty"),
    ],
)
def test_expected_value_rejects(values, probs, match):
    with pytest.raises(ValueError, match=match):
        expected_value(values, probs)


def test_expected_value_rejects_bad_axis():
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        expected_value([1.0, 2.0], [0.5, 0.5], axis=2)
    for axis in (1.0, None, "0", True):
        with pytest.raises(ValueError, match="axis must be an integer"):
            expected_value([1.0, 2.0], [0.5, 0.5], axis=axis)  # type: ignore[arg-type]


# --- cumulative_mean ----------------------------------------------------------------


def test_cumulative_mean_by_hand():
    assert cumulative_mean([1, 3, 5, 7]).tolist() == [1, 2, 3, 4]


def test_cumulative_mean_batched_on_each_axis():
    x = np.array([[1.0, 3.0, 2.0], [0.0, 4.0, 8.0]])
    assert cumulative_mean(x).tolist() == [[1, 2, 2], [0, 2, 4]]
    assert cumulative_mean(x, axis=0).tolist() == [[1, 3, 2], [0.5, 3.5, 5]]


@given(arrays(np.float64, st.integers(1, 50), elements=finite))
def test_cumulative_mean_last_entry_is_the_mean(x):
    out = cumulative_mean(x)
    assert out.shape == x.shape
    assert out[-1] == pytest.approx(np.mean(x), rel=1e-9, abs=1e-6)
    assert out[0] == x[0]


@pytest.mark.parametrize(
    ("values", "kw", "match"),
    [
        (3.0, {}, r"^values must have at least one dimension, got a scalar$"),
        ([], {}, r"^values is empty along axis -1$"),
        ([1.0, np.inf], {}, r"^values contains an infinite value$"),
        ([1.0, np.nan], {}, r"^values contains NaN$"),
        (["a"], {}, r"^values must be an array of real numbers"),
        ([1.0, 2.0], {"axis": 1}, r"^axis 1 is out of range for values with 1 dimension\(s\)$"),
    ],
)
def test_cumulative_mean_rejects(values, kw, match):
    with pytest.raises(ValueError, match=match):
        cumulative_mean(values, **kw)


@pytest.mark.parametrize("axis", [1.0, -1.0, None, "0", True, (0,)])
def test_cumulative_mean_rejects_non_integer_axis(axis):
    with pytest.raises(ValueError, match="axis must be an integer"):
        cumulative_mean([[1.0, 2.0]], axis=axis)


def test_cumulative_mean_accepts_numpy_integer_axis():
    x = np.array([[1.0, 3.0], [5.0, 7.0]])
    np.testing.assert_array_equal(cumulative_mean(x, axis=np.int64(0)), cumulative_mean(x, axis=0))


# --- huge finite values: no overflow, ordinary values unchanged ------------------------

BIG = 1.7e308
FMAX = float(np.finfo(np.float64).max)


@pytest.fixture
def no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def test_ordinary_inputs_take_numpys_path_bit_for_bit(no_warnings):
    # chapter outputs are stored and compared byte for byte: the overflow guard
    # must not change a single bit for ordinary inputs
    rng = np.random.default_rng(2024)
    for n in (1, 2, 3, 7, 8, 9, 100, 1001, 10_000):
        for scale in (1e-300, 1e-8, 1.0, 1e8, 1e150):
            x = rng.normal(size=n) * scale + rng.normal() * scale
            est = monte_carlo_mean(x)
            assert est.estimate == float(np.mean(x))
            if n > 1:
                assert est.std_error == float(np.std(x, ddof=1)) / math.sqrt(n)
            runs = rng.normal(size=(3, n)) * scale
            want = np.cumsum(runs, axis=-1) / np.arange(1, n + 1, dtype=np.float64)
            assert cumulative_mean(runs).tobytes() == want.tobytes()
            want0 = np.cumsum(runs.T, axis=0) / np.arange(1, n + 1, dtype=np.float64)[:, None]
            assert cumulative_mean(runs.T, axis=0).tobytes() == want0.tobytes()
    rolls = rng.choice(np.arange(1, 7), size=(3, 1000))  # integers, as in chapter 2
    want = np.cumsum(rolls, axis=-1) / np.arange(1, 1001, dtype=np.float64)
    assert cumulative_mean(rolls).tobytes() == want.tobytes()


def test_monte_carlo_mean_of_huge_equal_values(no_warnings):
    est = monte_carlo_mean([BIG, BIG])
    assert est.estimate == BIG and est.std_error == 0.0
    # three equal values: np.std itself leaves a rounding-level spread (as it
    # does for [-1.7e300] * 3), far below anything that matters
    for x in ([-BIG] * 3, [FMAX] * 5, [BIG] * 1000):
        est = monte_carlo_mean(x)
        assert est.estimate == pytest.approx(x[0], rel=1e-15, abs=0)
        assert 0.0 <= est.std_error <= 1e-15 * BIG


def test_monte_carlo_mean_huge_values_of_both_signs(no_warnings):
    # the mean is fine but the squared deviations overflow; s/√n = 1.7e308 itself
    est = monte_carlo_mean([BIG, -BIG])
    assert est.estimate == 0.0
    assert est.std_error == pytest.approx(BIG, rel=1e-15, abs=0)
    est = monte_carlo_mean([FMAX, -FMAX])  # s = √2 · FMAX is beyond float64, s/√n is not
    assert est.estimate == 0.0 and math.isfinite(est.std_error)
    assert est.std_error == pytest.approx(FMAX, rel=1e-15, abs=0)
    est = monte_carlo_mean([1e200, -1e200, 1e200, -1e200])
    assert est.estimate == 0.0
    assert est.std_error == pytest.approx(1e200 * math.sqrt(4 / 3) / 2, rel=1e-15, abs=0)


def _exact_mean_and_se(x):
    """Mean and s/√n from exact rational arithmetic, the latter as a multiple of max|x|."""
    xs = [Fraction(float(v)) for v in x]
    n = len(xs)
    mean = sum(xs) / n
    top = max(abs(v) for v in xs)
    if top == 0:
        return 0.0, 0.0
    ss = sum(((v - mean) / top) ** 2 for v in xs)
    return float(mean), math.sqrt(ss / (n - 1) / n) * float(top)


@settings(max_examples=200)
@given(
    arrays(
        np.float64,
        st.integers(2, 40),
        elements=st.floats(-FMAX, FMAX, allow_nan=False, allow_infinity=False),
    )
)
def test_monte_carlo_mean_of_any_finite_values_is_finite_and_accurate(x):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = monte_carlo_mean(x)
        running = cumulative_mean(x)
    mean, se = _exact_mean_and_se(x)
    top = float(np.abs(x).max())
    assert math.isfinite(est.estimate) and math.isfinite(est.std_error)
    assert est.estimate == pytest.approx(mean, rel=1e-12, abs=1e-14 * top)
    # (np.std's squares of deviations below ~1e-154 underflow to 0; the
    # ordinary path is NumPy's and keeps that, hence the tiny absolute slack)
    assert est.std_error == pytest.approx(se, rel=1e-12, abs=1e-14 * top + 1e-150)
    assert np.isfinite(running).all()
    assert running[-1] == pytest.approx(mean, rel=1e-12, abs=1e-13 * top)


def test_huge_values_are_an_exact_power_of_two_rescaling(no_warnings):
    # the guard sums values scaled by a power of two, which is exact, so the
    # result is what float64 with a wider exponent range would give
    rng = np.random.default_rng(5)
    x = rng.normal(loc=5.0, size=1000)
    k = 1015  # 5 · 2**1015 ≈ 2e306: the sum of 1000 of them overflows, and so do squares
    big = np.ldexp(x, k)
    with pytest.warns(RuntimeWarning):
        assert np.isinf(np.sum(big))  # the overflow that used to reach the result
    est, ref = monte_carlo_mean(big), monte_carlo_mean(x)
    assert est.estimate == math.ldexp(ref.estimate, k)
    assert est.std_error == math.ldexp(ref.std_error, k)
    running = cumulative_mean(big)
    assert running.tobytes() == np.ldexp(cumulative_mean(x), k).tobytes()


def test_cumulative_mean_of_huge_values(no_warnings):
    np.testing.assert_array_equal(cumulative_mean([BIG, BIG]), [BIG, BIG])
    np.testing.assert_array_equal(cumulative_mean([FMAX, FMAX, FMAX]), [FMAX] * 3)
    got = cumulative_mean([1.5e308, 1.7e308, -1.7e308, 0.0])
    np.testing.assert_allclose(got, [1.5e308, 1.6e308, 0.5e308, 0.375e308], rtol=1e-15, atol=0)


def test_cumulative_mean_overflow_leaves_other_entries_alone(no_warnings):
    rng = np.random.default_rng(8)
    ordinary = rng.normal(size=6)
    runs = np.stack([ordinary, [1e-300, 3.0, BIG, BIG, -BIG, 1.0]])
    got = cumulative_mean(runs)
    # the ordinary run, and the huge run before its sum overflows, are untouched
    want = np.cumsum(ordinary) / np.arange(1, 7)
    assert got[0].tobytes() == want.tobytes()
    assert got[1, 0] == 1e-300 and got[1, 1] == (1e-300 + 3.0) / 2
    assert got[1, 2] == pytest.approx(BIG / 3, rel=1e-15, abs=0)
    np.testing.assert_allclose(got[1, 3:], [BIG / 2, BIG / 5, (BIG + 4.0) / 6], rtol=1e-15, atol=0)
    # along axis 0 the same
    assert cumulative_mean(runs.T, axis=0).tobytes() == got.T.tobytes()


# --- MonteCarloEstimate and monte_carlo_mean ------------------------------------------


def test_estimate_is_frozen_and_has_readable_repr():
    est = MonteCarloEstimate(0.123456789, 0.00123456, 500)
    assert repr(est) == "MonteCarloEstimate(estimate=0.123457, std_error=0.00123, n=500)"
    with pytest.raises(AttributeError):
        est.n = 3  # type: ignore[misc]


def test_interval():
    est = MonteCarloEstimate(1.0, 0.25, 10)
    assert est.interval() == (0.5, 1.5)
    assert est.interval(1) == (0.75, 1.25)
    assert MonteCarloEstimate(math.inf, math.inf, 3).interval() == (math.inf, math.inf)
    for z in (-1.0, math.nan, math.inf, "2", True):
        with pytest.raises(ValueError, match="z must be"):
            est.interval(z)  # type: ignore[arg-type]


def test_interval_is_never_nan():
    one = MonteCarloEstimate(2.0, math.inf, 1)
    assert one.interval() == (-math.inf, math.inf)
    assert one.interval(0) == (2.0, 2.0)  # not 0 · inf = NaN
    assert MonteCarloEstimate(1.0, 0.25, 10).interval(0) == (1.0, 1.0)


def test_monte_carlo_mean_by_hand():
    x = np.array([1.0, 2.0, 3.0, 6.0])
    est = monte_carlo_mean(x)
    s = math.sqrt(sum((xi - 3.0) ** 2 for xi in x) / 3)
    assert est.n == 4
    assert est.estimate == 3.0
    assert est.std_error == pytest.approx(s / 2, rel=1e-15, abs=0)
    assert type(est.estimate) is float and type(est.std_error) is float


def test_monte_carlo_mean_edge_cases_never_nan():
    one = monte_carlo_mean([2.0])
    assert one.estimate == 2.0 and one.std_error == math.inf
    up = monte_carlo_mean([1.0, np.inf, 2.0])
    assert up.estimate == math.inf and up.std_error == math.inf
    down = monte_carlo_mean([-np.inf, 2.0])
    assert down.estimate == -math.inf


@pytest.mark.parametrize(
    ("values", "match"),
    [
        ([], r"^values is empty: a Monte Carlo estimate needs at least one sample$"),
        ([[1.0, 2.0]], r"^values must be one-dimensional, got shape \(1, 2\)$"),
        (
            [np.inf, -np.inf],
            r"^values has both \+inf and -inf: the mean is undefined \(inf - inf\)$",
        ),
        ([1.0, np.nan], "^values contains NaN$"),
        (["a"], "^values must be an array of real numbers"),
    ],
)
def test_monte_carlo_mean_rejects(values, match):
    with pytest.raises(ValueError, match=match):
        monte_carlo_mean(values)


# --- kl_from_samples -------------------------------------------------------------------


def test_kl_from_samples_by_hand():
    p, q = [0.75, 0.25], [0.5, 0.5]
    samples = [0, 0, 1, 0]
    llr = [math.log(1.5)] * 3 + [math.log(0.5)]
    est = kl_from_samples(samples, p, q)
    assert est.estimate == pytest.approx(sum(llr) / 4, rel=1e-14, abs=0)
    assert est.std_error == pytest.approx(np.std(llr, ddof=1) / 2, rel=1e-12, abs=0)
    bits = kl_from_samples(samples, p, q, base=2)
    assert bits.estimate == pytest.approx(est.estimate / LN2, rel=1e-14, abs=0)
    assert bits.std_error == pytest.approx(est.std_error / LN2, rel=1e-12, abs=0)


def test_kl_from_samples_counts_reproduce_exact_kl():
    # samples in exact proportion to P give exactly KL(P || Q)
    p = np.array([0.5, 0.25, 0.25])
    q = np.array([0.2, 0.3, 0.5])
    samples = np.repeat([0, 1, 2], [200, 100, 100])
    est = kl_from_samples(samples, p, q)
    assert est.estimate == pytest.approx(kl_divergence(p, q), rel=1e-12, abs=0)


def test_kl_from_samples_infinite_when_a_sample_hits_q_zero():
    est = kl_from_samples([0, 1, 0], [0.5, 0.5], [1.0, 0.0])
    assert est.estimate == math.inf and est.std_error == math.inf


def test_kl_from_samples_finite_when_no_sample_hits_q_zero():
    # the documented blind spot: the exact KL is inf, the samples never show it
    est = kl_from_samples([0, 0, 0], [0.999, 0.001], [1.0, 0.0])
    assert math.isfinite(est.estimate)
    assert kl_divergence([0.999, 0.001], [1.0, 0.0]) == math.inf


@pytest.mark.parametrize(
    ("samples", "p", "q", "match"),
    [
        ([0, 2], [0.5, 0.5], [0.5, 0.5], r"indices in 0\.\.1"),
        ([0, -1], [0.5, 0.5], [0.5, 0.5], "samples must be non-negative"),
        ([0, 0.5], [0.5, 0.5], [0.5, 0.5], "whole numbers"),
        (
            [],
            [0.5, 0.5],
            [0.5, 0.5],
            "^samples is empty: a Monte Carlo estimate needs at least one sample$",
        ),
        ([[0, 1]], [0.5, 0.5], [0.5, 0.5], "samples must be one-dimensional"),
        (
            [0, 2, 1],
            [0.5, 0.0, 0.5],
            [0.4, 0.2, 0.4],
            "^samples contains outcome 1, which has probability 0 under p: "
            "the samples must be drawn from P$",
        ),
        ([0, 1], [0.5, 0.6], [0.5, 0.5], "p does not sum to one"),
        ([0, 1], [0.5, 0.5], [0.5, 0.25, 0.25], "same number of outcomes"),
        (
            [0, 1],
            [[0.5, 0.5]],
            [0.5, 0.5],
            r"^p must be a single probability vector, got shape \(1, 2\)$",
        ),
        (
            [0, 1],
            [0.5, 0.5],
            [[0.5, 0.5]],
            r"^q must be a single probability vector, got shape \(1, 2\)$",
        ),
    ],
)
def test_kl_from_samples_rejects(samples, p, q, match):
    with pytest.raises(ValueError, match=match):
        kl_from_samples(samples, p, q)


# --- kl_monte_carlo ------------------------------------------------------------------


P3 = np.array([0.6, 0.3, 0.1])
Q3 = np.array([0.3, 0.3, 0.4])


def test_reproducible_for_a_seed_and_exported():
    a = kl_monte_carlo(P3, Q3, 1000, np.random.default_rng(7))
    b = kl_monte_carlo(P3, Q3, 1000, np.random.default_rng(7))
    assert a == b
    assert isinstance(a, MonteCarloEstimate) and a.n == 1000
    assert "kl_monte_carlo" in klbook.__all__ and "expected_value" in klbook.__all__


def test_same_draws_as_kl_from_samples():
    samples = np.random.default_rng(3).choice(3, size=500, p=P3)
    direct = kl_from_samples(samples, P3, Q3)
    assert kl_monte_carlo(P3, Q3, 500, np.random.default_rng(3)) == direct


def test_unbiased_within_its_standard_error_over_seeds():
    exact = kl_divergence(P3, Q3)
    ests = [kl_monte_carlo(P3, Q3, 50, np.random.default_rng(seed)) for seed in range(200)]
    values = np.array([e.estimate for e in ests])
    se_of_mean = values.std(ddof=1) / math.sqrt(values.size)
    assert abs(values.mean() - exact) < 4 * se_of_mean
    # the reported standard error matches the spread of the estimates
    true_sd = math.sqrt(
        sum(pi * math.log(pi / qi) ** 2 for pi, qi in zip(P3, Q3, strict=True)) - exact**2
    ) / math.sqrt(50)
    assert np.mean([e.std_error for e in ests]) == pytest.approx(true_sd, rel=0.1, abs=0)
    assert values.std(ddof=1) == pytest.approx(true_sd, rel=0.2, abs=0)


def test_two_standard_errors_cover_about_95_percent():
    exact = kl_divergence(P3, Q3)
    covered = 0
    for seed in range(400):
        lo, hi = kl_monte_carlo(P3, Q3, 200, np.random.default_rng(seed)).interval(2)
        covered += lo <= exact <= hi
    assert 0.90 <= covered / 400 <= 0.99


def test_converges_as_n_grows():
    exact = kl_divergence(P3, Q3, base=2)
    est = kl_monte_carlo(P3, Q3, 200_000, np.random.default_rng(11), base=2)
    assert est.std_error < 0.005
    assert abs(est.estimate - exact) < 5 * est.std_error


def test_equal_distributions_estimate_zero_exactly():
    est = kl_monte_carlo(P3, P3, 100, np.random.default_rng(0))
    assert est.estimate == 0.0 and est.std_error == 0.0


def test_q_zero_on_support_gives_inf():
    est = kl_monte_carlo([0.5, 0.5], [1.0, 0.0], 100, np.random.default_rng(0))
    assert est.estimate == math.inf and est.std_error == math.inf


def test_one_sample_has_infinite_standard_error():
    est = kl_monte_carlo(P3, Q3, 1, np.random.default_rng(0))
    assert math.isfinite(est.estimate) and est.std_error == math.inf


@pytest.mark.parametrize(
    ("n", "match"),
    [
        (0, "at least 1"),
        (-5, "at least 1"),
        (10.0, "positive integer"),
        (True, "positive integer"),
        ("10", "positive integer"),
        (None, "positive integer"),
    ],
)
def test_kl_monte_carlo_rejects_bad_n(n, match):
    with pytest.raises(ValueError, match=match):
        kl_monte_carlo(P3, Q3, n, np.random.default_rng(0))


def test_kl_monte_carlo_accepts_numpy_integer_n():
    assert kl_monte_carlo(P3, Q3, np.int64(20), np.random.default_rng(0)).n == 20


@pytest.mark.parametrize("rng", [0, None, np.random.RandomState(0), np.random])
def test_kl_monte_carlo_rejects_non_generator(rng):
    with pytest.raises(ValueError) as info:
        kl_monte_carlo(P3, Q3, 10, rng)
    assert str(info.value) == (
        "rng must be a numpy.random.Generator (use np.random.default_rng(seed)), "
        f"got {type(rng).__name__}"
    )


@pytest.mark.parametrize("base", [1, 0, -2, "2", math.nan])
def test_kl_monte_carlo_rejects_bad_base(base):
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="base must be"):
        kl_monte_carlo(P3, Q3, 10, rng, base=base)
    # refused before drawing: the generator has not moved
    assert rng.random() == np.random.default_rng(0).random()


def test_kl_from_samples_accepts_samples_of_a_certain_outcome():
    # a sample whose probability under P is 1 is as good as any other
    est = kl_from_samples([0, 0, 0], [1.0, 0.0], [0.5, 0.5])
    assert est.estimate == pytest.approx(math.log(2), rel=1e-15, abs=0)
    assert est.std_error == 0.0 and est.n == 3


def test_kl_monte_carlo_rejects_bad_distributions():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="p does not sum to one"):
        kl_monte_carlo([0.6, 0.6], [0.5, 0.5], 10, rng)
    with pytest.raises(ValueError, match="q has a negative entry"):
        kl_monte_carlo([0.5, 0.5], [1.5, -0.5], 10, rng)
    with pytest.raises(ValueError, match="same number of outcomes"):
        kl_monte_carlo([0.5, 0.5], P3, 10, rng)


def test_cumulative_mean_keeps_the_plain_means_bit_for_bit_beside_a_rescued_overflow(no_warnings):
    # Subnormal means before the sum overflows: scaled down by 2**-c they would lose bits,
    # so only the entries that overflowed may come from the rescaled sums.
    x = np.array([1e-310, 3e-310, BIG, BIG])
    got = cumulative_mean(x)
    plain = np.cumsum(x[:2]) / np.arange(1, 3)
    assert got[:2].tobytes() == plain.tobytes()
    np.testing.assert_allclose(got[2:], [BIG / 3, BIG / 2], rtol=1e-15, atol=0)


def test_cumulative_mean_of_extreme_values_stays_within_them(no_warnings):
    for value in (FMAX, -FMAX):
        got = cumulative_mean([value] * 7)
        assert (got == value).all()
    # each run (row) is held between its own running minimum and maximum
    runs = np.array([[FMAX, FMAX, FMAX], [-FMAX, -FMAX, -FMAX]])
    assert cumulative_mean(runs).tolist() == runs.tolist()
    assert cumulative_mean(runs.T, axis=0).tolist() == runs.T.tolist()


def test_monte_carlo_mean_of_values_whose_partial_sums_overflow_both_ways(no_warnings):
    # NumPy sums 16 values in 8 interleaved partial sums (element i goes to sum i mod 8):
    # here four of them are +inf and four -inf, and inf - inf is NaN; the estimate is
    # rescued from that too
    est = monte_carlo_mean([FMAX] * 4 + [-FMAX] * 4 + [FMAX] * 4 + [-FMAX] * 4)
    assert est.estimate == 0.0 and est.n == 16
    assert math.isfinite(est.std_error) and est.std_error > 0


def test_monte_carlo_mean_of_infinite_samples_counts_them():
    est = monte_carlo_mean([1.0, math.inf, 2.0])
    assert (est.estimate, est.std_error, est.n) == (math.inf, math.inf, 3)
    est = monte_carlo_mean([-math.inf])
    assert (est.estimate, est.std_error, est.n) == (-math.inf, math.inf, 1)


def test_expected_value_decides_inf_minus_inf_per_distribution():
    # +inf in one row, -inf in the other: each row's expectation is defined
    got = expected_value([[np.inf, 0.0], [-np.inf, 0.0]], [[0.5, 0.5], [0.5, 0.5]])
    assert got.tolist() == [math.inf, -math.inf]
    with pytest.raises(ValueError) as info:
        expected_value([np.inf, -np.inf], [0.5, 0.5])
    assert str(info.value) == (
        "the expectation is undefined: values has both +inf and -inf at outcomes "
        "of positive probability (inf - inf)"
    )


def test_expected_value_overflows_to_inf_without_a_warning(no_warnings):
    # weights a hair over one (within the tolerance) times the largest float: the sum of
    # finite terms exceeds the float range, as the docstring says
    assert expected_value([FMAX, FMAX], [0.5 + 4e-9, 0.5 + 4e-9]) == math.inf
    assert expected_value([-FMAX, -FMAX], [0.5 + 4e-9, 0.5 + 4e-9]) == -math.inf


def test_monte_carlo_mean_of_one_sample():
    est = monte_carlo_mean([2.5])
    assert (est.estimate, est.std_error, est.n) == (2.5, math.inf, 1)


def test_rescued_means_are_held_between_each_runs_own_running_extremes(no_warnings):
    # The sum overflows at the second value; the rescued means F/3 and F/2 lie between the
    # running minimum (-F from the third value on) and maximum (F) of this run's values.
    runs = np.array([[FMAX, FMAX, -FMAX, FMAX]])
    want = [FMAX, FMAX, FMAX / 3, FMAX / 2]
    np.testing.assert_allclose(cumulative_mean(runs)[0], want, rtol=1e-15, atol=0)
    np.testing.assert_allclose(cumulative_mean(runs.T, axis=0)[:, 0], want, rtol=1e-15, atol=0)
