"""Tests of klbook.losses: softmax, log_softmax, logsumexp and the cross-entropy loss.

The reference for the loss is built from scipy's ``log_softmax`` and an
explicit (smoothed, one-hot) target matrix, the way the loss is defined,
not the way klbook computes it.
"""

from __future__ import annotations

import math
import tracemalloc
import warnings
from fractions import Fraction

import numpy as np
import pytest
import scipy.special as sp
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import klbook
from klbook.losses import (
    cross_entropy_loss,
    cross_entropy_loss_grad,
    log_softmax,
    logsumexp,
    softmax,
)

# --------------------------------------------------------------------------- #
# Helpers and strategies
# --------------------------------------------------------------------------- #


def reference_loss(logits, targets, eps=0.0, reduction="mean"):
    """Cross-entropy from the definition: −Σ t log softmax(z) with an explicit target."""
    z = np.asarray(logits, dtype=float)
    n_classes = z.shape[-1]
    t = np.asarray(targets)
    if t.shape == z.shape[:-1]:
        t = np.eye(n_classes)[t]
    t = (1 - eps) * t + eps / n_classes
    # −Σ t log q with 0 · log 0 = 0; log q from scipy's log_softmax, which stays finite
    # where softmax itself would underflow to 0.
    log_q = sp.log_softmax(z, axis=-1)
    per = -np.sum(np.where(t > 0, t * np.where(t > 0, log_q, 0.0), 0.0), axis=-1)
    if reduction == "none":
        return per
    return per.sum() if reduction == "sum" else per.mean()


finite = st.floats(-30, 30, allow_nan=False, allow_infinity=False)
big = st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False)


@st.composite
def logits_and_indices(draw, elements=finite, max_batch=6, max_classes=6):
    n = draw(st.integers(1, max_batch))
    c = draw(st.integers(1, max_classes))
    z = draw(hnp.arrays(np.float64, (n, c), elements=elements))
    y = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)))
    return z, y


@st.composite
def logits_and_probabilities(draw, elements=finite, max_batch=5, max_classes=5):
    n = draw(st.integers(1, max_batch))
    c = draw(st.integers(1, max_classes))
    z = draw(hnp.arrays(np.float64, (n, c), elements=elements))
    w = draw(hnp.arrays(np.float64, (n, c), elements=st.floats(0, 1)))
    # Some rows with exact zeros, so 0 · log 0 is exercised.
    assume((w.sum(axis=1) > 1e-3).all())
    p = w / w.sum(axis=1, keepdims=True)
    return z, p


smoothing = st.floats(0, 1)


# --------------------------------------------------------------------------- #
# softmax, log_softmax, logsumexp
# --------------------------------------------------------------------------- #


@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=5), elements=big))
def test_softmax_matches_scipy_and_rows_sum_to_one(z):
    for axis in range(-z.ndim, z.ndim):
        s = softmax(z, axis=axis)
        np.testing.assert_allclose(s, sp.softmax(z, axis=axis), rtol=1e-12, atol=1e-300)
        np.testing.assert_allclose(s.sum(axis=axis), 1.0, rtol=0, atol=1e-12)
        assert (s >= 0).all()
        ls = log_softmax(z, axis=axis)
        np.testing.assert_allclose(ls, sp.log_softmax(z, axis=axis), rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(
            logsumexp(z, axis=axis), sp.logsumexp(z, axis=axis), rtol=1e-12, atol=1e-12
        )


def test_extreme_logits_no_warnings():
    z = np.array([[1e4, 0.0, -1e4], [-1e4, -1e4, -1e4], [1e300, -1e300, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = softmax(z)
        ls = log_softmax(z)
        lse = logsumexp(z)
        loss = cross_entropy_loss(z, [2, 0, 1], reduction="none")
    np.testing.assert_array_equal(s[0], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(s[1], [1 / 3] * 3)
    np.testing.assert_array_equal(ls[0], [0.0, -1e4, -2e4])
    np.testing.assert_allclose(lse, [1e4, -1e4 + math.log(3), 1e300])
    np.testing.assert_allclose(loss, [2e4, math.log(3), 2e300])


def test_float_limit_logits_overflow_is_harmless():
    big_value = np.finfo(np.float64).max
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = softmax([big_value, -big_value])
    np.testing.assert_array_equal(s, [1.0, 0.0])


# --------------------------------------------------------------------------- #
# Logits at the float limit: the loss works with the shifted logits z − max z
# --------------------------------------------------------------------------- #

MAX = float(np.finfo(np.float64).max)


def strictly(func, *args, **kwargs):
    """Call func with every warning an error and every floating-point error raised."""
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        return func(*args, **kwargs)


@pytest.mark.parametrize(
    ("logits", "targets", "eps", "want"),
    [
        # Equal logits far from 0: log C, whatever the offset.
        ([[-1.7e308, -1.7e308]], [1], 0.5, math.log(2)),
        ([[1.7e308] * 3], [1], 0.5, math.log(3)),
        ([[-MAX, -MAX]], [0], 1.0, math.log(2)),
        ([[MAX] * 3], [[0.2, 0.3, 0.5]], 0.0, math.log(3)),
        # Rows spanning more than the float range (z − max z overflows).
        ([[1e308, -1e308]], [0], 0.0, 0.0),
        ([[1e308, -1e308]], [1], 0.0, math.inf),  # the true loss 2e308 exceeds MAX
        ([[1e308, -1e308]], [0], 0.5, 0.5 * 1e308),  # ε · (2e308 / 2)
        ([[1e308, -1e308]], [1], 0.5, 1.5 * 1e308),  # 0.5 · 2e308 + 0.5 · 1e308
        ([[1e308, -1e308]], [1], 1.0, 1e308),
        ([[MAX, -MAX]], [0], 0.5, 0.5 * MAX),
        ([[MAX, -MAX]], [1], 0.0, math.inf),
        ([[0.0, MAX, -MAX]], [0], 1.0, MAX),  # (MAX + 0 + 2 MAX) / 3, exactly the limit
        ([[0.0, MAX, -MAX]], [[1 / 3, 1 / 3, 1 / 3]], 0.0, MAX),  # float 1/3 < 1/3
        ([[1e308, -1e308]], [[1.0, 0.0]], 0.0, 0.0),
        ([[1e308, -1e308]], [[0.25, 0.75]], 0.0, 1.5 * 1e308),
        ([[1e308, -1e308]], [[0.0, 1.0]], 0.0, math.inf),
        ([[1e308, -1e308]], [[1.0, 0.0]], 0.5, 0.5 * 1e308),
        # A masked class in a wide row: finite unless the target reaches it.
        ([[1e308, -1e308, -math.inf]], [0], 0.0, 0.0),
        ([[1e308, -1e308, -math.inf]], [[0.5, 0.5, 0.0]], 0.0, 1e308),
        ([[1e308, -1e308, -math.inf]], [0], 0.1, math.inf),
        # A 1-D row.
        ([1e308, -1e308], 1, 0.5, 1.5 * 1e308),
    ],
)
def test_loss_at_the_float_limit_is_exact_and_silent(logits, targets, eps, want):
    for reduction in ("mean", "sum", "none"):
        got = strictly(
            cross_entropy_loss, logits, targets, label_smoothing=eps, reduction=reduction
        )
        assert float(np.squeeze(got)) == want


def test_the_mean_of_huge_losses_is_exact_though_their_sum_overflows():
    z = [[1e308, -1e308]] * 4
    y = [1, 1, 1, 1]
    assert strictly(cross_entropy_loss, z, y, label_smoothing=0.5) == 1.5 * 1e308
    assert strictly(cross_entropy_loss, z, y, label_smoothing=0.5, reduction="sum") == math.inf
    np.testing.assert_array_equal(
        strictly(cross_entropy_loss, z, y, label_smoothing=0.5, reduction="none"),
        [1.5 * 1e308] * 4,
    )
    # Three losses of exactly MAX: their mean is MAX, not inf.
    assert strictly(cross_entropy_loss, [[0.0, MAX, -MAX]] * 3, [0] * 3, label_smoothing=1.0) == MAX


def test_the_mean_of_unequal_huge_losses_is_their_mean_not_the_largest():
    # Losses 1e308, 1e308 and log 2: the sum overflows; the mean is (2e308 + log 2) / 3.
    z = [[0.0, -1e308], [0.0, -1e308], [0.0, 0.0]]
    got = strictly(cross_entropy_loss, z, [1, 1, 0])
    want = float((2 * Fraction(1e308) + Fraction(math.log(2))) / 3)
    assert got == pytest.approx(want, rel=1e-15, abs=0)


@pytest.mark.parametrize("seed", range(10))
def test_the_mean_reduction_is_numpys_mean_of_the_losses_bit_for_bit(seed):
    rng = np.random.default_rng(seed)
    z, y = rng.normal(size=(7, 3)), rng.integers(0, 3, size=7)
    per_example = cross_entropy_loss(z, y, reduction="none")
    assert cross_entropy_loss(z, y) == float(np.mean(per_example))
    assert cross_entropy_loss(z, y, reduction="sum") == float(np.sum(per_example))


def test_softmax_family_and_gradient_at_the_float_limit_are_exact_and_silent():
    np.testing.assert_array_equal(strictly(softmax, [[-1.7e308, -1.7e308]]), [[0.5, 0.5]])
    np.testing.assert_array_equal(strictly(log_softmax, [1.7e308] * 3), [-math.log(3)] * 3)
    np.testing.assert_array_equal(strictly(log_softmax, [1e308, -1e308]), [0.0, -math.inf])
    assert strictly(logsumexp, [-MAX, -MAX]) == -MAX  # −MAX + log 2 rounds to −MAX
    assert strictly(logsumexp, [MAX, MAX]) == MAX
    np.testing.assert_array_equal(
        strictly(cross_entropy_loss_grad, [[-1.7e308, -1.7e308]], [1], label_smoothing=0.5),
        [[0.25, -0.25]],
    )
    np.testing.assert_array_equal(
        strictly(cross_entropy_loss_grad, [[1e308, -1e308]], [1]), [[1.0, -1.0]]
    )
    np.testing.assert_array_equal(
        strictly(cross_entropy_loss_grad, [[MAX, -MAX]], [[0.25, 0.75]], reduction="sum"),
        [[0.75, -0.75]],
    )


anywhere = st.floats(-MAX, MAX, allow_nan=False, allow_infinity=False)
# Magnitudes near the float limit, either sign, so rows often span more than MAX.
huge = st.builds(lambda sign, v: sign * v, st.sampled_from([-1.0, 1.0]), st.floats(1e307, MAX))
extreme = st.one_of(big, anywhere, huge)


@st.composite
def logits_and_exact_row_offsets(draw, max_batch=5, max_classes=5):
    """Logits k·2^e and row offsets j·2^e, integers |k|, |j|, |k + j| < 2^53: sums exact.

    With e = 971 the logits and the shifted logits reach ±MAX (= (2^53 − 1)·2^971),
    so rows spanning more than the float range are common.
    """
    n = draw(st.integers(1, max_batch))
    c = draw(st.integers(1, max_classes))
    e = draw(st.one_of(st.sampled_from([0, 971]), st.integers(-60, 971)))
    k_max = 2**53 - 1
    near_limit = st.integers(2**52, k_max)
    k_element = st.one_of(st.integers(-k_max, k_max), near_limit, near_limit.map(lambda v: -v))
    k = draw(hnp.arrays(np.int64, (n, c), elements=k_element))
    # |j| < 2^53 as well, so the offset itself is representable.
    j = [
        draw(st.integers(max(-k_max, -k_max - int(row.min())), min(k_max, k_max - int(row.max()))))
        for row in k
    ]
    y = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)))
    scale = math.ldexp(1.0, e)
    z = k.astype(np.float64) * scale  # exact: |k| < 2^53 and 2^-60 ≤ scale ≤ 2^971
    offset = np.array(j, dtype=np.float64)[:, None] * scale
    return z, offset, y


@given(logits_and_exact_row_offsets(), smoothing)
def test_loss_invariant_to_a_huge_row_offset(data, eps):
    z, offset, y = data
    shifted = z + offset  # exact by construction, and within ±MAX
    assert all(
        Fraction(w) == Fraction(v) + Fraction(o)
        for z_row, o, w_row in zip(z, offset[:, 0], shifted, strict=True)
        for v, w in zip(z_row, w_row, strict=True)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for reduction in ("none", "mean"):
            np.testing.assert_allclose(
                cross_entropy_loss(shifted, y, label_smoothing=eps, reduction=reduction),
                cross_entropy_loss(z, y, label_smoothing=eps, reduction=reduction),
                rtol=1e-13,
                atol=0,
            )
        np.testing.assert_array_equal(softmax(shifted), softmax(z))
        np.testing.assert_array_equal(log_softmax(shifted), log_softmax(z))
        np.testing.assert_array_equal(
            cross_entropy_loss_grad(shifted, y, label_smoothing=eps),
            cross_entropy_loss_grad(z, y, label_smoothing=eps),
        )


def exact_loss(row, weights):
    """−Σ_c w_c log softmax(z)_c in exact rationals, then rounded once (inf beyond MAX).

    Only log Σ exp(z_c − m) ∈ [0, log C] is taken in floats; the differences
    z_c − m, which can exceed the float range, stay exact.
    """
    m = Fraction(max(row))
    diffs = [Fraction(z) - m for z in row]
    log_norm = Fraction(math.log(math.fsum(math.exp(d) if d > -1000 else 0.0 for d in diffs)))
    total = sum((w * (log_norm - d) for w, d in zip(weights, diffs, strict=True) if w), Fraction())
    try:
        return float(total)
    except OverflowError:
        return math.inf


def assert_matches_exact(got, want) -> None:
    """``got`` within 1e-12 of the exact losses ``want`` (from exact_loss).

    Where the exact loss is just beyond the float range (it rounds to inf),
    a float computation may round its last step down to the largest float
    instead: both are within one ulp of the truth, so both are accepted.
    """
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    beyond = np.isinf(want)
    assert np.all(got[beyond] >= np.finfo(float).max * (1 - 1e-12)), (got, want)
    np.testing.assert_allclose(got[~beyond], want[~beyond], rtol=1e-12, atol=1e-12)


@given(logits_and_indices(elements=extreme), smoothing)
def test_loss_with_indices_matches_exact_arithmetic_over_the_float_range(data, eps):
    z, y = data
    n_classes = z.shape[1]
    e = Fraction(eps)
    want = [
        exact_loss(row, [(1 - e) * (c == k) + e / n_classes for c in range(n_classes)])
        for row, k in zip(z.tolist(), y.tolist(), strict=True)
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = cross_entropy_loss(z, y, label_smoothing=eps, reduction="none")
    assert_matches_exact(got, want)


@given(logits_and_probabilities(elements=extreme))
def test_loss_with_probabilities_matches_exact_arithmetic_over_the_float_range(data):
    z, p = data
    want = [
        exact_loss(row, [Fraction(w) for w in weights])
        for row, weights in zip(z.tolist(), p.tolist(), strict=True)
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = cross_entropy_loss(z, p, reduction="none")
    assert_matches_exact(got, want)


def test_losses_at_the_float_limit_are_settled_exactly():
    # m - z = MAX exactly (logits ±MAX/2): the loss of the low class is the largest float,
    # and one ulp more is past it. These rows are decided in exact rational arithmetic.
    half = MAX / 2
    z = np.array([[half, -half]])
    assert cross_entropy_loss(z, [1]) == MAX
    assert cross_entropy_loss(z, [[0.0, 1.0]]) == MAX
    assert cross_entropy_loss(z, [0]) == 0.0
    assert cross_entropy_loss(np.array([[half, -half, -half]]), [[0.0, 0.5, 0.5]]) == MAX
    # a hair inside: MAX - 2**970 rounds (to even) to the float below MAX
    inside = np.array([[half, np.nextafter(-half, 0.0)]])
    want = float(Fraction(half) - Fraction(float(inside[0, 1])))
    assert want == np.nextafter(MAX, 0.0)
    assert cross_entropy_loss(inside, [1]) == want
    # a hair outside: past the largest float
    outside = np.array([[np.nextafter(half, math.inf), -half]])
    assert cross_entropy_loss(outside, [1]) == math.inf
    assert cross_entropy_loss(outside, [[0.0, 1.0]]) == math.inf
    # with smoothing the loss is a mix of 0 and MAX: 0.75 MAX for ε = 0.5
    assert cross_entropy_loss(z, [1], label_smoothing=0.5) == pytest.approx(
        0.75 * MAX, rel=1e-15, abs=0
    )


def test_a_loss_a_hair_beyond_the_float_range_is_inf_or_the_largest_float():
    # Found by hypothesis: the weights 0.1, 0.3 and 1 - 0.1 - 0.3 sum to a hair over 1,
    # so the exact loss is the largest float times (1 + 1e-16), which rounds to inf;
    # the float computation rounds its last step down instead. Both are one ulp off.
    big = np.finfo(float).max
    z = np.array([[0.0, 0.0, big, 0.0]])
    p = np.array([[0.1, 0.3, 0.0, 1 - 0.1 - 0.3]])
    want = [exact_loss(z[0].tolist(), [Fraction(w) for w in p[0].tolist()])]
    assert want == [math.inf]
    got = cross_entropy_loss(z, p, reduction="none")
    assert_matches_exact(got, want)
    with pytest.raises(AssertionError):
        assert_matches_exact([1e300], want)


def test_minus_inf_means_probability_zero():
    z = [0.0, -np.inf, 0.0]
    np.testing.assert_array_equal(softmax(z), [0.5, 0.0, 0.5])
    ls = log_softmax(z)
    assert ls[1] == -np.inf
    assert ls[0] == pytest.approx(-math.log(2), rel=1e-15, abs=0)
    assert logsumexp(z) == pytest.approx(math.log(2), rel=1e-15, abs=0)
    # The loss is finite for a reachable class and infinite for the masked one.
    assert cross_entropy_loss(z, 0) == pytest.approx(math.log(2), rel=1e-15, abs=0)
    assert cross_entropy_loss(z, 1) == math.inf
    # Smoothing spreads target mass onto the masked class too.
    assert cross_entropy_loss(z, 0, label_smoothing=0.1) == math.inf
    # A probability target that rules the masked class out keeps the loss finite.
    assert cross_entropy_loss(z, [0.5, 0.0, 0.5]) == pytest.approx(math.log(2), rel=1e-15, abs=0)
    g = cross_entropy_loss_grad(z, 0)
    np.testing.assert_allclose(g, [-0.5, 0.0, 0.5], rtol=1e-15, atol=0)


def test_softmax_returns_float64_from_ints_and_float32():
    assert softmax([1, 2, 3]).dtype == np.float64
    np.testing.assert_allclose(
        softmax(np.array([1, 2, 3], dtype=np.float32)),
        sp.softmax([1.0, 2.0, 3.0]),
        rtol=1e-15,
        atol=0,
    )


def test_logsumexp_returns_python_float_for_a_vector():
    assert isinstance(logsumexp([0.0, 1.0]), float)
    assert logsumexp([[0.0, 0.0], [1.0, 1.0]], axis=0).shape == (2,)


@pytest.mark.parametrize("func", [softmax, log_softmax, logsumexp])
@pytest.mark.parametrize(
    ("z", "match"),
    [
        ([1.0, np.nan], "NaN"),
        ([[0.0, 1.0], [np.nan, -np.inf]], "NaN"),
        ([1.0, np.inf], r"\+inf"),
        ([-np.inf, -np.inf], "all -inf"),
        (3.0, "scalar"),
        (np.zeros((2, 0)), "empty"),
        (["a", "b"], "real numbers"),
        ([True, False], "real numbers"),
        ([1 + 1j, 0], "real"),
        ([[1.0], [1.0, 2.0]], "real numbers"),
    ],
)
def test_softmax_family_rejects_bad_logits(func, z, match):
    with pytest.raises(ValueError, match=match):
        func(z)


@pytest.mark.parametrize("func", [softmax, log_softmax, logsumexp])
@pytest.mark.parametrize("axis", [2, -3, 1.0, True])
def test_softmax_family_rejects_bad_axis(func, axis):
    with pytest.raises(ValueError, match="axis"):
        func(np.zeros((2, 2)), axis=axis)


# --------------------------------------------------------------------------- #
# cross_entropy_loss against the reference
# --------------------------------------------------------------------------- #


@given(logits_and_indices(elements=big), smoothing, st.sampled_from(["mean", "sum", "none"]))
def test_loss_with_indices_matches_reference(data, eps, reduction):
    z, y = data
    got = cross_entropy_loss(z, y, label_smoothing=eps, reduction=reduction)
    want = reference_loss(z, y, eps, reduction)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)


@given(logits_and_probabilities(), smoothing, st.sampled_from(["mean", "sum", "none"]))
def test_loss_with_probabilities_matches_reference(data, eps, reduction):
    z, p = data
    got = cross_entropy_loss(z, p, label_smoothing=eps, reduction=reduction)
    want = reference_loss(z, p, eps, reduction)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)


def test_loss_by_hand():
    # One example, three classes: −log(e^1 / (e^1 + e^2 + e^3)).
    z = [1.0, 2.0, 3.0]
    want = -(1.0 - math.log(math.exp(1) + math.exp(2) + math.exp(3)))
    assert cross_entropy_loss(z, 0) == pytest.approx(want, rel=1e-14, abs=0)
    assert isinstance(cross_entropy_loss(z, 0), float)
    assert isinstance(cross_entropy_loss(z, 0, reduction="none"), float)
    # Uniform logits: log C whatever the class.
    assert cross_entropy_loss(np.zeros((4, 5)), [0, 1, 2, 4]) == pytest.approx(
        math.log(5), rel=1e-15, abs=0
    )


def test_batch_shape_is_kept_and_reductions_agree():
    rng = np.random.default_rng(3)
    z = rng.normal(size=(2, 3, 4))
    y = rng.integers(0, 4, size=(2, 3))
    per = cross_entropy_loss(z, y, reduction="none")
    assert per.shape == (2, 3)
    assert cross_entropy_loss(z, y, reduction="sum") == pytest.approx(per.sum(), rel=1e-15, abs=0)
    assert cross_entropy_loss(z, y) == pytest.approx(per.mean(), rel=1e-15, abs=0)
    np.testing.assert_allclose(per, reference_loss(z, y, reduction="none"), rtol=1e-13, atol=0)


def test_empty_batch():
    z = np.zeros((0, 3))
    y = np.zeros(0, dtype=int)
    assert cross_entropy_loss(z, y, reduction="sum") == 0.0
    assert cross_entropy_loss(z, y, reduction="none").shape == (0,)
    np.testing.assert_array_equal(cross_entropy_loss_grad(z, y, reduction="sum"), z)
    with pytest.raises(ValueError, match="empty batch"):
        cross_entropy_loss(z, y)
    with pytest.raises(ValueError, match="empty batch"):
        cross_entropy_loss_grad(z, y)


# --------------------------------------------------------------------------- #
# Properties
# --------------------------------------------------------------------------- #


@given(logits_and_indices(elements=big), smoothing)
def test_loss_is_non_negative(data, eps):
    z, y = data
    per = cross_entropy_loss(z, y, label_smoothing=eps, reduction="none")
    assert (per >= 0).all()


@given(logits_and_probabilities())
def test_loss_is_kl_plus_entropy(data):
    z, p = data
    q = softmax(z)
    assume((q > 1e-300).all())  # KL needs q representable where p > 0
    per = cross_entropy_loss(z, p, reduction="none")
    want = np.asarray(klbook.kl_divergence(p, q)) + np.asarray(klbook.entropy(p))
    np.testing.assert_allclose(per, want, rtol=1e-7, atol=1e-9)


@given(logits_and_indices(), smoothing, st.floats(-1e3, 1e3))
def test_loss_invariant_to_a_constant_added_to_a_row(data, eps, shift):
    z, y = data
    shifted = z.copy()
    shifted[0] += shift
    np.testing.assert_allclose(
        cross_entropy_loss(shifted, y, label_smoothing=eps, reduction="none"),
        cross_entropy_loss(z, y, label_smoothing=eps, reduction="none"),
        rtol=1e-9,
        atol=1e-9,
    )
    np.testing.assert_allclose(softmax(shifted), softmax(z), rtol=1e-9, atol=1e-12)


@given(logits_and_indices(elements=st.floats(-5, 5)), smoothing)
def test_integer_and_one_hot_targets_agree(data, eps):
    z, y = data
    one_hot = np.eye(z.shape[1])[y]
    np.testing.assert_allclose(
        cross_entropy_loss(z, y, label_smoothing=eps, reduction="none"),
        cross_entropy_loss(z, one_hot, label_smoothing=eps, reduction="none"),
        rtol=1e-12,
        atol=1e-12,
    )
    np.testing.assert_allclose(
        cross_entropy_loss_grad(z, y, label_smoothing=eps),
        cross_entropy_loss_grad(z, one_hot, label_smoothing=eps),
        rtol=1e-12,
        atol=1e-15,
    )


@given(logits_and_probabilities(elements=st.floats(-5, 5)), smoothing)
def test_label_smoothing_matches_explicit_smoothed_target(data, eps):
    z, p = data
    smoothed = (1 - eps) * p + eps / z.shape[1]
    assume(np.all(np.abs(smoothed.sum(axis=1) - 1) < 1e-12))
    np.testing.assert_allclose(
        cross_entropy_loss(z, p, label_smoothing=eps),
        cross_entropy_loss(z, smoothed),
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        cross_entropy_loss_grad(z, p, label_smoothing=eps),
        cross_entropy_loss_grad(z, smoothed),
        atol=1e-14,
    )


def test_one_hot_loss_is_the_kl_and_smoothing_adds_its_entropy():
    z = np.array([2.0, -1.0, 0.5, 0.0])
    q = softmax(z)
    one_hot = np.array([0.0, 0.0, 1.0, 0.0])
    assert cross_entropy_loss(z, 2) == pytest.approx(
        klbook.kl_divergence(one_hot, q), rel=1e-14, abs=0
    )
    eps = 0.2
    smoothed = 0.8 * one_hot + eps / 4
    assert cross_entropy_loss(z, 2, label_smoothing=eps) == pytest.approx(
        klbook.kl_divergence(smoothed, q) + klbook.entropy(smoothed), rel=1e-14, abs=0
    )


def test_full_smoothing_is_the_uniform_target():
    z = np.array([[3.0, 0.0, -2.0]])
    assert cross_entropy_loss(z, [1], label_smoothing=1.0) == pytest.approx(
        cross_entropy_loss(z, [[1 / 3, 1 / 3, 1 / 3]]), rel=1e-15, abs=0
    )


# --------------------------------------------------------------------------- #
# The gradient
# --------------------------------------------------------------------------- #


def central_difference(f, z, h=1e-6):
    g = np.zeros_like(z)
    for idx in np.ndindex(z.shape):
        up, down = z.copy(), z.copy()
        up[idx] += h
        down[idx] -= h
        g[idx] = (f(up) - f(down)) / (2 * h)
    return g


@given(logits_and_indices(elements=st.floats(-5, 5), max_batch=4, max_classes=4), smoothing)
def test_gradient_matches_central_differences(data, eps):
    z, y = data
    numeric = central_difference(lambda w: cross_entropy_loss(w, y, label_smoothing=eps), z)
    analytic = cross_entropy_loss_grad(z, y, label_smoothing=eps)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-7)


@given(logits_and_probabilities(elements=st.floats(-5, 5), max_batch=3, max_classes=4))
def test_gradient_with_probability_targets_matches_central_differences(data):
    z, p = data
    numeric = central_difference(lambda w: cross_entropy_loss(w, p, reduction="sum"), z)
    analytic = cross_entropy_loss_grad(z, p, reduction="sum")
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-7)


@given(logits_and_indices(elements=big), smoothing)
def test_gradient_is_softmax_minus_target_over_n(data, eps):
    z, y = data
    n, c = z.shape
    target = (1 - eps) * np.eye(c)[y] + eps / c
    grad = cross_entropy_loss_grad(z, y, label_smoothing=eps)
    np.testing.assert_allclose(grad, (sp.softmax(z, axis=1) - target) / n, atol=1e-12)
    np.testing.assert_allclose(grad.sum(axis=1), 0.0, atol=1e-12)


def test_gradient_of_a_single_example_and_of_a_batch_shape():
    z = np.array([2.0, 1.0, 0.0])
    want = sp.softmax(z) - np.array([0.0, 1.0, 0.0])
    np.testing.assert_allclose(cross_entropy_loss_grad(z, 1), want)
    zz = np.stack([z, z, z, z]).reshape(2, 2, 3)
    g = cross_entropy_loss_grad(zz, np.ones((2, 2), dtype=int))
    np.testing.assert_allclose(g, np.broadcast_to(want / 4, (2, 2, 3)))


# --------------------------------------------------------------------------- #
# Bad input
# --------------------------------------------------------------------------- #

Z = np.zeros((2, 3))

BAD_LOSS_INPUTS = [
    (dict(logits=Z, targets=[0, 3]), "outside 0..2"),
    (dict(logits=Z, targets=[-1, 0]), "outside 0..2"),
    (dict(logits=Z, targets=[0.0, 1.0]), "must be integers"),
    (dict(logits=Z, targets=[0.5, 1.0]), "must be integers"),
    (dict(logits=Z, targets=[True, False]), "must be integers"),
    (dict(logits=Z, targets=[0, 1, 2]), "do not fit"),
    (dict(logits=Z, targets=np.zeros((2, 2))), "do not fit"),
    (dict(logits=Z, targets=np.zeros((3, 2), dtype=int)), "do not fit"),
    (dict(logits=Z, targets=[[0.5, 0.5, 0.5], [1.0, 0.0, 0.0]]), "sum to one"),
    (dict(logits=Z, targets=[[1.5, -0.5, 0.0], [1.0, 0.0, 0.0]]), "negative"),
    (dict(logits=Z, targets=[[np.nan, 1.0, 0.0], [1.0, 0.0, 0.0]]), "NaN"),
    (dict(logits=Z, targets=[[np.inf, 1.0, 0.0], [1.0, 0.0, 0.0]]), "infinite"),
    (dict(logits=Z, targets=[["a", "b", "c"], ["a", "b", "c"]]), "real numbers"),
    (dict(logits=Z, targets=[0, 1], label_smoothing=-0.1), "label_smoothing"),
    (dict(logits=Z, targets=[0, 1], label_smoothing=1.5), "label_smoothing"),
    (dict(logits=Z, targets=[0, 1], label_smoothing=np.nan), "label_smoothing"),
    (dict(logits=Z, targets=[0, 1], label_smoothing="0.1"), "label_smoothing"),
    (dict(logits=Z, targets=[0, 1], label_smoothing=True), "label_smoothing"),
    (dict(logits=[[0.0, np.nan, 0.0], [0.0, 0.0, 0.0]], targets=[0, 1]), "NaN"),
    (dict(logits=[[0.0, np.inf, 0.0], [0.0, 0.0, 0.0]], targets=[0, 1]), r"\+inf"),
    (dict(logits=[[-np.inf] * 3, [0.0, 0.0, 0.0]], targets=[0, 1]), "all -inf"),
    (dict(logits=1.0, targets=0), "scalar"),
    (dict(logits=np.zeros((2, 0)), targets=[0, 0]), "no classes"),
    (dict(logits=[["x", "y"]], targets=[0]), "real numbers"),
]


@pytest.mark.parametrize(("kwargs", "match"), BAD_LOSS_INPUTS)
def test_loss_rejects_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        cross_entropy_loss(**kwargs)


@pytest.mark.parametrize(("kwargs", "match"), BAD_LOSS_INPUTS)
def test_gradient_rejects_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        cross_entropy_loss_grad(**kwargs)


@pytest.mark.parametrize("reduction", ["average", "MEAN", None, 0])
def test_unknown_reduction(reduction):
    with pytest.raises(ValueError, match="reduction"):
        cross_entropy_loss(Z, [0, 1], reduction=reduction)


def test_gradient_has_no_none_reduction():
    with pytest.raises(ValueError, match="reduction"):
        cross_entropy_loss_grad(Z, [0, 1], reduction="none")


# --------------------------------------------------------------------------- #
# Memory: no full-size one-hot matrix for class indices
# --------------------------------------------------------------------------- #


def test_integer_targets_need_one_temporary_at_most():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(512, 1000))
    y = rng.integers(0, 1000, size=512)
    cross_entropy_loss(z, y)  # warm up
    tracemalloc.start()
    try:
        cross_entropy_loss(z, y, label_smoothing=0.1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1.5 * z.nbytes


# --------------------------------------------------------------------------- #
# PyTorch, if it is installed
# --------------------------------------------------------------------------- #


def test_matches_torch_if_available():
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    rng = np.random.default_rng(7)
    z = rng.normal(scale=4, size=(16, 5))
    y = rng.integers(0, 5, size=16)
    w = rng.random((16, 5))
    p = w / w.sum(axis=1, keepdims=True)
    for eps in (0.0, 0.1, 1.0):
        for reduction in ("mean", "sum", "none"):
            want_y = functional.cross_entropy(
                torch.tensor(z), torch.tensor(y), label_smoothing=eps, reduction=reduction
            ).numpy()
            want_p = functional.cross_entropy(
                torch.tensor(z), torch.tensor(p), label_smoothing=eps, reduction=reduction
            ).numpy()
            np.testing.assert_allclose(
                cross_entropy_loss(z, y, label_smoothing=eps, reduction=reduction), want_y
            )
            np.testing.assert_allclose(
                cross_entropy_loss(z, p, label_smoothing=eps, reduction=reduction), want_p
            )
    zt = torch.tensor(z, requires_grad=True)
    functional.cross_entropy(zt, torch.tensor(y), label_smoothing=0.1).backward()
    np.testing.assert_allclose(
        cross_entropy_loss_grad(z, y, label_smoothing=0.1), zt.grad.numpy(), atol=1e-12
    )


def test_strict_floating_point_settings_do_not_break_extreme_logits():
    z = np.array([[1e4, 0.0, -1e4], [0.0, -800.0, -1e4]])
    with np.errstate(all="raise"):
        s = softmax(z)
        ls = log_softmax(z)
        loss = cross_entropy_loss(z, [2, 1], label_smoothing=0.1, reduction="none")
        grad = cross_entropy_loss_grad(z, [[0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    np.testing.assert_allclose(s.sum(axis=1), 1.0)
    np.testing.assert_allclose(ls, sp.log_softmax(z, axis=1))
    np.testing.assert_allclose(loss, reference_loss(z, [2, 1], 0.1, "none"))
    assert np.isfinite(grad).all()


# --------------------------------------------------------------------------- #
# Binary losses from logits: what is refused, and the message that says why
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("logits", "targets", "message"),
    [
        ([1j], [1.0], "logits must be real, got complex values"),
        ([np.nan], [1.0], "logits contain NaN"),
        ([0.0], [1j], "targets must be real, got complex values"),
        ([0.0], [np.nan], "targets contain NaN"),
        (
            [0.0, 0.0],
            [1.0],
            "targets of shape (1,) do not fit logits of shape (2,): give one target per logit",
        ),
        (
            [0.0, 0.0],
            [0.0, 1.5],
            "targets must lie in [0, 1] (the probability of class 1), got 1.5. "
            "klbook never clips silently",
        ),
        (
            [0.0, 0.0],
            [1.0, -0.5],
            "targets must lie in [0, 1] (the probability of class 1), got -0.5. "
            "klbook never clips silently",
        ),
        (
            [0.0, 0.0],
            [0.5, 2.0],
            "targets must lie in [0, 1] (the probability of class 1), got 2.0. "
            "klbook never clips silently",
        ),
    ],
)
def test_binary_loss_refuses_bad_input_and_says_why(logits, targets, message):
    from klbook.losses import binary_cross_entropy_with_logits

    with pytest.raises(ValueError) as info:
        binary_cross_entropy_with_logits(logits, targets)
    assert str(info.value) == message


def test_binary_loss_refuses_ragged_targets_naming_them():
    from klbook.losses import binary_cross_entropy_with_logits

    with pytest.raises(ValueError, match=r"^targets must be an array of numbers in \[0, 1\] \("):
        binary_cross_entropy_with_logits([0.0, 0.0], [[1.0], [0.0, 1.0]])


def test_wide_rows_keep_their_log_normaliser():
    # Rows whose loss overflows in the first pass are redone at half scale. With a tiny
    # smoothing ε the loss of a top class is log 2 + ε · (mean gap), about 6.7e7 here:
    # finite, and the normaliser log 2 shows in its eighth digit.
    wide = np.array([[1e308, 1e308, -1e308], [1e308, -1e308, 1e308]])
    for eps in (1e-300, 1e-290, 0.5):
        got = cross_entropy_loss(wide, [0, 2], label_smoothing=eps, reduction="none")
        for row, label, loss in zip(wide, [0, 2], got, strict=True):
            weights = [Fraction(eps) / 3] * 3
            weights[label] += 1 - Fraction(eps)
            assert_matches_exact([loss], [exact_loss(row.tolist(), weights)])
    assert cross_entropy_loss(wide[:1], [0], label_smoothing=1e-300) == pytest.approx(
        math.log(2) + 1e-300 * 1e308 * 2 / 3, rel=1e-13, abs=0
    )


@pytest.mark.parametrize(
    ("logits", "targets", "message"),
    [
        (np.zeros((2, 3)), [0, 5], "targets holds the class index 5, outside 0..2 for 3 classes"),
        (np.zeros((2, 3)), [-1, 0], "targets holds the class index -1, outside 0..2 for 3 classes"),
        (np.zeros((2, 3)), [1, 3], "targets holds the class index 3, outside 0..2 for 3 classes"),
        (
            np.zeros((2, 0)),
            [0, 0],
            "logits are empty along the class axis (the last): there are no classes",
        ),
    ],
)
def test_loss_names_the_bad_class_index(logits, targets, message):
    with pytest.raises(ValueError) as info:
        cross_entropy_loss(logits, targets)
    assert str(info.value) == message


def test_loss_refuses_ragged_targets_naming_them():
    with pytest.raises(ValueError, match=r"^targets must be class indices or probability rows \("):
        cross_entropy_loss(np.zeros((2, 3)), [[0.5, 0.5], [1.0]])


def test_wide_rows_with_probability_targets_keep_their_log_normaliser():
    # 1e-300 of the target on a class 2e308 below the top: 2e8 nats, plus log 2
    wide = np.array([[1e308, 1e308, -1e308]])
    got = cross_entropy_loss(wide, [[0.5, 0.5, 1e-300]])
    want = exact_loss(wide[0].tolist(), [Fraction(0.5), Fraction(0.5), Fraction(1e-300)])
    assert_matches_exact([got], [want])
    assert got == pytest.approx(1e-300 * 1e308 * 2 + math.log(2), rel=1e-14, abs=0)


def test_probability_targets_are_checked_with_the_worst_row_quoted():
    z = np.zeros((3, 3))
    t = np.array([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5 + 2e-8], [0.2, 0.3, 0.5 + 3e-8]])
    with pytest.raises(ValueError) as info:
        cross_entropy_loss(z, t)
    assert str(info.value) == (
        "probability targets must sum to one over the class axis (the last); a row sums to "
        f"{float(t[2].sum())!r}. klbook never normalises silently"
    )
    with pytest.raises(ValueError) as info:
        cross_entropy_loss(np.zeros((1, 3)), [[1j, 0.0, 0.0]])
    assert str(info.value) == "probability targets must be real, got complex values"


def test_a_wide_row_just_inside_the_float_range_is_settled_exactly():
    # The logits span one ulp more than the float range, so the first pass overflows; with
    # a little smoothing the loss of the far class is MAX (1 - ε/2) + ..., just inside the
    # range: the row is settled in exact arithmetic, and its loss is finite and positive.
    half = MAX / 2
    z = np.array([[np.nextafter(half, math.inf), -half]])
    for eps in (2.0**-40, 2.0**-35):
        got = cross_entropy_loss(z, [1], label_smoothing=eps)
        weights = [Fraction(eps) / 2, Fraction(eps) / 2]
        weights[1] += 1 - Fraction(eps)
        want = exact_loss(z[0].tolist(), weights)
        assert math.isfinite(want) and want > 0.999999 * MAX
        assert got == want


@pytest.mark.parametrize(
    ("logits", "targets", "message"),
    [
        ([[np.nan, 0.0, 0.0]], [0], "logits contain NaN"),
        (
            [[np.inf, 0.0, 0.0]],
            [0],
            "logits contain +inf, which has no probability (inf/inf); use a large finite "
            "logit, or -inf to give a class probability zero",
        ),
        (
            [[-np.inf, -np.inf, -np.inf]],
            [0],
            "a row of logits is all -inf: no distribution gives every class probability zero",
        ),
        (
            [[0.0, 0.0, 0.0]],
            [["a", "b", "c"]],
            "probability targets must be real numbers, got dtype <U1",
        ),
        (
            [[0.0, 0.0, 0.0]],
            [[0.5, np.nan, 0.5]],
            "probability targets contain NaN or an infinite value",
        ),
        (
            [[0.0, 0.0, 0.0]],
            [[1.5, -0.5, 0.0]],
            "probability targets have a negative entry -0.5: each row must be a distribution "
            "over the classes",
        ),
        (
            np.zeros((2, 2, 3)),
            np.zeros(3),
            "targets of shape (3,) do not fit logits of shape (2, 2, 3): give class indices of "
            "shape (2, 2) or probability rows of shape (2, 2, 3) (the class axis is the last one)",
        ),
        (
            [[0.0, 0.0, 0.0]],
            [0.5],
            "targets of shape (1,) are class indices and must be integers, got dtype float64 "
            "(probability targets need the logits' shape (1, 3))",
        ),
    ],
)
def test_loss_says_what_is_wrong_with_logits_and_targets(logits, targets, message):
    with pytest.raises(ValueError) as info:
        cross_entropy_loss(np.array(logits, dtype=float), targets)
    assert str(info.value) == message


def test_loss_refuses_complex_and_scalar_logits_and_says_why():
    with pytest.raises(ValueError) as info:
        cross_entropy_loss([[1j, 0.0]], [0])
    assert str(info.value) == "logits must be real, got complex values"
    with pytest.raises(ValueError) as info:
        cross_entropy_loss(0.5, 0)
    assert str(info.value) == "logits must have a class axis (at least one dimension), got a scalar"
