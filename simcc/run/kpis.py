"""The KPI registry: every number a result reports, its meaning and its unit.

One entry per KPI; everything else is derived from it: the order of the day
summary (:data:`DAY_KPIS`) and of the per-interval table
(:data:`INTERVAL_KPIS`), which KPIs are shares, how a value is printed in a
terminal table, a CSV cell or the HTML report (:func:`format_value`), and the
tables of ``docs/results.md`` (a test checks them against this registry).

Units:

- ``count``: calls or attempts (a whole number per replication);
- ``share``: a fraction from 0 to 1, printed as a percentage;
- ``seconds``: a time in seconds;
- ``level``: a time-weighted mean or peak number (agents, lines, calls waiting).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

UNITS = ("count", "share", "seconds", "level")


@dataclass(frozen=True)
class Kpi:
    name: str
    meaning: str
    unit: str
    day: bool = True            # in result.summary()
    interval: bool = False      # in result.by_interval()


_ENTRIES = (
    Kpi("offered", "calls that arrived (after the warm-up)", "count", interval=True),
    Kpi("blocked", "calls that found every trunk line busy", "count", interval=True),
    Kpi("contained", "calls finished in IVR self-service", "count", interval=True),
    Kpi("ivr_abandoned", "callers who hung up in the IVR menu", "count"),
    Kpi("queued", "calls that reached the agent queue", "count", interval=True),
    Kpi("answered", "calls answered by an agent", "count", interval=True),
    Kpi("abandoned", "callers who hung up while waiting for an agent", "count", interval=True),
    Kpi("balked", "callers who left at once instead of waiting (also counted in abandoned)", "count"),
    Kpi("messages", "callers sent to a message after the maximum wait", "count"),
    Kpi("disconnected", "callers disconnected: after the maximum wait, or waiting when the queue closed", "count"),
    Kpi("queue_full", "calls that found their queue full (a busy tone after the IVR)", "count"),
    Kpi("conferences", "answered calls that held a conference with an agent of another skill", "count"),
    Kpi("conferences_missed", "conferences skipped because no agent of the other skill was free", "count"),
    Kpi("answered_within", "calls answered within the SLA threshold", "count"),
    Kpi("answered_within_total", "calls answered within the SLA threshold counting the caller's waits on earlier "
                                 "attempts (redials)", "count"),
    Kpi("in_system_end", "calls still in the IVR or queue at the horizon", "count"),
    Kpi("redials", "attempts that were redials of blocked or abandoned callers", "count"),
    Kpi("repeat_calls", "attempts that were repeat calls about an unsolved problem", "count"),
    Kpi("unique_callers", "attempts that were not redials (offered - redials)", "count"),
    Kpi("transferred", "answered calls transferred to another call type", "count"),
    Kpi("transfer_answered", "transferred calls answered at the call type they were transferred to", "count"),
    Kpi("transfer_abandoned", "transferred calls that hung up waiting at the call type they were transferred to",
        "count"),
    Kpi("transfer_disconnected", "transferred calls disconnected: the target queue was full or closed, or had no "
                                 "agent on duty", "count"),
    Kpi("fcr", "first-call resolution: answered calls that did not cause a repeat call / answered", "share"),
    Kpi("callbacks", "waiting callers who accepted a callback (virtual hold)", "count"),
    Kpi("callback_sl", "callbacks made within the callback threshold / callbacks made", "share"),
    Kpi("mean_callback_wait_s", "mean time from accepting a callback to being called back, s", "seconds"),
    Kpi("outbound_done", "quality call-backs and campaign calls made", "count"),
    Kpi("outbound_occupancy", "agent time on outbound work / staffed time", "share"),
    Kpi("dials", "numbers the predictive dialer dialled", "count"),
    Kpi("dial_contacts", "dials that reached the right party", "count"),
    Kpi("dial_served", "reached parties an agent talked to", "count"),
    Kpi("mismatches", "reached parties the dialer dropped because no agent became free in time", "count"),
    Kpi("mismatch_rate", "mismatches / dial_contacts", "share"),
    Kpi("service_level", "answered within T / queued (or / answered; see sl_definition)", "share", interval=True),
    Kpi("abandon_rate", "abandoned / queued (short abandons dropped from both)", "share", interval=True),
    Kpi("blocking_rate", "blocked / offered", "share", interval=True),
    Kpi("containment_rate", "contained / (offered - blocked)", "share"),
    Kpi("asa_s", "mean wait of answered calls, s", "seconds", interval=True),
    Kpi("max_wait_s", "longest wait of an answered call, s", "seconds"),
    Kpi("wait_p90_s", "90th percentile of the wait of answered calls, s (1-second resolution; inf beyond 599 s)",
        "seconds"),
    Kpi("mean_abandon_wait_s", "mean wait of callers who abandoned, s", "seconds"),
    Kpi("mean_talk_s", "mean talk time per answered call, s", "seconds"),
    Kpi("hold_rate", "share of answered calls put on HOLD", "share"),
    Kpi("mean_hold_s", "mean HOLD time per call put on HOLD, s", "seconds"),
    Kpi("mean_acw_s", "mean after-call work per answered call, s", "seconds"),
    Kpi("aht_s", "mean handle time (talk + hold + ACW) per answered call, s", "seconds"),
    Kpi("occupancy", "agent busy time / staffed time", "share", interval=True),
    Kpi("agents_mean", "mean agents staffed", "level"),
    Kpi("agents", "mean agents staffed in the interval (agents finishing a call after their shift count "
                  "until they leave)", "level", day=False, interval=True),
    Kpi("busy_agents", "mean agents busy in the interval (talk, HOLD, ACW or outbound work)", "level",
        day=False, interval=True),
    Kpi("lines_mean", "mean busy trunk lines (calls in the system)", "level", interval=True),
    Kpi("lines_peak", "most trunk lines busy at once", "level", interval=True),
    Kpi("queue_mean", "mean calls waiting for an agent", "level", interval=True),
    Kpi("queue_peak", "most calls waiting at once", "level", interval=True),
)

#: Every KPI by name.
KPIS: dict[str, Kpi] = {k.name: k for k in _ENTRIES}
#: Day KPIs (``Result.summary()`` keys), in report order, with their meaning.
DAY_KPIS: dict[str, str] = {k.name: k.meaning for k in _ENTRIES if k.day}
#: Per-interval KPIs (``Result.by_interval()`` columns besides ``interval_start``), in order.
INTERVAL_ORDER = ("offered", "blocked", "contained", "queued", "answered", "abandoned", "service_level",
                  "abandon_rate", "blocking_rate", "asa_s", "occupancy", "agents", "busy_agents", "lines_mean",
                  "lines_peak", "queue_mean", "queue_peak")
INTERVAL_KPIS: tuple[str, ...] = INTERVAL_ORDER
#: KPIs that are shares (fractions printed as percentages).
SHARE_KPIS = frozenset(k.name for k in _ENTRIES if k.unit == "share")

assert all(KPIS[k].interval for k in INTERVAL_KPIS) and {k.name for k in _ENTRIES if k.interval} == set(INTERVAL_KPIS)


def feasible(names, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Confidence bounds clipped to what each KPI can be (no KPI is negative; a share is at most 1).

    A Student t interval can reach past those limits with few replications
    (a service level of 84% +/- 71 points); the true value cannot, so the
    bounds shown and written are cut there. ``names`` runs along the last axis.
    """
    upper = np.array([1.0 if n in SHARE_KPIS else np.inf for n in names])
    return np.maximum(lo, 0.0), np.minimum(hi, upper)


def unit(name: str) -> str:
    """The unit of a KPI (``count``, ``share``, ``seconds`` or ``level``); unknown names are ``level``."""
    k = KPIS.get(name)
    return k.unit if k is not None else "level"


def format_value(name: str, x, *, signed: bool = False) -> str:
    """A KPI value as people read it: shares in percent, counts whole, times and levels to 0.1.

    ``-`` for a missing value (NaN or None), ``inf`` for an infinite one.
    With ``signed`` (differences) shares are in percentage points.

    Examples
    --------
    >>> format_value("service_level", 0.9123), format_value("offered", 41710.4), format_value("asa_s", 3.21)
    ('91.2%', '41,710', '3.2')
    >>> format_value("service_level", 0.012, signed=True), format_value("asa_s", float("nan"))
    ('+1.20 pt', '-')
    """
    if x is None:
        return "-"
    x = float(x)
    if math.isnan(x):
        return "-"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    u = unit(name)
    if signed:
        return f"{100 * x:+.2f} pt" if u == "share" else f"{x:+,.2f}"
    if u == "share":
        return f"{100 * x:.1f}%"
    if u == "count":
        return f"{x:,.0f}"
    return f"{x:,.1f}"
