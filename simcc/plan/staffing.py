"""Staffing and trunk sizing by simulation, seeded by the Erlang formulas.

Two questions a capacity planner asks, answered for the whole center (IVR,
skills, tiers, trunks, abandonment, the queue carried from one interval to
the next), not for one Erlang queue:

* :func:`staff`: the fewest agents per interval and per group that meet every
  SLA line in every interval with a stated confidence;
* :func:`trunks`: the fewest trunk lines (and E1 groups of 30) that keep
  blocking under a target in every interval.

Both search with *common random numbers*: every candidate is simulated with
the same seed and replications, so two staffing levels see the same callers
and the comparison between them is not blurred by sampling noise.

The confidence rule
-------------------
An interval meets an "at least" line (service level) when a one-sided lower
confidence bound of its mean over replications is at least the target, and an
"at most" line (abandonment, occupancy, blocking) when the one-sided upper
bound is at most the target::

    bound = mean -/+ t(level, R - 1) * sd / sqrt(R)

By default (``joint=True``) the statement covers the whole day at once: with
``confidence=0.95``, m interval checks (intervals x SLA lines) are each made
at ``level = 1 - 0.05 / m`` (Bonferroni), so "every interval meets every
target in expectation" holds with 95% confidence. ``joint=False`` makes each
interval's check at 95% on its own (about one interval in twenty may then
miss its target in expectation); ``confidence=None`` compares plain means
(what an Erlang calculator states, but a fresh seed then misses the target in
about half of the tight intervals). Per-interval KPIs are those of
:meth:`simcc.Result.by_interval`: calls counted in the interval they arrive
in, the service level as defined by the scenario's SLA block.

Common random numbers are full: every call draws from its own stream, so a
candidate that differs from the plan only from interval p on lives the plan's
day exactly up to p. A check is therefore simulated from the plan's
replications standing at p and judged interval by interval as soon as each
interval's figures are final (:mod:`simcc.plan.stepping`): a failing check
costs an interval or two, and a removal is kept once the WINDOW intervals
after it pass; the plan's whole day is simulated at the end (the confirmation
repairs any interval that then fails). :meth:`StaffingPlan.one_fewer_where`
says whether one agent fewer fails at the interval itself or only further on.
"""
from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from .. import htmlrepr
from ..errors import NotARunFolder
from ..jsonsafe import jsonable
from ..model.scenario import Scenario
from ..run import arguments
from ..run.executors import default_workers
from ..run.export import csv_cell, render
from ..run.jobs import AUTO_MIN_CALLS, AUTO_MIN_REPLICATIONS
from ..run.outdir import MARKER, claim, is_simcc_meta
from ..run.simulation import simulate
from ..stats import mean_ci
from .baseline import ErlangCurves, erlang_baseline
from .costsearch import COST_CALLS, COST_MARGIN, COST_PATIENCE, cheapest_row
from .evalstore import EvalStore, candidate_key, search_fingerprint
from .rule import _K, SCENARIO, failing, hhmm, interval_bounds, resolve, rule_text, share_arg
from .shrinkage import per_group, scheduled_for

__all__ = ["SCENARIO", "SearchProgress", "StaffingPlan", "Verification", "staff"]


@dataclass
class _Eval:
    agents: np.ndarray          # [P, G]
    result: object              # simcc.Result; None when read back from a search folder
    sl: tuple                   # (mean, low, high) per interval
    ab: tuple
    occ: tuple
    fail: np.ndarray            # [P] bool
    reason: list                # [P] str
    type_deficit: np.ndarray    # [P, K] calls short of the targets, pooled over replications
    group_occ: np.ndarray       # [P, G]
    intervals: np.ndarray | None = None   # [R, P, KPI] per-replication interval KPIs (what the rule reads)
    day: np.ndarray | None = None         # [R, DAY_KPIS] per-replication day KPIs (None when not simulated here)


@dataclass(frozen=True)
class SearchProgress:
    """Where a staffing search is, as given to ``staff(progress=...)`` after every evaluation.

    ``phase`` is "start", "repair", "descend" or "cost"; ``evaluations`` counts the
    candidates evaluated (``resumed`` of them read back from ``out_dir``),
    ``simulated_days`` counts replication-days (a check judged before the end of its day counts the
    intervals it simulated). In the descent ``done``
    of ``total`` intervals are checked and ``eta_s`` estimates the seconds
    left (None when it cannot be estimated yet, and outside the descent).
    """

    phase: str
    evaluations: int
    simulated_days: int
    resumed: int
    elapsed_s: float
    done: int | None = None
    total: int | None = None
    eta_s: float | None = None
    failing: int | None = None


class _Evaluator:
    """Simulates a staffing matrix with a fixed seed (CRN) and checks the rule per interval.

    Every distinct matrix is evaluated once: kept in memory, and in ``store`` (a search folder) when
    given, from which a resumed search reads it back instead of simulating it again.
    """

    def __init__(self, base: Scenario, seed, replications: int, engine: str, confidence, target_sl,
                 abandon_max, occupancy_max, measured: np.ndarray, progress=None, max_events=None,
                 run_options: dict | None = None, store=None):
        self.base = base
        self.seed = seed
        self.replications = replications
        self.engine = engine
        self.confidence = confidence
        self.target_sl = target_sl
        self.abandon_max = abandon_max
        self.occupancy_max = occupancy_max
        self.measured = measured
        self.progress = progress
        self.max_events = max_events
        self.run_options = dict(run_options or {})      # workers, scheduler: where the replications run
        self.store = store
        self.cache: dict[bytes, _Eval] = {}
        self.count = 0              # distinct candidates evaluated (read back from the store or simulated)
        self.simulated = 0          # of them simulated in this process
        self.sim_time_s = 0.0       # wall time of those simulations
        self.skills = [dict(g.skills) for g in base.groups]
        self.types = list(base.call_types)
        self.days = 0.0             # replication-days simulated (a check cut short counts its intervals)
        self.stepper = None         # simcc.plan.stepping.Stepper: checks from the plan's prefix (set_stepper)

    def set_stepper(self, threads: int) -> None:
        """Judge candidates that differ from the plan only from some interval on from the plan's
        replications standing at that interval (:mod:`simcc.plan.stepping`): the compiled kernel, and
        service-level and abandonment lines only."""
        if self.engine == "kernel" and self.occupancy_max is None:
            from .stepping import Stepper
            self.stepper = Stepper(self.base, self.scenario, self.seed, self.replications,
                                   lambda agents, iv: self._judge(agents, None, iv, None, None), threads)

    def close(self) -> None:
        if self.stepper is not None:
            self.stepper.close()

    def scenario(self, agents: np.ndarray) -> Scenario:
        groups = []
        for g, grp in enumerate(self.base.groups):
            d = grp.model_dump(mode="python")
            col = [int(v) for v in agents[:, g]]
            d["agents"] = col[0] if len(set(col)) == 1 else col
            d.pop("roster", None)       # the plan's headcount replaces a roster
            groups.append(d)
        return self.base.with_changes(groups=groups)

    def simulate(self, agents: np.ndarray):
        """One candidate's simulation (the same seed and replications for every candidate)."""
        kw = dict(seed=self.seed, replications=self.replications, engine=self.engine)
        if self.max_events is not None:
            kw["max_events"] = self.max_events
        t = time.perf_counter()
        res = simulate(self.scenario(agents), **kw, **self.run_options)
        self.sim_time_s += time.perf_counter() - t
        self.simulated += 1
        self.days += self.replications
        return res

    def check(self, plan: _Eval, agents: np.ndarray, p: int, window: int | None = None, whole: bool = False):
        """A candidate that differs from the passing ``plan`` only from interval p on. The same answer as
        ``self(agents)``: a full evaluation when it passes; when it fails, possibly an
        :class:`~simcc.plan.stepping.EarlyFail` (the first failing interval and why, found without
        simulating the rest of the day). With ``window``, a candidate that passes intervals p .. p + window - 1
        may come back as a :class:`~simcc.plan.stepping.WindowPass` (the rest of its day not simulated).
        ``whole``: always a full evaluation, and the plan may fail (the repair)."""
        agents = np.asarray(agents, dtype=np.int64)
        key = agents.tobytes()
        if self.stepper is None or key in self.cache or (plan.fail.any() and not whole):
            return self(agents)
        skey = None
        if self.store is not None:
            skey = candidate_key(self.scenario(agents), self.seed, self.replications, self.engine, self.max_events)
            if self.store.has(skey):
                return self(agents)
        t = time.perf_counter()
        out = self.stepper.check(plan.agents, agents, p, window, whole)
        if out is None:
            return self(agents)
        self.sim_time_s += time.perf_counter() - t
        self.simulated += 1
        self.count += 1
        if isinstance(out, tuple):
            iv, res, days = out
            ev = self._judge(agents, None, iv, *self._diagnostics(res, *agents.shape))
            ev.day = getattr(res, "day", None)
            self.cache[key] = ev
            if self.store is not None:
                self.store.put(skey, {"agents": agents, "intervals": ev.intervals,
                                      "type_deficit": ev.type_deficit, "group_occ": ev.group_occ,
                                      "days": np.float64(days)})
        else:
            ev, days = out, out.days
        self.days += days
        if self.progress is not None:
            self.progress(self.count)
        return ev

    def __call__(self, agents: np.ndarray) -> _Eval:
        agents = np.asarray(agents, dtype=np.int64)
        key = agents.tobytes()
        if key in self.cache:
            return self.cache[key]
        stored = None
        if self.store is not None:
            skey = candidate_key(self.scenario(agents), self.seed, self.replications, self.engine, self.max_events)
            stored = self.store.get(skey)
        if stored is not None:
            ev = self._judge(agents, None, stored["intervals"], stored["type_deficit"], stored["group_occ"])
            self.days += float(stored.get("days", self.replications))     # what it cost when simulated
        else:
            res = self.simulate(agents)
            P = agents.shape[0]
            ev = self._judge(agents, res, res.intervals, *self._diagnostics(res, P, agents.shape[1]))
            ev.day = res.day
            if self.store is not None:
                self.store.put(skey, {"agents": agents, "intervals": ev.intervals,
                                      "type_deficit": ev.type_deficit, "group_occ": ev.group_occ})
        self.count += 1
        self.cache[key] = ev
        if self.progress is not None:
            self.progress(self.count)
        return ev

    def result(self, ev: _Eval):
        """The full Result of an evaluation (simulated again, bit for bit, when it was read back from disk)."""
        if ev.result is None:
            ev.result = self.simulate(ev.agents)
        return ev.result

    def _judge(self, agents, res, iv, deficit, gocc) -> _Eval:
        """The rule, interval by interval, on per-replication interval KPIs [R, P, KPI]."""
        sl, ab, occ = interval_bounds(iv, self.confidence)
        P = agents.shape[0]
        fail = np.zeros(P, dtype=bool)
        reason = [""] * P
        for p in range(P):
            if not self.measured[p]:
                continue
            why = []
            if self.target_sl is not None and not np.isnan(sl[1][p]) and sl[1][p] < self.target_sl - 1e-12:
                why.append("service level")
            if self.abandon_max is not None and not np.isnan(ab[2][p]) and ab[2][p] > self.abandon_max + 1e-12:
                why.append("abandonment")
            if self.occupancy_max is not None and not np.isnan(occ[2][p]) and occ[2][p] > self.occupancy_max + 1e-12:
                why.append("occupancy")
            fail[p] = bool(why)
            reason[p] = ", ".join(why)
        return _Eval(agents, res, sl, ab, occ, fail, reason, deficit, gocc, iv)

    def _diagnostics(self, res, P, G):
        """Per call type: calls short of the SL / abandonment targets; per group: occupancy (pooled)."""
        t = getattr(res, "totals", {}) or {}
        K = len(self.types)
        deficit = np.zeros((P, K))
        try:
            q = t["queued"].reshape(P, K, -1).sum(axis=2) - t["abandoned_short"].reshape(P, K, -1).sum(axis=2)
            if self.target_sl is not None:
                aw = t["answered_within"].reshape(P, K, -1).sum(axis=2)
                deficit += np.maximum(0.0, self.target_sl * q - aw)
            if self.abandon_max is not None:
                ab = t["abandoned"].reshape(P, K, -1).sum(axis=2) - t["abandoned_short"].reshape(P, K, -1).sum(axis=2)
                deficit += np.maximum(0.0, ab - self.abandon_max * q)
            staffed = t["staffed_s"]
            busy = t["service_busy_s"] + t["acw_busy_s"]
            with np.errstate(invalid="ignore", divide="ignore"):
                gocc = np.where(staffed > 0, busy / np.where(staffed > 0, staffed, 1), 0.0)
        except (KeyError, ValueError):   # pragma: no cover - a results layout we do not know: occupancy only
            gocc = np.zeros((P, G))
        return deficit, gocc

    # which group gains / loses an agent in interval p ------------------------
    def groups_to_add(self, ev: _Eval, p: int, agents: np.ndarray, k: int) -> list[int]:
        """``k`` groups (with repeats) to give one more agent each in interval p: in proportion to how far the
        call types each group serves (weighted by 1 / skill level) are short of the targets; else the busiest."""
        G = agents.shape[1]
        score = np.zeros(G)
        for g in range(G):
            for t, level in self.skills[g].items():
                score[g] += ev.type_deficit[p, self.types.index(t)] / level
        if score.max() <= 0:
            busiest = sorted(range(G), key=lambda g: (-ev.group_occ[p, g], g))[0]
            return [busiest] * k
        share = _split(k, score, np.zeros(G, dtype=np.int64))
        out = []
        for g in sorted(range(G), key=lambda g: (-score[g], g)):
            out += [g] * int(share[g])
        return out

    def groups_to_remove(self, ev: _Eval, p: int, agents: np.ndarray, floor: np.ndarray) -> list[int]:
        G = agents.shape[1]
        cand = [g for g in range(G) if agents[p, g] > floor[p, g]]
        return sorted(cand, key=lambda g: (ev.group_occ[p, g], -agents[p, g], g))


# --------------------------------------------------------------------------
# The staffing plan
# --------------------------------------------------------------------------
@dataclass
class Verification:
    """A fresh run of a plan with another seed: does every interval still meet the targets?"""

    seed: int
    replications: int
    result: object
    interval_passed: np.ndarray      # [P] True / False (None-free: unmeasured intervals pass)
    interval_mean_passed: np.ndarray  # [P] the plain mean meets the targets
    sla: list

    @property
    def passed(self) -> bool:
        """Every interval meets the targets on the mean of the fresh run, and the day's SLA lines pass."""
        return bool(self.interval_mean_passed.all()) and all(line["passed"] is not False for line in self.sla)


@dataclass
class StaffingPlan:
    """What :func:`staff` found.

    Attributes
    ----------
    agents : ndarray [P, G]
        Required agents per interval and group.
    group_names : tuple
    erlang_a, erlang_c : ndarray [P]
        Erlang baseline for the center pooled into one queue.
    scheduled : ndarray [P]
        The scenario's own headcount (all groups).
    kpis : dict
        Per interval, from the final evaluation (search seed):
        ``{kpi: (mean, ci_low, ci_high)}`` with the two-sided 95% CI, for
        service_level, abandon_rate, occupancy, asa_s, offered, queued.
    bound : dict
        The one-sided bound the rule compared with the target, per line.
    passed : ndarray [P] of bool
    one_fewer : list
        Per interval checked by the descent: ``{group: {"fails_at": q, "time":
        "HH:MM", "reason": "service level"}}``, where the plan with one agent
        fewer in that group first fails (interval ``q``; ``fails_at`` None and
        reason "at floor" when the group cannot lose an agent); ``None`` when
        not checked. A removal that passed was kept, so every checked entry
        fails.
    measured : ndarray [P] of bool
        False for warm-up intervals (held at the Erlang answer, not searched).
    scenario : Scenario
        The scenario with the new headcount and the targets in its SLA block.
    source : Scenario
    result : Result
        The final evaluation.
    """

    agents: np.ndarray
    group_names: tuple
    erlang_a: np.ndarray
    erlang_c: np.ndarray
    scheduled: np.ndarray
    kpis: dict
    bound: dict
    passed: np.ndarray
    one_fewer: list
    measured: np.ndarray
    scenario: Scenario
    source: Scenario
    result: object
    targets: dict
    seed: object
    replications: int
    confidence: float | None
    evaluations: int
    engine: str = "kernel"
    history: list = field(default_factory=list)
    check_level: float | None = None      # the one-sided level of each interval check (Bonferroni when joint)
    n_checks: int = 1
    run_options: dict = field(default_factory=dict)   # workers, scheduler (never change a number)
    shrinkage: np.ndarray | None = None               # [G] share of paid time off the phones, or None
    wall_s: float | None = None                       # wall time of the search, s (this process)
    resumed: int = 0                                  # evaluations read back from out_dir
    cost_per_hour: np.ndarray | None = None           # [G] what an agent-hour of each group costs, or None
    days: float | None = None                         # replication-days simulated (checks cut short count less)

    @property
    def cost(self) -> float | None:
        """The plan's cost per day: agent-hours x each group's cost per hour (None without costs)."""
        if self.cost_per_hour is None:
            return None
        return float((self.agents * self.cost_per_hour).sum() * self.interval_s / 3600)

    @property
    def simulated_days(self) -> int:
        """Days the search simulated, in replication-days (those read back from out_dir included): a check
        judged before the end of its day counts the intervals it simulated."""
        if self.days is not None:
            return int(round(self.days))
        return int(self.evaluations) * int(self.replications)

    @property
    def rostered(self) -> np.ndarray:
        """Agents to schedule per interval and group: on the phones / (1 - shrinkage), rounded up."""
        if self.shrinkage is None:
            return self.agents
        return np.stack([scheduled_for(self.agents[:, g], s) for g, s in enumerate(self.shrinkage)], axis=1)

    @property
    def rostered_agent_hours(self) -> float:
        return self._hours(self.rostered.sum(axis=1))

    @property
    def interval_s(self) -> float:
        return self.scenario.interval_s

    @property
    def total(self) -> np.ndarray:
        """Required agents per interval, all groups."""
        return self.agents.sum(axis=1)

    def _hours(self, per_interval) -> float:
        return float(np.sum(per_interval) * self.interval_s / 3600.0)

    @property
    def agent_hours(self) -> float:
        return self._hours(self.total)

    @property
    def scheduled_agent_hours(self) -> float:
        return self._hours(self.scheduled)

    @property
    def erlang_a_agent_hours(self) -> float:
        return self._hours(self.erlang_a)

    @property
    def erlang_c_agent_hours(self) -> float:
        return self._hours(self.erlang_c)

    @property
    def rule(self) -> str:
        """The confidence rule in words (printed with every plan)."""
        return rule_text(self.targets, self.confidence, self.replications, self.seed, self.check_level,
                          self.n_checks)

    def one_fewer_fails(self) -> list:
        """Per interval: True when one agent fewer (in any group) fails some interval, None if not checked."""
        return [None if not x else True for x in self.one_fewer]

    def one_fewer_where(self) -> list:
        """Per interval: where one agent fewer fails, in words.

        ``"here"``: every removal fails in this interval or the next (through
        the queue carried over); ``"elsewhere"``: some removal still meets the
        targets here and in the next interval but tips a marginal interval
        later in the day. That is sampling noise, not queue carry-over: the
        simulation deals talk, HOLD and ACW times in the order calls are
        answered, so one agent fewer re-deals them for the rest of the day.
        ``"floor"``: no group can lose an agent; None: not checked.
        """
        out = []
        for p, x in enumerate(self.one_fewer):
            if not x:
                out.append(None)
                continue
            qs = [v["fails_at"] for v in x.values() if v["fails_at"] is not None]
            if not qs:
                out.append("floor")
            elif all(q <= p + 1 for q in qs):
                out.append("here")
            else:
                out.append("elsewhere")
        return out

    def table(self) -> dict[str, list]:
        """The per-interval table as columns (what ``simcc staff`` prints)."""
        P = len(self.total)
        start = np.arange(P) * self.interval_s
        cols: dict[str, list] = {"interval_start": start.tolist(),
                                 "time": [hhmm(s) for s in start]}
        cols["required"] = self.total.tolist()
        if len(self.group_names) > 1:
            for g, name in enumerate(self.group_names):
                cols[f"agents_{name}"] = self.agents[:, g].tolist()
        if self.shrinkage is not None:
            cols["rostered"] = self.rostered.sum(axis=1).tolist()
        cols["erlang_a"] = self.erlang_a.tolist()
        cols["erlang_c"] = self.erlang_c.tolist()
        cols["scheduled"] = self.scheduled.tolist()
        for k in ("offered", "service_level", "abandon_rate", "occupancy", "asa_s"):
            m, lo, hi = self.kpis[k]
            cols[k] = m.tolist()
            cols[f"{k}_ci_low"] = lo.tolist()
            cols[f"{k}_ci_high"] = hi.tolist()
        cols["passed"] = [bool(x) for x in self.passed]
        cols["one_fewer_fails"] = self.one_fewer_fails()
        cols["one_fewer_fails_where"] = self.one_fewer_where()
        cols["measured"] = [bool(x) for x in self.measured]
        return cols

    def to_csv(self) -> str:
        import csv
        import io
        cols = self.table()
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(list(cols))
        for p in range(len(self.total)):
            w.writerow([csv_cell(cols[c][p]) for c in cols])
        return buf.getvalue()

    def summary(self) -> dict:
        """Totals and the rule, JSON-ready."""
        return {
            "scenario": self.source.name,
            "rule": self.rule,
            "targets": dict(self.targets),
            "seed": self.seed,
            "replications": self.replications,
            "confidence": self.confidence,
            "check_level": self.check_level,
            "evaluations": self.evaluations,
            "simulated_days": self.simulated_days,
            "resumed_evaluations": self.resumed,
            "wall_s": None if self.wall_s is None else round(self.wall_s, 3),
            "agent_hours": self.agent_hours,
            "shrinkage": None if self.shrinkage is None else dict(zip(self.group_names, self.shrinkage.tolist())),
            "rostered_agent_hours": self.rostered_agent_hours,
            "cost_per_hour": (None if self.cost_per_hour is None
                              else dict(zip(self.group_names, self.cost_per_hour.tolist()))),
            "cost": self.cost,
            "scheduled_agent_hours": self.scheduled_agent_hours,
            "erlang_a_agent_hours": self.erlang_a_agent_hours,
            "erlang_c_agent_hours": self.erlang_c_agent_hours,
            "peak_agents": int(self.total.max()) if len(self.total) else 0,
            "all_intervals_pass": bool(self.passed[self.measured].all()),
            "groups": list(self.group_names),
            "sl_definition": self.result.meta["sl_definition"]["text"],
        }

    def to_dict(self) -> dict:
        return jsonable({"summary": self.summary(), "intervals": self.table()})

    def scenario_yaml(self) -> str:
        """The scenario with the plan's headcount as YAML (what ``simcc staff --save-scenario`` writes)."""
        import yaml
        data = self.scenario.model_dump(mode="json", exclude_none=True)
        return "# written by simcc staff\n" + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)

    def verify(self, seed: int, replications: int | None = None, engine: str | None = None) -> Verification:
        """Run the plan again with a different seed (fresh random numbers) and check every interval.

        ``interval_passed`` uses the plan's confidence rule on the fresh run;
        ``interval_mean_passed`` the plain mean (is the target met on
        average?); ``sla`` is the scenario's day-level SLA report.
        """
        reps = replications or self.replications
        res = simulate(self.scenario, seed=seed, replications=reps, engine=engine or self.engine, **self.run_options)
        iv = res.intervals
        strict = failing(iv, self.targets, self.check_level, self.measured)
        mean_ok = failing(iv, self.targets, None, self.measured)
        return Verification(seed, reps, res, ~strict, ~mean_ok, res.sla_report())

    def __repr__(self) -> str:
        return (f"<StaffingPlan {self.source.name!r}: {self.agent_hours:,.1f} agent-hours "
                f"(scenario {self.scheduled_agent_hours:,.1f}, Erlang A {self.erlang_a_agent_hours:,.1f}), "
                f"peak {int(self.total.max()) if len(self.total) else 0} agents, {self.evaluations} simulations>")

    def _repr_html_(self) -> str:
        """Agent-hours against the scenario and the Erlang baselines, as a notebook table."""
        rows = [("this plan", f"{self.agent_hours:,.1f}"),
                ("the scenario's headcount", f"{self.scheduled_agent_hours:,.1f}"),
                ("Erlang A", f"{self.erlang_a_agent_hours:,.1f}"),
                ("Erlang C", f"{self.erlang_c_agent_hours:,.1f}"),
                ("peak agents", f"{int(self.total.max()) if len(self.total) else 0:,}"),
                ("simulations", f"{self.evaluations:,}")]
        return htmlrepr.table(f"simcc staffing plan {self.source.name}", rows, header=("", "agent-hours"))


def _split(total: int, shares: np.ndarray, floor: np.ndarray) -> np.ndarray:
    """Split ``total`` agents across groups by largest remainder, then lift groups to their floor."""
    G = len(shares)
    if shares.sum() <= 0:
        shares = np.ones(G)
    raw = total * shares / shares.sum()
    out = np.floor(raw).astype(np.int64)
    rest = total - out.sum()
    for g in np.argsort(-(raw - out), kind="stable")[:rest]:
        out[g] += 1
    for g in range(G):
        while out[g] < floor[g]:
            donor = max((h for h in range(G) if out[h] > floor[h]), key=lambda h: out[h], default=None)
            if donor is None:
                out[g] = floor[g]
                break
            out[donor] -= 1
            out[g] += 1
    return out


def staff(scenario: Scenario, target_sl: float | None | str = SCENARIO, within_s: float | None = None,
          abandon_max: float | None | str = SCENARIO, occupancy_max: float | None = None, *,
          seed: int = 1, replications: int = 20, confidence: float | None = 0.95, joint: bool = True,
          engine: str = "kernel", verify: bool | Sequence[int] = True, max_evaluations: int = 5000,
          progress: Callable[[SearchProgress], None] | None = None, workers: int | None = None,
          scheduler=None, shrinkage: float | dict[str, float] | None = None,
          out_dir: str | os.PathLike | None = None, resume: bool = False,
          cost: dict[str, float] | str | None = None) -> StaffingPlan:
    """The fewest agents per interval and group that meet the targets in every interval.

    Method (all simulations use the same ``seed`` and ``replications``, so
    every candidate sees the same callers; intervals interact through the
    queue carried over, so a candidate is judged on the intervals from its
    change on, simulated from the plan's replications standing there):

    1. **Start** at the per-interval Erlang A answer for the center pooled
       into one queue (Erlang C where callers never hang up), split across
       groups in proportion to the scenario's headcount in that interval,
       keeping at least one agent in a group the scenario staffs then.
       Warm-up intervals are held at this answer and not searched.
    2. **Repair**: in every failing interval add agents: as many as the
       interval's Erlang curve, shifted to pass through the simulated value,
       says are missing (at least one; doubling if an interval keeps
       failing), given to the groups whose call types are furthest short of
       the targets (weighted by 1 / skill level; else the busiest group).
       Repeat until every interval passes.
    3. **Descend and verify** (``verify=True``, or a list of intervals): in
       time order, take one agent from each group in turn (least busy first)
       and simulate the day; a removal after which every interval still
       passes is kept and the interval is tried again. When no removal
       passes, the plan records, per group, where the day with one agent
       fewer first fails. Time order makes one pass enough: a change at p
       moves only p and later intervals. A removal is kept once the WINDOW
       (six) intervals after it pass.
    4. **Confirm**: the plan's whole day is simulated; an interval that then
       fails is repaired and checked again, each change on its whole day.

    Parameters
    ----------
    scenario : Scenario
    target_sl : float or None
        Share answered within ``within_s`` (0.9 for 90%); default from the
        scenario's SLA block; None for no service-level line.
    within_s : float, optional
        Service-level threshold, s; default from the scenario.
    abandon_max : float or None
        Largest abandonment share; default from the scenario; None for none.
    occupancy_max : float, optional
        Largest agent occupancy per interval (e.g. 0.9).
    seed, replications : int
        The common random numbers; ``replications`` >= 2 with a confidence.
    confidence : float or None
        One-sided confidence of the rule (module docs); None: plain means.
    joint : bool
        Make the confidence hold for all intervals and lines at once
        (Bonferroni: each of the m interval-line checks at ``1 - (1 -
        confidence) / m``) instead of for each interval on its own.
    engine : str
    verify : bool or sequence of int
        Check (and improve) minimality interval by interval: True for every
        interval, a sequence for those intervals, False to skip.
    max_evaluations : int
        Stop searching after this many candidates (the plan then says whether
        every interval passes). Most candidates are checks of a few intervals:
        Quanzhou's cheapest plan takes about 1,000-1,500.
    progress : callable, optional
        Called with a :class:`SearchProgress` after every evaluation (phase,
        evaluations, simulated days, the descent's intervals done and an ETA).
    workers, scheduler
        Where each simulation's replications run, as for :func:`simcc.simulate`
        (all cores by default for large candidates; a Dask cluster). The plan is
        bit-identical whatever runs it.

    shrinkage : float or dict, optional
        Share of paid time off the phones (0.3 for 30%), one for all groups or ``{group: share}``.
        The search staffs agents on the phones; ``plan.rostered`` is the agents to schedule,
        on-phone / (1 - shrinkage) rounded up, per interval and group.
    out_dir : str or PathLike, optional
        A folder for the search (:mod:`simcc.plan.evalstore`): every evaluated
        candidate is kept there as soon as it is simulated, and the plan
        (``plan.json``, ``plan.csv``, ``staffed.yaml``) and ``meta.json`` are
        written at the end, each atomically. One search at a time per folder.
    cost : dict or "scenario", optional
        What an agent-hour of each group costs (``{group: cost}`` for every
        group, or ``"scenario"`` for the groups' ``cost_per_hour``). The search
        then minimises the plan's cost instead of its agents: the descent takes
        agents from the most expensive group first, then in each interval a
        best-first enumeration (:mod:`simcc.plan.costsearch`, assuming more
        agents never hurt) looks for the cheapest row that still passes, the
        other intervals fixed (kept only when the cost falls). ``plan.cost``
        is the cost per day. Without costs every agent counts the same.
    resume : bool
        Continue the search kept in ``out_dir`` (same scenario, seed and
        options, else :class:`~simcc.run.store.ResumeError` naming what
        differs): candidates already evaluated are read back, not simulated,
        and the plan is bit-identical to that of an uninterrupted search.

    Returns
    -------
    StaffingPlan

    Raises
    ------
    KeyboardInterrupt
        Ctrl-C; with ``out_dir`` the evaluations so far are kept there
        (``meta.json`` status "interrupted") for ``resume=True``.

    Examples
    --------
    >>> import simcc
    >>> from simcc.plan import staff
    >>> s = simcc.textbook.erlang(arrival_rate=100 / 1800, mean_talk_s=180, agents=14,
    ...                           mean_patience_s=300, hours=2)
    >>> plan = staff(s, target_sl=0.8, within_s=20, abandon_max=None, replications=10, verify=False)
    >>> plan.total.shape, plan.erlang_a.tolist()
    ((4,), [13, 13, 13, 13])
    """
    scenario = arguments.scenario(scenario)
    replications = arguments.replications(replications)
    seed = arguments.common_seed(seed)        # one root for every candidate: common random numbers
    shrink = None if shrinkage is None else per_group(shrinkage, [g.name for g in scenario.groups])
    costs = _costs(cost, scenario)
    arguments.progress(progress)
    sla = scenario.sla
    sl_default = sla.service_level.percent / 100 if sla.service_level is not None else None
    target = resolve(target_sl, sl_default, "target_sl")
    if within_s is None:
        within_s = scenario.sl_threshold_s
    within_s = float(within_s)
    if not (math.isfinite(within_s) and within_s >= 0):
        raise ValueError(f"within_s must be a non-negative number of seconds, not {within_s!r}")
    amax = resolve(abandon_max, sla.abandon_max_pct / 100 if sla.abandon_max_pct else None, "abandon_max")
    occ = share_arg(occupancy_max, "occupancy_max")
    if occ is not None and occ >= 1:
        occ = None
    if target is None and amax is None and occ is None:
        raise ValueError("nothing to staff for: give target_sl (or an SLA service level in the scenario), "
                         "abandon_max or occupancy_max")
    if confidence is not None:
        confidence = float(confidence)
        if not 0.5 <= confidence < 1:
            raise ValueError(f"confidence must be in [0.5, 1) or None, not {confidence!r}")
        if replications < 2:
            raise ValueError("a confidence bound needs at least 2 replications (or confidence=None)")
    if isinstance(replications, bool) or int(replications) != replications or replications < 1:
        raise ValueError(f"replications must be a positive whole number, not {replications!r}")

    # the targets become the scenario's SLA block (so the simulation measures within_s)
    sla_new = sla.model_dump(mode="python")
    sla_new["service_level"] = (None if target is None else
                                {"percent": round(100 * target, 10), "within_s": within_s})
    if target is None and sla.service_level is not None:      # keep measuring the scenario's threshold
        sla_new["service_level"] = {"percent": sla.service_level.percent, "within_s": sla.service_level.within_s}
    if amax is not None:
        sla_new["abandon_max_pct"] = round(100 * amax, 10)
    base = scenario.with_changes(sla=sla_new)
    targets = {"service_level": target, "within_s": within_s, "abandon_max": amax, "occupancy_max": occ}

    arguments.workers(workers)
    arguments.out_dir(out_dir)
    if resume and out_dir is None:
        raise ValueError("resume=True needs out_dir (the folder of the search to continue)")
    if verify is not False and verify is not None and verify is not True:
        verify = sorted({int(p) for p in verify})
        for p in verify:
            if not 0 <= p < base.n_intervals:
                raise ValueError(f"verify: interval {p} is outside 0..{base.n_intervals - 1}")
    started = time.perf_counter()
    if workers is None and scheduler is None:
        workers = _search_workers(base, int(replications), engine, verify)
    search = _Search(base, scenario, targets, seed=seed, replications=int(replications), confidence=confidence,
                     joint=joint, engine=engine, max_evaluations=max_evaluations, progress=progress,
                     run_options={"workers": workers, "scheduler": scheduler}, cost=costs)
    search.E.set_stepper(workers or default_workers())
    try:
        return _run_search(search, base, seed, replications, engine, targets, confidence, joint, verify,
                           max_evaluations, shrink, costs, out_dir, resume, started)
    finally:
        search.E.close()


def _run_search(search, base, seed, replications, engine, targets, confidence, joint, verify, max_evaluations,
                shrink, costs, out_dir, resume, started) -> StaffingPlan:
    if out_dir is None:
        plan = search.run(verify)
        plan.shrinkage = shrink
        plan.wall_s = time.perf_counter() - started
        return plan
    options = {"targets": targets, "confidence": confidence, "joint": bool(joint), "verify": verify,
               "max_evaluations": int(max_evaluations), "shrinkage": None if shrink is None else shrink.tolist(),
               "cost": None if costs is None else costs.tolist()}
    fp = search_fingerprint(base, seed=seed, replications=int(replications), engine=engine, options=options)
    folder = os.fspath(out_dir)
    _check_search_folder(folder)
    with claim(folder):
        search.E.store = store = EvalStore(folder, fp, resume)
        try:
            plan = search.run(verify)
        except KeyboardInterrupt as exc:
            store.finish("interrupted", _folder_info(search, started))
            exc.staff_evaluations = search.E.count        # type: ignore[attr-defined]
            raise
        plan.shrinkage = shrink
        plan.wall_s = time.perf_counter() - started
        store.finish("done", _folder_info(search, started),
                     {"plan.json": render(plan, "json"), "plan.csv": render(plan, "csv"),
                      "staffed.yaml": plan.scenario_yaml()})
    return plan


def _costs(cost, scenario: Scenario) -> np.ndarray | None:
    """Cost per agent-hour of every group, from ``{group: cost}`` or ``"scenario"`` (groups' cost_per_hour)."""
    if cost is None:
        return None
    names = [g.name for g in scenario.groups]
    if isinstance(cost, str):
        if cost != "scenario":
            raise ValueError(f"cost must be {{group: cost per hour}} or 'scenario', not {cost!r}")
        missing = [g.name for g in scenario.groups if g.cost_per_hour is None]
        if missing:
            raise ValueError(f"cost='scenario' needs cost_per_hour on every group; missing on {', '.join(missing)}")
        cost = {g.name: g.cost_per_hour for g in scenario.groups}
    if not isinstance(cost, dict):
        raise ValueError(f"cost must be {{group: cost per hour}} or 'scenario', not {cost!r}")
    unknown = sorted(set(cost) - set(names))
    if unknown:
        raise ValueError(f"cost names unknown group(s) {', '.join(unknown)}; the groups are {', '.join(names)}")
    missing = [n for n in names if n not in cost]
    if missing:
        raise ValueError(f"cost: give a cost per hour for every group; missing: {', '.join(missing)}")
    out = []
    for n in names:
        try:
            v = float(cost[n])
        except (TypeError, ValueError):
            raise ValueError(f"cost of {n} must be a number, not {cost[n]!r}") from None
        if not (math.isfinite(v) and v > 0):
            raise ValueError(f"cost of {n} must be a positive number, not {cost[n]!r}")
        out.append(v)
    return np.array(out)


def _search_workers(base: Scenario, replications: int, engine: str, verify) -> int | None:
    """Workers for a search whose candidates are each too small for :func:`simcc.simulate` to start worker
    processes (about 2 million calls) but add up to far more: the processes start once and serve every
    candidate. Quanzhou (about 830,000 calls a candidate in 20 replications, 185 candidates) runs 1.4-1.8
    times faster on two cores than in this process. None (each simulate decides) for tiny candidates, where
    the hand-over costs more than it saves, and on one core."""
    scale = 1.0 if engine == "kernel" else 0.01
    per_candidate = base.expected_calls() * replications
    measured = sum(1 for p in range(base.n_intervals) if p * base.interval_s >= base.warmup_minutes * 60.0)
    candidates = measured * len(base.groups) if verify is not False and verify is not None else 4
    cores = default_workers()
    if (cores > 1 and replications >= AUTO_MIN_REPLICATIONS and per_candidate >= AUTO_MIN_CALLS * scale / 10
            and per_candidate * candidates >= AUTO_MIN_CALLS * scale):
        return cores
    return None


def _check_search_folder(folder: str) -> None:
    """Refuse a folder that holds a simcc run (or sweep) rather than a staffing search."""
    marker = os.path.join(folder, MARKER)
    if os.path.exists(marker) and is_simcc_meta(marker):
        with open(marker, encoding="utf-8") as fh:
            kind = json.load(fh).get("kind")
        if kind != "staff":
            raise NotARunFolder(f"{folder} holds the output of another simcc command, not a staffing search; "
                                f"choose another folder (nothing was changed)")


def _folder_info(search: _Search, started: float) -> dict:
    E = search.E
    return {"evaluations": E.count, "simulated_days": int(round(E.days)),
            "resumed_evaluations": E.store.loaded if E.store is not None else 0,
            "simulated_here": E.simulated, "wall_s": round(time.perf_counter() - started, 3)}


#: The repair gives up on an interval that has failed this many rounds in a row (agents doubling) when
#: its bounds have not moved in the last three: more agents do not help there (too few replications for
#: the rule, or callers no agent can reach). The plan then reports it as failing.
STUCK_ROUNDS = 6

#: A removal or swap at interval p is kept when intervals p .. p + WINDOW - 1 pass; the whole day is
#: simulated once at the end (:meth:`_Search.confirm`).
WINDOW = 6


class _Search:
    """The three steps of :func:`staff` over one evaluator (common random numbers for every candidate)."""

    def __init__(self, base: Scenario, source: Scenario, targets: dict, *, seed, replications: int, confidence,
                 joint: bool, engine: str, max_evaluations: int, progress, run_options: dict | None = None,
                 cost: np.ndarray | None = None):
        self.base, self.source, self.targets = base, source, targets
        self.cost = cost
        self.seed, self.replications, self.confidence, self.engine = seed, replications, confidence, engine
        self.max_evaluations = max_evaluations
        target, amax, occ = targets["service_level"], targets["abandon_max"], targets["occupancy_max"]
        P, G = base.n_intervals, len(base.groups)
        self.P, self.G = P, G
        self.measured = np.arange(P) * base.interval_s >= base.warmup_minutes * 60.0
        self.scheduled = np.array([base.agents_per_interval(g) for g in base.groups], dtype=np.int64).T   # [P, G]
        self.floor = (self.scheduled > 0).astype(np.int64)
        self.baseline = erlang_baseline(base, target, targets["within_s"], amax, occ)
        self.n_checks = int(self.measured.sum()) * sum(v is not None for v in (target, amax, occ))
        self.level = confidence
        if confidence is not None and joint and self.n_checks > 1:
            self.level = 1 - (1 - confidence) / self.n_checks      # Bonferroni over interval checks
        self.user_progress = progress
        self.phase = "start"
        self.started = time.perf_counter()
        self.descent = {"done": 0, "total": 0, "evals_at_start": 0}
        self.E = _Evaluator(base, seed, replications, engine, self.level, target, amax, occ, self.measured,
                            self._tick if progress is not None else None, run_options=run_options)
        self.curves = ErlangCurves(self.baseline.load, targets["within_s"])
        self.history: list = []
        self.window = WINDOW        # descent and cost pass: keep a change that passes this many intervals
        self.hopeless = np.zeros(P, dtype=bool)   # intervals the repair gave up on (more agents did not help)
        self.one_fewer: list = [None] * P
        self.x = None
        self.ev = None

    def run(self, verify) -> StaffingPlan:
        """The three steps (and with costs the cost pass), then the plan."""
        self.start()
        self.repair()
        if verify is not False and verify is not None:
            self.descend(verify)
            if self.cost is not None:
                self.cost_pass(verify)
            self.confirm()
        return self.plan()

    def confirm(self) -> None:
        """The plan's whole day, simulated: removals and swaps are kept on the intervals just after them
        (WINDOW), so the plan may fail further on. Then the failing intervals are repaired and checked
        again, this time each change on the whole day."""
        if not getattr(self.ev, "partial", False):
            return
        self.phase = "confirm"
        self.ev = self.E(self.x)
        self.note("confirm")
        if not self.ev.fail.any():
            return
        was = self.x.copy()
        self.window = None
        self.repair()
        changed = {int(p) for p in np.flatnonzero((self.x != was).any(axis=1))}
        first = min(changed, default=self.P)
        for p, out in enumerate(self.one_fewer):      # one fewer failed at or after a repaired interval: again
            if any(v["fails_at"] is not None and v["fails_at"] >= first for v in (out or {}).values()):
                changed.add(p)
        self.descend(sorted(changed))
        if self.cost is not None:
            self.cost_pass(sorted(changed))

    def _tick(self, count: int) -> None:
        """Tell the caller's progress function where the search is (after every evaluation)."""
        E, d = self.E, self.descent
        done = total = eta = None
        if self.phase in ("descend", "cost"):
            done, total = d["done"], d["total"]
            used = E.count - d["evals_at_start"]
            if done and E.simulated and total > done:
                per_eval = E.sim_time_s / E.simulated             # this process's pace (resumed work is free)
                eta = (total - done) * (used / done) * per_eval
            elif total and done >= total:
                eta = 0.0
        failing = None if self.ev is None else int(self.ev.fail.sum())
        self.user_progress(SearchProgress(self.phase, E.count, int(round(E.days)),
                                          E.store.loaded if E.store is not None else 0,
                                          time.perf_counter() - self.started, done, total, eta, failing))

    def note(self, stage: str) -> None:
        self.history.append({"stage": stage, "agent_hours": float(self.ev.agents.sum() * self.base.interval_s / 3600),
                             "failing": int(self.ev.fail.sum())})

    def start(self) -> None:
        """Step 1: the pooled Erlang A answer per interval, split across groups like the scenario's headcount."""
        day_share = self.scheduled.sum(axis=0).astype(np.float64)
        x = np.zeros((self.P, self.G), dtype=np.int64)
        for p in range(self.P):
            shares = self.scheduled[p].astype(np.float64)
            if shares.sum() <= 0:
                shares = day_share
            x[p] = _split(int(self.baseline.erlang_a[p]), shares, self.floor[p])
        self.x, self.ev = x, self.E(x)
        self.note("start")

    def shortfall(self, ev, p) -> float:
        """Agents interval p is short of (from the Erlang curve calibrated to the simulation)."""
        t = self.targets
        n = int(ev.agents[p].sum())
        need = 0.0
        if t["service_level"] is not None and ev.sl[1][p] < t["service_level"]:
            need = max(need, self.curves.gap(p, n, ev.sl[1][p], t["service_level"], "sl"))
        if t["abandon_max"] is not None and ev.ab[2][p] > t["abandon_max"]:
            need = max(need, self.curves.gap(p, n, ev.ab[2][p], t["abandon_max"], "ab"))
        if t["occupancy_max"] is not None and ev.occ[2][p] > t["occupancy_max"]:
            need = max(need, ev.occ[2][p] * n / t["occupancy_max"] - n)
        return need

    def repair(self) -> None:
        """Step 2: add agents to every failing interval until every interval passes."""
        self.phase = "repair"
        E, x, ev = self.E, self.x, self.ev
        streak = np.zeros(self.P, dtype=np.int64)
        seen: dict = {}             # interval -> its (service level bound, abandonment bound) by failing round
        while (ev.fail & ~self.hopeless).any() and E.count < self.max_evaluations:
            x = x.copy()
            for p in np.flatnonzero(ev.fail & ~self.hopeless):
                streak[p] += 1
                past = seen.setdefault(int(p), [])
                past.append((np.nan_to_num(ev.sl[1][p], nan=1.0), np.nan_to_num(ev.ab[2][p], nan=0.0)))
                if streak[p] > STUCK_ROUNDS and past[-1][0] <= past[-4][0] + 1e-3 and past[-1][1] >= past[-4][1] - 1e-3:
                    self.hopeless[p] = True         # more agents stopped helping: leave it failing
                    self.note("gave up")
                    self.history[-1].update(interval=int(p), time=hhmm(p * self.base.interval_s), reason=ev.reason[p])
                    continue
                k = max(1, math.ceil(self.shortfall(ev, p) - 1e-9))
                if streak[p] > 2:                      # the curve keeps underestimating: double
                    k = max(k, 2 ** (streak[p] - 2))
                for g in E.groups_to_add(ev, p, x, min(k, 256)):
                    x[p, g] += 1
            streak[~ev.fail] = 0
            changed = np.flatnonzero((x != self.x).any(axis=1))
            if not changed.size:            # every failing interval given up on
                break
            first = int(changed[0])
            ev = E.check(self.ev, x, first, whole=True)     # the day up to the first change is the plan's
            self.x, self.ev = x, ev
            self.note("repair")

    def _removal_order(self, p: int) -> list[int]:
        """Groups to try taking an agent from at interval p: in the cost pass, the most expensive first."""
        order = self.E.groups_to_remove(self.ev, p, self.x, self.floor)
        if self.phase == "cost":
            order = sorted(order, key=lambda g: -self.cost[g])     # stable: ties keep the least busy first
        return order

    def _try(self, trial: np.ndarray, p: int):
        """Judge a candidate that differs from the current plan only in interval p (and later): kept when it
        passes the intervals p .. p + WINDOW - 1 (:meth:`confirm` simulates the whole day at the end)."""
        return self.E.check(self.ev, trial, p, self.window)

    def _swap_at(self, p: int) -> bool:
        """With costs: the cheapest headcount of interval p that passes, the other intervals fixed
        (:func:`simcc.plan.costsearch.cheapest_row`); every cheaper passing row found is kept at once, so
        the plan only gets cheaper. True when interval p changed; ``one_fewer[p]`` then says where one
        agent fewer of each group fails."""
        if self.phase != "cost":
            return False
        E, c, base = self.E, self.cost, self.base
        failures: dict = {}                 # row -> (first failing interval, reason)

        def judge(row):
            if E.count >= self.max_evaluations:
                return None
            trial = self.x.copy()
            trial[p] = row
            ev = self._try(trial, p)
            if ev.fail.any():
                q = int(np.flatnonzero(ev.fail)[0])
                failures[row.tobytes()] = (q, ev.reason[q])
                return False
            if float(c @ row) < float(c @ self.x[p]) - 1e-9:
                self.x, self.ev = trial, ev
                self.note("cost")
            return True

        start = self.x[p].copy()
        floor = self.floor[p]
        patience = max(COST_PATIENCE, int(COST_CALLS // max(1.0, base.expected_calls() * self.replications)))
        while True:
            row = self.x[p]
            fewer = [row - np.eye(self.G, dtype=np.int64)[g] for g in range(self.G) if row[g] > floor[g]]
            found = cheapest_row(row, c, floor, judge, margin=COST_MARGIN, patience=patience,
                                first=fewer)
            self.cost_log.append((p, found.trials, found.exhausted))
            if np.array_equal(self.x[p], start):
                return False
            # where one agent fewer fails (judged here when the search only assumed it), as the descent records
            outcome, again = {}, False
            for g in range(self.G):
                name = base.groups[g].name
                if self.x[p, g] <= floor[g]:
                    outcome[name] = {"fails_at": None, "time": "", "reason": "at floor"}
                    continue
                key = (self.x[p] - np.eye(self.G, dtype=np.int64)[g]).tobytes()
                if key not in failures:
                    verdict = judge(self.x[p] - np.eye(self.G, dtype=np.int64)[g])
                    if verdict:             # one fewer passes after all (the assumption failed): search again
                        again = True
                        break
                    if verdict is None:     # out of evaluations
                        continue
                q, why = failures[key]
                outcome[name] = {"fails_at": q, "time": hhmm(q * base.interval_s), "reason": why}
            if not again:
                self.one_fewer[p] = outcome
                return True

    def _descend_at(self, p: int, changed_at: list, swap: bool = True) -> dict:
        """Take agents from interval p while the day still passes (with costs and ``swap``, also swap agents
        for cheaper ones); return where one fewer fails, per group."""
        E, base = self.E, self.base
        while E.count < self.max_evaluations:
            outcome = {}
            for g in self._removal_order(p):
                trial = self.x.copy()
                trial[p, g] -= 1
                ev2 = self._try(trial, p)
                if not ev2.fail.any():
                    self.x, self.ev = trial, ev2
                    changed_at.append(p)
                    self.note("descend")
                    break
                q = int(np.flatnonzero(ev2.fail)[0])
                outcome[base.groups[g].name] = {"fails_at": q, "time": hhmm(q * base.interval_s),
                                                "reason": ev2.reason[q]}
            else:
                for g in range(self.G):
                    if self.x[p, g] <= self.floor[p, g]:
                        outcome[base.groups[g].name] = {"fails_at": None, "time": "", "reason": "at floor"}
                if swap and self._swap_at(p):
                    changed_at.append(p)
                    continue
                return outcome
        return None

    def cost_pass(self, verify) -> None:
        """Step 4 (with costs), from the descended plan, in time order: in each interval, the cheapest
        headcount that passes with the other intervals as they are (:meth:`_swap_at`). Every kept change
        lowers the cost, so the plan never costs more than the plan with the fewest agents."""
        check = list(range(self.P)) if verify is True else list(verify)
        self.phase = "cost"
        self.descent.update(done=0, total=len(check), evals_at_start=self.E.count)
        self.cost_log = []          # (interval, rows judged, exhausted) per search
        moved = False               # an earlier interval changed: later one-fewer records are stale
        for p in check:
            if not self.measured[p] or self.E.count >= self.max_evaluations:
                continue
            before = self.x[p].copy()
            if not self._swap_at(p) and moved:      # one agent fewer, again, on the plan as it is now
                outcome = self._descend_at(p, [], swap=False)
                if outcome is not None:
                    self.one_fewer[p] = outcome
            moved = moved or not np.array_equal(before, self.x[p])
            self.descent["done"] += 1

    def descend(self, verify) -> None:
        """Step 3: descend and verify, interval by interval in time order (a change at p moves p and later)."""
        P = self.P
        check = list(range(P)) if verify is True else sorted({int(p) for p in verify})
        for p in check:
            if not 0 <= p < P:
                raise ValueError(f"verify: interval {p} is outside 0..{P - 1}")
        check = [p for p in check if self.measured[p]]
        self.phase = "descend"
        self.descent.update(done=0, total=len(check), evals_at_start=self.E.count)
        changed_at: list = []           # intervals where a removal was kept, in order
        checked_when: dict = {}         # interval -> len(changed_at) when its check finished
        while check and self.E.count < self.max_evaluations:
            for p in check:
                outcome = self._descend_at(p, changed_at)
                if outcome is None:      # out of evaluations
                    break
                self.one_fewer[p] = outcome
                checked_when[p] = len(changed_at)
                if self.descent["done"] < self.descent["total"]:
                    self.descent["done"] += 1
            # a check is stale if a later kept removal could have moved the interval where it failed
            # (noise, since the random numbers are re-dealt after a change): check those again
            check = []
            for p, when in checked_when.items():
                qs = [v["fails_at"] for v in (self.one_fewer[p] or {}).values() if v["fails_at"] is not None]
                if qs and any(c <= max(qs) for c in changed_at[when:]):
                    check.append(p)
                    checked_when[p] = len(changed_at)
            check.sort()

    def plan(self) -> StaffingPlan:
        ev, base = self.ev, self.base
        res = self.E.result(ev)
        iv_m, iv_lo, iv_hi = mean_ci(res.intervals)
        kpis = {k: (iv_m[:, _K[k]], iv_lo[:, _K[k]], iv_hi[:, _K[k]])
                for k in ("offered", "queued", "service_level", "abandon_rate", "occupancy", "asa_s", "agents")}
        bound = {"service_level": ev.sl[1], "abandon_rate": ev.ab[2], "occupancy": ev.occ[2]}
        return StaffingPlan(
            agents=self.x, group_names=tuple(g.name for g in base.groups), erlang_a=self.baseline.erlang_a,
            erlang_c=self.baseline.erlang_c, scheduled=self.scheduled.sum(axis=1), kpis=kpis, bound=bound,
            passed=~ev.fail, one_fewer=self.one_fewer, measured=self.measured, scenario=self.E.scenario(self.x),
            source=self.source, result=res, targets=self.targets, seed=self.seed, replications=self.replications,
            confidence=self.confidence, evaluations=self.E.count, engine=self.engine, history=self.history,
            check_level=self.level, n_checks=self.n_checks, run_options=self.E.run_options,
            resumed=self.E.store.loaded if self.E.store is not None else 0, cost_per_hour=self.cost,
            days=self.E.days)
