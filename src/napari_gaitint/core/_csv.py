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
from typing import NamedTuple

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
    fh.write(_header_text(df))
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


def _header_text(df: pd.DataFrame) -> str:
    """The header line pandas writes: the column names joined (pandas itself for names
    that are not text or need quotes: ~1 ms, most of writing a small table)."""
    names = list(df.columns)
    if all(type(n) is str and not any(c in n for c in _QUOTED) for n in names):
        return ",".join(names) + os.linesep
    return df.iloc[:0].to_csv(index=False, lineterminator=os.linesep)


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


class _Coded(NamedTuple):
    """A column as a code per row into its distinct cells (few cells, many rows)."""

    codes: np.ndarray  # non-negative, one per row
    labels: list[str]


def _rows_text(part: pd.DataFrame) -> str | None:
    """The rows of ``part`` as CSV text (each line ended), or None when pandas must write it.

    Columns with few distinct cells (categoricals, small integers, repeated floats such as
    ``pct``) are kept as codes, and neighbours among them are joined into one column of
    their combinations while these stay few (``trial,view,side,cycle,bodypart,axis`` of a
    cycles table: ~40 combinations per 1 000 rows): each row then joins 4 cells instead of
    9. The text is the same.
    """
    columns: list = []
    for j in range(part.shape[1]):
        cells = _column_cells(part.iloc[:, j])
        if cells is None:
            return None
        last = columns[-1] if columns else None
        if isinstance(cells, _Coded) and isinstance(last, _Coded):
            joined = _join_coded(last, cells, len(part))
            if joined is not None:
                columns[-1] = joined
                continue
        columns.append(cells)
    texts = [np.array(c.labels, dtype=object)[c.codes].tolist() if isinstance(c, _Coded) else c
             for c in columns]
    newline = os.linesep  # pandas' default line terminator
    lines = texts[0] if len(texts) == 1 else map(",".join, zip(*texts, strict=True))
    return newline.join(lines) + newline


def _join_coded(a: _Coded, b: _Coded, n_rows: int) -> _Coded | None:
    """``a`` and ``b`` as one column (``"a,b"`` cells), or None when their combinations are
    too many for that to pay (more than a quarter of the rows)."""
    n_b = len(b.labels)
    size = len(a.labels) * n_b
    if size > 4 * n_rows:
        return None
    key = a.codes.astype(np.intp) * n_b + b.codes
    present = np.zeros(size, dtype=bool)
    present[key] = True
    combos = np.flatnonzero(present)
    if combos.size * 4 > n_rows:
        return None
    new_code = np.zeros(size, dtype=np.intp)
    new_code[combos] = np.arange(combos.size)
    labels = [f"{a.labels[i // n_b]},{b.labels[i % n_b]}" for i in combos.tolist()]
    return _Coded(new_code[key], labels)


#: Rows of a float column looked at to decide whether its values repeat (see _column_cells).
_SAMPLE_ROWS = 2048


def _column_cells(col: pd.Series) -> list[str] | _Coded | None:
    """The cells of ``col`` as pandas writes them (a list, or :class:`_Coded` when few
    distinct cells repeat), or None when this module cannot."""
    dtype = col.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        labels = _text_cells(pd.Series(col.cat.categories, dtype=object))
        if labels is None:
            return None
        codes = col.cat.codes.to_numpy()
        # code -1 (missing) is the last label, an empty cell
        return _Coded(np.where(codes < 0, len(labels), codes), [*labels, ""])
    if isinstance(dtype, np.dtype):
        values = col.to_numpy()
        if dtype.kind in "iu":
            lo, hi = (int(values.min()), int(values.max())) if len(values) else (0, -1)
            if hi - lo < len(values) // 4:
                wide = values.astype(np.uint64) - np.uint64(lo) if dtype.kind == "u" else values.astype(np.int64) - lo
                return _Coded(wide.astype(np.intp), list(map(str, range(lo, hi + 1))))
            return list(map(str, values.tolist()))
        if dtype == np.float64:
            return _float_cells(values)
        if dtype.kind == "b":
            return _Coded(values.view(np.uint8), ["False", "True"])
        if dtype.kind != "O":
            return None
    elif not isinstance(dtype, pd.StringDtype):
        return None
    return _text_cells(col)


def _float_cells(values: np.ndarray) -> list[str] | _Coded:
    """Float cells: repr, the shortest text that reads back to the same float, as numpy's
    (pandas') formatting; missing values are empty cells. Values that repeat (judged on the
    first rows) are formatted once each (distinct by their bits: ``-0.0`` is not ``0.0``)."""
    sample = values[:_SAMPLE_ROWS].view(np.int64)
    if len(values) >= 64 and 4 * np.unique(sample).size <= sample.size:
        bits, codes = np.unique(values.view(np.int64), return_inverse=True)
        distinct = bits.view(np.float64)
        labels = list(map(float.__repr__, distinct.tolist()))
        for i in np.flatnonzero(np.isnan(distinct)).tolist():
            labels[i] = ""
        return _Coded(codes.reshape(-1), labels)
    text = list(map(float.__repr__, values.tolist()))
    for i in np.flatnonzero(np.isnan(values)).tolist():
        text[i] = ""
    return text


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
