"""Tests of napari_gaitint.core.stats: RM ANOVA verified against statsmodels, an independent
Greenhouse-Geisser epsilon and a published textbook example; agreement measures against
independent computations."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import stats as sps

from napari_gaitint.core import stats
from napari_gaitint.core.agreement import (
    AGREEMENT_COLUMNS,
    DIFFERENCE_COLUMNS,
    _icc,
    compute_agreement,
    compute_bland_altman_points,
    compute_difference_curves,
)
from napari_gaitint.core.errors import AnalysisError

RTOL = 1e-6


# ---------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------
def cube_to_long(cube, *, views=None, pct=None, bodypart="knee", axis="y", trials=None):
    """(n_trials, n_views, n_pct) -> long cycles table."""
    n, v, t = cube.shape
    views = views or [f"C{i + 1}" for i in range(v)]
    pct = np.linspace(0, 100, t) if pct is None else np.asarray(pct)
    trials = trials or [f"T{i:02d}" for i in range(n)]
    return pd.DataFrame({
        "trial": np.repeat(trials, v * t),
        "view": np.tile(np.repeat(views, t), n),
        "bodypart": bodypart,
        "axis": axis,
        "pct": np.tile(pct, n * v),
        "value": np.asarray(cube, float).reshape(-1),
    })


def random_cube(seed, n, v, t, *, bias=0.0):
    """Curves with a subject random effect, a non-spherical (AR-like) time covariance and noise."""
    rng = np.random.default_rng(seed)
    pct = np.linspace(0, 1, t)
    mean = 10 * np.sin(2 * np.pi * pct)
    # correlated subject-specific curve deviations -> non-spherical covariance
    cov = 4.0 * np.exp(-np.abs(pct[:, None] - pct[None, :]) / 0.3)
    subj_curve = rng.multivariate_normal(np.zeros(t), cov, size=n)
    subj = rng.normal(0, 3, size=(n, 1, 1))
    view_off = np.arange(v)[None, :, None] * bias
    noise = rng.normal(0, 1.0, size=(n, v, t)) * (1 + np.arange(t) / t)[None, None, :]
    return mean[None, None, :] + subj_curve[:, None, :] + subj + view_off + noise


def multi_long(seed, n=6, t=11, bodyparts=("hip", "knee"), axes=("x", "y")):
    parts = []
    for i, bp in enumerate(bodyparts):
        for j, ax in enumerate(axes):
            parts.append(cube_to_long(random_cube(seed + 10 * i + j, n, 2, t), bodypart=bp, axis=ax))
    return pd.concat(parts, ignore_index=True)


def quiet_rm_anova(df, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return stats.rm_anova(df, **kw)


# ---------------------------------------------------------------------------------------
# ANOVA vs statsmodels, numpy engine, GG epsilon, textbook
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("seed", "n", "v", "t"), [(0, 6, 2, 5), (1, 8, 3, 4), (2, 5, 2, 7), (3, 10, 2, 3), (4, 7, 4, 6)])
def test_f_and_p_match_statsmodels_anovarm(seed, n, v, t):
    from statsmodels.stats.anova import AnovaRM

    cube = random_cube(seed, n, v, t, bias=0.3)
    df = cube_to_long(cube)
    aov = stats.rm_anova(df).set_index("effect")
    ref = AnovaRM(df, depvar="value", subject="trial", within=["pct", "view"]).fit().anova_table
    names = {"time": "pct", "perspective": "view", "time*perspective": "pct:view"}
    for eff, name in names.items():
        assert_allclose(aov.loc[eff, "F"], ref.loc[name, "F Value"], rtol=RTOL)
        assert_allclose(aov.loc[eff, "p_unc"], ref.loc[name, "Pr > F"], rtol=RTOL)
        assert aov.loc[eff, "ddof1"] == ref.loc[name, "Num DF"]
        assert aov.loc[eff, "ddof2"] == ref.loc[name, "Den DF"]
        # partial eta squared from statsmodels' F: np2 = F df1 / (F df1 + df2)
        f, d1, d2 = ref.loc[name, "F Value"], ref.loc[name, "Num DF"], ref.loc[name, "Den DF"]
        assert_allclose(aov.loc[eff, "np2"], f * d1 / (f * d1 + d2), rtol=RTOL)
    assert (aov["n"] == n).all()
    assert list(stats.rm_anova(df).columns) == list(stats.ANOVA_COLUMNS)


def test_numpy_engine_matches_pingouin_on_101_points():
    df = cube_to_long(random_cube(7, 9, 2, 101, bias=0.5))
    a = stats.rm_anova(df, engine="pingouin")
    b = stats.rm_anova(df, engine="numpy")
    cols = ["F", "ddof1", "ddof2", "p_unc", "p_gg", "eps", "np2"]
    assert_allclose(b[cols].to_numpy(), a[cols].to_numpy(), rtol=1e-9, atol=1e-300)


def _box_epsilon(x):
    """Greenhouse-Geisser (Box 1954) epsilon from the double-centred covariance matrix.

    Independent of contrasts: eps = k^2 (mean(diag S) - mean(S))^2 /
    ((k-1) (sum S_ij^2 - 2k sum_i mean_j(S_ij)^2 + k^2 mean(S)^2)).
    """
    s = np.cov(x, rowvar=False)
    k = s.shape[0]
    num = k**2 * (np.mean(np.diag(s)) - s.mean()) ** 2
    den = (k - 1) * (np.sum(s**2) - 2 * k * np.sum(s.mean(axis=1) ** 2) + k**2 * s.mean() ** 2)
    return num / den


def _random_basis_epsilon(x, rng):
    """GG epsilon with a *random* orthonormal basis of the contrasts (epsilon is basis-free)."""
    k = x.shape[1]
    q, _ = np.linalg.qr(np.column_stack([np.ones(k), rng.normal(size=(k, k - 1))]))
    c = q[:, 1:].T
    s = c @ np.cov(x, rowvar=False) @ c.T
    return np.trace(s) ** 2 / ((k - 1) * np.trace(s @ s))


@pytest.mark.parametrize(("seed", "n", "v", "t"), [(11, 12, 3, 6), (12, 9, 2, 8), (13, 20, 3, 4)])
def test_gg_epsilon_matches_independent_computations(seed, n, v, t):
    rng = np.random.default_rng(seed)
    cube = random_cube(seed, n, v, t)
    aov = stats.rm_anova(cube_to_long(cube)).set_index("effect")
    x = np.transpose(cube, (0, 2, 1))  # (n, time, view)
    time_means = x.mean(axis=2)
    view_means = x.mean(axis=1)
    # main effect of time: Box's formula, random basis, our contrasts
    assert_allclose(aov.loc["time", "eps"], _box_epsilon(time_means), rtol=1e-9)
    assert_allclose(aov.loc["time", "eps"], _random_basis_epsilon(time_means, rng), rtol=1e-9)
    assert_allclose(aov.loc["time", "eps"], stats.greenhouse_geisser_epsilon(time_means), rtol=1e-9)
    expected_view = 1.0 if v == 2 else _box_epsilon(view_means)
    assert_allclose(aov.loc["perspective", "eps"], expected_view, rtol=1e-9)
    # interaction: random orthonormal bases of both factors, Kronecker product
    ca = np.linalg.qr(np.column_stack([np.ones(t), rng.normal(size=(t, t - 1))]))[0][:, 1:].T
    cb = np.linalg.qr(np.column_stack([np.ones(v), rng.normal(size=(v, v - 1))]))[0][:, 1:].T
    c = np.kron(ca, cb)
    s = c @ np.cov(x.reshape(n, t * v), rowvar=False) @ c.T
    eps_ab = np.trace(s) ** 2 / (c.shape[0] * np.trace(s @ s))
    assert_allclose(aov.loc["time*perspective", "eps"], eps_ab, rtol=1e-9)
    # GG-corrected p from the F distribution with eps-scaled dfs
    for eff in stats.EFFECTS:
        r = aov.loc[eff]
        assert_allclose(r["p_gg"], sps.f.sf(r["F"], r["eps"] * r["ddof1"], r["eps"] * r["ddof2"]), rtol=1e-9)
    assert 1.0 / (t - 1) - 1e-12 <= aov.loc["time", "eps"] <= 1.0


#: Field, Miles & Field (2012), *Discovering Statistics Using R*, Sage, section 13.8
#: (also Field 2009, *Discovering Statistics Using SPSS*, 3rd ed., ch. 13): the "Attitude"
#: data, 20 participants rating drinks (beer, wine, water) x imagery (positive, negative,
#: neutral). Columns beerpos, beerneg, beerneut, winepos, wineneg, wineneut, waterpos,
#: waterneg, waterneut (file Attitude.dat/.sav from the book's companion website).
ATTITUDE = np.array([
    [1, 6, 5, 38, -5, 4, 10, -14, -2], [43, 30, 8, 20, -12, 4, 9, -10, -13],
    [15, 15, 12, 20, -15, 6, 6, -16, 1], [40, 30, 19, 28, -4, 0, 20, -10, 2],
    [8, 12, 8, 11, -2, 6, 27, 5, -5], [17, 17, 15, 17, -6, 6, 9, -6, -13],
    [30, 21, 21, 15, -2, 16, 19, -20, 3], [34, 23, 28, 27, -7, 7, 12, -12, 2],
    [34, 20, 26, 24, -10, 12, 12, -9, 4], [26, 27, 27, 23, -15, 14, 21, -6, 0],
    [1, -19, -10, 28, -13, 13, 33, -2, 9], [7, -18, 6, 26, -16, 19, 23, -17, 5],
    [22, -8, 4, 34, -23, 14, 21, -19, 0], [30, -6, 3, 32, -22, 21, 17, -11, 4],
    [40, -6, 0, 24, -9, 19, 15, -10, 2], [15, -9, 4, 29, -18, 7, 13, -17, 8],
    [20, -17, 9, 30, -17, 12, 16, -4, 10], [9, -12, -5, 24, -15, 18, 17, -4, 8],
    [14, -11, 7, 34, -14, 20, 19, -1, 12], [15, -6, 13, 23, -15, 15, 29, -1, 10],
], dtype=float)


def test_reproduces_field_attitude_textbook_example():
    """Field, Miles & Field (2012) *Discovering Statistics Using R*, §13.8: two-way RM ANOVA
    on the Attitude data. The book reports drink F(2, 38) = 5.11, imagery F(2, 38) = 122.56,
    drink x imagery F(4, 76) = 17.16 and Greenhouse-Geisser epsilons 0.577 (drink), 0.747
    (imagery), 0.798 (interaction). Full-precision values from JASP's regression test of the
    same data (jasp-stats/jasp-desktop, tests of AnovaRepeatedMeasures: F = 5.10598105687077,
    122.564824909945, 17.1549223629789; p = 0.0108629307294978, 2.68019659683571e-17,
    4.58904028152479e-10; GG p = 0.0297686804863521, 1.75728558571484e-13,
    1.90024850184092e-08; SS 2092.344/7785.878, 21628.678/3352.878, 2624.422/2906.689).

    Mapped onto our factors: perspective = drink (3 "views"), time = imagery (3 levels).
    """
    cube = ATTITUDE.reshape(20, 3, 3)  # (participant, drink, imagery)
    df = cube_to_long(cube, views=["beer", "wine", "water"], pct=[0, 1, 2],
                      bodypart="attitude", axis="rating")
    aov = stats.rm_anova(df).set_index("effect")
    drink, imagery, inter = aov.loc["perspective"], aov.loc["time"], aov.loc["time*perspective"]
    # rounded values printed in the book
    assert_allclose([drink.F, imagery.F, inter.F], [5.11, 122.56, 17.16], atol=0.006)
    assert_allclose([drink.eps, imagery.eps, inter.eps], [0.577, 0.747, 0.798], atol=0.0006)
    assert [drink.ddof1, drink.ddof2, imagery.ddof1, imagery.ddof2, inter.ddof1, inter.ddof2] == [2, 38, 2, 38, 4, 76]
    # full precision (JASP)
    assert_allclose([drink.F, imagery.F, inter.F], [5.10598105687077, 122.564824909945, 17.1549223629789], rtol=1e-9)
    assert_allclose([drink.p_unc, imagery.p_unc, inter.p_unc],
                    [0.0108629307294978, 2.68019659683571e-17, 4.58904028152479e-10], rtol=1e-7)
    assert_allclose([drink.p_gg, imagery.p_gg, inter.p_gg],
                    [0.0297686804863521, 1.75728558571484e-13, 1.90024850184092e-08], rtol=1e-7)
    assert_allclose([drink.eps, imagery.eps, inter.eps],
                    [0.577114320365429, 0.747440723179836, 0.798397939908785], rtol=1e-9)
    np2 = [2092.34444444444 / (2092.34444444444 + 7785.87777777778),
           21628.6777777778 / (21628.6777777778 + 3352.87777777778),
           2624.42222222222 / (2624.42222222222 + 2906.68888888889)]
    assert_allclose([drink.np2, imagery.np2, inter.np2], np2, rtol=1e-9)
    assert (aov["n"] == 20).all()


def test_two_view_perspective_effect_is_paired_t_test_squared():
    cube = random_cube(21, 9, 2, 11, bias=0.8)
    aov = stats.rm_anova(cube_to_long(cube)).set_index("effect")
    means = cube.mean(axis=2)
    t = sps.ttest_rel(means[:, 0], means[:, 1])
    assert_allclose(aov.loc["perspective", "F"], t.statistic**2, rtol=1e-9)
    assert_allclose(aov.loc["perspective", "p_unc"], t.pvalue, rtol=1e-9)
    assert aov.loc["perspective", "eps"] == 1.0
    assert aov.loc["perspective", "p_gg"] == aov.loc["perspective", "p_unc"]


# ---------------------------------------------------------------------------------------
# corrections, missing cells, duplicates, errors
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("method", "sm_method"), [("holm", "holm"), ("fdr_bh", "fdr_bh")])
def test_correction_across_bodypart_axis_tests(method, sm_method):
    from statsmodels.stats.multitest import multipletests

    df = multi_long(30)
    aov = stats.rm_anova(df, correction=method)
    assert list(aov.columns) == [*stats.ANOVA_COLUMNS, "p_corr"]
    for eff in stats.EFFECTS:
        sel = aov[aov["effect"] == eff]
        assert len(sel) == 4
        assert_allclose(sel["p_corr"], multipletests(sel["p_gg"], method=sm_method)[1], rtol=1e-12)
    assert "p_corr" not in stats.rm_anova(df).columns


def test_trials_missing_a_view_are_dropped_and_reported():
    cube = random_cube(40, 7, 2, 11)
    df = cube_to_long(cube)
    bad = (df["trial"] == "T03") & (df["view"] == "C2")
    incomplete = (df["trial"] == "T05") & (df["view"] == "C1") & (df["pct"] == 50.0)
    with pytest.warns(UserWarning, match="dropped 2 trial"):
        aov = stats.rm_anova(df[~bad & ~incomplete])
    assert aov.attrs["dropped_trials"] == ["T03", "T05"]
    reasons = {d["trial"]: d["reason"] for d in aov.attrs["dropped"]}
    assert "no data in view(s) C2" in reasons["T03"]
    assert "incomplete" in reasons["T05"]
    assert (aov["n"] == 5).all()
    ref = stats.rm_anova(df[~df["trial"].isin(["T03", "T05"])])
    assert_allclose(aov["F"], ref["F"], rtol=1e-12)
    assert "T03" in stats.format_dropped(aov)


def test_several_cycles_per_trial_are_averaged_and_extra_columns_ignored():
    cube = random_cube(50, 6, 2, 11)
    one = cube_to_long(cube)
    two = pd.concat([one.assign(value=one["value"] + 1.0, cycle=0),
                     one.assign(value=one["value"] - 1.0, cycle=1)], ignore_index=True)
    two["side"] = "left"
    assert_allclose(stats.rm_anova(two)["F"], stats.rm_anova(one)["F"], rtol=1e-12)


@pytest.mark.parametrize("seed", range(40))
def test_fast_checks_of_the_cycles_table_agree_with_pandas(seed):
    """The numpy checks that skip the groupby (repeated cells, several sides per view,
    units per body part and axis) say what pandas' duplicated / nunique say, missing
    values, numeric and text columns included."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 60))

    def column(names, kind):
        v = rng.choice(np.array(names, dtype=object), n)
        v[rng.random(n) < 0.1 * (seed % 3)] = None  # some missing in 2 of 3 seeds
        if kind == "category":
            return pd.Categorical(v, categories=list(names) + ["unused"])
        return pd.array(v, dtype="str") if kind == "str" else v

    kind = ("category", "str", "category")[seed % 3]
    df = pd.DataFrame({"trial": column(["T1", "T2", "T3"], kind), "view": column(["C1", "C3"], "category"),
                       "side": column(["left", "right"], kind),
                       "pct": rng.choice([0.0, 0.5, 1.0, np.nan], n) if seed % 2 else rng.integers(0, 3, n)})
    by = ["trial", "view", "pct"]
    assert stats._may_have_several(df, None, by) == df.duplicated(by).any() or kind == "str"
    nunique = df.groupby(["trial", "view"], sort=False, observed=True)["side"].nunique()
    assert stats._may_have_several(df, "side", ["trial", "view"]) == (nunique > 1).any() or kind == "str"
    if kind == "str":  # (text: the pandas checks decide)
        assert stats._may_have_several(df, None, by) and stats._may_have_several(df, "side", ["trial"])


def test_several_sides_in_one_view_warn():
    df = cube_to_long(random_cube(51, 4, 2, 5))
    df["side"] = np.where(df["pct"] > 50, "left", "right")
    with pytest.warns(UserWarning, match="several sides"):
        stats.validate_cycles_table(df)


def test_missing_columns_are_named():
    df = cube_to_long(random_cube(0, 4, 2, 3)).drop(columns=["view", "pct"])
    with pytest.raises(AnalysisError, match="'view', 'pct'"):
        stats.rm_anova(df)


def test_one_trial_one_view_and_constant_data_raise():
    df = cube_to_long(random_cube(0, 4, 2, 5))
    with pytest.raises(AnalysisError, match="1 trial"):
        stats.rm_anova(df[df["trial"] == "T00"])
    with pytest.raises(AnalysisError, match="1 view"):
        stats.rm_anova(df[df["view"] == "C1"])
    with pytest.raises(AnalysisError, match="zero variance"):
        stats.rm_anova(df.assign(value=3.0))
    with pytest.raises(AnalysisError, match="single time point"):
        stats.rm_anova(df[df["pct"] == 0])
    with pytest.raises(AnalysisError, match="correction"):
        stats.rm_anova(df, correction="bonferroni-ish")


def test_one_constant_bodypart_gives_nan_rows_not_a_crash():
    df = multi_long(60)
    const = (df["bodypart"] == "hip") & (df["axis"] == "x")
    df.loc[const, "value"] = 12.5
    with pytest.warns(UserWarning, match="hip/x: constant data"):
        aov = stats.rm_anova(df, correction="holm")
    hip_x = aov[(aov["bodypart"] == "hip") & (aov["axis"] == "x")]
    assert len(hip_x) == 3 and hip_x["F"].isna().all() and hip_x["p_corr"].isna().all()
    rest = aov.drop(hip_x.index)
    assert np.isfinite(rest["F"]).all() and np.isfinite(rest["p_corr"]).all()


def test_bodypart_axis_selection_and_order():
    df = multi_long(70)
    aov = stats.rm_anova(df, bodyparts=["knee"], axes=["y"])
    assert aov[["bodypart", "axis"]].drop_duplicates().values.tolist() == [["knee", "y"]]
    assert aov["effect"].tolist() == list(stats.EFFECTS)
    with pytest.raises(AnalysisError, match="toe"):
        stats.rm_anova(df, bodyparts=["toe"])


# ---------------------------------------------------------------------------------------
# subjects: several trials per person
# ---------------------------------------------------------------------------------------
def subject_cohort(seed, n_subjects=10, n_trials=3, t=11, *, n_cycles=1, bias=0.4):
    """Cycles of ``n_subjects`` x ``n_trials`` trials: a subject's trials share its curve and
    offset, each trial adds its own offset and noise; ``n_cycles`` rows per cell (cycles)."""
    rng = np.random.default_rng(seed)
    subjects = random_cube(seed, n_subjects, 2, t, bias=bias)
    parts = []
    for i in range(n_subjects):
        for k in range(n_trials):
            trial = subjects[i] + rng.normal(0, 1.5) + rng.normal(0, 0.8, size=subjects[i].shape)
            long = cube_to_long(trial[None], trials=[f"S{i:02d}T{k}"])
            long["subject"] = f"S{i:02d}"
            for c in range(n_cycles):
                parts.append(long.assign(cycle=c, value=long["value"] + (c - (n_cycles - 1) / 2)))
    return pd.concat(parts, ignore_index=True)


def test_subjects_are_the_repeated_measures_unit_as_anovarm_on_subject_means():
    from statsmodels.stats.anova import AnovaRM

    df = subject_cohort(80)
    aov = stats.rm_anova(df).set_index("effect")
    # 10 subjects x 3 trials: the perspective test has (1, 9) degrees of freedom, not (1, 29)
    assert (aov.loc["perspective", "ddof1"], aov.loc["perspective", "ddof2"]) == (1, 9)
    assert (aov["n"] == 10).all() and (aov["n_subjects"] == 10).all() and (aov["n_trials"] == 30).all()
    assert aov.attrs["unit"] == "subject" and aov.attrs["n_trials"] == 30
    means = df.groupby(["subject", "view", "pct"], as_index=False)["value"].mean()
    ref = AnovaRM(means, depvar="value", subject="subject", within=["pct", "view"]).fit().anova_table
    for eff, name in {"time": "pct", "perspective": "view", "time*perspective": "pct:view"}.items():
        assert_allclose(aov.loc[eff, "F"], ref.loc[name, "F Value"], rtol=RTOL)
        assert_allclose(aov.loc[eff, "p_unc"], ref.loc[name, "Pr > F"], rtol=RTOL)
        assert (aov.loc[eff, "ddof1"], aov.loc[eff, "ddof2"]) == (ref.loc[name, "Num DF"], ref.loc[name, "Den DF"])
    # without the column every trial is a subject, as before: (1, 29)
    trials = stats.rm_anova(df.drop(columns="subject")).set_index("effect")
    assert trials.loc["perspective", "ddof2"] == 29 and trials.attrs["unit"] == "trial"
    assert sorted(trials.reset_index().columns) == sorted(stats.ANOVA_COLUMNS)


def test_each_trial_counts_once_in_its_subject_whatever_its_cycles():
    one = subject_cohort(81, n_subjects=4, n_trials=2)
    # the first trial of each subject has 3 cycles (mean as one cycle), the second 1
    extra = one[one["trial"].str.endswith("T0")]
    many = pd.concat([one, extra.assign(value=extra["value"] + 5), extra.assign(value=extra["value"] - 5)],
                     ignore_index=True)
    means = stats.compute_subject_means(many)
    ref = stats.compute_subject_means(one)
    assert_allclose(means["value"], ref["value"], rtol=1e-12)
    assert (means["n_trials"] == 2).all()
    assert list(means.columns) == ["subject", "view", "bodypart", "axis", "pct", "value", "n_trials"]


def test_agreement_and_difference_curves_by_subject():
    df = subject_cohort(82)
    means = df.groupby(["subject", "view", "bodypart", "axis", "pct"], as_index=False)["value"].mean()
    ref = compute_agreement(means.rename(columns={"subject": "trial"}))
    agr = compute_agreement(df)
    cols = ["n", "bias", "sd_diff", "loa_low", "loa_high", "rmse", "mae", "icc"]
    assert_allclose(agr[cols].to_numpy(float), ref[cols].to_numpy(float), rtol=1e-9)
    assert agr[["n_subjects", "n_trials"]].to_numpy().tolist() == [[10, 30]]
    diff = compute_difference_curves(df)
    assert (diff["n"] == 10).all() and diff.attrs["unit"] == "subject"
    points = compute_bland_altman_points(df)
    assert sorted(points["trial"]) == sorted(df["subject"].unique())


def test_subject_column_errors_are_named():
    df = subject_cohort(83, n_subjects=3, n_trials=2)
    two = df.copy()
    two.loc[(two["trial"] == "S00T0") & (two["view"] == "C2"), "subject"] = "S09"
    with pytest.raises(AnalysisError, match=r"trial S00T0 several subjects \('S00', 'S09'\)"):
        stats.rm_anova(two)
    gap = df.copy()
    gap.loc[gap["trial"] == "S01T1", "subject"] = np.nan
    with pytest.raises(AnalysisError, match="'subject' of the cycles table has empty entries"):
        stats.rm_anova(gap)
    with pytest.raises(AnalysisError, match="1 subject .*least 2 subjects"):
        stats.rm_anova(df[df["subject"] == "S00"])
    # a column left empty everywhere (a CSV's empty column) is no column
    assert stats.rm_anova(df.assign(subject=np.nan)).attrs["unit"] == "trial"


def test_unit_column_is_carried_and_checked():
    df = multi_long(84)
    df["unit"] = "px"
    assert (compute_agreement(df)["unit"] == "px").all()
    assert (compute_difference_curves(df)["unit"] == "px").all()
    assert "unit" not in compute_agreement(df.drop(columns="unit")).columns
    df.loc[(df["bodypart"] == "hip") & (df["axis"] == "x") & (df["trial"] == "T01"), "unit"] = "m"
    with pytest.raises(AnalysisError, match="body part and axis hip x several units"):
        compute_agreement(df)


# ---------------------------------------------------------------------------------------
# agreement
# ---------------------------------------------------------------------------------------
def test_difference_curves_match_one_sample_t_interval():
    cube = random_cube(80, 8, 2, 11, bias=1.5)
    df = cube_to_long(cube)
    out = compute_difference_curves(df, views=("C1", "C2"))
    assert list(out.columns) == list(DIFFERENCE_COLUMNS)
    d = cube[:, 0, :] - cube[:, 1, :]
    for k in (0, 5, 10):
        res = sps.ttest_1samp(d[:, k], 0.0)
        ci = res.confidence_interval(0.95)
        row = out.iloc[k]
        assert_allclose([row.mean_diff, row.ci_low, row.ci_high], [d[:, k].mean(), ci.low, ci.high], rtol=1e-10)
        assert row.n == 8
    # the difference is a - b: swapping the views flips the sign
    flipped = compute_difference_curves(df, views=("C2", "C1"))
    assert_allclose(flipped["mean_diff"], -out["mean_diff"], rtol=1e-12)


def _icc_a1(x):
    """McGraw & Wong (1996) ICC(A,1) from the two-way ANOVA mean squares; x is (targets, raters)."""
    n, k = x.shape
    m = x.mean()
    msr = k * np.sum((x.mean(axis=1) - m) ** 2) / (n - 1)
    msc = n * np.sum((x.mean(axis=0) - m) ** 2) / (k - 1)
    sse = np.sum((x - x.mean(axis=1, keepdims=True) - x.mean(axis=0, keepdims=True) + m) ** 2)
    mse = sse / ((n - 1) * (k - 1))
    return (msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n)


def test_agreement_bland_altman_rmse_icc_known_answers():
    cube = random_cube(90, 10, 2, 11, bias=2.0)
    df = cube_to_long(cube)
    ag = compute_agreement(df, views=("C1", "C2"))
    assert list(ag.columns) == list(AGREEMENT_COLUMNS)
    row = ag.iloc[0]
    per_trial = cube[:, 0, :].mean(axis=1) - cube[:, 1, :].mean(axis=1)
    assert_allclose(row.bias, per_trial.mean(), rtol=1e-12)
    assert_allclose(row.bias, -2.0, atol=1.0)  # injected bias C2 - C1 = +2
    sd = per_trial.std(ddof=1)
    assert_allclose([row.sd_diff, row.loa_low, row.loa_high],
                    [sd, per_trial.mean() - 1.96 * sd, per_trial.mean() + 1.96 * sd], rtol=1e-12)
    all_d = (cube[:, 0, :] - cube[:, 1, :]).ravel()
    assert_allclose([row.rmse, row.mae], [np.sqrt(np.mean(all_d**2)), np.mean(np.abs(all_d))], rtol=1e-12)
    pairs = np.column_stack([cube[:, 0, :].ravel(), cube[:, 1, :].ravel()])
    assert_allclose(row.icc, _icc_a1(pairs), rtol=1e-9)
    assert row.n == 10 and row.view_a == "C1" and row.view_b == "C2"


@pytest.mark.parametrize("seed, noise", [(0, 1.0), (1, 0.01), (2, 30.0)])
def test_icc_matches_pingouin_intraclass_corr(seed, noise):
    # pingouin is the reference: its ICC(A,1) (long-format two-way ANOVA) on the same pairs
    import pingouin as pg

    rng = np.random.default_rng(seed)
    truth = rng.normal(0, 10, 300)
    pairs = pd.DataFrame({"a": truth + rng.normal(0, noise, 300),
                          "b": truth + 2.0 + rng.normal(0, noise, 300)})
    long = pd.DataFrame({"target": np.tile(np.arange(300), 2), "rater": np.repeat(["a", "b"], 300),
                         "rating": np.concatenate([pairs["a"], pairs["b"]])})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = pg.intraclass_corr(data=long, targets="target", raters="rater", ratings="rating")
    key = "ICC(A,1)" if "ICC(A,1)" in set(ref["Type"]) else "ICC2"
    assert_allclose(_icc(pairs), ref.set_index("Type").loc[key, "ICC"], rtol=1e-10)


def test_icc_undefined_cases_are_nan():
    assert np.isnan(_icc(pd.DataFrame({"a": [1.0, 2.0], "b": [1.0, 2.0]})))
    assert np.isnan(_icc(pd.DataFrame({"a": [3.0] * 5, "b": [3.0] * 5})))


def test_agreement_identical_views_is_perfect():
    cube = random_cube(91, 6, 1, 11)
    df = cube_to_long(np.concatenate([cube, cube], axis=1))
    ag = compute_agreement(df).iloc[0]
    assert_allclose([ag.bias, ag.sd_diff, ag.rmse], [0.0, 0.0, 0.0], atol=1e-12)
    assert_allclose(ag.icc, 1.0, rtol=1e-12)


def test_bland_altman_points_skip_incomplete_trials():
    df = cube_to_long(random_cube(92, 5, 2, 11))
    df = df[~((df["trial"] == "T01") & (df["view"] == "C2") & (df["pct"] > 50))]
    pts = compute_bland_altman_points(df)
    assert sorted(pts["trial"]) == ["T00", "T02", "T03", "T04"]
    assert compute_agreement(df)["n"].tolist() == [4]


def test_gg_epsilon_function_bounds_and_two_levels():
    rng = np.random.default_rng(5)
    assert stats.greenhouse_geisser_epsilon(rng.normal(size=(8, 2))) == 1.0
    # spherical (compound symmetric) population -> epsilon near 1 in a large sample
    x = rng.normal(size=(2000, 5)) + rng.normal(size=(2000, 1))
    assert_allclose(stats.greenhouse_geisser_epsilon(x), 1.0, atol=0.015)
    c = stats.orthonormal_contrasts(6)
    assert_allclose(c @ c.T, np.eye(5), atol=1e-12)
    assert_allclose(c.sum(axis=1), 0.0, atol=1e-12)


def test_spm_skips_cleanly_without_spm1d():
    if stats.spm_available():
        import spm1d

        cube = random_cube(93, 8, 2, 21, bias=3.0)
        out = stats.spm_rm_anova(cube_to_long(cube)).iloc[0]
        # two views: the SPM RM ANOVA F field is the paired t field squared
        t = spm1d.stats.ttest_paired(cube[:, 1, :], cube[:, 0, :])
        assert_allclose(out.F_max, np.max(t.z**2), rtol=1e-6)
        assert out.significant and out.F_crit > 0
    else:
        with pytest.raises(AnalysisError, match="spm1d"):
            stats.spm_rm_anova(cube_to_long(random_cube(93, 8, 2, 21)))


def test_every_engine_of_the_settings_has_its_function_and_no_other_is_taken():
    from napari_gaitint.core.config import STATS_ENGINES

    for name in STATS_ENGINES:  # the one list of engines
        assert callable(stats._engine(name))
    with pytest.raises(AnalysisError, match="engine must be one of numpy, pingouin, not 'R'"):
        stats._engine("R")
