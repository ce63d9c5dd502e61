"""Worker processes that work wherever the user started Python.

Python's multiprocessing starts its children (spawn, forkserver) by running
the user's main module again and by taking the current folder onto their
path. That breaks simcc's users in three ways: a script without an
``if __name__ == "__main__":`` guard recurses, a script piped on stdin
cannot be run again at all, and a run started from the repository folder
imports the uncompiled ``./simcc`` in its workers instead of the installed
one. simcc's workers only ever run simcc's own functions, so they need
none of that. A worker here is ``python -c BOOT`` that

- puts on ``sys.path`` the folder this process imported simcc from, then
  this process's own path without the current folder;
- imports simcc, never ``__main__``;
- runs in its own session, so Ctrl-C in a terminal reaches only the parent,
  which stops the workers itself;
- exits when the parent goes away (its command pipe closes).

Messages are pickled over two pipes per worker
(``multiprocessing.connection.Connection``): ``("call", id, fn, args)`` in,
``("ok", id, value)`` or ``("error", id, exception)`` out. ``fn`` must be a
module-level function of simcc. A worker that dies fails its calls with
:class:`WorkerDied`; one that cannot start raises :class:`WorkerStartError`
with its own error output and the fix.
"""
from __future__ import annotations

import atexit
import concurrent.futures as cf
import os
import pickle
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from multiprocessing.connection import Connection
from multiprocessing.connection import wait as _wait_ready

#: Seconds a new worker may take to import simcc and say it is ready.
START_TIMEOUT_S = 120.0
#: Calls sent ahead to one worker (the next one waits in its pipe while it computes).
PER_WORKER = 2
_SEP = "\x1f"      # separates sys.path entries on the command line (never in a path)
_BOOT = ("import sys; sys.path[:] = sys.argv[1].split('\\x1f'); "
         "from simcc.run.pool import _worker_main; _worker_main(int(sys.argv[2]), int(sys.argv[3]))")
_BOOT_MODULE = ("import sys; sys.path[:] = sys.argv[1].split('\\x1f'); del sys.argv[:2]; "
                "import runpy; runpy.run_module(sys.argv[0], run_name='__main__', alter_sys=True)")


class WorkerDied(RuntimeError):
    """The worker process running this call ended (killed, out of memory) before answering."""


class WorkerStartError(RuntimeError):
    """Worker processes could not be started; the message says why and what to do."""


def simcc_root() -> str:
    """The folder this process imported the ``simcc`` package from (this file is simcc/run/pool.py)."""
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def worker_path() -> list[str]:
    """``sys.path`` for a worker: simcc's folder first, then this process's path without the current folder."""
    root = simcc_root()
    out = [root]
    for p in sys.path:
        if not p:                        # '' is the current folder: never a source of simcc for a worker
            continue
        p = os.path.abspath(p)
        if p not in out:
            out.append(p)
    return out


def run_module(module: str, args: list[str], log, env: dict | None = None) -> subprocess.Popen:
    """Start ``python -m module args`` with the workers' path (simcc's folder first, never the
    current folder), in its own session; output goes to ``log``. For helper programs such as a
    local Dask scheduler and its workers."""
    return subprocess.Popen([sys.executable, "-c", _BOOT_MODULE, _SEP.join(worker_path()), module, *args],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                            start_new_session=True, close_fds=True)


def _worker_main(rfd: int, wfd: int) -> None:
    """The loop of one worker process (runs in the child)."""
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    rx = Connection(rfd, writable=False)
    tx = Connection(wfd, readable=False)
    try:
        import importlib.metadata

        import numpy

        from ..engine import replication  # noqa: F401  (what tasks run: fails here, with its reason, if unloadable)
        tx.send(("ready", os.getpid(), importlib.metadata.version("simcc"), numpy.__version__))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which explains it
        tx.send(("broken", f"{type(exc).__name__}: {exc}"))
        return
    while True:
        try:
            msg = rx.recv()
        except (EOFError, OSError):      # the parent is gone
            return
        if msg[0] == "stop":
            return
        _, call_id, fn, args = msg
        try:
            reply = ("ok", call_id, fn(*args))
        except BaseException as exc:  # noqa: BLE001 - handed to the parent
            reply = ("error", call_id, _picklable(exc))
        try:
            tx.send(reply)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            tx.send(("error", call_id, RuntimeError(f"the result could not be sent back: {exc}")))
        except (BrokenPipeError, OSError):
            return


def _picklable(exc: BaseException) -> BaseException:
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001 - any exception that does not survive pickling
        return RuntimeError(f"{type(exc).__name__}: {exc}")


class _Worker:
    def __init__(self, path: list[str]):
        r_child, w_parent = os.pipe()        # parent -> child
        r_parent, w_child = os.pipe()        # child -> parent
        self.log = tempfile.TemporaryFile()
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", _BOOT, _SEP.join(path), str(r_child), str(w_child)],
                pass_fds=(r_child, w_child), stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
                start_new_session=True, close_fds=True)
        finally:
            os.close(r_child)
            os.close(w_child)
        self.tx = Connection(w_parent, readable=False)
        self.rx = Connection(r_parent, writable=False)
        self.inflight: deque = deque()        # call ids sent, in order
        self.ready = False
        self.info: tuple = ()

    def error_output(self, limit: int = 2000) -> str:
        try:
            self.log.seek(0)
            text = self.log.read().decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""
        return text[-limit:].strip()

    def kill(self) -> None:
        for conn in (self.tx, self.rx):
            try:
                conn.close()
            except OSError:
                pass
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(2)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        try:
            self.log.close()
        except OSError:
            pass

    def stop(self) -> None:
        try:
            self.tx.send(("stop",))
        except OSError:
            pass
        try:
            self.proc.wait(2)
        except subprocess.TimeoutExpired:
            pass
        self.kill()


class ProcessPool:
    """A fixed number of worker processes running simcc functions; see the module docs.

    ``submit(fn, *args)`` returns a :class:`concurrent.futures.Future`;
    :meth:`wait` sends queued calls to free workers and collects answers
    (nothing runs in a background thread: the caller's wait is the pump).
    ``context(fn, *args)`` is called on every worker, including workers
    started later to replace a dead one, before any other call.
    """

    def __init__(self, size: int):
        if size < 1:
            raise ValueError("a pool needs at least one worker")
        self.size = int(size)
        self.path = worker_path()
        self.workers: list[_Worker] = []
        self.queue: deque = deque()           # (call id, fn, args) not yet sent
        self.futures: dict[int, cf.Future] = {}
        self.owner: dict[int, _Worker] = {}
        self.next_id = 0
        self.ctx: tuple | None = None
        self.deaths = 0
        self.closed = False
        self._start(self.size)

    # ------------------------------------------------------------------
    def _start(self, n: int) -> None:
        new = [_Worker(self.path) for _ in range(n)]
        deadline = time.monotonic() + START_TIMEOUT_S
        waiting = {w.rx: w for w in new}
        try:
            while waiting:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise WorkerStartError(self._start_failure(next(iter(waiting.values())),
                                                               f"no answer within {START_TIMEOUT_S:g} s"))
                for conn in _wait_ready(list(waiting), timeout=min(left, 1.0)):
                    w = waiting.pop(conn)
                    try:
                        msg = conn.recv()
                    except (EOFError, OSError):
                        w.proc.wait(5)
                        why = f"it exited with code {w.proc.returncode}"
                        raise WorkerStartError(self._start_failure(w, why)) from None
                    if msg[0] != "ready":
                        raise WorkerStartError(self._start_failure(w, msg[1]))
                    w.ready, w.info = True, msg[1:]
        except BaseException:
            for w in new:
                w.kill()
            raise
        for w in new:
            if self.ctx is not None:
                self._send(w, self._new_id(), *self.ctx, future=None)
            self.workers.append(w)

    def _start_failure(self, w: _Worker, why: str) -> str:
        out = w.error_output()
        return (f"simcc could not start its worker processes: {why}."
                + (f"\nThe worker said:\n{out}" if out else "")
                + f"\nWorkers import simcc from {self.path[0]} with {sys.executable}. Check that simcc is "
                  f"installed there (`python -m pip install -e .` in the repository folder), or run in this "
                  f"process only with workers=1 (command line: --workers 1).")

    def _new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    def _send(self, w: _Worker, call_id: int, fn, args, future) -> None:
        if future is not None:
            self.futures[call_id] = future
            self.owner[call_id] = w
        w.inflight.append(call_id)
        try:
            w.tx.send(("call", call_id, fn, args))
        except (OSError, EOFError):
            pass                                # noticed as a dead worker by the next wait

    # ------------------------------------------------------------------
    def context(self, fn, *args) -> None:
        """Run ``fn(*args)`` on every worker now and on every replacement worker later."""
        self.ctx = (fn, args)
        for w in self.workers:
            self._send(w, self._new_id(), fn, args, future=None)

    def submit(self, fn, *args) -> cf.Future:
        if self.closed:
            raise RuntimeError("the worker pool is closed")
        f: cf.Future = cf.Future()
        call_id = self._new_id()
        self.queue.append((call_id, fn, args, f))
        self._dispatch()
        return f

    def _dispatch(self) -> None:
        for w in sorted(self.workers, key=lambda w: len(w.inflight)):
            while self.queue and len(w.inflight) < PER_WORKER:
                call_id, fn, args, f = self.queue.popleft()
                if f.cancelled():
                    continue
                self._send(w, call_id, fn, args, f)

    def wait(self, futures, timeout: float | None = None) -> set:
        """Pump until one of ``futures`` is done or ``timeout`` passes; return those done."""
        futures = set(futures)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            done = {f for f in futures if f.done()}
            if done or not futures:
                return done
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            self._pump(left)
            if deadline is not None and time.monotonic() >= deadline:
                return {f for f in futures if f.done()}

    def _pump(self, timeout: float | None) -> None:
        self._dispatch()
        conns = {w.rx: w for w in self.workers}
        if not conns:
            return
        for conn in _wait_ready(list(conns), timeout=timeout):
            w = conns[conn]
            try:
                msg = conn.recv()
            except (EOFError, OSError):
                self._lost(w)
                continue
            except Exception as exc:  # noqa: BLE001 - a reply that cannot be read back
                msg = ("error", w.inflight[0] if w.inflight else -1, RuntimeError(f"unreadable reply: {exc}"))
            kind, call_id, value = msg
            if w.inflight and w.inflight[0] == call_id:
                w.inflight.popleft()
            elif call_id in w.inflight:
                w.inflight.remove(call_id)
            self.owner.pop(call_id, None)
            f = self.futures.pop(call_id, None)
            if f is None:
                if kind == "error":             # a context call failed: every later call would too
                    self._fail_all(value)
                continue
            if kind == "ok":
                f.set_result(value)
            else:
                f.set_exception(value)
        self._dispatch()

    def _fail_all(self, exc: BaseException) -> None:
        for f in list(self.futures.values()):
            if not f.done():
                f.set_exception(exc)
        self.futures.clear()
        while self.queue:
            _, _, _, f = self.queue.popleft()
            if not f.done():
                f.set_exception(exc)

    def _lost(self, w: _Worker) -> None:
        """A worker died: fail what it was running, start a replacement."""
        self.deaths += 1
        code = w.proc.poll()
        try:
            w.proc.wait(5)
            code = w.proc.returncode
        except subprocess.TimeoutExpired:
            pass
        err = WorkerDied(f"worker process {w.proc.pid} ended (exit code {code})")
        for call_id in w.inflight:
            self.owner.pop(call_id, None)
            f = self.futures.pop(call_id, None)
            if f is not None and not f.done():
                f.set_exception(err)
        w.inflight.clear()
        w.kill()
        self.workers.remove(w)
        if not self.closed:
            self._start(1)

    def pids(self) -> list[int]:
        return [w.proc.pid for w in self.workers]

    def cancel_all(self) -> None:
        """Drop queued calls and stop the workers at once (what an interrupt does)."""
        self.closed = True
        for w in self.workers:
            w.kill()
        self.workers = []
        self._fail_all(cf.CancelledError())

    def close(self) -> None:
        """Let the workers finish what they were sent, then stop them."""
        self.closed = True
        for w in self.workers:
            w.stop()
        self.workers = []


# --------------------------------------------------------------------------
# One pool per process, kept between runs (starting workers costs ~1 s each)
# --------------------------------------------------------------------------
_shared: ProcessPool | None = None
_shared_lock = threading.Lock()


class _Lease:
    """The shared pool, resized to ``size``, for one run at a time; another thread gets a private pool."""

    def __init__(self, size: int):
        global _shared
        self.private = not _shared_lock.acquire(blocking=False)
        if self.private:
            self.pool = ProcessPool(size)
            return
        try:
            if _shared is not None and (_shared.closed or _shared.size != size or _shared.path != worker_path()):
                _shared.close()
                _shared = None
            if _shared is None:
                _shared = ProcessPool(size)
            _shared.ctx = None
            self.pool = _shared
        except BaseException:
            _shared_lock.release()
            raise

    def release(self, broken: bool = False) -> None:
        global _shared
        if self.private:
            self.pool.cancel_all() if broken else self.pool.close()
            return
        try:
            if broken or self.pool.futures or self.pool.queue:
                self.pool.cancel_all()
                _shared = None
        finally:
            _shared_lock.release()


def lease(size: int) -> _Lease:
    """The process-wide pool of ``size`` workers (started on first use, kept until exit)."""
    return _Lease(size)


@atexit.register
def _shutdown() -> None:
    global _shared
    if _shared is not None:
        _shared.close()
        _shared = None
