"""BLAS thread limits for the many small matrix products of the analysis.

OpenBLAS runs even tiny products (a 61 x 202 by 202 x 100 contrast projection) on all its
threads; waking and joining them cost 15 ms per product here instead of 0.07 ms on one
thread, and in a pool of worker processes each one's threads compete for the same cores.
The per-trial work and the ANOVA therefore run with one BLAS thread (parallelism comes from
processes); nothing else in the user's process is changed.
"""

from __future__ import annotations

import contextlib


def single_thread_blas():
    """Context manager: BLAS libraries limited to one thread inside (threadpoolctl).

    Examples
    --------
    >>> import numpy as np
    >>> with single_thread_blas():
    ...     float(np.ones((3, 3)) @ np.ones(3) @ np.ones(3))
    9.0
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")
