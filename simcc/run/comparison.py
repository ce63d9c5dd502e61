"""Compare routing policies (or any scenario variants) with common random numbers.

Every variant runs the same replications from the same root seed, so the
same callers arrive with the same patience and the same IVR choices in each;
only the routing differs. The difference of a KPI between two variants is
then measured replication by replication, and its confidence interval is
that of the paired differences: much narrower than comparing two
independent runs.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..model.edits import policy_variant
from ..model.scenario import Scenario
from ..stats import paired_difference
from . import arguments
from .export import csv_text
from .kpis import DAY_KPIS
from .results import Result
from .simulation import simulate

DEFAULT_KPIS = ("service_level", "abandon_rate", "asa_s", "occupancy", "blocking_rate", "fcr")


@dataclass
class KpiDifference:
    kpi: str
    baseline: str
    variant: str
    mean_baseline: float
    mean_variant: float
    diff: float                 # variant - baseline, mean over replications
    ci_low: float               # paired 95% CI of the difference
    ci_high: float
    independent_half_width: float   # what an unpaired comparison would give

    @property
    def significant(self) -> bool:
        return not (self.ci_low <= 0.0 <= self.ci_high)


class Comparison:
    """Results of several variants on common random numbers, and their paired differences."""

    def __init__(self, names: list[str], results: list[Result], kpis=DEFAULT_KPIS):
        self.names = names
        self.results = results
        self.kpis = tuple(kpis)

    def differences(self, level: float = 0.95) -> list[KpiDifference]:
        """Each variant against the first, per KPI: mean difference with its paired CI."""
        out = []
        base = self.results[0]
        for name, res in zip(self.names[1:], self.results[1:]):
            for kpi in self.kpis:
                ma, mb, d, lo, hi, indep = paired_difference(base.kpi(kpi), res.kpi(kpi), level)
                out.append(KpiDifference(kpi, self.names[0], name, ma, mb, d, lo, hi, indep))
        return out

    def to_dict(self) -> dict:
        """Each policy's KPIs and the paired differences (what ``--format json`` prints)."""
        return {"policies": self.rows(), "differences": [d.__dict__ for d in self.differences()]}

    def to_csv(self) -> str:
        """One row per variant and KPI: the paired difference against the baseline and its 95% CI."""
        cols = ["baseline", "variant", "kpi", "mean_baseline", "mean_variant", "diff", "ci_low", "ci_high",
                "unpaired_half_width"]
        return csv_text(cols, ([d.baseline, d.variant, d.kpi, d.mean_baseline, d.mean_variant, d.diff, d.ci_low,
                                d.ci_high, d.independent_half_width] for d in self.differences()))

    def rows(self) -> list[dict]:
        """One row per variant and KPI: mean and 95% CI."""
        rows = []
        for name, res in zip(self.names, self.results):
            s = res.summary()
            for kpi in self.kpis:
                rows.append({"policy": name, "kpi": kpi, **s[kpi]})
        return rows


def compare(scenario: Scenario, policies: list[str], *, seed: int = 1, replications: int = 20,
            kpis=DEFAULT_KPIS, **simulate_kwargs) -> Comparison:
    """Run each policy on common random numbers.

    Parameters
    ----------
    scenario : Scenario
    policies : list of str
        Policy names (``priority``, ``weighted_wait``, ``overflow``, ``reserve``,
        combined with '+', e.g. ``priority+overflow``). The first is the
        baseline of the differences. Parameters (overflow thresholds,
        reserves, weights) come from the scenario's ``routing`` block.
    seed, replications
        The same for every policy: that is what pairs the replications.

    Examples
    --------
    >>> import simcc
    >>> s = simcc.textbook.erlang(arrival_rate=0.5, mean_talk_s=180, agents=95, mean_patience_s=60, hours=1)
    >>> c = compare(s, ["priority", "weighted_wait"], seed=3, replications=4)
    >>> [d.kpi for d in c.differences()][:2]
    ['service_level', 'abandon_rate']
    """
    scenario = arguments.scenario(scenario)
    replications = arguments.replications(replications, 2)
    seed = arguments.common_seed(seed)        # one root for every policy: that is what pairs them
    if isinstance(policies, str) or not all(isinstance(p, str) for p in policies):
        raise TypeError(f"policies must be a list of policy names, not {policies!r}")
    bad = [k for k in kpis if k not in DAY_KPIS]
    if bad:
        raise ValueError(f"unknown KPI(s) {', '.join(bad)}; KPIs are {', '.join(DAY_KPIS)}")
    if len(policies) < 2:
        raise ValueError(f"compare needs at least two policies, got {len(policies)}")
    variants = [policy_variant(scenario, p) for p in policies]
    results = [simulate(v, seed=seed, replications=replications, **simulate_kwargs) for v in variants]
    return Comparison(list(policies), results, kpis)
