"""Exact references for the accuracy tests: 400-digit decimals from the floats passed in.

Every function here takes the very floats a test hands to klbook, converts each
to the Decimal it stands for exactly (``Decimal(float)`` does not round), does
the arithmetic with 400 significant digits (enough for 1 − p to keep every
digit even for the smallest subnormal p) and rounds once at the end. So the
reference is the true value of the formula at those inputs, correct to the last
bit of a float, whatever rounding the float formula would suffer: a test can
then compare with ``abs=0`` and a relative tolerance of a few units in the
last place. (Inputs rounded before the call, ``1 - p`` say, are the test's own
business: compute them here from the exact values instead.)
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import Decimal, localcontext

import numpy as np

PREC = 400


def d(x: float) -> Decimal:
    """The exact value of the float ``x``."""
    return Decimal(float(x))


def _ln(x: Decimal) -> Decimal:
    return x.ln()


def kl(p: Iterable[float], q: Iterable[float]) -> float:
    """KL(P‖Q) = Σ p ln(p/q) of the given floats; inf where q = 0 < p."""
    return kl_of_decimals(map(d, np.ravel(p)), map(d, np.ravel(q)))


def entropy(p: Iterable[float]) -> float:
    """H(P) = −Σ p ln p of the given floats."""
    with localcontext(prec=PREC):
        return float(-sum((d(a) * _ln(d(a)) for a in np.ravel(p) if a > 0), Decimal(0)))


def cross_entropy(p: Iterable[float], q: Iterable[float]) -> float:
    """H(P, Q) = −Σ p ln q of the given floats; inf where q = 0 < p."""
    with localcontext(prec=PREC):
        total = Decimal(0)
        for a, b in zip(np.ravel(p), np.ravel(q), strict=True):
            if a == 0:
                continue
            if b == 0:
                return math.inf
            total -= d(a) * _ln(d(b))
        return float(total)


def binary_entropy(p: float) -> float:
    """H(p) of a coin whose heads probability is the float ``p`` (tails exactly 1 − p)."""
    with localcontext(prec=PREC):
        a = d(p)
        total = Decimal(0)
        for x in (a, 1 - a):
            if x > 0:
                total -= x * _ln(x)
        return float(total)


def binary_kl(p: float, q: float) -> float:
    """KL(Bern(p)‖Bern(q)) for the floats p and q, tails the exact 1 − p and 1 − q."""
    a, b = d(p), d(q)
    with localcontext(prec=PREC):
        return kl_of_decimals((a, 1 - a), (b, 1 - b))


def kl_of_decimals(p: Iterable[Decimal], q: Iterable[Decimal]) -> float:
    """Σ p ln(p/q) of exact decimals (for inputs such as 1 − p that floats would round)."""
    with localcontext(prec=PREC):
        total = Decimal(0)
        for a, b in zip(p, q, strict=True):
            if a == 0:
                continue
            if b == 0:
                return math.inf
            total += a * _ln(a / b)
        return float(total)


def gaussian_kl(mu_p: float, sigma_p: float, mu_q: float, sigma_q: float) -> float:
    """KL(N(μp, σp²)‖N(μq, σq²)) = ln(σq/σp) + (σp² + (μp − μq)²)/(2σq²) − ½."""
    with localcontext(prec=PREC):
        mp, sp, mq, sq = d(mu_p), d(sigma_p), d(mu_q), d(sigma_q)
        return float(_ln(sq / sp) + (sp * sp + (mp - mq) ** 2) / (2 * sq * sq) - Decimal("0.5"))


def vae_kl(mu: Iterable[float], log_var: Iterable[float]) -> float:
    """½ Σ (μ² + e^v − 1 − v), the KL of N(μ, e^v) from N(0, 1) summed over coordinates."""
    with localcontext(prec=PREC):
        total = Decimal(0)
        for m, v in zip(np.ravel(mu), np.ravel(log_var), strict=True):
            m, v = d(m), d(v)
            total += m * m + v.exp() - 1 - v
        return float(total / 2)


def log_likelihood_ratio(k: int, n: int, p: float, q: float) -> float:
    """k ln(p/q) + (n − k) ln((1 − p)/(1 − q)) for the floats p and q."""
    with localcontext(prec=PREC):
        a, b = d(p), d(q)
        return float(k * _ln(a / b) + (n - k) * _ln((1 - a) / (1 - b)))


def normal_mixture_logpdf(
    x: float, weights: Iterable[float], means: Iterable[float], sigmas: Iterable[float]
) -> float:
    """ln Σ_k w_k N(x; μ_k, σ_k²) of the given floats."""
    with localcontext(prec=PREC):
        two_pi = 2 * Decimal(
            "3.14159265358979323846264338327950288419716939937510582097494459230781640628620899"
            "86280348253421170679821480865132823066470938446095505822317253594081284811174502"
            "84102701938521105559644622948954930381964428810975665933446128475648233786783165"
        )
        total = Decimal(0)
        xd = d(x)
        for w, m, s in zip(weights, means, sigmas, strict=True):
            w, m, s = d(w), d(m), d(s)
            z = (xd - m) / s
            total += w * (-(z * z) / 2).exp() / (s * two_pi.sqrt())
        return float(_ln(total))
