"""A staffing search kept in a folder: interrupted, resumed, and the same plan as a search never interrupted."""
import json
import os

import numpy as np
import pytest
from typer.testing import CliRunner

import simcc
from simcc.cli import app
from simcc.plan import staff, staffing
from simcc.plan.stepping import Stepper
from simcc.run.store import ResumeError

KW = dict(target_sl=0.8, within_s=20, abandon_max=None, replications=8)


def textbook(**kw):
    """The calculator's case (100 calls per 30 min, AHT 3 min), 4 hours with one of warm-up: a few ms a day."""
    args = dict(arrival_rate=100 / 1800, mean_talk_s=180, agents=14, mean_patience_s=300, hours=4, warmup_hours=1)
    args.update(kw)
    return simcc.textbook.erlang(**args)


def interrupt_after(monkeypatch, n):
    """Ctrl-C during the (n+1)-th candidate simulated (whole, or judged from the plan's prefix)."""
    done = {"n": 0}

    def counted(real):
        def run(self, *args, **kw):
            if done["n"] >= n:
                raise KeyboardInterrupt
            done["n"] += 1
            return real(self, *args, **kw)
        return run

    monkeypatch.setattr(staffing._Evaluator, "simulate", counted(staffing._Evaluator.simulate))
    monkeypatch.setattr(Stepper, "check", counted(Stepper.check))


def kept(folder) -> int:
    """Candidates kept in a search folder: those simulated to the end of their day."""
    return len(os.listdir(folder / "evals"))


def same_plan(a, b):
    assert np.array_equal(a.agents, b.agents)
    assert a.to_csv() == b.to_csv()
    assert a.one_fewer == b.one_fewer and a.history == b.history
    sa, sb = a.summary(), b.summary()
    for k in ("wall_s", "resumed_evaluations", "simulated_days"):
        sa.pop(k), sb.pop(k)
    assert sa == sb
    # a resumed search counts what it reads back at its first cost, and simulates again the checks that
    # ended early (and the days standing where they began)
    assert a.simulated_days >= b.simulated_days


@pytest.fixture(scope="module")
def uninterrupted():
    return staff(textbook(), **KW)


@pytest.mark.parametrize("after", [1, 5])
def test_interrupted_then_resumed_is_the_uninterrupted_plan(tmp_path, monkeypatch, uninterrupted, after):
    assert uninterrupted.evaluations > after + 1
    with monkeypatch.context() as m:
        interrupt_after(m, after)
        with pytest.raises(KeyboardInterrupt) as exc:
            staff(textbook(), **KW, out_dir=tmp_path)
    assert exc.value.staff_evaluations == after
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta["status"] == "interrupted" and meta["evaluations"] == after
    stored = kept(tmp_path)         # checks that ended early are not kept: simulated again, a few intervals each
    assert 1 <= stored <= after
    assert not (tmp_path / "plan.json").exists()

    plan = staff(textbook(), **KW, out_dir=tmp_path, resume=True)
    same_plan(plan, uninterrupted)
    assert plan.resumed == stored
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta["status"] == "done" and meta["resumed_evaluations"] == stored
    assert json.loads((tmp_path / "plan.json").read_text())["intervals"]["required"] == plan.total.tolist()
    assert (tmp_path / "plan.csv").read_text() == plan.to_csv()
    again = simcc.load(tmp_path / "staffed.yaml")
    assert again.agents_per_interval(again.groups[0]) == plan.total.tolist()


def test_a_finished_search_resumed_simulates_only_the_final_plan(tmp_path, uninterrupted):
    staff(textbook(), **KW, out_dir=tmp_path)
    plan = staff(textbook(), **KW, out_dir=tmp_path, resume=True)
    same_plan(plan, uninterrupted)
    assert plan.resumed == kept(tmp_path) > 0
    # what is simulated again: the checks that ended early, and the final Result
    assert json.loads((tmp_path / "meta.json").read_text())["simulated_here"] == plan.evaluations - plan.resumed + 1


def test_without_resume_the_folder_starts_over(tmp_path, uninterrupted):
    staff(textbook(), **KW, out_dir=tmp_path)
    plan = staff(textbook(), **KW, out_dir=tmp_path)
    assert plan.resumed == 0
    same_plan(plan, uninterrupted)


@pytest.mark.parametrize("change,message", [
    (dict(scenario=textbook(arrival_rate=110 / 1800)), "scenario's contents"),
    (dict(replications=9), "replications 8 -> 9"),
    (dict(seed=2), "seed '1' -> '2'"),
    (dict(target_sl=0.85), "targets"),
])
def test_resume_refuses_a_folder_of_another_search(tmp_path, change, message):
    staff(textbook(), **KW, out_dir=tmp_path, verify=False)
    args = dict(KW, verify=False)
    scenario = change.pop("scenario", textbook())
    args.update(change)
    with pytest.raises(ResumeError, match="cannot resume") as exc:
        staff(scenario, **args, out_dir=tmp_path, resume=True)
    assert message in str(exc.value)


def test_resume_refuses_a_folder_without_a_search(tmp_path):
    with pytest.raises(ResumeError, match="holds no staffing search"):
        staff(textbook(), **KW, out_dir=tmp_path, resume=True)
    with pytest.raises(ValueError, match="needs out_dir"):
        staff(textbook(), **KW, resume=True)


def test_a_run_folder_is_not_taken_for_a_search(tmp_path):
    simcc.simulate(textbook(), replications=2, out_dir=tmp_path)
    with pytest.raises(ValueError, match="not a staffing search"):
        staff(textbook(), **KW, out_dir=tmp_path)


# --------------------------------------------------------------------------
# the command line
# --------------------------------------------------------------------------
def test_cli_ctrl_c_exits_130_and_says_how_to_resume(tmp_path, monkeypatch):
    out = tmp_path / "search"
    args = ["staff", "scenarios/textbook-erlang-a.yaml", "-r", "3", "--no-verify", "--out", str(out)]
    with monkeypatch.context() as m:
        interrupt_after(m, 2)
        r = CliRunner().invoke(app, args)
    assert r.exit_code == 130, r.output
    assert "interrupted after 2 simulations" in r.output and "--resume" in r.output
    assert "Traceback" not in r.output
    r = CliRunner().invoke(app, [*args, "--resume", "--format", "json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["summary"]["resumed_evaluations"] == 2
    assert 0 < data["summary"]["simulated_days"] <= 3 * data["summary"]["evaluations"] + 3   # + the final Result
    assert json.loads((out / "plan.json").read_text())["intervals"] == data["intervals"]


def test_cli_resume_needs_out_and_a_matching_folder(tmp_path):
    r = CliRunner().invoke(app, ["staff", "scenarios/textbook-erlang-a.yaml", "-r", "3", "--resume"])
    assert r.exit_code == 2 and "--resume needs --out" in r.output
    out = str(tmp_path / "search")
    assert CliRunner().invoke(app, ["staff", "scenarios/textbook-erlang-a.yaml", "-r", "3", "--no-verify",
                                    "--out", out]).exit_code == 0
    r = CliRunner().invoke(app, ["staff", "scenarios/textbook-erlang-a.yaml", "-r", "4", "--no-verify",
                                 "--out", out, "--resume"])
    assert r.exit_code == 2 and "replications 3 -> 4" in r.output and "Traceback" not in r.output


def test_cli_reports_simulated_days_and_wall_time():
    r = CliRunner().invoke(app, ["staff", "scenarios/textbook-erlang-a.yaml", "-r", "3", "--no-verify"])
    assert r.exit_code == 0
    assert "simulated days" in r.output and "s wall time" in r.output


def test_progress_line():
    from simcc.cli.plan import search_line
    seen = []
    staff(textbook(), **KW, progress=seen.append)
    assert [s.phase for s in seen][0] == "start" and seen[-1].phase in ("descend", "confirm")
    assert [s.evaluations for s in seen] == list(range(1, len(seen) + 1))
    days = [s.simulated_days for s in seen]      # a check judged early counts the intervals it simulated
    assert days == sorted(days) and days[-1] < 8 * seen[-1].evaluations
    assert all(d <= 8 * s.evaluations for d, s in zip(days, seen))
    last = seen[-1]
    assert last.total == 6 and 0 < last.done <= 6
    assert any(s.eta_s is not None for s in seen)
    line = search_line(last)
    assert "descend" in line and "simulated days" in line and f"interval {last.done}/6" in line


def test_resumed_on_two_workers_is_the_plan_found_on_one(tmp_path, monkeypatch, uninterrupted):
    """Where the replications run is not part of the search: a search interrupted on this process and
    resumed on two workers gives the plan found on one."""
    with monkeypatch.context() as m:
        interrupt_after(m, 3)
        with pytest.raises(KeyboardInterrupt):
            staff(textbook(), **KW, out_dir=tmp_path, workers=1)
    stored = kept(tmp_path)
    plan = staff(textbook(), **KW, out_dir=tmp_path, resume=True, workers=2)
    same_plan(plan, uninterrupted)
    assert plan.run_options["workers"] == 2 and plan.resumed == stored
