"""The contract between the Python layers and the two engines: codes, sources, and the statistics layout.

Everything both engines must agree on is written here once: the
distribution codes, the random sources (and so the stream keys), the outcome
codes of the call log, the routing-policy codes, the call-log record, and
the statistics arrays a replication returns (name, shape, dtype, how
replications merge). The kernel's own tables (``simcc/engine/_core.pxd`` and
the dicts ``_core`` exports) mirror the codes; ``tests/engine/test_contract.py``
checks them against this module in both directions, so a code changed on
one side only fails at once.

Shapes use the compiled scenario's dimensions: P intervals, K call types,
L tiers, G groups, W outbound task types, and ``WAIT_BINS``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model.policies import CHOICE_RULES, FILTERS

#: Distribution codes (``D_*`` in _core.pxd). ``never`` is +inf (patience of a caller who never hangs up).
DIST_CODES = {
    "deterministic": 0, "exponential": 1, "uniform": 2, "lognormal": 3,
    "gamma": 4, "weibull": 5, "empirical": 6, "never": 7, "triangular": 8,
}
#: Random sources, in stream-key order (``SRC_*``). Append only: a source's index is its spawn key,
#: so inserting one would change every later stream.
SOURCES = (
    "arrival", "tier", "ivr_time", "ivr_outcome", "menu", "patience",
    "talk", "hold_flag", "hold_time", "acw", "volume",
    "redial", "repeat", "transfer", "callback", "outbound", "balk", "route", "dialer",
)
SOURCE_IDS = {name: i for i, name in enumerate(SOURCES)}
#: Call-log outcome codes (``OUT_*``); public: ``Result.call_logs`` records use them.
OUTCOMES = ("blocked", "contained", "ivr_abandoned", "answered", "abandoned", "callback", "called_back",
            "balked", "message", "disconnected", "queue_full")
OUTCOME_CODES = {name: i for i, name in enumerate(OUTCOMES)}
#: Why an attempt happens (``KIND_*``).
CALL_KINDS = ("first", "redial", "repeat")
#: Which leg of a call an agent serves (``LEG_*``).
LEGS = ("first", "transfer", "outbound")
#: Choice-rule codes (``POL_*``): how a freed agent picks among waiting calls. Filters
#: (overflow, reserve) are flags of their own in the compiled scenario.
CHOICE_CODES = {"priority": 0, "weighted_wait": 1}
FILTER_FLAGS = {"overflow": "use_overflow", "reserve": "use_reserve"}
assert set(CHOICE_CODES) == set(CHOICE_RULES) and set(FILTER_FLAGS) == set(FILTERS), \
    "every routing policy of simcc.model.policies needs its engine code here"
#: What happens to waiting callers at closing (``CLOSE_*``): none, served until empty, disconnected.
CLOSING_MODES = {"none": 0, "serve": 1, "clear": 2}
#: Which idle agent takes an arriving call among the groups at the best skill level (``AGENT_*``).
AGENT_RULES = {"longest_idle": 0, "random": 1, "group_order": 2}
#: What max_wait does to a caller (``MW_*``).
MAX_WAIT_ACTIONS = {"message": 0, "disconnect": 1, "callback": 2}
#: Entry of an arrival stream that dials into the IVR (otherwise the call type index).
IVR_ENTRY = -1
#: Answered-wait histogram bins: [0] no wait, [b] b-1 < wait <= b s, [WAIT_BINS - 1] over WAIT_BINS - 2 s.
WAIT_BINS = 601

#: One record of the per-call log (``call_log=True``).
#: Times are seconds from the start of the day; ``caller`` is the index of the caller's first
#: arrival (redials and repeat calls keep it), ``attempt`` counts attempts for one problem,
#: ``kind`` indexes CALL_KINDS, ``stream`` the scenario's arrival streams, ``leg`` LEGS,
#: ``outcome`` OUTCOMES; ``group`` is -1 unless answered or called back. ``call_type`` is the
#: menu choice drawn for the caller even when it never reached a queue (blocked, contained).
LOG_DTYPE = np.dtype([
    ("t_arrive", np.float64), ("t_end", np.float64), ("wait_s", np.float64),
    ("ivr_s", np.float64), ("talk_s", np.float64), ("hold_s", np.float64), ("acw_s", np.float64),
    ("caller", np.int64), ("attempt", np.int32), ("kind", np.int32), ("stream", np.int32),
    ("leg", np.int32), ("call_type", np.int32), ("tier", np.int32), ("outcome", np.int32),
    ("group", np.int32), ("agent", np.int32),
])


@dataclass(frozen=True)
class StatArray:
    """One statistics array of a replication."""

    name: str
    dims: str           # one letter per axis: P K L G W B (B = WAIT_BINS)
    dtype: type
    merge: str          # how replications combine in Result.totals: "sum" or "max"
    meaning: str


_I, _F = np.int64, np.float64
STATS: tuple[StatArray, ...] = (
    StatArray("offered", "PKL", _I, "sum", "attempts that arrived (after the warm-up)"),
    StatArray("blocked", "PKL", _I, "sum", "attempts that found every trunk line busy"),
    StatArray("contained", "PKL", _I, "sum", "finished in IVR self-service"),
    StatArray("ivr_abandoned", "PKL", _I, "sum", "hung up in the IVR menu"),
    StatArray("queued", "PKL", _I, "sum", "reached the agent queue (first legs)"),
    StatArray("abandoned", "PKL", _I, "sum", "hung up while waiting for an agent"),
    StatArray("abandoned_short", "PKL", _I, "sum", "abandoned after waiting less than short_abandon_s"),
    StatArray("balked", "PKL", _I, "sum", "left at once instead of waiting (counted in abandoned too)"),
    StatArray("messages", "PKL", _I, "sum", "sent to a message after waiting max_wait"),
    StatArray("disconnected", "PKL", _I, "sum", "disconnected: after max_wait, or waiting when the queue closed"),
    StatArray("queue_full", "PKL", _I, "sum", "found their queue full (busy tone after the IVR)"),
    StatArray("conferences", "PKL", _I, "sum", "answered calls that held a conference with a second agent"),
    StatArray("conferences_missed", "PKL", _I, "sum", "conferences skipped: no agent of the other skill free"),
    StatArray("conference_s", "PKL", _F, "sum", "total conference time, s (both agents busy)"),
    StatArray("in_ivr_end", "PKL", _I, "sum", "still in the IVR at the horizon"),
    StatArray("in_queue_end", "PKL", _I, "sum", "still waiting at the horizon"),
    StatArray("redials", "PKL", _I, "sum", "attempts that are redials"),
    StatArray("repeats", "PKL", _I, "sum", "attempts that are repeat calls"),
    StatArray("unresolved", "PKL", _I, "sum", "answered calls that will call back (1 - FCR)"),
    StatArray("transferred", "PKL", _I, "sum", "calls transferred to another call type (by the source type)"),
    StatArray("transfer_answered", "PKL", _I, "sum", "transferred legs answered (by the target type)"),
    StatArray("transfer_abandoned", "PKL", _I, "sum", "transferred legs abandoned (by the target type)"),
    StatArray("transfer_disconnected", "PKL", _I, "sum",
              "transferred legs disconnected: target queue full, closed or with no agent on duty (by the target type)"),
    StatArray("callbacks", "PKL", _I, "sum", "waiting callers who accepted a callback"),
    StatArray("callbacks_done", "PKL", _I, "sum", "callbacks made"),
    StatArray("callbacks_within", "PKL", _I, "sum", "callbacks made within cb_within_s of acceptance"),
    StatArray("callbacks_end", "PKL", _I, "sum", "accepted callbacks still waiting at the horizon"),
    StatArray("abandon_wait_s", "PKL", _F, "sum", "total wait of abandoned callers, s"),
    StatArray("callback_wait_s", "PKL", _F, "sum", "total time from acceptance to callback, s"),
    StatArray("outbound_done", "PW", _I, "sum", "outbound tasks started"),
    StatArray("outbound_end", "W", _I, "sum", "outbound tasks still pending at the horizon"),
    StatArray("dials", "P", _I, "sum", "numbers the predictive dialer dialled (by the interval of dialling)"),
    StatArray("dial_contacts", "P", _I, "sum", "dials that reached the right party"),
    StatArray("dial_served", "P", _I, "sum", "reached parties an agent talked to"),
    StatArray("mismatches", "P", _I, "sum", "reached parties dropped because no agent became free in time"),
    StatArray("wait_hist", "KB", _I, "sum", "waits of answered calls, 1-second bins"),
    StatArray("answered", "PKLG", _I, "sum", "answered calls (first legs), by answering group"),
    StatArray("answered_within", "PKLG", _I, "sum", "answered within the SL threshold"),
    StatArray("answered_within_total", "PKLG", _I, "sum",
              "answered within the SL threshold counting the caller's waits on earlier attempts"),
    StatArray("held", "PKLG", _I, "sum", "answered calls put on HOLD"),
    StatArray("wait_s", "PKLG", _F, "sum", "total wait of answered calls, s"),
    StatArray("wait_max_s", "PKLG", _F, "max", "longest wait of an answered call, s"),
    StatArray("talk_s", "PKLG", _F, "sum", "total talk, s"),
    StatArray("hold_s", "PKLG", _F, "sum", "total HOLD, s"),
    StatArray("acw_s", "PKLG", _F, "sum", "total after-call work, s"),
    StatArray("staffed_s", "PG", _F, "sum", "agent-seconds present"),
    StatArray("service_busy_s", "PG", _F, "sum", "agent-seconds in talk + HOLD (and outbound talk)"),
    StatArray("acw_busy_s", "PG", _F, "sum", "agent-seconds in after-call work"),
    StatArray("outbound_busy_s", "PG", _F, "sum", "agent-seconds on outbound work (talk + ACW)"),
    StatArray("lines_s", "P", _F, "sum", "line-seconds busy"),
    StatArray("queue_s", "P", _F, "sum", "call-seconds waiting"),
    StatArray("lines_peak", "P", _I, "max", "most lines busy at once"),
    StatArray("queue_peak", "P", _I, "max", "most calls waiting at once"),
)
STAT_NAMES = tuple(a.name for a in STATS)
STAT_BY_NAME = {a.name: a for a in STATS}
#: Scalars a replication returns beside the arrays.
COUNTERS = ("n_events", "n_arrivals")


def stat_shape(a: StatArray, cs) -> tuple[int, ...]:
    """The shape of one statistics array for a compiled scenario."""
    size = {"P": cs.n_intervals, "K": cs.n_types, "L": cs.n_tiers, "G": cs.n_groups, "W": cs.n_tasks,
            "B": WAIT_BINS}
    return tuple(size[d] for d in a.dims)


def new_stats(cs) -> dict[str, np.ndarray]:
    """Zeroed statistics arrays for one replication (both engines fill these)."""
    return {a.name: np.zeros(stat_shape(a, cs), dtype=a.dtype) for a in STATS}
