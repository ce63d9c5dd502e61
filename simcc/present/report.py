"""``simcc report``: one folder with the charts and an HTML page a planner can open offline.

It renders a planning study (:func:`simcc.plan.study`, which runs the
simulations); this module runs nothing.

The page (``index.html``) holds the SLA lines with pass/fail and the service
level definition, the day summary and the per-interval KPIs with 95%
confidence intervals, the staffing plan found by simulation beside the Erlang
answer, a shift roster, trunk sizing beside Erlang B, and the charts of
:mod:`simcc.present.plot` as PNG files next to it (relative links, nothing fetched
from the network).

The folder is written atomically: everything goes into a hidden temporary
folder beside the target, which is then renamed into place. An existing
target is replaced only if it is an earlier simcc report (or empty); any
other folder is left alone and an error is raised.
"""
from __future__ import annotations

import html
import importlib.metadata
import math
import os
import shutil
import tempfile
from dataclasses import dataclass, field

import numpy as np

from ..run.kpis import DAY_KPIS, format_value
from . import plot

__all__ = ["write_report", "Report", "ReportError", "GENERATOR"]

GENERATOR = "simcc report"


class ReportError(ValueError):
    """The report cannot be written where asked (e.g. the folder holds something else)."""


@dataclass
class Report:
    """What :func:`write_report` wrote and computed."""

    out_dir: str
    files: list
    result: object
    plan: object = None
    rosters: dict = field(default_factory=dict)
    trunk_plan: object = None
    variants: dict = field(default_factory=dict)

    @property
    def index(self) -> str:
        return os.path.join(self.out_dir, "index.html")


# --------------------------------------------------------------------------
# formatting
# --------------------------------------------------------------------------
def _e(x) -> str:
    return html.escape(str(x), quote=True)


def _isnan(x) -> bool:
    return x is None or (isinstance(x, (float, np.floating)) and math.isnan(x))


def _pct(x, digits=1) -> str:
    return "–" if _isnan(x) else f"{100 * float(x):.{digits}f}%"


def _num(x, digits=1) -> str:
    return "–" if _isnan(x) else f"{float(x):,.{digits}f}"


def _kpi(name, x) -> str:
    """A KPI as the registry formats it everywhere (terminal, CSV readers, this page)."""
    return "–" if _isnan(x) else format_value(name, x)


def _ci(name, lo, hi) -> str:
    return "–" if _isnan(lo) or _isnan(hi) else f"{_kpi(name, lo)} – {_kpi(name, hi)}"


def _hhmm(seconds) -> str:
    m = int(round(seconds / 60))
    return f"{m // 60:02d}:{m % 60:02d}"


def _table(headers, rows, cls="", caption=None, row_classes=None) -> str:
    out = [f'<table class="{_e(cls)}">']
    if caption:
        out.append(f"<caption>{caption}</caption>")
    out.append("<thead><tr>" + "".join(f"<th>{_e(h)}</th>" for h in headers) + "</tr></thead><tbody>")
    for i, row in enumerate(rows):
        rc = f' class="{row_classes[i]}"' if row_classes and row_classes[i] else ""
        out.append(f"<tr{rc}>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def _verdict(ok) -> str:
    if ok is None:
        return '<span class="na">n/a</span>'
    return '<span class="pass">PASS</span>' if ok else '<span class="fail">FAIL</span>'


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2em auto;max-width:1200px;color:#222;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.6em;border-bottom:1px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;margin:.6em 0;font-size:.85em}th,td{border:1px solid #ccc;padding:.25em .5em;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}caption{text-align:left;font-weight:600;padding:.3em 0}
.pass{color:#13771e;font-weight:700}.fail{color:#b00020;font-weight:700}.na{color:#777}
tr.fail td{background:#fdecee}tr.warm td{color:#888}
figure{margin:1em 0}figure img{max-width:100%;border:1px solid #eee}figcaption{font-size:.85em;color:#555}
.meta{color:#555;font-size:.9em}.note{background:#f8f8f0;border-left:4px solid #cc9;padding:.4em .8em;font-size:.9em}
"""

# Sets <body data-images-loaded="all"> once every chart has decoded (used by the browser test and handy by hand).
_SCRIPT = """
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var bad = imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); });
  document.body.setAttribute('data-image-count', String(imgs.length));
  document.body.setAttribute('data-images-loaded',
    bad.length ? 'missing:' + bad.map(function (i) { return i.getAttribute('src'); }).join(',') : 'all');
});
"""


# --------------------------------------------------------------------------
# sections
# --------------------------------------------------------------------------
def _sla_section(result) -> str:
    rows, classes = [], []
    for line in result.sla_report():
        f = (lambda v: _pct(v)) if line["unit"] == "share" else (lambda v: _num(v))
        ci = "–" if _isnan(line["ci_low"]) else f"{f(line['ci_low'])} – {f(line['ci_high'])}"
        rows.append(
            [_e(line["sla"]), f"{_e(line['op'])} {f(line['target'])}", f(line["mean"]), ci, _verdict(line["passed"])]
        )
        classes.append("fail" if line["passed"] is False else "")
    sl_text = result.meta["sl_definition"]["text"]
    parts = [
        f'<p>Service level = <strong id="sl-definition">{_e(sl_text)}</strong>. A line passes when the '
        f"mean over {len(result.replications)} replications meets its target.</p>"
    ]
    if rows:
        parts.append(
            _table(
                ["SLA line", "target", "measured (mean)", "95% CI", "result"],
                rows,
                "sla",
                caption="SLA for the day",
                row_classes=classes,
            )
        )
    else:
        parts.append("<p>The scenario has no SLA block.</p>")
    return "\n".join(parts)


def _interval_section(result) -> str:
    iv = result.by_interval()
    scn = result.scenario
    sl_t = scn.sla.service_level.percent / 100 if scn.sla.service_level is not None else None
    ab_t = scn.sla.abandon_max_pct / 100 if scn.sla.abandon_max_pct is not None else None
    warm = iv["interval_start"] < scn.warmup_minutes * 60
    rows, classes = [], []
    n_ok = n_meas = 0
    for p in range(result.compiled.n_intervals):
        ok = None
        if not warm[p] and not _isnan(iv["service_level"][p]):
            ok = True
            if sl_t is not None and iv["service_level"][p] < sl_t:
                ok = False
            if ab_t is not None and iv["abandon_rate"][p] > ab_t:
                ok = False
            n_meas += 1
            n_ok += bool(ok)
        rows.append(
            [
                _hhmm(iv["interval_start"][p]),
                _kpi("offered", iv["offered"][p]),
                _kpi("answered", iv["answered"][p]),
                _kpi("abandoned", iv["abandoned"][p]),
                _kpi("blocked", iv["blocked"][p]),
                _pct(iv["service_level"][p]),
                _ci("service_level", iv["service_level_ci_low"][p], iv["service_level_ci_high"][p]),
                _pct(iv["abandon_rate"][p]),
                _ci("abandon_rate", iv["abandon_rate_ci_low"][p], iv["abandon_rate_ci_high"][p]),
                _kpi("asa_s", iv["asa_s"][p]),
                _num(iv["agents"][p], 0),
                _kpi("occupancy", iv["occupancy"][p]),
                _kpi("queue_peak", iv["queue_peak"][p]),
                _kpi("lines_peak", iv["lines_peak"][p]),
                "warm-up" if warm[p] else _verdict(ok),
            ]
        )
        classes.append("warm" if warm[p] else ("fail" if ok is False else ""))
    head = [
        "interval",
        "offered",
        "answered",
        "abandoned",
        "blocked",
        "service level",
        "95% CI",
        "abandon",
        "95% CI",
        "ASA s",
        "agents",
        "occupancy",
        "queue peak",
        "lines peak",
        "SLA (mean)",
    ]
    note = (
        f"<p>{n_ok} of {n_meas} measured intervals meet the service-level"
        f"{' and abandonment' if ab_t is not None else ''} targets on the mean.</p>"
    )
    return note + _table(
        head, rows, "intervals", caption="Per interval (mean over replications, 95% CI)", row_classes=classes
    )


def _day_section(result) -> str:
    s = result.summary()
    rows = [[_e(k), _kpi(k, v["mean"]), _ci(k, v["ci_low"], v["ci_high"]), _e(DAY_KPIS[k])] for k, v in s.items()]
    return _table(["KPI", "mean", "95% CI", "meaning"], rows, "summary", caption="Day summary")


def _plan_section(plan) -> str:
    t = plan.table()
    groups = [c for c in t if c.startswith("agents_")]
    head = (
        ["interval", "required"]
        + [c[len("agents_") :] for c in groups]
        + [
            "Erlang A",
            "Erlang C",
            "scheduled",
            "service level",
            "95% CI",
            "abandon",
            "95% CI",
            "occupancy",
            "rule met",
            "one fewer fails",
        ]
    )
    rows, classes = [], []
    for p in range(len(t["required"])):
        fewer = t["one_fewer_fails"][p]
        where = t["one_fewer_fails_where"][p]
        fewer_txt = "–" if fewer is None else ("yes" + ("" if where == "here" else f" ({where})"))
        rows.append(
            [t["time"][p], str(t["required"][p])]
            + [str(t[c][p]) for c in groups]
            + [
                str(t["erlang_a"][p]),
                str(t["erlang_c"][p]),
                str(t["scheduled"][p]),
                _pct(t["service_level"][p]),
                _ci("service_level", t["service_level_ci_low"][p], t["service_level_ci_high"][p]),
                _pct(t["abandon_rate"][p]),
                _ci("abandon_rate", t["abandon_rate_ci_low"][p], t["abandon_rate_ci_high"][p]),
                _pct(t["occupancy"][p]),
                "warm-up" if not t["measured"][p] else _verdict(t["passed"][p]),
                fewer_txt,
            ]
        )
        classes.append("warm" if not t["measured"][p] else ("fail" if not t["passed"][p] else ""))
    sm = plan.summary()
    totals = _table(
        ["", "agent-hours"],
        [
            ["required (simulation)", _num(sm["agent_hours"])],
            ["scheduled (scenario)", _num(sm["scheduled_agent_hours"])],
            ["Erlang A (pooled, per interval)", _num(sm["erlang_a_agent_hours"])],
            ["Erlang C (pooled, per interval)", _num(sm["erlang_c_agent_hours"])],
        ],
        "totals",
        caption="Totals",
    )
    return (
        f'<p class="note">Rule: {_e(plan.rule)}. {plan.evaluations} simulations.</p>'
        + totals
        + _table(head, rows, "staffing", caption="Required agents per interval", row_classes=classes)
    )


def _roster_section(rosters) -> str:
    parts = []
    for name, r in rosters.items():
        rows = [[_e(n), str(c)] for n, c in r.shifts()]
        parts.append(
            _table(
                ["shift", "agents"],
                rows,
                "roster",
                caption=f"{_e(name)}: {r.agents} agents (lower bound {r.lower_bound}), "
                f"{r.paid_hours:,.1f} paid hours for {r.required_hours:,.1f} required "
                f"({r.efficiency:.1%})",
            )
        )
    method = next(iter(rosters.values())).method if rosters else ""
    return f"<p>Method: {_e(method)}.</p>" + "\n".join(parts)


def _trunk_section(tp) -> str:
    sm = tp.summary()
    rows = [
        ["trunk lines needed (simulation)", f"{sm['lines']} ({sm['e1_groups']} E1 of 30)"],
        ["Erlang B on the busiest interval", f"{sm['erlang_b_lines']} ({sm['erlang_b_e1_groups']} E1)"],
        ["busiest interval", _e(sm["busiest_interval"])],
        ["load there (Erlangs)", _num(sm["offered_erlangs"])],
        ["line holding time per call (IVR + wait + talk + HOLD), s", _num(sm["holding_time_s"])],
        [
            "blocking there at that size (mean / rule's bound)",
            f"{_pct(sm['blocking_at_busiest'], 2)} / {_pct(sm['bound_at_busiest'], 2)}",
        ],
        [
            "... with one line fewer",
            f"{_pct(sm['blocking_at_busiest_one_fewer'], 2)} / {_pct(sm['bound_at_busiest_one_fewer'], 2)}",
        ],
        ["worst interval blocking at that size (mean)", _pct(sm["worst_interval_blocking"], 2)],
        ["most lines busy with unlimited lines", str(sm["peak_lines_unlimited"])],
        ["trunks in the scenario", "unlimited" if sm["scenario_trunks"] is None else str(sm["scenario_trunks"])],
    ]
    return f'<p class="note">Rule: {_e(tp.rule)}.</p>' + _table(["", "value"], rows, "trunks", caption="Trunk sizing")


def _figure_html(name, caption) -> str:
    return (
        f'<figure id="fig-{name}"><img src="{name}.png" alt="{_e(caption)}" loading="eager">'
        f"<figcaption>{_e(caption)}</figcaption></figure>"
    )


_CAPTIONS = {
    "service_level": "Service level and abandonment per interval (mean, 95% CI) against the target band",
    "agents": "Required agents per interval against scheduled agents",
    "queue_lines": "Calls waiting and busy trunk lines over the day",
    "comparison": "Variants compared on common random numbers: service level per interval and for the day",
}


def render_html(result, figures, plan=None, rosters=None, trunk_plan=None) -> str:
    scn = result.scenario
    meta = result.meta
    try:
        version = importlib.metadata.version("simcc")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover
        version = "unknown"
    body = [f"<h1>{_e(scn.name)}</h1>"]
    if scn.description:
        body.append(f"<p>{_e(scn.description)}</p>")
    body.append(
        f'<p class="meta">simcc {_e(version)} · seed {_e(meta["seed"])} · '
        f"{len(result.replications)} replications · engine {_e(meta['engine'])} · "
        f"{scn.n_intervals} intervals of {scn.interval_minutes} min</p>"
    )
    body.append('<h2 id="sla">SLA</h2>' + _sla_section(result))
    body.append('<h2 id="charts">Charts</h2>' + "".join(_figure_html(n, _CAPTIONS[n]) for n in figures))
    if plan is not None:
        body.append('<h2 id="staffing">Staffing by simulation</h2>' + _plan_section(plan))
    if rosters:
        body.append('<h2 id="shifts">Shift roster</h2>' + _roster_section(rosters))
    if trunk_plan is not None:
        body.append('<h2 id="trunk-sizing">Trunk sizing</h2>' + _trunk_section(trunk_plan))
    body.append('<h2 id="per-interval">Per interval (scenario as given)</h2>' + _interval_section(result))
    body.append('<h2 id="day">Day summary</h2>' + _day_section(result))
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="generator" content="{GENERATOR}">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(scn.name)}: simcc report</title><style>{_CSS}</style>"
        f"<script>{_SCRIPT}</script></head>\n"
        f'<body data-images-loaded="pending">\n' + "\n".join(body) + "\n</body></html>\n"
    )


# --------------------------------------------------------------------------
# the folder, written atomically
# --------------------------------------------------------------------------
def _write(path: str, data: str | bytes, mode: int) -> None:
    """Write a file inside the private staging folder (the folder's rename is the atomic step)."""
    with open(path, "wb") as fh:
        fh.write(data.encode("utf-8") if isinstance(data, str) else data)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(path, mode)


def _is_report(path: str) -> bool:
    index = os.path.join(path, "index.html")
    try:
        with open(index, encoding="utf-8", errors="replace") as fh:
            return f'content="{GENERATOR}"' in fh.read(4096)
    except OSError:
        return False


def check_target(out_dir: str) -> None:
    if os.path.lexists(out_dir):
        if not os.path.isdir(out_dir) or os.path.islink(out_dir):
            raise ReportError(f"{out_dir} exists and is not a folder; choose another --out")
        if os.listdir(out_dir) and not _is_report(out_dir):
            raise ReportError(
                f"{out_dir} is not empty and is not a simcc report; refusing to replace it "
                f"(choose another --out or remove it)"
            )


def write_report(study, out_dir, *, progress=None) -> Report:
    """Write ``out_dir/index.html`` for a planning study (:func:`simcc.plan.study`), with the charts beside it.

    Parameters
    ----------
    study : simcc.plan.study.Study
        What to show: the simulated scenario and whichever planning answers it holds.
    out_dir : path
        Created, or replaced if it holds an earlier simcc report (or nothing).
    progress : callable, optional
        Called with a short text before writing.

    Returns
    -------
    Report

    Raises
    ------
    ReportError
        ``out_dir`` exists and holds something other than a simcc report.
    """
    out_dir = os.path.abspath(os.fspath(out_dir))
    check_target(out_dir)
    (progress or (lambda text: None))("writing the report")
    result, plan, rosters = study.result, study.plan, study.rosters
    parent = os.path.dirname(out_dir)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(dir=parent, prefix=".simcc-report-")
    umask = os.umask(0)
    os.umask(umask)
    try:
        os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; a report is for reading
        roster_all = rosters.get("all") or (next(iter(rosters.values())) if rosters else None)
        files = {}
        for name, fig in plot.figures_for(
            result, plan=plan, roster=roster_all, variants=study.variants or None
        ).items():
            files[f"{name}.png"] = plot.figure_png(fig)
        figures = [f[:-4] for f in files]
        if plan is not None:
            files["staffing.csv"] = plan.to_csv()
        files["intervals.csv"] = result.intervals_csv()
        files["index.html"] = render_html(result, figures, plan=plan, rosters=rosters, trunk_plan=study.trunk_plan)
        for name, data in files.items():  # index.html last
            _write(os.path.join(tmp, name), data, 0o666 & ~umask)
        check_target(out_dir)  # still ours to replace?
        old = None
        if os.path.exists(out_dir):
            old = tempfile.mkdtemp(dir=parent, prefix=".simcc-old-")
            os.rmdir(old)
            os.rename(out_dir, old)
        os.rename(tmp, out_dir)
        tmp = None
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return Report(out_dir, list(files), result, plan, rosters, study.trunk_plan, study.variants)
