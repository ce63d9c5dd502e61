"""The picture of a per-agent roster (``roster.png``) and the writer of a roster folder (``simcc roster --out``).

:func:`roster_figure` draws, without pyplot, a Gantt chart (one line per
agent, one bar per shift, breaks left as gaps, colour by subgroup) above the
agents required and rostered (on the phones) over the whole horizon, summed
over groups, with the shortfall shaded.
"""
from __future__ import annotations

import os

import numpy as np

from ..atomic import atomic_write
from .plot import figure_png

__all__ = ["roster_figure", "write_roster"]

_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]


def _hours(hhmm: str) -> float:
    h, m = hhmm.split(":")
    return int(h) + int(m) / 60


def roster_figure(result):
    """A matplotlib Figure: the roster as a Gantt chart and coverage against the requirement."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    agents = result.agents
    days = len(result.dates)
    height = min(max(3.0, 0.035 * len(agents) + 1.5), 14.0)
    fig = Figure(figsize=(12, height + 3.0), layout="constrained")
    grid = fig.add_gridspec(2, 1, height_ratios=[height, 3.0])
    ax = fig.add_subplot(grid[0])
    subs = sorted({a.subgroup or "-" for a in agents})
    colour = {s: _COLOURS[i % len(_COLOURS)] for i, s in enumerate(subs)}
    line = {a.agent: i for i, a in enumerate(agents)}
    sub_of = {a.agent: a.subgroup or "-" for a in agents}
    first = np.datetime64(result.dates[0])
    bars: dict = {}
    for row in result.rows:
        d = int((np.datetime64(row["date"]) - first).astype(int))
        s, e = _hours(row["start"]), _hours(row["end"])
        if e <= s:
            e += 24
        pieces = [(s, e)]
        if row.get("break_minutes") and row.get("break_start"):
            b = _hours(row["break_start"])
            b = b + 24 if b < s else b
            pieces = [(s, b), (b + int(row["break_minutes"]) / 60, e)]
        for a, b in pieces:
            bars.setdefault(row["agent"], []).append((24 * d + a, b - a))
    for agent, spans in bars.items():
        ax.broken_barh(spans, (line[agent] - 0.4, 0.8), facecolors=colour[sub_of[agent]], linewidth=0)
    ax.set_ylim(len(agents) - 0.5, -0.5)
    ax.set_xlim(0, 24 * days)
    ax.set_ylabel(f"agents ({len(agents)})")
    step = 24 if days <= 14 else 24 * 7
    ax.set_xticks(np.arange(0, 24 * days + 1, step))
    ax.set_xticklabels([str(np.datetime64(result.dates[0]) + int(h // 24)) for h in np.arange(0, 24 * days + 1, step)],
                       fontsize=8)
    for k in range(days + 1):
        ax.axvline(24 * k, color="#dddddd", linewidth=0.4, zorder=0)
    if len(agents) > 60:
        ax.set_yticks([])
    else:
        ax.set_yticks(range(len(agents)))
        ax.set_yticklabels([a.agent for a in agents], fontsize=7)
    ax.legend(handles=[Patch(color=colour[s], label=s) for s in subs], title="subgroup", loc="upper right",
              fontsize=8, ncols=min(len(subs), 5))
    s = result.summary()
    ax.set_title(f"Roster: {len(agents)} agents, {days} days ({s['status']}, shortfall {s['shortfall_pct']:.2f}% of "
                 f"{s['required_agent_hours']:,.0f} required agent-hours, {s['hard_rule_violations']} hard-rule "
                 "violations)", fontsize=10)
    ax2 = fig.add_subplot(grid[1], sharex=ax)
    iv = result.interval / 60
    req = result.required.sum(axis=2).reshape(-1)
    got = result.rostered.sum(axis=2).reshape(-1)
    x = np.arange(len(req) + 1) * iv
    ax2.stairs(req, x, color="black", label="required", linewidth=1)
    ax2.stairs(got, x, color="#1f77b4", label="rostered (on the phones)", linewidth=1)
    ax2.fill_between(x[:-1], got, req, where=got < req, step="post", color="#d62728", alpha=0.5, label="shortfall")
    ax2.set_ylabel("agents")
    ax2.legend(loc="upper right", fontsize=8, ncols=3)
    ax2.grid(True, alpha=0.3)
    return fig


def write_roster(result, out_dir, dpi: int = 90) -> dict:
    """Write roster.csv, coverage.csv, violations.csv, roster.png and roster.json (last) into ``out_dir``,
    each file atomically. Returns ``{name: path}``."""
    os.makedirs(out_dir, exist_ok=True)
    files = result.files()
    paths = {}
    for name in ("roster.csv", "coverage.csv", "violations.csv"):
        paths[name] = os.path.join(out_dir, name)
        atomic_write(paths[name], files[name])
    paths["roster.png"] = os.path.join(out_dir, "roster.png")
    atomic_write(paths["roster.png"], figure_png(roster_figure(result), dpi))
    paths["roster.json"] = os.path.join(out_dir, "roster.json")
    atomic_write(paths["roster.json"], files["roster.json"])
    return paths
