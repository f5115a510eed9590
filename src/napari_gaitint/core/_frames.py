"""Reading pandas tables in the hot paths of the analysis."""

from __future__ import annotations

import pandas as pd

#: The installed pandas as ``(major, minor)``: pandas 2 (DeepLabCut's environments pin it)
#: and pandas 3 differ in a few keywords.
PANDAS_VERSION: tuple[int, int] = tuple(int(p) for p in pd.__version__.split(".")[:2])

#: ``pd.read_csv`` keywords that read every float back exactly as it was written. pandas 3
#: does so by default (and deprecates the option); pandas 2 parses floats with a faster
#: routine that can be off by several units in the last place unless asked for ``round_trip``.
EXACT_FLOATS: dict = {"float_precision": "round_trip"} if PANDAS_VERSION < (3, 0) else {}


def bare(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` without its ``attrs`` (the same columns, not copied), to take columns from.

    pandas deep-copies a table's ``attrs`` into every column taken from it (``df[name]``):
    an events table's settings, or the per-cycle table that an angle-cycles table carries,
    copied again for each column of each trial. Only for reading: the result shares
    ``df``'s data.
    """
    return pd.DataFrame(df, copy=False)
