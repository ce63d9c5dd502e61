"""The compiled kernel module, loaded once, with a clear error when it was never built."""
from __future__ import annotations

import os


def kernel():
    """The compiled kernel module, or a clear error saying how to build it (never a silent fallback)."""
    try:
        from . import _core
    except ImportError as exc:  # pragma: no cover - only without a build
        here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        raise RuntimeError(
            f"the compiled kernel simcc.engine._core is not built in {here}. If that is the repository folder "
            f"(simcc was installed without -e, or not at all), run `python -m pip install -e .` there "
            f"(needs a C compiler), or start Python from another folder (the SimPy reference engine needs it "
            f"too, for the calls' own random streams)") from exc
    return _core
