"""Exact steady-state queueing formulas: Erlang B, Erlang C and Erlang A.

Only the standard library (:mod:`math`) is used.  Every formula is evaluated
with recursions or in log space, so nothing overflows or underflows
harmfully for large systems (the tests go up to 5,000 servers).

Notation used throughout
------------------------
``n``
    number of servers (agents, lines).
``lam``
    arrival rate, calls per second.
``mu = 1 / mean_service_s``
    service rate of one server.
``a = lam / mu``
    offered load in Erlangs.
``theta = 1 / mean_patience_s``
    abandonment rate of one waiting caller (Erlang A only).

Erlang B (M/M/n/n)
    ``B(0) = 1``, ``B(k) = a B(k-1) / (k + a B(k-1))``.
Erlang C (M/M/n)
    ``C = n B / (n - a (1 - B))`` for ``a < n``, else ``1``.  The waiting time
    satisfies ``P(W <= t) = 1 - C exp(-(n mu - lam) t)`` and
    ``E[W] = C / (n mu - lam)``.
Erlang A (M/M/n+M)
    Birth-death chain with birth rate ``lam`` and death rate ``min(j, n) mu +
    max(j - n, 0) theta``.  Relative to state ``n`` the stationary
    probabilities are ``1/B - 1`` in total for ``j < n`` (the Erlang B sum)
    and ``r_m = prod_{i=1..m} lam / (n mu + i theta)`` for ``j = n + m``.  The
    series is summed in log space until the remainder is below ``1e-17`` of
    its largest term.  See :func:`erlang_a` for the waiting-time law.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from numbers import Real

__all__ = [
    "ErlangAResult",
    "erlang_a",
    "erlang_a_agents",
    "erlang_b",
    "erlang_b_lines",
    "erlang_c",
    "erlang_c_agents",
    "erlang_c_asa",
    "erlang_c_service_level",
]

#: Relative size below which the tail of the Erlang A queue series is dropped.
_REL_TOL = 1e-17
_LOG_REL_TOL = math.log(_REL_TOL)
#: Hard cap on the number of queue states summed by :func:`erlang_a`.
_MAX_TERMS = 1_000_000


# --------------------------------------------------------------------------
# input validation
# --------------------------------------------------------------------------
#: The formulas size at most this many servers (agents or lines); every loop is bounded by it, so
#: each function ends quickly on any finite input and refuses a larger one with a clear error.
MAX_SERVERS = 1_000_000


def _int_arg(value, name: str, minimum: int, maximum: int = MAX_SERVERS) -> int:
    """Return ``value`` as an int from ``minimum`` to ``maximum`` or raise."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an integer, got bool {value!r}")
    try:
        n = operator.index(value)
    except TypeError:
        if not isinstance(value, Real):
            raise TypeError(
                f"{name} must be an integer, got {type(value).__name__}"
            ) from None
        x = float(value)
        if math.isnan(x):
            raise ValueError(f"{name} must be an integer, got NaN") from None
        if not math.isfinite(x) or not x.is_integer():
            raise ValueError(f"{name} must be a whole number, got {value!r}") from None
        n = int(x)
    if n < minimum:
        if n < 0:
            reason = "is negative"
        elif n == 0:
            reason = "is zero"
        else:
            reason = f"is below {minimum}"
        raise ValueError(f"{name} must be >= {minimum}, got {n} ({name} {reason})")
    if n > maximum:
        raise ValueError(f"{name} must be at most {maximum:,}, got {n:,}")
    return n


def _real_arg(value, name: str) -> float:
    """Return ``value`` as a float that is not NaN, or raise."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    x = float(value)
    if math.isnan(x):
        raise ValueError(f"{name} must be a number, got NaN")
    return x


def _nonneg_arg(value, name: str, allow_inf: bool = False) -> float:
    x = _real_arg(value, name)
    if x < 0:
        raise ValueError(f"{name} must be non-negative, got {x!r}")
    if math.isinf(x) and not allow_inf:
        raise ValueError(f"{name} must be finite, got {x!r}")
    return x


def _positive_arg(value, name: str, allow_inf: bool = False) -> float:
    x = _real_arg(value, name)
    if x <= 0:
        reason = "zero" if x == 0 else "negative"
        raise ValueError(f"{name} must be positive, got {x!r} ({reason})")
    if math.isinf(x) and not allow_inf:
        raise ValueError(f"{name} must be finite, got {x!r}")
    return x


def _open_unit_arg(value, name: str) -> float:
    x = _real_arg(value, name)
    if not 0.0 < x < 1.0:
        raise ValueError(f"{name} must be strictly between 0 and 1, got {x!r}")
    return x


def _offered_load(lam: float, s: float) -> float:
    a = lam * s
    if math.isinf(a):
        raise ValueError(
            f"offered load arrival_rate * mean_service_s overflows ({lam!r} * {s!r})"
        )
    return _check_load(a, "offered load arrival_rate * mean_service_s")


def _check_load(a: float, what: str) -> float:
    if a > MAX_SERVERS / 2:
        raise ValueError(f"{what} is {a:.3g} Erlangs, beyond what these formulas size (at most "
                         f"{MAX_SERVERS:,} servers); check the rates and times")
    return a


def _past_max(n: int) -> None:
    if n > MAX_SERVERS:
        raise ValueError(f"no number of servers up to {MAX_SERVERS:,} meets the target")


# --------------------------------------------------------------------------
# kernels (no validation)
# --------------------------------------------------------------------------
def _erlang_b(n: int, a: float) -> float:
    """Erlang B by the stable forward recursion (``n >= 0``, ``a >= 0``)."""
    b = 1.0
    for k in range(1, n + 1):
        ab = a * b
        b = ab / (k + ab)
    return b


def _erlang_c_from_b(n: int, a: float, b: float) -> float:
    if a >= n:
        return 1.0
    return min(1.0, n * b / (n - a * (1.0 - b)))


def _exp_capped(x: float) -> float:
    """``exp(x)`` that returns ``inf`` instead of raising OverflowError."""
    return math.inf if x > 709.0 else math.exp(x)


# --------------------------------------------------------------------------
# Erlang B / C
# --------------------------------------------------------------------------
def erlang_b(servers: int, offered_erlangs: float) -> float:
    """Blocking probability of the M/M/n/n (Erlang loss) system.

    Evaluated with the recursion ``B(0) = 1``,
    ``B(k) = a B(k-1) / (k + a B(k-1))``, which never overflows.

    Parameters
    ----------
    servers : int
        Number of servers (lines) ``n``.  Zero is allowed and gives ``1.0``
        (every call is blocked).
    offered_erlangs : float
        Offered load ``a = arrival rate * mean holding time`` in Erlangs,
        finite and non-negative.

    Returns
    -------
    float
        Probability that an arriving call finds all ``n`` servers busy and is
        lost, in ``[0, 1]``.

    Raises
    ------
    ValueError
        If ``servers`` is negative or not a whole number, or if
        ``offered_erlangs`` is negative, infinite or NaN.
    TypeError
        If an argument is not a number.

    Examples
    --------
    >>> round(erlang_b(10, 5.0), 6)
    0.018385
    >>> erlang_b(1, 1.0)
    0.5
    >>> erlang_b(5000, 4500.0) < 1e-3
    True
    """
    n = _int_arg(servers, "servers", 0)
    a = _nonneg_arg(offered_erlangs, "offered_erlangs")
    return _erlang_b(n, a)


def erlang_c(servers: int, offered_erlangs: float) -> float:
    """Probability that an arriving call has to wait in an M/M/n queue.

    Uses ``C = n B / (n - a (1 - B))`` with ``B`` the Erlang B value, which is
    stable for any ``n``.  When ``offered_erlangs >= servers`` the queue is
    unstable and every call waits, so ``1.0`` is returned.

    Parameters
    ----------
    servers : int
        Number of agents ``n``, at least 1.
    offered_erlangs : float
        Offered load ``a`` in Erlangs, finite and non-negative.

    Returns
    -------
    float
        ``P(W > 0)`` in ``[0, 1]``.

    Raises
    ------
    ValueError
        If ``servers`` is zero, negative or not a whole number, or if
        ``offered_erlangs`` is negative, infinite or NaN.
    TypeError
        If an argument is not a number.

    Examples
    --------
    >>> round(erlang_c(14, 10.0), 4)
    0.1741
    >>> erlang_c(10, 10.0)
    1.0
    """
    n = _int_arg(servers, "servers", 1)
    a = _nonneg_arg(offered_erlangs, "offered_erlangs")
    if a >= n:
        return 1.0
    return _erlang_c_from_b(n, a, _erlang_b(n, a))


def erlang_c_service_level(
    servers: int, arrival_rate: float, mean_service_s: float, threshold_s: float
) -> float:
    """Fraction of calls answered within ``threshold_s`` in an M/M/n queue.

    ``P(W <= t) = 1 - C exp(-(n mu - lam) t)`` with ``mu = 1/mean_service_s``.
    An unstable queue (``lam >= n mu``) has service level ``0.0``.

    Parameters
    ----------
    servers : int
        Number of agents ``n``, at least 1.
    arrival_rate : float
        Calls per second ``lam``, finite and non-negative.
    mean_service_s : float
        Mean handling time in seconds, finite and positive.
    threshold_s : float
        Service-level threshold ``t`` in seconds, non-negative (``inf``
        allowed).

    Returns
    -------
    float
        ``P(W <= threshold_s)`` in ``[0, 1]``.

    Raises
    ------
    ValueError
        If a parameter is NaN, negative, zero where a positive value is
        needed, or infinite where a finite value is needed.
    TypeError
        If an argument is not a number.

    Examples
    --------
    100 calls per 30 minutes, 3-minute handling time, 20-second threshold:

    >>> round(erlang_c_service_level(14, 100 / 1800, 180.0, 20.0), 4)
    0.8884
    >>> round(erlang_c_service_level(13, 100 / 1800, 180.0, 20.0), 4)
    0.7956
    """
    n = _int_arg(servers, "servers", 1)
    lam = _nonneg_arg(arrival_rate, "arrival_rate")
    s = _positive_arg(mean_service_s, "mean_service_s")
    t = _nonneg_arg(threshold_s, "threshold_s", allow_inf=True)
    a = _offered_load(lam, s)
    if lam == 0.0:
        return 1.0
    if a >= n:
        return 0.0
    c = _erlang_c_from_b(n, a, _erlang_b(n, a))
    return _erlang_c_sl(n, lam, 1.0 / s, c, t)


def _erlang_c_sl(n: int, lam: float, mu: float, c: float, t: float) -> float:
    return min(1.0, max(0.0, 1.0 - c * math.exp(-(n * mu - lam) * t)))


def erlang_c_asa(servers: int, arrival_rate: float, mean_service_s: float) -> float:
    """Average speed of answer of an M/M/n queue (mean wait over all calls).

    ``E[W] = C / (n mu - lam)``; ``math.inf`` when ``lam >= n mu``.

    Parameters
    ----------
    servers : int
        Number of agents ``n``, at least 1.
    arrival_rate : float
        Calls per second, finite and non-negative.
    mean_service_s : float
        Mean handling time in seconds, finite and positive.

    Returns
    -------
    float
        Mean waiting time in seconds (calls answered at once count as 0).

    Raises
    ------
    ValueError
        If a parameter is NaN, negative, zero where a positive value is
        needed, or infinite.
    TypeError
        If an argument is not a number.

    Examples
    --------
    >>> round(erlang_c_asa(14, 100 / 1800, 180.0), 2)
    7.84
    >>> erlang_c_asa(10, 100 / 1800, 180.0)
    inf
    """
    n = _int_arg(servers, "servers", 1)
    lam = _nonneg_arg(arrival_rate, "arrival_rate")
    s = _positive_arg(mean_service_s, "mean_service_s")
    if lam == 0.0:
        return 0.0
    a = _offered_load(lam, s)
    if a >= n:
        return math.inf
    c = _erlang_c_from_b(n, a, _erlang_b(n, a))
    return c / (n / s - lam)


# --------------------------------------------------------------------------
# Erlang A
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class ErlangAResult:
    """Steady-state performance of an M/M/n+M (Erlang A) queue.

    All fractions are over *all* arriving calls unless stated otherwise.

    Attributes
    ----------
    p_wait : float
        Probability that an arriving call finds every agent busy and waits.
    abandon_rate : float
        Fraction of arriving calls that hang up before being answered.
    service_level : float
        Fraction of arriving calls that are answered after waiting at most
        ``threshold_s``, i.e. ``P(answered and W <= t)``.  Abandoned calls
        count as failures, whatever their wait was.
    asa_s : float
        Mean wait, in seconds, of the calls that are answered.
    mean_wait_s : float
        Mean time in queue, in seconds, over all calls (answered and
        abandoned; calls answered at once count as 0).
    occupancy : float
        Mean number of busy agents divided by ``n``.
    """

    p_wait: float
    abandon_rate: float
    service_level: float
    asa_s: float
    mean_wait_s: float
    occupancy: float


def _clip01(x: float) -> float:
    return min(1.0, max(0.0, x))


def _erlang_a_core(n: int, lam: float, mu: float, theta: float, t: float) -> ErlangAResult:
    """Erlang A for ``n >= 1``, ``lam > 0``, ``mu > 0``, ``theta > 0``."""
    a = lam / mu
    nmu = n * mu
    b = _erlang_b(n, a)

    # Pass 1: log r_m for m = 0, 1, ... with r_m = prod_{i<=m} lam/(n mu + i theta).
    # The ratio lam/(n mu + i theta) decreases in i, so once it is < 1 the
    # tails sum_{k>m} r_k and sum_{k>m} k r_k are bounded by geometric series:
    #   r_m g (m + 2 + g) with g = rho'/(1 - rho'), rho' the next ratio.
    # E[Q] enters the abandonment as theta E[Q] / lam, hence the weight.
    log_weight = math.log(max(1.0, theta / lam))
    logs = [0.0]
    logr = 0.0
    lmax = 0.0
    m = 0
    while True:
        rho_next = lam / (nmu + (m + 1) * theta)
        if rho_next < 1.0:
            g = rho_next / (1.0 - rho_next)
            if logr + math.log(g * (m + 2 + g)) + log_weight < lmax + _LOG_REL_TOL:
                break
        if m >= _MAX_TERMS:
            raise ValueError(
                "erlang_a: the queue-length series did not converge within "
                f"{_MAX_TERMS} terms; mean_patience_s is too long for this "
                "overload (use the Erlang C functions for no abandonment)"
            )
        m += 1
        logr += math.log(rho_next)
        logs.append(logr)
        if logr > lmax:
            lmax = logr

    # Mass of the states j < n relative to the scaled weight of state n
    # (scaled weights are q_m = r_m / exp(lmax)).
    if b <= 0.0:
        lower = math.inf
    elif b >= 1.0:
        lower = 0.0
    else:
        lower = _exp_capped(math.log1p(-b) - math.log(b) - lmax)
    if math.isinf(lower):
        # Queue states carry no probability in double precision.
        return ErlangAResult(
            p_wait=0.0,
            abandon_rate=0.0,
            service_level=1.0,
            asa_s=0.0,
            mean_wait_s=0.0,
            occupancy=_clip01(a / n),
        )

    # Pass 2: all sums over the queue states.  For an arrival that finds
    # n + m in system (m callers waiting ahead of it):
    #   P(answered)                 = n mu / (n mu + (m+1) theta)
    #   wait | answered             ~ sum_{k=1..m+1} Exp(n mu + k theta)
    #   P(answered, wait <= t)      = P(answered) * P(N >= m+1),
    #   N ~ NegBin(size = n mu/theta + 1, success p = 1 - exp(-theta t)),
    # P(N = k) / P(N = k-1) = (k - 1 + size) p / k = p + n mu g / k with
    # g = p / theta, written this way so that tiny theta cannot overflow.
    finite_t = 0.0 < t < math.inf
    if finite_t:
        x = theta * t
        p = -math.expm1(-x)
        g = t * (1.0 - 0.5 * x) if x < 1e-10 else p / theta
        if p == 0.0 and g == 0.0:
            finite_t = False  # t is so small that P(N >= 1) is 0.0
        log_pmf = -(nmu + theta) * t  # log P(N = 0)
        tail = -math.expm1(-(nmu + theta) * t)  # P(N >= 1)
    s_all = 0.0  # sum q_m
    s_len = 0.0  # sum m q_m
    s_ans = 0.0  # sum q_m P(ans | m)
    s_ans_wait = 0.0  # sum q_m P(ans | m) E[W | ans, m]
    s_sl = 0.0  # sum q_m P(ans, W <= t | m)
    h = 0.0  # E[W | ans, m] = sum_{k=1..m+1} 1/(n mu + k theta)
    exp = math.exp
    log = math.log
    for m, lr in enumerate(logs):
        q = exp(lr - lmax)
        rate = nmu + (m + 1) * theta
        h += 1.0 / rate
        qa = q * (nmu / rate)
        s_all += q
        s_len += m * q
        s_ans += qa
        s_ans_wait += qa * h
        if finite_t:
            s_sl += qa * tail
            k = m + 1
            ratio = p + nmu * g / k
            log_pmf = log_pmf + log(ratio) if ratio > 0.0 else -math.inf
            tail -= exp(log_pmf)
            if tail < 0.0:
                tail = 0.0
    if t == math.inf:
        s_sl = s_ans

    z = lower + s_all
    p_below = lower / z
    p_wait = s_all / z
    mean_queue = s_len / z
    mean_wait = mean_queue / lam  # Little's law
    abandon = _clip01(theta * mean_queue / lam)  # abandonment flow = theta E[Q]
    answered = p_below + s_ans / z
    asa = (s_ans_wait / z) / answered if answered > 0.0 else math.inf
    return ErlangAResult(
        p_wait=_clip01(p_wait),
        abandon_rate=abandon,
        service_level=_clip01(p_below + s_sl / z),
        asa_s=asa,
        mean_wait_s=mean_wait,
        occupancy=_clip01(a * (1.0 - abandon) / n),  # carried load / n
    )


def erlang_a(
    servers: int,
    arrival_rate: float,
    mean_service_s: float,
    mean_patience_s: float,
    threshold_s: float = 0.0,
) -> ErlangAResult:
    """Exact steady state of the M/M/n+M (Erlang A) queue with abandonment.

    Poisson arrivals at rate ``lam``, ``n`` agents with exponential service
    (rate ``mu = 1/mean_service_s``), FCFS queue, and every waiting caller
    hangs up after an exponential patience with rate
    ``theta = 1/mean_patience_s``.  The queue is stable for any load, so
    ``arrival_rate`` may exceed ``servers / mean_service_s``.

    Method: the stationary law of the birth-death chain is summed exactly in
    log space.  By PASTA an arrival sees state ``n + m`` (``m`` callers
    waiting ahead) with its stationary probability ``pi_{n+m}``.  While the
    tagged caller is at position ``k`` (``k - 1`` ahead of it) the next event
    happens at rate ``n mu + k theta``: a service completion (``n mu``) or an
    abandonment ahead (``(k-1) theta``) moves it forward (into service when
    ``k = 1``), its own abandonment (``theta``) loses it.  Hence

    * ``P(answered | m) = n mu / (n mu + (m + 1) theta)`` (the product
      telescopes);
    * given it is answered, its wait is the sum of independent
      ``Exp(n mu + k theta)``, ``k = 1..m+1``, whose CDF is
      ``P(N >= m + 1)`` for ``N`` negative binomial with size
      ``n mu/theta + 1`` and success probability ``1 - exp(-theta t)``
      (because ``exp(-theta W)`` is Beta(``n mu/theta + 1``, ``m + 1``));
    * ``service_level = P(J < n) + sum_m pi_{n+m} P(answered | m) P(N >= m+1)``
      and ``asa_s = sum_m pi_{n+m} P(answered | m)
      sum_{k=1..m+1} 1/(n mu + k theta) / P(answered)``.

    ``abandon_rate = theta E[Q] / lam`` (flow balance) and
    ``mean_wait_s = E[Q] / lam`` (Little's law); ``occupancy`` is the carried
    load ``a (1 - abandon_rate) / n``.  The NegBin tail is updated by a
    one-step recursion in log space, so the whole evaluation is
    ``O(n + number of queue states)``.

    Parameters
    ----------
    servers : int
        Number of agents ``n``, at least 1.
    arrival_rate : float
        Calls per second, finite and non-negative.
    mean_service_s : float
        Mean handling time in seconds, finite and positive.
    mean_patience_s : float
        Mean patience of a waiting caller in seconds, positive.  ``math.inf``
        means nobody abandons (the Erlang C model; unstable if the load is at
        least ``n``, in which case ``p_wait = 1``, ``service_level = 0`` and
        the waits are ``inf``).
    threshold_s : float, default 0.0
        Service-level threshold in seconds, non-negative (``inf`` allowed).

    Returns
    -------
    ErlangAResult
        ``p_wait``, ``abandon_rate``, ``service_level``, ``asa_s``,
        ``mean_wait_s`` and ``occupancy``.

    Raises
    ------
    ValueError
        If a parameter is NaN, negative, zero where a positive value is
        needed, or infinite where a finite value is needed; if
        ``arrival_rate * mean_service_s`` overflows; or if the queue series
        needs more than one million terms (extremely long patience in a
        heavily overloaded system).
    TypeError
        If an argument is not a number.

    Examples
    --------
    100 calls per 30 minutes, 3-minute handling, 5-minute patience:

    >>> r = erlang_a(12, 100 / 1800, 180.0, 300.0, threshold_s=20.0)
    >>> round(r.service_level, 4), round(r.abandon_rate, 4)
    (0.7723, 0.0427)
    >>> round(r.asa_s, 2), round(r.mean_wait_s, 2), round(r.occupancy, 4)
    (11.86, 12.81, 0.7977)

    Overloaded, yet stable:

    >>> r = erlang_a(8, 100 / 1800, 180.0, 300.0)
    >>> r.p_wait > 0.8, round(r.abandon_rate, 3)
    (True, 0.232)
    """
    n = _int_arg(servers, "servers", 1)
    lam = _nonneg_arg(arrival_rate, "arrival_rate")
    s = _positive_arg(mean_service_s, "mean_service_s")
    patience = _positive_arg(mean_patience_s, "mean_patience_s", allow_inf=True)
    t = _nonneg_arg(threshold_s, "threshold_s", allow_inf=True)
    _offered_load(lam, s)
    if lam == 0.0:
        return ErlangAResult(0.0, 0.0, 1.0, 0.0, 0.0, 0.0)
    mu = 1.0 / s
    if math.isinf(patience):
        a = _offered_load(lam, s)
        if a >= n:
            return ErlangAResult(1.0, 0.0, 0.0, math.inf, math.inf, 1.0)
        c = _erlang_c_from_b(n, a, _erlang_b(n, a))
        asa = c / (n * mu - lam)
        return ErlangAResult(
            p_wait=c,
            abandon_rate=0.0,
            service_level=_erlang_c_sl(n, lam, mu, c, t),
            asa_s=asa,
            mean_wait_s=asa,
            occupancy=_clip01(a / n),
        )
    return _erlang_a_core(n, lam, mu, 1.0 / patience, t)


# --------------------------------------------------------------------------
# sizing
# --------------------------------------------------------------------------
def erlang_c_agents(
    arrival_rate: float,
    mean_service_s: float,
    target_sl: float,
    threshold_s: float,
    max_occupancy: float = 1.0,
) -> int:
    """Smallest number of agents meeting a service level in an M/M/n queue.

    Returns the least ``n`` with
    ``erlang_c_service_level(n, ...) >= target_sl`` and
    ``offered / n <= max_occupancy`` (raw positions, no shrinkage).  The
    search starts at the first stable ``n`` and updates Erlang B by one
    recursion step per candidate.

    Parameters
    ----------
    arrival_rate : float
        Calls per second, finite and non-negative.
    mean_service_s : float
        Mean handling time in seconds, finite and positive.
    target_sl : float
        Required fraction answered within ``threshold_s``, strictly between
        0 and 1.
    threshold_s : float
        Service-level threshold in seconds, non-negative (``inf`` allowed).
    max_occupancy : float, default 1.0
        Upper bound on agent occupancy ``offered / n``, in ``(0, 1]``.

    Returns
    -------
    int
        The minimal number of agents (at least 1).

    Raises
    ------
    ValueError
        If a parameter is NaN, negative, out of range or infinite where a
        finite value is needed.
    TypeError
        If an argument is not a number.

    Examples
    --------
    The classic 100 calls per 30 minutes, AHT 3 minutes, 80/20 case:

    >>> erlang_c_agents(100 / 1800, 180.0, 0.8, 20.0)
    14
    >>> erlang_c_agents(100 / 1800, 180.0, 0.8, 20.0, max_occupancy=0.6)
    17
    """
    lam = _nonneg_arg(arrival_rate, "arrival_rate")
    s = _positive_arg(mean_service_s, "mean_service_s")
    target = _open_unit_arg(target_sl, "target_sl")
    t = _nonneg_arg(threshold_s, "threshold_s", allow_inf=True)
    occ = _real_arg(max_occupancy, "max_occupancy")
    if not 0.0 < occ <= 1.0:
        raise ValueError(f"max_occupancy must be in (0, 1], got {occ!r}")
    a = _offered_load(lam, s)
    if a == 0.0:
        return 1
    mu = 1.0 / s
    n = max(1, math.floor(a) + 1, math.ceil(a / occ) - 1)
    b = _erlang_b(n, a)
    while True:
        if a < n and a / n <= occ:
            c = _erlang_c_from_b(n, a, b)
            if _erlang_c_sl(n, lam, mu, c, t) >= target:
                return n
        n += 1
        _past_max(n)
        ab = a * b
        b = ab / (n + ab)


def erlang_a_agents(
    arrival_rate: float,
    mean_service_s: float,
    mean_patience_s: float,
    target_sl: float,
    threshold_s: float,
    abandon_max: float | None = None,
) -> int:
    """Smallest number of agents meeting a service level in an M/M/n+M queue.

    Returns the least ``n`` whose :func:`erlang_a` result has
    ``service_level >= target_sl`` and, if ``abandon_max`` is given,
    ``abandon_rate <= abandon_max``.  Both measures are monotone in ``n``, so
    the answer is found by doubling followed by bisection.

    Parameters
    ----------
    arrival_rate : float
        Calls per second, finite and non-negative.
    mean_service_s : float
        Mean handling time in seconds, finite and positive.
    mean_patience_s : float
        Mean patience in seconds, positive (``inf``: no abandonment).
    target_sl : float
        Required fraction of all calls answered within ``threshold_s``,
        strictly between 0 and 1.
    threshold_s : float
        Service-level threshold in seconds, non-negative (``inf`` allowed).
    abandon_max : float or None, default None
        Largest acceptable abandonment fraction, strictly between 0 and 1;
        ``None`` for no constraint.

    Returns
    -------
    int
        The minimal number of agents (at least 1).

    Raises
    ------
    ValueError
        If a parameter is NaN, negative, out of range or infinite where a
        finite value is needed.
    TypeError
        If an argument is not a number.

    Examples
    --------
    >>> erlang_a_agents(100 / 1800, 180.0, 300.0, 0.8, 20.0)
    13
    >>> erlang_a_agents(100 / 1800, 180.0, 300.0, 0.5, 20.0, abandon_max=0.02)
    14
    """
    lam = _nonneg_arg(arrival_rate, "arrival_rate")
    s = _positive_arg(mean_service_s, "mean_service_s")
    patience = _positive_arg(mean_patience_s, "mean_patience_s", allow_inf=True)
    target = _open_unit_arg(target_sl, "target_sl")
    t = _nonneg_arg(threshold_s, "threshold_s", allow_inf=True)
    amax = None if abandon_max is None else _open_unit_arg(abandon_max, "abandon_max")
    _offered_load(lam, s)
    if lam == 0.0:
        return 1

    def ok(n: int) -> bool:
        r = erlang_a(n, lam, s, patience, t)
        if r.service_level < target:
            return False
        return amax is None or r.abandon_rate <= amax

    lo = 0  # known to fail (or n = 0, which is invalid)
    hi = max(1, math.ceil(lam * s))
    while not ok(hi):
        _past_max(hi)
        lo, hi = hi, min(2 * hi, MAX_SERVERS + 1)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return hi


def erlang_b_lines(offered_erlangs: float, blocking_max: float) -> int:
    """Smallest number of lines whose Erlang B blocking is at most a target.

    Parameters
    ----------
    offered_erlangs : float
        Offered load in Erlangs, finite and non-negative.
    blocking_max : float
        Largest acceptable blocking probability, strictly between 0 and 1.

    Returns
    -------
    int
        The least ``n >= 1`` with ``erlang_b(n, offered_erlangs) <=
        blocking_max``.

    Raises
    ------
    ValueError
        If ``offered_erlangs`` is negative, infinite or NaN, or
        ``blocking_max`` is not strictly between 0 and 1.
    TypeError
        If an argument is not a number.

    Examples
    --------
    >>> erlang_b_lines(5.0, 0.02)
    10
    >>> erlang_b_lines(5.0, 0.01)
    11
    """
    a = _check_load(_nonneg_arg(offered_erlangs, "offered_erlangs"), "offered_erlangs")
    target = _open_unit_arg(blocking_max, "blocking_max")
    n = 0
    b = 1.0
    while b > target:
        n += 1
        ab = a * b
        b = ab / (n + ab)
    return n
