"""Telling two coins apart: error probabilities, error exponents and typical sets (chapter 3).

After N flips of a coin that is either P (heads probability ``p``) or Q
(heads probability ``q``) we must declare "P" or "Q". A decision rule makes
two kinds of error:

    α_N = P^N(the rule says "Q")    and    β_N = Q^N(the rule says "P").

Both are sums of binomial probabilities, because every rule worth using looks
at the flips only through the number of heads k. This module computes them
exactly, in logs (β_N soon underflows), for the rules of chapters 1 and 3:

* :func:`likelihood_ratio_test`: hold α_N at a chosen level and threshold the
  log-likelihood ratio; with ``randomised=True`` it is the Neyman–Pearson test,
  which may randomise at the threshold. -(1/N) log β_N tends to KL(P‖Q)
  (Stein's lemma).
* :func:`best_deterministic_test`: the best test that does not randomise, by
  trying every set of head counts (small N only). It need not be a threshold.
* :func:`sign_rule_errors`: chapter 1's rule, the sign of the log ratio, which
  weighs both errors equally. Both errors decay at the rate of the
  :func:`chernoff_information`.
* :func:`typical_set`: the sequences whose probability under P is close to
  e^(−N H(P)): their number, and their total probability under P and under Q.

Conventions as in :mod:`klbook.measures`: ``p`` is the truth, ``q`` the model,
logs are natural (nats) unless ``base`` is given, and bad input raises
:class:`ValueError`. Coins must be able to show both faces (0 < p, q < 1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import gammaln, logsumexp, softmax

from klbook._validation import as_probabilities, distribution_pair, log_base
from klbook.measures import binary_entropy
from klbook.sequences import log_likelihood_ratio, sequence_log_prob

__all__ = [
    "MAX_DETERMINISTIC_FLIPS",
    "ChernoffInformation",
    "DeterministicTest",
    "SignRuleErrors",
    "TestErrors",
    "TypicalSet",
    "best_deterministic_test",
    "binomial_log_pmf",
    "chernoff_information",
    "likelihood_ratio_test",
    "sign_rule_errors",
    "typical_set",
]

#: :func:`best_deterministic_test` tries all 2^(N+1) sets of head counts: N ≤ 20.
MAX_DETERMINISTIC_FLIPS = 20
_SUBSETS_PER_BLOCK = 2**15
#: A size within this relative rounding of alpha counts as at most alpha.
_LEVEL_RTOL = 1e-12


# ---------------------------------------------------------------- validation


def _flip_count(n: Any, name: str = "n") -> int:
    """Return ``n`` as a Python int, or raise if it is not an integer >= 1."""
    if isinstance(n, bool) or not isinstance(n, Integral):
        raise ValueError(f"{name} must be an integer, got {n!r} of type {type(n).__name__}")
    if int(n) < 1:
        raise ValueError(f"{name} must be at least 1, got {int(n)}")
    return int(n)


def _flip_counts(n: ArrayLike) -> NDArray[np.int64]:
    """Return ``n`` as a 1-d array of integers >= 1 (a scalar becomes one entry)."""
    arr = np.asarray(n)
    if arr.ndim > 1:
        raise ValueError(f"n must be an integer or a 1-d array of integers, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError("n must hold at least one number of flips")
    if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"n must hold integers, got dtype {arr.dtype}")
    flat = arr.reshape(-1).astype(np.int64)
    if (flat < 1).any():
        raise ValueError(f"n must hold integers >= 1, got {int(flat.min())}")
    return flat


def _open_coin(x: Any, name: str) -> float:
    """Return ``x`` as a heads probability strictly between 0 and 1, or raise."""
    arr = as_probabilities(x, name)
    if arr.ndim != 0:
        raise ValueError(f"{name} must be a single probability, got an array of shape {arr.shape}")
    value = float(arr)
    if not 0 < value < 1:
        raise ValueError(
            f"{name} must lie strictly between 0 and 1 (a coin that can show both faces), "
            f"got {value}"
        )
    return value


def _level(alpha: Any) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, Real):
        raise ValueError(f"alpha must be a number, got {alpha!r}")
    value = float(alpha)
    if not 0 < value < 1:
        raise ValueError(f"alpha must lie strictly between 0 and 1, got {value}")
    return value


def _shaped(values: NDArray[Any], scalar: bool) -> Any:
    """Return a Python scalar for a scalar ``n``, else the array."""
    return values[0].item() if scalar else values


def binomial_log_pmf(n: int, p: float) -> NDArray[np.float64]:
    """Return log Pr(K = k) for k = 0..n heads in ``n`` flips of a coin with heads ``p``.

    log C(n, k) + k log p + (n − k) log(1 − p), with the binomial coefficient
    from log-gamma functions: exact in logs where the probabilities themselves
    underflow.

    Parameters
    ----------
    n : int
        Number of flips, n ≥ 1.
    p : float
        Heads probability, strictly between 0 and 1.

    Returns
    -------
    ndarray of float64, shape (n + 1,)
        Entry k is the log-probability of exactly k heads (nats).

    Raises
    ------
    ValueError
        If ``n`` is not a positive integer or ``p`` is not in (0, 1).

    Examples
    --------
    >>> import numpy as np
    >>> from klbook import binomial_log_pmf
    >>> np.exp(binomial_log_pmf(2, 0.5)).round(6).tolist()
    [0.25, 0.5, 0.25]
    >>> round(float(binomial_log_pmf(100_000, 0.4)[70_000]), 1)  # e^-18385 underflows
    -18384.6
    """
    n = _flip_count(n)
    pf = _open_coin(p, "p")
    k = np.arange(n + 1)
    log_choose = gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)
    return log_choose + np.asarray(sequence_log_prob(k, n, pf), dtype=np.float64)


def _log_sum(log_terms: NDArray[np.float64]) -> float:
    """Return log Σ exp(terms) of finite terms; −inf for no terms.

    The terms here are log binomial probabilities and log binomial
    coefficients, finite for every coin strictly between 0 and 1.
    """
    if log_terms.size == 0:
        return -math.inf
    top = float(log_terms.max())
    return top + math.log(float(np.sum(np.exp(log_terms - top))))


# ------------------------------------------------ the likelihood-ratio test


@dataclass(frozen=True, eq=False)
class TestErrors:
    """The two error probabilities of a likelihood-ratio test after ``n`` flips.

    The test looks at the number of heads k. It says "Q" for every k on Q's
    side of ``cutoff`` (below it when p > q: few heads favour the coin with
    fewer heads; above it when p < q), says "Q" with probability ``gamma``
    at k = ``cutoff`` itself, and says "P" otherwise. Fields are Python
    scalars when the test was asked for one ``n``, arrays otherwise.

    Attributes
    ----------
    n : int or ndarray of int64
        Number of flips.
    cutoff : int or ndarray of int64
        The head count at the threshold.
    gamma : float or ndarray
        Probability of saying "Q" at k = cutoff: in (0, 1] for the randomised
        test, 0 or 1 for the threshold test.
    alpha : float or ndarray
        α_N = P^N(say "Q"), the test's size.
    log_beta : float or ndarray
        log β_N = log Q^N(say "P") (nats); β_N itself underflows for large n.
    randomised : bool
        Whether the test randomises at the threshold.
    """

    __test__ = False  # not a pytest test class, despite its name

    n: Any
    cutoff: Any
    gamma: Any
    alpha: Any
    log_beta: Any
    randomised: bool

    @property
    def beta(self) -> Any:
        """β_N = Q^N(say "P"), the probability of missing Q (0.0 once it underflows)."""
        return (
            np.exp(self.log_beta)
            if isinstance(self.log_beta, np.ndarray)
            else math.exp(self.log_beta)
        )

    @property
    def exponent(self) -> Any:
        """The error exponent −(1/N) log β_N in nats per flip; tends to KL(P‖Q)."""
        return -self.log_beta / self.n


def _one_test(
    n: int, p: float, q: float, alpha: float, randomised: bool
) -> tuple[int, float, float, float]:
    """Cutoff, gamma, attained alpha and log beta for one n, with p > q."""
    log_p = binomial_log_pmf(n, p)
    log_q = binomial_log_pmf(n, q)
    log_cdf_p = np.logaddexp.accumulate(log_p)  # log P(K ≤ k)
    # The cutoff c is the first head count with P(K ≤ c) ≥ alpha, so that
    # P(K < c) < alpha ≤ P(K ≤ c): saying "Q" for every k < c is allowed, and
    # saying it at k = c as well would be too often, unless exactly alpha.
    c = int(np.searchsorted(log_cdf_p, math.log(alpha), side="left"))
    c = min(c, n)  # rounding in the cumulative sum cannot push c past n
    below = math.exp(log_cdf_p[c - 1]) if c > 0 else 0.0  # P(K < c)
    at = math.exp(log_p[c])  # P(K = c)
    if randomised:
        gamma = min(1.0, (alpha - below) / at)  # fills alpha exactly
    else:
        gamma = 1.0 if below + at <= alpha * (1 + _LEVEL_RTOL) else 0.0
    size = below + gamma * at
    # β = Q(K > c) + (1 − γ) Q(K = c)
    above = _log_sum(log_q[c + 1 :])
    at_c = math.log1p(-gamma) + float(log_q[c]) if gamma < 1 else -math.inf
    return c, gamma, size, float(np.logaddexp(above, at_c))


def likelihood_ratio_test(
    n: int | ArrayLike, p: float, q: float, alpha: float, *, randomised: bool = False
) -> TestErrors:
    """Error probabilities of the likelihood-ratio test of P against Q with size at most alpha.

    The log-likelihood ratio log P^N(x)/Q^N(x) = k log(p/q) + (N − k)
    log((1 − p)/(1 − q)) is monotone in the number of heads k, so thresholding
    it means cutting the head counts. The test protects P: it says "Q" only
    for head counts that are unlikely under P, as many as it can while
    α_N = P^N(say "Q") stays at most ``alpha``.

    * ``randomised=False``: the **likelihood-ratio threshold test**. Head
      counts are whole numbers, so its size is usually below ``alpha``. By
      the Neyman–Pearson lemma it is the most powerful test among those whose
      size is at most its own size (not at most ``alpha``).
    * ``randomised=True``: the **Neyman–Pearson test**. At the threshold
      count it says "Q" with the probability ``gamma`` that makes its size
      exactly ``alpha``; it is the most powerful of all tests, randomised or
      not, of size at most ``alpha`` (smallest β_N).

    Parameters
    ----------
    n : int or array_like of int
        Number of flips N ≥ 1; an array gives one test per entry.
    p, q : float
        Heads probabilities of P (protected by ``alpha``) and Q, each strictly
        between 0 and 1, and different.
    alpha : float
        The largest allowed α_N, strictly between 0 and 1.
    randomised : bool, default False
        Whether the test may randomise at the threshold.

    Returns
    -------
    TestErrors
        The cutoff, randomisation, α_N, log β_N and the exponent
        −(1/N) log β_N, as scalars for a scalar ``n``.

    Raises
    ------
    ValueError
        If ``n`` is not a positive integer (or 1-d array of them), ``p`` or
        ``q`` is not in (0, 1), p = q (the coins cannot be told apart), or
        ``alpha`` is not in (0, 1).

    See Also
    --------
    best_deterministic_test : the best test that does not randomise (small N).
    sign_rule_errors : the rule that weighs both errors equally.

    Notes
    -----
    The sums are done in logs over the binomial probabilities of every head
    count (:func:`binomial_log_pmf`), so the cost is proportional to N for
    each N asked for, and β_N is exact far below the smallest float.

    Examples
    --------
    >>> from klbook import likelihood_ratio_test
    >>> t = likelihood_ratio_test(15, 0.7, 0.4, 0.05)  # says "Q" for k < 7
    >>> t.cutoff, round(t.alpha, 4), round(t.beta, 4), round(t.exponent, 4)
    (7, 0.0152, 0.3902, 0.0627)
    >>> np_test = likelihood_ratio_test(15, 0.7, 0.4, 0.05, randomised=True)
    >>> round(np_test.alpha, 12), round(np_test.gamma, 4), round(np_test.exponent, 4)
    (0.05, 0.9996, 0.103)
    >>> big = likelihood_ratio_test([1_000, 100_000], 0.7, 0.4, 0.05, randomised=True)
    >>> big.exponent.round(4).tolist(), big.beta[1]  # β underflows, its log does not
    ([0.1588, 0.1809], np.float64(0.0))
    """
    scalar = np.ndim(n) == 0
    ns = _flip_counts(n)
    pf, qf = _open_coin(p, "p"), _open_coin(q, "q")
    if pf == qf:
        raise ValueError(f"p and q must differ, got p = q = {pf}: no test can tell them apart")
    level = _level(alpha)
    if not isinstance(randomised, bool):
        raise ValueError(f"randomised must be True or False, got {randomised!r}")
    # With p < q few heads favour P: count tails instead (k → N − k), so the
    # test always says "Q" below its cutoff in the counts it works with.
    flip = pf < qf
    pw, qw = (1 - pf, 1 - qf) if flip else (pf, qf)
    rows = [_one_test(int(m), pw, qw, level, randomised) for m in ns]
    cutoff = np.array([r[0] for r in rows], dtype=np.int64)
    if flip:
        cutoff = ns - cutoff
    return TestErrors(
        n=_shaped(ns, scalar),
        cutoff=_shaped(cutoff, scalar),
        gamma=_shaped(np.array([r[1] for r in rows]), scalar),
        alpha=_shaped(np.array([r[2] for r in rows]), scalar),
        log_beta=_shaped(np.array([r[3] for r in rows]), scalar),
        randomised=randomised,
    )


@dataclass(frozen=True, eq=False)
class DeterministicTest:
    """A test that says "Q" exactly for the head counts in ``say_q``.

    Attributes
    ----------
    n : int
        Number of flips.
    say_q : tuple of int
        The head counts for which the test says "Q" (in increasing order).
    alpha : float
        α_N = P^N(K ∈ say_q).
    beta : float
        β_N = Q^N(K ∉ say_q).
    """

    n: int
    say_q: tuple[int, ...]
    alpha: float
    beta: float

    @property
    def exponent(self) -> float:
        """The error exponent −(1/N) log β_N in nats per flip."""
        return -math.log(self.beta) / self.n


def best_deterministic_test(n: int, p: float, q: float, alpha: float) -> DeterministicTest:
    """Find the most powerful non-randomised test of size at most alpha by trying every set.

    A test that does not randomise is a set S of head counts for which it
    says "Q". Among all 2^(N+1) sets with α = P^N(K ∈ S) ≤ ``alpha`` this
    returns the one with the smallest β = Q^N(K ∉ S). It is often not a
    threshold set: skipping one head count with much probability under P
    can leave room for several that Q favours more. (This is a knapsack
    problem; trying every set is fine for the small N it is meant for.)

    Parameters
    ----------
    n : int
        Number of flips, 1 ≤ n ≤ :data:`MAX_DETERMINISTIC_FLIPS`.
    p, q : float
        Heads probabilities of P and Q, strictly between 0 and 1.
    alpha : float
        The largest allowed α, strictly between 0 and 1.

    Returns
    -------
    DeterministicTest
        The set, its α and β. Among equally good sets, the one with the
        smallest α; among sets with the same α as well, the first in binary
        order (smallest Σ 2^k over its head counts k), so a head count whose
        probability is 0.0 under both coins (below the float range) is left out.

    Raises
    ------
    ValueError
        If ``n`` is not an integer in 1..20, ``p`` or ``q`` is not in (0, 1),
        or ``alpha`` is not in (0, 1).

    See Also
    --------
    likelihood_ratio_test : the threshold test and the randomised Neyman–Pearson test.

    Examples
    --------
    >>> from klbook import best_deterministic_test
    >>> t = best_deterministic_test(15, 0.7, 0.4, 0.05)
    >>> t.say_q, round(t.alpha, 4), round(t.beta, 4), round(t.exponent, 4)
    ((0, 1, 2, 4, 5, 6, 7), 0.0499, 0.2765, 0.0857)
    """
    n = _flip_count(n)
    if n > MAX_DETERMINISTIC_FLIPS:
        raise ValueError(
            f"n must be at most {MAX_DETERMINISTIC_FLIPS} (every one of the 2^(n+1) sets of "
            f"head counts is tried), got {n}"
        )
    pmf_p = np.exp(binomial_log_pmf(n, _open_coin(p, "p")))
    pmf_q = np.exp(binomial_log_pmf(n, _open_coin(q, "q")))
    level = _level(alpha)
    counts = np.arange(n + 1)
    best: tuple[float, float, int] = (math.inf, math.inf, 0)  # (beta, alpha, set as bits)
    for start in range(0, 2 ** (n + 1), _SUBSETS_PER_BLOCK):
        sets = np.arange(start, min(start + _SUBSETS_PER_BLOCK, 2 ** (n + 1)))
        member = ((sets[:, None] >> counts) & 1).astype(np.float64)  # row: one set S
        alphas = member @ pmf_p
        betas = (1.0 - member) @ pmf_q  # Q(K ∉ S), summed directly: no 1 − Q(S) cancellation
        # the empty set is always allowed; a size equal to alpha up to rounding too
        allowed = np.flatnonzero(alphas <= level * (1 + _LEVEL_RTOL))
        if allowed.size == 0:
            continue
        order = np.lexsort((alphas[allowed], betas[allowed]))[0]
        j = allowed[order]
        if (betas[j], alphas[j]) < best[:2]:
            best = (float(betas[j]), float(alphas[j]), int(sets[j]))
    say_q = tuple(int(k) for k in counts if (best[2] >> k) & 1)
    return DeterministicTest(n=n, say_q=say_q, alpha=best[1], beta=best[0])


# ------------------------------------------------- chapter 1's sign rule


@dataclass(frozen=True, eq=False)
class SignRuleErrors:
    """Error probabilities of the sign rule (chapter 1) after ``n`` flips.

    The rule says "P" when log P^N(x)/Q^N(x) > 0, "Q" when it is < 0, and
    tosses a fair coin when it is 0. Fields are Python scalars for a scalar
    ``n``, arrays otherwise.

    Attributes
    ----------
    n : int or ndarray of int64
        Number of flips.
    log_error_p : float or ndarray
        log of P^N(the rule says "Q"), ties counted half (nats).
    log_error_q : float or ndarray
        log of Q^N(the rule says "P"), ties counted half.
    """

    n: Any
    log_error_p: Any
    log_error_q: Any

    @property
    def log_error(self) -> Any:
        """Log of the average error ½ (error from P + error from Q): equal prior odds."""
        out = np.logaddexp(self.log_error_p, self.log_error_q) - math.log(2)
        return float(out) if np.ndim(out) == 0 else out

    @property
    def accuracy_p(self) -> Any:
        """Probability that the rule is right when the flips come from P."""
        out = -np.expm1(self.log_error_p)
        return float(out) if np.ndim(out) == 0 else out

    @property
    def accuracy_q(self) -> Any:
        """Probability that the rule is right when the flips come from Q."""
        out = -np.expm1(self.log_error_q)
        return float(out) if np.ndim(out) == 0 else out

    @property
    def exponent(self) -> Any:
        """−(1/N) log of the average error, in nats per flip; tends to the Chernoff information."""
        return -self.log_error / self.n


def sign_rule_errors(n: int | ArrayLike, p: float, q: float) -> SignRuleErrors:
    """Exact error probabilities of deciding between two coins by the sign of the log ratio.

    With λ(k) = k log(p/q) + (N − k) log((1 − p)/(1 − q)) the log ratio of a
    sequence with k heads,

        error from P = P(λ < 0) + ½ P(λ = 0),
        error from Q = Q(λ > 0) + ½ Q(λ = 0),

    binomial sums done in logs. A tie λ = 0 needs a whole number of heads at
    the crossing point (for example k = N/2 when q = 1 − p); it is detected
    up to rounding (|λ| ≤ 10⁻¹² · N · (|log(p/q)| + |log((1−p)/(1−q))|)).
    With equal prior odds this rule has the smallest average error of all
    rules, and both errors decay like e^(−N C), C the Chernoff information.

    Parameters
    ----------
    n : int or array_like of int
        Number of flips N ≥ 1.
    p, q : float
        Heads probabilities of the two coins, strictly between 0 and 1.

    Returns
    -------
    SignRuleErrors
        log of each error, with the average error, accuracies and exponent.

    Raises
    ------
    ValueError
        If ``n`` is not a positive integer (or 1-d array of them), or ``p`` or
        ``q`` is not in (0, 1).

    See Also
    --------
    chernoff_information : the rate at which these errors decay.

    Examples
    --------
    >>> from klbook import sign_rule_errors
    >>> e = sign_rule_errors(20, 0.7, 0.5)  # chapter 1's coins
    >>> round(e.accuracy_p, 4), round(e.accuracy_q, 4)
    (0.7723, 0.8684)
    >>> sign_rule_errors(2, 0.7, 0.3).accuracy_p  # a tie at k = 1, broken by a fair coin
    0.7
    >>> round(sign_rule_errors(100_000, 0.7, 0.5).exponent, 4)  # C = 0.0213
    0.0214
    """
    scalar = np.ndim(n) == 0
    ns = _flip_counts(n)
    pf, qf = _open_coin(p, "p"), _open_coin(q, "q")
    # log-likelihood ratio of one head and of one tail, accurate when p ≈ q
    heads, tails = np.asarray(log_likelihood_ratio(np.array([1, 0]), 1, pf, qf), dtype=np.float64)
    scale = abs(heads) + abs(tails)
    log_half = math.log(0.5)
    # log k! for every k needed, once: the binomial coefficients of all n from it
    log_factorial = gammaln(np.arange(int(ns.max()) + 1) + 1.0)
    err_p, err_q = [], []
    for m in ns:
        m = int(m)
        k = np.arange(m + 1)
        llr = k * heads + (m - k) * tails
        tie = np.abs(llr) <= 1e-12 * m * scale
        log_choose = log_factorial[m] - log_factorial[k] - log_factorial[m - k]
        log_p = log_choose + k * math.log(pf) + (m - k) * math.log1p(-pf)
        log_q = log_choose + k * math.log(qf) + (m - k) * math.log1p(-qf)
        err_p.append(
            np.logaddexp(_log_sum(log_p[(llr < 0) & ~tie]), log_half + _log_sum(log_p[tie]))
        )
        err_q.append(
            np.logaddexp(_log_sum(log_q[(llr > 0) & ~tie]), log_half + _log_sum(log_q[tie]))
        )
    return SignRuleErrors(
        n=_shaped(ns, scalar),
        log_error_p=_shaped(np.array(err_p, dtype=np.float64), scalar),
        log_error_q=_shaped(np.array(err_q, dtype=np.float64), scalar),
    )


# ------------------------------------------------ the Chernoff information


class ChernoffInformation(NamedTuple):
    """The Chernoff information of two distributions and the λ that attains it."""

    information: float
    """C = −min over λ in [0, 1] of log Σ_x P(x)^λ Q(x)^(1−λ)."""
    lam: float
    """The minimising λ."""


def chernoff_information(
    p: ArrayLike, q: ArrayLike, *, base: float | None = None
) -> ChernoffInformation:
    """Chernoff information C(P, Q) = −min_{0≤λ≤1} log Σ_x P(x)^λ Q(x)^(1−λ).

    It is the rate at which the smallest average error of deciding between
    P and Q (equal prior odds: both errors weighed equally) decays,
    e^(−N C) up to factors slower than exponential. It is symmetric in P and
    Q and smaller than both KL(P‖Q) and KL(Q‖P). At the minimising λ* the
    tilted distribution P_λ* ∝ P^λ* Q^(1−λ*) is equally far from both:
    C = KL(P_λ*‖P) = KL(P_λ*‖Q).

    Parameters
    ----------
    p, q : array_like
        Two probability vectors over the same outcomes (1-d).
    base : float, optional
        Logarithm base; natural log (nats) when omitted.

    Returns
    -------
    ChernoffInformation
        ``information`` (C, ≥ 0; ``inf`` when P and Q share no outcome) and
        ``lam`` (λ*; 0.5 when every λ is as good: P = Q, disjoint supports,
        or P and Q equal on the outcomes they share).

    Raises
    ------
    ValueError
        If ``p`` or ``q`` is not a single probability vector, they have
        different numbers of outcomes, or ``base`` is invalid.

    Notes
    -----
    The sum runs over the outcomes both distributions can produce (an
    outcome only one of them produces gives the decision away, and adds
    nothing at any λ strictly between 0 and 1); log Σ P^λ Q^(1−λ) is convex
    in λ, so its slope, E[log P/Q] under the tilted distribution, increases,
    and bisection finds where the slope is zero.

    Examples
    --------
    >>> from klbook import chernoff_information
    >>> c = chernoff_information([0.7, 0.3], [0.5, 0.5])  # chapter 1's coins
    >>> round(c.information, 4), round(c.lam, 3)
    (0.0213, 0.493)
    >>> chernoff_information([0.5, 0.5], [0.5, 0.5])
    ChernoffInformation(information=0.0, lam=0.5)
    >>> chernoff_information([1.0, 0.0], [0.0, 1.0]).information
    inf
    """
    scale = log_base(base)
    pa, qa, _, _, _ = distribution_pair(p, q, -1)
    if pa.ndim != 1 or qa.ndim != 1:
        raise ValueError(
            f"p and q must be single probability vectors, got shapes {pa.shape} and {qa.shape}"
        )
    common = (pa > 0) & (qa > 0)
    if not common.any():
        return ChernoffInformation(math.inf, 0.5)
    log_p, log_q = np.log(pa[common]), np.log(qa[common])
    if np.array_equal(log_p, log_q):
        # P and Q agree on every outcome they share, so Σ P^λ Q^(1−λ) = P(shared) for
        # every λ: every λ is as good, and C = −log P(shared), 0 when P = Q.
        shares_all = common.sum() == np.count_nonzero(pa)
        information = 0.0 if shares_all else -math.log(math.fsum(pa[common])) / scale
        return ChernoffInformation(information, 0.5)

    def log_affinity(lam: float) -> float:
        """Return log Σ P^λ Q^(1−λ) over the shared outcomes (convex in λ)."""
        return float(logsumexp(lam * log_p + (1 - lam) * log_q))

    def slope(lam: float) -> float:
        """Return its derivative, E[log P/Q] under the tilted P_λ ∝ P^λ Q^(1−λ)."""
        tilted = softmax(lam * log_p + (1 - lam) * log_q)
        return float(np.dot(tilted, log_p - log_q))

    # A convex function's slope increases: bisect for the λ where it crosses 0
    # (or stop at an end of [0, 1] where it does not).
    if slope(0.0) >= 0:
        lam = 0.0
    elif slope(1.0) <= 0:
        lam = 1.0
    else:
        lo, hi = 0.0, 1.0
        for _ in range(60):  # 2^-60: λ to the last bit of a double
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if slope(mid) < 0 else (lo, mid)
        lam = 0.5 * (lo + hi)
    return ChernoffInformation(max(0.0, -log_affinity(lam)) / scale, lam)


# ------------------------------------------------------- the typical set


@dataclass(frozen=True, eq=False)
class TypicalSet:
    """The typical set of P for ``n`` flips, and its size and probabilities.

    The typical set A is the set of sequences x whose probability under P is
    within a factor e^(±N ε) of e^(−N H(P)):
    |−(1/N) log P^N(x) − H(P)| ≤ ε. For a coin that depends on x only
    through its number of heads, so A is every sequence with a head count in
    ``heads_min``..``heads_max`` (an empty A has ``heads_min = 1`` and
    ``heads_max = 0``).

    Attributes
    ----------
    n : int
        Number of flips.
    eps : float
        The tolerance ε in nats.
    heads_min, heads_max : int
        The range of head counts in A.
    log_size : float
        log of the number of sequences in A (nats); −inf if A is empty.
    log_prob_p : float
        log P^N(A): tends to 0 (P^N(A) → 1) as n grows, for fixed ε.
    log_prob_q : float
        log Q^N(A): about −N KL(P‖Q) for small ε.
    """

    n: int
    eps: float
    heads_min: int
    heads_max: int
    log_size: float
    log_prob_p: float
    log_prob_q: float


def typical_set(n: int, p: float, q: float, eps: float) -> TypicalSet:
    """Count the typical set of N flips of coin P exactly, with its probability under Q.

    Every sequence x in A = {x : |−(1/N) log P^N(x) − H(P)| ≤ ε} has
    P^N(x) ≈ e^(−N H(P)); there are about e^(N H(P)) of them; and together
    they carry almost all of P's probability once N is large (Cover and
    Thomas, ch. 3). Under another coin Q the same sequences each have
    probability about e^(−N H(P, Q)), so Q^N(A) ≈ e^(N H(P)) e^(−N H(P, Q))
    = e^(−N KL(P‖Q)) for small ε.

    Parameters
    ----------
    n : int
        Number of flips N ≥ 1.
    p, q : float
        Heads probabilities of P (which defines the set) and Q, strictly
        between 0 and 1.
    eps : float
        The tolerance ε ≥ 0 in nats.

    Returns
    -------
    TypicalSet
        The head counts in A, log |A|, log P^N(A) and log Q^N(A).

    Raises
    ------
    ValueError
        If ``n`` is not a positive integer, ``p`` or ``q`` is not in (0, 1), or
        ``eps`` is negative or not a finite number.

    Examples
    --------
    >>> import math
    >>> from klbook import typical_set
    >>> a = typical_set(1_000, 0.7, 0.4, 0.05)
    >>> a.heads_min, a.heads_max, round(math.exp(a.log_prob_p), 4)
    (641, 759, 1.0)
    >>> round(a.log_size / 1_000, 4), round(-a.log_prob_q / 1_000, 4)  # H(P) + eps = 0.6609
    (0.65, 0.1211)
    >>> typical_set(10, 0.5, 0.4, 0.0).heads_max  # a fair coin: every sequence is typical
    10
    """
    n = _flip_count(n)
    pf, qf = _open_coin(p, "p"), _open_coin(q, "q")
    if isinstance(eps, bool) or not isinstance(eps, Real) or not math.isfinite(eps) or eps < 0:
        raise ValueError(f"eps must be a finite number >= 0, got {eps!r}")
    k = np.arange(n + 1)
    per_flip = -np.asarray(sequence_log_prob(k, n, pf), dtype=np.float64) / n
    entropy = float(binary_entropy(pf))
    # A tolerance for rounding, 1e-12 nats (a coin's entropy is at most log 2, so
    # no relative scale is needed), so that the fair coin's sequences (all exactly
    # e^(−N log 2)) are all typical at eps = 0.
    inside = np.abs(per_flip - entropy) <= float(eps) + 1e-12
    members = k[inside]
    if members.size == 0:
        return TypicalSet(n, float(eps), 1, 0, -math.inf, -math.inf, -math.inf)
    log_choose = gammaln(n + 1) - gammaln(members + 1) - gammaln(n - members + 1)
    return TypicalSet(
        n=n,
        eps=float(eps),
        heads_min=int(members.min()),
        heads_max=int(members.max()),
        log_size=_log_sum(log_choose),
        log_prob_p=min(0.0, _log_sum(binomial_log_pmf(n, pf)[inside])),
        log_prob_q=min(0.0, _log_sum(binomial_log_pmf(n, qf)[inside])),
    )
