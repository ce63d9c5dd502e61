"""Planners' charts (matplotlib).

Every function returns a :class:`matplotlib.figure.Figure` built without
pyplot: nothing is shown, no global backend is switched, and the figures
render with Agg (``fig.savefig`` or :func:`save_all`). The x axis is the time
of day in hours; each interval's value is drawn at the interval's middle.

* :func:`service_level_figure`: service level and abandonment per interval
  with their 95% confidence bands, against the target band.
* :func:`agents_figure`: required agents (simulation) vs scheduled agents
  (the scenario, or a shift roster), with the Erlang answer.
* :func:`queue_lines_figure`: calls waiting and busy trunk lines over the day.
* :func:`comparison_figure`: several variants (policies, a sweep, a staffing
  plan) on one chart, per interval and for the day with 95% CIs.
* :func:`sweep_figure`: one KPI of a sweep against its first key.
"""
from __future__ import annotations

import io
import os

import numpy as np

from ..atomic import atomic_write
from ..plan.baseline import erlang_baseline
from ..run.kpis import DAY_KPIS, SHARE_KPIS

__all__ = ["service_level_figure", "agents_figure", "agents_figure_for_plan", "queue_lines_figure",
           "comparison_figure", "sweep_figure", "figures_for", "save_all", "figure_png"]

# colours (matplotlib's default cycle, named for readability)
BLUE, ORANGE, GREEN, RED, PURPLE, GREY = "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#7f7f7f"


def _figure(rows: int = 1, height: float = 3.2):
    from matplotlib.figure import Figure
    fig = Figure(figsize=(9, height * rows), layout="constrained")
    axes = [fig.add_subplot(rows, 1, i + 1) for i in range(rows)]
    return fig, axes


def _hours(n: int, interval_s: float) -> np.ndarray:
    """Interval midpoints in hours."""
    return (np.arange(n) + 0.5) * interval_s / 3600.0


def _time_axis(ax, n: int, interval_s: float, label: bool = True):
    end = n * interval_s / 3600.0
    ax.set_xlim(0, end)
    step = 2 if end > 12 else 1
    ax.set_xticks(np.arange(0, end + 1e-9, step))
    if label:
        ax.set_xlabel("time of day (h)")
    ax.grid(True, alpha=0.3)


def _warmup(ax, scenario):
    w = scenario.warmup_minutes / 60.0
    if w > 0:
        ax.axvspan(0, w, color=GREY, alpha=0.15, label="warm-up (not measured)")


def service_level_figure(result, target_sl: float | None = None, abandon_max: float | None = None,
                         title: str | None = None):
    """Service level (top) and abandonment (bottom) per interval, mean and 95% CI, against the targets.

    Targets default to the scenario's SLA block; values are in percent.
    """
    scn = result.scenario
    iv = result.by_interval()
    n = result.compiled.n_intervals
    x = _hours(n, result.compiled.interval_s)
    if target_sl is None and scn.sla.service_level is not None:
        target_sl = scn.sla.service_level.percent / 100
    if abandon_max is None and scn.sla.abandon_max_pct is not None:
        abandon_max = scn.sla.abandon_max_pct / 100
    fig, (ax1, ax2) = _figure(2)
    within = result.meta["sl_definition"]["threshold_s"]

    ax1.fill_between(x, 100 * iv["service_level_ci_low"], 100 * iv["service_level_ci_high"], color=BLUE,
                     alpha=0.2, label="95% CI")
    ax1.plot(x, 100 * iv["service_level"], color=BLUE, marker="o", ms=3, label=f"service level ({within:g} s)")
    if target_sl is not None:
        ax1.axhspan(100 * target_sl, 100, color=GREEN, alpha=0.08, label="target band")
        ax1.axhline(100 * target_sl, color=GREEN, ls="--", label=f"target {100 * target_sl:g}%")
    lo = np.nanmin(np.r_[100 * iv["service_level_ci_low"], [100 * (target_sl or 1) - 5]])
    ax1.set_ylim(max(0, min(lo, 100) - 2), 100.5)
    ax1.set_ylabel("service level (%)")
    _warmup(ax1, scn)
    _time_axis(ax1, n, result.compiled.interval_s, label=False)
    ax1.legend(loc="lower left", fontsize=8, ncol=2)

    ax2.fill_between(x, 100 * iv["abandon_rate_ci_low"], 100 * iv["abandon_rate_ci_high"], color=ORANGE,
                     alpha=0.2, label="95% CI")
    ax2.plot(x, 100 * iv["abandon_rate"], color=ORANGE, marker="o", ms=3, label="abandonment")
    top = np.nanmax(np.r_[100 * iv["abandon_rate_ci_high"], [0.5]])
    if abandon_max is not None:
        ax2.axhspan(0, 100 * abandon_max, color=GREEN, alpha=0.08, label="target band")
        ax2.axhline(100 * abandon_max, color=RED, ls="--", label=f"max {100 * abandon_max:g}%")
        top = max(top, 100 * abandon_max)
    ax2.set_ylim(0, top * 1.15)
    ax2.set_ylabel("abandonment (%)")
    _warmup(ax2, scn)
    _time_axis(ax2, n, result.compiled.interval_s)
    ax2.legend(loc="upper left", fontsize=8, ncol=2)
    fig.suptitle(title or f"{scn.name}: service level and abandonment per interval "
                          f"({len(result.replications)} replications)")
    return fig


def agents_figure(
    required,
    interval_s: float,
    *,
    scheduled=None,
    erlang=None,
    required_label: str = "required (simulation)",
    scheduled_label: str = "scheduled",
    erlang_label: str = "Erlang A",
    title: str | None = None,
):
    """Required vs scheduled agents per interval, drawn as steps (one value per interval).

    Each series is drawn with ``drawstyle="steps-post"`` at the interval
    starts, with the last value repeated at the end of the horizon.
    """
    required = np.asarray(required, dtype=float)
    n = len(required)
    edges = np.arange(n + 1) * interval_s / 3600.0
    fig, (ax,) = _figure(1, height=3.6)

    def step(y, **kw):
        y = np.asarray(y, dtype=float)
        return ax.plot(edges, np.r_[y, y[-1]], drawstyle="steps-post", **kw)

    if scheduled is not None:
        sched = np.asarray(scheduled, dtype=float)
        ax.fill_between(
            edges,
            np.r_[required, required[-1]],
            np.r_[sched, sched[-1]],
            step="post",
            where=np.r_[sched >= required, True],
            color=GREEN,
            alpha=0.12,
            label="surplus",
        )
        if np.any(sched < required):
            ax.fill_between(
                edges,
                np.r_[required, required[-1]],
                np.r_[sched, sched[-1]],
                step="post",
                where=np.r_[sched < required, False],
                color=RED,
                alpha=0.2,
                label="shortfall",
            )
        step(sched, color=GREEN, lw=1.6, label=scheduled_label)
    if erlang is not None:
        step(erlang, color=GREY, ls="--", lw=1.2, label=erlang_label)
    step(required, color=BLUE, lw=2.0, label=required_label)
    ax.set_ylabel("agents")
    ax.set_ylim(0, None)
    _time_axis(ax, n, interval_s)
    ax.legend(loc="upper left", fontsize=8)
    fig.suptitle(title or "Required and scheduled agents per interval")
    return fig


def agents_figure_for_plan(plan, roster=None, title: str | None = None):
    """:func:`agents_figure` for a :class:`~simcc.plan.staffing.StaffingPlan`: required (all groups) against a
    :class:`~simcc.plan.shifts.Roster`'s coverage if given, else against the scenario's own headcount."""
    if roster is not None:
        sched, label = roster.coverage, f"scheduled (roster: {roster.agents} agents on shifts)"
    else:
        sched, label = plan.scheduled, "scheduled (scenario)"
    return agents_figure(
        plan.total,
        plan.interval_s,
        scheduled=sched,
        erlang=plan.erlang_a,
        scheduled_label=label,
        title=title
        or f"{plan.source.name}: required vs scheduled agents ({plan.agent_hours:,.0f} agent-hours required)",
    )


def queue_lines_figure(result, title: str | None = None):
    """Calls waiting (top) and busy trunk lines (bottom) per interval: time-average and peak."""
    scn = result.scenario
    iv = result.by_interval()
    n = result.compiled.n_intervals
    x = _hours(n, result.compiled.interval_s)
    fig, (ax1, ax2) = _figure(2)
    ax1.plot(x, iv["queue_mean"], color=PURPLE, label="calls waiting (mean)")
    ax1.plot(x, iv["queue_peak"], color=PURPLE, ls=":", label="calls waiting (peak)")
    ax1.set_ylabel("calls waiting")
    ax1.set_ylim(0, None)
    _warmup(ax1, scn)
    _time_axis(ax1, n, result.compiled.interval_s, label=False)
    ax1.legend(loc="upper left", fontsize=8)
    ax2.plot(x, iv["lines_mean"], color=BLUE, label="busy lines (mean)")
    ax2.plot(x, iv["lines_peak"], color=BLUE, ls=":", label="busy lines (peak)")
    if scn.trunks is not None:
        ax2.axhline(scn.trunks, color=RED, ls="--", label=f"trunk lines ({scn.trunks})")
    ax2.set_ylabel("trunk lines")
    ax2.set_ylim(0, None)
    _warmup(ax2, scn)
    _time_axis(ax2, n, result.compiled.interval_s)
    ax2.legend(loc="upper left", fontsize=8)
    fig.suptitle(title or f"{scn.name}: queue and trunk lines over the day")
    return fig


def comparison_figure(results: dict, kpi: str = "service_level", target: float | None = None, title: str | None = None):
    """Compare variants (``{label: Result}``): the KPI per interval (top) and for the day with 95% CI (bottom).

    Shares (service level, abandonment, occupancy, blocking) are drawn in
    percent. With the same seed the variants run on common random numbers.
    """
    if not results:
        raise ValueError("comparison_figure needs at least one result")
    share = kpi in ("service_level", "abandon_rate", "occupancy", "blocking_rate")
    k = 100.0 if share else 1.0
    unit = " (%)" if share else ""
    fig, (ax1, ax2) = _figure(2)
    colors = [BLUE, ORANGE, GREEN, RED, PURPLE, GREY, "#8c564b", "#e377c2"]
    labels, means, errs = [], [], []
    first = next(iter(results.values()))
    n = first.compiled.n_intervals
    for i, (label, res) in enumerate(results.items()):
        iv = res.by_interval()
        ax1.plot(
            _hours(res.compiled.n_intervals, res.compiled.interval_s),
            k * iv[kpi],
            color=colors[i % len(colors)],
            label=label,
        )
        s = res.summary()[kpi]
        labels.append(label)
        means.append(k * s["mean"])
        lo, hi = s["ci_low"], s["ci_high"]
        errs.append([k * (s["mean"] - lo), k * (hi - s["mean"])] if np.isfinite(lo) else [0.0, 0.0])
    if target is not None:
        ax1.axhline(k * target, color=GREEN, ls="--", label=f"target {k * target:g}{'%' if share else ''}")
        ax2.axhline(k * target, color=GREEN, ls="--")
    ax1.set_ylabel(kpi.replace("_", " ") + unit)
    _time_axis(ax1, n, first.compiled.interval_s)
    ax1.legend(loc="lower left", fontsize=8, ncol=2)
    pos = np.arange(len(labels))
    ax2.bar(
        pos,
        means,
        yerr=np.array(errs).T,
        color=[colors[i % len(colors)] for i in range(len(labels))],
        capsize=4,
        alpha=0.8,
    )
    ax2.set_xticks(pos, labels)
    ax2.set_ylabel(f"day {kpi.replace('_', ' ')}{unit}")
    if share:
        lo = min(m - e[0] for m, e in zip(means, errs))
        ax2.set_ylim(max(0, lo - 5), min(100, max(means) + 5) if kpi == "service_level" else None)
    ax2.grid(True, axis="y", alpha=0.3)
    fig.suptitle(title or f"Comparison: {kpi.replace('_', ' ')} (95% CI, common random numbers)")
    return fig


def figure_png(fig, dpi: int = 100) -> bytes:
    """Render a figure to PNG bytes with Agg."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def figures_for(result, *, plan=None, roster=None, variants: dict | None = None) -> dict:
    """The report's charts for one run, as ``{name: Figure}`` (see :func:`save_all`)."""
    figs = {"service_level": service_level_figure(result)}
    if plan is not None:
        figs["agents"] = agents_figure_for_plan(plan, roster)
    else:
        scn = result.scenario
        sla = scn.sla
        base = erlang_baseline(
            scn,
            sla.service_level.percent / 100 if sla.service_level else None,
            scn.sl_threshold_s,
            (sla.abandon_max_pct or 0) / 100 or None,
        )
        sched = np.sum([scn.agents_per_interval(g) for g in scn.groups], axis=0)
        figs["agents"] = agents_figure(
            base.erlang_a,
            scn.interval_s,
            scheduled=sched,
            required_label="required (Erlang A, per interval)",
            scheduled_label="scheduled (scenario)",
            title=f"{scn.name}: required vs scheduled agents",
        )
    figs["queue_lines"] = queue_lines_figure(result)
    if variants:
        tgt = result.scenario.sla.service_level
        figs["comparison"] = comparison_figure(variants, target=tgt.percent / 100 if tgt else None)
    return figs


def save_all(
    result, out_dir, *, plan=None, roster=None, variants: dict | None = None, dpi: int = 100
) -> dict[str, str]:
    """Write the charts of one run as PNG files (each atomically) and return ``{name: path}``.

    Always: ``service_level.png``, ``agents.png`` (required vs scheduled: from
    ``plan`` and ``roster`` when given, else the per-interval Erlang A answer
    vs the scenario's headcount) and ``queue_lines.png``; with ``variants``
    (``{label: Result}``) also ``comparison.png``.
    """
    out_dir = os.fspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    paths = {}
    for name, fig in figures_for(result, plan=plan, roster=roster, variants=variants).items():
        path = os.path.join(out_dir, f"{name}.png")
        atomic_write(path, figure_png(fig, dpi))
        paths[name] = path
    return paths


def sweep_figure(sw, kpi: str = "service_level"):
    """A sweep's ``kpi`` (mean, 95% CI bars) against the first swept key, one line per combination
    of the other keys (``sweep.png``)."""
    if kpi not in DAY_KPIS:
        raise ValueError(f"unknown KPI {kpi!r}; one of {', '.join(DAY_KPIS)}")
    from matplotlib.ticker import PercentFormatter

    x_key, others = sw.keys[0], sw.keys[1:]
    xs = sw.grid[x_key]
    numeric = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in xs)
    fig, (ax,) = _figure(1, 4.5)
    fig.set_size_inches(7, 4.5)
    series: dict[tuple, list] = {}
    for point, res in zip(sw.points, sw.results):
        if res is not None:
            series.setdefault(tuple(point[k] for k in others), []).append((point[x_key], res.summary()[kpi]))
    for combo, pts in series.items():
        pos = [x if numeric else xs.index(x) for x, _ in pts]
        mean = [s["mean"] for _, s in pts]
        lo = [0.0 if np.isnan(s["ci_low"]) else max(s["mean"] - s["ci_low"], 0.0) for _, s in pts]
        hi = [0.0 if np.isnan(s["ci_high"]) else max(s["ci_high"] - s["mean"], 0.0) for _, s in pts]
        label = ", ".join(f"{k}={v}" for k, v in zip(others, combo)) or None
        ax.errorbar(pos, mean, yerr=[lo, hi], marker="o", capsize=3, label=label)
    if not numeric:
        ax.set_xticks(range(len(xs)), [str(x) for x in xs])
    if kpi in SHARE_KPIS:
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(x_key)
    ax.set_ylabel(kpi)
    n = sw.meta.get("replications")
    ax.set_title(f"{sw.scenario.name}: {kpi} vs {x_key} ({n} replications, 95% CI)", fontsize=10)
    ax.grid(True, alpha=0.3)
    if others and series:
        ax.legend(fontsize=8)
    return fig


def sweep_png(sw, kpi: str = "service_level") -> bytes:
    """:func:`sweep_figure` as PNG bytes (what ``sweep.png`` holds)."""
    return figure_png(sweep_figure(sw, kpi), dpi=110)


def backtest_figure(bt, kpis=("offered", "service_level", "abandon_rate", "asa_s")):
    """Recorded days against the simulated 95% band of one day, per interval (``backtest.png``).

    The band and median are those of the first recorded day's simulation; every recorded day's
    values are dots, red where they fall outside their own day's band.
    """
    scn = bt.scenario
    P, I = scn.n_intervals, scn.interval_s
    x = _hours(P, I)
    fig, axes = _figure(len(kpis), height=2.6)
    first = bt.days[0]
    for ax, k in zip(axes, kpis):
        rows = [r for r in bt.rows if r["kpi"] == k]
        band = [r for r in rows if r["day"] == first]
        lo = np.array([r["low"] for r in band], dtype=float)
        hi = np.array([r["high"] for r in band], dtype=float)
        med = np.array([r["median"] for r in band], dtype=float)
        scale = 100.0 if k in SHARE_KPIS else 1.0
        ax.fill_between(x, lo * scale, hi * scale, color=BLUE, alpha=0.2, step="mid",
                        label="simulated 95% band of one day")
        ax.plot(x, med * scale, color=BLUE, lw=1, drawstyle="steps-mid", label="simulated median")
        pts = np.array([(r["interval_start"] / 3600 + I / 7200, r["recorded"] * scale, r["outside"] is True)
                        for r in rows], dtype=float).reshape(-1, 3)
        inside = pts[:, 2] == 0
        ax.plot(pts[inside, 0], pts[inside, 1], ".", color=GREY, ms=3, label="recorded")
        ax.plot(pts[~inside, 0], pts[~inside, 1], ".", color=RED, ms=5, label="recorded, outside the band")
        v = bt.verdicts[k]
        ax.set_ylabel(k.replace("_", " ") + (" %" if scale == 100.0 else ""))
        ax.set_title(f"{k.replace('_', ' ')}: {v['outside']} of {v['checked']} outside "
                     f"(about {v['expected']:g} expected, limit {v['limit']}) - "
                     f"{'pass' if v['passed'] else 'FAIL'}", fontsize=9, loc="left")
        _time_axis(ax, P, I, label=ax is axes[-1])
    axes[0].legend(fontsize=7, loc="upper left")
    fig.suptitle(f"Backtest of {scn.name}: {len(bt.days)} recorded day(s), {bt.replications} simulated days each")
    return fig
