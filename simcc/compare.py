"""Compare routing policies (or any scenario variants) with common random numbers.

Every variant runs the same replications from the same root seed, so the
same callers arrive with the same patience and the same IVR choices in each;
only the routing differs. The difference of a KPI between two variants is
then measured replication by replication, and its confidence interval is
that of the paired differences: much narrower than comparing two
independent runs.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .results import DAY_KPIS, Result, t_quantile
from .scenario import POLICY_NAMES, Scenario

DEFAULT_KPIS = ("service_level", "abandon_rate", "asa_s", "occupancy", "blocking_rate", "fcr")


def policy_variant(scenario: Scenario, policy: str) -> Scenario:
    """The scenario with ``routing.policy`` replaced; ``policy`` is a name or names joined by '+'.

    Examples
    --------
    >>> import simcc
    >>> s = simcc.textbook.erlang(arrival_rate=0.5, mean_talk_s=180, agents=100, hours=1)
    >>> policy_variant(s, "weighted_wait").routing.policies
    ('weighted_wait',)
    """
    names = [p.strip() for p in policy.split("+") if p.strip()]
    unknown = [p for p in names if p not in POLICY_NAMES]
    if not names or unknown:
        raise ValueError(f"unknown policy {policy!r}; policies are {', '.join(POLICY_NAMES)} (combine with '+')")
    routing = scenario.routing.model_dump(mode="python")
    routing["policy"] = names[0] if len(names) == 1 else names
    if "reserve" not in names:
        routing["reserve"] = []
    return scenario.with_changes(routing=routing)


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
                a, b = base.kpi(kpi), res.kpi(kpi)
                ok = ~(np.isnan(a) | np.isnan(b))
                a, b = a[ok], b[ok]
                n = len(a)
                d = b - a
                if n >= 2:
                    tq = t_quantile(0.5 + level / 2, n - 1)
                    half = tq * d.std(ddof=1) / math.sqrt(n)
                    indep = tq * math.sqrt(a.var(ddof=1) / n + b.var(ddof=1) / n)
                else:
                    half = indep = math.nan
                mean_d = float(d.mean()) if n else math.nan
                out.append(KpiDifference(kpi, self.names[0], name, float(a.mean()) if n else math.nan,
                                         float(b.mean()) if n else math.nan, mean_d, float(mean_d - half),
                                         float(mean_d + half), float(indep)))
        return out

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
    from .simulate import simulate

    bad = [k for k in kpis if k not in DAY_KPIS]
    if bad:
        raise ValueError(f"unknown KPI(s) {', '.join(bad)}; KPIs are {', '.join(DAY_KPIS)}")
    if len(policies) < 2:
        raise ValueError("compare needs at least two policies")
    variants = [policy_variant(scenario, p) for p in policies]
    results = [simulate(v, seed=seed, replications=replications, **simulate_kwargs) for v in variants]
    return Comparison(list(policies), results, kpis)
