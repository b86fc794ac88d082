"""klbook.measures: entropy, cross-entropy, KL and their binary forms."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.special
import scipy.stats
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import klbook
from klbook import (
    binary_cross_entropy,
    binary_entropy,
    binary_kl,
    cross_entropy,
    entropy,
    kl_divergence,
    measures,
)

from . import exact

LN2 = math.log(2)


# --- strategies --------------------------------------------------------------


@st.composite
def distributions(draw, n=None, min_size=1, max_size=8, allow_zeros=True):
    """A probability vector: non-negative weights, divided by their sum here in the test."""
    size = n if n is not None else draw(st.integers(min_size, max_size))
    low = 0.0 if allow_zeros else 1e-3
    weights = draw(
        arrays(np.float64, size, elements=st.floats(low, 1.0, allow_nan=False, width=64))
    )
    assume(weights.sum() > 1e-3)
    return weights / weights.sum()


@st.composite
def pairs(draw, allow_zeros=True, q_positive=False):
    n = draw(st.integers(1, 8))
    p = draw(distributions(n=n, allow_zeros=allow_zeros))
    q = draw(distributions(n=n, allow_zeros=allow_zeros and not q_positive))
    return p, q


probability = st.floats(0.0, 1.0, allow_nan=False)


# --- known values ------------------------------------------------------------


def test_fair_coin_has_one_bit_of_entropy():
    assert entropy([0.5, 0.5], base=2) == 1.0
    assert entropy([0.5, 0.5]) == pytest.approx(LN2, rel=1e-15, abs=0)


def test_uniform_entropy_is_log_of_outcomes():
    for m in (1, 2, 3, 6, 1000):
        p = np.full(m, 1 / m)
        # exactly for the floats 1/m (rounded), and log m to rounding
        assert entropy(p) == pytest.approx(exact.entropy(p), rel=1e-14, abs=0)
        assert entropy(p) == pytest.approx(math.log(m), rel=1e-14, abs=0)


def test_certain_outcome_has_zero_entropy_without_nan():
    assert entropy([0.0, 1.0, 0.0]) == 0.0


def test_kl_hand_computed():
    # KL((1/2, 1/2) || (9/10, 1/10)) = 1/2 log(5/9) + 1/2 log 5
    expected = 0.5 * math.log(0.5 / 0.9) + 0.5 * math.log(0.5 / 0.1)
    assert kl_divergence([0.5, 0.5], [0.9, 0.1]) == pytest.approx(expected, rel=1e-14, abs=0)
    reference = exact.kl([0.5, 0.5], [0.9, 0.1])
    assert kl_divergence([0.5, 0.5], [0.9, 0.1]) == pytest.approx(reference, rel=1e-15, abs=0)


def test_kl_first_argument_is_the_truth():
    p, q = [0.9, 0.1], [0.5, 0.5]
    # sum over P's weights of log(P/Q)
    expected = 0.9 * math.log(0.9 / 0.5) + 0.1 * math.log(0.1 / 0.5)
    assert kl_divergence(p, q) == pytest.approx(expected, rel=1e-14, abs=0)
    assert kl_divergence(p, q) == pytest.approx(exact.kl(p, q), rel=1e-15, abs=0)
    assert kl_divergence(q, p) == pytest.approx(exact.kl(q, p), rel=1e-15, abs=0)
    assert kl_divergence(q, p) != pytest.approx(expected, rel=1e-3, abs=0)


def test_kl_infinite_where_q_misses_support_of_p():
    assert kl_divergence([0.5, 0.5], [1.0, 0.0]) == math.inf
    assert cross_entropy([0.5, 0.5], [1.0, 0.0]) == math.inf
    # but not the other way round: P gives zero weight where Q does not
    assert math.isfinite(kl_divergence([1.0, 0.0], [0.5, 0.5]))
    assert kl_divergence([1.0, 0.0], [0.5, 0.5]) == pytest.approx(LN2, rel=1e-15, abs=0)


def test_scalar_results_are_python_floats():
    assert type(entropy([0.2, 0.8])) is float
    assert type(kl_divergence([0.2, 0.8], [0.5, 0.5])) is float
    assert type(cross_entropy([0.2, 0.8], [0.5, 0.5])) is float
    assert type(binary_kl(0.2, 0.5)) is float


def test_batched_along_axis():
    p = np.array([[0.5, 0.5], [0.9, 0.1], [1.0, 0.0]])
    q = np.array([0.6, 0.4])
    got = kl_divergence(p, q)
    assert got.shape == (3,)
    for i in range(3):
        assert got[i] == pytest.approx(kl_divergence(p[i], q), rel=1e-14, abs=0)
        assert got[i] == pytest.approx(exact.kl(p[i], q), rel=1e-14, abs=0)
    # axis=0 with the transpose gives the same numbers
    np.testing.assert_allclose(kl_divergence(p.T, q[:, None], axis=0), got, rtol=1e-15, atol=0)
    np.testing.assert_allclose(entropy(p.T, axis=0), entropy(p), rtol=1e-15, atol=0)


# --- cross-checks against scipy ----------------------------------------------


@given(pairs())
def test_kl_matches_scipy_entropy_and_rel_entr(pq):
    p, q = pq
    ours = kl_divergence(p, q)
    theirs = scipy.stats.entropy(p, q)
    rel = float(np.sum(scipy.special.rel_entr(p, q)))
    if math.isinf(theirs):
        assert ours == math.inf
    else:
        assert ours == pytest.approx(max(theirs, 0.0), rel=1e-9, abs=1e-12)
        assert ours == pytest.approx(max(rel, 0.0), rel=1e-9, abs=1e-12)


@given(distributions(), st.sampled_from([2, math.e, 10, 0.5, 3.7]))
def test_entropy_matches_scipy_in_any_base(p, base):
    # a base below one is legal and flips the sign, as in scipy
    assert entropy(p, base=base) == pytest.approx(
        scipy.stats.entropy(p, base=base), rel=1e-9, abs=1e-12
    )


# --- identities (property tests) -------------------------------------------------


@given(pairs())
def test_gibbs_inequality(pq):
    p, q = pq
    assert kl_divergence(p, q) >= 0.0


@given(distributions())
def test_kl_of_a_distribution_from_itself_is_zero(p):
    assert kl_divergence(p, p) == 0.0


@given(pairs(q_positive=True))
def test_cross_entropy_is_kl_plus_entropy(pq):
    p, q = pq
    lhs = cross_entropy(p, q)
    rhs = kl_divergence(p, q) + entropy(p)
    assert lhs == pytest.approx(rhs, rel=1e-9, abs=1e-12)


@given(pairs())
def test_bits_are_nats_over_ln2(pq):
    p, q = pq
    for f in (kl_divergence, cross_entropy):
        nats, bits = f(p, q), f(p, q, base=2)
        if math.isinf(nats):
            assert math.isinf(bits)
        else:
            assert bits == pytest.approx(nats / LN2, rel=1e-12, abs=1e-15)
    assert entropy(p, base=2) == pytest.approx(entropy(p) / LN2, rel=1e-12, abs=1e-15)


@given(distributions(min_size=2))
def test_entropy_bounded_by_log_of_support(p):
    assert 0.0 <= entropy(p) <= math.log(len(p)) + 1e-12


def test_kl_is_not_symmetric():
    p, q = [0.9, 0.1], [0.5, 0.5]
    assert kl_divergence(p, q) - kl_divergence(q, p) == pytest.approx(
        (0.9 * math.log(1.8) + 0.1 * math.log(0.2))
        - (0.5 * math.log(0.5 / 0.9) + 0.5 * math.log(5)),
        rel=1e-12,
        abs=0,
    )
    assert abs(kl_divergence(p, q) - kl_divergence(q, p)) > 0.1


@given(pairs(allow_zeros=False))
def test_symmetry_breaks_except_when_equal(pq):
    p, q = pq
    forward, reverse = kl_divergence(p, q), kl_divergence(q, p)
    assert forward >= 0 and reverse >= 0
    if np.allclose(p, q, atol=1e-6):
        return
    # both are strictly positive for distinct distributions
    assert forward > 0 and reverse > 0


# --- binary forms ---------------------------------------------------------


@given(probability)
def test_binary_entropy_matches_vector_entropy(p):
    assert binary_entropy(p) == pytest.approx(entropy([p, 1 - p]), rel=1e-9, abs=1e-15)


@given(probability, probability)
def test_binary_kl_and_cross_entropy_match_vector_forms(p, q):
    vec_kl = kl_divergence([p, 1 - p], [q, 1 - q])
    vec_ce = cross_entropy([p, 1 - p], [q, 1 - q])
    bkl, bce = binary_kl(p, q), binary_cross_entropy(p, q)
    if math.isinf(vec_kl):
        assert math.isinf(bkl) and math.isinf(bce)
    else:
        assert bkl == pytest.approx(vec_kl, rel=1e-7, abs=1e-12)
        assert bce == pytest.approx(vec_ce, rel=1e-9, abs=1e-12)
        assert bce == pytest.approx(bkl + binary_entropy(p), rel=1e-9, abs=1e-12)


def test_binary_entropy_curve_shape():
    grid = np.linspace(0, 1, 101)
    h = binary_entropy(grid, base=2)
    assert h[0] == 0.0 and h[-1] == 0.0
    assert h[50] == 1.0
    # symmetric about 1/2, up to the rounding of the grid points themselves
    np.testing.assert_allclose(h, h[::-1], rtol=1e-14, atol=0)
    assert int(np.argmax(h)) == 50


def test_binary_edges():
    assert binary_kl(1.0, 1.0) == 0.0
    assert binary_kl(0.0, 0.0) == 0.0
    assert binary_kl(0.5, 0.0) == math.inf
    assert binary_kl(0.5, 1.0) == math.inf
    assert binary_kl(0.0, 0.5) == pytest.approx(LN2, rel=1e-15, abs=0)
    assert binary_cross_entropy(1.0, 1.0) == 0.0


def test_broadcasting_binary():
    got = binary_kl(np.array([[0.1], [0.5]]), np.array([0.2, 0.5, 0.9]))
    assert got.shape == (2, 3)
    assert got[1, 1] == 0.0


# --- accuracy for tiny probabilities ----------------------------------------


def test_tiny_probabilities_are_finite_and_accurate():
    # Results near 1e-298 and 1e-200: abs=0, or pytest.approx would accept 0.0 for them.
    tiny = 1e-300
    p = np.array([tiny, 1 - tiny])  # 1 - tiny rounds to 1.0
    assert entropy(p) == pytest.approx(exact.entropy(p), rel=1e-14, abs=0)
    assert entropy(p) == pytest.approx(-(tiny * math.log(tiny)), rel=1e-14, abs=0)
    q = np.array([1e-200, 1 - 1e-200])
    # KL ≈ p1 log(p1/q1) + (q1 - p1): dominated by q1 = 1e-200
    assert binary_kl(tiny, 1e-200) == pytest.approx(exact.binary_kl(tiny, 1e-200), rel=1e-14, abs=0)
    assert binary_kl(tiny, 1e-200) == pytest.approx(
        tiny * math.log(tiny / 1e-200) + (1e-200 - tiny), rel=1e-14, abs=0
    )
    assert math.isfinite(kl_divergence(p, q))
    # 1 - 1e-300 rounds to 1.0: this Q is (1, 1e-300) and KL(P||Q) is exactly 0 ...
    assert kl_divergence([1.0, 0.0], [1 - 1e-300, 1e-300]) == 0.0
    # ... while Q = (1 - 2**-52, 2**-52) gives -log(1 - 2**-52) = 2.2e-16
    q = [1 - 2**-52, 2**-52]
    assert kl_divergence([1.0, 0.0], q) == pytest.approx(exact.kl([1.0, 0.0], q), rel=1e-15, abs=0)
    # H(p) = p log(1/p) + p + O(p^2): the second term needs log1p, log(1 - p) rounds it away
    assert binary_entropy(1e-300) == pytest.approx(exact.binary_entropy(1e-300), rel=1e-14, abs=0)
    assert binary_entropy(1e-300) == pytest.approx(
        1e-300 * (690.7755278982137 + 1), rel=1e-14, abs=0
    )
    for h in (1e-300, 1e-20, 1e-9, 0.25):
        assert binary_entropy(h) == pytest.approx(exact.binary_entropy(h), rel=1e-14, abs=0)
        assert binary_entropy(1 - h) == pytest.approx(exact.binary_entropy(1 - h), rel=1e-14, abs=0)


# --- bad input --------------------------------------------------------------


@pytest.mark.parametrize(
    "func",
    [
        lambda p: entropy(p),
        lambda p: kl_divergence(p, [0.5, 0.5]),
        lambda p: cross_entropy(p, [0.5, 0.5]),
    ],
)
@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ([1.2, -0.2], "p has a negative entry"),
        ([0.5, np.nan], "p contains NaN"),
        ([0.3, 0.3], "p does not sum to one"),
        ([np.inf, 0.0], "p contains an infinite value"),
        (0.5, "p must be a probability vector"),
        ([], "p is empty"),
        (["a", "b"], "p must be an array of real numbers"),
        ([1 + 0j, 0j], "p must be real"),
    ],
)
def test_bad_p_is_a_clear_value_error(func, bad, message):
    with pytest.raises(ValueError, match=message):
        func(bad)


def test_bad_q_is_named():
    with pytest.raises(ValueError, match="q does not sum to one"):
        kl_divergence([0.5, 0.5], [0.5, 0.6])
    with pytest.raises(ValueError, match="q has a negative entry"):
        cross_entropy([0.5, 0.5], [1.5, -0.5])
    with pytest.raises(ValueError, match="q contains NaN"):
        kl_divergence([0.5, 0.5], [np.nan, 0.5])


def test_no_silent_normalisation():
    # scipy would normalise [1, 1] to [0.5, 0.5]; klbook refuses
    assert scipy.stats.entropy([1, 1]) == pytest.approx(LN2, rel=1e-15, abs=0)
    with pytest.raises(ValueError, match="never normalises silently"):
        entropy([1, 1])


def test_mismatched_shapes():
    with pytest.raises(ValueError) as info:
        kl_divergence([0.5, 0.5], [0.2, 0.3, 0.5])
    assert str(info.value) == (
        "p and q must have the same number of outcomes along axis -1; got 2 and 3 "
        "(shapes (2,) and (3,), aligned from the right as NumPy broadcasting aligns them)"
    )
    with pytest.raises(ValueError, match="do not broadcast"):
        kl_divergence(np.full((2, 2), 0.5), np.full((3, 2), 0.5))
    with pytest.raises(ValueError, match="do not broadcast"):
        binary_kl([0.1, 0.2], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        entropy([0.5, 0.5], axis=2)


@pytest.mark.parametrize("base", [1, 1.0, 0, -2, math.nan, math.inf, "2", True, None])
def test_bad_base(base):
    if base is None:
        assert entropy([0.5, 0.5], base=base) == pytest.approx(LN2, rel=1e-15, abs=0)
        return
    with pytest.raises(ValueError, match="base must be a positive real number other than 1"):
        kl_divergence([0.5, 0.5], [0.4, 0.6], base=base)
    with pytest.raises(ValueError, match="base"):
        binary_entropy(0.3, base=base)


@pytest.mark.parametrize("bad", [-0.1, 1.1, np.nan])
def test_binary_bad_probabilities(bad):
    what = "p contains NaN" if math.isnan(bad) else r"p must hold probabilities in \[0, 1\]"
    with pytest.raises(ValueError, match="^" + what):
        binary_entropy(bad)
    for func in (binary_kl, binary_cross_entropy):
        with pytest.raises(ValueError, match="^q" + what[1:]):
            func(0.5, bad)
        with pytest.raises(ValueError, match="^" + what):
            func(bad, 0.5)


def test_no_runtime_warnings_on_edges():
    # no warning (errstate raises), and the values the conventions give: 0 log 0 = 0,
    # and +inf where the model rules out what the truth allows
    with np.errstate(all="raise"):
        bkl = binary_kl(np.array([0.0, 1.0, 0.5, 0.5]), np.array([0.0, 1.0, 0.0, 1.0]))
        kl = kl_divergence([[1.0, 0.0], [0.5, 0.5]], [[1.0, 0.0], [1.0, 0.0]])
        ce = cross_entropy([1.0, 0.0], [1.0, 0.0])
        h = entropy([1.0, 0.0])
        bce = binary_cross_entropy(np.array([0.0, 1.0, 0.5]), np.array([0.0, 1.0, 1.0]))
        bh = binary_entropy(np.array([0.0, 1.0]))
        # a ratio p/q in the subnormal range is inexact: underflow, and that is fine
        sub = kl_divergence([1e-310, 1 - 1e-310], [0.3, 0.7])
    assert sub == pytest.approx(exact.kl([1e-310, 1 - 1e-310], [0.3, 0.7]), rel=1e-14, abs=0)
    assert bkl.tolist() == [0.0, 0.0, math.inf, math.inf]
    assert kl.tolist() == [0.0, math.inf]
    assert ce == 0.0 and h == 0.0
    assert bce.tolist() == [0.0, 0.0, math.inf]
    assert bh.tolist() == [0.0, 0.0]
    # no negative zeros either
    assert not np.signbit(bkl).any() and not np.signbit(kl).any() and not np.signbit(bh).any()


def test_public_api_is_exported():
    for name in (
        "entropy",
        "cross_entropy",
        "kl_divergence",
        "binary_entropy",
        "binary_cross_entropy",
        "binary_kl",
        "sequence_log_prob",
        "log_likelihood_ratio",
    ):
        assert name in klbook.__all__
        assert callable(getattr(klbook, name))


# --- alignment of batches, precision of the inputs, accuracy near p = q --------------


def _exact_kl(p, q) -> float:
    """KL(p‖q) of the given floats in 250-digit decimals: the reference for accuracy."""
    from decimal import Decimal, localcontext

    with localcontext() as ctx:
        ctx.prec = 250
        total = Decimal(0)
        for a, b in zip(p, q, strict=True):
            a, b = Decimal(float(a)), Decimal(float(b))
            if a > 0:
                total += a * (a / b).ln()
        return float(total)


def test_batches_align_from_the_right_before_the_outcome_axis_is_checked():
    columns = np.array([[0.2, 0.5], [0.8, 0.5]])  # two distributions, down the columns
    model = np.array([0.2, 0.8])
    # q as a column lines up with axis 0: each column of P against the same model
    got = kl_divergence(columns, model[:, None], axis=0)
    expected = [kl_divergence(columns[:, j], model) for j in range(2)]
    np.testing.assert_allclose(got, expected, rtol=1e-15, atol=0)
    assert got[0] == 0.0
    # A 1-D q lines up with the last axis, as in NumPy: along axis 0 it has one outcome,
    # which is an error rather than a KL of columns that do not sum to one.
    with pytest.raises(ValueError, match="same number of outcomes along axis 0"):
        kl_divergence(columns, model, axis=0)
    # Rows of the transpose against a 1-D q, as scipy.stats.entropy accepts it
    rows = kl_divergence(columns.T, model, axis=1)
    np.testing.assert_allclose(
        rows, scipy.stats.entropy(columns.T, model, axis=1), rtol=1e-14, atol=0
    )
    np.testing.assert_allclose(
        cross_entropy(columns.T, model, axis=1),
        rows + entropy(columns.T, axis=1),
        rtol=1e-14,
        atol=0,
    )


@pytest.mark.parametrize("bad", [1.0, None, "0", True])
def test_axis_must_be_an_integer(bad):
    for call in (
        lambda: entropy([0.5, 0.5], axis=bad),
        lambda: kl_divergence([0.5, 0.5], [0.5, 0.5], axis=bad),
    ):
        with pytest.raises(ValueError, match="axis must be an integer"):
            call()
    assert entropy([[0.5, 0.5]], axis=np.int64(1)).tolist() == [LN2]


def test_float32_distributions_are_accepted_within_their_own_rounding():
    rng = np.random.default_rng(7)
    rows = scipy.special.softmax(rng.normal(size=(200, 1000)).astype(np.float32), axis=1)
    assert rows.dtype == np.float32
    assert np.abs(rows.astype(np.float64).sum(axis=1) - 1).max() > 1e-8  # off by rounding
    # -Σ p log p of the stored entries (scipy.stats.entropy would divide by their sum first)
    want = scipy.special.entr(rows.astype(np.float64)).sum(axis=1)
    np.testing.assert_allclose(entropy(rows), want, rtol=1e-13, atol=0)
    # ...but float32 is no licence for a real error
    off = np.array([0.5, 0.499], dtype=np.float32)
    with pytest.raises(ValueError, match="does not sum to one"):
        entropy(off)
    # float64 keeps the strict tolerance
    with pytest.raises(ValueError, match="does not sum to one"):
        entropy(np.array([0.5, 0.5 + 1e-7]))


close_probability = st.floats(1e-12, 1 - 1e-12)
relative_gap = st.floats(-1e-2, 1e-2).filter(lambda g: g != 0)


@given(close_probability, relative_gap)
def test_binary_kl_keeps_its_relative_accuracy_when_p_and_q_nearly_agree(p, gap):
    q = p * (1 + gap)
    assume(0 < q < 1 and q != p)
    # The coins are Bern(p) and Bern(q) for the floats p and q; their tails are the exact
    # 1 - p and 1 - q, not those differences rounded to floats. KL is below 1e-4 here:
    # abs=0, or pytest.approx's default absolute 1e-12 would accept any answer at all.
    assert binary_kl(p, q) == pytest.approx(exact.binary_kl(p, q), rel=1e-12, abs=0)


def test_binary_kl_near_agreement_known_values():
    # KL ≈ (p - q)^2 / (2 p (1 - p)) for q → p: 1e-20 / 0.42 = 2.38e-20; the cancelling
    # closed form p log(p/q) + (1 - p) log((1 - p)/(1 - q)) gives rounding noise here
    q = 0.3 + 1e-10
    assert binary_kl(0.3, q) == pytest.approx(exact.binary_kl(0.3, q), rel=1e-14, abs=0)
    assert binary_kl(0.3, q) == pytest.approx(1e-20 / (2 * 0.3 * 0.7), rel=1e-6, abs=0)
    assert binary_kl(q, 0.3) == pytest.approx(exact.binary_kl(q, 0.3), rel=1e-14, abs=0)
    # the same near p = 0 and p = 1, where the model's tail is computed from q - p
    for p, q in [(1e-8, 1e-8 * (1 + 1e-6)), (1 - 1e-8, 1 - 1e-8 * (1 + 1e-6)), (0.5, 0.5 - 2**-40)]:
        assert binary_kl(p, q) == pytest.approx(exact.binary_kl(p, q), rel=1e-12, abs=0)
        assert binary_kl(q, p) == pytest.approx(exact.binary_kl(q, p), rel=1e-12, abs=0)


def test_kl_of_nearly_equal_distributions_is_never_negative():
    # These floats do not sum to one exactly, and the rounded sum of p log(p/q) falls
    # below zero (-7.7e-17); KL is never negative (Gibbs), so the result is 0.
    p = [0.11134241733563358, 0.46008810268016137, 0.4285694799842051]
    q = [0.11134241729728525, 0.4600881025446805, 0.4285694801580343]
    for a, b in ((p, q), (q, p)):
        got = kl_divergence(a, b)
        assert got >= 0.0
        assert got == pytest.approx(max(exact.kl(a, b), 0.0), rel=0, abs=2e-16)
    assert kl_divergence(p, q) == 0.0 and not math.copysign(1.0, kl_divergence(p, q)) < 0
    batch = kl_divergence(np.array([p, q]), np.array([q, p]))
    assert (batch >= 0.0).all() and batch[0] == 0.0


@given(pairs(allow_zeros=False))
def test_kl_matches_an_exact_decimal_reference(pq):
    p, q = pq
    assert kl_divergence(p, q) == pytest.approx(_exact_kl(p, q), rel=1e-9, abs=1e-15)


def test_tiny_model_probabilities_take_the_overflow_safe_path():
    p = np.array([0.5, 0.5])
    q = np.array([1e-310, 1 - 1e-310])  # 0.5 / 1e-310 overflows a float
    expected = 0.5 * (math.log(0.5) - math.log(1e-310)) + 0.5 * math.log(0.5)
    assert kl_divergence(p, q) == pytest.approx(expected, rel=1e-14, abs=0)
    assert kl_divergence(p, q) == pytest.approx(exact.kl(p, q), rel=1e-15, abs=0)
    # 1 - 1e-310 rounds to 1.0, so P = Q on the outcome P can show: exactly 0
    assert kl_divergence([0.0, 1.0], [1e-310, 1 - 1e-310]) == 0.0
    assert cross_entropy(p, q) == pytest.approx(exact.cross_entropy(p, q), rel=1e-15, abs=0)
    # a tiny q where p is tiny too: 1e-300 log(1e-300 / 1e-305) stays accurate
    p, q = np.array([1e-300, 1.0]), np.array([1e-305, 1.0])
    assert kl_divergence(p, q) == pytest.approx(exact.kl(p, q), rel=1e-14, abs=0)


# --- the fused path for large batches ------------------------------------------


def _large_batch(seed: int = 7, rows: int = 300, outcomes: int = 300):
    """Rows of p with zeros in every third row (0 · log 0), and rows of q without zeros."""
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(outcomes), rows)
    p[::3, : outcomes // 2] = 0.0
    p[::3] /= p[::3].sum(axis=-1, keepdims=True)
    q = rng.dirichlet(np.ones(outcomes), rows)
    assert p.size >= measures.FUSED_MIN_ENTRIES  # the batch takes the fused path
    return p, q


@pytest.mark.parametrize("block", [measures.BLOCK_ENTRIES, 1000, 299])  # many rows, few, one
def test_fused_path_gives_the_general_paths_bits(block, monkeypatch):
    p, q = _large_batch()
    q[5, 7] = 0.0  # p > 0 there: cross-entropy is +inf in row 5
    q[5] /= q[5].sum()
    monkeypatch.setattr(measures, "BLOCK_ENTRIES", block)
    assert measures._fused_log_dot(p, q) is not None  # the batch passes the fused checks
    fused = (entropy(p), cross_entropy(p, q), entropy(p, base=2), cross_entropy(p, q, base=2))
    monkeypatch.setattr(measures, "FUSED_MIN_ENTRIES", math.inf)
    general = (entropy(p), cross_entropy(p, q), entropy(p, base=2), cross_entropy(p, q, base=2))
    for a, b in zip(fused, general, strict=True):
        np.testing.assert_array_equal(a, b)
    assert np.isinf(fused[1][5]) and np.isfinite(np.delete(fused[1], 5)).all()
    np.testing.assert_allclose(fused[0], scipy.stats.entropy(p, axis=-1), rtol=1e-12, atol=0)
    np.testing.assert_allclose(
        np.delete(fused[1], 5),
        -scipy.special.xlogy(np.delete(p, 5, 0), np.delete(q, 5, 0)).sum(-1),
        rtol=1e-12,
        atol=0,
    )


@pytest.mark.parametrize(("rows", "outcomes"), [(600, 120), (120, 600), (3, 40_000)])
def test_fused_path_on_batches_of_other_shapes(rows, outcomes, monkeypatch):
    p, q = _large_batch(seed=3, rows=rows, outcomes=outcomes)
    assert measures._fused_log_dot(p, q) is not None
    fused = (entropy(p), cross_entropy(p, q), entropy(p[None]), cross_entropy(p[None], q[None]))
    monkeypatch.setattr(measures, "FUSED_MIN_ENTRIES", math.inf)
    general = (entropy(p), cross_entropy(p, q), entropy(p[None]), cross_entropy(p[None], q[None]))
    for a, b in zip(fused, general, strict=True):
        np.testing.assert_array_equal(a, b)
    assert fused[2].shape == (1, rows)


def test_fused_path_for_one_long_distribution_returns_a_float():
    p, _ = _large_batch(rows=1, outcomes=measures.FUSED_MIN_ENTRIES)
    h = entropy(p[0])
    assert isinstance(h, float)
    assert h == pytest.approx(scipy.stats.entropy(p[0]), rel=1e-12, abs=0)


def _corrupt(arr: np.ndarray, how: str) -> np.ndarray:
    """One bad entry in the last block of rows, the rest still distributions."""
    arr = arr.copy()
    if how == "nan":
        arr[-1, 3] = np.nan
    elif how == "inf":
        arr[-1, 3] = np.inf
    elif how == "negative":  # the row still sums to one
        arr[-1, 3] -= 0.5
        arr[-1, 4] += 0.5
    else:  # "sum": off one by more than the tolerance
        arr[-1, 3] += 1e-6
    return arr


@pytest.mark.parametrize("how", ["nan", "inf", "negative", "sum"])
@pytest.mark.parametrize("which", ["p", "q"])
def test_fused_path_raises_the_general_paths_error(how, which, monkeypatch):
    p, q = _large_batch()
    if which == "p":
        p = _corrupt(p, how)
    else:
        q = _corrupt(q, how)
    calls = [lambda: cross_entropy(p, q)] + ([lambda: entropy(p)] if which == "p" else [])
    for call in calls:
        with pytest.raises(ValueError) as fused:
            call()
        monkeypatch.setattr(measures, "FUSED_MIN_ENTRIES", math.inf)
        with pytest.raises(ValueError) as general:
            call()
        monkeypatch.undo()
        assert str(fused.value) == str(general.value)
        assert str(fused.value).startswith(which)


def test_fused_path_is_taken_only_where_it_applies():
    p, q = _large_batch()
    assert measures._fusable(-1, p, q) and measures._fusable(1, p)
    assert not measures._fusable(0, p, q)  # outcomes on another axis
    assert not measures._fusable(-1, p, q[:1])  # broadcasting
    assert not measures._fusable(-1, np.asfortranarray(p))
    assert not measures._fusable(-1, p.astype(np.float32))
    assert not measures._fusable(-1, p.tolist())
    assert not measures._fusable(-1, np.ma.masked_array(p))
    assert not measures._fusable(-1, p[:10])  # small: the general path is as fast
    at_least = np.full((1, measures.FUSED_MIN_ENTRIES), 1.0 / measures.FUSED_MIN_ENTRIES)
    assert measures._fusable(-1, at_least)  # the threshold itself is large enough
    assert not measures._fusable(-1, at_least[:, 1:])
    assert not measures._fusable(np.int64(-1), p)  # axis checks stay with the general path


@pytest.mark.parametrize(
    "block, expected",
    [
        ([[0.25, 0.75], [0.5, 0.5]], 0.25),
        ([[1.0, 0.0]], 0.0),
        ([[1.0, -0.0]], 0.0),  # a signed zero is a zero probability
        ([[np.nan, 1.0]], None),
        ([[np.inf, 1.0]], None),
        ([[1.5, -0.5]], None),  # sums to one, but negative
        ([[0.5, 0.5 + 1e-6]], None),
    ],
)
def test_rows_minimum_is_the_fused_paths_quick_check(block, expected):
    from klbook._validation import rows_minimum

    assert rows_minimum(np.array(block), 1e-8) == expected


def test_binary_kl_against_a_model_below_the_overflow_threshold():
    # q below 1e-300: p/q would overflow, so the log ratio is log p - log q
    for p, q in [(0.5, 1e-310), (1e-320, 1e-310), (1 - 2**-53, 1e-310), (0.25, 5e-324)]:
        assert binary_kl(p, q) == pytest.approx(exact.binary_kl(p, q), rel=1e-14, abs=0)
        # the same coin with heads and tails swapped
        assert binary_kl(1 - p, 1 - q) == pytest.approx(
            exact.binary_kl(1 - p, 1 - q), rel=1e-14, abs=0
        )


def test_binary_kl_of_tiny_coins_a_little_apart_keeps_its_digits():
    # p/q between 0.8 and 1.2 with p, q near 1e-250: log(p/q) is accurate, while
    # log p − log q would lose a dozen bits to the size of the two logs (about −575)
    for p, q in [(1.2e-200, 1e-200), (1.15e-250, 1e-250), (0.8e-280, 1e-280)]:
        assert binary_kl(p, q) == pytest.approx(exact.binary_kl(p, q), rel=1e-14, abs=0)
