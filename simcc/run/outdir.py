"""An output folder owned by one run at a time, whose ``meta.json`` is true when it exists.

Three rules, kept here so that ``simulate`` and ``sweep`` (and anything else
that writes a run folder) follow them the same way:

1. **One run per folder.** :func:`claim` takes an operating-system lock on
   ``FOLDER/.simcc.lock`` for as long as the run lasts (``flock`` on POSIX,
   ``msvcrt.locking`` on Windows; the lock dies with the process, so a killed
   run never leaves a folder locked). A second run on the same folder is
   refused with :class:`FolderBusy`, naming the holder (process id, host,
   start time, command).
2. **The completion marker is never stale.** Before any result file is
   rewritten, ``meta.json`` is removed; it is written last, after every other
   file, so a folder with a ``meta.json`` holds a finished (or cleanly
   interrupted) run and one without it holds a run that crashed. Temporary
   files left by a killed run (``.simcc-*.tmp``) are removed.
3. **Not simcc's folder, not simcc's files.** A folder whose ``meta.json``
   was not written by simcc is refused rather than overwritten.
"""
from __future__ import annotations

import json
import os
import socket
import sys
import time
from contextlib import contextmanager

from ..errors import FolderBusy, NotARunFolder

LOCK_NAME = ".simcc.lock"
MARKER = "meta.json"
TEMP_PREFIX, TEMP_SUFFIX = ".simcc-", ".tmp"

__all__ = ["FolderBusy", "NotARunFolder", "claim", "clean_temporary", "invalidate", "is_simcc_meta"]


def _lock(fh) -> bool:
    try:
        if os.name == "nt":  # pragma: no cover - Windows
            import msvcrt
            fh.seek(0)
            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


def _holder(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as fh:
            info = json.loads(fh.read() or "{}")
        return (f"process {info.get('pid', '?')} on {info.get('host', '?')}, started "
                f"{info.get('started', '?')}: {info.get('command', '?')}")
    except (OSError, ValueError):
        return "another process"


def is_simcc_meta(path: str) -> bool:
    """True when ``path`` is a ``meta.json`` that simcc wrote (a run or a sweep)."""
    try:
        with open(path, encoding="utf-8") as fh:
            meta = json.load(fh)
    except (OSError, ValueError, UnicodeDecodeError):
        return False
    return isinstance(meta, dict) and "simcc_version" in meta and "status" in meta


def invalidate(folder: str) -> None:
    """Remove ``folder/meta.json`` (simcc's own) and temporary files a killed run left behind."""
    marker = os.path.join(folder, MARKER)
    if os.path.exists(marker):
        os.unlink(marker)
    clean_temporary(folder)


def clean_temporary(folder: str) -> int:
    """Remove ``.simcc-*.tmp`` files in ``folder`` and ``folder/reps``; returns how many."""
    n = 0
    for sub in (folder, os.path.join(folder, "reps")):
        try:
            names = os.listdir(sub)
        except OSError:
            continue
        for name in names:
            if name.startswith(TEMP_PREFIX) and name.endswith(TEMP_SUFFIX):
                try:
                    os.unlink(os.path.join(sub, name))
                    n += 1
                except OSError:
                    pass
    return n


@contextmanager
def claim(folder):
    """Own ``folder`` for the duration of the block: lock it, refuse foreign folders, invalidate its marker.

    Raises
    ------
    FolderBusy
        Another run (in this or another process) holds the folder.
    NotARunFolder
        ``folder/meta.json`` exists and was not written by simcc.
    """
    folder = os.fspath(folder)
    marker = os.path.join(folder, MARKER)
    if os.path.exists(marker) and not is_simcc_meta(marker):
        raise NotARunFolder(f"{folder} holds a meta.json that simcc did not write; choose an empty folder or "
                            f"one an earlier simcc run wrote (nothing was changed)")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, LOCK_NAME)
    fh = open(path, "a+", encoding="utf-8")
    try:
        if not _lock(fh):
            raise FolderBusy(f"{folder} is in use by another simcc run ({_holder(path)}); wait for it to end or "
                             f"choose another output folder")
        fh.seek(0)
        fh.truncate()
        fh.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                             "started": time.strftime("%Y-%m-%d %H:%M:%S"),
                             "command": " ".join(sys.argv)[:300]}))
        fh.flush()
        invalidate(folder)
        yield folder
    finally:
        fh.close()          # closing the file releases the lock
