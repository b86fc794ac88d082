"""klbook.simulation: seeded sequences, running log ratios, long LLR paths, the die."""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest
import scipy.stats
from hypothesis import given
from hypothesis import strategies as st

import klbook
from klbook import (
    MAX_RECORDED_VALUES,
    LLRPaths,
    binary_kl,
    count_outcomes,
    kl_divergence,
    llr_variance,
    log_checkpoints,
    log_likelihood_ratio,
    multinomial_llr,
    running_llr,
    running_llr_paths,
    simulate_flips,
    simulate_rolls,
)

inner_probability = st.floats(1e-6, 1 - 1e-6, allow_nan=False)
RNG_MESSAGE = (
    r"^rng must be a numpy\.random\.Generator, e\.g\. numpy\.random\.default_rng\(seed\); got "
)
flip_lists = st.lists(st.integers(0, 1), min_size=1, max_size=60)


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


@st.composite
def distributions(draw, m):
    weights = draw(st.lists(st.floats(0.01, 1.0), min_size=m, max_size=m))
    arr = np.array(weights)
    return arr / arr.sum()


# ------------------------------------------------------------ simulate_flips


def test_flips_shape_dtype_and_values():
    flips = simulate_flips(1000, 0.3, rng())
    assert flips.shape == (1000,)
    assert flips.dtype == np.int8
    assert set(np.unique(flips).tolist()) <= {0, 1}
    assert simulate_flips(5, 0.3, rng(), size=4).shape == (4, 5)
    assert simulate_flips(5, 0.3, rng(), size=(2, 3)).shape == (2, 3, 5)
    assert simulate_flips(0, 0.3, rng()).shape == (0,)


def test_flips_frequency_matches_p_within_standard_errors():
    n, p = 200_000, 0.3
    mean = simulate_flips(n, p, rng(1)).mean()
    assert abs(mean - p) < 5 * math.sqrt(p * (1 - p) / n)


def test_flips_at_the_edges_are_certain():
    assert not simulate_flips(1000, 0.0, rng()).any()
    assert simulate_flips(1000, 1.0, rng()).all()
    # heads when u < p for u in [0, 1): u = 0 is tails for p = 0, u = p is tails
    assert simulate_flips(3, 0.0, _FixedDraws([0.0, 0.5, 0.9999999999999999])).tolist() == [0] * 3
    assert simulate_flips(3, 0.5, _FixedDraws([0.0, 0.4999999999999999, 0.5])).tolist() == [1, 1, 0]
    assert simulate_flips(2, 1.0, _FixedDraws([0.0, 0.9999999999999999])).tolist() == [1, 1]


def test_flips_are_reproducible_and_seed_dependent():
    a = simulate_flips(100, 0.5, rng(7), size=3)
    b = simulate_flips(100, 0.5, rng(7), size=3)
    c = simulate_flips(100, 0.5, rng(8), size=3)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        ((-1, 0.5, rng()), {}, "n must be at least 0"),
        ((2.0, 0.5, rng()), {}, r"^n must be an integer, got 2\.0 of type float$"),
        ((True, 0.5, rng()), {}, "n must be an integer"),
        ((10, 1.5, rng()), {}, "p must hold probabilities"),
        ((10, -0.1, rng()), {}, "p must hold probabilities"),
        ((10, math.nan, rng()), {}, "p contains NaN"),
        ((10, [0.2, 0.3], rng()), {}, "p must be a single probability"),
        (
            (10, 0.5, 42),
            {},
            RNG_MESSAGE + "int$",
        ),
        (
            (10, 0.5, None),
            {},
            RNG_MESSAGE + "NoneType$",
        ),
        (
            (10, 0.5, np.random.RandomState(0)),
            {},
            RNG_MESSAGE + "RandomState$",
        ),
        ((10, 0.5, rng()), {"size": -2}, "size must be at least 0"),
        ((10, 0.5, rng()), {"size": 2.5}, "size must be None, an integer or a tuple"),
        ((10, 0.5, rng()), {"size": (2, "a")}, "size must be an integer"),
    ],
)
def test_flips_bad_input(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        simulate_flips(*args, **kwargs)


# ------------------------------------------------------------ simulate_rolls


def test_rolls_frequencies_pass_a_chi_square_test():
    probs = np.array([0.1, 0.2, 0.3, 0.4])
    rolls = simulate_rolls(50_000, probs, rng(3))
    observed = np.bincount(rolls, minlength=4)
    result = scipy.stats.chisquare(observed, probs * rolls.size)
    assert result.pvalue > 1e-3


def test_rolls_never_show_a_face_of_probability_zero():
    rolls = simulate_rolls(10_000, [0.5, 0.0, 0.5, 0.0], rng(4), size=3)
    assert rolls.shape == (3, 10_000)
    assert rolls.dtype == np.int64
    assert set(np.unique(rolls).tolist()) == {0, 2}


def test_rolls_are_reproducible():
    probs = [0.2, 0.3, 0.5]
    assert np.array_equal(simulate_rolls(50, probs, rng(5)), simulate_rolls(50, probs, rng(5)))


@pytest.mark.parametrize(
    ("probs", "match"),
    [
        ([0.5, 0.6], "^probs does not sum to one"),
        ([1.2, -0.2], "^probs has a negative entry"),
        (
            [[0.5, 0.5], [0.5, 0.5]],
            r"^probs must be a single probability vector, got shape \(2, 2\)$",
        ),
        (0.5, r"^probs must be a probability vector \(at least one dimension\)"),
        ([], "^probs is empty"),
    ],
)
def test_rolls_bad_probs(probs, match):
    with pytest.raises(ValueError, match=match):
        simulate_rolls(10, probs, rng())


def test_rolls_bad_n_and_rng():
    with pytest.raises(ValueError, match="n must be at least 0"):
        simulate_rolls(-3, [0.5, 0.5], rng())
    with pytest.raises(ValueError, match="rng must be"):
        simulate_rolls(3, [0.5, 0.5], 0)


# ------------------------------------------------------------ count_outcomes


@given(st.lists(st.integers(0, 4), min_size=0, max_size=50))
def test_counts_match_bincount(outcomes):
    counts = count_outcomes(outcomes, 5)
    assert counts.tolist() == np.bincount(np.array(outcomes, dtype=int), minlength=5).tolist()
    assert counts.sum() == len(outcomes)


def test_counts_batch():
    rolls = simulate_rolls(30, [0.25] * 4, rng(6), size=(2, 3))
    counts = count_outcomes(rolls, 4)
    assert counts.shape == (2, 3, 4)
    for i in range(2):
        for j in range(3):
            assert counts[i, j].tolist() == np.bincount(rolls[i, j], minlength=4).tolist()


@pytest.mark.parametrize(
    ("outcomes", "m", "match"),
    [
        ([0, 3], 3, r"^outcomes must lie in 0\.\.2, got 3$"),
        ([0, -1], 3, "^outcomes must be non-negative"),
        ([0, 1.5], 3, "^outcomes must be whole numbers"),
        (2, 3, r"^outcomes must be a sequence \(at least one dimension\), got a scalar$"),
        ([0, 1], 0, "m must be at least 1"),
        ([0, 1], 2.0, "m must be an integer"),
    ],
)
def test_counts_bad_input(outcomes, m, match):
    with pytest.raises(ValueError, match=match):
        count_outcomes(outcomes, m)


# --------------------------------------------------------------- running_llr


@given(flip_lists, inner_probability, inner_probability)
def test_last_running_value_is_the_llr_over_n(flips, p, q):
    k, n = sum(flips), len(flips)
    got = running_llr(flips, p, q)
    assert got.shape == (n,)
    assert got[-1] == pytest.approx(log_likelihood_ratio(k, n, p, q) / n, rel=1e-9, abs=1e-12)


@given(flip_lists, inner_probability, inner_probability)
def test_running_value_is_the_mean_of_per_flip_log_ratios(flips, p, q):
    x = np.array(flips)
    per_flip = np.where(x == 1, math.log(p / q), math.log((1 - p) / (1 - q)))
    expected = np.cumsum(per_flip) / np.arange(1, x.size + 1)
    assert np.allclose(running_llr(x, p, q), expected, rtol=1e-9, atol=1e-9)


def test_running_llr_is_zero_when_the_coins_agree():
    flips = simulate_flips(100, 0.3, rng())
    assert np.array_equal(running_llr(flips, 0.3, 0.3), np.zeros(100))


def test_running_llr_batch_rows_and_bool_input():
    flips = simulate_flips(40, 0.6, rng(2), size=(3, 2))
    batch = running_llr(flips, 0.6, 0.4)
    assert batch.shape == (3, 2, 40)
    for i in range(3):
        for j in range(2):
            assert np.array_equal(batch[i, j], running_llr(flips[i, j], 0.6, 0.4))
    assert np.array_equal(running_llr(flips.astype(bool), 0.6, 0.4), batch)
    assert running_llr(np.zeros((2, 0)), 0.5, 0.4).shape == (2, 0)


def test_running_llr_base_two_is_nats_over_log_two():
    flips = simulate_flips(50, 0.7, rng(3))
    nats = running_llr(flips, 0.7, 0.2)
    np.testing.assert_allclose(
        running_llr(flips, 0.7, 0.2, base=2), nats / math.log(2), rtol=1e-14, atol=0
    )


def test_running_llr_infinities_and_undefined():
    assert running_llr([0, 0, 1], 0.5, 0.0).tolist()[-1] == math.inf
    assert running_llr([1, 1], 0.0, 0.5).tolist() == [-math.inf, -math.inf]
    assert running_llr([0, 0], 0.0, 0.0).tolist() == [0.0, 0.0]
    with pytest.raises(ValueError, match="probability zero under both"):
        running_llr([0, 1], 0.0, 0.0)


@pytest.mark.parametrize(
    ("flips", "p", "q", "match"),
    [
        ([0, 2, 1], 0.5, 0.5, "flips must hold 0"),
        ([0, -1], 0.5, 0.5, "non-negative"),
        ([0, 0.5], 0.5, 0.5, "whole numbers"),
        ([0, math.nan], 0.5, 0.5, "flips contains NaN"),
        (1, 0.5, 0.5, r"^flips must be a sequence \(at least one dimension\), got a scalar$"),
        ([0, 1], 1.2, 0.5, "p must hold probabilities"),
        ([0, 1], 0.5, -0.5, "q must hold probabilities"),
        ([0, 1], 0.5, [0.5, 0.5], "q must be a single probability"),
    ],
)
def test_running_llr_bad_input(flips, p, q, match):
    with pytest.raises(ValueError, match=match):
        running_llr(flips, p, q)


def test_running_llr_bad_base():
    with pytest.raises(ValueError, match="base"):
        running_llr([0, 1], 0.5, 0.4, base=1)


# ----------------------------------------------------------- multinomial_llr


@given(st.integers(0, 200), st.integers(0, 200), inner_probability, inner_probability)
def test_two_outcome_multinomial_llr_is_the_coin_llr(k, tails, p, q):
    n = k + tails
    got = multinomial_llr([k, tails], [p, 1 - p], [q, 1 - q])
    assert got == pytest.approx(log_likelihood_ratio(k, n, p, q), rel=1e-9, abs=1e-9)


@given(
    st.lists(st.integers(0, 8), min_size=3, max_size=3),
    distributions(3),
    distributions(3),
)
def test_multinomial_llr_is_the_log_ratio_of_scipy_multinomial_pmfs(counts, p, q):
    n = sum(counts)
    expected = scipy.stats.multinomial.logpmf(counts, n, p) - scipy.stats.multinomial.logpmf(
        counts, n, q
    )
    assert multinomial_llr(counts, p, q) == pytest.approx(expected, rel=1e-8, abs=1e-8)


@given(st.lists(st.integers(1, 50), min_size=2, max_size=6), st.data())
def test_counts_in_proportion_to_p_give_n_times_kl(counts, data):
    c = np.array(counts)
    n = c.sum()
    p = c / n
    q = data.draw(distributions(c.size))
    assert multinomial_llr(c, p, q) / n == pytest.approx(kl_divergence(p, q), rel=1e-9, abs=1e-12)


def test_multinomial_llr_batch_base_and_infinities():
    counts = np.array([[3, 1, 0], [0, 0, 4]])
    p, q = [0.5, 0.25, 0.25], [0.25, 0.25, 0.5]
    got = multinomial_llr(counts, p, q)
    assert got.shape == (2,)
    assert got[0] == pytest.approx(3 * math.log(2), rel=1e-15, abs=0)
    assert got[1] == pytest.approx(4 * math.log(0.5), rel=1e-15, abs=0)
    assert multinomial_llr(counts, p, q, base=2).tolist() == [3.0, -4.0]
    assert multinomial_llr([0, 1], [0.5, 0.5], [1.0, 0.0]) == math.inf
    assert multinomial_llr([0, 1], [1.0, 0.0], [0.5, 0.5]) == -math.inf
    assert multinomial_llr([2, 0], [1.0, 0.0], [1.0, 0.0]) == 0.0
    assert isinstance(multinomial_llr([1, 1], [0.5, 0.5], [0.2, 0.8]), float)


@pytest.mark.parametrize(
    ("counts", "p", "q", "match"),
    [
        ([1, -1], [0.5, 0.5], [0.5, 0.5], "non-negative"),
        ([1, 0.5], [0.5, 0.5], [0.5, 0.5], "whole numbers"),
        (3, [0.5, 0.5], [0.5, 0.5], "at least one dimension"),
        ([1, 2, 3], [0.5, 0.5], [0.5, 0.5], "counts has 3 outcomes but p and q have 2"),
        ([1, 2], [0.5, 0.6], [0.5, 0.5], "p does not sum to one"),
        ([1, 2], [0.5, 0.5], [0.2, 0.2, 0.6], "same number of outcomes"),
        ([1, 2], [0.5, 0.5], [-0.5, 1.5], "q has a negative entry"),
        ([0, 1], [1.0, 0.0], [1.0, 0.0], "probability zero under both"),
        ([[1, 2], [3, 4], [5, 6]], [[0.5, 0.5], [0.2, 0.8]], [0.5, 0.5], "do not broadcast"),
    ],
)
def test_multinomial_llr_bad_input(counts, p, q, match):
    with pytest.raises(ValueError, match=match):
        multinomial_llr(counts, p, q)


# -------------------------------------------------------------- llr_variance


@given(inner_probability, inner_probability)
def test_coin_llr_variance_closed_form(p, q):
    # Two values a, b with probabilities p, 1-p have variance p(1-p)(a-b)^2.
    a, b = math.log(p / q), math.log((1 - p) / (1 - q))
    expected = p * (1 - p) * (a - b) ** 2
    got = llr_variance([p, 1 - p], [q, 1 - q])
    assert got == pytest.approx(expected, rel=1e-7, abs=1e-12)
    assert got >= 0


@given(distributions(4), distributions(4))
def test_llr_variance_is_second_moment_minus_kl_squared(p, q):
    r = np.log(p / q)
    expected = float(np.sum(p * r**2)) - kl_divergence(p, q) ** 2
    assert llr_variance(p, q) == pytest.approx(expected, rel=1e-6, abs=1e-9)


def test_llr_variance_edges_base_and_batch():
    assert llr_variance([0.3, 0.7], [0.3, 0.7]) == 0.0
    assert llr_variance([0.5, 0.5], [1.0, 0.0]) == math.inf
    # An outcome P never shows contributes nothing, whatever Q says there.
    assert llr_variance([1.0, 0.0], [0.5, 0.5]) == 0.0
    v = llr_variance([0.2, 0.8], [0.6, 0.4])
    # two values a, b with probabilities 0.2 and 0.8: variance 0.2 · 0.8 · (a − b)²
    a, b = math.log(0.2 / 0.6), math.log(0.8 / 0.4)
    assert v == pytest.approx(0.16 * (a - b) ** 2, rel=1e-14, abs=0)
    assert llr_variance([0.2, 0.8], [0.6, 0.4], base=2) == pytest.approx(
        v / math.log(2) ** 2, rel=1e-15, abs=0
    )
    batch = llr_variance([[0.2, 0.8], [0.5, 0.5]], [0.6, 0.4])
    assert batch.shape == (2,)
    assert batch[0] == v
    assert batch[1] == pytest.approx(0.25 * math.log(0.5 / 0.6 / 1.25) ** 2, rel=1e-14, abs=0)


def test_llr_variance_is_infinite_only_where_q_misses_what_p_shows():
    # q = 1 where p = 1 is fine (the other outcome has p = 0): no spread at all
    assert llr_variance([1.0, 0.0], [1.0, 0.0]) == 0.0
    # row by row: one infinite row does not make the others infinite
    got = llr_variance([[0.5, 0.5], [0.5, 0.5]], [[1.0, 0.0], [0.25, 0.75]])
    assert got[0] == math.inf
    assert got[1] == pytest.approx(0.25 * math.log(3) ** 2, rel=1e-14, abs=0)


def test_multinomial_llr_decides_undefined_counts_row_by_row():
    # row 0 is ruled out by Q only (+inf), row 1 by P only (-inf): both are defined
    got = multinomial_llr([[1, 0], [0, 1]], [1.0, 0.0], [0.0, 1.0])
    assert got.tolist() == [math.inf, -math.inf]
    with pytest.raises(ValueError) as info:
        multinomial_llr([[1, 1]], [1.0, 0.0], [0.0, 1.0])
    assert str(info.value) == (
        "the counts have probability zero under both p and q, so their ratio is undefined"
    )


def test_multinomial_llr_messages_name_the_counts():
    with pytest.raises(ValueError) as info:
        multinomial_llr(3, [0.5, 0.5], [0.5, 0.5])
    assert str(info.value) == "counts must be a count vector (at least one dimension), got a scalar"
    with pytest.raises(ValueError, match=r"^counts must be non-negative"):
        multinomial_llr([1, -1], [0.5, 0.5], [0.5, 0.5])
    with pytest.raises(ValueError) as info:
        multinomial_llr([1, 2, 3], [0.5, 0.5], [0.5, 0.5])
    assert str(info.value) == (
        "counts has 3 outcomes but p and q have 2; they must describe the same outcomes"
    )


def test_llr_variance_bad_input():
    with pytest.raises(ValueError, match="p does not sum to one"):
        llr_variance([0.2, 0.2], [0.5, 0.5])
    with pytest.raises(ValueError, match="same number of outcomes"):
        llr_variance([0.5, 0.5], [0.2, 0.3, 0.5])
    with pytest.raises(ValueError, match="base"):
        llr_variance([0.5, 0.5], [0.2, 0.8], base=-2)


# ----------------------------------------------------------- log_checkpoints


@given(st.integers(1, 10**9), st.integers(1, 40))
def test_log_checkpoints_increase_from_one_to_n(n, per_decade):
    points = log_checkpoints(n, per_decade=per_decade)
    assert points[0] == 1
    assert points[-1] == n
    assert np.all(np.diff(points) > 0)
    assert points.size <= math.ceil(math.log10(n) * per_decade) + 2


def test_log_checkpoints_are_roughly_log_spaced():
    points = log_checkpoints(10**6, per_decade=10)
    ratios = points[1:] / points[:-1]
    big = points[:-1] >= 100  # where integers no longer crowd each other
    np.testing.assert_allclose(ratios[big], 10**0.1, rtol=0.02, atol=0)


def test_log_checkpoints_bad_input():
    with pytest.raises(ValueError, match="n must be at least 1"):
        log_checkpoints(0)
    with pytest.raises(ValueError, match="per_decade must be an integer"):
        log_checkpoints(10, per_decade=2.5)
    with pytest.raises(ValueError, match=r"^per_decade must be at least 1, got 0$"):
        log_checkpoints(10, per_decade=0)


def test_log_checkpoints_with_one_point_per_decade():
    assert log_checkpoints(10, per_decade=1).tolist() == [1, 10]
    assert log_checkpoints(1000, per_decade=1).tolist() == [1, 10, 100, 1000]
    assert log_checkpoints(2, per_decade=1).tolist() == [1, 2]


def test_paths_record_every_flip_from_the_first():
    # record = 1 and an explicit record from N = 1 in steps of 1: the smallest allowed
    paths = running_llr_paths(3, 10, 0.4, 0.6, rng(), record=1)
    assert paths.n.tolist() == list(range(1, 11))
    assert running_llr_paths(3, 10, 0.4, 0.6, rng(), record=[1, 2, 3]).n.tolist() == [1, 2, 3]
    assert running_llr_paths(3, 10, 0.4, 0.6, rng(), record=[1]).n.tolist() == [1]
    with pytest.raises(ValueError, match=r"^record must be strictly increasing$"):
        running_llr_paths(3, 10, 0.4, 0.6, rng(), record=[1, 1])
    with pytest.raises(ValueError, match=r"^record must be whole numbers"):
        running_llr_paths(3, 10, 0.4, 0.6, rng(), record=[1.5])
    with pytest.raises(ValueError, match=r"^record must be None \(log-spaced\), a step \(int\)"):
        running_llr_paths(3, 10, 0.4, 0.6, rng(), record=[[1, 2]])


# --------------------------------------------------------- running_llr_paths


def test_paths_shapes_and_checkpoints():
    paths = running_llr_paths(7, 1000, 0.4, 0.6, rng())
    assert isinstance(paths, LLRPaths)
    assert paths.n.tolist() == log_checkpoints(1000).tolist()
    assert paths.llr.shape == paths.heads.shape == (7, paths.n.size)
    assert running_llr_paths(2, 10, 0.4, 0.6, rng(), record=3).n.tolist() == [3, 6, 9, 10]
    assert running_llr_paths(2, 10, 0.4, 0.6, rng(), record=[2, 5, 10]).n.tolist() == [2, 5, 10]
    assert running_llr_paths(2, 10, 0.4, 0.6, rng(), record=10).n.tolist() == [10]


def test_paths_heads_are_consistent_counts_and_llr_follows_from_them():
    paths = running_llr_paths(50, 5000, 0.3, 0.5, rng(1), record=100)
    k = paths.heads
    assert np.all(k >= 0)
    assert np.all(k <= paths.n)
    increments = np.diff(k, axis=1, prepend=0)
    assert np.all(increments >= 0)
    assert np.all(increments <= np.diff(paths.n, prepend=0))
    expected = log_likelihood_ratio(k, paths.n, 0.3, 0.5) / paths.n
    np.testing.assert_allclose(paths.llr, expected, rtol=1e-12, atol=1e-15)


def test_paths_mean_converges_to_kl_within_standard_errors():
    p, q = 0.5, 0.8
    paths = running_llr_paths(2000, 100_000, p, q, rng(2))
    final = paths.llr[:, -1]
    se = final.std(ddof=1) / math.sqrt(final.size)
    assert paths.kl == binary_kl(p, q)
    assert abs(final.mean() - binary_kl(p, q)) < 4 * se


@pytest.mark.parametrize(("p", "q"), [(0.5, 0.8), (0.2, 0.3), (0.9, 0.5)])
def test_paths_variance_times_n_matches_the_llr_variance(p, q):
    n_paths = 4000
    paths = running_llr_paths(n_paths, 20_000, p, q, rng(3), record=[100, 1000, 20_000])
    predicted = llr_variance([p, 1 - p], [q, 1 - q])
    measured = paths.llr.var(axis=0, ddof=1) * paths.n
    # The sample variance of n normal draws has relative standard error sqrt(2/(n-1)).
    np.testing.assert_allclose(measured, predicted, rtol=4 * math.sqrt(2 / (n_paths - 1)), atol=0)
    np.testing.assert_allclose(
        paths.predicted_std, np.sqrt(predicted / paths.n), rtol=1e-15, atol=0
    )


def test_paths_match_flip_by_flip_simulation_in_distribution():
    p, q, n_flips, n_paths = 0.3, 0.5, 400, 3000
    fast = running_llr_paths(n_paths, n_flips, p, q, rng(4), record=[50, 400])
    flips = simulate_flips(n_flips, p, rng(5), size=n_paths)
    slow = running_llr(flips, p, q)[:, [49, 399]]
    for j in range(2):
        assert scipy.stats.ks_2samp(fast.llr[:, j], slow[:, j]).pvalue > 1e-3
    # Joint law: Cov(k_50, k_400) = 50 p (1 - p), since the later flips are independent.
    cov = np.cov(fast.heads[:, 0], fast.heads[:, 1])[0, 1]
    assert cov == pytest.approx(50 * p * (1 - p), rel=0.2, abs=0)


def test_heads_follow_the_binomial_law():
    n, p = 60, 0.35
    paths = running_llr_paths(20_000, n, p, 0.5, rng(6), record=[n])
    observed = np.bincount(paths.heads[:, 0], minlength=n + 1)
    expected = scipy.stats.binom.pmf(np.arange(n + 1), n, p) * 20_000
    keep = expected > 5  # the chi-square approximation needs enough counts per cell
    observed = np.append(observed[keep], observed[~keep].sum())
    expected = np.append(expected[keep], expected[~keep].sum())
    expected *= observed.sum() / expected.sum()
    assert scipy.stats.chisquare(observed, expected).pvalue > 1e-3


def test_paths_are_reproducible_and_seed_dependent():
    a = running_llr_paths(20, 10_000, 0.5, 0.7, rng(9))
    b = running_llr_paths(20, 10_000, 0.5, 0.7, rng(9))
    c = running_llr_paths(20, 10_000, 0.5, 0.7, rng(10))
    assert np.array_equal(a.llr, b.llr)
    assert np.array_equal(a.heads, b.heads)
    assert not np.array_equal(a.llr, c.llr)


def test_paths_edge_coins():
    same = running_llr_paths(5, 100, 0.4, 0.4, rng())
    assert np.array_equal(same.llr, np.zeros_like(same.llr))
    certain = running_llr_paths(5, 100, 1.0, 0.5, rng())
    np.testing.assert_allclose(certain.llr, math.log(2), rtol=1e-15, atol=0)
    ruled_out = running_llr_paths(5, 1000, 0.5, 0.0, rng(), record=[1000])
    assert np.all(ruled_out.llr == math.inf)
    assert not np.isnan(running_llr_paths(5, 100, 0.0, 1.0, rng()).llr).any()


def test_paths_base_two():
    a = running_llr_paths(10, 1000, 0.5, 0.8, rng(11), base=2)
    b = running_llr_paths(10, 1000, 0.5, 0.8, rng(11))
    np.testing.assert_allclose(a.llr, b.llr / math.log(2), rtol=1e-14, atol=1e-15)
    assert a.kl == binary_kl(0.5, 0.8, base=2)
    assert a.kl == pytest.approx(b.kl / math.log(2), rel=1e-15, abs=0)


def test_ten_to_the_eight_flips_in_bounded_memory():
    tracemalloc.start()
    try:
        paths = running_llr_paths(1000, 100_000, 0.5, 0.8, rng(12))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert paths.llr.shape[0] == 1000
    assert peak < 50 * 2**20  # flip by flip it would be 10^8 values


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        ((0, 10, 0.5, 0.5, rng()), {}, "n_paths must be at least 1"),
        ((2, 0, 0.5, 0.5, rng()), {}, "n_flips must be at least 1"),
        ((2, 10.0, 0.5, 0.5, rng()), {}, "n_flips must be an integer"),
        ((2, 10, 1.5, 0.5, rng()), {}, "p must hold probabilities"),
        ((2, 10, 0.5, math.nan, rng()), {}, "q contains NaN"),
        ((2, 10, 0.5, 0.5, 1), {}, "rng must be a numpy.random.Generator"),
        ((2, 10, 0.5, 0.5, rng()), {"record": 0}, "record must be at least 1"),
        ((2, 10, 0.5, 0.5, rng()), {"record": [3, 2]}, "strictly increasing"),
        ((2, 10, 0.5, 0.5, rng()), {"record": [3, 3]}, "strictly increasing"),
        ((2, 10, 0.5, 0.5, rng()), {"record": [0, 5]}, "in 1..n_flips=10"),
        ((2, 10, 0.5, 0.5, rng()), {"record": [5, 11]}, "in 1..n_flips=10"),
        ((2, 10, 0.5, 0.5, rng()), {"record": [[1, 2]]}, "1-d array"),
        ((2, 10, 0.5, 0.5, rng()), {"record": []}, "1-d array"),
        ((2, 10, 0.5, 0.5, rng()), {"record": [1.5, 3]}, "whole numbers"),
        ((2, 10, 0.5, 0.5, rng()), {"base": 0}, "base must be"),
        ((MAX_RECORDED_VALUES, 10, 0.5, 0.5, rng()), {"record": 5}, "exceeds the limit"),
    ],
)
def test_paths_bad_input(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        running_llr_paths(*args, **kwargs)


def test_counts_of_empty_sequences():
    assert count_outcomes([], 3).tolist() == [0, 0, 0]
    assert count_outcomes(np.zeros((2, 0), dtype=int), 3).tolist() == [[0, 0, 0], [0, 0, 0]]


def test_multinomial_llr_sums_term_by_term_when_the_models_nearly_agree():
    from decimal import Decimal, localcontext

    counts = [300_000, 700_000]
    p, q = [0.3, 0.7], [0.3 + 1e-9, 0.7 - 1e-9]
    with localcontext() as ctx:
        ctx.prec = 250
        exact = float(
            sum(c * (Decimal(a) / Decimal(b)).ln() for c, a, b in zip(counts, p, q, strict=True))
        )
    assert klbook.multinomial_llr(counts, p, q) == pytest.approx(exact, rel=1e-6, abs=0)


def test_multinomial_llr_rules_out_and_refuses_as_the_coin_does():
    assert klbook.multinomial_llr([1, 0], [1.0, 0.0], [0.0, 1.0]) == math.inf
    assert klbook.multinomial_llr([0, 1], [1.0, 0.0], [0.5, 0.5]) == -math.inf
    # one outcome ruled out by P, another by Q: the counts are impossible under both
    with pytest.raises(ValueError, match="probability zero under both"):
        klbook.multinomial_llr([1, 1], [1.0, 0.0], [0.0, 1.0])


class _FixedDraws(np.random.Generator):
    """A Generator whose random() returns the given numbers: draws that land on the edges."""

    def __init__(self, values):
        super().__init__(np.random.PCG64(0))
        self._values = np.asarray(values, dtype=np.float64)

    def random(self, size=None, dtype=np.float64, out=None):
        return np.broadcast_to(self._values, size).copy()


def test_rolls_use_half_open_intervals_of_the_cumulative_probabilities():
    # face k for u in [P(X < k), P(X <= k)): u exactly on an edge is the next face
    probs = [0.25, 0.25, 0.5]
    u = [0.0, 0.2499999999999999, 0.25, 0.4999999999999999, 0.5, 0.9999999999999999]
    rolls = simulate_rolls(6, probs, _FixedDraws(u))
    assert rolls.tolist() == [0, 0, 1, 1, 2, 2]
    # cumulative sums that round below one never make a face m (there are only 0..m-1)
    tenths = [0.1] * 10
    assert np.cumsum(tenths)[-1] == 0.9999999999999999  # the largest float below one
    assert simulate_rolls(1, tenths, _FixedDraws([0.9999999999999999])).tolist() == [9]
    # a face of probability zero is never rolled, even at its edge
    assert simulate_rolls(2, [0.5, 0.0, 0.5], _FixedDraws([0.5, 0.4999999999999999])).tolist() == [
        2,
        0,
    ]


@pytest.mark.parametrize("truth", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("n_flips", [1, 3])
def test_paths_from_a_third_coin_refuse_only_sequences_both_coins_rule_out(truth, n_flips):
    # A path is impossible under a coin c when it shows heads and c = 0, or tails and c = 1.
    # With truth 0.5 and 200 paths, every kind of sequence turns up: for one flip, heads and
    # tails; for three, mixed sequences too (each kind is missed with probability < 2**-50).
    def ruled_out(c, heads, tails):
        return (heads and c == 0.0) or (tails and c == 1.0)

    kinds = {0.0: [(False, True)], 1.0: [(True, False)]}.get(truth)
    if kinds is None:
        kinds = [(True, False), (False, True)] + ([(True, True)] if n_flips > 1 else [])
    for p in (0.0, 0.5, 1.0):
        for q in (0.0, 0.5, 1.0):
            undefined = any(ruled_out(p, h, t) and ruled_out(q, h, t) for h, t in kinds)
            args = (200, n_flips, p, q, rng(3))
            if undefined:
                with pytest.raises(ValueError) as info:
                    running_llr_paths(*args, truth=truth)
                assert str(info.value) == (
                    "truth drew a sequence that has probability zero under both p and q, "
                    "so its ratio is undefined"
                )
            else:
                paths = running_llr_paths(*args, truth=truth)
                assert not np.isnan(paths.llr).any()


def test_paths_limit_on_recorded_values_is_inclusive(monkeypatch):
    import klbook.simulation as simulation

    monkeypatch.setattr(simulation, "MAX_RECORDED_VALUES", 12)
    assert running_llr_paths(4, 9, 0.4, 0.6, rng(), record=3).llr.shape == (4, 3)  # 12 values
    with pytest.raises(ValueError) as info:
        running_llr_paths(13, 1, 0.4, 0.6, rng())
    assert str(info.value) == (
        "n_paths × checkpoints = 13 × 1 exceeds the limit of 12 recorded values; "
        "record fewer checkpoints (a larger step)"
    )


def test_paths_check_everything_before_drawing():
    g = rng(4)
    for kwargs in ({"base": 1}, {"truth": 1.5}, {"record": [0, 5]}):
        with pytest.raises(ValueError):
            running_llr_paths(3, 10, 0.4, 0.6, g, **kwargs)
    assert g.random() == rng(4).random()  # the generator never moved
    with pytest.raises(ValueError, match=r"^truth must hold probabilities in \[0, 1\]"):
        running_llr_paths(3, 10, 0.4, 0.6, g, truth=1.5)
    with pytest.raises(ValueError, match=r"^truth must be a single probability"):
        running_llr_paths(3, 10, 0.4, 0.6, g, truth=[0.5, 0.5])
