"""Run per-trial work on an existing dask.distributed cluster (optional ``[dask]`` extra)."""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterable, Iterator

from ..core.errors import GaitintError


def _run_pickled(blob: bytes) -> bytes:
    """Worker side: unpickle ``(fn, job)``, run it, return the result pickled.

    Jobs and results (manifest rows, poses, tables) travel as plain bytes pickled by the
    standard library, so dask never applies its own serialisers to them: with pandas 3
    tables those failed on the workers ("loads() got an unexpected keyword argument
    'buffers'")."""
    fn, job = pickle.loads(blob)
    return pickle.dumps(fn(job), protocol=pickle.HIGHEST_PROTOCOL)


def map_on_dask(
    fn: Callable, jobs: Iterable, *, address: str, progress: bool = False
) -> Iterator:
    """Apply ``fn`` to every job on the dask scheduler at ``address``; yield results in order.

    Parameters
    ----------
    fn
        A picklable function of one argument.
    jobs
        Its arguments.
    address
        Scheduler address such as ``tcp://10.0.0.5:8786`` (or a ``LocalCluster``'s
        ``scheduler_address``).
    """
    try:
        from dask.distributed import Client
    except ImportError as err:  # pragma: no cover - depends on the extra
        raise GaitintError(
            "running on a dask cluster needs dask.distributed: pip install 'napari-gaitint[dask]'"
        ) from err
    jobs = list(jobs)
    try:
        client = Client(address, timeout="10s", set_as_default=False)
    except OSError as err:
        raise GaitintError(f"cannot reach the dask scheduler at {address} ({err})") from err
    with client:
        blobs = [pickle.dumps((fn, job), protocol=pickle.HIGHEST_PROTOCOL) for job in jobs]
        futures = client.map(_run_pickled, blobs, pure=False)
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(futures), unit="trials", leave=False)
        for fut in futures:
            out = pickle.loads(fut.result())
            if bar is not None:
                bar.update()
            yield out
        if bar is not None:
            bar.close()
