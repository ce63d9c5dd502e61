"""Old module paths, kept working for one release (0.2) after simcc moved into layers.

``from simcc import optimize``, ``import simcc.plot``,
``from simcc.reference import Router``
and the other paths the README documented before 0.2 resolve to the modules
that now hold that code; ``simcc.report.write_report(scenario, out_dir)``
still runs the planning study first. New code should use the paths in
docs/developing.md. Like the command line, this module sits above every
layer and nothing inside simcc imports it.
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import types

#: old module -> the module that holds its code now
MOVED = {
    "simcc.optimize": "simcc.plan",
    "simcc.shifts": "simcc.plan.shifts",
    "simcc.plot": "simcc.present.plot",
    "simcc.report": "simcc._moved:report",
    "simcc.reference": "simcc.engine.reference",
    "simcc.results": "simcc.run.results",
    "simcc.replicate": "simcc.run.jobs",
}


def _report_module() -> types.ModuleType:
    """``simcc.report`` as it was: the present layer's report plus ``write_report(scenario, out_dir, ...)``."""
    from .plan.studies import Study, study
    from .present import report as present_report

    mod = types.ModuleType("simcc.report", present_report.__doc__)
    for name in dir(present_report):
        if not name.startswith("__"):
            setattr(mod, name, getattr(present_report, name))

    def write_report(scenario, out_dir, *, progress=None, **options):
        """Run the planning study of ``scenario`` (:func:`simcc.plan.study`) and write its report."""
        found = scenario if isinstance(scenario, Study) else study(scenario, progress=progress, **options)
        return present_report.write_report(found, out_dir, progress=progress)

    mod.write_report = write_report
    return mod


def resolve(old: str) -> types.ModuleType:
    target = MOVED[old]
    if target == "simcc._moved:report":
        return _report_module()
    return importlib.import_module(target)


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path=None, target=None):
        if fullname in MOVED:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        return resolve(spec.name)

    def exec_module(self, module):
        pass


def install() -> None:
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.append(_Finder())
