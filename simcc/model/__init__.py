"""The model layer: scenario files and Python data in, a validated :class:`Scenario` out.

``yamlio`` (safe YAML with line numbers), ``base`` / ``dists`` / ``sections``
(the pydantic models), ``checks`` (rules between sections), ``problems``
(validation errors in the user's words), ``scenario`` (the Scenario and
:func:`load`), ``roster`` (shifts to headcount), ``policies`` (the routing
policy registry), ``targets`` ("90/15", "5%"), ``edits`` (changed copies of
a scenario), ``textbook`` (single-queue cases built without a file).
"""
from . import textbook
from .dists import dist_mean
from .policies import POLICY_NAMES
from .scenario import Scenario, from_dict, json_schema, load, loads

__all__ = ["POLICY_NAMES", "Scenario", "dist_mean", "from_dict", "json_schema", "load", "loads", "textbook"]
