"""Reading pandas tables in the hot paths of the analysis."""

from __future__ import annotations

import pandas as pd


def bare(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` without its ``attrs`` (the same columns, not copied), to take columns from.

    pandas deep-copies a table's ``attrs`` into every column taken from it (``df[name]``):
    an events table's settings, or the per-cycle table that an angle-cycles table carries,
    copied again for each column of each trial. Only for reading: the result shares
    ``df``'s data.
    """
    return pd.DataFrame(df, copy=False)
