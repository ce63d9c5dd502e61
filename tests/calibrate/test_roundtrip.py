"""Round trip: simulate a shipped scenario with a call log, write it as call records, fit, recover the scenario.

Every fitted mean or share comes with a 95% interval; over all estimates the
true value must fall outside at about the rate expected by chance (at most
the 99.9% binomial limit of 5%), and never far outside (10 interval
half-widths would be a bias, not chance). The fitted scenario's backtest
against the same records passes; a scenario with the wrong talk times fails it.
"""
import math

import numpy as np
import pytest
from scipy import stats

import simcc
from simcc.calibrate import backtest, fit, read_records, records_from_logs, write_records
from simcc.model.dists import dist_mean

SCENARIOS = {           # name: (days simulated, seed)
    "quanzhou-10000": (5, 11),
    "fujian-city-1000": (6, 12),
    "textbook-erlang-a": (20, 13),
    "textbook-erlang-b": (20, 14),
    "textbook-erlang-c": (10, 15),
    "guangzhou-10000": (2, 16),
}


def truths(scn: simcc.Scenario) -> dict[str, float]:
    """The true value behind each estimate name the fit reports (only those a record can identify)."""
    t: dict[str, float] = {}
    entries: dict[str, float] = {}
    tier_calls: dict[str, dict[str, float]] = {}
    for a in scn.arrivals:
        n = sum(scn.calls_per_interval(a))
        entries[a.entry] = entries.get(a.entry, 0.0) + n
        shares = a.tiers or {scn.tiers[0]: 1.0}
        for tier, sh in shares.items():
            tier_calls.setdefault(a.entry, {})[tier] = tier_calls.get(a.entry, {}).get(tier, 0.0) + n * sh
    for e, n in entries.items():
        t[f"arrivals.{e}.daily_calls"] = n
        if len(scn.tiers) > 1:
            for tier, n_t in tier_calls[e].items():
                t[f"arrivals.{e}.tier_share.{tier}"] = n_t / n
    if scn.ivr is not None:
        t["ivr.menu_time"] = dist_mean(scn.ivr.menu_time)
        t["ivr.contained"] = scn.ivr.contained
        t["ivr.hangup"] = scn.ivr.hangup
        for tier in scn.tiers:
            menu = scn.ivr.menu_by_tier.get(tier, scn.ivr.menu)
            for k, v in menu.items():
                t[f"ivr.menu_by_tier.{tier}.{k}"] = v
    overridden = {k for g in scn.groups for k in g.handling}
    for k, ct in scn.call_types.items():
        pre = f"call_types.{k}"
        for tier in scn.tiers:
            t[f"{pre}.patience_by_tier.{tier}"] = dist_mean(ct.patience_by_tier.get(tier, ct.patience))
        if len({dist_mean(ct.patience_by_tier.get(tier, ct.patience)) for tier in scn.tiers}) == 1:
            t[f"{pre}.patience"] = dist_mean(ct.patience)
        if k not in overridden:
            t[f"{pre}.talk"] = dist_mean(ct.talk)
            t[f"{pre}.hold_prob"] = ct.hold_prob
            if ct.hold is not None:
                t[f"{pre}.hold"] = dist_mean(ct.hold)
            if ct.acw is not None:
                t[f"{pre}.acw"] = dist_mean(ct.acw)
            if ct.fcr < 1 and ct.repeat_delay is not None:
                t[f"{pre}.repeat.prob"] = 1 - ct.fcr
                t[f"{pre}.repeat.delay"] = dist_mean(ct.repeat_delay)
        if ct.redial is not None and ct.redial.prob > 0:
            t[f"{pre}.redial.prob"] = ct.redial.prob
            t[f"{pre}.redial.delay"] = dist_mean(ct.redial.delay)
    return t


def _records(name, tmp_path, days, seed):
    scn = simcc.load(f"scenarios/{name}.yaml")
    res = simcc.simulate(scn, seed=seed, replications=days, call_log=True, workers=1)
    path = tmp_path / f"{name}.csv"
    write_records(path, records_from_logs(scn, res.call_logs))
    return scn, read_records(path)


_CACHE: dict = {}


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    def get(name):
        if name not in _CACHE:
            days, seed = SCENARIOS[name]
            scn, rec = _records(name, tmp_path_factory.mktemp(name), days, seed)
            _CACHE[name] = (scn, rec, fit(rec, base=scn))
        return _CACHE[name]
    return get


def test_fitted_means_cover_the_truth_at_the_rate_expected_by_chance(fitted):
    checked, misses, far = 0, [], []
    for name in SCENARIOS:
        scn, _, f = fitted(name)
        truth = truths(scn)
        for row in f.report.rows():
            if row["name"] not in truth or not (math.isfinite(row["ci_low"]) and math.isfinite(row["ci_high"])):
                continue
            true = truth[row["name"]]
            checked += 1
            lo, hi = row["ci_low"], row["ci_high"]
            if not lo <= true <= hi:
                misses.append((name, row["name"], true, row["value"], lo, hi))
                half = max((hi - lo) / 2, 1e-12)
                if abs(row["value"] - true) > 10 * half:
                    far.append(misses[-1])
    limit = int(stats.binom.ppf(0.999, checked, 0.05))
    assert checked >= 70, f"only {checked} estimates could be checked"
    assert not far, f"estimates far from the truth (a bias): {far}"
    assert len(misses) <= limit, f"{len(misses)} of {checked} intervals miss the truth (limit {limit}): {misses}"


def test_every_identifiable_parameter_is_estimated(fitted):
    """The fit reports an estimate for every parameter the records identify (nothing silently skipped)."""
    scn, _, f = fitted("quanzhou-10000")
    names = {r["name"] for r in f.report.rows()}
    must = {n for n in truths(scn) if ".patience_by_tier.vip" not in n and not n.endswith(".patience")}
    assert must <= names, sorted(must - names)


def test_heavily_censored_patience_is_recovered():
    """Most callers are answered (about 2% abandon): patience is seen almost only as a lower bound."""
    scn = simcc.textbook.erlang(arrival_rate=0.5, mean_talk_s=180, agents=96, mean_patience_s=300, hours=8)
    res = simcc.simulate(scn, seed=21, replications=10, call_log=True, workers=1)
    log = np.concatenate(res.call_logs)
    queued = np.isin(log["outcome"], (3, 4))
    ab = log["outcome"][queued] == 4
    assert 0.005 < ab.mean() < 0.05, "the case must be heavily censored"
    est = simcc.calibrate.fit_patience(log["wait_s"][queued][ab], log["wait_s"][queued][~ab])
    assert est.ci[0] <= 300 <= est.ci[1], est
    naive = log["wait_s"][queued][ab].mean()
    assert naive < 0.5 * 300, "averaging the abandoners' waits would be badly wrong here"


def test_backtest_of_the_fitted_scenario_passes_and_a_wrong_one_fails(fitted):
    scn, rec, f = fitted("quanzhou-10000")
    bt = backtest(f.scenario, rec, replications=60, seed=5)
    assert bt.passed, bt.table()
    wrong = scn.model_dump(mode="json", exclude_none=True)
    for ct in wrong["call_types"].values():
        ct["talk"]["mean_s"] *= 1.25
    bad = backtest(simcc.from_dict(wrong), rec, replications=60, seed=5)
    assert not bad.passed
    failed = {k for k, v in bad.verdicts.items() if not v["passed"]}
    assert {"service_level", "asa_s"} & failed, bad.table()


def test_fit_without_a_base_builds_a_valid_scenario_with_inferred_structure(fitted):
    scn, rec, _ = fitted("quanzhou-10000")
    f = fit(rec, name="inferred")
    s = f.scenario
    assert s.name == "inferred" and s.n_intervals == 48
    assert set(s.call_types) == set(scn.call_types)
    assert {g.name for g in s.groups} == {g.name for g in scn.groups}
    # the skills are who answered what; the primary skills match the center's
    primary = {g.name: {k for k, lv in g.skills.items() if lv == 1} for g in s.groups}
    truth = {g.name: {k for k, lv in g.skills.items() if lv == 1} for g in scn.groups}
    assert primary == truth
    assert any("placeholder" in w for w in f.report.warnings)
    again = simcc.loads(f.to_yaml())
    assert again.model_dump() == s.model_dump()


def test_trunks_are_recovered_when_calls_were_blocked(tmp_path):
    data = simcc.load("scenarios/fujian-city-1000.yaml").model_dump(mode="json", exclude_none=True)
    data["trunks"] = 140
    scn = simcc.from_dict(data)
    res = simcc.simulate(scn, seed=3, replications=2, call_log=True, workers=1)
    write_records(tmp_path / "calls.csv", records_from_logs(scn, res.call_logs))
    rec = read_records(tmp_path / "calls.csv")
    assert (rec.outcome == 0).mean() > 0.01, "the case needs blocked calls"
    assert fit(rec).scenario.trunks == 140


def test_fit_is_deterministic(fitted):
    _, rec, f = fitted("textbook-erlang-a")
    assert fit(rec, base=f.scenario).to_yaml() == fit(rec, base=f.scenario).to_yaml()


def test_balking_and_max_wait_are_recovered(tmp_path):
    data = simcc.load("scenarios/textbook-erlang-a.yaml").model_dump(mode="json", exclude_none=True)
    data["call_types"]["calls"]["balking"] = {"prob": 0.25}
    data["call_types"]["calls"]["max_wait"] = {"after_s": 30.0, "action": "message"}
    scn = simcc.from_dict(data)
    res = simcc.simulate(scn, seed=8, replications=5, call_log=True, workers=1)
    write_records(tmp_path / "calls.csv", records_from_logs(scn, res.call_logs))
    rec = read_records(tmp_path / "calls.csv")
    assert {"balked", "message"} <= {rec_o for rec_o in np.array(simcc.calibrate.OUTCOMES)[np.unique(rec.outcome)]}
    f = fit(rec, base=scn)
    ct = f.scenario.call_types["calls"]
    e = f.report.estimates["call_types.calls"]
    assert e["balking"]["ci"][0] <= 0.25 <= e["balking"]["ci"][1]
    assert ct.max_wait.action == "message" and ct.max_wait.after_s == pytest.approx(30.0)
    assert e["patience"].ci[0] <= 90 <= e["patience"].ci[1]


def test_a_week_with_weekday_patterns(tmp_path):
    """Two weeks of records from a weekday scenario and a weekend one: the fitted week keeps both shapes."""
    import datetime
    weekday = simcc.load("scenarios/textbook-erlang-a.yaml").model_dump(mode="json", exclude_none=True)
    weekday.update(intervals=48, warmup_minutes=0)
    weekday["arrivals"][0]["calls"] = [0] * 16 + [450] * 16 + [0] * 16
    weekday["groups"][0]["agents"] = [0] * 16 + [50] * 16 + [0] * 16
    weekend = dict(weekday, arrivals=[dict(weekday["arrivals"][0], calls=[0] * 16 + [150] * 16 + [0] * 16)],
                   groups=[dict(weekday["groups"][0], agents=[0] * 16 + [20] * 16 + [0] * 16)])
    cols = []
    start = datetime.date(2026, 1, 5)                                   # a Monday
    for d in range(14):
        day = start + datetime.timedelta(days=d)
        scn = simcc.from_dict(weekend if day.weekday() >= 5 else weekday)
        res = simcc.simulate(scn, seed=40 + d, replications=1, call_log=True, workers=1)
        c = records_from_logs(scn, res.call_logs, start_date=str(day))
        c["call_id"] = np.char.add(f"w{d}-", c["call_id"].astype(str))
        cols.append(c)
    merged = {k: np.concatenate([c[k] for c in cols]) for k in cols[0]}
    write_records(tmp_path / "two_weeks.csv", merged)
    rec = read_records(tmp_path / "two_weeks.csv")
    assert len(rec.days) == 14
    f = fit(rec, period="week")
    s = f.scenario
    assert s.n_intervals == 7 * 48
    calls = np.array(s.calls_per_interval(s.arrivals[0])).reshape(7, 48)
    day_totals = calls.sum(axis=1)
    assert np.all(np.abs(day_totals[:5] - 7200) < 4 * math.sqrt(7200 / 2))     # 16 x 450 a weekday
    assert np.all(np.abs(day_totals[5:] - 2400) < 4 * math.sqrt(2400 / 2))     # 16 x 150 a weekend day
    assert calls[:, :16].sum() == 0 and calls[:, 32:].sum() == 0
    bt = backtest(f.scenario, rec, replications=40)
    assert bt.verdicts["offered"]["passed"] and any("weekday" in n for n in bt.notes)
