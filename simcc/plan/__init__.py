"""The plan layer: planners' answers found by simulation, seeded by the Erlang formulas.

``staffing`` (:func:`staff`: the fewest agents per interval and group),
``trunking`` (:func:`trunks`: the fewest trunk lines), ``shifts`` (shift
rosters that cover a staffing curve), ``shiftsearch`` (shifts selected by
simulation, :func:`~simcc.plan.shiftsearch.select_shifts`), ``rosters`` (named agents on shifts
over weeks with CP-SAT; imported on its own as ``simcc.plan.rosters``),
``baseline`` (the pooled Erlang answers), ``rule`` (the confidence rule and
targets), ``studies`` (every answer for the HTML report), ``evalstore`` (a
staffing search kept in a folder, for ``resume``).
"""
from ..model.targets import parse_share, parse_target
from .baseline import AgentLoad, ErlangBaseline, agent_load, erlang_baseline
from .rule import SCENARIO
from .staffing import SearchProgress, StaffingPlan, Verification, staff
from .studies import Study, study
from .trunking import E1_CHANNELS, TrunkPlan, trunks

__all__ = ["AgentLoad", "E1_CHANNELS", "ErlangBaseline", "SCENARIO", "SearchProgress", "StaffingPlan", "Study",
           "TrunkPlan", "Verification", "agent_load", "erlang_baseline", "parse_share", "parse_target", "staff",
           "study", "trunks"]
