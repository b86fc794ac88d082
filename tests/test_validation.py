"""klbook._validation: the input checks every public function shares, tested directly.

The public functions' tests catch most of these checks' failures on the way; here
each check's boundaries are pinned down where it is defined (the axis range, the
sum tolerance scaled to the float type and length, the count limit, ...).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from klbook import _validation as v
from klbook import cross_entropy, entropy, kl_divergence

EPS32 = float(np.finfo(np.float32).eps)
EPS16 = float(np.finfo(np.float16).eps)


# --- the tolerance on a distribution's sum -------------------------------------------


@pytest.mark.parametrize("length", [1, 2, 1000, 10**8])
def test_float64_and_exact_types_keep_the_strict_tolerance(length):
    for dtype in (np.float64, np.int64, np.int8, np.uint16, np.bool_, np.longdouble):
        assert v.sum_tolerance(np.dtype(dtype), length) == v.SUM_TOLERANCE == 1e-8


@pytest.mark.parametrize("length", [1, 3, 1000, 10**6])
def test_less_precise_floats_allow_one_unit_in_the_last_place_per_entry(length):
    assert v.sum_tolerance(np.dtype(np.float32), length) == length * EPS32
    assert v.sum_tolerance(np.dtype(np.float16), length) == length * EPS16


def test_float32_sum_tolerance_grows_with_the_number_of_outcomes():
    n = 1000
    tolerance = n * EPS32  # 1.19e-4
    for off, accepted in ((0.9 * tolerance, True), (1.1 * tolerance, False)):
        p = np.full(n, 1 / n)
        p[0] += off
        p32 = p.astype(np.float32)
        deviation = abs(float(p32.astype(np.float64).sum()) - 1.0)
        assert (deviation <= tolerance) == accepted  # what the stored float32 entries sum to
        if accepted:
            want = -float(np.sum(p32.astype(np.float64) * np.log(p32.astype(np.float64))))
            assert entropy(p32) == pytest.approx(want, rel=1e-13, abs=0)
            assert math.isfinite(kl_divergence(p32, np.full(n, 1 / n, dtype=np.float32)))
        else:
            with pytest.raises(ValueError, match="p does not sum to one"):
                entropy(p32)
    # two outcomes of float32: the tolerance is 2 ulp, not 1000
    with pytest.raises(ValueError, match="does not sum to one"):
        entropy(np.array([0.5, 0.5 + 3 * EPS32], dtype=np.float32))
    entropy(np.array([0.5, 0.5 + EPS32], dtype=np.float32))
    # the same deviation in float64 is an error: float64 has its own, strict tolerance
    with pytest.raises(ValueError, match="does not sum to one"):
        entropy(np.array([0.5, 0.5 + EPS32]))


def test_each_argument_is_held_to_its_own_dtype():
    p32 = np.array([0.5, 0.5 + EPS32], dtype=np.float32)  # within float32's tolerance
    q64 = np.array([0.5, 0.5 + EPS32])  # the same values in float64: not a distribution
    assert math.isfinite(cross_entropy(p32, [0.5, 0.5]))
    with pytest.raises(ValueError, match="q does not sum to one"):
        cross_entropy(p32, q64)
    with pytest.raises(ValueError, match="p does not sum to one"):
        cross_entropy(q64, p32)


def test_sum_tolerance_boundary_for_float64():
    n = 4
    for off, ok in ((0.9e-8, True), (1.1e-8, False)):
        p = np.full(n, 0.25)
        p[0] += off
        if ok:
            assert v.check_distribution(p, "p", 0) == 0.25
        else:
            with pytest.raises(ValueError, match=r"p does not sum to one along axis 0 \(a sum"):
                v.check_distribution(p, "p", 0)


# --- axes ----------------------------------------------------------------------


@pytest.mark.parametrize(("axis", "ndim", "want"), [(0, 1, 0), (-1, 1, 0), (1, 2, 1), (-2, 2, 0)])
def test_normalise_axis_accepts_every_axis_in_range(axis, ndim, want):
    assert v.normalise_axis(axis, ndim, "p") == want
    assert v.normalise_axis(np.int32(axis), ndim, "p") == want


@pytest.mark.parametrize(("axis", "ndim"), [(1, 1), (-2, 1), (2, 2), (-3, 2), (5, 3)])
def test_normalise_axis_refuses_the_first_axis_past_either_end(axis, ndim):
    with pytest.raises(ValueError, match=rf"axis {axis} is out of range for p with {ndim} "):
        v.normalise_axis(axis, ndim, "p")


@pytest.mark.parametrize("axis", [1, -2])
def test_measures_refuse_an_axis_out_of_range(axis):
    with pytest.raises(ValueError, match=f"axis {axis} is out of range for p with 1 dimension"):
        entropy([0.5, 0.5], axis=axis)
    with pytest.raises(ValueError, match=f"axis {axis} is out of range for p and q"):
        kl_divergence([0.5, 0.5], [0.5, 0.5], axis=axis)
    # the last in-range axes along both directions
    assert entropy([[0.5, 0.5]], axis=1).tolist() == [math.log(2)]
    assert entropy([[0.5], [0.5]], axis=-2).tolist() == [math.log(2)]


@pytest.mark.parametrize("bad", [True, False, 1.0, "0", None, 0j])
def test_as_axis_refuses_what_is_not_an_integer(bad):
    with pytest.raises(ValueError, match=f"axis must be an integer, got {bad!r}"):
        v.as_axis(bad)
    assert not v.is_axis_index(bad)


def test_as_axis_returns_a_python_int():
    for axis in (0, -1, np.int64(2), np.uint8(1)):
        out = v.as_axis(axis)
        assert type(out) is int and out == int(axis)
        assert v.is_axis_index(axis)


# --- distributions ----------------------------------------------------------------


def test_check_distribution_returns_the_smallest_entry():
    assert v.check_distribution(np.array([[0.25, 0.75], [0.5, 0.5]]), "p", 1) == 0.25
    assert v.check_distribution(np.array([1.0, 0.0]), "p", 0) == 0.0
    assert v.check_distribution(np.zeros((0, 3)), "p", 1) == 0.0  # no rows: nothing to check


def test_check_distribution_says_what_is_wrong_and_where():
    with pytest.raises(ValueError, match=r"^p has a negative entry -0\.5 at index \(1, 0\)"):
        v.check_distribution(np.array([[0.5, 0.5], [-0.5, 1.5]]), "p", 1)
    with pytest.raises(ValueError, match=r"^q contains NaN$"):
        v.check_distribution(np.array([0.5, np.nan]), "q", 0)
    with pytest.raises(ValueError, match=r"^q contains an infinite value$"):
        v.check_distribution(np.array([-np.inf, np.inf]), "q", 0)
    with pytest.raises(ValueError, match=r"^w is empty along axis 1: a distribution"):
        v.check_distribution(np.zeros((2, 0)), "w", 1)
    # the sum quoted is the worst one
    with pytest.raises(ValueError, match=r"a sum is 1\.5\)"):
        v.check_distribution(np.array([[0.5, 0.5], [0.5, 1.0], [0.5, 0.6]]), "p", 1)


def test_distribution_and_its_pair_report_the_smallest_entries():
    arr, axis, smallest = v.distribution([[0.2, 0.8], [0.5, 0.5]], "p", -1)
    assert axis == 1 and smallest == 0.2 and arr.dtype == np.float64
    p, q, axis, pmin, qmin = v.distribution_pair([[1.0, 0.0]], [0.3, 0.7], -1)
    assert p.shape == (1, 2) and q.shape == (1, 2) and axis == 1
    assert (pmin, qmin) == (0.0, 0.3)
    with pytest.raises(ValueError, match="must be a probability vector"):
        v.distribution(0.5, "p", -1)


def test_rows_minimum_tolerance_is_inclusive():
    block = np.array([[0.25, 0.75 + 2**-40], [0.5, 0.5]])
    deviation = float(np.abs(block.sum(axis=-1) - 1.0).max())  # 2**-40, exactly
    assert v.rows_minimum(block, deviation) == 0.25
    assert v.rows_minimum(block, deviation / 2) is None
    # check_distribution draws the line at the same place
    assert v.check_distribution(block, "p", 1, deviation) == 0.25
    with pytest.raises(ValueError, match="does not sum to one"):
        v.check_distribution(block, "p", 1, deviation / 2)


# --- elementwise probabilities, counts, bases -------------------------------------------


def test_as_probabilities_accepts_the_closed_interval_and_names_the_bad_value():
    np.testing.assert_array_equal(v.as_probabilities([0.0, 0.5, 1.0], "p"), [0.0, 0.5, 1.0])
    with pytest.raises(
        ValueError, match=r"p must hold probabilities in \[0, 1\]; it has a negative "
    ):
        v.as_probabilities([0.5, -1e-300], "p")
    with pytest.raises(ValueError, match=r"greater than 1 value 1\.0000000000000002 at index 1$"):
        v.as_probabilities([0.5, 1 + 2**-52], "p")
    with pytest.raises(ValueError, match=r"greater than 1 value 2\.0 at index \(1, 0\)$"):
        v.as_probabilities([[0.5], [2.0]], "p")
    with pytest.raises(ValueError, match=r"it has a negative value -0\.5$"):
        v.as_probabilities(-0.5, "q")  # a scalar has no index


def test_as_counts_accepts_whole_numbers_up_to_two_to_the_53():
    got = v.as_counts([0, 3.0, 2**53], "k")
    assert got.dtype == np.int64 and got.tolist() == [0, 3, 2**53]
    assert v.as_counts([], "k").tolist() == []
    for bad, match in (
        ([2.0**53 + 2], r"k must be at most 2\*\*53"),
        ([-1], r"k must be non-negative, got -1\.0"),
        ([0.5], "k must be whole numbers"),
        ([np.inf], "k must be finite whole numbers"),
        ([np.nan], "k contains NaN"),
    ):
        with pytest.raises(ValueError, match=match):
            v.as_counts(bad, "k")


@pytest.mark.parametrize(
    ("base", "want"),
    [(None, 1.0), (2, math.log(2)), (math.e, 1.0), (10.0, math.log(10)), (0.5, -math.log(2))],
)
def test_log_base_is_the_divisor_that_converts_nats(base, want):
    assert v.log_base(base) == pytest.approx(want, rel=1e-15, abs=0)
    assert type(v.log_base(base)) is float


def test_log_base_takes_any_real_number_type():
    assert v.log_base(np.float32(2.0)) == math.log(2)
    assert v.log_base(Fraction(1, 2)) == -math.log(2)
    assert v.log_base(np.int64(10)) == math.log(10)


@pytest.mark.parametrize("bad", [1, 1.0, 0, -2.0, math.inf, -math.inf, math.nan, "2", True, 2j])
def test_log_base_refuses_what_cannot_be_a_base(bad):
    with pytest.raises(ValueError, match=r"base must be a positive real number other than 1, got"):
        v.log_base(bad)


# --- arrays -------------------------------------------------------------------------


def test_as_real_array_converts_to_float64_and_refuses_nan():
    out = v.as_real_array([1, 2], "x")
    assert out.dtype == np.float64 and out.tolist() == [1.0, 2.0]
    assert v.as_real_array(np.array([True, False]), "x").tolist() == [1.0, 0.0]
    for bad, match in (
        ([1.0, np.nan], "x contains NaN"),
        ([[1.0], [1.0, 2.0]], r"x must be an array of real numbers \("),
        (["a"], "x must be an array of real numbers, got dtype <U1"),
        ([1 + 1j], "x must be real, got complex values"),
        (np.array([1, "a"], dtype=object), "got dtype object"),
    ):
        with pytest.raises(ValueError, match=match):
            v.as_real_array(bad, "x")


def test_broadcast_pair_names_both_shapes():
    a, b = v.broadcast_pair(np.zeros((2, 1)), np.zeros(3))
    assert a.shape == b.shape == (2, 3)
    with pytest.raises(ValueError, match=r"^u and w have shapes \(2,\) and \(3,\), which do not"):
        v.broadcast_pair(np.zeros(2), np.zeros(3), names=("u", "w"))


def test_scalar_or_array_gives_a_python_float_for_a_0d_result():
    out = v.scalar_or_array(np.float64(0.25))
    assert type(out) is float and out == 0.25
    out = v.scalar_or_array(np.array(0.5))
    assert type(out) is float and out == 0.5
    arr = np.array([0.5])
    assert v.scalar_or_array(arr) is arr


def test_first_bad_gives_an_int_for_1d_and_a_tuple_otherwise():
    assert v._first_bad(np.array([False, False, True, True])) == 2
    assert v._first_bad(np.array([[False, False], [False, True]])) == (1, 1)
    assert type(v._first_bad(np.array([True]))) is int


def test_the_documented_limits():
    assert v.SUM_TOLERANCE == 1e-8
    assert v.MAX_COUNT == 2**53
    assert v.TINY_PROBABILITY == 1e-300


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        ([-np.inf, np.inf], "p contains an infinite value"),  # the sum is inf - inf
        ([1e308, 1e308], r"p does not sum to one along axis 0 \(a sum is inf\)"),  # overflow
    ],
)
def test_sums_of_bad_input_raise_without_a_runtime_warning(bad, match, recwarn):
    with pytest.raises(ValueError, match=match):
        entropy(bad)
    # the fused path for large batches checks its blocks the same way
    batch = np.full((300, 300), 1 / 300)
    batch[5, :2] = bad
    with pytest.raises(ValueError, match=match.replace("axis 0", "axis 1")):
        entropy(batch)
    assert v.rows_minimum(np.array([bad]), 1e-8) is None
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_a_pair_of_different_dimensions_is_aligned_from_the_right():
    # p one distribution, q a batch of two: p lines up with each row of q
    got = kl_divergence([0.5, 0.5], [[0.5, 0.5], [0.9, 0.1]])
    assert got.shape == (2,) and got[0] == 0.0
    assert got[1] == pytest.approx(kl_divergence([0.5, 0.5], [0.9, 0.1]), rel=1e-15, abs=0)
    got = kl_divergence([[0.5, 0.5], [0.9, 0.1]], [0.5, 0.5])
    assert got.shape == (2,) and got[0] == 0.0
    with pytest.raises(ValueError) as info:
        kl_divergence([0.5, 0.5], 0.5)
    assert (
        str(info.value) == "q must be a probability vector (at least one dimension), got a scalar"
    )


def test_a_float32_model_is_held_to_float32s_tolerance():
    q32 = np.array([0.5, 0.5 + EPS32], dtype=np.float32)  # 1 ulp off in float32: accepted
    assert math.isfinite(cross_entropy([0.5, 0.5], q32))
    assert math.isfinite(kl_divergence([0.25, 0.75], q32))
    wide = np.full(1000, 1 / 1000)
    wide[0] += 0.9 * 1000 * EPS32
    assert math.isfinite(kl_divergence(np.full(1000, 1 / 1000), wide.astype(np.float32)))


def test_the_negative_entry_quoted_is_the_first_negative_one_not_a_zero():
    with pytest.raises(ValueError) as info:
        entropy([0.0, 1.5, -0.5])
    assert (
        str(info.value)
        == "p has a negative entry -0.5 at index 2: probabilities cannot be negative"
    )
    with pytest.raises(ValueError) as info:
        entropy([0.3, 0.3])
    assert str(info.value) == (
        "p does not sum to one along axis 0 (a sum is 0.6); klbook never normalises "
        "silently: divide by the sum yourself if you meant to"
    )
