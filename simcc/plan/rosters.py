"""Per-agent rosters over weeks (``simcc roster``): which named agent works which shift on which date.

:mod:`simcc.plan.shifts` says how many agents each shift template needs on
one day. This module goes one step further: given the agents by name (an
agents CSV), the rules they work under (a rules YAML) and the requirement of
agents per interval and group, it chooses for every agent and every date of
``weeks`` weeks either a rest day or one shift, with OR-Tools CP-SAT.

The model
---------
* **Shifts** come from the rules (``shifts``): every start on the
  ``start_every_minutes`` grid between ``earliest_start`` and
  ``latest_start``, every length of ``lengths_hours``, with one unpaid break
  placed by a simple rule (in the middle of the shift, or ``break_after_hours``
  after its start) on shifts of at least ``break_from_hours``.
* **Variables**: one 0/1 per agent, date and shift the agent may work
  (shifts that break a time-of-day rule of the agent are never created).
* **Hard rules** (per agent, set in ``defaults`` and overridden per
  ``subgroups``): whole rest days per week, minimum rest between shifts
  (which also rules out night-to-morning turns), most consecutive working
  days, weekly paid hours (the agent's contract, or a range), home by a time,
  no night work (22:00-06:00), fixed study slots (no shift then, or on shift
  but off the phones), and the agent's unavailable dates and windows.
* **Objective** (all soft, weighted by ``weights``): agent-intervals short of
  the requirement (heavy), agent-intervals above it (light), agent
  preferences not met (preferred start ranges, preferred days off), and the
  largest number of nights and of weekend days any one agent of a group works
  (fair sharing of unpopular shifts). Large rosters, improved block by block,
  end with trades of unpopular shifts between agents (:func:`_share`).

Coverage is soft, so a roster always exists unless some agent's own rules
contradict each other; then :func:`diagnose` re-solves that agent alone with
rule families dropped one at a time and names the rules that cannot all hold.

Every roster is checked again by :func:`check_roster`, which reads only the
roster's rows (dates and clock times) and the rules, never the solver's
model, and by :func:`roster_headcount`, which counts agents on the phones per
interval from the rows alone (what ``simcc run --roster`` simulates).

OR-Tools is optional (``pip install "simcc[roster]"``) and imported only when
a roster is solved.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import os
import re
import time
from dataclasses import dataclass, field
from typing import Annotated, Literal, Sequence

import numpy as np
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..errors import ScenarioError
from ..jsonsafe import jsonable
from ..model.yamlio import read_yaml
from ..run.export import csv_text
from .shifts import ShiftTemplate

__all__ = ["AGENT_COLUMNS", "Agent", "FAMILIES", "RosterInputError", "RosterResult", "Rules", "ShiftTemplate",
           "check_roster", "diagnose", "load_rules", "read_agents", "read_roster_csv", "requirement_from_plan",
           "requirement_from_scenario", "roster_day_scenario", "roster_headcount", "scenario_for_date",
           "shift_templates", "solve_roster"]

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
DAY = 1440
NIGHT = (22 * 60, 6 * 60)          #: night work: any minute from 22:00 to 06:00 (as in scenario rosters)
AGENT_COLUMNS = ("agent", "group", "contract_hours", "subgroup", "unavailable", "prefers")
ROSTER_COLUMNS = ("agent", "date", "start", "end", "group", "break_start", "break_minutes", "off_phones")
#: The hard-rule families, in the order :func:`diagnose` tries dropping them.
FAMILIES = ("unavailable", "study", "home_by", "no_nights", "rest_days_per_week", "max_consecutive_days",
            "min_rest_hours", "weekly_hours")
INSTALL_HINT = 'per-agent rosters need OR-Tools: pip install "simcc[roster]"'


class RosterInputError(ValueError):
    """A bad agents file, rules file, plan or roster file; the message names the row or the field and why."""


# ----------------------------------------------------------------------------------------------------------
# clock times
# ----------------------------------------------------------------------------------------------------------
_HHMM = re.compile(r"^(\d{1,2}):(\d{2})$")


def _minutes(text: str, what: str = "time", allow_24: bool = False) -> int:
    """'08:30' -> 510 (``24:00`` only when ``allow_24``)."""
    m = _HHMM.match(str(text).strip())
    if m is None:
        raise ValueError(f"{what} {text!r} is not a clock time HH:MM")
    h, mi = int(m.group(1)), int(m.group(2))
    if mi > 59 or h > 24 or (h == 24 and (mi or not allow_24)):
        raise ValueError(f"{what} {text!r} is not a clock time from 00:00 to {'24:00' if allow_24 else '23:59'}")
    return h * 60 + mi


def _hhmm(minutes: int) -> str:
    m = int(minutes) % DAY
    return f"{m // 60:02d}:{m % 60:02d}"


def _check_hhmm(text: str) -> str:
    _minutes(text, "time", allow_24=True)
    return text


HHMM = Annotated[str, AfterValidator(_check_hhmm)]


# ----------------------------------------------------------------------------------------------------------
# rules (YAML, validated)
# ----------------------------------------------------------------------------------------------------------
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ShiftRules(_Strict):
    """The shift templates every agent chooses from (before the agent's own rules)."""

    lengths_hours: Annotated[list[Annotated[float, Field(gt=0, lt=24)]], Field(min_length=1)] = [9.0]
    start_every_minutes: Annotated[int, Field(gt=0, le=DAY)] = 60
    earliest_start: HHMM = "00:00"
    latest_start: HHMM = "23:59"
    break_minutes: Annotated[int, Field(ge=0, le=240)] = 60
    break_after_hours: Annotated[float, Field(gt=0)] | None = None
    break_from_hours: Annotated[float, Field(ge=0)] = 6.0

    def paid_hours(self) -> list[float]:
        return sorted({h - (self.break_minutes / 60 if self.break_minutes and h >= self.break_from_hours else 0)
                       for h in self.lengths_hours})


class HoursRange(_Strict):
    min: Annotated[float, Field(ge=0, le=168)] = 0.0
    max: Annotated[float, Field(ge=0, le=168)] = 40.0

    @model_validator(mode="after")
    def _ordered(self):
        if self.min > self.max:
            raise ValueError(f"min ({self.min:g} h) is above max ({self.max:g} h)")
        return self


class StudySlot(_Strict):
    """A fixed weekly slot: no shift may overlap it (``off_shift``), or the agent is off the phones then."""

    weekday: Literal[WEEKDAYS]  # type: ignore[valid-type]
    start: HHMM
    end: HHMM
    mode: Literal["off_shift", "off_phones"] = "off_shift"

    @model_validator(mode="after")
    def _ordered(self):
        if _minutes(self.end, allow_24=True) <= _minutes(self.start, allow_24=True):
            raise ValueError(f"study slot ends ({self.end}) before it starts ({self.start})")
        return self


class AgentRules(_Strict):
    """Hard rules for one agent (``defaults``, or a subgroup's overrides of them)."""

    rest_days_per_week: Annotated[int, Field(ge=0)] = 2
    min_rest_hours: Annotated[float, Field(ge=0, le=72)] = 11.0
    max_consecutive_days: Annotated[int, Field(ge=1)] = 6
    hours_per_week: HoursRange = HoursRange()
    contract_tolerance_hours: Annotated[float, Field(ge=0)] = 0.0
    whole_rest_days: bool = False
    home_by: HHMM | None = None
    no_nights: bool = False
    study: list[StudySlot] = []

    @field_validator("rest_days_per_week")
    @classmethod
    def _a_week_has_seven_days(cls, v: int) -> int:
        if v > 7:
            raise ValueError(f"rest_days_per_week is {v}, but a week has 7 days")
        return v


class Requirement(_Strict):
    scale: Annotated[float, Field(gt=0, le=100)] = 1.0
    weekend_scale: Annotated[float, Field(ge=0, le=100)] = 1.0


class Weights(_Strict):
    shortfall: Annotated[int, Field(ge=0, le=1_000_000)] = 100
    surplus: Annotated[int, Field(ge=0, le=1_000_000)] = 1
    preference: Annotated[int, Field(ge=0, le=1_000_000)] = 2
    fairness: Annotated[int, Field(ge=0, le=1_000_000)] = 5


class Rules(_Strict):
    """A rules file (see docs/planning.md, "Per-agent rosters")."""

    start_date: dt.date = dt.date(2026, 1, 5)
    rotation: bool = True
    requirement: Requirement = Requirement()
    shifts: ShiftRules = ShiftRules()
    defaults: AgentRules = AgentRules()
    subgroups: dict[str, AgentRules] = {}
    weights: Weights = Weights()
    fairness: list[Literal["nights", "weekends"]] = ["nights", "weekends"]

    @model_validator(mode="after")
    def _possible(self):
        for name, r in [("defaults", self.defaults)] + [(f"subgroups.{k}", self.rules_for(k))
                                                         for k in self.subgroups]:
            days = 7 - r.rest_days_per_week
            most = days * max(self.shifts.paid_hours())
            if r.hours_per_week.min > most + 1e-9:
                raise ValueError(
                    f"{name}.hours_per_week.min: {r.hours_per_week.min:g} h a week is more than {days} shift(s) "
                    f"(7 days less rest_days_per_week {r.rest_days_per_week}) of at most "
                    f"{max(self.shifts.paid_hours()):g} paid hours can give")
        return self

    def rules_for(self, subgroup: str | None) -> AgentRules:
        """The defaults with a subgroup's own keys put over them."""
        if not subgroup:
            return self.defaults
        sub = self.subgroups[subgroup]
        merged = self.defaults.model_dump()
        merged.update(sub.model_dump(include=set(sub.model_fields_set)))
        return AgentRules(**merged)


def _pydantic_message(exc: ValidationError, source: str, lines: dict | None = None) -> str:
    out = []
    for e in exc.errors():
        path = ".".join(str(p) for p in e["loc"])
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown key (not a rule this file knows)"
        line = (lines or {}).get(path)
        out.append(f"{source}{f' line {line}' if line else ''}: {path or 'rules'}: {msg}")
    return "; ".join(out)


def load_rules(rules: Rules | dict | str | os.PathLike | None = None) -> Rules:
    """Rules from a YAML file, a dict, or the defaults.

    Raises
    ------
    RosterInputError
        Unknown keys (the key named), bad values, and impossible rules (which rule and why).

    Examples
    --------
    >>> load_rules({"defaults": {"rest_days_per_week": 1}}).defaults.rest_days_per_week
    1
    >>> load_rules({"defaults": {"rest_days": 1}})
    Traceback (most recent call last):
    ...
    simcc.plan.rosters.RosterInputError: rules: defaults.rest_days: unknown key (not a rule this file knows)
    """
    if isinstance(rules, Rules):
        return rules
    lines: dict = {}
    source = "rules"
    if rules is None:
        data: object = {}
    elif isinstance(rules, dict):
        data = rules
    else:
        source = os.fspath(rules)
        try:
            data, lines = read_yaml(source)
        except ScenarioError as exc:
            p = exc.problems[0]
            hint = ' (quote dates and times: "2026-01-05", "18:00")' if "timestamp" in p.message else ""
            raise RosterInputError(f"{source}{f' line {p.line}' if p.line else ''}: {p.message}{hint}") from None
    if not isinstance(data, dict):
        raise RosterInputError(f"{source}: expected a mapping of rules, not {type(data).__name__}")
    try:
        return Rules(**data)
    except ValidationError as exc:
        raise RosterInputError(_pydantic_message(exc, source, lines)) from None


# ----------------------------------------------------------------------------------------------------------
# shift templates
# ----------------------------------------------------------------------------------------------------------
def break_for(shifts: ShiftRules, length_min: int, interval: int) -> tuple[int | None, int]:
    """Where the unpaid break of a shift of ``length_min`` starts (minutes after its start) and how long it is."""
    if not shifts.break_minutes or length_min < shifts.break_from_hours * 60 or shifts.break_minutes >= length_min:
        return None, 0
    if shifts.break_after_hours is not None:
        at = int(round(shifts.break_after_hours * 60))
    else:
        at = (length_min - shifts.break_minutes) // 2
    at -= at % interval
    return at, shifts.break_minutes


def shift_templates(shifts: ShiftRules, interval: int) -> list[ShiftTemplate]:
    """Every shift the rules allow, on ``interval``-minute borders.

    Examples
    --------
    >>> ts = shift_templates(ShiftRules(lengths_hours=[9], start_every_minutes=60, break_minutes=60), 30)
    >>> len(ts), ts[8].name, ts[8].break_start_min, ts[8].paid_min
    (24, '08:00 9h (break 12:00 60m)', 240, 480)
    """
    first, last = _minutes(shifts.earliest_start), _minutes(shifts.latest_start)
    if shifts.start_every_minutes % interval:
        raise RosterInputError(f"rules: shifts.start_every_minutes ({shifts.start_every_minutes}) must be a multiple "
                               f"of the scenario's {interval}-minute interval")
    out = []
    for hours in shifts.lengths_hours:
        length = int(round(hours * 60))
        if length % interval:
            raise RosterInputError(f"rules: shifts.lengths_hours {hours:g} h is not a whole number of "
                                   f"{interval}-minute intervals")
        b0, bm = break_for(shifts, length, interval)
        if bm % interval:
            raise RosterInputError(f"rules: shifts.break_minutes ({bm}) must be a multiple of the {interval}-minute "
                                   "interval")
        if b0 is not None and b0 + bm > length:
            raise RosterInputError(f"rules: shifts.break_after_hours puts the break outside a {hours:g} h shift")
        s = first - first % interval
        if s < first:
            s += interval
        while s <= last:
            out.append(ShiftTemplate(s, length, b0, bm))
            s += shifts.start_every_minutes
    if not out:
        raise RosterInputError("rules: shifts: no start fits between earliest_start and latest_start")
    return out


def _works_at_night(start: int, end: int) -> bool:
    """Does the span [start, end) (minutes after a midnight) touch 22:00-06:00 of any day?"""
    for k in range(-1, 3):
        a, b = k * DAY + NIGHT[0], (k + 1) * DAY + NIGHT[1]
        if start < b and a < end:
            return True
    return False


# ----------------------------------------------------------------------------------------------------------
# agents (CSV)
# ----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Window:
    """Unavailable (or preferred-off) time: a date or a weekday, whole (start 0, end 1440) or a window."""

    date: dt.date | None
    weekday: int | None
    start: int = 0
    end: int = DAY

    @property
    def whole_day(self) -> bool:
        return self.start == 0 and self.end == DAY


@dataclass(frozen=True)
class Agent:
    """One row of the agents file."""

    agent: str
    group: str
    contract_hours: float | None = None
    subgroup: str | None = None
    unavailable: tuple = ()
    prefers_start: tuple = ()          #: (from, to) minutes after midnight, inclusive
    prefers_off: tuple = ()            #: Window (whole days) the agent would rather not work
    line: int = 0


def _parse_when(item: str, where: str) -> Window:
    """``2026-01-07``, ``2026-01-07 08:00-12:00``, ``Sun`` or ``Sun 08:00-12:00``."""
    parts = item.split()
    if not parts or len(parts) > 2:
        raise ValueError(f"{where}: {item!r} is not DATE, WEEKDAY, 'DATE HH:MM-HH:MM' or 'WEEKDAY HH:MM-HH:MM'")
    day, date = None, None
    if parts[0].capitalize()[:3] in WEEKDAYS and len(parts[0]) >= 3 and not parts[0][0].isdigit():
        day = WEEKDAYS.index(parts[0].capitalize()[:3])
    else:
        try:
            date = dt.date.fromisoformat(parts[0])
        except ValueError:
            raise ValueError(f"{where}: {parts[0]!r} is neither a date (YYYY-MM-DD) nor a weekday (Mon..Sun)") from None
    start, end = 0, DAY
    if len(parts) == 2:
        a, sep, b = parts[1].partition("-")
        if not sep:
            raise ValueError(f"{where}: {parts[1]!r} is not a window HH:MM-HH:MM")
        start, end = _minutes(a, f"{where}: window start"), _minutes(b, f"{where}: window end", allow_24=True)
        if end <= start:
            raise ValueError(f"{where}: window {parts[1]} ends before it starts")
    return Window(date, day, start, end)


def read_agents(source, group_names: Sequence[str], rules: Rules | None = None) -> list[Agent]:
    """Agents from a CSV file (a path, or the text itself when it holds a newline).

    Columns (all six, in any order): ``agent`` (unique id), ``group`` (a group of
    the scenario), ``contract_hours`` (weekly paid hours; empty: the rules'
    ``hours_per_week``), ``subgroup`` (a name under the rules' ``subgroups``; empty:
    ``defaults``), ``unavailable`` and ``prefers`` (``;``-separated items, see
    docs/planning.md).

    Raises
    ------
    RosterInputError
        Naming the line, the agent and the column: a missing column, an empty
        or duplicate id, an unknown group or subgroup, a contract that is not a
        number of hours (``nan`` included), a bad date or window.

    Examples
    --------
    >>> text = "agent,group,contract_hours,subgroup,unavailable,prefers\\nA1,general,40,,,\\nA2,sales,40,,,\\n"
    >>> read_agents(text, ["general"])
    Traceback (most recent call last):
    ...
    simcc.plan.rosters.RosterInputError: agents line 3 (agent A2), column group: unknown group 'sales'; ...
    """
    rules = rules or Rules()
    name, text = _read_text(source, "agents", "the agents file")
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise RosterInputError(f"{name}: the file is empty; expected the columns {', '.join(AGENT_COLUMNS)}") from None
    missing = [c for c in AGENT_COLUMNS if c not in header]
    if missing:
        raise RosterInputError(f"{name} line 1: missing column(s) {', '.join(missing)}; the columns are "
                               f"{', '.join(AGENT_COLUMNS)}")
    extra = [c for c in header if c not in AGENT_COLUMNS]
    if extra:
        raise RosterInputError(f"{name} line 1: unknown column(s) {', '.join(extra)}; the columns are "
                               f"{', '.join(AGENT_COLUMNS)}")
    if len(set(header)) != len(header):
        raise RosterInputError(f"{name} line 1: a column appears twice")
    col = {c: header.index(c) for c in AGENT_COLUMNS}
    agents: list[Agent] = []
    seen: dict[str, int] = {}
    groups = list(group_names)
    for i, row in enumerate(reader, start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise RosterInputError(f"{name} line {i}: {len(row)} values for {len(header)} columns")
        v = {c: row[col[c]].strip() for c in AGENT_COLUMNS}
        aid = v["agent"]
        where = f"{name} line {i}" + (f" (agent {aid})" if aid else "")
        if not aid:
            raise RosterInputError(f"{where}, column agent: empty agent id")
        if aid in seen:
            raise RosterInputError(f"{where}, column agent: duplicate agent id {aid!r} (first on line {seen[aid]})")
        seen[aid] = i
        if v["group"] not in groups:
            raise RosterInputError(f"{where}, column group: unknown group {v['group']!r}; the scenario's groups are "
                                   f"{', '.join(groups)}")
        contract = None
        if v["contract_hours"]:
            try:
                contract = float(v["contract_hours"])
            except ValueError:
                contract = math.nan
            if not math.isfinite(contract) or not 0 <= contract <= 168:
                raise RosterInputError(f"{where}, column contract_hours: {v['contract_hours']!r} is not a number of "
                                       "hours from 0 to 168")
        sub = v["subgroup"] or None
        if sub is not None and sub not in rules.subgroups:
            raise RosterInputError(f"{where}, column subgroup: unknown subgroup {sub!r}; the rules name "
                                   f"{', '.join(rules.subgroups) or 'no subgroups'}")
        try:
            unavailable = tuple(_parse_when(x.strip(), f"{where}, column unavailable")
                                for x in v["unavailable"].split(";") if x.strip())
            starts, off = [], []
            for x in (x.strip() for x in v["prefers"].split(";") if x.strip()):
                kind, _, rest = x.partition(" ")
                if kind == "start":
                    a, sep, b = rest.strip().partition("-")
                    if not sep:
                        raise ValueError(f"{where}, column prefers: {x!r}: expected 'start HH:MM-HH:MM'")
                    what = f"{where}, column prefers: start"
                    lo, hi = _minutes(a, what), _minutes(b, what)
                    if hi < lo:
                        raise ValueError(f"{where}, column prefers: {x!r} ends before it starts")
                    starts.append((lo, hi))
                elif kind == "off":
                    w = _parse_when(rest.strip(), f"{where}, column prefers")
                    if not w.whole_day:
                        raise ValueError(f"{where}, column prefers: {x!r}: 'off' takes a date or a weekday")
                    off.append(w)
                else:
                    raise ValueError(f"{where}, column prefers: {x!r}: expected 'start HH:MM-HH:MM' or 'off DAY'")
        except ValueError as exc:
            raise RosterInputError(str(exc)) from None
        agents.append(Agent(aid, v["group"], contract, sub, unavailable, tuple(starts), tuple(off), i))
    if not agents:
        raise RosterInputError(f"{name}: no agents")
    return agents


# ----------------------------------------------------------------------------------------------------------
# requirement
# ----------------------------------------------------------------------------------------------------------
def _check_day(scenario) -> None:
    if scenario.n_intervals * scenario.interval_minutes != DAY:
        raise RosterInputError(f"a roster needs a scenario of one 24-hour day; {scenario.name} has "
                               f"{scenario.n_intervals} intervals of {scenario.interval_minutes} min")


def requirement_from_scenario(scenario) -> np.ndarray:
    """The scenario's own headcount, agents [interval, group]."""
    _check_day(scenario)
    return np.array([scenario.agents_per_interval(g) for g in scenario.groups], dtype=np.int64).T


def requirement_from_plan(plan, scenario) -> np.ndarray:
    """Agents [interval, group] from a staffing plan (``simcc staff --format json``: a path or the parsed dict),
    or from the shifts ``simcc shifts --select --format json`` selected (the agents on them per interval).

    With shrinkage in the plan, the agents to roster per group are
    ``ceil(on the phones / (1 - shrinkage))``.
    """
    _check_day(scenario)
    if not isinstance(plan, dict):
        name = os.fspath(plan)
        try:
            with open(name, encoding="utf-8") as fh:
                plan = json.load(fh)
        except (OSError, ValueError) as exc:
            raise RosterInputError(f"cannot read the staffing plan {name}: {exc}") from None
    else:
        name = "plan"
    groups = [g.name for g in scenario.groups]
    P = scenario.n_intervals
    selected = plan.get("headcount") if isinstance(plan, dict) else None
    if isinstance(selected, dict) and "joint" in selected:
        return _selected_headcount(plan, selected["joint"], groups, P, name)
    iv = plan.get("intervals") if isinstance(plan, dict) else None
    if not isinstance(iv, dict) or "required" not in iv:
        raise RosterInputError(f"{name}: not a staffing plan (expected the JSON of simcc staff --format json, "
                               "or of simcc shifts --select --format json)")
    cols = [iv["required"]] if len(groups) == 1 else [iv.get(f"agents_{g}") for g in groups]
    for g, c in zip(groups, cols):
        if not isinstance(c, list) or len(c) != P:
            raise RosterInputError(f"{name}: intervals.agents_{g}: expected {P} agent counts for group {g}")
        bad = [x for x in c if not isinstance(x, (int, float)) or isinstance(x, bool) or not math.isfinite(x) or x < 0]
        if bad:
            raise RosterInputError(f"{name}: intervals.agents_{g}: {bad[0]!r} is not an agent count")
    req = np.array(cols, dtype=np.float64).T
    shrink = (plan.get("summary") or {}).get("shrinkage") or {}
    for g, gname in enumerate(groups):
        share = shrink.get(gname, 0.0) if isinstance(shrink, dict) else float(shrink)
        if share:
            req[:, g] = np.ceil(req[:, g] / (1 - share) - 1e-9)
    return np.round(req).astype(np.int64)


def _selected_headcount(data: dict, joint, groups: list, P: int, name: str) -> np.ndarray:
    """Agents [interval, group] on the shifts ``simcc shifts --select`` selected (its ``headcount.joint``)."""
    found = list((data.get("summary") or {}).get("groups") or {})
    if found != groups:
        raise RosterInputError(f"{name}: the selected shifts are for groups {found}, the scenario has {groups}")
    ok = (isinstance(joint, list) and len(joint) == P and
          all(isinstance(row, list) and len(row) == len(groups) for row in joint))
    if not ok:
        raise RosterInputError(f"{name}: headcount.joint: expected {P} rows of {len(groups)} agent counts")
    bad = [x for row in joint for x in row
           if not isinstance(x, (int, float)) or isinstance(x, bool) or not math.isfinite(x) or x < 0]
    if bad:
        raise RosterInputError(f"{name}: headcount.joint: {bad[0]!r} is not an agent count")
    return np.round(np.array(joint, dtype=np.float64)).astype(np.int64)


def _days_requirement(day_req: np.ndarray, rules: Rules, days: int) -> np.ndarray:
    """[day, interval, group]: the day's requirement times ``scale`` (and ``weekend_scale`` on Sat/Sun), rounded."""
    out = np.empty((days,) + day_req.shape, dtype=np.int64)
    for d in range(days):
        weekend = (rules.start_date + dt.timedelta(days=d)).weekday() >= 5
        f = rules.requirement.scale * (rules.requirement.weekend_scale if weekend else 1.0)
        out[d] = np.floor(day_req * f + 0.5)
    return out


# ----------------------------------------------------------------------------------------------------------
# the per-agent domain: which shifts each agent may work on each date
# ----------------------------------------------------------------------------------------------------------
@dataclass
class _Setup:
    rules: Rules
    agents: list
    groups: list
    templates: list
    interval: int
    days: int
    required: np.ndarray          # [D, P, G]

    @property
    def P(self) -> int:
        return DAY // self.interval

    def date(self, d: int) -> dt.date:
        return self.rules.start_date + dt.timedelta(days=d)

    def weekday(self, d: int) -> int:
        return self.date(d).weekday()

    def unpopular(self, kind: str) -> tuple:
        """For ``nights``, per template: does it touch 22:00-06:00; for ``weekends``, per date: is it a
        Saturday or Sunday (cached: counting them is the inner loop of fair sharing)."""
        cache = self.__dict__.setdefault("_unpopular", {})
        if kind not in cache:
            cache[kind] = (tuple(_works_at_night(tp.start_min, tp.end_min) for tp in self.templates)
                           if kind == "nights" else tuple(self.weekday(d) >= 5 for d in range(self.days)))
        return cache[kind]


def _abs_windows(setup: _Setup, windows) -> list[tuple[int, int]]:
    """Unavailable / study windows as minutes from the first date's midnight, over the horizon."""
    out = []
    for d in range(setup.days):
        date, wd = setup.date(d), setup.weekday(d)
        for w in windows:
            if (w.date is not None and w.date == date) or (w.weekday is not None and w.weekday == wd):
                out.append((d * DAY + w.start, d * DAY + w.end))
    return out


def _study_windows(setup: _Setup, rules: AgentRules, mode: str) -> list[tuple[int, int]]:
    return _abs_windows(setup, [Window(None, WEEKDAYS.index(s.weekday), _minutes(s.start), _minutes(s.end, "end", True))
                                for s in rules.study if s.mode == mode])


def _overlaps(a0: int, a1: int, windows, horizon: int, wrap: bool) -> bool:
    for w0, w1 in windows:
        if a0 < w1 and w0 < a1:
            return True
        if wrap and a1 > horizon and a0 - horizon < w1 and w0 < a1 - horizon:
            return True
    return False


@dataclass
class _AgentDomain:
    forbidden: dict          # family -> set of (d, t)
    rules: AgentRules
    lo: list                 # weekly paid minutes, lower bound per week
    hi: list
    off_phones: list         # absolute windows off the phones (study slots)


def _domain(setup: _Setup, a: Agent) -> _AgentDomain:
    r = setup.rules.rules_for(a.subgroup)
    horizon, wrap = setup.days * DAY, setup.rules.rotation
    fam: dict[str, set] = {f: set() for f in FAMILIES}
    unav = _abs_windows(setup, a.unavailable)
    study = _study_windows(setup, r, "off_shift")
    home = None if r.home_by is None else _minutes(r.home_by, allow_24=True)
    for t, tp in enumerate(setup.templates):
        night = r.no_nights and _works_at_night(tp.start_min, tp.end_min)
        late = home is not None and tp.end_min > home
        for d in range(setup.days):
            a0, a1 = d * DAY + tp.start_min, d * DAY + tp.end_min
            if night:
                fam["no_nights"].add((d, t))
            if late:
                fam["home_by"].add((d, t))
            if _overlaps(a0, a1, unav, horizon, wrap):
                fam["unavailable"].add((d, t))
            if _overlaps(a0, a1, study, horizon, wrap):
                fam["study"].add((d, t))
    lo, hi = _week_bounds(setup, a, r)
    return _AgentDomain(fam, r, lo, hi, _study_windows(setup, r, "off_phones"))


def _week_bounds(setup: _Setup, a: Agent, r: AgentRules) -> tuple[list[int], list[int]]:
    """Weekly paid minutes [lo, hi] per week; a whole unavailable date (leave) counts as a day's share of the week."""
    if a.contract_hours is not None:
        tol = r.contract_tolerance_hours
        lo_h, hi_h = max(a.contract_hours - tol, 0.0), a.contract_hours + tol
        day_share = a.contract_hours / max(7 - r.rest_days_per_week, 1)
    else:
        lo_h, hi_h = r.hours_per_week.min, r.hours_per_week.max
        day_share = hi_h / max(7 - r.rest_days_per_week, 1)
    leave = {w.date for w in a.unavailable if w.date is not None and w.whole_day}
    lo, hi = [], []
    for w in range(setup.days // 7):
        n = sum(1 for d in range(7 * w, 7 * w + 7) if setup.date(d) in leave)
        lo.append(int(math.ceil(max(lo_h - n * day_share, 0.0) * 60 - 1e-6)))
        hi.append(int(math.floor(max(hi_h - n * day_share, 0.0) * 60 + 1e-6)))
    return lo, hi


def _check_hours_possible(setup: _Setup, a: Agent, dom: _AgentDomain) -> None:
    """A contract the shifts cannot make (e.g. 38 h of 8-hour shifts) is an input error, named before solving."""
    allowed = {t for t in range(len(setup.templates))
               if not any((0, t) in dom.forbidden[f] for f in ("home_by", "no_nights"))}
    paid = sorted({setup.templates[t].paid_min for t in allowed})
    k = 7 - dom.rules.rest_days_per_week
    sums = {0}
    for _ in range(k):
        sums |= {s + p for s in sums for p in paid}
    # a week without leave (weeks with leave need fewer hours; the solver and diagnose() judge those)
    lo, hi = (b[0] for b in _week_bounds(setup, Agent(a.agent, a.group, a.contract_hours, a.subgroup), dom.rules))
    if not any(lo <= s <= hi for s in sums):
        what = (f"contract_hours {a.contract_hours:g}" + (f" +/- {dom.rules.contract_tolerance_hours:g}"
                                                          if dom.rules.contract_tolerance_hours else "")
                if a.contract_hours is not None else
                f"hours_per_week {dom.rules.hours_per_week.min:g}-{dom.rules.hours_per_week.max:g}")
        lens = ", ".join(f"{p / 60:g}" for p in paid) or "none (home_by / no_nights leave no shift)"
        raise RosterInputError(
            f"agent {a.agent} (agents line {a.line}): {what} h a week cannot be made of at most {k} shift(s) "
            f"(rest_days_per_week {dom.rules.rest_days_per_week}) with paid hours {lens}")


# ----------------------------------------------------------------------------------------------------------
# the CP-SAT model
# ----------------------------------------------------------------------------------------------------------
def _cp_model():
    try:
        from ortools.sat.python import cp_model
    except ImportError:
        raise ImportError(INSTALL_HINT) from None
    return cp_model


def _add_agent(model, setup: _Setup, ai: int, dom: _AgentDomain, families=FAMILIES, plan=None):
    """One agent's variables and hard rules; returns {(d, t): var} and the per-day work expressions.

    With ``plan`` (a set of (day, template)), every variable is hinted with its value in that plan, so the
    solver starts from a complete solution."""
    a = setup.agents[ai]
    r = dom.rules
    D, T = setup.days, len(setup.templates)
    wrap = setup.rules.rotation
    banned = set().union(*(dom.forbidden[f] for f in families if f in dom.forbidden))
    x = {}
    for d in range(D):
        for t in range(T):
            if (d, t) not in banned:
                x[d, t] = model.new_bool_var(f"x_{a.agent}_{d}_{t}")
                if plan is not None:
                    model.add_hint(x[d, t], int((d, t) in plan))
    on = {d for d, _ in plan} if plan is not None else set()
    by_day = [[x[d, t] for t in range(T) if (d, t) in x] for d in range(D)]
    work: list = []
    for d in range(D):
        if not by_day[d]:
            work.append(0)
        elif len(by_day[d]) == 1:
            work.append(by_day[d][0])
        else:
            wv = model.new_bool_var(f"work_{a.agent}_{d}")
            model.add(wv == sum(by_day[d]))
            if plan is not None:
                model.add_hint(wv, int(d in on))
            work.append(wv)
    if "rest_days_per_week" in families and r.rest_days_per_week > 0:
        if not r.whole_rest_days:          # a rest day: a date on which no shift starts
            for w in range(D // 7):
                model.add(sum(work[7 * w:7 * w + 7]) <= 7 - r.rest_days_per_week)
        else:                              # ... and no shift of the day before runs into it
            spill = [[x[d, t] for t in range(T) if (d, t) in x and setup.templates[t].end_min > DAY] for d in range(D)]
            rest = []
            for d in range(D):
                rv = model.new_bool_var(f"rest_{a.agent}_{d}")
                if plan is not None:
                    p_ = d - 1 if d > 0 else D - 1
                    spills = any(dd == p_ and setup.templates[t].end_min > DAY for dd, t in plan) and (d > 0 or wrap)
                    model.add_hint(rv, int(d not in on and not spills))
                if by_day[d]:
                    model.add(rv + work[d] <= 1)
                prev = d - 1 if d > 0 else (D - 1 if wrap else None)
                if prev is not None and spill[prev]:
                    model.add(rv + sum(spill[prev]) <= 1)
                rest.append(rv)
            for w in range(D // 7):
                model.add(sum(rest[7 * w:7 * w + 7]) >= r.rest_days_per_week)
    if "min_rest_hours" in families and r.min_rest_hours > 0:
        gap = int(round(r.min_rest_hours * 60))
        starts = sorted({tp.start_min for tp in setup.templates})
        # before[d][h]: the shift on day d starts before minute h (a chain, so each rest rule is two terms)
        before: list = []
        for d in range(D):
            chain, prev_v, prev_h = {}, None, None
            for h in starts[1:] + [DAY + 1]:
                here = [x[d, t] for t in range(T) if (d, t) in x and (prev_h or -1) <= setup.templates[t].start_min < h]
                if prev_v is None and not here:
                    chain[h] = None
                    prev_h = h
                    continue
                v = model.new_bool_var("before")
                model.add(v == (prev_v if prev_v is not None else 0) + sum(here))
                if plan is not None:
                    model.add_hint(v, int(any(dd == d and setup.templates[t].start_min < h for dd, t in plan)))
                chain[h] = prev_v = v
                prev_h = h
            before.append(chain)

        def started_before(d2, limit):
            """"Day d2's shift starts before ``limit``" (None: it cannot)."""
            if limit <= starts[0]:
                return None
            for h, v in before[d2].items():     # keys ascend; no start lies in [limit, h)
                if h >= limit:
                    return v
            return None

        for d in range(D):
            for k in (1, 2, 3):
                d2 = d + k
                if d2 >= D:
                    if not wrap:
                        continue
                    d2 %= D
                if d2 == d:
                    continue
                for t in range(T):
                    if (d, t) not in x:
                        continue
                    limit = setup.templates[t].end_min + gap - k * DAY      # day d2's shift must start at or after this
                    v = started_before(d2, limit)
                    if v is not None:
                        model.add(x[d, t] + v <= 1)
    if "max_consecutive_days" in families and r.max_consecutive_days < D:
        K = r.max_consecutive_days
        for d in range(D if wrap else D - K):
            window = [work[(d + j) % D] for j in range(K + 1)]
            model.add(sum(window) <= K)
    if "weekly_hours" in families:
        for w in range(D // 7):
            paid = sum(setup.templates[t].paid_min * x[d, t] for d in range(7 * w, 7 * w + 7) for t in range(T)
                       if (d, t) in x)
            model.add(paid >= dom.lo[w])
            model.add(paid <= dom.hi[w])
    return x, work


def _coverage_offsets(setup: _Setup, dom: _AgentDomain, d: int, t: int) -> tuple:
    """Absolute intervals (from the first date's midnight) that agent-shift (d, t) is on the phones."""
    iv = setup.interval
    horizon = setup.days * setup.P
    out = []
    for o in setup.templates[t].on_phones(iv):
        q = d * setup.P + o
        m = q * iv
        if dom.off_phones and _overlaps(m, m + iv, dom.off_phones, setup.days * DAY, setup.rules.rotation):
            continue
        if q >= horizon:
            if not setup.rules.rotation:
                continue
            q -= horizon
        out.append(q)
    return tuple(out)


@dataclass
class RosterResult:
    """A roster, its coverage, and what the solver and the independent checks say about it.

    Attributes
    ----------
    rows : list of dict
        One per shift: agent, date, start, end, group, break_start, break_minutes, off_phones.
    required, rostered : ndarray [day, interval, group]
        Agents required, and agents on the phones counted from ``rows`` (:func:`roster_headcount`).
    violations : list of dict
        Hard-rule violations found by :func:`check_roster` (empty for a solver's roster).
    status, objective, bound, gap, solve_s : solver facts (``status`` is CP-SAT's: OPTIMAL, FEASIBLE, ...).
    """

    rows: list
    required: np.ndarray
    rostered: np.ndarray
    violations: list
    dates: list
    groups: list
    interval: int
    status: str
    objective: float | None
    bound: float | None
    solve_s: float
    agents: list
    rules: Rules
    requirement_source: str = ""
    preferences: dict = field(default_factory=dict)
    method: str = ""

    @property
    def gap(self) -> float | None:
        if self.objective is None or self.bound is None:
            return None
        return abs(self.objective - self.bound) / max(1.0, abs(self.objective))

    @property
    def shortfall(self) -> np.ndarray:
        return np.maximum(self.required - self.rostered, 0)

    @property
    def required_hours(self) -> float:
        return float(self.required.sum() * self.interval / 60)

    @property
    def shortfall_hours(self) -> float:
        return float(self.shortfall.sum() * self.interval / 60)

    @property
    def shortfall_share(self) -> float:
        return self.shortfall_hours / self.required_hours if self.required_hours else 0.0

    def shifts_of(self, kind: str) -> dict:
        """Per agent: nights worked (``nights``) or weekend days worked (``weekends``)."""
        out = {a.agent: 0 for a in self.agents}
        for row in self.rows:
            s, e = _row_span(row)
            if kind == "nights" and _works_at_night(s, e):
                out[row["agent"]] += 1
            if kind == "weekends" and dt.date.fromisoformat(row["date"]).weekday() >= 5:
                out[row["agent"]] += 1
        return out

    def summary(self) -> dict:
        paid = sum(_row_paid(r) for r in self.rows) / 60
        by_group = {}
        for g, name in enumerate(self.groups):
            req = self.required[:, :, g].sum() * self.interval / 60
            short = self.shortfall[:, :, g].sum() * self.interval / 60
            members = [a for a in self.agents if a.group == name]
            fair = {}
            for kind in ("nights", "weekends"):
                counts = self.shifts_of(kind)
                vals = [counts[a.agent] for a in members]
                fair[kind] = {"min": min(vals, default=0), "max": max(vals, default=0)}
            by_group[name] = {"agents": len(members), "required_agent_hours": req, "shortfall_agent_hours": short,
                              "rostered_agent_hours": float(self.rostered[:, :, g].sum() * self.interval / 60),
                              "shortfall_pct": 100 * short / req if req else 0.0, **fair}
        return jsonable({
            "status": self.status, "objective": self.objective, "bound": self.bound, "gap": self.gap,
            "solve_s": round(self.solve_s, 3), "method": self.method, "agents": len(self.agents),
            "shifts": len(self.rows),
            "start_date": self.dates[0], "end_date": self.dates[-1], "days": len(self.dates),
            "weeks": len(self.dates) // 7, "rotation": self.rules.rotation, "interval_minutes": self.interval,
            "requirement": self.requirement_source, "requirement_scale": self.rules.requirement.scale,
            "weekend_scale": self.rules.requirement.weekend_scale,
            "required_agent_hours": self.required_hours, "rostered_agent_hours":
                float(self.rostered.sum() * self.interval / 60),
            "shortfall_agent_hours": self.shortfall_hours, "shortfall_pct": 100 * self.shortfall_share,
            "surplus_agent_hours": float(np.maximum(self.rostered - self.required, 0).sum() * self.interval / 60),
            "paid_hours": paid, "hard_rule_violations": len(self.violations), "preferences": self.preferences,
            "groups": by_group,
        })

    def to_dict(self) -> dict:
        return self.summary()

    def roster_csv(self) -> str:
        return csv_text(ROSTER_COLUMNS, [[r[c] for c in ROSTER_COLUMNS] for r in self.rows])

    def coverage_csv(self) -> str:
        rows = []
        for d, date in enumerate(self.dates):
            for p in range(self.required.shape[1]):
                for g, name in enumerate(self.groups):
                    req, got = int(self.required[d, p, g]), int(self.rostered[d, p, g])
                    rows.append([date, _hhmm(p * self.interval), name, req, got, max(req - got, 0)])
        return csv_text(["date", "interval", "group", "required", "rostered", "shortfall"], rows)

    def violations_csv(self) -> str:
        cols = ["rule", "agent", "row", "date", "message"]
        return csv_text(cols, [[v[c] for c in cols] for v in self.violations])

    def files(self) -> dict:
        """The text outputs, ``{file name: text}`` (``roster.png`` is drawn by :mod:`simcc.present.rosterplot`)."""
        return {"roster.csv": self.roster_csv(), "coverage.csv": self.coverage_csv(),
                "violations.csv": self.violations_csv(),
                "roster.json": json.dumps(self.summary(), indent=2) + "\n"}

    def __repr__(self) -> str:
        return (f"<RosterResult {len(self.agents)} agents x {len(self.dates)} days: {self.status}, shortfall "
                f"{100 * self.shortfall_share:.2f}% of {self.required_hours:,.1f} required agent-hours, "
                f"{len(self.violations)} hard-rule violation(s)>")


def _prepare(scenario, agents, rules, weeks, requirement):
    _check_day(scenario)
    if not isinstance(weeks, int) or isinstance(weeks, bool) or not 1 <= weeks <= 52:
        raise RosterInputError(f"weeks must be a whole number from 1 to 52, not {weeks!r}")
    rules = load_rules(rules)
    groups = [g.name for g in scenario.groups]
    if not isinstance(agents, list):
        agents = read_agents(agents, groups, rules)
    for a in agents:
        if a.group not in groups:
            raise RosterInputError(f"agent {a.agent}: unknown group {a.group!r}; the scenario's groups are "
                                   f"{', '.join(groups)}")
        if a.subgroup is not None and a.subgroup not in rules.subgroups:
            raise RosterInputError(f"agent {a.agent}: unknown subgroup {a.subgroup!r}")
    if requirement is None:
        day_req, source = requirement_from_scenario(scenario), "the scenario's headcount"
    elif isinstance(requirement, np.ndarray):
        day_req, source = requirement, "given"
    else:
        day_req, source = requirement_from_plan(requirement, scenario), f"staffing plan {os.fspath(requirement)}" \
            if not isinstance(requirement, dict) else "staffing plan"
    day_req = np.asarray(day_req, dtype=np.int64)
    D = 7 * weeks
    templates = shift_templates(rules.shifts, scenario.interval_minutes)
    if day_req.ndim == 2:
        if day_req.shape != (scenario.n_intervals, len(groups)):
            raise RosterInputError(f"the requirement has shape {day_req.shape}, expected "
                                   f"{(scenario.n_intervals, len(groups))} (interval, group)")
        req = _days_requirement(day_req, rules, D)
    else:
        req = day_req
    setup = _Setup(rules, agents, groups, templates, scenario.interval_minutes, D, req)
    if rules.requirement.scale != 1 or rules.requirement.weekend_scale != 1:
        source += f" x {rules.requirement.scale:g}" + (f" (weekends x {rules.requirement.weekend_scale:g} more)"
                                                         if rules.requirement.weekend_scale != 1 else "")
    return setup, source


_EXTRA: dict = {}
#: Above this many agent-date-shift variables the roster is improved block by block (module docs).
FULL_MODEL_MAX = 40_000
BLOCK_AGENTS = 16
FAIR_SHARE_S = 8.0          # seconds of the time limit kept for trading unpopular shifts between agents


def _agent_covers(setup: _Setup, dom: _AgentDomain) -> dict:
    """{(day, template): absolute intervals on the phones} for every shift the agent may work."""
    ban = set().union(*dom.forbidden.values())
    return {(d, t): _coverage_offsets(setup, dom, d, t) for d in range(setup.days)
            for t in range(len(setup.templates)) if (d, t) not in ban}


def _fair_count(setup: _Setup, kind: str, plan) -> int:
    hit = setup.unpopular(kind)
    if kind == "nights":
        return sum(hit[t] for d, t in plan)
    return sum(hit[d] for d, t in plan)


def _pref_misses(setup: _Setup, a: Agent, plan) -> int:
    n = 0
    for d, t in plan:
        if a.prefers_start and not any(lo <= setup.templates[t].start_min <= hi for lo, hi in a.prefers_start):
            n += 1
        if any(_off_day(w, setup.date(d)) for w in a.prefers_off):
            n += 1
    return n


def _objective(setup: _Setup, covers, plans) -> tuple[float, np.ndarray]:
    """The objective of a whole roster, counted from the plans; and its coverage [D*P, G]."""
    D, P, G = setup.days, setup.P, len(setup.groups)
    cov = np.zeros((D * P, G), dtype=np.int64)
    for ai, plan in plans.items():
        g = setup.groups.index(setup.agents[ai].group)
        for key in plan:
            cov[list(covers[ai][key]), g] += 1
    req = setup.required.reshape(D * P, G)
    w = setup.rules.weights
    obj = w.shortfall * np.maximum(req - cov, 0).sum() + w.surplus * np.maximum(cov - req, 0).sum()
    obj += w.preference * sum(_pref_misses(setup, setup.agents[ai], plan) for ai, plan in plans.items())
    for kind in setup.rules.fairness:
        for name in setup.groups:
            obj += w.fairness * max((_fair_count(setup, kind, plans.get(ai, ())) for ai, a in enumerate(setup.agents)
                                     if a.group == name), default=0)
    return float(obj), cov


def _counting_bound(setup: _Setup, doms) -> float:
    """A lower bound on the objective that needs no solver: per group, the agent-intervals the weekly hours
    put on the phones at least / at most, against the intervals required."""
    w = setup.rules.weights
    iv = setup.interval
    bound = 0.0
    for g, name in enumerate(setup.groups):
        lo = sum(sum(dom.lo) for a, dom in zip(setup.agents, doms) if a.group == name) // iv
        hi = sum(sum(dom.hi) for a, dom in zip(setup.agents, doms) if a.group == name) // iv
        req = int(setup.required[:, :, g].sum())
        off = sum(-(-(w1 - w0) // iv) for a, dom in zip(setup.agents, doms) if a.group == name
                  for w0, w1 in dom.off_phones)       # study slots off the phones, at most
        bound += w.shortfall * max(req - hi, 0) + w.surplus * max(lo - off - req, 0)
    return float(bound)


def _solve_block(cp_model, setup: _Setup, doms, covers, block, plans, fixed_cov, time_limit_s, seed, workers, log):
    """CP-SAT over the agents of ``block`` (every agent's hard rules, the coverage soft), the others fixed:
    ``fixed_cov`` [D*P, G] is what they put on the phones. Returns (status name, plans of the block, objective,
    bound) where the objective counts the block's coverage groups, its agents' preferences and the fairness
    maxima (with the fixed agents' counts as floors)."""
    D, P = setup.days, setup.P
    model = cp_model.CpModel()
    agg: dict = {}
    pref_terms: list = []
    fair: dict = {}
    xs = {}
    groups = sorted({setup.groups.index(setup.agents[ai].group) for ai in block})
    hinted = all(ai in plans for ai in block)
    val: dict = {}
    for ai in block:
        a, dom = setup.agents[ai], doms[ai]
        g = setup.groups.index(a.group)
        x, work = _add_agent(model, setup, ai, dom, plan=plans.get(ai) if hinted else None)
        xs[ai] = x
        for key, v in x.items():
            agg.setdefault((g, covers[ai][key]), []).append(v)
            if hinted:
                val[v.index] = int(key in plans[ai])
        pref_terms += [x[d, t] for (d, t) in x
                       if a.prefers_start and not any(lo <= setup.templates[t].start_min <= hi
                                                      for lo, hi in a.prefers_start)]
        pref_terms += [work[d] for d in range(D)
                       if any(_off_day(w, setup.date(d)) for w in a.prefers_off) and not isinstance(work[d], int)]
        for kind in setup.rules.fairness:
            cnt = [v for (d, t), v in x.items() if _fair_count(setup, kind, [(d, t)])]
            if cnt:
                fair.setdefault((kind, g), []).append(cnt)
    cover: dict = {}
    got: dict = {}
    for (g, qs), vs in agg.items():
        n = vs[0] if len(vs) == 1 else model.new_int_var(0, len(vs), "n")
        k = sum(val.get(v.index, 0) for v in vs)
        if len(vs) > 1:
            model.add(n == sum(vs))
            if hinted:
                model.add_hint(n, k)
        for q in qs:
            cover.setdefault((q, g), []).append(n)
            got[q, g] = got.get((q, g), 0) + k
    w = setup.rules.weights
    obj = []
    for q in range(D * P):
        d, p = divmod(q, P)
        for g in groups:
            req = int(setup.required[d, p, g]) - int(fixed_cov[q, g])
            terms = cover.get((q, g), [])
            if not terms:
                obj.append(w.shortfall * max(req, 0) + w.surplus * max(-req, 0))
                continue
            short = model.new_int_var(0, max(req, 0), "short")
            over = model.new_int_var(0, len(terms) * len(block) + max(-req, 0), "over")
            model.add(sum(terms) + short - over == req)
            if hinted:
                model.add_hint(short, max(req - got.get((q, g), 0), 0))
                model.add_hint(over, max(got.get((q, g), 0) - req, 0))
            obj += [w.shortfall * short, w.surplus * over]
    if w.preference and pref_terms:
        obj.append(w.preference * sum(pref_terms))
    if w.fairness:
        inside = set(block)
        for kind in setup.rules.fairness:
            for g in groups:
                floor = max((_fair_count(setup, kind, plans.get(ai, ())) for ai, a in enumerate(setup.agents)
                             if ai not in inside and a.group == setup.groups[g]), default=0)
                top = model.new_int_var(floor, D, "most")
                if hinted:
                    model.add_hint(top, max([floor] + [_fair_count(setup, kind, plans[ai]) for ai in block
                                                       if setup.agents[ai].group == setup.groups[g]]))
                for cnt in fair.get((kind, g), []):
                    model.add(sum(cnt) <= top)
                obj.append(w.fairness * top)
    model.minimize(sum(obj))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(max(time_limit_s, 0.1))
    solver.parameters.random_seed = int(seed)
    solver.parameters.num_workers = int(workers or os.cpu_count() or 1)
    if hinted and len(block) < len(setup.agents):
        # a block improves a complete roster: start searching from it at once (presolve costs most of a
        # short block's time and the hint is a solution already)
        solver.parameters.cp_model_presolve = False
    for k, v in _EXTRA.items():
        setattr(solver.parameters, k, v)
    if log is not None:
        solver.parameters.log_search_progress = True
        solver.log_callback = log
    status = solver.solve(model)
    name = solver.status_name(status)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return name, None, None, None
    found = {ai: {key for key, v in xs[ai].items() if solver.value(v)} for ai in block}
    return name, found, float(solver.objective_value), float(solver.best_objective_bound)


def solve_roster(scenario, agents, rules=None, weeks: int = 4, requirement=None, *, time_limit_s: float = 30.0,
                 seed: int = 0, workers: int | None = None, log=None) -> RosterResult:
    """A roster of named agents over ``weeks`` weeks (module docs: the model).

    Parameters
    ----------
    scenario : Scenario
        Gives the groups, the interval length and (without ``requirement``) the headcount to cover.
    agents : path, CSV text, or list of Agent
        See :func:`read_agents`.
    rules : path, dict or Rules, optional
        See :class:`Rules` (defaults without).
    weeks : int
    requirement : path or dict of a staffing plan, or ndarray [interval, group] (or [day, interval, group])
        What to cover; default the scenario's own headcount. The rules' ``requirement.scale`` applies.
    time_limit_s, seed, workers : the solver's time limit, random seed and threads (default: every core).

    Returns
    -------
    RosterResult

    Raises
    ------
    RosterInputError
        Bad input, or rules that no roster can keep (which rule binds, and for whom).
    ImportError
        OR-Tools is not installed (``pip install "simcc[roster]"``).
    """
    import random

    cp_model = _cp_model()
    setup, source = _prepare(scenario, agents, rules, weeks, requirement)
    D = setup.days
    doms = [_domain(setup, a) for a in setup.agents]
    for a, dom in zip(setup.agents, doms):
        _check_hours_possible(setup, a, dom)
    t0 = time.perf_counter()
    deadline = t0 + float(time_limit_s)
    covers = [_agent_covers(setup, dom) for dom in doms]
    plans = _greedy_start(setup, doms, covers)
    for ai in range(len(doms)):
        if ai not in plans and not _feasible(setup, ai, doms[ai], FAMILIES):
            raise RosterInputError(diagnose(setup, doms, only=[ai]))
    everyone = list(range(len(doms)))
    n_vars = sum(len(c) for c in covers)
    if n_vars <= FULL_MODEL_MAX:
        fixed = np.zeros((D * setup.P, len(setup.groups)), dtype=np.int64)
        name, found, objective, bound = _solve_block(cp_model, setup, doms, covers, everyone, plans, fixed,
                                                     deadline - time.perf_counter(), seed, workers, log)
        if found is None:
            if name == "INFEASIBLE":
                raise RosterInputError(diagnose(setup, doms))
            raise RosterInputError(diagnose(setup, doms, quiet=True) or f"CP-SAT found no roster within "
                                   f"{time_limit_s:g} s ({name}); give it more time (--time-limit)")
        plans = found
        method = "one CP-SAT model of every agent"
    else:
        if len(plans) < len(doms):
            missing = [ai for ai in everyone if ai not in plans]
            fixed = _objective(setup, covers, plans)[1]
            for i in range(0, len(missing), BLOCK_AGENTS):
                block = missing[i:i + BLOCK_AGENTS]
                name, found, _, _ = _solve_block(cp_model, setup, doms, covers, block, plans, fixed,
                                                 max(deadline - time.perf_counter(), 5.0), seed, workers, log)
                if found is None:
                    raise RosterInputError(diagnose(setup, doms, only=block, quiet=True) or
                                           f"CP-SAT found no roster for {len(block)} agent(s) ({name}); give it "
                                           "more time (--time-limit)")
                plans.update(found)
                fixed = _objective(setup, covers, plans)[1]
        rng = random.Random(seed)
        by_group = {name: [ai for ai in everyone if setup.agents[ai].group == name] for name in setup.groups}
        queue: list = []
        rounds = 0
        objective, cov = _objective(setup, covers, plans)
        share_s = min(FAIR_SHARE_S, 0.25 * float(time_limit_s)) if setup.rules.fairness else 0.0
        while time.perf_counter() < deadline - 0.5 - share_s:
            if not queue:
                for members in by_group.values():
                    members = members[:]
                    rng.shuffle(members)
                    queue += [members[i:i + BLOCK_AGENTS] for i in range(0, len(members), BLOCK_AGENTS)]
                rng.shuffle(queue)
            block = queue.pop()
            fixed = cov.copy()
            for ai in block:
                g = setup.groups.index(setup.agents[ai].group)
                for key in plans[ai]:
                    fixed[list(covers[ai][key]), g] -= 1
            left = deadline - time.perf_counter()
            name, found, _, _ = _solve_block(cp_model, setup, doms, covers, block, plans, fixed,
                                             min(left, max(3.0, float(time_limit_s) / 10)), seed + rounds, workers,
                                             log)
            rounds += 1
            if found is None:
                continue
            trial = dict(plans)
            trial.update(found)
            value, trial_cov = _objective(setup, covers, trial)
            if value <= objective:
                plans, objective, cov = trial, value, trial_cov
        if share_s:
            plans = _share(setup, doms, covers, plans, until=deadline - 0.2)
        name = "FEASIBLE"
        bound = _counting_bound(setup, doms)
        method = f"CP-SAT on blocks of up to {BLOCK_AGENTS} agents of a group, the others fixed ({rounds} blocks)"
    solve_s = time.perf_counter() - t0
    objective = _objective(setup, covers, plans)[0]
    if name == "FEASIBLE" and bound is not None and bound >= objective - 1e-9:
        name = "OPTIMAL"
    rows = [_row(setup, setup.agents[ai], doms[ai], d, setup.templates[t])
            for ai in everyone for d, t in sorted(plans.get(ai, ()))]
    rostered = roster_headcount(rows, setup.groups, setup.rules.start_date, D, setup.interval, setup.rules.rotation)
    violations = check_roster(rows, setup.agents, setup.rules, weeks, setup.interval)
    met, asked = _preferences_met(setup, rows)
    return RosterResult(rows, setup.required, rostered, violations, [setup.date(d).isoformat() for d in range(D)],
                        setup.groups, setup.interval, name, objective, bound, solve_s, setup.agents, setup.rules,
                        source, {"asked": asked, "met": met}, method)


def _share(setup: _Setup, doms, covers, plans, until: float) -> dict:
    """Spread unpopular shifts (the rules' ``fairness`` kinds: nights, weekend days) after the solver.

    The agent of a group with the most of a kind trades with an agent of the same group who has at least
    two fewer. Three trades, smallest first:

    * one date's shift each (a night shift for a day shift on the same date);
    * two dates of one week: the giver's shift on a date the taker rests, for the taker's shift on a date
      the giver rests (a weekend day for a weekday);
    * a whole week of shifts.

    Both agents keep their number of shifts in every week (the checker, their weekly hours) and the
    group's coverage does not change (a shift traded covers the same intervals for either agent). A trade
    is kept when the independent checker finds both agents' rows valid, neither ends with as many of the
    kind as the giver had, neither goes above the group's most of another kind, the sum of squared counts
    of all kinds falls, and no wish is lost. That sum falls with every trade, so the trading ends; kinds
    take turns, the most of a kind anywhere first, and a giver that found no trade is tried again after
    trades elsewhere."""
    kinds = list(setup.rules.fairness)
    weeks = max(1, setup.days // 7)
    plans = {ai: set(plan) for ai, plan in plans.items()}
    pool_of: dict = {}
    for ai, a in enumerate(setup.agents):
        if ai in plans:
            pool_of.setdefault(a.group, []).append(ai)
    pool_of = {ai: members for members in pool_of.values() for ai in members}

    def valid(ai, plan) -> bool:
        a, dom = setup.agents[ai], doms[ai]
        rows = [_row(setup, a, dom, d, setup.templates[t]) for d, t in sorted(plan)]
        return not check_roster(rows, [a], setup.rules, weeks, setup.interval)

    def same_cover(ai, bi, keys) -> bool:
        return all(k in covers[ai] and k in covers[bi] and covers[ai][k] == covers[bi][k] for k in keys)

    def trades(ai, bi, kind):
        """(the giver's shifts out, the taker's shifts out): each takes the other's. Single shifts only
        where the giver's is of ``kind`` and the taker's is not."""
        pa, pb = plans[ai], plans[bi]
        hit = setup.unpopular(kind)
        is_hit = (lambda k: hit[k[1]]) if kind == "nights" else (lambda k: hit[k[0]])
        on_a = {k[0]: k for k in pa if is_hit(k)}
        days_a = {k[0] for k in pa}
        on_b = {k[0]: k for k in pb}
        for d, ka in sorted(on_a.items()):
            kb = on_b.get(d)
            if kb is not None and not is_hit(kb):   # one date each (a night shift for a day shift)
                yield {ka}, {kb}
            if kb is not None:
                continue
            w = d // 7                              # two dates of one week (a weekend day for a weekday)
            for d2 in range(7 * w, min(7 * w + 7, setup.days)):
                kb = on_b.get(d2)
                if kb is not None and not is_hit(kb) and d2 not in days_a:
                    yield {ka}, {kb}
        for w in range(weeks):                      # a whole week
            days = range(7 * w, 7 * w + 7)
            yield {k for k in pa if k[0] in days}, {k for k in pb if k[0] in days}

    wishes = {ai for ai in pool_of if setup.agents[ai].prefers_start or setup.agents[ai].prefers_off}
    count = {kind: {ai: _fair_count(setup, kind, plans[ai]) for ai in pool_of} for kind in kinds}
    misses = {ai: _pref_misses(setup, setup.agents[ai], plans[ai]) for ai in pool_of}

    def group_max(kind, ai) -> int:
        return max(count[kind][x] for x in pool_of[ai])

    def squares(kind, ai, bi, moved) -> int:
        """The change in the sum of squared counts when ``moved`` of a kind go from ``bi`` to ``ai``."""
        x, y = count[kind][ai], count[kind][bi]
        return (x + moved) ** 2 + (y - moved) ** 2 - x * x - y * y

    stuck: dict = {kind: set() for kind in kinds}
    turn = 0
    since = 0                                       # trades since every giver was last tried
    while time.perf_counter() < until and kinds:
        live = [k for k in kinds if len(stuck[k]) < len(pool_of)]
        if not live:                                # a giver found stuck may have a trade now
            if not since:
                break
            stuck, since = {kind: set() for kind in kinds}, 0
            continue
        kind = live[turn % len(live)]
        turn += 1
        c = count[kind]
        ai = max((x for x in c if x not in stuck[kind]), key=lambda x: (c[x], -x))
        others = {k: group_max(k, ai) for k in kinds if k != kind}
        takers = sorted((bi for bi in pool_of[ai] if c[bi] <= c[ai] - 2), key=lambda x: (c[x], x))
        traded = False
        for bi in takers:
            for out_a, out_b in trades(ai, bi, kind):
                delta = _fair_count(setup, kind, out_b) - _fair_count(setup, kind, out_a)
                if delta >= 0 or c[bi] - delta >= c[ai]:
                    continue
                moved = {k: _fair_count(setup, k, out_b) - _fair_count(setup, k, out_a) for k in others}
                if any(count[k][ai] + moved[k] > top or count[k][bi] - moved[k] > top for k, top in others.items()):
                    continue
                if sum(squares(k, ai, bi, m) for k, m in moved.items()) + squares(kind, ai, bi, delta) >= 0:
                    continue
                if not same_cover(ai, bi, out_a | out_b):
                    continue
                na, nb = (plans[ai] - out_a) | out_b, (plans[bi] - out_b) | out_a
                a, b = setup.agents[ai], setup.agents[bi]
                if ({ai, bi} & wishes and _pref_misses(setup, a, na) + _pref_misses(setup, b, nb)
                        > misses[ai] + misses[bi]):
                    continue
                if valid(ai, na) and valid(bi, nb):
                    plans[ai], plans[bi] = na, nb
                    for k in kinds:
                        count[k][ai], count[k][bi] = _fair_count(setup, k, na), _fair_count(setup, k, nb)
                    misses[ai], misses[bi] = _pref_misses(setup, a, na), _pref_misses(setup, b, nb)
                    traded = True
                    since += 1
                    break
            if traded or time.perf_counter() >= until:
                break
        if not traded:
            stuck[kind].add(ai)
    return plans


def _masks():
    """For each 7-day on/off mask: days on, leading run, trailing run, longest run."""
    out = []
    for m in range(128):
        on = [(m >> i) & 1 for i in range(7)]
        lead = next((i for i, v in enumerate(on) if not v), 7)
        trail = next((i for i, v in enumerate(reversed(on)) if not v), 7)
        run = best = 0
        for v in on:
            run = run + 1 if v else 0
            best = max(best, run)
        out.append((sum(on), lead, trail, best))
    return np.array(out), np.array([[(m >> i) & 1 for i in range(7)] for m in range(128)], dtype=np.float64)


_MASKS, _MASK_DAYS = _masks()


def _plan_for(setup: _Setup, a: Agent, dom: _AgentDomain, cov: dict, col: np.ndarray, avoid=()):
    """One agent's best plan against the shortfall ``col`` (agents still missing per absolute interval):
    working days chosen week by week (by mask) where the best shift of the day helps most, then each day's
    shift in date order, the most helpful one that keeps the rest after the previous shift.
    Returns (value, {(day, template)}) or None when no plan of one shift length fits.

    Wishes and fairness break ties (less than one interval each): a preferred start gains, a preferred day
    off loses, and so do night shifts and weekend days for an agent who has more of them than most
    (``avoid``: "nights", "weekends")."""
    r = dom.rules
    D, T = setup.days, len(setup.templates)
    gap = r.min_rest_hours * 60
    best = None
    for paid in sorted({tp.paid_min for tp in setup.templates}):
        ts = [t for t in range(T) if setup.templates[t].paid_min == paid]
        V = np.zeros((D, T))
        A = np.zeros((D, T), dtype=bool)
        for d in range(D):
            off = any(_off_day(w, setup.date(d)) for w in a.prefers_off)
            for t in ts:
                if (d, t) in cov:
                    tp = setup.templates[t]
                    A[d, t] = True
                    V[d, t] = np.count_nonzero(col[list(cov[d, t])] > 0) - 0.4 * off
                    if a.prefers_start and any(lo <= tp.start_min <= hi for lo, hi in a.prefers_start):
                        V[d, t] += 0.4
                    if "nights" in avoid and _works_at_night(tp.start_min, tp.end_min):
                        V[d, t] -= 0.3
                    if "weekends" in avoid and setup.weekday(d) >= 5:
                        V[d, t] -= 0.3
        days_ok = A.any(axis=1)
        day_val = np.where(A, V, -np.inf).max(axis=1)
        day_val = np.where(days_ok, day_val, 0.0)
        chosen = None
        trail0 = 0
        for _attempt in range(3):      # on a rotation the last week runs into the first: start from its run
            chosen, trail = _pick_days(dom, day_val, days_ok, paid, D, trail0)
            if chosen is None or not setup.rules.rotation:
                break
            lead = next((i for i in range(D) if i not in set(chosen)), D)
            if lead == D or lead + trail <= r.max_consecutive_days:
                break
            trail0, chosen = trail, None
        if chosen is None:
            continue
        plan = None
        start_prev = None
        for _attempt in range(3):     # on a rotation the first shift must also rest after the last one
            plan, total = _pick_shifts(setup, V, A, ts, chosen, gap, start_prev)
            if plan is None or not setup.rules.rotation or len(plan) < 2:
                break
            (d0, t0), (d1, t1) = min(plan), max(plan)
            if (d0 + D) * DAY + setup.templates[t0].start_min >= d1 * DAY + setup.templates[t1].end_min + gap:
                break
            start_prev, plan = (d1 - D, t1), None
        if plan is None:
            continue
        if best is None or total > best[0]:
            best = (total, plan)
    return best


def _pick_shifts(setup: _Setup, V, A, ts, chosen, gap: float, prev):
    """Each chosen day's most helpful shift, in date order, resting ``gap`` minutes after the previous one."""
    plan, total = set(), 0.0
    for d in chosen:
        cands = [t for t in ts if A[d, t] and (prev is None or d * DAY + setup.templates[t].start_min
                                               >= prev[0] * DAY + setup.templates[prev[1]].end_min + gap)]
        if not cands:
            return None, 0.0
        t = max(cands, key=lambda t: (V[d, t], -abs(t - (prev[1] if prev else t))))
        plan.add((d, t))
        total += V[d, t]
        prev = (d, t)
    return plan, total


def _pick_days(dom: _AgentDomain, day_val, days_ok, paid: int, D: int, trail: int):
    """Working days week by week (a 7-day mask each) with the most value, keeping the weekly hours, the rest
    days and the longest run (``trail``: days worked in a row before the first day). Returns (days, trail)."""
    r = dom.rules
    chosen: list = []
    for w in range(D // 7):
        need = [k for k in range(8 - r.rest_days_per_week) if dom.lo[w] <= k * paid <= dom.hi[w]]
        if not need:
            return None, 0
        ok_mask = sum(1 << i for i in range(7) if days_ok[7 * w + i])
        valid = ((_MASKS[:, 0] == need[-1]) & ((np.arange(128) & ~ok_mask) == 0)
                 & (_MASKS[:, 3] <= r.max_consecutive_days) & (_MASKS[:, 1] + trail <= r.max_consecutive_days))
        if not valid.any():
            return None, 0
        vals = np.where(valid, _MASK_DAYS @ day_val[7 * w:7 * w + 7], -np.inf)
        m = int(np.argmax(vals))
        chosen += [7 * w + i for i in range(7) if (m >> i) & 1]
        trail = trail + 7 if _MASKS[m, 1] == 7 else int(_MASKS[m, 2])
    return chosen, trail


def _greedy_start(setup: _Setup, doms, covers, passes: int = 3) -> dict:
    """A first roster for the solver's hint: agents one by one (fewest choices first), each given its best
    plan against what is still short (:func:`_plan_for`); then ``passes`` rounds in which every agent's
    plan is taken out and chosen again. Agents whose plan breaks one of their rules (the checker says so)
    are left to the solver."""
    D, P = setup.days, setup.P
    short = setup.required.reshape(D * P, -1).astype(np.int64).copy()
    order = sorted(range(len(doms)), key=lambda ai: (len(covers[ai]), ai))
    out: dict = {}
    typical: dict = {}
    for rnd in range(passes + 1):
        for kind in setup.rules.fairness:
            for g, name in enumerate(setup.groups):
                counts = [_fair_count(setup, kind, out.get(ai, ())) for ai, x in enumerate(setup.agents)
                          if x.group == name]
                typical[kind, g] = float(np.median(counts)) if counts else 0.0
        for ai in order:
            a, cov = setup.agents[ai], covers[ai]
            g = setup.groups.index(a.group)
            if rnd:
                for d, t in out.get(ai, ()):
                    short[list(cov[d, t]), g] += 1
            avoid = [k for k in setup.rules.fairness
                     if rnd and _fair_count(setup, k, out.get(ai, ())) > typical[k, g] + 1]
            found = _plan_for(setup, a, doms[ai], cov, short[:, g], avoid)
            if found is None:
                out.pop(ai, None)
                continue
            out[ai] = found[1]
            for d, t in found[1]:
                short[list(cov[d, t]), g] -= 1
    rows = [_row(setup, setup.agents[ai], doms[ai], d, setup.templates[t]) for ai, plan in out.items()
            for d, t in sorted(plan)]
    bad = {v["agent"] for v in check_roster(rows, setup.agents, setup.rules, setup.days // 7, setup.interval)}
    return {ai: plan for ai, plan in out.items() if setup.agents[ai].agent not in bad}


def _off_day(w: Window, date: dt.date) -> bool:
    return (w.date is not None and w.date == date) or (w.weekday is not None and w.weekday == date.weekday())


def _row(setup: _Setup, a: Agent, dom: _AgentDomain, d: int, tp: ShiftTemplate) -> dict:
    off = []
    for w0, w1 in dom.off_phones:
        s0, s1 = d * DAY + tp.start_min, d * DAY + tp.end_min
        lo, hi = max(w0, s0), min(w1, s1)
        if lo < hi:
            off.append(f"{_hhmm(lo)}-{_hhmm(hi) if hi % DAY else '24:00'}")
    brk = "" if tp.break_start_min is None else _hhmm(tp.start_min + tp.break_start_min)
    return {"agent": a.agent, "date": setup.date(d).isoformat(), "start": _hhmm(tp.start_min),
            "end": _hhmm(tp.end_min), "group": a.group, "break_start": brk, "break_minutes": tp.break_min,
            "off_phones": ";".join(off)}


def _preferences_met(setup: _Setup, rows) -> tuple[int, int]:
    """(agent-days whose preferences are met, agent-days with a preference), from the rows."""
    by = {(r["agent"], r["date"]): r for r in rows}
    asked = met = 0
    for a in setup.agents:
        for d in range(setup.days):
            date = setup.date(d)
            row = by.get((a.agent, date.isoformat()))
            if any(_off_day(w, date) for w in a.prefers_off):
                asked += 1
                met += row is None
            if a.prefers_start and row is not None:
                asked += 1
                s = _minutes(row["start"])
                met += any(lo <= s <= hi for lo, hi in a.prefers_start)
    return met, asked


# ----------------------------------------------------------------------------------------------------------
# infeasibility: which rule binds
# ----------------------------------------------------------------------------------------------------------
def _feasible(setup: _Setup, ai: int, dom: _AgentDomain, families) -> bool:
    cp_model = _cp_model()
    model = cp_model.CpModel()
    _add_agent(model, setup, ai, dom, families)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = 10.0
    solver.parameters.num_workers = 1
    return solver.solve(model) in (cp_model.OPTIMAL, cp_model.FEASIBLE)


def diagnose(setup: _Setup, doms, quiet: bool = False, only=None) -> str:
    """Name the agents whose own rules contradict each other, and the rules that do it.

    Coverage is soft, so each agent's rules can be checked alone. For the first
    such agent, each rule family is dropped in turn: the families whose removal
    makes the agent rosterable bind; when no single one does, a deletion filter
    keeps a smallest set of families that still cannot all hold.
    """
    bad = [ai for ai in (range(len(doms)) if only is None else only) if not _feasible(setup, ai, doms[ai], FAMILIES)]
    if not bad:
        return "" if quiet else "the roster model is infeasible, but every agent's rules hold on their own"
    ai = bad[0]
    a, dom = setup.agents[ai], doms[ai]
    used = [f for f in FAMILIES if f not in ("unavailable", "study", "home_by", "no_nights") or dom.forbidden[f]]
    single = [f for f in used if _feasible(setup, ai, dom, [g for g in used if g != f])]
    if single:
        core = single
        how = ("drop any one of them and a roster exists" if len(single) > 1 else "without it a roster exists")
    else:
        core = list(used)
        for f in list(core):
            rest = [g for g in core if g != f]
            if not _feasible(setup, ai, dom, rest):
                core = rest
        how = "these rules cannot all hold together"
    desc = "; ".join(_describe(f, a, dom) for f in core)
    others = f" (and {len(bad) - 1} more agent(s))" if len(bad) > 1 else ""
    sub = f", subgroup {a.subgroup}" if a.subgroup else ""
    return (f"no roster keeps every rule: agent {a.agent} (agents line {a.line}{sub}){others} is bound by "
            f"{', '.join(core)}: {desc}; {how}")


def _describe(f: str, a: Agent, dom: _AgentDomain) -> str:
    r = dom.rules
    if f == "rest_days_per_week":
        return f"rest_days_per_week {r.rest_days_per_week}"
    if f == "min_rest_hours":
        return f"min_rest_hours {r.min_rest_hours:g}"
    if f == "max_consecutive_days":
        return f"max_consecutive_days {r.max_consecutive_days}"
    if f == "weekly_hours":
        lo = ", ".join(f"{x / 60:g}" for x in dom.lo)
        hi = ", ".join(f"{x / 60:g}" for x in dom.hi)
        return f"weekly_hours (paid hours per week from {lo} to {hi})"
    if f == "home_by":
        return f"home_by {r.home_by}"
    if f == "no_nights":
        return "no_nights (22:00-06:00)"
    if f == "study":
        return "study slots " + ", ".join(f"{s.weekday} {s.start}-{s.end}" for s in r.study if s.mode == "off_shift")
    if f == "unavailable":
        return f"unavailable ({len(a.unavailable)} item(s))"
    return f


# ----------------------------------------------------------------------------------------------------------
# the independent checker and the headcount, from the rows alone
# ----------------------------------------------------------------------------------------------------------
def _row_span(row) -> tuple[int, int]:
    """(start, end) minutes after the row's date's midnight; an end at or before the start is the next day."""
    s, e = _minutes(row["start"], "start"), _minutes(row["end"], "end", allow_24=True)
    if e <= s:
        e += DAY
    return s, e


def _row_paid(row) -> int:
    s, e = _row_span(row)
    return e - s - int(row.get("break_minutes") or 0)


def _row_break(row, s: int) -> tuple[int, int] | None:
    bm = int(row.get("break_minutes") or 0)
    if not bm or not row.get("break_start"):
        return None
    b = _minutes(row["break_start"], "break_start")
    if b < s:
        b += DAY
    return b, b + bm


def _row_off_phones(row, s: int) -> list[tuple[int, int]]:
    out = []
    for item in str(row.get("off_phones") or "").split(";"):
        if not item.strip():
            continue
        a, _, b = item.strip().partition("-")
        lo, hi = _minutes(a, "off_phones"), _minutes(b, "off_phones", allow_24=True)
        if lo < s:
            lo, hi = lo + DAY, hi + DAY
        if hi <= lo:
            hi += DAY
        out.append((lo, hi))
    return out


def _read_text(source, label: str, what: str) -> tuple[str, str]:
    """(name, text) of a CSV given as a path, or as the text itself when it holds a newline (named ``label``)."""
    if isinstance(source, str) and "\n" in source:
        return label, source
    name = os.fspath(source)
    try:
        with open(name, encoding="utf-8-sig", newline="") as fh:
            return name, fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise RosterInputError(f"cannot read {what} {name}: {exc}") from None


def read_roster_csv(source) -> list[dict]:
    """Rows of a ``roster.csv`` (a path, or the text when it holds a newline), each with its ``line``."""
    name, text = _read_text(source, "roster", "the roster")
    reader = csv.DictReader(io.StringIO(text))
    need = [c for c in ROSTER_COLUMNS if c != "off_phones"]
    missing = [c for c in need if c not in (reader.fieldnames or [])]
    if missing:
        raise RosterInputError(f"{name} line 1: missing column(s) {', '.join(missing)}; a roster has "
                               f"{', '.join(ROSTER_COLUMNS)}")
    rows = []
    for i, r in enumerate(reader, start=2):
        row = {c: (r.get(c) or "").strip() for c in ROSTER_COLUMNS}
        try:
            dt.date.fromisoformat(row["date"])
            _row_span(row)
            row["break_minutes"] = int(row["break_minutes"] or 0)
            if row["break_minutes"]:
                _row_break(row, _row_span(row)[0])
            _row_off_phones(row, _row_span(row)[0])
        except (ValueError, TypeError) as exc:
            raise RosterInputError(f"{name} line {i} (agent {row['agent']}): {exc}") from None
        row["line"] = i
        rows.append(row)
    return rows


def _violation(rule, row, message, agent=None, date=None) -> dict:
    return {"rule": rule, "agent": agent if row is None else row["agent"], "row": None if row is None else
            row.get("line"), "date": date if row is None else row["date"], "message": message}


def check_roster(rows, agents, rules=None, weeks: int | None = None, interval: int = 30) -> list[dict]:
    """Every hard rule checked again from the roster's rows (dates and clock times) alone.

    This never looks at a solver model: it recomputes each shift's span,
    break, rest gaps, rest days, runs of working days and weekly paid hours
    from the rows and the rules. Each violation is a dict with ``rule``,
    ``agent``, ``row`` (the row's ``line`` in roster.csv when read from a file,
    else its line as written: index + 2), ``date`` and ``message``.

    Examples
    --------
    >>> agents = [Agent("A1", "general")]
    >>> rows = [{"agent": "A1", "date": "2026-01-05", "start": "22:00", "end": "07:00", "group": "general",
    ...          "break_start": "02:00", "break_minutes": 60}]
    >>> rules = {"defaults": {"no_nights": True, "hours_per_week": {"min": 0, "max": 40}}}
    >>> [v["rule"] for v in check_roster(rows, agents, rules, weeks=1)]
    ['no_nights']
    """
    rules = load_rules(rules)
    rows = [dict(r, line=r.get("line", i + 2)) for i, r in enumerate(rows)]
    by_id = {a.agent: a for a in agents}
    if weeks is None:
        last = max((dt.date.fromisoformat(r["date"]) for r in rows), default=rules.start_date)
        weeks = max(1, (last - rules.start_date).days // 7 + 1)
    D = 7 * weeks
    horizon, wrap = D * DAY, rules.rotation
    out: list[dict] = []
    mine: dict[str, list] = {a.agent: [] for a in agents}
    lengths = {int(round(h * 60)) for h in rules.shifts.lengths_hours}
    first, last_start = _minutes(rules.shifts.earliest_start), _minutes(rules.shifts.latest_start)
    for row in rows:
        a = by_id.get(row["agent"])
        if a is None:
            out.append(_violation("agents", row, f"agent {row['agent']!r} is not in the agents file"))
            continue
        r = rules.rules_for(a.subgroup)
        if row["group"] != a.group:
            out.append(_violation("group", row, f"rostered in group {row['group']!r}, but the agent is in {a.group!r}"))
        d = (dt.date.fromisoformat(row["date"]) - rules.start_date).days
        if not 0 <= d < D:
            out.append(_violation("dates", row, f"date {row['date']} is outside the {weeks}-week roster"))
            continue
        s, e = _row_span(row)
        # the shift's shape: start on the grid, a length and a break the rules allow
        b0, bm = break_for(rules.shifts, e - s, interval)
        brk = _row_break(row, s)
        if (s % interval or (s - first) % rules.shifts.start_every_minutes or not first <= s <= last_start
                or e - s not in lengths or (brk is None) != (b0 is None)
                or (brk is not None and b0 is not None and (brk[0] - s != b0 or brk[1] - brk[0] != bm))):
            out.append(_violation("shifts", row, f"{row['start']}-{row['end']} (break {row['break_start'] or '-'} "
                                                 f"{row['break_minutes']} min) is not a shift the rules allow"))
        a0, a1 = d * DAY + s, d * DAY + e
        if r.no_nights and _works_at_night(s, e):
            out.append(_violation("no_nights", row, f"works {row['start']}-{row['end']}, inside 22:00-06:00"))
        if r.home_by is not None and e > _minutes(r.home_by, allow_24=True):
            out.append(_violation("home_by", row, f"ends {row['end']}{' the next day' if e > DAY else ''}, after "
                                                  f"home_by {r.home_by}"))
        for w in a.unavailable:
            for k in range(-1, D + 1):
                date = rules.start_date + dt.timedelta(days=k % D if wrap else k)
                if not _off_day(w, date):
                    continue
                w0, w1 = k * DAY + w.start, k * DAY + w.end
                if a0 < w1 and w0 < a1:
                    end = _hhmm(w.end) if w.end < DAY else "24:00"
                    out.append(_violation("unavailable", row, f"overlaps unavailable {date} {_hhmm(w.start)}-{end}"))
                    break
            else:
                continue
            break
        for slot in r.study:
            if slot.mode != "off_shift":
                continue
            wd = WEEKDAYS.index(slot.weekday)
            for k in (d, d + 1):
                date = rules.start_date + dt.timedelta(days=k)
                if date.weekday() != wd:
                    continue
                w0, w1 = k * DAY + _minutes(slot.start), k * DAY + _minutes(slot.end, allow_24=True)
                if a0 < w1 and w0 < a1:
                    out.append(_violation("study", row, f"overlaps the study slot {slot.weekday} "
                                                        f"{slot.start}-{slot.end}"))
        mine[a.agent].append((a0, a1, d, row))
    for aid, shifts in mine.items():
        a = by_id[aid]
        r = rules.rules_for(a.subgroup)
        shifts.sort(key=lambda s: s[0])
        days = [s[2] for s in shifts]
        for k in range(1, len(days)):
            if days[k] == days[k - 1]:
                out.append(_violation("one_shift_per_day", shifts[k][3], "a second shift on the same date"))
        gap = r.min_rest_hours * 60
        pairs = list(zip(shifts, shifts[1:]))
        if wrap and len(shifts) > 1:
            pairs.append((shifts[-1], (shifts[0][0] + horizon, shifts[0][1] + horizon, shifts[0][2], shifts[0][3])))
        for (_s0, e0, _d0, _r0), (s1, _e1, _d1, r1) in pairs:
            if s1 - e0 < gap - 1e-9:
                out.append(_violation("min_rest_hours", r1, f"starts {(s1 - e0) / 60:g} h after the previous shift "
                                                            f"ended; min_rest_hours is {r.min_rest_hours:g}"))
        busy = np.zeros(D, dtype=bool)     # a shift starts that day (or, for whole rest days, any minute on site)
        starts = np.zeros(D, dtype=bool)
        for a0, a1, d, _ in shifts:
            starts[d] = busy[d] = True
            for k in range(a0 // DAY, (a1 - 1) // DAY + 1):
                if not r.whole_rest_days:
                    break
                if k < D:
                    busy[k] = True
                elif wrap:
                    busy[k % D] = True
        for w in range(weeks):
            rest = int((~busy[7 * w:7 * w + 7]).sum())
            if rest < r.rest_days_per_week:
                kind = "whole rest day(s)" if r.whole_rest_days else "rest day(s)"
                out.append(_violation("rest_days_per_week", None, f"week {w + 1} has {rest} {kind}; "
                                                                  f"rest_days_per_week is {r.rest_days_per_week}",
                                      aid, (rules.start_date + dt.timedelta(days=7 * w)).isoformat()))
        run, worst, worst_end = 0, 0, 0
        seq = np.concatenate([starts, starts]) if wrap else starts
        for i, on in enumerate(seq):
            run = run + 1 if on else 0
            if run > worst:
                worst, worst_end = run, i
        worst = min(worst, D) if wrap else worst
        if worst > r.max_consecutive_days:
            end = rules.start_date + dt.timedelta(days=worst_end % D)
            out.append(_violation("max_consecutive_days", None, f"{worst} working days in a row up to {end}; "
                                                                f"max_consecutive_days is {r.max_consecutive_days}",
                                  aid, end.isoformat()))
        setup = _Setup(rules, [a], [a.group], [], interval, D, np.zeros((D, 1, 1)))
        lo, hi = _week_bounds(setup, a, r)
        for w in range(weeks):
            paid = sum(e - s - int(rw.get("break_minutes") or 0) for s, e, d, rw in shifts if 7 * w <= d < 7 * w + 7)
            if not lo[w] - 1e-6 <= paid <= hi[w] + 1e-6:
                out.append(_violation("weekly_hours", None, f"week {w + 1}: {paid / 60:g} paid hours; the agent's "
                                                            f"week must have {lo[w] / 60:g} to {hi[w] / 60:g}",
                                      aid, (rules.start_date + dt.timedelta(days=7 * w)).isoformat()))
    return out


def roster_headcount(rows, groups: Sequence[str], start_date: dt.date | str, days: int, interval: int,
                     rotation: bool = True) -> np.ndarray:
    """Agents on the phones per [day, interval, group], counted from the roster's rows alone.

    A shift counts in every interval from its start to its end, less its break
    and its ``off_phones`` windows; a shift past midnight counts on the next
    date (past the last date: on the first, when the roster is a rotation).

    Examples
    --------
    >>> rows = [{"agent": "A1", "date": "2026-01-05", "start": "22:00", "end": "06:00", "group": "g",
    ...          "break_start": "", "break_minutes": 0}]
    >>> h = roster_headcount(rows, ["g"], "2026-01-05", 1, 60)
    >>> h[0, :, 0].tolist()
    [1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1]
    """
    if isinstance(start_date, str):
        start_date = dt.date.fromisoformat(start_date)
    P = DAY // interval
    out = np.zeros((days, P, len(groups)), dtype=np.int64)
    flat = out.reshape(days * P, len(groups))
    for row in rows:
        if row["group"] not in groups:
            raise RosterInputError(f"roster line {row.get('line', '?')} (agent {row['agent']}): unknown group "
                                   f"{row['group']!r}; the scenario's groups are {', '.join(groups)}")
        g = list(groups).index(row["group"])
        d = (dt.date.fromisoformat(row["date"]) - start_date).days
        s, e = _row_span(row)
        off = [w for w in [_row_break(row, s)] if w is not None] + _row_off_phones(row, s)
        for m in range(s - s % interval, e, interval):
            if any(w0 <= m < w1 for w0, w1 in off):
                continue
            q = d * P + m // interval
            if 0 <= q < days * P:
                flat[q, g] += 1
            elif rotation and days:
                flat[q % (days * P), g] += 1
    return out


def scenario_for_date(scenario, rows, date: str | None = None, *, start_date: str | None = None,
                      days: int | None = None, rotation: bool = True):
    """The scenario with each rostered group's headcount replaced by the roster's agents on the phones on one date.

    ``date`` defaults to the roster's first date; ``start_date`` and ``days`` (the roster's span) default to
    the first and last dates of ``rows``. Groups the roster does not name keep their headcount. Returns
    (scenario, headcount [interval, group], date).
    """
    from ..model.scenario import from_dict
    _check_day(scenario)
    if not rows:
        raise RosterInputError("the roster has no shifts")
    dates = sorted({r["date"] for r in rows})
    first = dt.date.fromisoformat(start_date or dates[0])
    span = days or ((dt.date.fromisoformat(dates[-1]) - first).days + 1)
    when = date or first.isoformat()
    try:
        d = (dt.date.fromisoformat(when) - first).days
    except ValueError:
        raise RosterInputError(f"--roster-date {when!r} is not a date YYYY-MM-DD") from None
    if not 0 <= d < span:
        raise RosterInputError(f"--roster-date {when} is outside the roster ({first} to "
                               f"{first + dt.timedelta(days=span - 1)})")
    groups = [g.name for g in scenario.groups]
    counts = roster_headcount(rows, groups, first, span, scenario.interval_minutes, rotation)[d]
    named = {r["group"] for r in rows}
    data = scenario.model_dump(mode="python", exclude_none=True)
    for g, grp in enumerate(data["groups"]):
        if grp["name"] in named:
            grp.pop("roster", None)
            grp["agents"] = [int(x) for x in counts[:, g]]
    keep = np.array([scenario.agents_per_interval(g) for g in scenario.groups]).T
    head = np.where(np.isin(groups, sorted(named))[None, :], counts, keep)
    return from_dict(data), head, when


def roster_day_scenario(scenario, roster_csv, date: str | None = None):
    """The scenario staffed by one date of a ``roster.csv`` (``simcc run --roster``): returns (scenario, date).

    The roster's span and whether it is a rotation come from the ``roster.json`` beside it when there is
    one, else from the rows' first and last dates (a rotation).
    """
    rows = read_roster_csv(roster_csv)
    start, days, rotation = None, None, True
    meta = os.path.join(os.path.dirname(os.path.abspath(os.fspath(roster_csv))), "roster.json")
    if os.path.exists(meta):
        try:
            with open(meta, encoding="utf-8") as fh:
                info = json.load(fh)
            start, days, rotation = info["start_date"], int(info["days"]), bool(info["rotation"])
        except (OSError, ValueError, KeyError, TypeError):
            start, days, rotation = None, None, True
    scn, _, when = scenario_for_date(scenario, rows, date, start_date=start, days=days, rotation=rotation)
    return scn, when
