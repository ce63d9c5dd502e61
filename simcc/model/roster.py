"""Shift rosters turned into headcount per interval."""
from __future__ import annotations

from .sections import NIGHT, Roster


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def roster_headcount(roster: Roster, n: int, interval_minutes: int) -> tuple[list[int], list[tuple[str, str]]]:
    """Agents on duty per interval from a roster, and (path, problem) pairs.

    Shift starts, lengths and breaks must fall on interval borders. On a
    24-hour horizon a shift that runs past midnight wraps to the start of the
    day (the same day repeats); otherwise it ends at the horizon.
    """
    counts = [0] * n
    problems = []
    day = n * interval_minutes
    wrap = day == 24 * 60
    night0, night1 = _minutes(NIGHT[0]), _minutes(NIGHT[1])
    for i, sh in enumerate(roster.shifts):
        path = f"roster.shifts.{i}"
        start = _minutes(sh.start)
        length = sh.hours * 60
        if start % interval_minutes or length % interval_minutes:
            problems.append(
                (
                    path,
                    f"shift {sh.start} for {sh.hours:g} h does not fall on {interval_minutes}-minute interval borders",
                )
            )
            continue
        on = set(range(start // interval_minutes, int(start + length) // interval_minutes))
        for j, br in enumerate(sh.breaks):
            b0 = _minutes(br.start)
            if b0 < start and wrap:
                b0 += 24 * 60
            if b0 % interval_minutes or br.minutes % interval_minutes:
                problems.append(
                    (f"{path}.breaks.{j}", f"break {br.start} for {br.minutes:g} min does not fall on interval borders")
                )
                continue
            off = set(range(b0 // interval_minutes, int(b0 + br.minutes) // interval_minutes))
            if not off <= on:
                problems.append(
                    (f"{path}.breaks.{j}", f"break {br.start} is not inside the shift {sh.start} + {sh.hours:g} h")
                )
                continue
            on -= off
        rules = roster.rules.get(sh.subgroup) if sh.subgroup else None
        if sh.subgroup is not None and sh.subgroup not in roster.rules:
            problems.append((f"{path}.subgroup", f"unknown subgroup {sh.subgroup!r}; name it under roster.rules"))
        if rules is not None and rules.no_night_shifts:
            for q in sorted(on):
                m = (q * interval_minutes) % (24 * 60)
                if m >= night0 or m < night1:
                    problems.append(
                        (
                            path,
                            f"subgroup {sh.subgroup!r} has no night shifts, but this shift works "
                            f"{m // 60:02d}:{m % 60:02d} (night is {NIGHT[0]}-{NIGHT[1]})",
                        )
                    )
                    break
        for q in on:
            if wrap:
                q %= n
            if q < n:
                counts[q] += sh.agents
    return counts, problems
