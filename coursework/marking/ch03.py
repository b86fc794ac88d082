"""Marking checks for chapter 3, the coin-sequence limit.

References are computed here with the standard library, independently of
klbook and of the practice self-checks in ``klbook/checks/ch03.py``.
"""

from __future__ import annotations

import math

import numpy as np

from coursework.marking import BITS, NATS, Function, Numeric

_P1, _Q1 = 0.7, 0.4

# ex-ch3-limit-under-q: flips from Q, so L_N -> q1 log(p1/q1) + q2 log(p2/q2) = -KL(Q‖P).
_LIMIT = _Q1 * math.log(_P1 / _Q1) + (1 - _Q1) * math.log((1 - _P1) / (1 - _Q1))

# ex-ch3-die-bits: counts (8, 4, 2, 2), P = (1/2, 1/4, 1/8, 1/8), Q = (1/8, 1/2, 1/4, 1/8).
_COUNTS = (8, 4, 2, 2)
_DIE_P = (1 / 2, 1 / 4, 1 / 8, 1 / 8)
_DIE_Q = (1 / 8, 1 / 2, 1 / 4, 1 / 8)
_DIE_BITS = math.fsum(
    c * (math.log2(p) - math.log2(q)) for c, p, q in zip(_COUNTS, _DIE_P, _DIE_Q, strict=True)
)

# ex-ch3-wrong-way: Pr(L_N < 0) ~ Phi(-sqrt(N) KL / sigma) at N = 100 flips of P.
_A, _B = math.log(_P1 / _Q1), math.log((1 - _P1) / (1 - _Q1))
_KL = _P1 * _A + (1 - _P1) * _B
_SIGMA = math.sqrt(_P1 * (_A - _KL) ** 2 + (1 - _P1) * (_B - _KL) ** 2)
_WRONG_WAY = 0.5 * math.erfc(math.sqrt(100) * _KL / _SIGMA / math.sqrt(2))


# ex-ch3-running-die: L_1, ..., L_n for a 1-d array of rolls, on other inputs.
def _running(rolls: list[int], p: list[float], q: list[float]) -> np.ndarray:
    out, total = [], 0.0
    for n, face in enumerate(rolls, start=1):
        total += math.log(p[face] / q[face])
        out.append(total / n)
    return np.array(out)


_RUN_RAW = [
    ([3, 3, 1, 0, 2], [0.4, 0.3, 0.2, 0.1], [0.1, 0.2, 0.3, 0.4]),
    ([0, 0, 0, 1], [0.5, 0.5], [0.9, 0.1]),
    ([int(x) for x in np.arange(60) * 5 % 3], [0.2, 0.5, 0.3], [1 / 3, 1 / 3, 1 / 3]),
    ([2], [0.25, 0.25, 0.5], [0.5, 0.25, 0.25]),
]
_RUN_CASES = [((np.array(r), np.array(p), np.array(q)), _running(r, p, q)) for r, p, q in _RUN_RAW]

# ex-ch3-martingale-spread: sd of R_100 = P^N(x)/Q^N(x) under Q, from the exact binomial
# sum of E_Q[R^2] (not the closed form the exercise derives), minus E_Q[R]^2 = 1.
_R2 = math.fsum(
    math.comb(100, k)
    * _Q1**k
    * (1 - _Q1) ** (100 - k)
    * ((_P1 / _Q1) ** k * ((1 - _P1) / (1 - _Q1)) ** (100 - k)) ** 2
    for k in range(101)
)
_MARTINGALE_SD = math.sqrt(_R2 - 1)

MARKING = {
    "ex-ch3-limit-under-q": Numeric(_LIMIT, rtol=1e-3, units=BITS),
    "ex-ch3-die-bits": Numeric(_DIE_BITS, rtol=1e-3, units=NATS),
    "ex-ch3-wrong-way": Numeric(_WRONG_WAY, rtol=0.02, atol=0.0),
    "ex-ch3-running-die": Function(_RUN_CASES, rtol=1e-6, forbid=("klbook",)),
    "ex-ch3-martingale-spread": Numeric(_MARTINGALE_SD, rtol=0.01),
}
