"""Call records: the documented format (docs/records.md), reading and checking it, and writing it from a run.

One row per call attempt. Reading maps an export's own column names and
outcome codes onto the canonical ones, parses every cell, and reports every
bad cell at once (file line and column) as a :class:`~simcc.errors.RecordsError`;
rows are dropped only when asked (``skip_bad=True``), and then counted with
their reasons. The result is a :class:`Records`: one NumPy array per column,
times in seconds from midnight of the first recorded day.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import Problem, RecordsError

#: Canonical columns, in file order.
COLUMNS = ("call_id", "caller_id", "arrival", "entry", "tier", "call_type", "outcome",
           "ivr_s", "wait_s", "talk_s", "hold_s", "acw_s", "group", "agent")
#: Columns every file must have.
REQUIRED = ("call_id", "arrival", "entry", "outcome", "wait_s", "talk_s")
#: Outcomes of an attempt: the first five are what every ACD records; ``callback`` (accepted a call back
#: while waiting), ``balked`` (left at once instead of waiting), ``message`` (sent to a message after the
#: maximum wait), ``disconnected`` and ``queue_full`` (busy tone at a full queue) where the center has them.
OUTCOMES = ("blocked", "contained", "ivr_abandoned", "answered", "abandoned", "callback",
            "balked", "message", "disconnected", "queue_full")
OUTCOME_CODES = {name: i for i, name in enumerate(OUTCOMES)}
(BLOCKED, CONTAINED, IVR_ABANDONED, ANSWERED, ABANDONED, CALLBACK,
 BALKED, MESSAGE, DISCONNECTED, QUEUE_FULL) = range(len(OUTCOMES))
#: Outcomes of an attempt that reached the agent queue and waited there (a wait_s is needed).
WAITED = (ANSWERED, ABANDONED, CALLBACK, MESSAGE, DISCONNECTED)
#: Outcomes of an attempt that reached the agent queue (counted in queued).
QUEUED = WAITED + (BALKED,)
#: Outcomes after which the model's callers may redial.
LOST = (BLOCKED, ABANDONED, BALKED, QUEUE_FULL)
DURATIONS = ("ivr_s", "wait_s", "talk_s", "hold_s", "acw_s")
#: Columns holding names (few distinct values: cleaned once per distinct value).
NAME_COLUMNS = ("entry", "tier", "call_type", "outcome", "group")
#: A duration longer than this is not a call (a unit or clock error).
MAX_DURATION_S = 86_400.0
#: Which durations an outcome must carry (a blank one elsewhere is 0).
NEEDS = {ANSWERED: ("wait_s", "talk_s"), ABANDONED: ("wait_s",), CALLBACK: ("wait_s",), MESSAGE: ("wait_s",),
         DISCONNECTED: ("wait_s",)}


@dataclass
class Records:
    """Call records as columns: one array per field, one row per attempt, in file order.

    Codes index the name lists (``-1`` = blank); times are seconds from
    midnight of the first recorded day (``day`` is the day index, ``days`` its date).
    """

    line: np.ndarray                 # file line of the row (CSV) or row number + 1 (Parquet)
    call_id: np.ndarray              # as written (object)
    caller: np.ndarray               # caller code, -1 without caller ids
    arrival_s: np.ndarray
    day: np.ndarray
    days: list[str]
    entry: np.ndarray
    entries: list[str]               # "ivr" or a call type
    tier: np.ndarray
    tiers: list[str]
    call_type: np.ndarray
    call_types: list[str]
    outcome: np.ndarray              # OUTCOMES index
    group: np.ndarray
    groups: list[str]
    ivr_s: np.ndarray
    wait_s: np.ndarray
    talk_s: np.ndarray
    hold_s: np.ndarray
    acw_s: np.ndarray
    present: set[str]                # optional columns the file had
    skipped: dict[str, int] = field(default_factory=dict)   # reason -> rows dropped (skip_bad)
    source: str = ""

    def __len__(self) -> int:
        return len(self.outcome)

    @property
    def has_callers(self) -> bool:
        return "caller_id" in self.present

    def end_s(self) -> np.ndarray:
        """When each attempt let go of the caller: at the block, the end of the menu, the hang-up in the
        queue, or the end of talk and HOLD (after-call work is the agent's, not the caller's)."""
        end = self.arrival_s.copy()
        inside = self.outcome != BLOCKED
        end[inside] += self.ivr_s[inside]
        queue = np.isin(self.outcome, WAITED)
        end[queue] += self.wait_s[queue]
        ans = self.outcome == ANSWERED
        end[ans] += self.talk_s[ans] + self.hold_s[ans]
        return end

    def __repr__(self) -> str:
        return (f"<simcc.calibrate.Records {len(self):,} attempts, {len(self.days)} day(s), "
                f"{len(self.call_types)} call type(s), {len(self.groups)} group(s)>")


# ----------------------------------------------------------------------
# reading
# ----------------------------------------------------------------------
def read_records(path: str | os.PathLike, columns: dict[str, str] | None = None, *,
                 outcome_values: dict[str, str] | None = None, time_format: str | None = None,
                 skip_bad: bool = False, mapping: str | os.PathLike | None = None) -> Records:
    """Read call records from CSV or Parquet (``.parquet``), checking every cell.

    Parameters
    ----------
    path : file of records, one row per attempt, with a header row.
    columns : canonical name -> the export's column name, for exports with their own names
        (``{"arrival": "StartTime"}``).
    outcome_values : the export's outcome code -> canonical outcome (``{"ANS": "answered"}``).
    time_format : ``strftime`` format of ``arrival`` when it is not ISO 8601.
    skip_bad : drop rows with problems instead of failing; ``records.skipped`` counts them by reason.
    mapping : a YAML file with ``columns``, ``outcome_values`` and ``time_format`` (arguments win).

    Raises
    ------
    RecordsError
        Missing columns, or bad cells (every one, capped in the message), naming line and column.
    """
    pd = _pandas()
    path = os.fspath(path)
    if mapping is not None:
        m = _read_mapping(mapping)
        columns = {**m.get("columns", {}), **(columns or {})}
        outcome_values = {**m.get("outcome_values", {}), **(outcome_values or {})}
        time_format = time_format or m.get("time_format")
    columns = dict(columns or {})
    bad_keys = sorted(set(columns) - set(COLUMNS))
    if bad_keys:
        raise RecordsError([Problem(f"columns.{k}", f"unknown canonical column; choose from {', '.join(COLUMNS)}")
                            for k in bad_keys], source=path)
    wrong = {code: v for code, v in (outcome_values or {}).items() if str(v).lower() not in OUTCOME_CODES}
    if wrong:
        choose = ", ".join(OUTCOMES)
        raise RecordsError([Problem(f"outcome_values.{code}", f"maps to {v!r}, which is not an outcome; choose from "
                                                               f"{choose}") for code, v in wrong.items()],
                           source=os.fspath(path))
    if not os.path.exists(path):
        raise RecordsError([Problem("file", "no such file")], source=path)
    parquet = path.lower().endswith((".parquet", ".pq"))
    if not parquet:
        _check_header(path)
    try:
        if parquet:
            frame = pd.read_parquet(path).astype(str)
        else:
            frame = pd.read_csv(path, dtype=object, keep_default_na=False, encoding="utf-8", skipinitialspace=True)
    except ImportError as exc:
        raise RecordsError([Problem("file", f"reading Parquet needs pyarrow ({exc})",
                                    hint="pip install 'simcc[parquet]'")], source=path) from None
    except UnicodeDecodeError as exc:
        raise RecordsError([Problem("file", f"not UTF-8 text ({exc.reason} at byte {exc.start})",
                                    hint="save the export as UTF-8")], source=path) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, OSError) as exc:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
        at = re.search(r"line (\d+)", text)
        raise RecordsError([Problem("file", f"not a readable {'Parquet' if parquet else 'CSV'} file: {text}",
                                    int(at.group(1)) if at else None)], source=path) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    rename = {v: k for k, v in columns.items()}
    have = ", ".join(frame.columns[:20])
    problems = [Problem(c, f"mapped to {columns[c]!r}, which the file does not have (it has: {have})")
                for c in columns if columns[c] not in frame.columns]
    problems += [Problem(c, f"column missing (the file has: {have})", hint=f"map it with --column {c}=NAME")
                 for c in REQUIRED if c not in columns and c not in frame.columns]
    if problems:
        raise RecordsError(problems, source=path)
    # a canonical name mapped to another column: the file's own column of that name is not read
    frame = frame.drop(columns=[c for c in columns if c in frame.columns and columns[c] != c])
    frame = frame.rename(columns=rename)
    for c in NAME_COLUMNS:
        if c in frame.columns:
            frame[c] = _stripped(frame[c])
    return _parse(frame, path, parquet, outcome_values or {}, time_format, skip_bad)


def _check_header(path: str) -> None:
    """A repeated column name in the header is an error (pandas would rename the second silently)."""
    import csv
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            header = next(csv.reader(f), [])
    except (UnicodeDecodeError, csv.Error, OSError):
        return                          # reported by the reader with its own message
    seen: set[str] = set()
    dup = []
    for name in (h.strip() for h in header):
        if name in seen and name not in dup:
            dup.append(name)
        seen.add(name)
    if dup:
        raise RecordsError([Problem(name, "this column appears more than once in the header", 1) for name in dup],
                           source=path)


def _file_lines(path: str, n: int) -> np.ndarray:
    """The file line each data row starts on, as pandas reads them (blank lines skipped, quoted cells may
    span lines). Computed only to report problems."""
    import csv
    out = np.zeros(n, dtype=np.int64)
    i = 0
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        next(reader, None)
        start = reader.line_num + 1
        for row in reader:
            if row and any(cell.strip() for cell in row) and i < n:
                out[i] = start
                i += 1
            start = reader.line_num + 1
    if i < n:                            # the csv module and pandas disagree: fall back to row numbers
        return np.arange(n, dtype=np.int64) + 2
    return out


def _parse(frame, path, parquet, outcome_values, time_format, skip_bad) -> Records:
    pd = _pandas()
    n = len(frame)
    line = np.arange(n, dtype=np.int64) + (1 if parquet else 2)
    bad = np.zeros(n, dtype=bool)
    problems: list[tuple[int, str, str]] = []       # (row, column, message)
    reasons: dict[str, int] = {}

    def flag(mask, column, message_of, reason):
        idx = np.flatnonzero(mask & ~bad)
        if len(idx) == 0:
            return
        reasons[reason] = reasons.get(reason, 0) + len(idx)
        for i in idx[:200]:
            problems.append((int(i), column, message_of(int(i))))
        if len(idx) > 200:
            problems.extend((int(i), column, "") for i in idx[200:])
        bad[idx] = True

    if n == 0:
        raise RecordsError([Problem("file", "no records (only a header row)")], source=path)

    # outcome
    codes, uniq = pd.factorize(frame["outcome"])
    canon = np.array([str(outcome_values.get(u, u)).lower() for u in uniq] + [""], dtype=object)
    raw_out = canon[codes]
    outcome = np.array([OUTCOME_CODES.get(c, -1) for c in canon], dtype=np.int32)[codes]
    unknown = outcome < 0
    flag(unknown, "outcome", lambda i: f"'{frame['outcome'].iat[i]}' is not an outcome; choose from "
                                        f"{', '.join(OUTCOMES)} (or map it with outcome_values)", "unknown outcome")

    # arrival
    text = frame["arrival"]
    arrival = _parse_times(text, time_format)
    flag(arrival.isna().to_numpy(), "arrival",
         lambda i: f"'{text.iat[i]}' is not a timestamp" + (f" in format {time_format}" if time_format else
                                                             " (ISO 8601, e.g. 2026-03-02T08:15:30)"),
         "bad timestamp")

    # durations
    values: dict[str, np.ndarray] = {}
    for c in DURATIONS:
        if c not in frame.columns:
            values[c] = np.zeros(n)
            continue
        s = frame[c]
        num = pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64)
        blank = (s == "").to_numpy()
        nan_text = np.zeros(n, dtype=bool)
        odd = np.flatnonzero(np.isnan(num) & ~blank)      # few: only the cells that are not numbers
        if len(odd):
            nan_text[odd] = s.iloc[odd].str.strip().str.lower().isin(("nan", "na", "n/a", "null", "none")).to_numpy()
        flag(nan_text, c, lambda i, s=s: f"'{s.iat[i]}' (not a number) is not a duration", f"{c} NaN")
        flag(np.isnan(num) & ~blank, c, lambda i, s=s: f"'{s.iat[i]}' is not a number of seconds",
             f"{c} not a number")
        flag(num < 0, c, lambda i, num=num: f"negative duration {num[i]:g}", f"{c} negative")
        flag(np.isinf(num) | (num > MAX_DURATION_S), c,
             lambda i, num=num: f"{num[i]:g} s is longer than a day (a unit error?)", f"{c} too long")
        needed = np.zeros(n, dtype=bool)
        for code, need in NEEDS.items():
            if c in need:
                needed |= outcome == code
        flag(blank & needed, c, lambda i: f"empty, but a{'n' if raw_out[i][0] in 'aeiou' else ''} "
                                          f"{raw_out[i]} call needs it", f"{c} missing")
        values[c] = np.where(np.isnan(num), 0.0, num)

    # names
    entry_text = frame["entry"]
    flag((entry_text == "").to_numpy(), "entry", lambda i: "empty (ivr, or the call type dialled directly)",
         "entry missing")
    ctype = frame["call_type"] if "call_type" in frame.columns else pd.Series([""] * n)
    ctype = ctype.where(~((ctype == "") & (entry_text.str.lower() != "ivr")), entry_text)
    needs_type = np.isin(outcome, QUEUED + (QUEUE_FULL,))
    flag(needs_type & (ctype == "").to_numpy(), "call_type",
         lambda i: f"empty, but the call reached an agent queue ({raw_out[i]})", "call_type missing")
    group = frame["group"] if "group" in frame.columns else pd.Series([""] * n)
    flag((outcome == ANSWERED) & (group == "").to_numpy(), "group",
         lambda i: "empty, but the call was answered (which agent group took it?)", "group missing")
    ids = frame["call_id"]
    flag((ids.str.strip() == "").to_numpy(), "call_id", lambda i: "empty", "call_id missing")
    dup = ids.duplicated(keep="first").to_numpy() & (ids != "").to_numpy()
    if dup.any():
        first_line = dict(zip(ids[~dup].to_numpy(), line[~dup]))
        flag(dup, "call_id", lambda i: f"'{ids.iat[i]}' repeats the call id of line {first_line.get(ids.iat[i])}",
             "duplicated call_id")

    if problems and not parquet:
        line = _file_lines(path, n)
    if problems and not skip_bad:
        problems.sort()
        counts: dict[str, int] = {}
        for _, c, _m in problems:
            counts[c] = counts.get(c, 0) + 1
        shown = [Problem(c, m, int(line[i]) if not parquet else None,
                         None) if not parquet else Problem(f"row {int(line[i])}, {c}", m)
                 for i, c, m in problems if m]
        hidden = len(problems) - len(shown)
        if hidden:
            shown.append(Problem("file", f"... and {hidden:,} more bad cells"))
        err = RecordsError(shown, source=path, counts=counts)
        err.total = len(problems)
        err.reasons = reasons
        raise err
    keep = ~bad
    if not keep.any():
        raise RecordsError([Problem("file", f"every row has a problem ({sum(reasons.values()):,}); "
                                            "none left to read")], source=path)

    frame = frame[keep]
    arrival = arrival[keep]
    stamps = arrival
    day0 = stamps.min().normalize()
    secs = (stamps - day0).dt.total_seconds().to_numpy(dtype=np.float64)
    day = np.floor(secs / 86_400.0).astype(np.int32)
    days = [str((day0 + pd.Timedelta(days=int(d))).date()) for d in range(int(day.max()) + 1)]
    entry_codes, entries = _codes(entry_text[keep].str.lower().where(entry_text[keep].str.lower() == "ivr",
                                                                     entry_text[keep]))
    tier_col = frame["tier"] if "tier" in frame.columns else pd.Series(["standard"] * len(frame))
    tier_codes, tiers = _codes(tier_col.where(tier_col != "", "standard"))
    type_codes, types = _codes(ctype[keep])
    group_codes, groups = _codes(group[keep])
    if "caller_id" in frame.columns:
        callers = frame["caller_id"]
        caller = np.where((callers == "").to_numpy(), -1, pd.factorize(callers)[0]).astype(np.int64)
        blank_caller = caller < 0
        caller[blank_caller] = caller.max(initial=-1) + 1 + np.arange(int(blank_caller.sum()))
    else:
        caller = np.arange(len(frame), dtype=np.int64)
    return Records(
        line=line[keep], call_id=frame["call_id"].to_numpy(dtype=object), caller=caller,
        arrival_s=secs, day=day, days=days, entry=entry_codes, entries=entries,
        tier=tier_codes, tiers=tiers, call_type=type_codes, call_types=types,
        outcome=outcome[keep], group=group_codes, groups=groups,
        **{c: values[c][keep] for c in DURATIONS},
        present={c for c in COLUMNS if c in frame.columns}, skipped=reasons if skip_bad else {},
        source=os.fspath(path),
    )


def _codes(series) -> tuple[np.ndarray, list[str]]:
    """Codes into a sorted name list; blank -> -1."""
    pd = _pandas()
    codes, uniq = pd.factorize(series, sort=True)
    names = [str(u) for u in uniq]
    remap = np.empty(len(names), dtype=np.int32)
    kept = [n for n in names if n != ""]
    index = {n: i for i, n in enumerate(kept)}
    for j, n in enumerate(names):
        remap[j] = index.get(n, -1)
    out = np.where(codes >= 0, remap[np.maximum(codes, 0)] if len(remap) else -1, -1).astype(np.int32)
    return out, kept


def _stripped(series):
    """Surrounding spaces removed, computed once per distinct value."""
    pd = _pandas()
    codes, uniq = pd.factorize(series.fillna(""))
    clean = np.array([str(u).strip() for u in uniq] + [""], dtype=object)
    return pd.Series(clean[codes], index=series.index)


def _parse_times(text, time_format):
    """Timestamps as the center's wall clock: ISO 8601 (or ``time_format``); timestamps with different
    written offsets are converted to the offset of the first record that has one."""
    pd = _pandas()
    fmt = time_format or "ISO8601"
    try:
        parsed = pd.to_datetime(text, format=fmt, errors="coerce")
        if getattr(parsed.dt, "tz", None) is not None:      # one offset throughout: its wall clock
            parsed = parsed.dt.tz_localize(None)
        return parsed
    except (ValueError, TypeError):
        pass                                                # offsets differ, or some rows have none
    written = text.str.extract(r"(Z|[+-]\d\d:?\d\d)$", expand=False)
    has_offset = written.notna()
    parsed = pd.to_datetime(text.where(has_offset, None), format=fmt, errors="coerce", utc=True)
    usable = has_offset & parsed.notna()
    offset = pd.Timedelta(0)
    if usable.any():
        w = str(written[usable].iat[0]).replace(":", "")
        if w != "Z":
            sign = -1 if w[0] == "-" else 1
            offset = sign * pd.Timedelta(hours=int(w[1:3]), minutes=int(w[3:5]))
    local = parsed.dt.tz_localize(None) + offset
    plain = ~has_offset
    if plain.any():
        local[plain] = pd.to_datetime(text[plain], format=fmt, errors="coerce")
    return local


def _read_mapping(path) -> dict:
    import yaml
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise RecordsError([Problem("mapping", f"cannot read {os.fspath(path)}: {exc}")]) from None
    if not isinstance(data, dict) or set(data) - {"columns", "outcome_values", "time_format"}:
        raise RecordsError([Problem("mapping", "expected keys columns, outcome_values, time_format")],
                           source=os.fspath(path))
    return data


def _pandas():
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is in the calibrate and test extras
        raise RecordsError([Problem("pandas", "reading call records needs pandas",
                                    hint="pip install 'simcc[calibrate]'")]) from None
    return pd


# ----------------------------------------------------------------------
# writing: records from a simulated run
# ----------------------------------------------------------------------
def records_from_logs(scenario, call_logs, start_date: str = "2026-01-05") -> dict[str, np.ndarray]:
    """Columns in the record format from simulated call logs, one replication per day from ``start_date``.

    First legs only (a transferred caller's second leg and outbound work are not rows); a
    caller accepting a callback is outcome ``callback``; blocked and contained calls of the IVR
    have no call type (the caller never chose one in a queue), as in a real export.
    """
    from ..engine.contract import LOG_DTYPE
    from ..engine.contract import OUTCOME_CODES as LOG_CODES

    streams = scenario.arrivals
    type_names = list(scenario.call_types)
    group_names = [g.name for g in scenario.groups]
    tiers = list(scenario.tiers)
    keep_codes = [LOG_CODES[o] for o in OUTCOMES]
    day0 = np.datetime64(start_date, "ms")
    cols: dict[str, list] = {c: [] for c in COLUMNS}
    for rep, log in enumerate(call_logs):
        log = np.asarray(log, dtype=LOG_DTYPE)
        log = log[(log["leg"] == 0) & np.isin(log["outcome"], keep_codes)]
        log = log[np.argsort(log["t_arrive"], kind="stable")]
        n = len(log)
        stamp = day0 + np.timedelta64(rep, "D") + np.round(log["t_arrive"] * 1000).astype("timedelta64[ms]")
        cols["call_id"].append(np.char.add(f"d{rep + 1}-", np.arange(1, n + 1).astype(str)))
        cols["caller_id"].append(np.char.add(f"d{rep + 1}-c", log["caller"].astype(str)))
        cols["arrival"].append(np.datetime_as_string(stamp, unit="ms"))
        entry = np.array(["ivr" if a.entry == "ivr" else a.entry for a in streams], dtype=object)[log["stream"]]
        cols["entry"].append(entry)
        cols["tier"].append(np.array(tiers, dtype=object)[log["tier"]])
        name = np.array(type_names, dtype=object)[log["call_type"]]
        unchosen = (entry == "ivr") & np.isin(log["outcome"], [LOG_CODES["blocked"], LOG_CODES["contained"],
                                                               LOG_CODES["ivr_abandoned"]])
        cols["call_type"].append(np.where(unchosen, "", name))
        cols["outcome"].append(np.array(list(LOG_CODES), dtype=object)[log["outcome"]])
        for c in DURATIONS:
            cols[c].append(np.round(log[c], 3))
        cols["group"].append(np.where(log["group"] >= 0, np.array(group_names + [""], dtype=object)[log["group"]],
                                      ""))
        cols["agent"].append(np.where(log["agent"] >= 0, log["agent"].astype(str), ""))
    return {c: (np.concatenate(v) if v else np.array([])) for c, v in cols.items()}


def write_records(path: str | os.PathLike, columns: dict[str, Any]) -> None:
    """Write record columns to CSV (or Parquet for ``.parquet``), atomically."""
    pd = _pandas()
    frame = pd.DataFrame({c: columns[c] for c in COLUMNS if c in columns})
    path = os.fspath(path)
    from ..atomic import atomic_write
    if path.lower().endswith((".parquet", ".pq")):
        import io
        buf = io.BytesIO()
        frame.to_parquet(buf, index=False)
        atomic_write(path, buf.getvalue())
    else:
        atomic_write(path, frame.to_csv(index=False))
