"""Tables of many views put together (categorical labels, one allocation per column).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from ..core._frames import PANDAS_VERSION


def _concat_views(per_view: list[dict], key: str, columns: Sequence[str], *,
                  release: bool = False) -> pd.DataFrame:
    """The per-view tables ``key`` one under the other, ordered by trial then view, with
    ``trial`` and ``view`` columns in front.

    Text columns come out categorical (a code per row instead of a string object: at 2 000
    trial pairs the cycle tables have ~10 million rows), with trials and views in sorted
    order; the values are the same strings, and the CSV files are unchanged. Columns that
    are categorical in every view are combined as ``union_categoricals(...,
    ignore_order=True)`` would.

    Each output column is allocated once and filled a view at a time. With ``release`` the
    tables are taken out of ``per_view`` and each view's piece of a column is freed once
    copied: the memory then grows by little more than one view's column, instead of by the
    whole output.
    """
    parts = sorted((v for v in per_view if len(v[key])), key=lambda v: (str(v["trial"]), str(v["view"])))
    tables = [v[key] for v in parts]
    if release:
        for v in per_view:
            v.pop(key, None)
    if not tables:
        return pd.DataFrame(columns=["trial", "view", *columns])
    bounds = np.cumsum([0] + [len(t) for t in tables])
    names = list(tables[0].columns)
    # the columns of every view, taken out once (a dict entry is cheap to drop; a column of a
    # DataFrame is not)
    pieces = [dict(t.items()) for t in tables]
    del tables
    out = {name: _label_column([str(v[name]) for v in parts], bounds) for name in ("trial", "view")}
    for c in names:
        fill = _ColumnFill.for_dtypes([p[c].dtype for p in pieces], bounds[-1])
        if fill is None:  # dtypes differ between views, or extension types: as pd.concat has them
            out[c] = pd.concat([p[c] for p in pieces], ignore_index=True)
        for p, a, b in zip(pieces, bounds[:-1], bounds[1:], strict=True):
            if fill is not None:
                fill.put(p[c], a, b)
            if release:
                del p[c]
        if fill is not None:
            out[c] = fill.result()
    return pd.DataFrame(out, copy=False)


def _label_column(labels: list[str], bounds: np.ndarray) -> pd.Categorical:
    """``labels[i]`` on rows ``bounds[i]:bounds[i + 1]``, as a categorical with the labels
    sorted."""
    categories, codes = np.unique(labels, return_inverse=True)
    fill = _ColumnFill(pd.CategoricalDtype(categories, ordered=False), bounds[-1])
    for code, a, b in zip(codes, bounds[:-1], bounds[1:], strict=True):
        fill.values[a:b] = code
    return fill.result()


#: ``Categorical.from_codes`` without re-checking codes made here (``validate``: pandas >= 2.1).
_NO_CODE_CHECK: dict = {"validate": False} if PANDAS_VERSION >= (2, 1) else {}


class _ColumnFill:
    """An output column of :func:`_concat_views`: allocated once, filled a view at a time.

    ``dtype`` is a numpy dtype or a :class:`pandas.CategoricalDtype` (then ``values`` holds
    the codes, in the integer type pandas keeps for that many categories).
    """

    def __init__(self, dtype: np.dtype | pd.CategoricalDtype, n_rows: int):
        self.dtype = dtype
        self.categorical = isinstance(dtype, pd.CategoricalDtype)
        if self.categorical:
            code = pd.Categorical.from_codes(np.empty(0, dtype=np.int8), dtype=dtype).codes.dtype
            self.values = np.empty(n_rows, dtype=code)
            self._recode: dict[tuple, np.ndarray] = {}  # by a piece's categories, in order
        else:
            self.values = np.empty(n_rows, dtype=dtype)

    @classmethod
    def for_dtypes(cls, dtypes: list, n_rows: int) -> _ColumnFill | None:
        """The column for pieces of these dtypes: categorical if all are (the categories of
        ``union_categoricals(..., ignore_order=True)``), else their numpy number type if
        they share one, else None."""
        if all(isinstance(d, pd.CategoricalDtype) for d in dtypes):
            # a dtype equal to an earlier one (the same categories) adds none to the union
            distinct = list(dict.fromkeys(dtypes))
            union = union_categoricals([pd.Categorical([], dtype=d) for d in distinct], ignore_order=True)
            return cls(union.dtype, n_rows)
        # (numbers only: pandas would type an object array of strings as text)
        if all(isinstance(d, np.dtype) and d.kind in "biuf" for d in dtypes) and len(set(dtypes)) == 1:
            return cls(dtypes[0], n_rows)
        return None

    def put(self, piece: pd.Series, a: int, b: int) -> None:
        """Copy ``piece`` into rows ``a:b``."""
        if self.categorical:
            part = piece.array
            key = tuple(part.categories)
            recode = self._recode.get(key)
            if recode is None:
                # the code -1 (a missing value) picks the appended -1
                recode = np.append(self.dtype.categories.get_indexer(part.categories), -1)
                recode = self._recode[key] = recode.astype(self.values.dtype)
            self.values[a:b] = recode[part.codes]
        else:
            self.values[a:b] = piece.to_numpy()

    def result(self) -> np.ndarray | pd.Categorical:
        if self.categorical:
            return pd.Categorical.from_codes(self.values, dtype=self.dtype, **_NO_CODE_CHECK)
        return self.values


def _relabel(column: pd.Series, label: Callable[[str], str]) -> pd.Categorical:
    """``label(value)`` of every row of a column, as a categorical (computed once per
    distinct value: the cycle tables have millions of rows)."""
    col = column if isinstance(column.dtype, pd.CategoricalDtype) else column.astype("category")
    names = [str(label(c)) for c in col.cat.categories]
    categories = list(dict.fromkeys(names))
    recode = np.array([categories.index(n) for n in names] + [-1], dtype=np.int32)
    return pd.Categorical.from_codes(recode[col.cat.codes.to_numpy()], categories=categories)
