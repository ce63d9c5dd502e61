"""Same seed, same scenario, same version: bit-identical arrays; another seed: different."""
import hashlib

import numpy as np
import pytest

import simcc
from simcc.engine.compile import compile_scenario
from simcc.engine.replication import run_replication
from simcc.engine.streams import root_entropy


def _digest(raw):
    h = hashlib.sha256()
    for k in sorted(raw):
        if isinstance(raw[k], np.ndarray):
            h.update(k.encode())
            h.update(np.ascontiguousarray(raw[k]).tobytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def quanzhou():
    return compile_scenario(simcc.load("scenarios/quanzhou-10000.yaml"))


def test_same_seed_identical(quanzhou):
    a, _ = run_replication(quanzhou, root_entropy(7), 0)
    b, _ = run_replication(quanzhou, root_entropy(7), 0)
    assert _digest(a) == _digest(b)


def test_other_seed_or_replication_differs(quanzhou):
    a, _ = run_replication(quanzhou, root_entropy(7), 0)
    assert _digest(a) != _digest(run_replication(quanzhou, root_entropy(8), 0)[0])
    assert _digest(a) != _digest(run_replication(quanzhou, root_entropy(7), 1)[0])


def test_replication_prefix_stable():
    s = simcc.textbook.erlang(arrival_rate=0.5, mean_talk_s=180, agents=100, mean_patience_s=60, hours=2)
    r10 = simcc.simulate(s, seed=3, replications=10)
    r4 = simcc.simulate(s, seed=3, replications=4)
    assert np.array_equal(r10.day[:4], r4.day, equal_nan=True)


def test_t_quantile_against_published_values():
    from simcc.stats import t_quantile
    # two-sided 95% and 99.8% critical values (standard t tables)
    for df, t95, t998 in [
        (3, 3.182, 10.215),
        (4, 2.776, 7.173),
        (9, 2.262, 4.297),
        (29, 2.045, 3.396),
        (120, 1.980, 3.160),
    ]:
        assert abs(t_quantile(0.975, df) - t95) < 5e-4
        assert abs(t_quantile(0.999, df) - t998) < 5e-3


def test_summary_of_no_finished_replication_is_nan_not_an_error():
    from simcc.stats import mean_ci

    m, lo, hi = mean_ci(np.zeros((0, 3)))
    assert m.shape == (3,) and np.isnan(m).all() and np.isnan(lo).all()


def test_no_answered_call_has_no_max_wait():
    s = simcc.textbook.erlang(arrival_rate=0.0, mean_talk_s=100, agents=3, hours=1)
    assert np.isnan(simcc.simulate(s).summary()["max_wait_s"]["mean"])


def test_warmup_must_fall_on_an_interval_border():
    with pytest.raises(simcc.ScenarioError, match="whole number of 30-minute"):
        simcc.textbook.erlang(arrival_rate=0.1, mean_talk_s=100, agents=3, hours=2, warmup_hours=0.25)


def test_missing_kernel_is_an_error_not_a_fallback(monkeypatch):
    import builtins

    from simcc.engine import replication as sim

    real_import = builtins.__import__

    def no_core(name, globals=None, locals=None, fromlist=(), level=0):
        if fromlist and "_core" in fromlist:
            raise ImportError("simulated missing build")
        return real_import(name, globals, locals, fromlist, level)

    monkeypatch.setattr(builtins, "__import__", no_core)
    with pytest.raises(RuntimeError, match="not built"):
        sim.kernel()
