"""klbook.gaussian_kl_full: KL between multivariate Gaussians with full covariances.

Cross-checked against the textbook trace/log-determinant formula (numpy, explicit
inverses), against the diagonal gaussian_kl, against Monte Carlo with scipy's
multivariate normal, and against two properties of KL: invariance under an invertible
affine map of both distributions, and non-negativity.
"""

from __future__ import annotations

import decimal
import math

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

import klbook
from klbook import gaussian_kl, gaussian_kl_full


def textbook_kl(mu_p, cov_p, mu_q, cov_q):
    """½[tr(Σq⁻¹Σp) + (μp − μq)ᵀΣq⁻¹(μp − μq) − d + ln det Σq − ln det Σp]."""
    mu_p, mu_q = np.asarray(mu_p, float), np.asarray(mu_q, float)
    inv_q = np.linalg.inv(cov_q)
    diff = mu_p - mu_q
    _, logdet_p = np.linalg.slogdet(cov_p)
    _, logdet_q = np.linalg.slogdet(cov_q)
    d = mu_p.size
    return 0.5 * (np.trace(inv_q @ cov_p) + diff @ inv_q @ diff - d + logdet_q - logdet_p)


def random_spd(rng, d, condition=20.0):
    """A random d × d covariance with eigenvalues between 1/condition and 1, rotated."""
    rotation, _ = np.linalg.qr(rng.normal(size=(d, d)))
    eigen = np.exp(rng.uniform(-math.log(condition), 0.0, size=d))
    cov = rotation @ np.diag(eigen) @ rotation.T
    return (cov + cov.T) / 2


@settings(max_examples=60)
@given(st.integers(1, 6), st.integers(0, 2**32 - 1))
def test_matches_the_textbook_formula(d, seed):
    rng = np.random.default_rng(seed)
    mu_p, mu_q = rng.normal(size=d), rng.normal(size=d)
    cov_p, cov_q = random_spd(rng, d), random_spd(rng, d)
    got = gaussian_kl_full(mu_p, cov_p, mu_q, cov_q)
    assert got >= 0.0
    assert got == pytest.approx(textbook_kl(mu_p, cov_p, mu_q, cov_q), rel=1e-9, abs=1e-12)


@settings(max_examples=60)
@given(
    st.lists(
        st.tuples(st.floats(-5, 5), st.floats(0.1, 5), st.floats(-5, 5), st.floats(0.1, 5)),
        min_size=1,
        max_size=5,
    )
)
def test_reduces_to_the_diagonal_formula(coords):
    mu_p, sd_p, mu_q, sd_q = (np.array(c) for c in zip(*coords, strict=True))
    full = gaussian_kl_full(mu_p, np.diag(sd_p**2), mu_q, np.diag(sd_q**2))
    diagonal = gaussian_kl(mu_p, sd_p, mu_q, sd_q, axis=-1)
    assert full == pytest.approx(diagonal, rel=1e-12, abs=1e-15)


def test_one_dimension_is_the_univariate_formula():
    got = gaussian_kl_full([1.0], [[0.25]], [0.0], [[2.25]])
    expected = math.log(1.5 / 0.5) + (0.25 + 1.0) / (2 * 2.25) - 0.5
    assert got == pytest.approx(expected, rel=1e-14, abs=0)


def test_matches_monte_carlo_with_scipy():
    rng = np.random.default_rng(7)
    mu_p, mu_q = np.array([0.5, -1.0, 2.0]), np.array([0.0, 0.0, 1.0])
    cov_p = np.array([[1.0, 0.6, 0.2], [0.6, 2.0, -0.4], [0.2, -0.4, 0.5]])
    cov_q = np.array([[2.0, -0.3, 0.0], [-0.3, 1.0, 0.3], [0.0, 0.3, 1.5]])
    p = scipy.stats.multivariate_normal(mu_p, cov_p)
    q = scipy.stats.multivariate_normal(mu_q, cov_q)
    xs = p.rvs(size=200_000, random_state=rng)
    log_ratio = p.logpdf(xs) - q.logpdf(xs)
    se = log_ratio.std(ddof=1) / math.sqrt(log_ratio.size)
    exact = gaussian_kl_full(mu_p, cov_p, mu_q, cov_q)
    assert abs(log_ratio.mean() - exact) < 4 * se
    assert se < 0.01 * exact  # the check has teeth


@settings(max_examples=40)
@given(st.integers(1, 5), st.integers(0, 2**32 - 1))
def test_invariant_under_an_affine_map(d, seed):
    # Y = A X + b maps N(μ, Σ) to N(Aμ + b, AΣAᵀ); KL does not change
    rng = np.random.default_rng(seed)
    mu_p, mu_q = rng.normal(size=d), rng.normal(size=d)
    cov_p, cov_q = random_spd(rng, d), random_spd(rng, d)
    a = rng.normal(size=(d, d)) + 2 * np.eye(d)
    if abs(np.linalg.det(a)) < 1e-2:
        a = a + 3 * np.eye(d)
    b = rng.normal(size=d)

    def push(mu, cov):
        image = a @ cov @ a.T
        return a @ mu + b, (image + image.T) / 2

    before = gaussian_kl_full(mu_p, cov_p, mu_q, cov_q)
    after = gaussian_kl_full(*push(mu_p, cov_p), *push(mu_q, cov_q))
    assert after == pytest.approx(before, rel=1e-7, abs=1e-10)


def test_keeps_relative_accuracy_when_p_and_q_nearly_agree():
    # Σq = (1 + ε)Σp along a rotated basis: KL = d/2 [1/(1+ε) − 1 + ln(1+ε)] ≈ d ε²/4
    rng = np.random.default_rng(11)
    d, eps = 3, 1e-7
    cov_p = random_spd(rng, d)
    cov_q = (1 + eps) * cov_p
    mu = rng.normal(size=d)
    # The reference in 50-digit decimal from the factor actually stored, 1 + ε rounded to
    # a float: in floats, 1/(1+ε) − 1 + log1p(ε) cancels to noise as the naive formula does.
    with decimal.localcontext() as ctx:
        ctx.prec = 50
        factor = decimal.Decimal(1 + eps)
        exact = decimal.Decimal(d) / 2 * (1 / factor - 1 + factor.ln())
    expected = float(exact)
    got = gaussian_kl_full(mu, cov_p, mu, cov_q)
    assert got == pytest.approx(expected, rel=1e-6, abs=0)
    # the textbook formula cancels to noise here
    naive = textbook_kl(mu, cov_p, mu, cov_q)
    assert abs(naive - expected) > abs(got - expected)


def test_zero_for_equal_parameters_and_bits():
    cov = np.array([[2.0, 0.5], [0.5, 1.0]])
    assert gaussian_kl_full([1.0, 2.0], cov, [1.0, 2.0], cov) == pytest.approx(0.0, abs=1e-28)
    nats = gaussian_kl_full([0.0, 0.0], cov, [1.0, 0.0], np.eye(2))
    bits = gaussian_kl_full([0.0, 0.0], cov, [1.0, 0.0], np.eye(2), base=2)
    assert bits == pytest.approx(nats / math.log(2), rel=1e-14, abs=0)
    assert isinstance(nats, float)


def test_mean_field_reverse_fit_has_the_conditional_variances():
    # Bishop (2006) sec. 10.1.2: the reverse-KL mean-field fit to N(0, Σ) has variances
    # 1/Λ_jj (Λ = Σ⁻¹), smaller than the marginal variances Σ_jj that forward KL picks
    cov = np.array([[1.0, 0.9], [0.9, 1.0]])
    precision = np.linalg.inv(cov)
    best = np.diag(1 / np.diag(precision))
    at_best = gaussian_kl_full([0.0, 0.0], best, [0.0, 0.0], cov)
    for scale in (0.9, 0.99, 1.01, 1.1):
        other = gaussian_kl_full([0.0, 0.0], best * scale, [0.0, 0.0], cov)
        assert other > at_best


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (([0.0, 0.0], np.eye(2), [0.0], np.eye(1)), "same length"),
        (([[0.0, 0.0]], np.eye(2), [0.0, 0.0], np.eye(2)), "mu_p must be a non-empty"),
        (([], np.eye(0), [], np.eye(0)), "mu_p must be a non-empty"),
        (([0.0, np.nan], np.eye(2), [0.0, 0.0], np.eye(2)), "mu_p contains NaN"),
        (([0.0, 0.0], np.eye(2), [np.inf, 0.0], np.eye(2)), "mu_q must be finite"),
        (([0.0, 0.0], np.eye(3), [0.0, 0.0], np.eye(2)), r"cov_p must be a 2 × 2 matrix"),
        (([0.0, 0.0], np.eye(2), [0.0, 0.0], [1.0, 1.0]), r"cov_q must be a 2 × 2 matrix"),
        (([0.0, 0.0], [[1.0, 0.5], [0.4, 1.0]], [0.0, 0.0], np.eye(2)), "cov_p must be symm"),
        (([0.0, 0.0], np.eye(2), [0.0, 0.0], [[1.0, 2.0], [2.0, 1.0]]), "cov_q must be posi"),
        (([0.0, 0.0], np.zeros((2, 2)), [0.0, 0.0], np.eye(2)), "cov_p must be positive"),
        (([0.0, 0.0], [[1.0, np.inf], [np.inf, 1.0]], [0, 0], np.eye(2)), "cov_p must be fin"),
    ],
)
def test_rejects_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        gaussian_kl_full(*args)


def test_rejects_a_bad_base():
    with pytest.raises(ValueError, match="base"):
        gaussian_kl_full([0.0], [[1.0]], [0.0], [[1.0]], base=1.0)


def test_exported():
    assert "gaussian_kl_full" in klbook.__all__
    assert klbook.gaussian_kl_full is gaussian_kl_full
