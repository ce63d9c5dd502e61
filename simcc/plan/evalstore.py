"""A staffing search's evaluations on disk, so that an interrupted search continues where it stopped.

``simcc staff --out DIR`` (``staff(..., out_dir=DIR)``) keeps every evaluated
candidate in ``DIR/evals/<key>.npz``, written atomically as soon as its
simulation ends. The key is a digest of everything that decides the
simulation: the scenario with the candidate's headcount, the root entropy,
the replications, the engine and the event guard. A resumed search
(``resume=True``) runs the same steps again and finds every candidate it had
already simulated here, so it reaches the same plan, bit for bit, as a search
that was never interrupted.

``DIR/search.json`` names the search (scenario digest, seed, replications,
rule, options, versions); a resumed search must match it and is refused,
naming what differs, otherwise. The folder follows the run-folder rules of
:mod:`simcc.run.outdir`: one search at a time (a lock), ``meta.json`` written
last (status ``done`` or ``interrupted``).
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import io
import json
import os
import time

import numpy as np

from ..atomic import atomic_write
from ..run.outdir import MARKER
from ..run.store import ResumeError

__all__ = ["EvalStore", "ResumeError", "candidate_key", "search_fingerprint"]

EVALS = "evals"
MANIFEST = "search.json"
OUTPUTS = ("plan.json", "plan.csv", "staffed.yaml")


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover
        return "unknown"


def _digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def scenario_digest(scenario) -> str:
    return _digest(scenario.model_dump(mode="json"))


def candidate_key(scenario, entropy: int, replications: int, engine: str, max_events) -> str:
    """Digest of everything that decides one candidate's simulation (the scenario carries the headcount)."""
    return _digest({"scenario": scenario.model_dump(mode="json"), "entropy": str(entropy),
                    "replications": int(replications), "engine": engine,
                    "max_events": None if max_events is None else float(max_events)})


def search_fingerprint(base, *, seed, replications: int, engine: str, options: dict) -> dict:
    """What a resumed search must share with the one that wrote the folder."""
    return {"scenario": base.name, "scenario_sha256": scenario_digest(base), "seed": str(seed),
            "replications": int(replications), "engine": engine,
            **{k: options[k] for k in sorted(options)},
            "simcc_version": _version("simcc"), "numpy_version": np.__version__}


def _describe(key: str, old, new) -> str:
    if key == "scenario_sha256":
        return "the scenario's contents (after the targets are applied)"
    return f"{key} {old!r} -> {new!r}"


class EvalStore:
    """Evaluated candidates of one staffing search in ``folder/evals``.

    Without ``resume`` the folder's earlier evaluations and outputs are
    removed first; with it, ``folder/search.json`` must match ``fingerprint``.

    Raises
    ------
    ResumeError
        ``resume`` and the folder holds no staffing search, or another one.
    """

    def __init__(self, folder, fingerprint: dict, resume: bool = False):
        self.folder = os.fspath(folder)
        self.dir = os.path.join(self.folder, EVALS)
        self.loaded = 0                       # evaluations read back from the folder
        self.started = time.time()
        manifest = os.path.join(self.folder, MANIFEST)
        if resume:
            if not os.path.exists(manifest):
                raise ResumeError(f"cannot resume from {self.folder}: it holds no staffing search (no "
                                  f"{MANIFEST}); run without --resume to start one there")
            try:
                with open(manifest, encoding="utf-8") as fh:
                    old = json.load(fh)
            except (OSError, ValueError) as exc:
                raise ResumeError(f"cannot resume from {self.folder}: {MANIFEST} is unreadable ({exc}); "
                                  f"run without --resume to start over") from None
            diff = [k for k in sorted(set(old) | set(fingerprint)) if old.get(k) != fingerprint.get(k)]
            if diff:
                what = "; ".join(_describe(k, old.get(k), fingerprint.get(k)) for k in diff)
                raise ResumeError(f"cannot resume from {self.folder}: it holds a search of another scenario or "
                                  f"with other options ({what}); use another folder, or run without --resume "
                                  f"to start over")
            os.makedirs(self.dir, exist_ok=True)
        else:
            os.makedirs(self.dir, exist_ok=True)
            for name in os.listdir(self.dir):
                if name.endswith(".npz"):
                    os.unlink(os.path.join(self.dir, name))
            for name in OUTPUTS:
                path = os.path.join(self.folder, name)
                if os.path.exists(path):
                    os.unlink(path)
            atomic_write(manifest, json.dumps(fingerprint, indent=2))
        self.clean()

    def clean(self) -> None:
        """Remove temporary files a killed search left in ``evals``."""
        for name in os.listdir(self.dir):
            if name.startswith(".simcc-") and name.endswith(".tmp"):
                try:
                    os.unlink(os.path.join(self.dir, name))
                except OSError:  # pragma: no cover
                    pass

    def _path(self, key: str) -> str:
        return os.path.join(self.dir, f"{key}.npz")

    def has(self, key: str) -> bool:
        return os.path.exists(self._path(key))

    def get(self, key: str) -> dict | None:
        """The stored arrays of a candidate, or None (never evaluated, or a damaged file, which is removed)."""
        path = self._path(key)
        if not os.path.exists(path):
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                out = {k: data[k] for k in data.files}
        except (OSError, ValueError, EOFError):
            os.unlink(path)
            return None
        self.loaded += 1
        return out

    def put(self, key: str, arrays: dict) -> None:
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        atomic_write(self._path(key), buf.getvalue())

    def count(self) -> int:
        return sum(name.endswith(".npz") for name in os.listdir(self.dir))

    def finish(self, status: str, info: dict, outputs: dict[str, str] | None = None) -> None:
        """Write the outputs (atomically), then ``meta.json`` last."""
        for name, text in (outputs or {}).items():
            atomic_write(os.path.join(self.folder, name), text)
        meta = {"simcc_version": _version("simcc"), "status": status, "kind": "staff",
                "finished": time.strftime("%Y-%m-%d %H:%M:%S"), **info}
        atomic_write(os.path.join(self.folder, MARKER), json.dumps(meta, indent=2, default=str))
