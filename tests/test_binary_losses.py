"""Tests of the two-class losses in klbook.losses: softplus and BCE with logits.

Cross-checked against scipy (``log_expit``, ``logaddexp``), against the
C-class loss with logits (0, s), and against the binary cross-entropy of
probabilities in klbook.measures.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import scipy.special as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import klbook
from klbook.losses import binary_cross_entropy_with_logits as bce
from klbook.losses import cross_entropy_loss, softplus
from klbook.measures import binary_cross_entropy, binary_entropy, binary_kl

WIDE = np.concatenate(
    [
        -np.logspace(-300, 308, 200),
        np.linspace(-50, 50, 1001),
        np.logspace(-300, 308, 200),
        [0.0, -0.0],
    ]
)


def _scipy_bce(s, t):
    """t · (−log sigmoid(s)) + (1 − t) · (−log(1 − sigmoid(s))), through scipy."""
    s, t = np.broadcast_arrays(np.asarray(s, float), np.asarray(t, float))
    return -(t * sp.log_expit(s) + (1 - t) * sp.log_expit(-s))


# --------------------------------------------------------------------------- #
# softplus
# --------------------------------------------------------------------------- #


def test_softplus_matches_scipy_over_the_whole_float_range():
    got = softplus(WIDE)
    np.testing.assert_allclose(got, -sp.log_expit(-WIDE), rtol=4e-16, atol=0)
    np.testing.assert_allclose(got, np.logaddexp(0.0, WIDE), rtol=4e-16, atol=0)


def test_softplus_keeps_tiny_values_and_never_overflows():
    # log(1 + e^-40) = 4.25e-18: 1 + e^-40 rounds to 1, log1p keeps it.
    assert softplus(-40.0) == pytest.approx(math.exp(-40.0), rel=1e-15, abs=0)
    assert softplus(-800.0) == 0.0  # e^-800 is below the smallest float
    assert softplus(800.0) == 800.0
    assert softplus(1.7e308) == 1.7e308
    assert softplus(math.inf) == math.inf
    assert softplus(-math.inf) == 0.0


def test_softplus_shapes_and_types():
    assert isinstance(softplus(1.0), float)
    assert softplus(np.zeros((2, 3))).shape == (2, 3)
    assert softplus([]).shape == (0,)
    assert softplus(3) == pytest.approx(math.log1p(math.exp(3)), rel=1e-15, abs=0)


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (math.nan, "NaN"),
        ([0.0, math.nan], "NaN"),
        (True, "real numbers"),
        ("1.0", "real numbers"),
        (1j, "real"),
        ([[1.0], [1.0, 2.0]], "real numbers"),
    ],
)
def test_softplus_rejects_what_is_not_a_real_number(value, match):
    with pytest.raises(ValueError, match=match):
        softplus(value)


@settings(max_examples=200)
@given(st.floats(allow_nan=False, allow_infinity=True))
def test_softplus_is_positive_and_above_its_argument(s):
    value = softplus(s)
    assert value >= 0.0
    assert value >= s
    # softplus(s) − softplus(−s) = s, wherever both are finite and not rounded away.
    if abs(s) < 30:
        assert value - softplus(-s) == pytest.approx(s, abs=1e-14)


# --------------------------------------------------------------------------- #
# binary_cross_entropy_with_logits
# --------------------------------------------------------------------------- #


def test_bce_matches_scipy_for_hard_and_soft_targets():
    for t in (0.0, 1.0, 0.3, 0.999):
        targets = np.full(WIDE.shape, t)
        got = bce(WIDE, targets, reduction="none")
        np.testing.assert_allclose(got, _scipy_bce(WIDE, t), rtol=1e-15, atol=0)


def test_bce_is_the_two_class_cross_entropy_loss_with_logits_0_and_s():
    s = np.linspace(-40, 40, 161)
    two_logits = np.column_stack([np.zeros_like(s), s])  # softmax(0, s)_1 = sigmoid(s)
    for label in (0, 1):
        labels = np.full(s.shape, label)
        expected = cross_entropy_loss(two_logits, labels, reduction="none")
        # cross_entropy_loss rounds 1 + e^-40 to 1 (loss 0), BCE keeps 4.2e-18: atol.
        np.testing.assert_allclose(
            bce(s, labels, reduction="none"), expected, rtol=1e-13, atol=1e-15
        )
    t = np.linspace(0, 1, 161)
    rows = np.column_stack([1 - t, t])
    expected = cross_entropy_loss(two_logits, rows, reduction="none")
    np.testing.assert_allclose(bce(s, t, reduction="none"), expected, rtol=1e-12, atol=1e-15)


def test_bce_is_the_cross_entropy_of_two_coins():
    # Through probabilities 1 − sigmoid(s) loses digits as s grows: |s| ≤ 10 keeps 1e-10.
    s = np.linspace(-10, 10, 121)
    t = np.linspace(0, 1, 121)
    expected = binary_cross_entropy(t, sp.expit(s))
    np.testing.assert_allclose(bce(s, t, reduction="none"), expected, rtol=1e-10)


@pytest.mark.parametrize(
    ("s", "t", "expected"),
    [
        (-800.0, 1, 800.0),  # naive −log(sigmoid(−800)) = −log 0 = inf
        (800.0, 0, 800.0),
        (800.0, 1, 0.0),
        (-1e4, 0, 0.0),
        (1e308, 0, 1e308),
        (-1e308, 1, 1e308),
        (math.inf, 1, 0.0),  # certain of class 1, and it is class 1
        (-math.inf, 0, 0.0),
        (math.inf, 0, math.inf),
        (-math.inf, 1, math.inf),
        (math.inf, 0.5, math.inf),
        (0.0, 0.5, math.log(2)),
    ],
)
def test_bce_at_the_edges(s, t, expected):
    assert bce(s, t) == expected


def test_bce_reductions():
    s = np.array([[2.0, -1.0], [0.5, 3.0]])
    t = np.array([[1.0, 0.0], [0.2, 1.0]])
    each = bce(s, t, reduction="none")
    assert each.shape == (2, 2)
    np.testing.assert_allclose(each, _scipy_bce(s, t), rtol=1e-15)
    assert bce(s, t, reduction="sum") == pytest.approx(each.sum(), rel=1e-15, abs=0)
    assert bce(s, t) == pytest.approx(each.mean(), rel=1e-15, abs=0)
    assert isinstance(bce(1.0, 1, reduction="none"), float)
    assert bce([], [], reduction="sum") == 0.0
    assert bce([], [], reduction="none").shape == (0,)


def test_bce_mean_of_huge_losses_does_not_overflow():
    s = np.array([1.5e308, 1.5e308])
    assert bce(s, [0, 0]) == 1.5e308  # the sum overflows, the mean does not
    assert bce(s, [0, 0], reduction="sum") == math.inf


@settings(max_examples=200)
@given(
    st.floats(min_value=-12, max_value=12),
    st.floats(min_value=0, max_value=1),
)
def test_bce_minus_the_target_entropy_is_kl(s, t):
    # H(Bern(t), Bern(sigmoid(s))) = H(Bern(t)) + KL(Bern(t) ‖ Bern(sigmoid(s))) ≥ H(Bern(t)).
    # (|s| ≤ 12 keeps 1 − sigmoid(s), which binary_kl needs, accurate to 1e-11.)
    gap = bce(s, t) - binary_entropy(t)
    assert gap >= -1e-12
    assert gap == pytest.approx(binary_kl(t, float(sp.expit(s))), abs=1e-10, rel=1e-9)


@settings(max_examples=100)
@given(st.floats(min_value=0.001, max_value=0.999))
def test_bce_is_smallest_at_the_logit_of_the_target(t):
    best = math.log(t / (1 - t))
    assert bce(best, t) == pytest.approx(binary_entropy(t), rel=1e-12, abs=1e-15)
    assert bce(best + 0.01, t) > bce(best, t)
    assert bce(best - 0.01, t) > bce(best, t)


def test_bce_gradient_is_sigmoid_minus_target():
    # The C = 2 case of "softmax minus one-hot": d loss / d s = sigmoid(s) − t.
    s = np.linspace(-8, 8, 33)
    h = 1e-6
    for t in (0.0, 0.3, 1.0):
        fd = (bce(s + h, t * np.ones_like(s), reduction="none")
              - bce(s - h, t * np.ones_like(s), reduction="none")) / (2 * h)  # fmt: skip
        np.testing.assert_allclose(fd, sp.expit(s) - t, atol=1e-8)


@pytest.mark.parametrize(
    ("logits", "targets", "kwargs", "match"),
    [
        ([0.0, 1.0], [1], {}, "shape"),
        ([0.0], [1.5], {}, r"\[0, 1\]"),
        ([0.0], [-0.1], {}, r"\[0, 1\]"),
        ([0.0], [math.nan], {}, "NaN"),
        ([0.0], [True], {}, "dtype"),
        ([0.0], ["1"], {}, "dtype"),
        ([0.0], [1j], {}, "real"),
        ([math.nan], [1], {}, "NaN"),
        ([True], [1], {}, "real numbers"),
        ([0.0], [1], {"reduction": "max"}, "reduction"),
        ([], [], {}, "empty batch"),
    ],
)
def test_bce_rejects_bad_input(logits, targets, kwargs, match):
    with pytest.raises(ValueError, match=match):
        bce(logits, targets, **kwargs)


def test_binary_losses_are_exported():
    assert klbook.softplus is softplus
    assert klbook.binary_cross_entropy_with_logits is bce
    assert {"softplus", "binary_cross_entropy_with_logits"} <= set(klbook.__all__)


def test_bce_mean_of_unequal_huge_losses_is_their_mean_not_the_largest():
    # Losses 1e308, 1e308 and log 2: the sum overflows; the mean is (2e308 + log 2) / 3.
    got = bce([-1e308, -1e308, 0.0], [1, 1, 0])
    want = float((2 * Fraction(1e308) + Fraction(math.log(2))) / 3)
    assert got == pytest.approx(want, rel=1e-15, abs=0)


@pytest.mark.parametrize("seed", range(10))
def test_bce_mean_reduction_is_numpys_mean_of_the_losses_bit_for_bit(seed):
    rng = np.random.default_rng(seed)
    s, t = rng.normal(size=7), rng.uniform(size=7)
    per_example = bce(s, t, reduction="none")
    assert bce(s, t) == float(np.mean(per_example))
    assert bce(s, t, reduction="sum") == float(np.sum(per_example))
