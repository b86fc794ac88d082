"""Tests of klbook.error_exponents: every error probability against an independent sum
(scipy's binomial distribution or a brute-force count over all sequences), the
Neyman–Pearson lemma and the Chernoff identities as properties."""

from __future__ import annotations

import dataclasses
import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
import scipy.special
import scipy.stats
from hypothesis import assume, given
from hypothesis import strategies as st
from scipy.optimize import minimize_scalar

from klbook import (
    MAX_DETERMINISTIC_FLIPS,
    best_deterministic_test,
    binary_kl,
    binomial_log_pmf,
    chernoff_information,
    kl_divergence,
    likelihood_ratio_test,
    llr_variance,
    sign_rule_errors,
    typical_set,
)

coins = st.floats(0.02, 0.98)
levels = st.floats(0.01, 0.5)


def _coin_pair(p: float, q: float) -> None:
    assume(abs(p - q) > 1e-3)


def _pmf(n: int, p: float) -> np.ndarray:
    return scipy.stats.binom.pmf(np.arange(n + 1), n, p)


# ------------------------------------------------------------ binomial_log_pmf


@given(st.integers(1, 3000), coins)
def test_binomial_log_pmf_matches_scipy(n, p):
    k = np.arange(n + 1)
    np.testing.assert_allclose(
        binomial_log_pmf(n, p), scipy.stats.binom.logpmf(k, n, p), rtol=1e-9, atol=1e-9
    )


def test_binomial_log_pmf_far_tail_is_finite_where_the_pmf_underflows():
    logs = binomial_log_pmf(100_000, 0.4)
    assert scipy.stats.binom.pmf(70_000, 100_000, 0.4) == 0.0
    assert math.isclose(logs[70_000], scipy.stats.binom.logpmf(70_000, 100_000, 0.4), rel_tol=1e-12)
    assert math.isclose(float(np.logaddexp.reduce(logs)), 0.0, abs_tol=1e-9)


# ------------------------------------------------------- likelihood_ratio_test


def _errors_of_rule(n, p, q, say_q):
    """α and β of a rule given as the probability of saying "Q" at each head count."""
    say_q = np.asarray(say_q, dtype=float)
    return float(_pmf(n, p) @ say_q), float(_pmf(n, q) @ (1 - say_q))


def _rule(t, n, p, q):
    """The test t as the probability of saying "Q" at each head count 0..n."""
    k = np.arange(n + 1)
    q_side = k < t.cutoff if p > q else k > t.cutoff
    return np.where(k == t.cutoff, t.gamma, q_side.astype(float))


@given(st.integers(1, 60), coins, coins, levels, st.booleans())
def test_lr_test_errors_match_a_direct_sum(n, p, q, alpha, randomised):
    _coin_pair(p, q)
    t = likelihood_ratio_test(n, p, q, alpha, randomised=randomised)
    a, b = _errors_of_rule(n, p, q, _rule(t, n, p, q))
    assert math.isclose(t.alpha, a, rel_tol=1e-9, abs_tol=1e-15)
    assert math.isclose(t.beta, b, rel_tol=1e-8, abs_tol=1e-15)
    assert math.isclose(t.exponent, -t.log_beta / n)


@given(st.integers(1, 60), coins, coins, levels)
def test_randomised_test_has_size_exactly_alpha(n, p, q, alpha):
    _coin_pair(p, q)
    t = likelihood_ratio_test(n, p, q, alpha, randomised=True)
    assert 0 < t.gamma <= 1
    assert math.isclose(t.alpha, alpha, rel_tol=1e-9)


@given(st.integers(1, 60), coins, coins, levels)
def test_threshold_test_is_the_largest_threshold_within_alpha(n, p, q, alpha):
    _coin_pair(p, q)
    t = likelihood_ratio_test(n, p, q, alpha)
    assert t.gamma in (0.0, 1.0)
    assert t.alpha <= alpha * (1 + 1e-12)
    # one more head count on Q's side would exceed alpha
    k = np.arange(n + 1)
    grown = _rule(t, n, p, q)
    nxt = t.cutoff if t.gamma == 0 else (t.cutoff + 1 if p > q else t.cutoff - 1)
    if 0 <= nxt <= n:
        grown[k == nxt] = 1.0
        assert _errors_of_rule(n, p, q, grown)[0] > alpha * (1 - 1e-12)


@given(st.integers(1, 10), coins, coins, levels)
def test_neyman_pearson_lemma_against_every_deterministic_test(n, p, q, alpha):
    """The randomised test beats every set of size ≤ alpha; the threshold test beats
    every set whose size is at most its own."""
    _coin_pair(p, q)
    rand = likelihood_ratio_test(n, p, q, alpha, randomised=True)
    thr = likelihood_ratio_test(n, p, q, alpha)
    pmf_p, pmf_q = _pmf(n, p), _pmf(n, q)
    for bits in range(2 ** (n + 1)):
        member = np.array([(bits >> k) & 1 for k in range(n + 1)], dtype=float)
        a, b = member @ pmf_p, (1 - member) @ pmf_q
        if a <= alpha:
            assert rand.beta <= b + 1e-12
        if a <= thr.alpha:
            assert thr.beta <= b + 1e-12


def test_lr_test_at_n15_the_chapters_numbers():
    thr = likelihood_ratio_test(15, 0.7, 0.4, 0.05)
    rand = likelihood_ratio_test(15, 0.7, 0.4, 0.05, randomised=True)
    best = best_deterministic_test(15, 0.7, 0.4, 0.05)
    assert (thr.cutoff, round(thr.alpha, 3), round(thr.beta, 3)) == (7, 0.015, 0.390)
    assert round(thr.exponent, 3) == 0.063
    assert best.say_q == (0, 1, 2, 4, 5, 6, 7)
    assert (round(best.alpha, 4), round(best.beta, 3), round(best.exponent, 3)) == (
        0.0499,
        0.276,
        0.086,
    )
    assert round(rand.exponent, 3) == 0.103
    assert thr.beta > best.beta > rand.beta


def test_lr_test_mirrors_when_p_is_below_q():
    a = likelihood_ratio_test(40, 0.3, 0.6, 0.05, randomised=True)
    b = likelihood_ratio_test(40, 0.7, 0.4, 0.05, randomised=True)
    assert a.cutoff == 40 - b.cutoff
    assert math.isclose(a.log_beta, b.log_beta, rel_tol=1e-12)


def test_lr_test_vectorised_over_n_equals_one_by_one():
    ns = [5, 50, 500]
    many = likelihood_ratio_test(ns, 0.6, 0.5, 0.1, randomised=True)
    assert many.exponent.shape == (3,)
    for i, n in enumerate(ns):
        one = likelihood_ratio_test(n, 0.6, 0.5, 0.1, randomised=True)
        assert isinstance(one.cutoff, int) and isinstance(one.log_beta, float)
        assert one.cutoff == many.cutoff[i]
        assert one.log_beta == many.log_beta[i]


def test_stein_exponent_approaches_kl_with_the_finite_n_correction():
    p, q, alpha = 0.7, 0.4, 0.05
    kl = binary_kl(p, q)
    sigma = math.sqrt(llr_variance([p, 1 - p], [q, 1 - q]))
    z = scipy.stats.norm.isf(alpha)
    ns = np.array([1_000, 10_000, 100_000])
    t = likelihood_ratio_test(ns, p, q, alpha, randomised=True)
    approx = kl - z * sigma / np.sqrt(ns) + np.log(ns) / (2 * ns)
    assert np.all(t.exponent < kl)
    assert np.all(np.diff(t.exponent) > 0)
    # what is left is O(1/N): N times the remainder stays bounded
    assert np.all(np.abs((t.exponent - approx) * ns) < 3)
    assert np.all(np.abs(t.exponent - approx) < np.abs(t.exponent - kl) / 5)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((0, 0.7, 0.4, 0.05), "n must hold integers >= 1"),
        ((2.0, 0.7, 0.4, 0.05), "n must hold integers"),
        (([[2]], 0.7, 0.4, 0.05), "1-d array"),
        (([], 0.7, 0.4, 0.05), "at least one"),
        ((True, 0.7, 0.4, 0.05), "n must hold integers"),
        ((10, 1.0, 0.4, 0.05), "strictly between 0 and 1"),
        ((10, 0.7, 0.0, 0.05), "strictly between 0 and 1"),
        ((10, 0.7, 1.4, 0.05), r"probabilities in \[0, 1\]"),
        ((10, 0.7, 0.7, 0.05), "p and q must differ"),
        ((10, 0.7, 0.4, 0.0), "alpha must lie"),
        ((10, 0.7, 0.4, 1.0), "alpha must lie"),
        ((10, 0.7, 0.4, "0.05"), "alpha must be a number"),
        ((10, [0.7, 0.3], 0.4, 0.05), "single probability"),
    ],
)
def test_lr_test_rejects_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        likelihood_ratio_test(*args)


def test_lr_test_rejects_a_non_bool_randomised():
    with pytest.raises(ValueError, match="randomised"):
        likelihood_ratio_test(10, 0.7, 0.4, 0.05, randomised=1)


# ------------------------------------------------------ best_deterministic_test


@given(st.integers(1, 9), coins, coins, levels)
def test_best_deterministic_test_against_itertools(n, p, q, alpha):
    pmf_p, pmf_q = _pmf(n, p), _pmf(n, q)
    best_beta = min(
        sum(pmf_q[k] for k in range(n + 1) if k not in s)
        for r in range(n + 2)
        for s in itertools.combinations(range(n + 1), r)
        if sum(pmf_p[k] for k in s) <= alpha * (1 + 1e-12)  # the same rounding allowance
    )
    t = best_deterministic_test(n, p, q, alpha)
    assert math.isclose(t.beta, best_beta, rel_tol=1e-9, abs_tol=1e-15)
    assert t.alpha <= alpha * (1 + 1e-12)
    assert math.isclose(t.alpha, sum(pmf_p[k] for k in t.say_q), rel_tol=1e-9, abs_tol=1e-300)


def test_best_deterministic_test_limits():
    with pytest.raises(ValueError, match="at most 20"):
        best_deterministic_test(MAX_DETERMINISTIC_FLIPS + 1, 0.7, 0.4, 0.05)
    with pytest.raises(ValueError, match="alpha"):
        best_deterministic_test(5, 0.7, 0.4, 1.5)
    with pytest.raises(ValueError, match="integer"):
        best_deterministic_test(5.0, 0.7, 0.4, 0.05)
    # a level below every single head count's probability: only the empty set
    t = best_deterministic_test(2, 0.5, 0.4, 0.1)
    assert t.say_q == () and t.alpha == 0.0 and math.isclose(t.beta, 1.0)


# ------------------------------------------------------------ sign_rule_errors


def _sign_rule_direct(n, p, q):
    k = np.arange(n + 1)
    llr = k * math.log(p / q) + (n - k) * math.log((1 - p) / (1 - q))
    tie = np.abs(llr) <= 1e-9
    credit_p = np.where(tie, 0.5, (llr > 0).astype(float))  # for saying "P"
    return float(_pmf(n, p) @ credit_p), float(_pmf(n, q) @ (1 - credit_p))


@given(st.integers(1, 200), coins, coins)
def test_sign_rule_accuracy_matches_chapter_1s_formula(n, p, q):
    _coin_pair(p, q)
    e = sign_rule_errors(n, p, q)
    acc_p, acc_q = _sign_rule_direct(n, p, q)
    assert math.isclose(e.accuracy_p, acc_p, rel_tol=1e-9, abs_tol=1e-12)
    assert math.isclose(e.accuracy_q, acc_q, rel_tol=1e-9, abs_tol=1e-12)


def test_sign_rule_chapter_1_values_and_ties():
    e = sign_rule_errors([20, 100, 200], 0.7, 0.5)
    np.testing.assert_allclose(e.accuracy_p, [0.7723, 0.9790, 0.9984], atol=5e-5)
    np.testing.assert_allclose(e.accuracy_q, [0.8684, 0.9824, 0.9982], atol=5e-5)
    sym = sign_rule_errors(np.arange(1, 7), 0.7, 0.3)  # ties at k = n/2, even n
    np.testing.assert_allclose(
        sym.accuracy_p, [0.7, 0.7, 0.784, 0.784, 0.83692, 0.83692], atol=5e-6
    )
    same = sign_rule_errors(7, 0.4, 0.4)  # every sequence is a tie
    assert math.isclose(same.accuracy_p, 0.5) and math.isclose(same.log_error, math.log(0.5))


def test_sign_rule_error_decays_at_the_chernoff_rate():
    c = chernoff_information([0.7, 0.3], [0.5, 0.5]).information
    ns = np.array([1_000, 10_000, 100_000])
    e = sign_rule_errors(ns, 0.7, 0.5)
    assert np.all(np.isfinite(e.log_error))
    # −(1/N) log P_e = C + ln N/(2N) + O(1/N)
    remainder = (e.exponent - c - np.log(ns) / (2 * ns)) * ns
    assert np.all(np.abs(remainder) < 2)
    assert abs(e.exponent[-1] - c) < 1e-3
    # and not at either KL
    assert e.exponent[-1] < binary_kl(0.7, 0.5) / 3


def test_sign_rule_rejects_bad_input():
    with pytest.raises(ValueError, match="strictly between"):
        sign_rule_errors(10, 0.0, 0.5)
    with pytest.raises(ValueError, match="integers >= 1"):
        sign_rule_errors([0, 1], 0.7, 0.5)


# -------------------------------------------------------- chernoff_information

distributions = st.integers(2, 6).flatmap(
    lambda m: st.tuples(
        st.lists(st.floats(0.01, 1.0), min_size=m, max_size=m),
        st.lists(st.floats(0.01, 1.0), min_size=m, max_size=m),
    )
)


def _normalise(w):
    w = np.asarray(w, dtype=float)
    return w / w.sum()


@given(distributions)
def test_chernoff_matches_scipy_minimisation(pair):
    p, q = (_normalise(w) for w in pair)
    ref = minimize_scalar(
        lambda lam: np.log(np.sum(p**lam * q ** (1 - lam))),
        bounds=(0, 1),
        method="bounded",
        options={"xatol": 1e-10},
    )
    grid = np.linspace(0, 1, 2001)
    on_grid = np.log((p[None, :] ** grid[:, None] * q[None, :] ** (1 - grid[:, None])).sum(1))
    c = chernoff_information(p, q)
    assert math.isclose(c.information, max(0.0, -ref.fun), rel_tol=1e-6, abs_tol=1e-12)
    assert c.information >= -on_grid.min() - 1e-12


@given(distributions)
def test_chernoff_identities(pair):
    """Symmetric; below both KLs; the tilted distribution is equally far from P and Q."""
    p, q = (_normalise(w) for w in pair)
    assume(np.abs(p - q).max() > 1e-3)
    c = chernoff_information(p, q)
    swapped = chernoff_information(q, p)
    assert math.isclose(c.information, swapped.information, rel_tol=1e-7, abs_tol=1e-12)
    assert math.isclose(c.lam, 1 - swapped.lam, abs_tol=1e-4)
    assert c.information <= min(kl_divergence(p, q), kl_divergence(q, p)) + 1e-12
    tilted = _normalise(p**c.lam * q ** (1 - c.lam))
    assert math.isclose(kl_divergence(tilted, p), c.information, rel_tol=1e-5, abs_tol=1e-9)
    assert math.isclose(kl_divergence(tilted, q), c.information, rel_tol=1e-5, abs_tol=1e-9)


def test_chernoff_chapter_values_and_edge_cases():
    c = chernoff_information([0.7, 0.3], [0.5, 0.5])
    assert round(c.information, 4) == 0.0213
    assert math.isclose(
        chernoff_information([0.7, 0.3], [0.5, 0.5], base=2).information,
        c.information / math.log(2),
    )
    assert chernoff_information([0.2, 0.8], [0.2, 0.8]) == (0.0, 0.5)
    assert chernoff_information([0.5, 0.5, 0.0], [0.0, 0.0, 1.0]).information == math.inf
    # partly shared support: the minimum sits at an end of [0, 1]; only the shared
    # outcomes count, so C = −log Q(shared) = −log 0.75
    part = chernoff_information([0.5, 0.5, 0.0], [0.5, 0.25, 0.25])
    assert math.isclose(part.information, -math.log(0.75), rel_tol=1e-9)
    assert part.lam == 0.0


@pytest.mark.parametrize(
    ("p", "q", "match"),
    [
        ([0.5, 0.6], [0.5, 0.5], "sum"),
        ([0.5, 0.5], [0.2, 0.3, 0.5], "same number of outcomes"),
        ([[0.5, 0.5]], [0.5, 0.5], "single probability vectors"),
    ],
)
def test_chernoff_rejects_bad_input(p, q, match):
    with pytest.raises(ValueError, match=match):
        chernoff_information(p, q)


# ---------------------------------------------------------------- typical_set


@given(st.integers(1, 12), coins, coins, st.floats(0.0, 0.5))
def test_typical_set_against_every_sequence(n, p, q, eps):
    entropy = -(p * math.log(p) + (1 - p) * math.log(1 - p))
    size = prob_p = prob_q = 0.0
    for x in itertools.product((0, 1), repeat=n):
        k = sum(x)
        log_p = k * math.log(p) + (n - k) * math.log(1 - p)
        if abs(-log_p / n - entropy) <= eps + 1e-12:
            size += 1
            prob_p += math.exp(log_p)
            prob_q += q**k * (1 - q) ** (n - k)
    a = typical_set(n, p, q, eps)
    if size == 0:
        assert a.log_size == -math.inf and a.heads_min > a.heads_max
        return
    assert math.isclose(math.exp(a.log_size), size, rel_tol=1e-9)
    assert math.isclose(math.exp(a.log_prob_p), prob_p, rel_tol=1e-9)
    assert math.isclose(math.exp(a.log_prob_q), prob_q, rel_tol=1e-9)


@given(st.integers(1, 3000), coins, st.floats(0.001, 0.3))
def test_typical_set_size_bounds(n, p, eps):
    """Cover and Thomas, theorem 3.1.2: |A| ≤ e^{n(H+ε)}, and ≥ (1−ε) e^{n(H−ε)} once
    P(A) > 1 − ε."""
    entropy = -(p * math.log(p) + (1 - p) * math.log(1 - p))
    a = typical_set(n, p, 0.5, eps)
    assert a.log_size <= n * (entropy + eps) + 1e-9
    if a.log_prob_p > math.log1p(-eps):
        assert a.log_size >= math.log1p(-eps) + n * (entropy - eps) - 1e-9


def test_typical_set_carries_p_and_is_exponentially_rare_under_q():
    p, q = 0.7, 0.4
    kl = binary_kl(p, q)
    sd = math.sqrt(p * (1 - p)) * math.log(p / (1 - p))  # sd of −log P(X)
    rates = []
    for n in (100, 1_000, 10_000, 100_000):
        a = typical_set(n, p, q, 2 * sd / math.sqrt(n))
        assert math.exp(a.log_prob_p) > 0.9
        rates.append(-a.log_prob_q / n)
    assert np.all(np.diff(rates) > 0) and abs(rates[-1] - kl) < 0.01
    fixed = [math.exp(typical_set(n, p, q, 0.05).log_prob_p) for n in (10, 100, 1_000)]
    assert fixed[0] < fixed[1] < fixed[2]


def test_typical_set_rejects_bad_input():
    with pytest.raises(ValueError, match="eps"):
        typical_set(10, 0.7, 0.4, -0.1)
    with pytest.raises(ValueError, match="eps"):
        typical_set(10, 0.7, 0.4, math.nan)
    with pytest.raises(ValueError, match="strictly between"):
        typical_set(10, 0.7, 1.0, 0.1)


# ------------------------------------------- messages, types and exact levels


def _exact_cdf(n: int, p: float, c: int) -> Fraction:
    """P(K ≤ c) for K ~ Binomial(n, p), exactly, from the float p actually passed."""
    f = Fraction(p)
    return sum(math.comb(n, k) * f**k * (1 - f) ** (n - k) for k in range(c + 1))


_COIN_FUNCTIONS = {
    "binomial_log_pmf": (binomial_log_pmf, {"n": 5, "p": 0.5}),
    "likelihood_ratio_test": (likelihood_ratio_test, {"n": 5, "p": 0.5, "q": 0.3, "alpha": 0.1}),
    "best_deterministic_test": (
        best_deterministic_test,
        {"n": 5, "p": 0.5, "q": 0.3, "alpha": 0.1},
    ),
    "sign_rule_errors": (sign_rule_errors, {"n": 5, "p": 0.5, "q": 0.3}),
    "typical_set": (typical_set, {"n": 5, "p": 0.5, "q": 0.3, "eps": 0.1}),
}


@pytest.mark.parametrize(
    ("function", "coin"),
    [(f, c) for f, (_, kw) in _COIN_FUNCTIONS.items() for c in ("p", "q") if c in kw],
)
def test_a_bad_coin_is_named_in_the_message(function, coin):
    func, kwargs = _COIN_FUNCTIONS[function]
    with pytest.raises(ValueError) as closed:
        func(**{**kwargs, coin: 1.0})
    assert str(closed.value) == (
        f"{coin} must lie strictly between 0 and 1 (a coin that can show both faces), got 1.0"
    )
    with pytest.raises(ValueError) as outside:
        func(**{**kwargs, coin: 1.4})
    assert str(outside.value) == (
        f"{coin} must hold probabilities in [0, 1]; it has a greater than 1 value 1.4"
    )


@pytest.mark.parametrize("function", ["binomial_log_pmf", "best_deterministic_test", "typical_set"])
def test_a_bad_number_of_flips_is_named_in_the_message(function):
    func, kwargs = _COIN_FUNCTIONS[function]
    with pytest.raises(ValueError) as not_int:
        func(**{**kwargs, "n": 2.0})
    assert str(not_int.value) == "n must be an integer, got 2.0 of type float"
    with pytest.raises(ValueError) as too_few:
        func(**{**kwargs, "n": 0})
    assert str(too_few.value) == "n must be at least 1, got 0"


def test_an_empty_array_of_flip_counts_is_refused_in_full():
    for func in (likelihood_ratio_test, sign_rule_errors):
        kwargs = {k: v for k, v in _COIN_FUNCTIONS[func.__name__][1].items() if k != "n"}
        with pytest.raises(ValueError) as empty:
            func([], **kwargs)
        assert str(empty.value) == "n must hold at least one number of flips"


def test_flip_counts_and_cutoffs_stay_integers():
    for p, q in ((0.7, 0.4), (0.3, 0.6)):  # the second counts tails
        one = likelihood_ratio_test(15, p, q, 0.05)
        assert type(one.n) is int and type(one.cutoff) is int and one.n == 15
        many = likelihood_ratio_test([15, 40], p, q, 0.05)
        assert many.n.dtype == np.int64 and many.cutoff.dtype == np.int64
        assert many.n.tolist() == [15, 40]
    assert type(sign_rule_errors(20, 0.7, 0.5).n) is int
    assert sign_rule_errors([20, 30], 0.7, 0.5).n.dtype == np.int64


def test_the_test_records_whether_it_randomises():
    assert likelihood_ratio_test(15, 0.7, 0.4, 0.05).randomised is False
    assert likelihood_ratio_test(15, 0.7, 0.4, 0.05, randomised=True).randomised is True


def test_a_level_that_is_exactly_a_cdf_value_needs_no_randomisation():
    # alpha = P(K ≤ 8) for N = 15, p = 0.7, exactly (as a float): saying "Q" on every
    # k ≤ 8 has size alpha, so both tests do that; the float sums round to a hair above
    # 1 for the share gamma of k = 8, which must not leave [0, 1].
    n, p, q = 15, 0.7, 0.4
    alpha = float(_exact_cdf(n, p, 8))
    beta = float(1 - _exact_cdf(n, q, 8))  # Q(K > 8)
    for randomised in (False, True):
        t = likelihood_ratio_test(n, p, q, alpha, randomised=randomised)
        assert (t.cutoff, t.gamma) == (8, 1.0)
        assert t.alpha == pytest.approx(alpha, rel=1e-14, abs=0)
        assert t.beta == pytest.approx(beta, rel=1e-13, abs=0)


# ---------------------------------------- best_deterministic_test, every block


def _smallest_beta_at_once(n, p, q, alpha):
    """The smallest β over every set of head counts of size ≤ alpha, all sets in one
    matrix (no blocks)."""
    sets = np.arange(2 ** (n + 1))
    member = ((sets[:, None] >> np.arange(n + 1)) & 1).astype(float)
    allowed = member @ _pmf(n, p) <= alpha * (1 + 1e-12)
    return float(((1 - member[allowed]) @ _pmf(n, q)).min())


@pytest.mark.parametrize(
    ("p", "q", "alpha"), [(0.4, 0.7, 0.05), (0.8, 0.95, 0.05), (0.75, 0.9, 0.05)]
)
def test_best_deterministic_test_searches_every_block_of_sets(p, q, alpha):
    # N = 16: 2^17 sets in four blocks of 2^15. Q favours many heads, so the best set
    # holds 16 heads (later blocks); for the last two every set holding 15 heads (the
    # second block) is too likely under P, yet a later block holds the best set.
    n = 16
    t = best_deterministic_test(n, p, q, alpha)
    assert 16 in t.say_q
    pmf_p, pmf_q = _pmf(n, p), _pmf(n, q)
    if p > 0.5:
        assert pmf_p[15] > alpha and 15 not in t.say_q
    assert t.alpha <= alpha
    assert t.alpha == pytest.approx(pmf_p[list(t.say_q)].sum(), rel=1e-12, abs=0)
    others = [k for k in range(n + 1) if k not in t.say_q]
    assert t.beta == pytest.approx(pmf_q[others].sum(), rel=1e-12, abs=0)
    assert t.beta == pytest.approx(_smallest_beta_at_once(n, p, q, alpha), rel=1e-12, abs=0)


def test_best_deterministic_test_at_its_largest_n():
    n, p, q, alpha = MAX_DETERMINISTIC_FLIPS, 0.4, 0.7, 0.05
    t = best_deterministic_test(n, p, q, alpha)
    assert t.n == 20 and t.alpha <= alpha
    thr = likelihood_ratio_test(n, p, q, alpha)  # a set of head counts too: no better
    assert t.beta <= thr.beta
    assert set(t.say_q) >= set(range(thr.cutoff + 1, n + 1))  # here it extends the threshold
    others = [k for k in range(n + 1) if k not in t.say_q]
    assert t.beta == pytest.approx(_pmf(n, q)[others].sum(), rel=1e-12, abs=0)


def test_best_deterministic_test_leaves_out_counts_impossible_under_both_coins():
    # With heads this rare, 15 or 16 heads in 16 flips have probability 0.0 (in floats)
    # under both coins: adding them to a set changes neither α nor β, and the first set
    # in binary order, the empty one, is returned.
    t = best_deterministic_test(16, 1e-30, 1e-20, 0.5)
    assert (t.say_q, t.alpha, t.beta) == ((), 0.0, 1.0)


# ------------------------------------------- sign rule: ties for large N


def test_sign_rule_ties_are_found_for_large_n():
    # p = 0.7 against q = 0.3: k = N/2 heads is a tie, but the float log ratio there is
    # N/2 · 2.2e-16 (1 − 0.7 is not 0.3 in floats); it is still counted half.
    n = 1000
    e = sign_rule_errors(n, 0.7, 0.3)
    k = np.arange(n + 1)
    for coin, log_error in ((0.7, e.log_error_p), (0.3, e.log_error_q)):
        logs = scipy.stats.binom.logpmf(k, n, coin)
        wrong = k < n // 2 if coin == 0.7 else k > n // 2
        expected = np.logaddexp(scipy.special.logsumexp(logs[wrong]), math.log(0.5) + logs[n // 2])
        assert log_error == pytest.approx(expected, rel=1e-10, abs=0)


# ------------------------------------------------- Chernoff: flat and at the ends


def test_chernoff_when_every_lambda_is_as_good():
    # disjoint supports: C = ∞ at every λ
    assert chernoff_information([1.0, 0.0], [0.0, 1.0]) == (math.inf, 0.5)
    # P and Q equal on the outcomes they share, each with one of its own: the sum is
    # P(shared) = 1/2 at every λ, so C = log 2 and λ* is the middle, from either side
    p, q = [0.25, 0.25, 0.5, 0.0], [0.25, 0.25, 0.0, 0.5]
    for a, b in ((p, q), (q, p)):
        c = chernoff_information(a, b)
        assert c.lam == 0.5
        assert c.information == pytest.approx(math.log(2), rel=1e-15, abs=0)
    assert chernoff_information(p, q, base=2).information == pytest.approx(1.0, rel=1e-15, abs=0)
    # P = Q whose float sum is 1 − 2^-53: still exactly 0
    same = [0.5, 0.4999999999999999]
    assert chernoff_information(same, same) == (0.0, 0.5)


def test_chernoff_minimum_at_lambda_one():
    # the mirror of the partly shared case above: the slope is negative all the way
    # to λ = 1, so λ* = 1 and C = −log P(shared) = −log 0.75
    c = chernoff_information([0.5, 0.25, 0.25], [0.5, 0.5, 0.0])
    assert c.lam == 1.0
    assert c.information == pytest.approx(-math.log(0.75), rel=1e-15, abs=0)


# ------------------------------------------------ typical set: fields, edges


def test_typical_set_fields():
    a = typical_set(1_000, 0.7, 0.4, 0.05)
    assert (a.n, a.eps) == (1_000, 0.05) and type(a.eps) is float
    # an empty typical set: no head count has −(1/N) log P^N(x) within 0 of H(P)
    empty = dataclasses.asdict(typical_set(3, 0.7, 0.4, 0.0))
    assert empty == {
        "n": 3, "eps": 0.0, "heads_min": 1, "heads_max": 0,
        "log_size": -math.inf, "log_prob_p": -math.inf, "log_prob_q": -math.inf,
    }  # fmt: skip
    assert type(empty["eps"]) is float


def test_typical_set_of_every_sequence_has_probability_exactly_one():
    # eps = 10 nats takes in every head count: P^N(A) = Q^N(A) = 1, whose logs must be
    # 0, not the 2.2e-16 that the float sum of the 5 binomial probabilities gives here
    a = typical_set(4, 0.4, 0.6, 10.0)
    assert (a.heads_min, a.heads_max) == (0, 4)
    assert a.log_prob_p == 0.0 and a.log_prob_q == 0.0
    assert a.log_size == pytest.approx(4 * math.log(2), rel=1e-15, abs=0)


def test_typical_set_refuses_a_bool_eps():
    with pytest.raises(ValueError, match=r"^eps must be a finite number >= 0, got True$"):
        typical_set(10, 0.7, 0.4, True)
