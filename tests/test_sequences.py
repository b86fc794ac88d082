"""klbook.sequences: sequence probabilities and log-likelihood ratios of coins."""

from __future__ import annotations

import math
from decimal import Decimal, localcontext

import numpy as np
import pytest
import scipy.stats
from hypothesis import assume, given
from hypothesis import strategies as st

from klbook import binary_kl, log_likelihood_ratio, sequence_log_prob

from . import exact

probability = st.floats(0.0, 1.0, allow_nan=False)
inner_probability = st.floats(1e-6, 1 - 1e-6, allow_nan=False)


@st.composite
def heads_and_flips(draw, max_n=200):
    n = draw(st.integers(0, max_n))
    k = draw(st.integers(0, n))
    return k, n


@given(heads_and_flips(max_n=60), inner_probability)
def test_sequence_log_prob_is_log_of_the_product(kn, p):
    # The product in 60-digit decimals: no underflow (p = 1e-6, k = 60 is 1e-360) and
    # no rounding to speak of, so this is the exact log of p^k (1 - p)^(n - k).
    k, n = kn
    with localcontext() as ctx:
        ctx.prec = 60
        exact = float((Decimal(p) ** k * (1 - Decimal(p)) ** (n - k)).ln())
    assert sequence_log_prob(k, n, p) == pytest.approx(exact, rel=1e-12, abs=1e-12)


@given(heads_and_flips(), inner_probability)
def test_matches_scipy_binomial_without_the_binomial_coefficient(kn, p):
    k, n = kn
    log_comb = math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
    expected = scipy.stats.binom.logpmf(k, n, p) - log_comb
    assert sequence_log_prob(k, n, p) == pytest.approx(expected, rel=1e-8, abs=1e-8)


def test_exact_at_the_edges():
    assert sequence_log_prob(0, 10, 0.0) == 0.0
    assert sequence_log_prob(10, 10, 1.0) == 0.0
    assert sequence_log_prob(1, 10, 0.0) == -math.inf
    assert sequence_log_prob(9, 10, 1.0) == -math.inf
    assert sequence_log_prob(0, 0, 0.3) == 0.0


def test_no_underflow_where_the_product_does():
    n = 10_000
    assert 0.5**n == 0.0  # the naive product underflows
    assert sequence_log_prob(n // 2, n, 0.5) == pytest.approx(-n * math.log(2), rel=1e-14, abs=0)


def test_order_does_not_matter_only_counts():
    flips = np.array([1, 0, 0, 1, 1, 1, 0, 1])
    p = 0.7
    direct = float(np.sum(np.where(flips == 1, math.log(p), math.log(1 - p))))
    assert sequence_log_prob(int(flips.sum()), flips.size, p) == pytest.approx(
        direct, rel=1e-14, abs=0
    )


def test_broadcasting_and_base():
    got = sequence_log_prob(np.array([0, 1, 2]), 2, 0.5, base=2)
    assert got.tolist() == [-2.0, -2.0, -2.0]
    grid = sequence_log_prob(3, 5, np.array([[0.2], [0.5]]))
    assert grid.shape == (2, 1)
    want = [3 * math.log(0.2) + 2 * math.log(0.8), 5 * math.log(0.5)]
    np.testing.assert_allclose(grid[:, 0], want, rtol=1e-15, atol=0)


@given(heads_and_flips(), inner_probability, inner_probability)
def test_llr_is_difference_of_log_probs(kn, p, q):
    k, n = kn
    expected = sequence_log_prob(k, n, p) - sequence_log_prob(k, n, q)
    assert log_likelihood_ratio(k, n, p, q) == pytest.approx(expected, rel=1e-12, abs=1e-12)


@given(heads_and_flips(), inner_probability, inner_probability)
def test_llr_is_antisymmetric_in_the_coins(kn, p, q):
    k, n = kn
    assert log_likelihood_ratio(k, n, p, q) == pytest.approx(
        -log_likelihood_ratio(k, n, q, p), rel=1e-12, abs=1e-12
    )


@given(heads_and_flips(), inner_probability)
def test_llr_is_zero_for_equal_coins(kn, p):
    k, n = kn
    assert log_likelihood_ratio(k, n, p, p) == 0.0


@given(st.integers(1, 1023), inner_probability)
def test_llr_per_flip_at_expected_counts_is_kl(k, q):
    # With k = n p heads, LLR/n = (k/n) log(p/q) + (1 - k/n) log((1 - p)/(1 - q)) = KL(P||Q).
    # n = 1024 makes p = k/n exact in binary, so the identity holds for the floats too.
    n = 1024
    p = k / n
    per_flip = log_likelihood_ratio(k, n, p, q) / n
    kl = binary_kl(p, q)
    assert kl == pytest.approx(exact.binary_kl(p, q), rel=1e-12, abs=0)
    # The LLR is a sum of two terms of opposite sign: it is accurate to a few units in the
    # last place of the larger term, which is much more than KL itself when q ≈ p.
    terms = (k * abs(math.log(p / q)) + (n - k) * abs(math.log((1 - p) / (1 - q)))) / n
    assert per_flip == pytest.approx(kl, rel=1e-12, abs=1e-14 * terms)


def test_llr_sign_favours_the_better_coin():
    assert log_likelihood_ratio(8, 10, 0.8, 0.5) > 0
    assert log_likelihood_ratio(2, 10, 0.8, 0.5) < 0
    # k where both coins explain the data equally well (p = 0.8, q = 0.2, n = 10): k = 5
    assert log_likelihood_ratio(5, 10, 0.8, 0.2) == pytest.approx(0.0, abs=1e-12)


def test_llr_infinite_when_one_coin_rules_the_sequence_out():
    assert log_likelihood_ratio(3, 10, 0.5, 0.0) == math.inf
    assert log_likelihood_ratio(3, 10, 0.0, 0.5) == -math.inf


def test_llr_undefined_when_both_rule_it_out():
    with pytest.raises(ValueError, match="probability zero under both"):
        log_likelihood_ratio(3, 10, 0.0, 0.0)


@pytest.mark.parametrize(
    ("k", "n", "p", "message"),
    [
        (5, 3, 0.5, r"^k must lie in 0\.\.n: a sequence cannot have more heads than flips$"),
        (-1, 3, 0.5, "k must be non-negative"),
        (1.5, 3, 0.5, "k must be whole numbers"),
        (1, 2.5, 0.5, "n must be whole numbers"),
        (1, 3, 1.5, "p must hold probabilities"),
        (1, 3, -0.5, "p must hold probabilities"),
        (1, 3, np.nan, "p contains NaN"),
        (np.nan, 3, 0.5, "k contains NaN"),
        (1, np.inf, 0.5, "n must be finite"),
        ([1, 2], [3, 4, 5], 0.5, "do not broadcast"),
    ],
)
def test_bad_input(k, n, p, message):
    with pytest.raises(ValueError, match=message):
        sequence_log_prob(k, n, p)


def test_bad_q_in_llr_is_named():
    with pytest.raises(ValueError, match="q must hold probabilities"):
        log_likelihood_ratio(1, 3, 0.5, 2.0)
    with pytest.raises(ValueError, match="base"):
        log_likelihood_ratio(1, 3, 0.5, 0.4, base=1)
    assert log_likelihood_ratio(1, 2, 0.5, 0.25, base=2) == pytest.approx(
        log_likelihood_ratio(1, 2, 0.5, 0.25) / math.log(2), rel=1e-15, abs=0
    )
    # log2(0.5/0.25) + log2(0.5/0.75) = 1 + log2(2/3)
    assert log_likelihood_ratio(1, 2, 0.5, 0.25, base=2) == pytest.approx(
        2 - math.log2(3), rel=1e-14, abs=0
    )


def _exact_llr(k: int, n: int, p: float, q: float) -> float:
    with localcontext() as ctx:
        ctx.prec = 250
        dp, dq = Decimal(p), Decimal(q)
        return float(k * (dp / dq).ln() + (n - k) * ((1 - dp) / (1 - dq)).ln())


@given(heads_and_flips(max_n=10**7), inner_probability, st.floats(-1e-3, 1e-3))
def test_llr_is_accurate_when_the_coins_nearly_agree(kn, p, gap):
    # log P and log Q are each about n times larger than their difference: subtracting
    # them would lose the digits (and for n = 10^6, p - q = 1e-9, even the sign).
    k, n = kn
    q = p * (1 + gap)
    assume(0 < q < 1)
    exact = _exact_llr(k, n, p, q)
    scale = k * abs(math.log1p(gap)) + (n - k) * abs(math.log((1 - p) / (1 - q)))
    assert abs(log_likelihood_ratio(k, n, p, q) - exact) <= 1e-13 * scale + 1e-300


def test_llr_keeps_its_sign_for_a_million_flips_of_nearly_equal_coins():
    exact = _exact_llr(300_000, 1_000_000, 0.3, 0.3 + 1e-9)
    assert exact > 0
    assert log_likelihood_ratio(300_000, 1_000_000, 0.3, 0.3 + 1e-9) == pytest.approx(
        exact, rel=1e-6, abs=0
    )


@pytest.mark.parametrize("huge", [1e19, 2**53 + 2, 1e300])
def test_counts_beyond_exact_integers_are_refused_without_warnings(huge):
    with pytest.raises(ValueError, match="at most 2\\*\\*53"):
        sequence_log_prob(0, huge, 0.5)


@pytest.mark.parametrize(
    ("x", "mean", "sd", "message"),
    [
        ([0, np.inf], 0.0, 1.0, "x must be finite whole numbers, got an infinite value"),
        ([0, 0.5], 0.0, 1.0, "x must be whole numbers, got a fractional value"),
        (0, -np.inf, 1.0, "mean must be finite, got an infinite value"),
        (0, 0.0, 0.0, "sd must be finite and positive"),
        (0, 0.0, np.inf, "sd must be finite and positive"),
        (0, 0.0, np.nan, "sd contains NaN"),
        (
            [0, 1],
            [0.0, 1.0, 2.0],
            [[1.0], [2.0]],
            "x, mean and sd have shapes (2,), (3,) and (2, 1), which do not broadcast",
        ),
    ],
)
def test_discretised_normal_refuses_bad_input_and_says_why(x, mean, sd, message):
    from klbook import discretised_normal_logpmf

    with pytest.raises(ValueError) as info:
        discretised_normal_logpmf(x, mean, sd)
    assert str(info.value) == message


def test_discretised_normal_far_beyond_the_float_range_is_minus_inf_without_warnings():
    import warnings

    from klbook import discretised_normal_logpmf

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # a Gaussian of width 1e-300: the interval round 10 has mass exp(-5e601)
        assert discretised_normal_logpmf(10, 0.0, 1e-300) == -math.inf
        assert discretised_normal_logpmf(-10, 0.0, 1e-300) == -math.inf
        # ... and the interval round its mean has all of it
        assert discretised_normal_logpmf(0, 0.0, 1e-300) == 0.0


def test_llr_of_float32_coins_is_computed_in_float64():
    # the float32 numbers are exact in float64; the ratio must not be rounded to float32
    # (1 - p and 1 - q rounded to float32 would be off by up to 3e-8, relatively)
    for p, q in [(0.3, 0.3001), (0.1, 0.9), (0.9, 0.1), (0.1, 0.1001)]:
        p32, q32 = np.float32(p), np.float32(q)
        want = log_likelihood_ratio(300, 1000, float(p32), float(q32))
        for pp, qq in [(p32, q32), (p32, float(q32)), (float(p32), q32)]:
            assert log_likelihood_ratio(300, 1000, pp, qq) == want
        exact_value = _exact_llr(300, 1000, float(p32), float(q32))
        assert want == pytest.approx(exact_value, rel=1e-9, abs=0)


def test_llr_batches_mixing_certain_and_uncertain_coins_without_warnings():
    import warnings

    k = np.array([0, 3, 10, 0])
    p = np.array([0.0, 0.5, 1.0, 0.3])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = log_likelihood_ratio(k, 10, p, 0.5)
    np.testing.assert_allclose(
        got, [10 * math.log(2), 0.0, 10 * math.log(2), 10 * math.log(0.7 / 0.5)], rtol=1e-15, atol=0
    )


def test_llr_against_a_coin_below_the_overflow_threshold():
    # q = 1e-310: p/q overflows, so the ratio is log p - log q, finite and exact
    got = log_likelihood_ratio(3, 10, 0.5, 1e-310)
    assert math.isfinite(got)
    assert got == pytest.approx(_exact_llr(3, 10, 0.5, 1e-310), rel=1e-14, abs=0)


def test_llr_names_a_bad_p():
    with pytest.raises(ValueError, match=r"^p must hold probabilities in \[0, 1\]"):
        log_likelihood_ratio(1, 3, 1.5, 0.5)
    with pytest.raises(ValueError, match=r"^k, n and p have shapes \(2,\), \(2,\) and \(3,\)"):
        log_likelihood_ratio([1, 2], [3, 4], [0.5, 0.5, 0.5], 0.5)


def test_llr_messages_name_q_and_the_impossible_sequence():
    with pytest.raises(ValueError, match=r"^k, n and q have shapes \(2,\), \(2,\) and \(3,\)"):
        log_likelihood_ratio([1, 2], [3, 4], 0.5, [0.5, 0.5, 0.5])
    with pytest.raises(ValueError) as info:
        log_likelihood_ratio(3, 10, 0.0, 0.0)
    assert str(info.value) == (
        "the sequence has probability zero under both p and q, so their ratio is undefined"
    )


def test_sequence_log_prob_names_p_in_a_shape_error():
    with pytest.raises(ValueError) as info:
        sequence_log_prob([1, 2], [3, 4], [0.5, 0.5, 0.5])
    assert str(info.value) == "k, n and p have shapes (2,), (2,) and (3,), which do not broadcast"
