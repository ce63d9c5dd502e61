"""Where a run keeps its finished replications: ``DIR/reps/rep-NNNNNNN.npz``, one file each.

Each file is written atomically (temp file, fsync, rename), so a file that
exists is complete. ``reps/run.json`` names the run (scenario digest, root
entropy, engine, versions); a resumed run must match it, so replications of
another run are never merged in.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import io
import json
import os
import re
import warnings
import zipfile

import numpy as np

from ..atomic import atomic_write
from .outdir import invalidate

_REP_FILE = re.compile(r"^rep-(\d{7})\.npz$")


class ResumeError(ValueError):
    """The output folder holds replications of a different run (scenario, seed, engine or version)."""


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover
        return "unknown"



def fingerprint(scenario, entropy: int, engine: str, call_log: bool = False) -> dict:
    """What must match for stored replications to be reused by a resumed run."""
    text = json.dumps(scenario.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return {
        "scenario": scenario.name,
        "scenario_sha256": hashlib.sha256(text.encode()).hexdigest(),
        "entropy": str(entropy),
        "engine": engine,
        "call_log": bool(call_log),
        "simcc_version": _version("simcc"),
        "numpy_version": np.__version__,
    }


def run_id(fp: dict) -> str:
    """A short digest of a fingerprint, written into every replication file of the run."""
    return hashlib.sha256(json.dumps(fp, sort_keys=True).encode()).hexdigest()[:32]


def stored_entropy(folder) -> int | None:
    """Root entropy of the run stored in ``folder`` (to resume a run started with ``seed=None``)."""
    try:
        with open(os.path.join(os.fspath(folder), "reps", "run.json")) as fh:
            return int(json.load(fh)["entropy"])
    except (OSError, ValueError, KeyError):
        return None


class RepStore:
    """Finished replications of one run: ``folder/reps/rep-NNNNNNN.npz``, one per replication.

    Each file is written atomically (temp file, fsync, rename), so a file that
    exists is complete. ``reps/run.json`` names the run and every file
    carries the run's id, so a resumed run must match both: a file of
    another run is never merged in (it is removed and run again). Without
    ``resume`` old replication files are removed first. Opening a store
    removes the folder's ``meta.json``: the completion marker is written
    again, last, when the result files are.
    """

    def __init__(self, folder, fp: dict, resume: bool = False):
        self.folder = os.fspath(folder)
        self.dir = os.path.join(self.folder, "reps")
        os.makedirs(self.dir, exist_ok=True)
        invalidate(self.folder)
        marker = os.path.join(self.dir, "run.json")
        self.reps: set[int] = set()
        self.run_id = run_id(fp)
        if resume and os.path.exists(marker):
            with open(marker) as fh:
                old = json.load(fh)
            diff = [k for k in sorted(set(old) | set(fp)) if old.get(k) != fp.get(k)]
            if diff:
                what = ", ".join(
                    f"{k} {old.get(k)!r} -> {fp.get(k)!r}" if k != "scenario_sha256" else "scenario contents"
                    for k in diff
                )
                raise ResumeError(
                    f"cannot resume from {self.folder}: it holds replications of another run ({what}); "
                    f"use another output folder, or run without --resume to start over"
                )
            for name in sorted(os.listdir(self.dir)):
                m = _REP_FILE.match(name)
                if m is None:
                    continue
                why = self._check(os.path.join(self.dir, name))
                if why is None:
                    self.reps.add(int(m.group(1)))
                else:
                    warnings.warn(
                        f"stored replication {name} in {self.dir} {why}; it will be run again",
                        RuntimeWarning,
                        stacklevel=3,
                    )
                    os.unlink(os.path.join(self.dir, name))
        else:
            if not resume:
                for name in os.listdir(self.dir):
                    if _REP_FILE.match(name):
                        os.unlink(os.path.join(self.dir, name))
            atomic_write(marker, json.dumps(fp, indent=2))

    def _check(self, path: str) -> str | None:
        """None if ``path`` is a complete replication of this run, else why not."""
        # Files are renamed into place complete, so this only catches outside
        # damage or a foreign file; only the zip directory and the small run id are read.
        try:
            with zipfile.ZipFile(path) as z:
                names = z.namelist()
                if "__volume__.npy" not in names or "__scalars__.npy" not in names:
                    return "is unreadable"
                if "__run__.npy" not in names:
                    return "carries no run id"
                with z.open("__run__.npy") as fh:
                    stored = str(np.lib.format.read_array(fh, allow_pickle=False))
        except (OSError, ValueError, zipfile.BadZipFile):
            return "is unreadable"
        return None if stored == self.run_id else "belongs to another run"

    def path(self, rep: int) -> str:
        return os.path.join(self.dir, f"rep-{rep:07d}.npz")

    def has(self, rep: int) -> bool:
        return rep in self.reps

    def save(self, rep: int, raw: dict, volume: float) -> None:
        arrays = {k: v for k, v in raw.items() if isinstance(v, np.ndarray)}
        scalars = {
            k: (v.item() if isinstance(v, np.generic) else v) for k, v in raw.items() if not isinstance(v, np.ndarray)
        }
        buf = io.BytesIO()
        np.savez_compressed(
            buf,
            __volume__=np.float64(volume),
            __scalars__=np.array(json.dumps(scalars)),
            __run__=np.array(self.run_id),
            **arrays,
        )
        atomic_write(self.path(rep), buf.getvalue())
        self.reps.add(rep)

    def load(self, rep: int) -> tuple[dict, float]:
        """A stored replication: (raw arrays, volume factor), exactly as the worker returned them."""
        try:
            with np.load(self.path(rep), allow_pickle=False) as z:
                raw = {k: z[k] for k in z.files if k not in ("__volume__", "__scalars__", "__run__")}
                raw.update(json.loads(str(z["__scalars__"])))
                volume = float(z["__volume__"])
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            raise ResumeError(
                f"cannot read stored replication {self.path(rep)} ({exc}); delete it and resume to run it again"
            ) from None
        return raw, volume
