"""Published results of another simulator: the ContactCenters library's example centers (scenarios/published/).

Each check compares simcc's estimate with the published one (mean, and its
standard deviation over the published replications, or its confidence
interval): the difference must lie within 3.29 combined standard errors (a
99.9% two-sided band for two independent estimates), plus half the last
printed digit of the published value. Each scenario file says where its
numbers come from; docs/published.md shows them side by side.
"""
import math

import numpy as np
import pytest

import simcc

Z = 3.29


def se_from_ci(lo, hi, level=0.95):
    return (hi - lo) / 2 / {0.95: 1.96, 0.90: 1.645}[level]


def check(name, ours, ours_se, published, published_se, digits):
    bound = Z * math.hypot(ours_se, published_se) + 0.5 * 10 ** -digits
    assert abs(ours - published) <= bound, f"{name}: simcc {ours:.5g} (se {ours_se:.3g}) vs published {published}"


def mean_se(x):
    x = np.asarray(x, dtype=np.float64)
    return float(x.mean()), float(x.std(ddof=1) / math.sqrt(len(x)))


def ratio_se(num, den):
    """Ratio of means and its delta-method standard error."""
    num, den = np.asarray(num, float), np.asarray(den, float)
    r = num.mean() / den.mean()
    return float(r), float((num - r * den).std(ddof=1) / (math.sqrt(len(num)) * den.mean()))


def days(name, reps, seed=2026):
    r = simcc.simulate(simcc.load(f"scenarios/published/{name}.yaml"), seed=seed, replications=reps)
    return r, r.per_replication()


def wait_sum(day):
    return day["asa_s"] * day["answered"]


@pytest.fixture(scope="module")
def mmc():
    return days("cc-mmc", 1000)


def test_mmc(mmc):
    r, a = mmc
    d = a["day"]
    check("in target", *mean_se(d["answered_within"]), 1816.158, 57.043 / math.sqrt(1000), 3)
    check("service level", *ratio_se(d["answered_within"], d["answered"]), 0.902, se_from_ci(0.900, 0.904), 3)
    asa, asa_se = ratio_se(wait_sum(d) / 60, d["answered"])
    check("speed of answer, min", asa, asa_se, 0.099, se_from_ci(0.097, 0.102), 3)
    check("occupancy", *mean_se(d["occupancy"]), 0.695, se_from_ci(0.694, 0.697), 3)


def test_mmc_with_abandonment():
    _, a = days("cc-mmc-abandon", 1000)
    d = a["day"]
    check("abandoned", *mean_se(d["abandoned"]), 58.609, 15.295 / math.sqrt(1000), 3)
    check("in target", *mean_se(d["answered_within"]), 1906.008, 35.828 / math.sqrt(1000), 3)
    asa, asa_se = ratio_se(wait_sum(d) / 60, d["answered"])
    check("speed of answer, min", asa, asa_se, 0.024, 6.0e-3 / math.sqrt(1000), 3)


def test_mmc_queue_cleared_at_closing():
    _, a = days("cc-mmc-clear", 1000)
    d = a["day"]
    check("disconnected", *mean_se(d["disconnected"]), 0.433, 1.688 / math.sqrt(1000), 3)
    check("in target", *mean_se(d["answered_within"]), 1816.112, 57.042 / math.sqrt(1000), 3)
    assert d["in_system_end"].sum() == 0


def test_mmc_finite_queue():
    _, a = days("cc-mmc-capacity", 1000)
    d = a["day"]
    check("blocked (queue full)", *mean_se(d["queue_full"]), 18.655, 9.831 / math.sqrt(1000), 3)
    check("in target", *mean_se(d["answered_within"]), 1854.284, 42.176 / math.sqrt(1000), 3)
    check("service level", *ratio_se(d["answered_within"], d["answered"]), 0.929, se_from_ci(0.928, 0.930), 3)


def test_callcc_balking_and_busyness():
    """Day totals over the expected 1660 calls (90% intervals published)."""
    _, a = days("cc-callcc", 3000)
    d = a["day"]
    q, ab, rate = d["queued"], d["abandoned"], d["abandon_rate"]
    short = (ab - rate * q) / (1 - rate)                     # abandons (and balks) within 20 s
    check("arrivals", *mean_se(d["offered"]), 1639.507, 513.189 / math.sqrt(1000), 3)
    check("lost / 1660", *mean_se(ab / 1660), 0.0342, 0.0608 / math.sqrt(1000), 4)
    check("waits under 20 s / 1660", *mean_se((d["answered_within"] + short) / 1660), 0.853,
          0.169 / math.sqrt(1000), 3)
    waits = wait_sum(d) + np.nan_to_num(d["mean_abandon_wait_s"]) * ab
    check("waiting time per call, s", *mean_se(waits / 1660), 11.834, 34.078 / math.sqrt(1000), 3)


def test_single_queue_with_balking():
    _, a = days("cc-single-queue", 1000)
    d = a["day"]
    check("service level at 20 s", *mean_se(d["service_level"]), 0.925, 0.0190 / math.sqrt(300), 3)
    check("occupancy", *mean_se(d["occupancy"]), 0.558, 0.0168 / math.sqrt(300), 3)


def test_telethon_messages():
    """Published per week of five identical days; a simulated day is a fifth of a week."""
    _, a = days("cc-telethon", 2000)
    d = a["day"]
    for kpi, mean, sd in (("answered", 963.109, 27.984), ("abandoned", 31.820, 10.437), ("messages", 4.960, 2.973),
                          ("disconnected", 0.280, 0.718), ("answered_within", 950.265, 27.173)):
        m, se = mean_se(d[kpi])
        check(kpi, 5 * m, 5 * se, mean, sd / math.sqrt(1000), 3)
    assert d["blocked"].sum() == 0


def test_bank_specialists_and_random_agents():
    _, a = days("cc-bank", 2000)
    t = a["call_type"]
    names = ["savings", "checking", "balance"]
    for k, (arrived, lo, hi) in enumerate(((99.819, 99.196, 100.442), (1000.146, 998.212, 1002.080),
                                           (2502.340, 2499.236, 2505.444))):
        m, se = mean_se(t["offered"][:, k])
        check(f"{names[k]} arrived", 5 * m, 5 * se, arrived, se_from_ci(lo, hi), 3)
    for k, (sl, lo, hi) in enumerate(((99.234, 99.172, 99.295), (99.461, 99.431, 99.491), (97.301, 97.237, 97.365))):
        r, se = ratio_se(t["answered_within"][:, k], t["offered"][:, k])
        check(f"{names[k]} service level", 100 * r, 100 * se, sl, se_from_ci(lo, hi), 3)
    m, se = mean_se(t["abandoned"][:, 2])
    check("balance abandoned", 5 * m, 5 * se, 5.357, se_from_ci(5.038, 5.676), 3)


def test_bilingual_retrials_with_caller_memory():
    """Retrials are the same callers (redial.memory): same patience and service, total wait counted."""
    _, a = days("cc-bilingual", 2000)
    d = a["day"]
    for kpi, label, (mean, lo, hi) in (("offered", "arrived", (5110.161, 5105.009, 5115.313)),
                                       ("redials", "retrials", (107.168, 105.841, 108.495)),
                                       ("answered", "served", (4967.235, 4962.946, 4971.524)),
                                       ("abandoned", "abandoned", (142.868, 141.209, 144.527)),
                                       ("answered_within_total", "in target", (4896.885, 4892.789, 4900.981))):
        m, se = mean_se(d[kpi])
        check(label, 5 * m, 5 * se, mean, se_from_ci(lo, hi), 3)


def test_blend_predictive_dialer():
    """Inbound calls and a predictive dialer for outbound calls (published 95% CIs; sd where no CI)."""
    _, a = days("cc-blend", 1000)
    d, g = a["day"], a["group"]
    check("tried outbound calls", *mean_se(d["dials"]), 1109.040, 258.167 / math.sqrt(1000), 3)
    for kpi, label, (mean, lo, hi) in (("offered", "arrived inbound", (848.592, 838.899, 858.285)),
                                       ("dial_contacts", "arrived outbound", (321.896, 317.279, 326.513)),
                                       ("answered", "served inbound", (843.477, 834.193, 852.761)),
                                       ("dial_served", "served outbound", (298.876, 294.637, 303.115)),
                                       ("mismatches", "abandoned outbound", (23.020, 22.548, 23.492))):
        check(label, *mean_se(d[kpi]), mean, se_from_ci(lo, hi), 3)
    check("abandoned inbound", *mean_se(d["abandoned"] + d["queue_full"]), 5.115, se_from_ci(4.495, 5.735), 3)
    # service level: inbound arrivals less those answered or abandoned after 20 s, over arrivals
    q, ab, rate = d["queued"], d["abandoned"], d["abandon_rate"]
    short = (ab - rate * q) / (1 - rate)
    bad = d["answered"] - d["answered_within"] + ab - short
    sl, sl_se = ratio_se(d["offered"] - bad, d["offered"])
    check("service level, %", 100 * sl, 100 * sl_se, 95.354, 6.894 / math.sqrt(1000), 3)
    busy, staffed = g["busy_agents_mean"], g["agents_mean"]
    for j, (name, (mean, lo, hi)) in enumerate((("inbound-only", (81.596, 81.135, 82.058)),
                                                ("blend", (55.665, 55.237, 56.092)))):
        occ, se = ratio_se(busy[:, j], staffed[:, j])
        check(f"occupancy {name}, %", 100 * occ, 100 * se, mean, se_from_ci(lo, hi), 3)


def test_simple_msk_rates_by_arrival_period():
    """Three types, two groups; service and patience rates follow the period a call arrives in."""
    r, a = days("cc-simple-msk", 1000)
    d = a["day"]
    check("served", *mean_se(d["answered"]), 4297.305, se_from_ci(4270.150, 4324.460), 3)
    check("abandoned", *mean_se(d["abandoned"]), 910.335, se_from_ci(876.133, 944.537), 3)
    q, ab, rate = d["queued"], d["abandoned"], d["abandon_rate"]
    short = (ab - rate * q) / (1 - rate)                    # abandoned within 20 s
    check("service level", *ratio_se(d["answered_within"], d["answered"] + ab - short), 0.501,
          se_from_ci(0.494, 0.509), 3)
    # answered within 20 s by type and two-hour period of arrival: the means come from the pooled totals;
    # the same number of days as published, so simcc's standard error is taken equal to the published one
    within = r.totals["answered_within"].sum(axis=(2, 3)) / len(r.replications)
    published = (((170.154, 164.338, 175.970), (599.334, 594.159, 604.509), (15.490, 13.782, 17.198)),
                 ((262.936, 254.597, 271.275), (511.648, 506.276, 517.020), (34.697, 31.270, 38.124)),
                 ((259.806, 250.178, 269.434), (613.732, 607.586, 619.878), (24.888, 22.137, 27.639)))
    for k, rows in enumerate(published):
        for period, (mean, lo, hi) in enumerate(rows):
            se = se_from_ci(lo, hi)
            check(f"type {k} period {period} in target", within[2 * period:2 * period + 2, k].sum(), se, mean, se, 3)


def test_teamwork_conferences_and_transfers():
    """Reception, conferences, transfers to two desks (one with no queue); published per week of seven
    identical days, a simulated day is a seventh of a week."""
    r, a = days("cc-teamwork", 2000)
    d, g = a["day"], a["group"]
    for label, x, (mean, lo, hi) in (
            ("arrived", d["offered"], (7003.654, 6998.267, 7009.041)),
            ("served", d["transfer_answered"], (866.968, 866.148, 867.788)),
            ("disconnected", d["disconnected"] + d["transfer_disconnected"], (1339.118, 1337.646, 1340.590)),
            ("abandoned", d["abandoned"] + d["transfer_abandoned"], (4797.542, 4792.064, 4803.020))):
        m, se = mean_se(x)
        check(label, 7 * m, 7 * se, mean, se_from_ci(lo, hi), 3)
    # occupancy over the 9 open hours: busy time (the 10-hour day, calls finished after 17:00 included)
    agents = (2, 1, 5, 1, 1)
    for j, (name, (mean, lo, hi)) in enumerate((("reception", (98.258, 98.243, 98.273)),
                                                ("accounting", (10.995, 10.963, 11.027)),
                                                ("techsup", (94.657, 94.631, 94.682)),
                                                ("development", (5.663, 5.632, 5.693)),
                                                ("manager", (27.244, 27.092, 27.397)))):
        assert r.compiled.group_names[j] == name
        m, se = mean_se(100 * g["busy_agents_mean"][:, j] * 10 / 9 / agents[j])
        check(f"occupancy {name}, %", m, se, mean, se_from_ci(lo, hi), 3)
