"""Tests of running_llr_paths(..., truth=H): paths drawn from a coin other than P
(tests/test_simulation.py covers the rest of klbook.simulation)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from klbook import binary_kl, log_likelihood_ratio, running_llr_paths


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


@given(st.floats(0.05, 0.95), st.floats(0.05, 0.95), st.floats(0.0, 1.0))
def test_limit_is_the_difference_of_two_kls(p, q, h):
    paths = running_llr_paths(1, 10, p, q, rng(), truth=h)
    expected = binary_kl(h, q) - binary_kl(h, p)
    assert math.isclose(paths.limit, expected, rel_tol=1e-9, abs_tol=1e-12)


def test_truth_omitted_is_p_and_draws_the_same_paths():
    a = running_llr_paths(50, 1000, 0.7, 0.4, rng(3))
    b = running_llr_paths(50, 1000, 0.7, 0.4, rng(3), truth=0.7)
    np.testing.assert_array_equal(a.heads, b.heads)
    assert a.truth is None and b.truth == 0.7
    assert a.limit == a.kl and math.isclose(b.limit, b.kl, rel_tol=1e-12)
    np.testing.assert_allclose(a.predicted_std, b.predicted_std, rtol=1e-12)


@pytest.mark.parametrize("h", [0.4, 0.55, 0.6, 0.9])
def test_paths_from_h_close_in_on_the_limit_with_the_predicted_spread(h):
    n_paths, n = 4000, 20_000
    paths = running_llr_paths(n_paths, n, 0.7, 0.4, rng(5), truth=h, record=[100, n])
    np.testing.assert_allclose(paths.heads[:, -1].mean() / n, h, atol=5 * 0.5 / math.sqrt(n))
    last = paths.llr[:, -1]
    sd = paths.predicted_std[-1]
    assert abs(last.mean() - paths.limit) < 5 * sd / math.sqrt(n_paths)
    assert abs(last.std(ddof=1) / sd - 1) < 0.06
    # the ratio is recomputed with P on top, from the recorded counts
    np.testing.assert_allclose(
        last, log_likelihood_ratio(paths.heads[:, -1], n, 0.7, 0.4) / n, rtol=1e-12
    )


def test_under_q_the_limit_is_minus_kl_q_p():
    paths = running_llr_paths(10, 100, 0.7, 0.4, rng(), truth=0.4)
    assert math.isclose(paths.limit, -binary_kl(0.4, 0.7), rel_tol=1e-12)


def test_a_certain_truth_and_coins_that_rule_faces_out():
    heads_only = running_llr_paths(5, 100, 0.7, 0.4, rng(), truth=1.0)
    assert np.all(heads_only.heads[:, -1] == 100)
    assert heads_only.predicted_std[-1] == 0.0
    assert math.isclose(heads_only.limit, math.log(0.7 / 0.4))
    with pytest.raises(ValueError, match="probability zero under both"):
        running_llr_paths(5, 100, 1.0, 1.0, rng(), truth=0.5)
    certain = running_llr_paths(5, 100, 1.0, 0.0, rng(), truth=1.0)
    assert certain.limit == math.inf
    # single flips are never impossible under both, but a truth showing both faces
    # makes the limit inf − inf
    with pytest.raises(ValueError, match="undefined"):
        running_llr_paths(5, 1, 1.0, 0.0, rng(), truth=0.5).limit  # noqa: B018


@pytest.mark.parametrize("truth", [1.5, -0.1, [0.5, 0.5], "0.5"])
def test_bad_truth(truth):
    with pytest.raises(ValueError, match="truth"):
        running_llr_paths(5, 100, 0.7, 0.4, rng(), truth=truth)
