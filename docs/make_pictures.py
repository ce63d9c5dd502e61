"""Regenerate the README's pictures (docs/img/*.png) from the Quanzhou scenario.

    python docs/make_pictures.py            # about a minute and a half on 2 cores
    python docs/make_pictures.py roster     # docs/img/roster.png: the shipped 4-week roster (about 40 s)

It writes a full report (staffing with the interval-by-interval descent and
minimality check, trunk sizing, shift roster, comparison) into a temporary
folder and copies its charts to docs/img/, then prints the numbers quoted in
docs/planning.md. Seeds are fixed, so the pictures only change when the model
or the search does.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def main() -> int:
    from simcc.report import write_report

    import simcc

    scn = simcc.load(os.path.join(ROOT, "scenarios", "quanzhou-10000.yaml"))
    tmp = tempfile.mkdtemp()
    try:
        t0 = time.perf_counter()
        rep = write_report(scn, os.path.join(tmp, "report"), seed=1, replications=20, verify=True,
                           progress=lambda text: print(f"  {text} ...", flush=True))
        elapsed = time.perf_counter() - t0
        img = os.path.join(HERE, "img")
        os.makedirs(img, exist_ok=True)
        for name in ("service_level", "agents", "queue_lines", "comparison"):
            shutil.copyfile(os.path.join(rep.out_dir, f"{name}.png"), os.path.join(img, f"{name}.png"))
        plan, tp = rep.plan, rep.trunk_plan
        where = plan.one_fewer_where()
        fresh = plan.verify(seed=20261122, replications=100)
        fresh_iv = fresh.result.by_interval()
        print(f"report: {elapsed:.0f} s; staffing: {plan.evaluations} simulations")
        print(f"agent-hours: simulation {plan.agent_hours:.1f}, scenario {plan.scheduled_agent_hours:.1f}, "
              f"Erlang A {plan.erlang_a_agent_hours:.1f}, Erlang C {plan.erlang_c_agent_hours:.1f}; "
              f"peak {int(plan.total.max())}")
        print(f"one agent fewer fails: here {where.count('here')}, elsewhere {where.count('elsewhere')}, "
              f"floor {where.count('floor')}, unchecked {where.count(None)}")
        print(f"fresh seed, 100 replications: every interval meets the targets on the mean: "
              f"{bool(fresh.interval_mean_passed.all())}; lowest interval service level "
              f"{np.nanmin(fresh_iv['service_level']):.3f}; day SLA lines: "
              + ", ".join(f"{line['sla']} {line['mean']:.4f} {'PASS' if line['passed'] else 'FAIL'}"
                          for line in fresh.sla))
        print(f"trunks: {tp.lines} lines ({tp.e1_groups} E1) vs Erlang B {tp.erlang_b_lines} "
              f"({tp.erlang_b_e1_groups} E1) at {tp.offered_erlangs:.1f} Erlangs, holding {tp.holding_time_s:.0f} s")
        r = rep.rosters["all"]
        print(
            f"roster: {r.agents} agents on 8-hour shifts (lower bound {r.lower_bound}), efficiency {r.efficiency:.1%}"
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def roster_picture() -> int:
    """docs/img/roster.png from scenarios/rosters (313 agents, 4 weeks), and the numbers docs/planning.md quotes."""
    sys.path.insert(0, ROOT)       # this checkout's simcc, whichever is installed
    import simcc
    from simcc.plan.rosters import solve_roster
    from simcc.present.rosterplot import write_roster

    scn = simcc.load(os.path.join(ROOT, "scenarios", "quanzhou-10000.yaml"))
    result = solve_roster(scn, os.path.join(ROOT, "scenarios", "rosters", "quanzhou-agents.csv"),
                          os.path.join(ROOT, "scenarios", "rosters", "quanzhou-rules.yaml"), 4, time_limit_s=30)
    tmp = tempfile.mkdtemp()
    try:
        paths = write_roster(result, tmp)
        shutil.copyfile(paths["roster.png"], os.path.join(HERE, "img", "roster.png"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    s = result.summary()
    print({k: v for k, v in s.items() if k != "groups"})
    for name, g in s["groups"].items():
        print(name, g)
    return 0


if __name__ == "__main__":
    sys.exit(roster_picture() if sys.argv[1:] == ["roster"] else main())
