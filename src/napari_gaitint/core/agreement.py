"""Agreement between the two views of a cohort: difference curves, Bland-Altman, ICC.

The input is the long cycles table of :mod:`.stats` (checked by
:func:`~napari_gaitint.core.stats.validate_cycles_table`; with a ``subject`` column the
subject is the unit):

* :func:`compute_difference_curves` - mean view difference over the cycle with a t-based CI.
* :func:`compute_bland_altman_points` - per trial (subject) and time point, mean and difference.
* :func:`compute_agreement` - Bland-Altman bias and limits of agreement, RMSE, MAE and ICC.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps

from .errors import AnalysisError
from .stats import _ordered_unique, _resolve_views, _trial_count, _units, validate_cycles_table

#: Columns of :func:`compute_difference_curves`.
DIFFERENCE_COLUMNS: tuple[str, ...] = (
    "bodypart", "axis", "pct", "mean_diff", "ci_low", "ci_high", "n",
)


#: Columns of :func:`compute_agreement`.
AGREEMENT_COLUMNS: tuple[str, ...] = (
    "bodypart", "axis", "view_a", "view_b", "n", "bias", "sd_diff", "loa_low", "loa_high",
    "rmse", "mae", "icc", "icc_type",
)


#: The ICC reported by :func:`compute_agreement`: two-way random, absolute agreement, single.
ICC_TYPE = "ICC(A,1)"


_BLAND_ALTMAN_Z = 1.96


# agreement between two views
def _two_views(df: pd.DataFrame, views: Sequence[str] | None) -> tuple:
    if views is None:
        v = _resolve_views(df, None)
        return v[0], v[1]
    v = _resolve_views(df, views)
    if len(v) != 2:
        raise AnalysisError(f"agreement compares exactly two views, got {v}")
    return v[0], v[1]


def _paired(df: pd.DataFrame, view_a, view_b) -> pd.DataFrame:
    """Rows ``trial, bodypart, axis, pct, a, b`` where both views have a value."""
    keys = ["trial", "bodypart", "axis", "pct"]
    a = df[df["view"] == view_a].set_index(keys)["value"].rename("a")
    b = df[df["view"] == view_b].set_index(keys)["value"].rename("b")
    return pd.concat([a, b], axis=1, join="inner").reset_index()


def _view_pairs(cycles: pd.DataFrame, views: Sequence[str] | None, *, require_pairs: bool) -> tuple:
    """The validated cycles (per subject where they have one), the two views, the subjects'
    trials (``None`` without subjects) and the paired curves; with ``require_pairs`` an
    :class:`AnalysisError` when no trial has both views."""
    df = validate_cycles_table(cycles)
    view_a, view_b = _two_views(df, views)
    df, trials = _units(df)
    pairs = _paired(df, view_a, view_b)
    if require_pairs and pairs.empty:
        raise AnalysisError(f"no trial has data in both views {view_a!r} and {view_b!r}")
    return df, view_a, view_b, trials, pairs


def compute_difference_curves(
    cycles: pd.DataFrame,
    *,
    views: Sequence[str] | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Mean difference between two views over the cycle, with a t-based confidence interval.

    For every body part, axis and ``pct`` the per-trial difference ``d = a - b`` (trial mean
    curve of view ``a`` minus view ``b``) is averaged over the trials that have both views at
    that point; the CI is ``mean +- t_{(1+confidence)/2, n-1} * sd / sqrt(n)`` (NaN for n < 2).

    Parameters
    ----------
    cycles
        Long cycles table.
    views
        ``(a, b)``; default the first two views in sorted order (e.g. C1 - C3).
    confidence
        Confidence level of the interval (default 0.95).

    Returns
    -------
    DataFrame
        Columns ``bodypart, axis, pct, mean_diff, ci_low, ci_high, n`` (and ``unit`` when
        the cycles have one); ``n`` counts trials, or subjects when the table has a
        ``subject`` column (their trials averaged first); ``attrs["views"]``.
    """
    if not 0 < confidence < 1:
        raise AnalysisError(f"confidence must be between 0 and 1, not {confidence}")
    df, view_a, view_b, trials, pairs = _view_pairs(cycles, views, require_pairs=True)
    pairs["d"] = pairs["a"] - pairs["b"]
    g = pairs.groupby(["bodypart", "axis", "pct"], sort=False, observed=True)["d"]
    out = g.agg(mean_diff="mean", sd="std", n="count").reset_index()
    n = out["n"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        tcrit = np.where(n >= 2, sps.t.ppf(0.5 + confidence / 2, np.maximum(n - 1, 1)), np.nan)
        half = tcrit * out["sd"].to_numpy() / np.sqrt(n)
    out["ci_low"] = out["mean_diff"] - half
    out["ci_high"] = out["mean_diff"] + half
    out = _order_like(out, df).sort_values(["_bp", "_ax", "pct"], kind="stable")
    out = out.loc[:, list(DIFFERENCE_COLUMNS)].reset_index(drop=True)
    out["n"] = out["n"].astype(int)
    _add_unit(out, df)
    out.attrs["views"] = [view_a, view_b]
    out.attrs["confidence"] = confidence
    out.attrs["unit"] = "trial" if trials is None else "subject"
    return out


def _add_unit(out: pd.DataFrame, df: pd.DataFrame) -> None:
    """Append the ``unit`` of each body part and axis of ``df`` (when it has them) to ``out``."""
    if "unit" not in df.columns or out.empty:
        return
    units = df.drop_duplicates(["bodypart", "axis"]).set_index(["bodypart", "axis"])["unit"]
    keys = pd.MultiIndex.from_arrays([out["bodypart"], out["axis"]])
    out["unit"] = units.reindex(keys).astype(str).to_numpy()


def _order_like(out: pd.DataFrame, df: pd.DataFrame) -> pd.DataFrame:
    bp_order = {b: i for i, b in enumerate(_ordered_unique(df["bodypart"]))}
    ax_order = {a: i for i, a in enumerate(_ordered_unique(df["axis"]))}
    out = out.copy()
    out["_bp"] = out["bodypart"].map(bp_order)
    out["_ax"] = out["axis"].map(ax_order)
    return out


def compute_bland_altman_points(
    cycles: pd.DataFrame, *, views: Sequence[str] | None = None
) -> pd.DataFrame:
    """Per-trial Bland-Altman points: mean over the cycle of each view, their average and difference.

    Only trials whose curves are complete in both views for that body part/axis are used, so
    both means cover the same time points.

    Returns
    -------
    DataFrame
        Columns ``bodypart, axis, trial, mean_a, mean_b, average, diff`` (``diff = a - b``;
        ``trial`` holds the subject when the table has a ``subject`` column: one point per
        subject, its trials averaged per view); ``attrs["views"]``, ``attrs["unit"]``.
    """
    df, view_a, view_b, trials, pairs = _view_pairs(cycles, views, require_pairs=False)
    return _bland_altman_points(df, view_a, view_b, trials, pairs)


def _bland_altman_points(df: pd.DataFrame, view_a, view_b, trials, pairs: pd.DataFrame) -> pd.DataFrame:
    """:func:`compute_bland_altman_points` of what :func:`_view_pairs` gave."""
    n_pct = df.groupby(["bodypart", "axis"], sort=False, observed=True)["pct"].nunique().rename("n_pct_all")
    g = pairs.groupby(["bodypart", "axis", "trial"], sort=False, observed=True)
    per = g.agg(mean_a=("a", "mean"), mean_b=("b", "mean"), n_pct=("pct", "nunique")).reset_index()
    per = per.join(n_pct, on=["bodypart", "axis"])
    per = per[per["n_pct"] == per["n_pct_all"]]
    per["average"] = (per["mean_a"] + per["mean_b"]) / 2
    per["diff"] = per["mean_a"] - per["mean_b"]
    per = _order_like(per, df).sort_values(["_bp", "_ax"], kind="stable")
    out = per.loc[:, ["bodypart", "axis", "trial", "mean_a", "mean_b", "average", "diff"]]
    out = out.reset_index(drop=True)
    out.attrs["views"] = [view_a, view_b]
    out.attrs["unit"] = "trial" if trials is None else "subject"
    return out


def _icc(pairs: pd.DataFrame) -> float:
    """ICC(A,1) (two-way random effects, absolute agreement, single rater) over all curve points.

    The mean squares of the two-way ANOVA without replication (targets = rows of ``pairs``,
    raters = columns ``a`` and ``b``), as :func:`pingouin.intraclass_corr` computes its
    ``ICC(A,1)`` (checked against it in the tests) without its long-format ANOVA: pingouin
    took ~30 ms per body part and axis, and its import ~1 s when nothing else needed it.
    NaN for fewer than 3 points or constant ratings.
    """
    if len(pairs) < 3:
        return float("nan")
    x = np.column_stack([pairs["a"].to_numpy(float), pairs["b"].to_numpy(float)])
    if not np.ptp(x) > 0:
        return float("nan")
    n, k = x.shape
    grand = x.mean()
    rows, cols = x.mean(axis=1), x.mean(axis=0)
    ms_rows = k * np.sum((rows - grand) ** 2) / (n - 1)
    ms_cols = n * np.sum((cols - grand) ** 2) / (k - 1)
    ms_err = np.sum((x - rows[:, None] - cols[None, :] + grand) ** 2) / ((n - 1) * (k - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        return float((ms_rows - ms_err) / (ms_rows + (k - 1) * ms_err + k * (ms_cols - ms_err) / n))


def compute_agreement(
    cycles: pd.DataFrame, *, views: Sequence[str] | None = None
) -> pd.DataFrame:
    """Agreement between two views per body part and axis.

    * Bland-Altman on **per-trial means** (one independent pair per trial; the points of a
      curve are autocorrelated, so pooling them would make the limits look falsely precise):
      ``bias`` = mean of ``a - b``, ``sd_diff`` its SD (ddof 1), limits of agreement
      ``bias +- 1.96 sd_diff``.
    * ``rmse`` and ``mae`` of ``a - b`` over **all** paired curve points (trials x pct), in
      the units of ``value`` (px).
    * ``icc``: ``ICC(A,1)`` as :func:`pingouin.intraclass_corr` gives it (``ICC2`` in its old
      releases) = ICC(2,1) of Shrout & Fleiss (McGraw & Wong ICC(A,1):
      two-way random effects, absolute agreement, single measurement) with the two views as
      raters and every trial x pct point as a target. It measures agreement of the whole
      waveforms, so it is dominated by the variation over the cycle; bias and limits of
      agreement are the stricter measures. No CI is given (the points are not independent).

    Parameters
    ----------
    cycles
        Long cycles table.
    views
        ``(a, b)``; default the first two views in sorted order.

    Returns
    -------
    DataFrame
        Columns :data:`AGREEMENT_COLUMNS`, one row per body part and axis; ``n`` = trials
        with complete curves in both views. With a ``subject`` column the points are the
        subjects (their trials averaged per view), ``n`` counts them and ``n_subjects``,
        ``n_trials`` follow; a ``unit`` column of the cycles is carried over (the unit of
        ``bias`` to ``mae``).
    """
    df, view_a, view_b, trials, pairs = _view_pairs(cycles, views, require_pairs=True)
    # (the points of the pairs just made: validating and pairing the table again gives them)
    ba = _bland_altman_points(df, view_a, view_b, trials, pairs)
    rows = []
    n_trials = []
    for bp in _ordered_unique(df["bodypart"]):
        for ax in _ordered_unique(df["axis"]):
            p = pairs[(pairs["bodypart"] == bp) & (pairs["axis"] == ax)]
            t = ba[(ba["bodypart"] == bp) & (ba["axis"] == ax)]
            if p.empty and t.empty:
                continue
            d_all = (p["a"] - p["b"]).to_numpy(float)
            d = t["diff"].to_numpy(float)
            n = len(d)
            bias = float(np.mean(d)) if n else np.nan
            sd = float(np.std(d, ddof=1)) if n >= 2 else np.nan
            rows.append({
                "bodypart": bp, "axis": ax, "view_a": view_a, "view_b": view_b, "n": n,
                "bias": bias, "sd_diff": sd,
                "loa_low": bias - _BLAND_ALTMAN_Z * sd, "loa_high": bias + _BLAND_ALTMAN_Z * sd,
                "rmse": float(np.sqrt(np.mean(d_all**2))) if d_all.size else np.nan,
                "mae": float(np.mean(np.abs(d_all))) if d_all.size else np.nan,
                "icc": _icc(p), "icc_type": ICC_TYPE,
            })
            if trials is not None:
                n_trials.append(_trial_count(trials, bp, ax, t["trial"]))
    out = pd.DataFrame(rows, columns=list(AGREEMENT_COLUMNS))
    _add_unit(out, df)
    if trials is not None:
        out["n_subjects"] = out["n"]
        out["n_trials"] = n_trials
    out.attrs["views"] = [view_a, view_b]
    out.attrs["unit"] = "trial" if trials is None else "subject"
    return out
