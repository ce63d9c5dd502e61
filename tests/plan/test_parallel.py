"""Staffing and trunk sizing on worker processes: the same plan, bit for bit, whatever runs it."""
import numpy as np
from helpers import small
from typer.testing import CliRunner

from simcc import plan
from simcc.cli import app


def test_staff_on_two_workers_is_identical_to_one():
    s = small(hours=1, agents=380)
    one = plan.staff(s, 0.8, 20, None, replications=4, verify=False, workers=1)
    two = plan.staff(s, 0.8, 20, None, replications=4, verify=False, workers=2)
    assert np.array_equal(one.agents, two.agents) and one.evaluations == two.evaluations
    assert one.result.summary_csv() == two.result.summary_csv()
    assert two.run_options == {"workers": 2, "scheduler": None}


def test_trunks_on_two_workers_is_identical_to_one():
    s = small(hours=1, agents=380)
    one = plan.trunks(s, 0.01, replications=4, workers=1)
    two = plan.trunks(s, 0.01, replications=4, workers=2)
    assert one.to_dict() == two.to_dict()


def test_the_planning_commands_take_workers_and_scheduler():
    for command in ("staff", "trunks", "shifts"):
        out = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"}).output
        assert "--workers" in out and "--scheduler" in out, command


def test_a_search_of_many_small_candidates_starts_workers_once(monkeypatch):
    """Each Quanzhou candidate (about 830,000 calls in 20 replications) is too small for simulate to start
    workers, but a search simulates hundreds of them: the search takes every core."""
    import simcc
    from simcc.plan import staffing
    monkeypatch.setattr(staffing, "default_workers", lambda: 2)
    qz = simcc.load("scenarios/quanzhou-10000.yaml")
    assert staffing._search_workers(qz, 20, "kernel", True) == 2
    assert staffing._search_workers(small(hours=1), 4, "kernel", False) is None        # tiny: stays here
    assert staffing._search_workers(qz, 2, "kernel", True) is None                     # too few replications
    monkeypatch.setattr(staffing, "default_workers", lambda: 1)
    assert staffing._search_workers(qz, 20, "kernel", True) is None
