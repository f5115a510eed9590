"""BLAS thread limits for the many small matrix products of the analysis.

OpenBLAS runs even tiny products (a 61 x 202 by 202 x 100 contrast projection) on all its
threads; waking and joining them cost 15 ms per product here instead of 0.07 ms on one
thread, and in a pool of worker processes each one's threads compete for the same cores.
The per-trial work and the ANOVA therefore run with one BLAS thread (parallelism comes from
processes); nothing else in the user's process is changed.
"""

from __future__ import annotations

import contextlib
import os

_WHOLE_PROCESS = False  # set in our worker processes: one BLAS thread for their lifetime
_depth = 0  # single_thread_blas blocks entered and not left (an inner one does nothing)


def available_cpus() -> int:
    """CPUs this process may run on: its affinity (a container's or ``taskset``'s CPU set),
    not all of the machine's as ``os.cpu_count()`` gives; at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # no affinity on this platform (macOS, Windows)
        return os.cpu_count() or 1


def limit_worker_process() -> None:
    """One BLAS thread for the rest of this process's life: the initializer of our worker
    processes (``single_thread_blas`` then costs nothing there; entering it takes ~2 ms,
    threadpoolctl looks up the loaded libraries each time)."""
    global _WHOLE_PROCESS
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        return
    threadpool_limits(limits=1, user_api="blas")
    _WHOLE_PROCESS = True


@contextlib.contextmanager
def single_thread_blas():
    """Context manager: BLAS libraries limited to one thread inside (threadpoolctl).

    Inside another one (a serial loop over trials limits once for all of them) it does
    nothing: entering threadpoolctl's limit costs ~2 ms each time.

    Examples
    --------
    >>> import numpy as np
    >>> with single_thread_blas():
    ...     float(np.ones((3, 3)) @ np.ones(3) @ np.ones(3))
    9.0
    """
    global _depth
    if _WHOLE_PROCESS or _depth:
        yield
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        yield
        return
    _depth += 1
    try:
        with threadpool_limits(limits=1, user_api="blas"):
            yield
    finally:
        _depth -= 1
