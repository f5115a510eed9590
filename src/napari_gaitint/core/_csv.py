"""Writing result tables as CSV: the bytes of ``DataFrame.to_csv(index=False)``, faster.

pandas formats a large table row by row through Python's csv writer and turns every float
into text with numpy; on a long-recording cohort (34 million rows of ``cycles_all``) that
took 76 of the run's 99 s. :func:`write_csv` formats whole columns at once (Python's float
repr, the same shortest round-trip text) and joins them in chunks of rows, so memory stays
bounded. Tables it cannot write exactly as pandas would (a text cell that needs quoting, a
single column, dtypes other than numbers, booleans and text) go through pandas itself.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from ._files import write_atomic

#: Rows formatted at a time (bounds the memory of the text).
CHUNK_ROWS = 1 << 18
#: Tables longer than this are formatted by several processes.
PARALLEL_ROWS = 4 * CHUNK_ROWS
#: Characters that make the csv writer quote a cell (pandas: QUOTE_MINIMAL, ``,`` and ``"``).
_QUOTED = (",", '"', "\r", "\n")


def write_csv(path: str | Path, df: pd.DataFrame, *, overwrite: bool = False, n_jobs: int = 1) -> Path:
    """Write ``df`` to ``path`` as ``df.to_csv(path, index=False)`` would, byte for byte.

    Atomic (a crash leaves ``path`` as it was); an existing file is kept unless
    ``overwrite``. Tables of more than :data:`PARALLEL_ROWS` rows are formatted by
    ``n_jobs`` processes (1, the default, as ``AnalysisConfig.n_jobs``: this process; 0 or
    less: the CPUs this process may use).

    Examples
    --------
    >>> import tempfile
    >>> df = pd.DataFrame({"bodypart": ["heel", "toe"], "pct": [0.0, 1.0], "value": [1.5, float("nan")]})
    >>> with tempfile.TemporaryDirectory() as d:
    ...     print(write_csv(Path(d) / "t.csv", df).read_text(), end="")
    bodypart,pct,value
    heel,0.0,1.5
    toe,1.0,
    """
    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            if not _write_fast(df, fh, n_jobs):
                fh.seek(0)
                fh.truncate()
                df.to_csv(fh, index=False)

    return write_atomic(path, write, overwrite=overwrite)


def _write_fast(df: pd.DataFrame, fh, n_jobs: int) -> bool:
    """Write ``df`` to the text file ``fh``; False (part written) when pandas must do it."""
    if len(df) == 0 or df.shape[1] < 2 or isinstance(df.columns, pd.MultiIndex):
        return False
    fh.write(df.iloc[:0].to_csv(index=False, lineterminator=os.linesep))
    parts = (df.iloc[start:start + CHUNK_ROWS] for start in range(0, len(df), CHUNK_ROWS))
    if n_jobs < 1:
        from ._threads import available_cpus

        n_jobs = available_cpus()
    if n_jobs > 1 and len(df) > PARALLEL_ROWS and not _in_daemon():
        texts = _in_processes(parts, n_jobs)
    else:
        texts = map(_rows_text, parts)
    for text in texts:
        if text is None:
            return False
        fh.write(text)
    return True


def _in_daemon() -> bool:
    """True in a daemonic process (e.g. a multiprocessing.Pool worker), which may not start
    processes of its own."""
    import multiprocessing

    return multiprocessing.current_process().daemon


def _in_processes(parts, n_jobs: int):
    """:func:`_rows_text` of each part in ``n_jobs`` processes, in order, with at most two
    parts per process under way (memory stays bounded)."""
    from collections import deque
    from concurrent.futures import ProcessPoolExecutor

    from ._threads import limit_worker_process

    with ProcessPoolExecutor(max_workers=n_jobs, initializer=limit_worker_process) as pool:
        pending = deque()
        for part in parts:
            pending.append(pool.submit(_rows_text, part))
            if len(pending) >= 2 * n_jobs:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _rows_text(part: pd.DataFrame) -> str | None:
    """The rows of ``part`` as CSV text (each line ended), or None when pandas must write it."""
    columns = []
    for j in range(part.shape[1]):
        text = _column_text(part.iloc[:, j])
        if text is None:
            return None
        columns.append(text)
    newline = os.linesep  # pandas' default line terminator
    return newline.join(map(",".join, zip(*columns, strict=True))) + newline


def _column_text(col: pd.Series) -> list[str] | None:
    """The cells of ``col`` as pandas writes them, or None when this module cannot."""
    dtype = col.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        labels = _text_cells(pd.Series(col.cat.categories, dtype=object))
        if labels is None:
            return None
        lookup = np.array([*labels, ""], dtype=object)  # code -1 (missing) is the last one
        return lookup[col.cat.codes.to_numpy()].tolist()
    if isinstance(dtype, np.dtype):
        values = col.to_numpy()
        if dtype.kind in "iu":
            return list(map(str, values.tolist()))
        if dtype == np.float64:
            # repr is the shortest text that reads back to the same float, as numpy's
            # (pandas') formatting; missing values are empty cells
            text = list(map(float.__repr__, values.tolist()))
            for i in np.flatnonzero(np.isnan(values)).tolist():
                text[i] = ""
            return text
        if dtype.kind == "b":
            return np.array(["False", "True"], dtype=object)[values.view(np.uint8)].tolist()
        if dtype.kind != "O":
            return None
    elif not isinstance(dtype, pd.StringDtype):
        return None
    return _text_cells(col)


def _text_cells(col: pd.Series) -> list[str] | None:
    """Text cells (missing ones empty), or None for other values or text needing quotes."""
    out = []
    for value in col.tolist():
        if isinstance(value, str):
            out.append(value)
        elif value is None or (isinstance(value, float) and value != value):
            out.append("")
        else:
            return None
    if any(c in text for text in set(out) for c in _QUOTED):
        return None
    return out
