"""Marking checks for chapter 2, expected value and KL as the expected log-likelihood ratio.

References are computed here with the standard library, independently of
klbook and of the practice self-checks in ``klbook/checks/ch02.py``.
"""

from __future__ import annotations

import math

import numpy as np

from coursework.marking import BITS, Function, Numeric


def _kl(p: list[float], q: list[float], log=math.log) -> float:
    return math.fsum(a * log(a / b) for a, b in zip(p, q, strict=True) if a > 0)


# ex-ch2-uniform-coin: KL(Bern(0.8) ‖ fair coin) in nats, straight from the definition.
_UNIFORM_COIN = _kl([0.8, 0.2], [0.5, 0.5])

# ex-ch2-bits-three: KL(P‖Q) in bits for P = (0.6, 0.3, 0.1), Q = (0.3, 0.3, 0.4).
_BITS_THREE = _kl([0.6, 0.3, 0.1], [0.3, 0.3, 0.4], log=math.log2)


# ex-ch2-mc-function: the mean of log(p[x]/q[x]) over the samples, on other inputs.
def _mc(samples: list[int], p: list[float], q: list[float]) -> float:
    return math.fsum(math.log(p[x] / q[x]) for x in samples) / len(samples)


_LOADED = [0.1, 0.1, 0.1, 0.1, 0.2, 0.4]
_MC_RAW = [
    ([2, 2, 0, 1, 3, 3, 3], [0.1, 0.2, 0.3, 0.4], [0.25, 0.25, 0.25, 0.25]),
    ([1, 0, 1, 1, 0], [0.3, 0.7], [0.6, 0.4]),
    ([int(x) for x in np.arange(1000) * 7 % 6], _LOADED, [1 / 6] * 6),
    ([4], _LOADED, [0.05, 0.05, 0.1, 0.2, 0.3, 0.3]),
]
_MC_CASES = [((np.array(s), np.array(p), np.array(q)), _mc(s, p, q)) for s, p, q in _MC_RAW]

# ex-ch2-samples-needed: smallest n with sigma/sqrt(n) <= 0.01 nats, loaded die against fair.
_LAMBDA = [math.log(p / (1 / 6)) for p in _LOADED]
_MEAN = math.fsum(p * lam for p, lam in zip(_LOADED, _LAMBDA, strict=True))
_VAR = math.fsum(p * (lam - _MEAN) ** 2 for p, lam in zip(_LOADED, _LAMBDA, strict=True))
_SAMPLES = math.ceil(_VAR / 0.01**2)

# ex-ch2-quadratic: the quadratic approximation of KL(P‖Q) for p = 0.3, q = 0.33, in nats,
# (q - p)^2 / (2p) + (q - p)^2 / (2(1 - p)) term by term (not the exact KL).
_QUADRATIC = math.fsum(d**2 / (2 * a) for a, d in ((0.3, 0.33 - 0.3), (0.7, 0.3 - 0.33)))

MARKING = {
    "ex-ch2-uniform-coin": Numeric(_UNIFORM_COIN, rtol=1e-3, units=BITS),
    "ex-ch2-bits-three": Numeric(_BITS_THREE, rtol=1e-3),
    "ex-ch2-mc-function": Function(_MC_CASES, rtol=1e-6, forbid=("klbook",)),
    "ex-ch2-samples-needed": Numeric(_SAMPLES, rtol=0.0, atol=0.25),
    "ex-ch2-quadratic": Numeric(_QUADRATIC, rtol=3e-3, units=BITS),
}
