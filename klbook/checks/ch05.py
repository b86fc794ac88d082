"""Self-checks for chapter 5, KL in machine learning.

Expected values are computed here from their formulas, independently of
:mod:`klbook.gaussian`, so a bug there cannot make a wrong answer "correct".
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from klbook.exercises import BITS, FunctionCheck, NumericCheck

__all__ = ["CHECKS"]


def _kl_normal(mu_p: float, sigma_p: float, mu_q: float, sigma_q: float) -> float:
    """KL(N(mu_p, sigma_p²) ‖ N(mu_q, sigma_q²)) in nats, the textbook formula."""
    return math.log(sigma_q / sigma_p) + (sigma_p**2 + (mu_p - mu_q) ** 2) / (2 * sigma_q**2) - 0.5


# --- ex-ch5-same-mean: equal means, sigma_p = 2, sigma_q = 1 ---------------------------

_R = 2.0  # sigma_p / sigma_q
_SAME_MEAN = 0.5 * (_R**2 - 1) - math.log(_R)

# --- ex-ch5-mle-limit: the Poisson rate closest to Binomial(10, 0.3) in forward KL ---

_BIN_N, _BIN_P = 10, 0.3
_bin_pmf = [math.comb(_BIN_N, k) * _BIN_P**k * (1 - _BIN_P) ** (_BIN_N - k) for k in range(11)]


def _kl_binomial_poisson(lam: float) -> float:
    """KL(Binomial(10, 0.3) ‖ Poisson(lam)) in nats: a sum over the binomial's support."""
    return math.fsum(
        p * (math.log(p) - (k * math.log(lam) - lam - math.lgamma(k + 1)))
        for k, p in enumerate(_bin_pmf)
    )


_LAM_STAR = _BIN_N * _BIN_P  # E_P[X]: the minimiser of the forward KL
_MLE_LIMIT = _kl_binomial_poisson(_LAM_STAR)

# --- ex-ch5-elbo-prior: the chapter's three-state latent model, q = prior ------------
# The chapter's own example observes 3 heads; the exercise observes 1 head, so that its
# answer is not one of the chapter's printed numbers.

PRIOR = (0.5, 0.3, 0.2)
HEADS_PROB = (0.2, 0.5, 0.8)
N_FLIPS, X_OBS = 4, 1

# The binomial likelihood by its formula (scipy.stats would cost every chapter's first
# check a second and a half of imports).
_lik = [math.comb(N_FLIPS, X_OBS) * t**X_OBS * (1 - t) ** (N_FLIPS - X_OBS) for t in HEADS_PROB]
_joint = [p * lk for p, lk in zip(PRIOR, _lik, strict=True)]
_LOG_EVIDENCE = math.log(sum(_joint))
_posterior = [j / sum(_joint) for j in _joint]
_ELBO_AT_PRIOR = sum(p * math.log(lk) for p, lk in zip(PRIOR, _lik, strict=True))
_KL_PRIOR_POST = _LOG_EVIDENCE - _ELBO_AT_PRIOR
_KL_POST_PRIOR = sum(a * math.log(a / b) for a, b in zip(_posterior, PRIOR, strict=True))

# --- ex-ch5-moment-match: two equal modes at ±3 with unit widths -----------------------

_MIX_MEANS, _MIX_SIGMA = (-3.0, 3.0), 1.0
_MIX_VAR = _MIX_SIGMA**2 + sum(m**2 for m in _MIX_MEANS) / 2  # law of total variance

# --- ex-ch5-reverse-local: the wide local minimum of KL(Q‖P) for the same mixture ----
# By symmetry it sits at mu = 0; its sigma minimises KL(N(0, sigma²) ‖ P), computed
# here on a fine grid with NumPy and a golden-section search (not with klbook).

_X = np.linspace(-30.0, 30.0, 6001)
_LOG_P = np.logaddexp(
    *(math.log(0.5) - 0.5 * (_X - m) ** 2 - 0.5 * math.log(2 * math.pi) for m in _MIX_MEANS)
)


def _reverse_kl_centred(sigma: float) -> float:
    """KL(N(0, sigma²) ‖ ½N(−3, 1) + ½N(3, 1)) in nats, by the trapezoid rule."""
    log_q = -0.5 * (_X / sigma) ** 2 - math.log(sigma) - 0.5 * math.log(2 * math.pi)
    return float(np.trapezoid(np.exp(log_q) * (log_q - _LOG_P), _X))


def _golden_min(f: Callable[[float], float], lo: float, hi: float, tol: float = 1e-8) -> float:
    """Return the minimiser of a unimodal f on [lo, hi], by golden-section search."""
    ratio = (math.sqrt(5) - 1) / 2
    a, b = lo, hi
    while b - a > tol:
        c, d = b - ratio * (b - a), a + ratio * (b - a)
        if f(c) < f(d):
            b = d
        else:
            a = c
    return (a + b) / 2


_WIDE_SIGMA = _golden_min(_reverse_kl_centred, 1.5, 4.5)
_WIDE_KL = _reverse_kl_centred(_WIDE_SIGMA)

CHECKS = {
    "ex-ch5-mle-limit": NumericCheck(
        _MLE_LIMIT,
        hint=(
            "The minimiser is λ* = E_P[X]; then sum P(k) log(P(k)/Q_λ*(k)) over the "
            "binomial's outcomes k = 0, …, 10, in nats."
        ),
        units=BITS,
        mistakes=[
            (
                _kl_binomial_poisson(_BIN_N * _BIN_P * (1 - _BIN_P)),
                "that λ is the binomial's variance; the forward-KL fit matches its mean.",
            ),
            (_LAM_STAR, "that is λ*; the question asks for the KL at λ*."),
            (-_MLE_LIMIT, "KL is never negative: check the order of the log ratio."),
        ],
    ),
    "ex-ch5-same-mean": NumericCheck(
        _SAME_MEAN,
        hint=(
            "Put μp = μq in the closed form: only the log term and the ratio of the "
            "variances remain. Natural logs give nats."
        ),
        units=BITS,
        mistakes=[
            (
                0.5 * (1 / _R**2 - 1) + math.log(_R),
                "that is KL(Q‖P): the truth, σ = 2, goes first.",
            ),
            (0.5 * (_R**2 - 1), "you dropped the log(σq/σp) term."),
            (0.5 * (_R**2 - 1) + math.log(_R), "check the sign of the log term: it is log(σq/σp)."),
            (0.5 * (_R**4 - 1) - math.log(_R**2), "σ is a standard deviation; square it once."),
        ],
    ),
    "ex-ch5-elbo-prior": NumericCheck(
        _KL_PRIOR_POST,
        hint=(
            "Use log p(x) = ELBO + KL: with q equal to the prior, the ELBO is the "
            "prior-weighted average of log p(x | z)."
        ),
        units=BITS,
        mistakes=[
            (_KL_POST_PRIOR, "that is KL(posterior ‖ prior): here q comes first."),
            (_ELBO_AT_PRIOR, "that is the ELBO; the question asks for the gap to log p(x)."),
            (_LOG_EVIDENCE, "that is log p(x); subtract the ELBO."),
            (-_KL_PRIOR_POST, "KL is never negative: check the order of the subtraction."),
        ],
    ),
    "ex-ch5-moment-match": NumericCheck(
        math.sqrt(_MIX_VAR),
        hint=(
            "The forward-KL fit matches the mixture's mean and variance; the variance "
            "has a within-component and a between-component part. Give σ, not σ²."
        ),
        rtol=1e-3,
        mistakes=[
            (_MIX_VAR, "that is the variance σ²; the question asks for σ."),
            (_MIX_SIGMA, "that is one component's width: the mode-seeking (reverse KL) answer."),
            (abs(_MIX_MEANS[0]), "you left out the within-component variance."),
        ],
    ),
    "ex-ch5-reverse-local": NumericCheck(
        _WIDE_SIGMA,
        hint=(
            "Start the reverse fit wide and centred, for instance at the forward fit, on "
            "a grid of about ±20; give the σ of the fit it reaches, not σ²."
        ),
        rtol=2e-3,
        mistakes=[
            (
                math.sqrt(_MIX_VAR),
                "that is the forward-KL fit; the question asks about reverse KL.",
            ),
            # the one-mode fits are N(±2.984, 1.023²)
            (1.0234, "that is a one-mode fit; start the optimiser between the modes, wide."),
            (_WIDE_SIGMA**2, "that is the variance σ²; the question asks for σ."),
            (_WIDE_KL, "that is the KL(Q‖P) it reaches; the question asks for σ."),
        ],
    ),
    "ex-ch5-kl-function": FunctionCheck(
        cases=[
            ((0.0, 1.0, 0.0, 1.0), 0.0),
            ((1.0, 2.0, 0.0, 1.0), _kl_normal(1.0, 2.0, 0.0, 1.0)),
            ((0.0, 1.0, 1.0, 2.0), _kl_normal(0.0, 1.0, 1.0, 2.0)),
            ((-1.5, 0.3, 2.0, 4.0), _kl_normal(-1.5, 0.3, 2.0, 4.0)),
            ((3.0, 5.0, 3.0, 0.5), _kl_normal(3.0, 5.0, 3.0, 0.5)),
        ],
        hint=(
            "Return log(σq/σp) + (σp² + (μp − μq)²) / (2σq²) − 1/2 in nats, with P's "
            "parameters first; check it on equal parameters (0) and on swapped ones."
        ),
        rtol=1e-9,
    ),
}
