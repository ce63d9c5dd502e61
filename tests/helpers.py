"""Helpers shared by tests in several folders (tests/ is on sys.path through its conftest)."""
import hashlib

import numpy as np

import simcc


def small(**kw):
    """Erlang A, 2 h: about 14,000 calls per replication, a few ms each."""
    args = dict(arrival_rate=2.0, mean_talk_s=180, agents=370, mean_patience_s=60, hours=2)
    args.update(kw)
    return simcc.textbook.erlang(**args)


def digest(result) -> str:
    """Everything a result's tables are made of, bit for bit."""
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(result.day).tobytes())
    h.update(np.ascontiguousarray(result.intervals).tobytes())
    for k in sorted(result.totals):
        h.update(k.encode())
        h.update(np.ascontiguousarray(result.totals[k]).tobytes())
    h.update(repr((result.replications, result.n_events, result.n_arrivals)).encode())
    h.update(result.summary_csv().encode())
    h.update(result.intervals_csv().encode())
    return h.hexdigest()
