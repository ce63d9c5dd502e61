"""``simcc roster``: named agents on shifts over weeks (OR-Tools CP-SAT), written into a folder."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..plan import rosters as rosters_mod
from .app import DEBUG_HELP, app, fail, load_scenario, user_errors
from .console import note, print_table, say, warning


@app.command()
def roster(
    scenario: Path = typer.Argument(..., help="Scenario YAML file (groups, interval, and the headcount to cover)."),
    agents: Path = typer.Option(..., "--agents", help="Agents CSV: agent,group,contract_hours,subgroup,unavailable,"
                                                      "prefers."),
    weeks: int = typer.Option(4, "--weeks", min=1, max=52, help="Weeks to roster (7 dates each)."),
    rules: Optional[Path] = typer.Option(None, "--rules", help="Rules YAML (default: the built-in defaults)."),
    plan: Optional[Path] = typer.Option(None, "--plan", help="Staffing plan to cover (simcc staff --format json, "
                                                             "or the shifts of simcc shifts --select --format "
                                                             "json); default: the scenario's headcount."),
    time_limit: float = typer.Option(30.0, "--time-limit", min=0.1, help="Solver time limit, seconds."),
    seed: int = typer.Option(0, "--seed", help="Solver random seed."),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", min=1, help="Solver threads (default: every "
                                                                                "core)."),
    out_dir: Path = typer.Option(..., "--out", help="Folder for roster.csv, coverage.csv, violations.csv, "
                                                    "roster.json and roster.png."),
    debug: bool = typer.Option(False, help=DEBUG_HELP),
):
    """Per-agent rosters over weeks: rest or one shift for every agent and date, keeping every hard rule."""
    scn = load_scenario(scenario, debug)
    if out_dir.exists() and not out_dir.is_dir():
        fail(f"--out {out_dir} is a file; give a folder")
    with user_errors(debug):
        try:
            result = rosters_mod.solve_roster(scn, agents, rules, weeks, plan, time_limit_s=time_limit, seed=seed,
                                              workers=workers)
        except ImportError as exc:
            if debug:
                raise
            fail(str(exc) if "simcc[roster]" in str(exc) else rosters_mod.INSTALL_HINT)
        from ..present.rosterplot import write_roster
        paths = write_roster(result, out_dir)
    s = result.summary()
    gap = "-" if s["gap"] is None else f"{100 * s['gap']:.1f}%"
    print_table(["", "value"], [
        ["solver status", s["status"]],
        ["objective / bound / gap", f"{s['objective']:,.0f} / {s['bound']:,.0f} / {gap}"],
        ["solve time, s", f"{s['solve_s']:.1f}"],
        ["agents / shifts", f"{s['agents']} / {s['shifts']:,}"],
        ["dates", f"{s['start_date']} to {s['end_date']} ({s['weeks']} weeks"
                  f"{', a rotation' if s['rotation'] else ''})"],
        ["requirement", s["requirement"]],
        ["required agent-hours", f"{s['required_agent_hours']:,.1f}"],
        ["shortfall agent-hours", f"{s['shortfall_agent_hours']:,.1f} ({s['shortfall_pct']:.2f}%)"],
        ["surplus agent-hours", f"{s['surplus_agent_hours']:,.1f}"],
        ["preferences met", f"{s['preferences']['met']} of {s['preferences']['asked']}"],
        ["hard-rule violations (checker)", str(s["hard_rule_violations"])],
    ], title=f"{scn.name}: roster of {s['agents']} agents", left=("value",))
    say(f"Method: {s['method']}.")
    if s["hard_rule_violations"]:
        warning(f"the rule checker found {s['hard_rule_violations']} hard-rule violation(s); see "
                f"{paths['violations.csv']}")
    note(f"wrote {', '.join(str(p) for p in paths.values())}")
