"""Marking checks for chapter 5, KL in machine learning.

References are computed here with the standard library, independently of
klbook and of the practice self-checks in ``klbook/checks/ch05.py``.
"""

from __future__ import annotations

import math

import numpy as np

from coursework.marking import BITS, Function, Numeric


def _kl_normal(mu_p: float, sigma_p: float, mu_q: float, sigma_q: float) -> float:
    """KL(N(mu_p, sigma_p^2) ‖ N(mu_q, sigma_q^2)) in nats."""
    ratio = (sigma_p / sigma_q) ** 2
    return 0.5 * (ratio - 1 - math.log(ratio) + (mu_p - mu_q) ** 2 / sigma_q**2)


# ex-ch5-same-mean: KL(N(0, 2^2) ‖ N(0, 1)).
_SAME_MEAN = _kl_normal(0.0, 2.0, 0.0, 1.0)

# ex-ch5-mle-limit: min over lambda of KL(Binomial(10, 0.3) ‖ Poisson(lambda)), at the
# mean lambda = 3, written as cross-entropy minus entropy.
_BIN = [math.comb(10, k) * 0.3**k * 0.7 ** (10 - k) for k in range(11)]
_CROSS = math.fsum(p * (3.0 - k * math.log(3.0) + math.lgamma(k + 1)) for k, p in enumerate(_BIN))
_MLE_LIMIT = _CROSS + math.fsum(p * math.log(p) for p in _BIN)

# ex-ch5-elbo-prior: q = prior, x = 1 head in 4 flips, three latent coins.
_PRIOR = (0.5, 0.3, 0.2)
_HEADS = (0.2, 0.5, 0.8)
_LIK = [math.comb(4, 1) * t * (1 - t) ** 3 for t in _HEADS]
_EVIDENCE = math.fsum(p * lk for p, lk in zip(_PRIOR, _LIK, strict=True))
_POSTERIOR = [p * lk / _EVIDENCE for p, lk in zip(_PRIOR, _LIK, strict=True)]
_ELBO_PRIOR = math.fsum(
    q * math.log(q / post) for q, post in zip(_PRIOR, _POSTERIOR, strict=True)
)  # KL(q ‖ p(z | x)) by its definition

# ex-ch5-moment-match: sigma of the forward-KL Gaussian fit of 1/2 N(-3, 1) + 1/2 N(3, 1).
_MOMENT = math.sqrt(1.0 + 0.5 * 3.0**2 + 0.5 * 3.0**2)

# ex-ch5-reverse-local: sigma of the wide local minimum of KL(N(0, sigma^2) ‖ P) for
# P = 1/2 N(-3, 1) + 1/2 N(3, 1) (at mu = 0 by symmetry), found by ternary search. Here
# log p(x) = -x²/2 - 9/2 + log cosh(3x) - log sqrt(2 pi), so with x = sigma z, z ~ N(0, 1),
# KL = -h(Q) + sigma²/2 + 9/2 + log sqrt(2 pi) - E[log cosh(3 sigma Z)]; the last
# expectation is a sum over a fine grid in z.
_Z = np.linspace(-12.0, 12.0, 4801)
_PHI = np.exp(-0.5 * _Z**2) / math.sqrt(2 * math.pi) * (_Z[1] - _Z[0])


def _log_cosh(u: np.ndarray) -> np.ndarray:
    return np.abs(u) + np.log1p(np.exp(-2 * np.abs(u))) - math.log(2)


def _reverse_kl_at_zero(sigma: float) -> float:
    entropy_q = 0.5 * math.log(2 * math.pi * math.e * sigma**2)
    mean_log_cosh = float(_PHI @ _log_cosh(3 * sigma * _Z))
    return -entropy_q + sigma**2 / 2 + 4.5 + 0.5 * math.log(2 * math.pi) - mean_log_cosh


_LO, _HI = 2.0, 3.5
for _ in range(200):
    _A, _B = _LO + (_HI - _LO) / 3, _HI - (_HI - _LO) / 3
    _LO, _HI = (_LO, _B) if _reverse_kl_at_zero(_A) < _reverse_kl_at_zero(_B) else (_A, _HI)
_WIDE_SIGMA = (_LO + _HI) / 2

# ex-ch5-kl-function: other parameters, equal and far-apart Gaussians included.
_KL_RAW = [
    (0.5, 1.5, -0.5, 0.75),
    (2.0, 0.1, 2.0, 0.1),
    (-3.0, 2.0, 4.0, 10.0),
    (1000.0, 1.0, 1001.0, 1.0),
    (0.0, 0.01, 0.0, 3.0),
]

MARKING = {
    "ex-ch5-mle-limit": Numeric(_MLE_LIMIT, rtol=1e-3, units=BITS),
    "ex-ch5-same-mean": Numeric(_SAME_MEAN, rtol=1e-3, units=BITS),
    "ex-ch5-elbo-prior": Numeric(_ELBO_PRIOR, rtol=1e-3, units=BITS),
    "ex-ch5-moment-match": Numeric(_MOMENT, rtol=1e-3),
    "ex-ch5-reverse-local": Numeric(_WIDE_SIGMA, rtol=2e-3),
    "ex-ch5-kl-function": Function(
        [(args, _kl_normal(*args)) for args in _KL_RAW], rtol=1e-9, forbid=("klbook",)
    ),
}
