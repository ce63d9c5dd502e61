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
    exists is complete. ``reps/run.json`` names the run; a resumed run must
    match it. Without ``resume`` old replication files are removed first.
    """

    def __init__(self, folder, fp: dict, resume: bool = False):
        self.folder = os.fspath(folder)
        self.dir = os.path.join(self.folder, "reps")
        os.makedirs(self.dir, exist_ok=True)
        marker = os.path.join(self.dir, "run.json")
        self.reps: set[int] = set()
        if resume and os.path.exists(marker):
            with open(marker) as fh:
                old = json.load(fh)
            diff = [k for k in sorted(set(old) | set(fp)) if old.get(k) != fp.get(k)]
            if diff:
                what = ", ".join(f"{k} {old.get(k)!r} -> {fp.get(k)!r}" if k != "scenario_sha256" else "scenario contents"
                                 for k in diff)
                raise ResumeError(f"cannot resume from {self.folder}: it holds replications of another run ({what}); "
                                  f"use another output folder, or run without --resume to start over")
            for name in sorted(os.listdir(self.dir)):
                m = _REP_FILE.match(name)
                if m is None:
                    continue
                if self._readable(os.path.join(self.dir, name)):
                    self.reps.add(int(m.group(1)))
                else:
                    warnings.warn(f"stored replication {name} in {self.dir} is unreadable; it will be run again",
                                  RuntimeWarning, stacklevel=3)
                    os.unlink(os.path.join(self.dir, name))
        else:
            if not resume:
                for name in os.listdir(self.dir):
                    if _REP_FILE.match(name):
                        os.unlink(os.path.join(self.dir, name))
                # an earlier run's commit marker must not vouch for this run's files
                old_meta = os.path.join(self.folder, "meta.json")
                if os.path.exists(old_meta):
                    os.unlink(old_meta)
            atomic_write(marker, json.dumps(fp, indent=2))

    @staticmethod
    def _readable(path: str) -> bool:
        # Files are renamed into place complete, so this only catches outside
        # damage; reading the zip directory is cheap (the arrays are not read).
        try:
            with zipfile.ZipFile(path) as z:
                return "__volume__.npy" in z.namelist() and "__scalars__.npy" in z.namelist()
        except (OSError, zipfile.BadZipFile):
            return False

    def path(self, rep: int) -> str:
        return os.path.join(self.dir, f"rep-{rep:07d}.npz")

    def has(self, rep: int) -> bool:
        return rep in self.reps

    def save(self, rep: int, raw: dict, volume: float) -> None:
        arrays = {k: v for k, v in raw.items() if isinstance(v, np.ndarray)}
        scalars = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in raw.items() if not isinstance(v, np.ndarray)}
        buf = io.BytesIO()
        np.savez_compressed(buf, __volume__=np.float64(volume), __scalars__=np.array(json.dumps(scalars)), **arrays)
        atomic_write(self.path(rep), buf.getvalue())
        self.reps.add(rep)

    def load(self, rep: int) -> tuple[dict, float]:
        """A stored replication: (raw arrays, volume factor), exactly as the worker returned them."""
        try:
            with np.load(self.path(rep), allow_pickle=False) as z:
                raw = {k: z[k] for k in z.files if k not in ("__volume__", "__scalars__")}
                raw.update(json.loads(str(z["__scalars__"])))
                volume = float(z["__volume__"])
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            raise ResumeError(f"cannot read stored replication {self.path(rep)} ({exc}); delete it and "
                              f"resume to run it again") from None
        return raw, volume
