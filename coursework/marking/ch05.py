"""Marking checks for chapter 5, KL in machine learning.

References are computed here with the standard library, independently of
klbook and of the practice self-checks in ``klbook/checks/ch05.py``.
"""

from __future__ import annotations

import math

from coursework.marking import BITS, Function, Numeric


def _kl_normal(mu_p: float, sigma_p: float, mu_q: float, sigma_q: float) -> float:
    """KL(N(mu_p, sigma_p^2) ‖ N(mu_q, sigma_q^2)) in nats."""
    ratio = (sigma_p / sigma_q) ** 2
    return 0.5 * (ratio - 1 - math.log(ratio) + (mu_p - mu_q) ** 2 / sigma_q**2)


# ex-ch5-same-mean: KL(N(0, 2^2) ‖ N(0, 1)).
_SAME_MEAN = _kl_normal(0.0, 2.0, 0.0, 1.0)

# ex-ch5-elbo-prior: q = prior, x = 3 heads in 4 flips, three latent coins.
_PRIOR = (0.5, 0.3, 0.2)
_HEADS = (0.2, 0.5, 0.8)
_LIK = [math.comb(4, 3) * t**3 * (1 - t) for t in _HEADS]
_EVIDENCE = math.fsum(p * lk for p, lk in zip(_PRIOR, _LIK, strict=True))
_POSTERIOR = [p * lk / _EVIDENCE for p, lk in zip(_PRIOR, _LIK, strict=True)]
_ELBO_PRIOR = math.fsum(
    q * math.log(q / post) for q, post in zip(_PRIOR, _POSTERIOR, strict=True)
)  # KL(q ‖ p(z | x)) by its definition

# ex-ch5-moment-match: sigma of the forward-KL Gaussian fit of 1/2 N(-3, 1) + 1/2 N(3, 1).
_MOMENT = math.sqrt(1.0 + 0.5 * 3.0**2 + 0.5 * 3.0**2)

# ex-ch5-kl-function: other parameters, equal and far-apart Gaussians included.
_KL_RAW = [
    (0.5, 1.5, -0.5, 0.75),
    (2.0, 0.1, 2.0, 0.1),
    (-3.0, 2.0, 4.0, 10.0),
    (1000.0, 1.0, 1001.0, 1.0),
    (0.0, 0.01, 0.0, 3.0),
]

MARKING = {
    "ex-ch5-same-mean": Numeric(_SAME_MEAN, rtol=1e-3, units=BITS),
    "ex-ch5-elbo-prior": Numeric(_ELBO_PRIOR, rtol=1e-3, units=BITS),
    "ex-ch5-moment-match": Numeric(_MOMENT, rtol=1e-3),
    "ex-ch5-kl-function": Function(
        [(args, _kl_normal(*args)) for args in _KL_RAW], rtol=1e-9, forbid=("klbook",)
    ),
}
