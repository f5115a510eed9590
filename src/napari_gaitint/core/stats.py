"""Cohort statistics: repeated-measures ANOVA (time x perspective); agreement between views in
:mod:`.agreement`.

Input everywhere is a *long* cycles table with the columns ``trial, view, bodypart, axis,
pct, value``: one row per trial, camera view (perspective, e.g. ``"C1"``/``"C3"``), body part,
axis (``"x"``/``"y"``) and normalised time point ``pct`` (any number of levels, usually the
101 points 0-100 % of the gait cycle). Other columns (``side``, ``cycle``...) are ignored.
Several rows for the same cell (e.g. several cycles of one trial) are averaged first, so each
trial contributes one mean curve per view, as in the seed analysis.

Subjects
--------
A lab records several trials of each person. With a ``subject`` column (one subject per
trial), the trials of a subject are averaged per view (each trial with its mean curve,
whatever its number of cycles) and the *subject* is the repeated-measures unit of the ANOVA,
the agreement and the difference curves; ``n`` then counts subjects, and ``n_subjects`` and
``n_trials`` (the trials in those subjects) are added. Without the column each trial is its
own subject, as in the seed analysis (``attrs["unit"]`` says which: ``"trial"`` or
``"subject"``). An optional ``unit`` column (``px``, ``m``, ``deg``: one per body part and
axis) is carried into the agreement and difference-curve tables.

Missing cells
-------------
The ANOVA needs every trial in every view at every time point. For each body part and axis,
trials without a complete curve in all views (a view without cycles, NaN points) are dropped
for that body part/axis and *reported*: :func:`rm_anova` returns them in
``result.attrs["dropped_trials"]`` (trial ids; subject ids with a ``subject`` column) and
``result.attrs["dropped"]`` (one dict per trial, body part and axis with the reason), and
emits a :class:`UserWarning`. The column ``n`` gives the number of trials (subjects) used.

Statistics
----------
* :func:`rm_anova` - two-way repeated-measures ANOVA with within factors ``time`` (the pct
  levels) and ``perspective`` (the views), subject = trial (or the ``subject`` column), per
  body part and axis, with the formulas of :func:`pingouin.rm_anova` (vectorised, or pingouin
  itself); Greenhouse-Geisser epsilon and corrected p, partial eta squared; optional
  Holm/FDR correction across the body part/axis tests of each effect.
* :func:`compute_subject_means` - the trials of each subject averaged per view.
* :func:`greenhouse_geisser_epsilon` - an independent GG epsilon from the covariance of
  orthonormal contrasts (used to verify pingouin).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps

from ._frames import EXACT_FLOATS
from ._threads import single_thread_blas
from .config import CORRECTIONS, STATS_ENGINES, StatsConfig
from .errors import AnalysisError

logger = logging.getLogger(__name__)


#: Columns a cycles table must have.
REQUIRED_COLUMNS: tuple[str, ...] = ("trial", "view", "bodypart", "axis", "pct", "value")


#: Effects of the two-way RM ANOVA, in output order.
EFFECTS: tuple[str, ...] = ("time", "perspective", "time*perspective")


#: Columns of :func:`rm_anova` (``p_corr`` is appended when a correction is asked for).
ANOVA_COLUMNS: tuple[str, ...] = (
    "bodypart", "axis", "effect", "F", "ddof1", "ddof2", "p_unc", "p_gg", "eps", "np2", "n",
)


#: Optional columns of a cycles table that the statistics use: the subject of each trial
#: (the repeated-measures unit) and the unit of the values (``px``, ``m``, ``deg``).
OPTIONAL_COLUMNS: tuple[str, ...] = ("subject", "unit")


#: Columns added to the ANOVA and agreement tables when the cycles name subjects.
SUBJECT_COUNT_COLUMNS: tuple[str, ...] = ("n_subjects", "n_trials")


# input checking and reshaping
def validate_cycles_table(cycles: pd.DataFrame) -> pd.DataFrame:
    """Check a long cycles table and return it reduced to one mean value per cell.

    Parameters
    ----------
    cycles
        Long table with at least the columns ``trial, view, bodypart, axis, pct, value``.

    Returns
    -------
    DataFrame
        Columns ``trial, view, bodypart, axis, pct, value`` (and ``subject``, ``unit`` when
        the table has them filled in); rows with a missing value are dropped and duplicate
        cells (several cycles per trial and view) averaged.

    Raises
    ------
    AnalysisError
        If columns are missing (they are named), ``value``/``pct`` are not numeric, no
        finite value is left, a trial names two subjects, a subject is missing on some
        rows, or a body part and axis have values in two units.
    """
    if not isinstance(cycles, pd.DataFrame):
        raise AnalysisError(f"expected a pandas DataFrame of cycles, got {type(cycles).__name__}")
    missing = [c for c in REQUIRED_COLUMNS if c not in cycles.columns]
    if missing:
        raise AnalysisError(
            "the cycles table lacks the column(s) " + ", ".join(repr(c) for c in missing)
            + f"; it needs {', '.join(REQUIRED_COLUMNS)} (found: {', '.join(map(str, cycles.columns))})"
        )
    if "side" in cycles.columns and len(cycles) and _may_have_several(cycles, "side", ["trial", "view"]):
        n_sides = cycles.groupby(["trial", "view"], sort=False, observed=True)["side"].nunique()
        if (n_sides > 1).any():
            warnings.warn(
                "some trial/view pairs have cycles of several sides; they are averaged together "
                "(filter the table to the camera-facing side first if that is not intended)",
                UserWarning, stacklevel=2,
            )
    numeric = {}
    for col in ("value", "pct"):
        try:
            numeric[col] = pd.to_numeric(cycles[col])
        except (TypeError, ValueError) as err:
            raise AnalysisError(f"column {col!r} of the cycles table must be numeric ({err})") from err
    finite = np.isfinite(numeric["value"].to_numpy(dtype=float))
    # time levels written by different tools may differ in the last bits (0.1 * 3 vs 0.3)
    numeric["pct"] = numeric["pct"].astype(float).round(6)
    # (a column left empty everywhere, e.g. a CSV's empty subject column, is no column)
    extra = [c for c in OPTIONAL_COLUMNS if c in cycles.columns and cycles[c].notna().any()]
    # one copy of the rows kept, column by column (a cohort's table has millions of rows)
    df = pd.DataFrame({c: (numeric[c] if c in numeric else cycles[c])[finite] for c in (*REQUIRED_COLUMNS, *extra)},
                      copy=False)
    if df.empty:
        raise AnalysisError("the cycles table has no finite values")
    for col in ("trial", "view", "bodypart", "axis", *extra):
        if df[col].isna().any():
            raise AnalysisError(f"column {col!r} of the cycles table has empty entries")
    if extra:
        _check_one_per(df, "subject", ["trial"], "trial")
        _check_one_per(df, "unit", ["bodypart", "axis"], "body part and axis")
    keys = ["trial", "view", "bodypart", "axis", "pct"]
    if not _may_have_several(df, None, keys) or not df.duplicated(keys).any():
        return df.reset_index(drop=True)
    # (subject and unit follow from the trial and the body part and axis)
    out = df.groupby([*keys, *extra], sort=False, observed=True)["value"].mean().reset_index()
    return out[[*REQUIRED_COLUMNS, *extra]] if extra else out


def _check_one_per(df: pd.DataFrame, col: str, by: list[str], what: str) -> None:
    """Raise when a ``by`` group of ``df`` has several values of ``col`` (if it has ``col``)."""
    if col not in df.columns or not _may_have_several(df, col, by):
        return
    counts = df.groupby(by, sort=False, observed=True)[col].nunique()
    if (counts > 1).any():
        key = counts.index[counts > 1][0]
        key = key if isinstance(key, tuple) else (key,)
        sel = np.logical_and.reduce([df[b].eq(k).to_numpy() for b, k in zip(by, key, strict=True)])
        found = ", ".join(repr(str(v)) for v in pd.unique(df.loc[sel, col]))
        raise AnalysisError(f"the cycles table gives {what} {' '.join(map(str, key))} several {col}s ({found}); "
                            f"one {col} per {what}")


def _may_have_several(df: pd.DataFrame, col: str | None, by: list[str]) -> bool:
    """False when no group of ``by`` has two rows (``col`` None) or two distinct values of
    ``col`` (missing values and rows with a missing ``by`` left out, as pandas' ``nunique``
    of a groupby counts); True when it may (the pandas check then decides).

    Integer codes of the columns' values (a categorical's own codes, or
    :func:`pandas.factorize` of a numeric column) combined into one number per row: a few
    numpy passes instead of a groupby on a cohort's ~200 000 rows, run by every statistic.
    Text or other columns, or too many combinations for an int64, give True.
    """
    key = np.zeros(len(df), dtype=np.int64)
    ok = np.ones(len(df), dtype=bool)
    size = n = 1
    for c in by if col is None else [*by, col]:
        codes, n = _codes(df[c])
        if codes is None or size * n >= 2**62:
            return True
        if col is not None:  # (the groupby leaves out missing keys; nunique, missing values)
            ok &= codes > 0
        key = key * n + codes
        size *= n
    if col is not None:
        key = key[ok]
    if size <= max(4 * key.size, 1 << 20):  # a count per combination: no hashing
        counts = np.bincount(key, minlength=size)
        if col is None:
            return bool((counts > 1).any())
        # (n: the codes of col, the last column)
        return bool(((counts.reshape(-1, n) > 0).sum(axis=1) > 1).any())
    if col is None:
        return pd.unique(key).size < key.size
    groups = pd.unique(key) // n  # the groups of the distinct (group, value) pairs
    return pd.unique(groups).size < groups.size


def _codes(column: pd.Series) -> tuple[np.ndarray | None, int]:
    """Integer codes of a categorical or numeric column, 0 for a missing value and 1.. for
    the values (equal codes for equal values), and the number of codes; None for others."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.array.codes.astype(np.int64) + 1, len(column.array.categories) + 1
    if isinstance(column.dtype, np.dtype) and column.dtype.kind in "iuf":
        codes, uniques = pd.factorize(column.to_numpy())
        return codes.astype(np.int64) + 1, len(uniques) + 1
    return None, 0


def compute_subject_means(cycles: pd.DataFrame) -> pd.DataFrame:
    """The trials of each subject averaged per view: the repeated-measures units.

    Parameters
    ----------
    cycles
        Long cycles table with a ``subject`` column (one subject per trial); several cycles
        of a trial are averaged first (:func:`validate_cycles_table`), so every trial counts
        once whatever its number of cycles.

    Returns
    -------
    DataFrame
        Columns ``subject, view, bodypart, axis, pct, value, n_trials`` (the trials averaged
        at that point; and ``unit`` when the table has it). Without a ``subject`` column each
        trial is its own subject (``n_trials`` 1).

    Examples
    --------
    >>> t = pd.DataFrame({"subject": ["S1"] * 4, "trial": ["T1", "T1", "T2", "T2"],
    ...                   "view": ["C1", "C3"] * 2, "bodypart": "knee", "axis": "y", "pct": 0.0,
    ...                   "value": [10.0, 12.0, 20.0, 16.0]})
    >>> compute_subject_means(t)[["subject", "view", "value", "n_trials"]].to_numpy().tolist()
    [['S1', 'C1', 15.0, 2], ['S1', 'C3', 14.0, 2]]
    """
    df = validate_cycles_table(cycles)
    if "subject" not in df.columns:
        out = df.rename(columns={"trial": "subject"})
        out["n_trials"] = 1
        return out
    extra = ["unit"] if "unit" in df.columns else []
    g = df.groupby(["subject", "view", "bodypart", "axis", "pct", *extra], sort=False, observed=True)["value"]
    out = g.agg(value="mean", n_trials="count").reset_index()
    return out[["subject", "view", "bodypart", "axis", "pct", "value", "n_trials", *extra]]


def _units(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """A validated table by repeated-measures unit, with the unit in the ``trial`` column
    (the statistics below are written for trials), and the trials of each subject (columns
    ``subject, trial, bodypart, axis``; None when each trial is its own subject)."""
    if "subject" not in df.columns:
        return df, None
    trials = df[["subject", "trial", "bodypart", "axis"]].drop_duplicates()
    means = compute_subject_means(df).drop(columns="n_trials").rename(columns={"subject": "trial"})
    return means, trials


def _trial_count(trials: pd.DataFrame, bodypart, axis, subjects) -> int:
    """The trials of ``subjects`` with data for ``bodypart``/``axis``."""
    sel = trials["bodypart"].eq(bodypart) & trials["axis"].eq(axis) & trials["subject"].isin(list(subjects))
    return int(trials.loc[sel, "trial"].nunique())


def _ordered_unique(values: pd.Series) -> list:
    return list(pd.unique(values))


def _resolve_views(df: pd.DataFrame, views: Sequence[str] | None, *, min_views: int = 2) -> list:
    present = sorted(_ordered_unique(df["view"]), key=str)
    if views is None:
        views = present
    else:
        views = list(views)
        unknown = [v for v in views if v not in present]
        if unknown:
            raise AnalysisError(
                f"view(s) {', '.join(map(repr, unknown))} not in the cycles table "
                f"(views present: {', '.join(map(repr, present))})"
            )
        if len(set(views)) != len(views):
            raise AnalysisError(f"views must be distinct, got {views}")
    if len(views) < min_views:
        raise AnalysisError(
            f"the cycles table has {len(views)} view(s) ({', '.join(map(repr, views))}); the "
            f"perspective comparison needs at least {min_views} (e.g. C1 and C3)"
        )
    return list(views)


def _select(values: pd.Series, wanted: Sequence[str] | None, what: str) -> list:
    present = _ordered_unique(values)
    if wanted is None:
        return present
    unknown = [w for w in wanted if w not in present]
    if unknown:
        raise AnalysisError(
            f"{what}(s) {', '.join(map(repr, unknown))} not in the cycles table "
            f"(present: {', '.join(map(repr, present))})"
        )
    return list(wanted)


def _cube(sub: pd.DataFrame, views: Sequence[str]) -> tuple[np.ndarray, list, np.ndarray, list[dict]]:
    """One body part/axis as a ``(n_trials, n_views, n_pct)`` array of complete trials.

    Returns the array, the trial ids kept, the pct levels and the dropped trials (dicts).
    """
    # ``sub`` has one row per cell (validate_cycles_table averaged duplicates)
    ti, trials = pd.factorize(sub["trial"], sort=False)
    trials = list(trials)
    pct = np.sort(sub["pct"].unique())
    pi = np.searchsorted(pct, sub["pct"].to_numpy())
    view_index = {v: i for i, v in enumerate(views)}
    vi = np.asarray(sub["view"].map(view_index), dtype=float)  # (categorical or not)
    ok_rows = ~np.isnan(vi)
    arr = np.full((len(trials), len(views), len(pct)), np.nan)
    arr[ti[ok_rows], vi[ok_rows].astype(int), pi[ok_rows]] = sub["value"].to_numpy(dtype=float)[ok_rows]
    dropped = []
    keep = []
    for i, trial in enumerate(trials):
        ok = np.isfinite(arr[i])
        if ok.all():
            keep.append(i)
            continue
        absent = [str(v) for j, v in enumerate(views) if not ok[j].any()]
        if absent:
            reason = f"no data in view(s) {', '.join(absent)}"
        else:
            reason = f"incomplete curve ({int((~ok).sum())} of {ok.size} view/pct points missing)"
        dropped.append({"trial": trial, "reason": reason})
    return arr[keep], [trials[i] for i in keep], pct, dropped


def orthonormal_contrasts(k: int) -> np.ndarray:
    """``(k-1, k)`` orthonormal contrasts (normalised Helmert): rows orthogonal to 1 and to each other.

    Example
    -------
    >>> c = orthonormal_contrasts(3)
    >>> np.allclose(c @ c.T, np.eye(2)), np.allclose(c.sum(axis=1), 0)
    (True, True)
    """
    if k < 2:
        raise ValueError("contrasts need at least 2 levels")
    c = np.zeros((k - 1, k))
    for i in range(1, k):
        c[i - 1, :i] = 1.0
        c[i - 1, i] = -float(i)
        c[i - 1] /= np.linalg.norm(c[i - 1])
    return c


def greenhouse_geisser_epsilon(data: np.ndarray, *, effect: str = "a") -> float:
    """Greenhouse-Geisser epsilon from the covariance of orthonormalised contrasts.

    Parameters
    ----------
    data
        ``(n_subjects, k)`` for a one-way design, or ``(n_subjects, a, b)`` for two within
        factors.
    effect
        For 3-D data: ``"a"`` (first factor, averaged over the second), ``"b"``, or
        ``"ab"`` (the interaction, contrasts ``C_a (x) C_b`` on the full cells).

    Returns
    -------
    float
        ``tr(S)^2 / ((k-1) tr(S^2))`` with ``S = C Sigma C'``, between ``1/(k-1)`` and 1
        (1 for a factor with 2 levels). NaN if the data have no variance.
    """
    x = np.asarray(data, dtype=float)
    if x.ndim == 2:
        flat, c = x, orthonormal_contrasts(x.shape[1])
    elif x.ndim == 3:
        n, a, b = x.shape
        if effect == "a":
            flat, c = x.mean(axis=2), orthonormal_contrasts(a)
        elif effect == "b":
            flat, c = x.mean(axis=1), orthonormal_contrasts(b)
        elif effect == "ab":
            flat, c = x.reshape(n, a * b), np.kron(orthonormal_contrasts(a), orthonormal_contrasts(b))
        else:
            raise ValueError(f"effect must be 'a', 'b' or 'ab', not {effect!r}")
    else:
        raise ValueError("data must be (n_subjects, k) or (n_subjects, a, b)")
    if c.shape[0] == 1:
        return 1.0
    # S = C Sigma C' = Y'Y / (n-1) with Y the centred data projected on the contrasts;
    # tr(S) = |Y|^2/(n-1) and tr(S^2) = |Y Y'|_F^2/(n-1)^2 (the small n x n Gram matrix).
    y = (flat - flat.mean(axis=0)) @ c.T
    gram = y @ y.T
    tr = np.trace(gram)
    tr2 = np.sum(gram * gram)
    if not np.isfinite(tr) or tr2 <= 0:
        return float("nan")
    return float(tr**2 / (c.shape[0] * tr2))


# repeated-measures ANOVA
def _nan_rows(bodypart, axis, n) -> list[dict]:
    return [
        {"bodypart": bodypart, "axis": axis, "effect": eff, "F": np.nan, "ddof1": np.nan,
         "ddof2": np.nan, "p_unc": np.nan, "p_gg": np.nan, "eps": np.nan, "np2": np.nan, "n": n}
        for eff in EFFECTS
    ]


def _pingouin_rm_anova(cube: np.ndarray) -> pd.DataFrame:
    """Run pingouin's two-way RM ANOVA on a ``(n, views, pct)`` cube; rows time, perspective, interaction."""
    import pingouin as pg

    n, v, t = cube.shape
    long = pd.DataFrame(
        {
            "subject": np.repeat(np.arange(n), v * t),
            "perspective": np.tile(np.repeat(np.arange(v), t), n),
            "time": np.tile(np.arange(t), n * v),
            "value": cube.reshape(-1),
        }
    )
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        aov = pg.rm_anova(
            data=long, dv="value", within=["time", "perspective"], subject="subject",
            detailed=True, effsize="np2", correction=True,
        )
    # pingouin 0.7 names: Source, SS, ddof1, ddof2, MS, F, p_unc, p_GG_corr, np2, eps, ...
    # (older releases: "p-unc", "p-GG-corr"); map both.
    aov = aov.rename(columns={"p-unc": "p_unc", "p-GG-corr": "p_GG_corr"})
    source_to_effect = {"time": "time", "perspective": "perspective",
                        "time * perspective": "time*perspective"}
    aov["effect"] = aov["Source"].map(source_to_effect)
    aov = aov.dropna(subset=["effect"]).set_index("effect").reindex(list(EFFECTS))
    return aov


def _numpy_rm_anova(cube: np.ndarray) -> pd.DataFrame:
    """The same two-way RM ANOVA as :func:`_pingouin_rm_anova`, vectorised with numpy.

    Sums of squares from the cell/marginal means of the ``(n, views, pct)`` cube, GG epsilon
    from :func:`greenhouse_geisser_epsilon`. About 100x faster than pingouin on 101 time
    points; the tests check that both agree to 1e-9, the calibration benchmark uses it.
    """
    x = np.transpose(np.asarray(cube, dtype=float), (0, 2, 1))  # (n, time=A, perspective=B)
    n, a, b = x.shape
    m = x.mean()
    ms, ma, mb = x.mean(axis=(1, 2)), x.mean(axis=(0, 2)), x.mean(axis=(0, 1))
    mab, mas, mbs = x.mean(axis=0), x.mean(axis=2), x.mean(axis=1)
    ss_a = b * n * np.sum((ma - m) ** 2)
    ss_b = a * n * np.sum((mb - m) ** 2)
    ss_ab = n * np.sum((mab - ma[:, None] - mb[None, :] + m) ** 2)
    ss_as = b * np.sum((mas - ms[:, None] - ma[None, :] + m) ** 2)
    ss_bs = a * np.sum((mbs - ms[:, None] - mb[None, :] + m) ** 2)
    resid = (x - mab[None] - mas[:, :, None] - mbs[:, None, :] + ma[None, :, None]
             + mb[None, None, :] + ms[:, None, None] - m)
    ss_abs = np.sum(resid**2)
    ss = np.array([ss_a, ss_b, ss_ab])
    err = np.array([ss_as, ss_bs, ss_abs])
    df1 = np.array([a - 1, b - 1, (a - 1) * (b - 1)], dtype=float)
    df2 = df1 * (n - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        fval = (ss / df1) / (err / df2)
        np2 = ss / (ss + err)
    eps = np.array([greenhouse_geisser_epsilon(x, effect=e) for e in ("a", "b", "ab")])
    f = sps.f
    return pd.DataFrame(
        {"F": fval, "ddof1": df1, "ddof2": df2, "p_unc": f.sf(fval, df1, df2),
         "p_GG_corr": f.sf(fval, df1 * eps, df2 * eps), "np2": np2, "eps": eps},
        index=pd.Index(list(EFFECTS), name="effect"),
    )


def _engine(name: str):
    """The RM-ANOVA function of engine ``name`` (one of :data:`~napari_gaitint.core.config.STATS_ENGINES`,
    the one list of engines): ``_<name>_rm_anova`` of this module."""
    if name not in STATS_ENGINES:
        raise AnalysisError(f"engine must be one of {', '.join(STATS_ENGINES)}, not {name!r}")
    return globals()[f"_{name}_rm_anova"]


def rm_anova(
    cycles: pd.DataFrame,
    *,
    correction: str | None = None,
    bodyparts: Sequence[str] | None = None,
    axes: Sequence[str] | None = None,
    views: Sequence[str] | None = None,
    engine: str = StatsConfig.engine,
) -> pd.DataFrame:
    """Two-way repeated-measures ANOVA (time x perspective) per body part and axis.

    Within factors: ``time`` (the ``pct`` levels) and ``perspective`` (the views); subject =
    trial, or the ``subject`` column when the table has one (its trials averaged per view
    first: :func:`compute_subject_means`). The default engine is the formulas of :func:`pingouin.rm_anova` vectorised over
    body parts (same F, p, GG epsilon and partial eta squared to ~1e-10, checked against
    pingouin and statsmodels ``AnovaRM`` in the tests); ``engine="pingouin"`` calls pingouin
    itself (about 65x slower with 101 time levels).

    Parameters
    ----------
    cycles
        Long table ``trial, view, bodypart, axis, pct, value`` (optional ``subject``; see
        the module docstring).
    correction
        ``None``, ``"holm"``, ``"fdr_bh"`` (or ``"bonf"``): adds ``p_corr``, the
        Greenhouse-Geisser p (``p_gg``) corrected across the body part/axis tests, separately
        for each effect (e.g. the 12 perspective tests of 6 body parts x 2 axes).
    bodyparts, axes
        Restrict to these (default: all in the table, in order of appearance).
    views
        The views to compare (default: all, sorted).
    engine
        ``"numpy"`` (default, vectorised) or ``"pingouin"`` (:func:`pingouin.rm_anova` per
        body part and axis); verified equal in the tests.

    Returns
    -------
    DataFrame
        Columns :data:`ANOVA_COLUMNS` (+ ``p_corr``): ``F``, ``ddof1``/``ddof2`` (uncorrected
        degrees of freedom), ``p_unc``, ``p_gg`` (Greenhouse-Geisser corrected), ``eps``
        (GG epsilon; 1 for a 2-level perspective factor), ``np2`` (partial eta squared
        ``SS_effect / (SS_effect + SS_error)``), ``n`` (trials used; subjects with a
        ``subject`` column, then ``n_subjects`` and ``n_trials`` follow at the end). ``attrs``
        holds ``dropped_trials`` (list of ids: subjects with a ``subject`` column),
        ``dropped`` (list of dicts trial/bodypart/axis/reason), ``views``, ``correction``,
        ``engine``, ``unit`` (``"trial"`` or ``"subject"``) and ``n_trials``.

    Raises
    ------
    AnalysisError
        Missing columns, a single view, a single trial or time point, or no body part/axis
        with variance.

    Example
    -------
    >>> aov = rm_anova(cycles, correction="holm")  # doctest: +SKIP
    >>> aov.query("effect == 'perspective'")[["bodypart", "axis", "F", "p_gg", "p_corr"]]  # doctest: +SKIP
    """
    if correction is not None and correction not in CORRECTIONS:
        raise AnalysisError(f"correction must be one of {', '.join(CORRECTIONS)} or None, not {correction!r}")
    run_engine = _engine(engine)
    df = validate_cycles_table(cycles)
    views = _resolve_views(df, views)
    df = df[df["view"].isin(views)]
    df, trials = _units(df)
    unit = "trial" if trials is None else "subject"
    n_units_total = df["trial"].nunique()
    if n_units_total < 2:
        raise AnalysisError(
            f"the cycles table has {n_units_total} {unit}"
            + "".join(f" ({t})" for t in pd.unique(df["trial"])[:1])
            + "; a repeated-measures ANOVA needs at "
            + ("least 2 trials (subjects) with data in every view" if trials is None
               else "least 2 subjects with data in every view")
        )
    if df["pct"].nunique() < 2:
        raise AnalysisError("the cycles table has a single time point (pct); the time factor needs at least 2")
    bparts = _select(df["bodypart"], bodyparts, "body part")
    axs = _select(df["axis"], axes, "axis")

    rows: list[dict] = []
    dropped: list[dict] = []
    problems: list[str] = []
    n_trials: list[int] = []  # per row, with subjects: the trials in the subjects used
    n_ok = 0
    # small products: one BLAS thread is much faster (limited once: entering the limit costs
    # ~2 ms, more than a body part's ANOVA)
    with single_thread_blas():
        for bp in bparts:
            for ax in axs:
                sub = df[(df["bodypart"] == bp) & (df["axis"] == ax)]
                if sub.empty and bodyparts is None and axes is None:
                    continue  # a pair the table does not have (a joint's angle has no x, y)
                if sub.empty:
                    problems.append(f"{bp}/{ax}: no data")
                    rows.extend(_nan_rows(bp, ax, 0))
                    n_trials += [0] * len(EFFECTS)
                    continue
                cube, kept, pct, drops = _cube(sub, views)
                if trials is not None:
                    n_trials += [_trial_count(trials, bp, ax, kept)] * len(EFFECTS)
                dropped.extend({"trial": d["trial"], "bodypart": bp, "axis": ax, "reason": d["reason"]}
                               for d in drops)
                n = len(kept)
                if n < 2:
                    problems.append(f"{bp}/{ax}: {n} complete {unit}(s), need 2")
                    rows.extend(_nan_rows(bp, ax, n))
                    continue
                if len(pct) < 2:
                    problems.append(f"{bp}/{ax}: a single time point")
                    rows.extend(_nan_rows(bp, ax, n))
                    continue
                if not np.ptp(cube) > 0:
                    problems.append(f"{bp}/{ax}: constant data (zero variance)")
                    rows.extend(_nan_rows(bp, ax, n))
                    continue
                aov = run_engine(cube)
                for eff in EFFECTS:
                    r = aov.loc[eff]
                    rows.append({
                        "bodypart": bp, "axis": ax, "effect": eff, "F": float(r["F"]),
                        "ddof1": float(r["ddof1"]), "ddof2": float(r["ddof2"]),
                        "p_unc": float(r["p_unc"]), "p_gg": float(r["p_GG_corr"]),
                        "eps": float(r["eps"]), "np2": float(r["np2"]), "n": n,
                    })
                n_ok += 1

    if n_ok == 0:
        detail = "; ".join(problems)
        if all("zero variance" in p for p in problems):
            raise AnalysisError(
                f"all values are constant (zero variance) in every body part and axis "
                f"({len(problems)} tested): nothing to test"
            )
        raise AnalysisError(
            "no body part/axis can be tested; each needs at least 2 trials with complete "
            f"curves in every view ({detail})"
        )
    if problems:
        msg = "rm_anova: rows set to NaN for " + "; ".join(problems)
        warnings.warn(msg, UserWarning, stacklevel=2)
        logger.info(msg)

    out = pd.DataFrame(rows, columns=list(ANOVA_COLUMNS))
    out["n"] = out["n"].astype(int)
    if correction is not None:
        out["p_corr"] = np.nan
        for eff in EFFECTS:
            sel = (out["effect"] == eff).to_numpy()
            out.loc[sel, "p_corr"] = correct_pvalues(out.loc[sel, "p_gg"].to_numpy(), method=correction)
    if trials is not None:
        out["n_subjects"] = out["n"]
        out["n_trials"] = n_trials

    dropped_trials = list(pd.unique(pd.Series([d["trial"] for d in dropped], dtype=object)))
    if dropped:
        msg = (
            f"rm_anova: dropped {len(dropped_trials)} {unit}(s) without complete data in all views "
            f"({', '.join(map(str, dropped_trials))}) for at least one body part/axis"
        )
        warnings.warn(msg, UserWarning, stacklevel=2)
        logger.info(msg)
    out.attrs["dropped_trials"] = dropped_trials
    out.attrs["dropped"] = dropped
    out.attrs["views"] = list(views)
    out.attrs["correction"] = correction
    out.attrs["engine"] = engine
    out.attrs["unit"] = unit
    out.attrs["n_trials"] = int(df["trial"].nunique() if trials is None else trials["trial"].nunique())
    return out


def correct_pvalues(pvals: np.ndarray, *, method: str = "holm") -> np.ndarray:
    """Multiple-comparison correction with :func:`pingouin.multicomp`; NaNs are left out and kept."""
    import pingouin as pg

    p = np.asarray(pvals, dtype=float)
    out = np.full_like(p, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        _, corrected = pg.multicomp(p[ok], method=method)
        out[ok] = corrected
    return out


def format_dropped(anova: pd.DataFrame) -> str:
    """A human-readable summary of ``anova.attrs["dropped"]`` (empty string when nothing was dropped)."""
    dropped = anova.attrs.get("dropped") or []
    if not dropped:
        return ""
    by_trial: dict = {}
    for d in dropped:
        by_trial.setdefault(d["trial"], set()).add(d["reason"])
    unit = anova.attrs.get("unit", "trial")
    lines = [f"  {unit} {t}: {'; '.join(sorted(r))}" for t, r in by_trial.items()]
    return f"dropped {len(by_trial)} {unit}(s) without complete data in all views:\n" + "\n".join(lines)


# optional: whole-curve statistics with spm1d
def spm_available() -> bool:
    """True if the optional ``spm1d`` package (``pip install napari-gaitint[spm]``) is importable."""
    try:
        import spm1d  # noqa: F401
    except ImportError:
        return False
    return True


def spm_rm_anova(
    cycles: pd.DataFrame,
    *,
    views: Sequence[str] | None = None,
    alpha: float = 0.05,
    bodyparts: Sequence[str] | None = None,
    axes: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Whole-curve perspective effect with spm1d (optional ``[spm]`` extra).

    For each body part and axis, a one-way repeated-measures SPM ANOVA over the cycle with
    factor perspective (subject = trial), via ``spm1d.stats.anova1rm``: time is the 1-D
    continuum of the SPM, so this is the whole-curve counterpart of the time x perspective
    design (a perspective effect anywhere in the cycle, with random field theory
    thresholds). For two views it equals the SPM paired t-test squared. Returns one row per body part/axis with the critical
    threshold, the maximum F over the cycle, whether it crosses the threshold, and the
    crossing clusters (pct start-end).

    Raises
    ------
    AnalysisError
        If spm1d is not installed (install ``napari-gaitint[spm]``).
    """
    try:
        import spm1d
    except ImportError as err:
        raise AnalysisError("whole-curve statistics need spm1d: pip install 'napari-gaitint[spm]'") from err
    df = validate_cycles_table(cycles)
    views = _resolve_views(df, views)
    df, _ = _units(df[df["view"].isin(views)])
    rows = []
    for bp in _select(df["bodypart"], bodyparts, "body part"):
        for ax in _select(df["axis"], axes, "axis"):
            sub = df[(df["bodypart"] == bp) & (df["axis"] == ax)]
            if sub.empty and bodyparts is None and axes is None:
                continue  # a pair the table does not have (a joint's angle has no x, y)
            cube, kept, pct, _ = _cube(sub, views)
            n = len(kept)
            row = {"bodypart": bp, "axis": ax, "n": n, "F_max": np.nan, "F_crit": np.nan,
                   "significant": False, "clusters": ""}
            if n >= 2 and np.ptp(cube) > 0:
                y = cube.reshape(n * len(views), len(pct))
                a = np.tile(np.arange(len(views)), n)
                s = np.repeat(np.arange(n), len(views))
                fi = spm1d.stats.anova1rm(y, a, s).inference(alpha)
                row["F_max"] = float(np.nanmax(fi.z))
                row["F_crit"] = float(fi.zstar)
                row["significant"] = bool(fi.h0reject)
                last = len(pct) - 1

                def _at(node: float, last=last, pct=pct) -> float:
                    return float(pct[int(np.clip(round(node), 0, last))])

                row["clusters"] = "; ".join(
                    f"{_at(c.endpoints[0]):g}-{_at(c.endpoints[1]):g}" for c in fi.clusters
                )
            rows.append(row)
    return pd.DataFrame(rows)


# files
def load_cycles_table(path) -> pd.DataFrame:
    """Read a long cycles table (``.csv``, or ``.h5`` with one DataFrame) and check its columns.

    Raises
    ------
    InputFileError
        If the file cannot be read or lacks required columns (they are named).
    """
    from pathlib import Path

    from .errors import InputFileError

    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, "file not found; give a cycles table (CSV with columns "
                             + ", ".join(REQUIRED_COLUMNS) + ")")
    try:
        if path.suffix.lower() in (".h5", ".hdf5", ".hdf"):
            df = pd.read_hdf(path)
        else:
            df = pd.read_csv(path, **EXACT_FLOATS)
    except Exception as err:  # noqa: BLE001 - any reader failure is a problem with the file
        raise InputFileError(path, f"cannot be read as a table ({err})") from err
    try:
        validate_cycles_table(df)
    except AnalysisError as err:
        raise InputFileError(path, str(err)) from err
    return df
