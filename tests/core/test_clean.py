"""Tests of core.clean: likelihood, gap filling, filters, baseline, wrong-limb repair, CLI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from napari_gaitint.core.clean import clean_pose, flags_table
from napari_gaitint.core.clean_align import far_leg_from_other_view
from napari_gaitint.core.clean_filters import fill_gaps, lowpass
from napari_gaitint.core.clean_flags import (
    FLAG_FILTERED,
    FLAG_INTERPOLATED,
    FLAG_LOW_LIKELIHOOD,
    FLAG_OUTLIER,
    FLAG_WRONG_LIMB,
    flag_names,
)
from napari_gaitint.core.config import CleanConfig
from napari_gaitint.core.errors import AnalysisError
from napari_gaitint.core.pose import Pose

NO_FILTER = dict(filter="none")


def _pose(xy: np.ndarray, names, *, lk=None, fps=25.0) -> Pose:
    xy = np.asarray(xy, float)
    if xy.ndim == 2:
        xy = xy[:, None, :]
    lk = np.ones(xy.shape[:2]) if lk is None else np.asarray(lk, float).reshape(xy.shape[:2])
    return Pose(np.concatenate([xy, lk[..., None]], axis=-1), tuple(names), fps=fps)


# --- flags ---------------------------------------------------------------------------
def test_flag_names_round_trip():
    assert flag_names(FLAG_LOW_LIKELIHOOD | FLAG_INTERPOLATED) == ["low_likelihood", "interpolated"]
    assert flag_names(0) == []
    bits = [FLAG_LOW_LIKELIHOOD, FLAG_OUTLIER, FLAG_WRONG_LIMB, FLAG_INTERPOLATED, FLAG_FILTERED]
    assert len({b for b in bits}) == len(bits) and all(b & (b - 1) == 0 for b in bits)


# --- gap filling ---------------------------------------------------------------------
@pytest.mark.parametrize("method", ["linear", "pchip", "spline"])
def test_fill_gaps_recovers_polynomial_and_respects_max_gap(method):
    t = np.arange(40, dtype=float)
    y = 0.5 * t + 3.0 if method != "spline" else 0.01 * t**3 - 0.2 * t**2 + t
    y_in = y.copy()
    y_in[[5, 6, 7]] = np.nan  # short gap: filled
    y_in[20:30] = np.nan  # 10-frame gap: too long for max 4
    y_in[0] = np.nan  # edge: never extrapolated
    out = fill_gaps(y_in, max_gap_frames=4, method=method)
    assert_allclose(out[[5, 6, 7]], y[[5, 6, 7]], atol=1e-6 if method != "pchip" else 0.05)
    assert np.isnan(out[20:30]).all() and np.isnan(out[0])
    assert_allclose(out[~np.isnan(y_in)], y[~np.isnan(y_in)])


def test_spline_is_scipys_cubic_spline_to_the_last_bit():
    from scipy.interpolate import CubicSpline

    from napari_gaitint.core._spline import cubic_spline_at

    rng = np.random.default_rng(3)
    for n in (4, 5, 9, 250):
        x = np.sort(rng.choice(np.arange(2000), n, replace=False)).astype(float)  # uneven
        y = 100 * rng.normal(size=(n, 3))
        at = np.concatenate([rng.uniform(x[0] - 5, x[-1] + 5, 300), x, [np.nan]])
        want = CubicSpline(x, y, axis=0)(at)  # incl. knots, extrapolation, NaN
        assert np.array_equal(cubic_spline_at(x, y, at), want, equal_nan=True)
    with pytest.raises(ValueError, match="n >= 4"):
        cubic_spline_at(np.arange(3.0), np.zeros((3, 1)), np.zeros(1))


def test_fill_gaps_spline_equals_the_spline_through_all_samples():
    # fitted near the gaps only, with its own evaluation: the values of scipy's spline
    # through every valid sample
    from scipy.interpolate import CubicSpline

    rng = np.random.default_rng(4)
    y = np.cumsum(rng.normal(size=(3000, 2)), axis=0)
    gaps = rng.choice(np.arange(5, 2990), 60, replace=False)
    y[gaps] = np.nan
    y[gaps + 1] = np.nan
    out = fill_gaps(y, max_gap_frames=3, method="spline")
    ok = np.isfinite(y[:, 0])
    filled = ~ok & np.isfinite(out[:, 0])  # (gaps that ran together past 3 stay NaN)
    assert filled.sum() > 100
    full = CubicSpline(np.flatnonzero(ok), y[ok], axis=0)(np.flatnonzero(filled))
    assert_allclose(out[filled], full, rtol=0, atol=1e-9)


def test_fill_gaps_never_extrapolates_through_a_lone_sample():
    """The bug: a pose estimator lost the walker for 4 frames and found it again in the last
    frame only; the spline through that lone frame overshot by ~60 px (a spurious toe off
    on real video). A lone sample between a gap and the end of the data, or an unfilled
    gap, anchors nothing; a lone sample between two filled gaps still does."""
    t = np.arange(30, dtype=float)
    y = 200 - 0.3 * (t - 20) ** 2  # a foot decelerating
    end = y.copy()
    end[24:29] = np.nan  # only frame 29 after the gap
    for method in ("linear", "pchip", "spline"):
        out = fill_gaps(end, max_gap_frames=6, method=method)
        assert np.isnan(out[24:29]).all() and out[29] == y[29], method
    lone_inside = y.copy()
    lone_inside[[10, 11, 13, 14]] = np.nan  # frame 12 alone, data on both sides beyond
    out = fill_gaps(lone_inside, max_gap_frames=3, method="spline")
    assert_allclose(out[[10, 11, 13, 14]], y[[10, 11, 13, 14]], atol=1e-6)
    chained = y.copy()
    chained[[10, 11, 13, 14, 15, 16]] = np.nan  # frame 12 alone before a gap too long to fill
    out = fill_gaps(chained, max_gap_frames=3, method="spline")
    assert np.isnan(out[10:17]).sum() == 6


def test_the_cleaned_pose_before_the_filter_is_kept_for_event_timing():
    from napari_gaitint.synthetic.trial import generate_trial

    trial = generate_trial(1)
    c1, c3 = trial.views["C1"].pose, trial.views["C3"].pose
    res = clean_pose(c1, other=c3)
    unfiltered = clean_pose(c1, other=c3, config=CleanConfig(filter="none"))
    assert res.unfiltered is res.events_pose
    np.testing.assert_array_equal(res.unfiltered.values, unfiltered.pose.values)
    assert res.unfiltered.meta["cleaning"] == res.pose.meta["cleaning"]
    assert not np.array_equal(res.pose.values, res.unfiltered.values)  # the filter moved points
    assert unfiltered.unfiltered is None and unfiltered.events_pose is unfiltered.pose


@pytest.mark.parametrize("method", ["butterworth", "savgol"])
def test_the_filtered_pose_is_each_body_part_filtered_on_its_own_to_the_bit(method):
    """The body parts are filtered in one call (Butterworth) or grouped by missing frames
    (Savitzky-Golay): each must come out as the filter applied to its own track."""
    from napari_gaitint.synthetic.trial import generate_trial

    c1 = generate_trial(2).views["C1"].pose
    values = c1.values.copy()
    values[30:33, 2, :2] = np.nan  # body parts with different missing frames
    values[[5, 60], 4, :2] = np.nan
    config = CleanConfig(filter=method, max_gap_frames=1)
    res = clean_pose(c1.replace(values=values), config=config)
    for j in range(len(c1.bodyparts)):
        want = lowpass(res.unfiltered.values[:, j, :2], fps=c1.fps, method=method)
        np.testing.assert_array_equal(res.pose.values[:, j, :2], want)


def test_fill_gaps_two_columns_missing_together():
    v = np.column_stack([np.arange(10.0), 2 * np.arange(10.0)])
    v[4, 0] = np.nan  # one coordinate missing -> the whole row counts as missing
    out = fill_gaps(v, max_gap_frames=2, method="linear")
    assert_allclose(out[4], [4.0, 8.0])


# --- filters -------------------------------------------------------------------------
def test_butterworth_passes_slow_and_removes_fast():
    fps = 25.0
    t = np.arange(250) / fps
    slow = 50 * np.sin(2 * np.pi * 1.0 * t)
    fast = 5 * np.sin(2 * np.pi * 11.0 * t)
    out = lowpass(slow + fast, fps=fps, method="butterworth", cutoff_hz=6.0, order=2)
    inner = slice(25, -25)
    assert np.max(np.abs(out[inner] - slow[inner])) < 1.0  # 1 Hz kept, 11 Hz gone
    assert np.max(np.abs(out - slow)) < 3.0  # edges padded, no blow-up


def test_lowpass_splits_at_nan_and_keeps_short_pieces():
    y = np.arange(30, dtype=float)
    y[10] = np.nan
    y[12] = np.nan
    out = lowpass(y, fps=25.0, method="butterworth")
    assert np.isnan(out[[10, 12]]).all()
    assert out[11] == 11.0  # a 1-sample stretch cannot be filtered: left as is
    assert_allclose(out[13:], y[13:], atol=0.05)  # a line stays a line (odd padding)


@pytest.mark.parametrize("stack_samples", [None, 32])
@pytest.mark.parametrize("layout", ["one", "few", "many_short", "many_mixed", "inf_and_1d"])
def test_butterworth_equals_scipy_sosfiltfilt_on_every_stretch_to_the_bit(layout, stack_samples,
                                                                         monkeypatch):
    """Stretches are filtered many per call (stacked by length, in chunks, or on slices when
    few): the result must be scipy's ``sosfiltfilt`` on each stretch on its own, exactly."""
    from scipy.signal import butter, sosfiltfilt

    if stack_samples is not None:  # small chunks: a length class is split over several calls
        monkeypatch.setattr("napari_gaitint.core.clean_filters._STACK_SAMPLES", stack_samples)

    rng = np.random.default_rng(["one", "few", "many_short", "many_mixed", "inf_and_1d"].index(layout))
    n = {"one": 300, "few": 300, "many_short": 400, "many_mixed": 3000, "inf_and_1d": 500}[layout]
    k = 1 if layout == "inf_and_1d" else 4
    y = np.cumsum(rng.normal(0, 4, (n, k)), axis=0) + rng.uniform(-500, 500, k)
    if layout == "few":
        y[[40, 41, 200]] = np.nan
    elif layout == "many_short":  # stretches of 3..12 samples: padding shortened to n - 1
        cut = np.cumsum(rng.integers(4, 14, n))
        y[cut[cut < n]] = np.nan
    elif layout in ("many_mixed", "inf_and_1d"):
        for start in rng.integers(0, n, 60):
            y[start:start + rng.integers(1, 6)] = np.nan
        if layout == "inf_and_1d":
            y[rng.integers(0, n, 5)] = np.inf
    for order, cutoff, fps in [(2, 6.0, 25.0), (4, 10.0, 100.0), (1, 2.0, 30.0)]:
        sos = butter(order, cutoff, btype="low", fs=fps, output="sos")
        full_pad = 3 * (2 * len(sos) + 1)
        want = y.copy()
        good = np.isfinite(y).all(axis=1)
        edges = np.flatnonzero(np.diff(np.r_[0, good.astype(int), 0]))
        for a, b in zip(edges[::2], edges[1::2], strict=True):
            if b - a >= 4:
                want[a:b] = sosfiltfilt(sos, y[a:b], axis=0, padlen=min(full_pad, b - a - 1))
        got = lowpass(y[:, 0] if k == 1 else y, fps=fps, method="butterworth", cutoff_hz=cutoff,
                      order=order)
        np.testing.assert_array_equal(got, want[:, 0] if k == 1 else want)


def test_savgol_keeps_cubic_and_short_segments():
    t = np.arange(30, dtype=float)
    y = 0.01 * t**3 - t
    assert_allclose(lowpass(y, fps=25.0, method="savgol", window_s=0.28, polyorder=3), y, atol=1e-9)
    assert_allclose(lowpass(y[:5], fps=25.0, method="savgol", window_s=0.28, polyorder=3), y[:5],
                    atol=1e-9)


def test_filter_needs_fps_and_valid_cutoff():
    pose = _pose(np.zeros((20, 2)), ["hip"], fps=None)
    with pytest.raises(AnalysisError, match="frame rate"):
        clean_pose(pose)
    with pytest.raises(AnalysisError, match="Nyquist"):
        lowpass(np.zeros(20), fps=10.0, cutoff_hz=6.0)
    clean_pose(pose, config=CleanConfig(filter="none", max_gap_frames=3))  # fine without fps


def test_config_validates():
    with pytest.raises(ValueError, match="method"):
        CleanConfig(method="magic")
    with pytest.raises(ValueError, match="gap_method"):
        CleanConfig(gap_method="quadratic")
    assert CleanConfig(max_gap_s=0.4).gap_frames(25.0) == 10
    assert CleanConfig(max_gap_frames=3).gap_frames(None) == 3


# --- likelihood, outliers, flags table -------------------------------------------------
def test_low_likelihood_removed_interpolated_and_flagged():
    n = 30
    xy = np.column_stack([np.linspace(100, 300, n), np.full(n, 200.0)])
    lk = np.ones(n)
    lk[[10, 11]] = 0.1
    xy[[10, 11]] = [[900.0, 10.0], [905.0, 12.0]]  # garbage where likelihood is low
    res = clean_pose(_pose(xy, ["hip"], lk=lk), config=CleanConfig(**NO_FILTER))
    assert_allclose(res.pose.xy[10:12, 0], xy_true := np.column_stack(
        [np.linspace(100, 300, n), np.full(n, 200.0)])[10:12], atol=1e-6)
    assert (res.flags[10:12, 0] == FLAG_LOW_LIKELIHOOD | FLAG_INTERPOLATED).all()
    assert (res.flags[:10] == 0).all() and (res.flags[12:] == 0).all()
    assert_allclose(res.pose.likelihood[10:12, 0], 0.1)  # likelihood kept
    table = flags_table(res)
    assert list(table.columns) == ["frame", "bodypart", "flags", "names", "reason"]
    assert table["frame"].tolist() == [10, 11] and set(table["bodypart"]) == {"hip"}
    assert "likelihood" in table["reason"].iloc[0]
    assert xy_true.shape == (2, 2)


def test_flags_table_equals_a_row_by_row_table():
    """The vectorised table against the plain one: every flagged point, its flag names and
    reasons, frame numbers from the pose's index, and an empty table of the same types."""
    import dataclasses

    from napari_gaitint.core.clean_flags import flag_reasons

    def by_rows(res):  # names and reasons point by point
        rows, cols = np.nonzero(res.flags)
        bits = res.flags[rows, cols]
        return pd.DataFrame({
            "frame": res.pose.frames[rows].astype(int),
            "bodypart": [res.pose.bodyparts[c] for c in cols],
            "flags": bits.astype(int),
            "names": ["|".join(flag_names(b)) for b in bits],
            "reason": [flag_reasons(b) for b in bits],
        })

    rng = np.random.default_rng(4)
    n = 80
    xy = np.stack([np.column_stack([np.linspace(100, 700, n) + k, np.full(n, 200.0 + 50 * k)])
                   for k in range(3)], axis=1) + rng.normal(0, 0.5, (n, 3, 2))
    xy[30, 1] += 300  # an outlier
    lk = np.where(rng.random((n, 3)) < 0.1, 0.1, 1.0)
    pose = _pose(xy, ["neck", "hip", "knee"], lk=lk)
    pose.index = pd.RangeIndex(1000, 1000 + n)
    res = clean_pose(pose)
    assert len(np.unique(res.flags[res.flags > 0])) >= 3
    pd.testing.assert_frame_equal(flags_table(res), by_rows(res), check_exact=True)
    assert flags_table(res)["frame"].min() >= 1000
    unflagged = dataclasses.replace(res, flags=np.zeros_like(res.flags))
    pd.testing.assert_frame_equal(flags_table(unflagged), by_rows(unflagged), check_exact=True)


def test_input_pose_not_modified_and_frames_kept():
    rng = np.random.default_rng(1)
    xy = np.column_stack([np.linspace(100, 800, 60), 300 + rng.normal(0, 1, 60)])
    xy[30] += 200
    pose = _pose(xy, ["neck"])
    before = pose.values.copy()
    res = clean_pose(pose)
    assert_allclose(pose.values, before)
    assert res.pose.n_frames == pose.n_frames and res.pose.bodyparts == pose.bodyparts
    assert res.flags[30, 0] & FLAG_OUTLIER
    assert (res.flags & FLAG_OUTLIER).sum() == FLAG_OUTLIER  # only that one
    assert np.count_nonzero(res.flags & FLAG_FILTERED) > 0


def test_baseline_spike_rule():
    x = np.linspace(0, 60, 31)
    x[15] += 50.0  # spike
    xy = np.column_stack([x, np.full(31, 100.0)])
    res = clean_pose(_pose(xy, ["ankle"]), config=CleanConfig(method="baseline", **NO_FILTER))
    assert res.flags[15, 0] == FLAG_OUTLIER
    assert_allclose(res.pose.xy[15, 0, 0], 30.0)
    assert np.count_nonzero(res.flags) == 1


# --- wrong-limb repair on the synthetic walker ------------------------------------------
synthetic = pytest.importorskip("napari_gaitint.synthetic")
DETECTED = FLAG_WRONG_LIMB | FLAG_OUTLIER


def _injected(view) -> np.ndarray:
    pose = view.pose
    mask = np.zeros((pose.n_frames, len(pose.bodyparts)), bool)
    for frame, bp in zip(view.wrong_limb["frame"], view.wrong_limb["bodypart"], strict=True):
        mask[int(frame), pose.bodyparts.index(bp)] = True
    return mask


def _score(trials, *, method, use_other=True):
    """(injected, repaired, falsely flagged, sum sq err cleaned, sum sq err raw, n)."""
    inj_n = rep = false = 0
    se_clean = se_raw = 0.0
    n = 0
    for trial in trials:
        for name, view in trial.views.items():
            other = next(v for k, v in trial.views.items() if k != name)
            res = clean_pose(view.pose, other=other.pose if use_other else None,
                             config=CleanConfig(method=method))
            inj = _injected(view)
            flagged = (res.flags & DETECTED) > 0
            inj_n += int(inj.sum())
            rep += int((inj & flagged).sum())
            false += int((flagged & ~inj).sum())
            true = view.true_pose.xy
            w, h = view.pose.frame_size
            inside = (true[..., 0] >= 0) & (true[..., 0] < w) & (true[..., 1] >= 0) & (true[..., 1] < h)
            ok = inside & np.isfinite(res.pose.xy[..., 0])
            se_clean += float((np.linalg.norm(res.pose.xy - true, axis=-1)[ok] ** 2).sum())
            se_raw += float((np.linalg.norm(view.pose.xy - true, axis=-1)[ok] ** 2).sum())
            n += int(ok.sum())
    return inj_n, rep, false, se_clean, se_raw, n


def test_twoview_repairs_swaps_beats_baseline_and_lowers_rmse(trials):
    inj, rep, false, se_clean, se_raw, n = _score(trials, method="twoview")
    b_inj, b_rep, b_false, b_se, _, b_n = _score(trials, method="baseline")
    assert inj >= 20  # the seeds do inject swaps
    assert rep / inj >= 0.9  # benchmark over 60 pairs: ~96 %
    assert false <= 2  # of ~2 900 clean leg/trunk points
    assert rep / inj > b_rep / b_inj and false < b_false
    rmse, rmse_raw, rmse_base = (np.sqrt(se_clean / n), np.sqrt(se_raw / n), np.sqrt(b_se / b_n))
    assert rmse < 0.5 * rmse_raw and rmse < rmse_base
    assert rmse < 3.5  # px, prediction noise is 1.2-2 px per axis


def test_single_view_fallback_still_repairs_most(trials):
    # (benchmark over 60 pairs: 91.7 % without the other view, 94.5 % with it; no clean
    # point flagged by either)
    inj, rep, false, *_ = _score(trials, method="twoview", use_other=False)
    assert rep / inj >= 0.9 and false == 0


def test_virtual_far_leg_is_this_leg_half_a_stride_away():
    """Legs that swing alike half a stride apart: the far leg is found from the near one
    (to the interpolation between frames), and the stride from the near leg alone."""
    from napari_gaitint.core.clean_align import virtual_far_leg

    fps, stride = 25.0, 26.4
    t = np.arange(120.0)
    hip = np.stack([200 + 6.0 * t, 300 + 3 * np.sin(4 * np.pi * t / stride)], -1)

    def leg(phase):  # knee, ankle, heel, toe relative to the hip
        w = 2 * np.pi * (t / stride + phase)
        return [np.stack([a * np.sin(w + c), b + 0.3 * a * np.cos(w + c)], -1)
                for a, b, c in ((40, 90, 0.0), (70, 170, 0.3), (75, 180, 0.5), (90, 185, 0.8))]

    names = ("neck", "hip", "knee", "ankle", "heel", "toe")
    near = np.stack([hip - (0, 150), hip] + [hip + r for r in leg(0.0)], 1)
    far_true = np.stack([hip + r for r in leg(0.5)], 1)
    cfg = CleanConfig()
    far, found = virtual_far_leg(near, names, cfg.leg_chain, cfg, fps)
    assert found == pytest.approx(stride, abs=0.2)
    got = np.stack([far[b] for b in cfg.leg_chain], 1)
    inside = slice(14, 106)  # half a stride either side has data
    assert np.isfinite(got[inside]).all()
    # linear interpolation between frames of a swing at ~20 px/frame: within ~1 px
    assert np.abs(got[inside] - far_true[inside]).max() < 1.5
    # a recording too short for a stride: no estimate (and the single-view checks alone)
    assert virtual_far_leg(near[:30], names, cfg.leg_chain, cfg, fps) == (None, None)
    res = clean_pose(_pose(near[:30], names), config=CleanConfig(filter="none"))
    assert res.summary["virtual_far_leg_stride_frames"] is None and not res.flags.any()


def test_virtual_far_leg_on_the_walker():
    """On the synthetic walker's exact keypoints the estimate lies within 0.1 leg length of
    the far leg (median; perspective makes the far leg smaller in the image) and the stride
    within a frame of the heel strikes' intervals."""
    from napari_gaitint.core.clean_align import virtual_far_leg
    from napari_gaitint.core.pose import leg_length_px

    view = synthetic.generate_trial(2).views["C1"]
    p, cfg = view.true_pose, CleanConfig()
    far, stride = virtual_far_leg(p.xy, p.bodyparts, cfg.leg_chain, cfg, p.fps)
    hs = view.events.loc[view.events["event"] == "heel_strike", "frame"].to_numpy()
    assert abs(stride - np.median(np.diff(hs))) < 1.0
    err = np.concatenate([np.linalg.norm(far[b] - view.true_far_pose.bodypart(b)[:, :2], axis=-1)
                          for b in cfg.leg_chain]) / leg_length_px(p)
    assert np.nanmedian(err) < 0.1 and np.isfinite(err).mean() > 0.6


def test_wrong_limb_run_leaving_a_leg_crossing_is_found(trials):
    """Regression (calibrated walker, seed 13, C1): the whole leg taken from the far leg for
    frames 78-80, right after the knees cross at 77 (7 px apart, then 20, 35, 45): the knee
    labels went on smoothly from the crossing along the far knee and were trusted as the
    near track's continuation. With the other view all three are found now; without it
    (the far leg estimated half a stride away) the farthest, 45 px off."""
    trial = synthetic.generate_trial(13)
    view, other = trial.views["C1"], trial.views["C3"]
    inj = _injected(view)
    knee = view.pose.bodyparts.index("knee")
    assert inj[78:81, knee].all()
    for o, found in ((other.pose, slice(78, 81)), (None, slice(80, 81))):
        flagged = (clean_pose(view.pose, other=o).flags & DETECTED) > 0
        assert flagged[found, knee].all(), o is None
        assert not (flagged & ~inj).any()


def test_wrong_limb_label_after_a_dropout_is_found():
    """Regression (calibrated walker, benchmark pair 3007, C3): the knee taken from the far
    leg at frame 54, two frames after a dropout (frame 52): the jump into it was not seen
    (no label two frames back) and its clean neighbour at 55 was flagged as an outlier."""
    trial = synthetic.generate_trial(3007, trial="T", min_swap_separation_px=15.0)
    view, other = trial.views["C3"], trial.views["C1"]
    inj = _injected(view)
    knee = view.pose.bodyparts.index("knee")
    assert inj[54, knee] and view.pose.likelihood[52, knee] < 0.6
    for o in (other.pose, None):
        flagged = (clean_pose(view.pose, other=o).flags & DETECTED) > 0
        assert flagged[54, knee] and not (flagged & ~inj).any(), o is None


@pytest.mark.parametrize("seed", [5, 6])
def test_no_swaps_no_wrong_limb_flags(seed):
    trial = synthetic.generate_trial(seed, wrong_limb_rates={}, chain_swap_rate=0.0)
    for name, view in trial.views.items():
        other = next(v for k, v in trial.views.items() if k != name)
        for o in (other.pose, None):
            res = clean_pose(view.pose, other=o)
            assert not (res.flags & DETECTED).any(), (name, o is None)


def test_alignment_fits_mirror_and_moved_camera(trials):
    trial = trials[0]
    c1, c3 = trial.views["C1"].pose, trial.views["C3"].pose
    far, align = far_leg_from_other_view(c1, c3)
    assert align["ax"] < 0 < align["ay"]  # opposite cameras: mirrored x
    assert align["rms_x_px"] < 6 and align["rms_y_px"] < 6
    # the other camera moved and zoomed: same far leg, same decisions
    moved = c3.copy()
    moved.values[..., 0] = 0.8 * c3.values[..., 0] + 60.0
    moved.values[..., 1] = 0.9 * c3.values[..., 1] - 15.0
    far2, align2 = far_leg_from_other_view(c1, moved)
    assert_allclose(align2["ax"], align["ax"] / 0.8, rtol=1e-6)
    assert_allclose(far2["ankle"], far["ankle"], atol=1e-6, equal_nan=True)
    a = clean_pose(c1, other=c3).flags & FLAG_WRONG_LIMB
    b = clean_pose(c1, other=moved).flags & FLAG_WRONG_LIMB
    assert (a == b).all() and a.any()


def test_oriented_poses_give_the_same_decisions(trials):
    from napari_gaitint.core.orient import deorient_pose, orient_pose

    trial = trials[1]
    c1, c3 = trial.views["C1"].pose, trial.views["C3"].pose
    img = clean_pose(c1, other=c3)
    gait = clean_pose(orient_pose(c1), other=orient_pose(c3))
    assert ((img.flags & DETECTED) == (gait.flags & DETECTED)).all()
    back = deorient_pose(gait.pose)
    assert_allclose(back.xy, img.pose.xy, atol=1e-6, equal_nan=True)


def test_other_view_matched_by_frame_number(trials):
    trial = trials[2]
    c1, c3 = trial.views["C1"].pose, trial.views["C3"].pose
    shorter = c3.replace(values=c3.values[10:], index=pd.Index(np.arange(10, c3.n_frames)))
    _, align = far_leg_from_other_view(c1, shorter)
    _, full = far_leg_from_other_view(c1, c3)
    assert align["n_points"] < full["n_points"]
    assert_allclose(align["ax"], full["ax"], rtol=0.02)
    empty = c3.copy()
    empty.values[:, :2, :2] = np.nan
    with pytest.raises(AnalysisError, match="cannot align"):
        clean_pose(c1, other=empty)


def test_treadmill_alignment_from_foot_swing_direction():
    """The body does not cross the image: the x map comes from the vertical scale and the
    swing direction of the feet; swaps are still found."""
    trial = synthetic.generate_trial(7, duration_s=12, treadmill=True)
    c1, c3 = trial.views["C1"], trial.views["C3"]
    _, align = far_leg_from_other_view(c1.pose, c3.pose)
    assert align["x_map"] == "treadmill" and align["ax"] < 0
    inj, rep, false, *_ = _score([trial], method="twoview")
    assert inj >= 5 and rep / inj >= 0.85 and false <= 1
    oriented = far_leg_from_other_view(c1.pose, c1.pose)[1]  # same facing: positive scale
    assert oriented["ax"] > 0


# --- the margin follows the subject's size in the image ----------------------------------
def _scaled(pose: Pose, k: float) -> Pose:
    """The same pose filmed k times larger (coordinates x k; likelihood unchanged)."""
    out = pose.copy()
    out.values[..., :2] *= k
    if pose.frame_size:
        out.frame_size = (int(pose.frame_size[0] * k), int(pose.frame_size[1] * k))
    return out


def test_margin_from_leg_length_fixed_and_fallbacks(trials):
    from napari_gaitint.core.clean import margin_px_for
    from napari_gaitint.core.pose import leg_length_px

    pose = trials[0].views["C1"].pose
    leg = leg_length_px(pose)
    assert 150 < leg < 190  # a 960x540 synthetic view
    m = margin_px_for(pose)
    assert m == pytest.approx(0.09 * leg, abs=0.01) and 13 < m < 17
    assert margin_px_for(_scaled(pose, 2.0)) == pytest.approx(2 * m, abs=0.02)
    assert margin_px_for(pose, CleanConfig(margin_px=22.0)) == 22.0
    # the config's body-part names (a DLC project with its own names) are used
    names = {"neck": "Neck", "hip": "RHip", "knee": "RKnee", "ankle": "RAnkle", "heel": "RHeel", "toe": "RToe"}
    renamed = pose.replace(bodyparts=tuple(names[b] for b in pose.bodyparts))
    cfg = CleanConfig(leg_chain=tuple(names[b] for b in ("knee", "ankle", "heel", "toe")),
                      reference=("Neck", "RHip"))
    assert margin_px_for(renamed, cfg) == m
    # no ankle: 15 px at a 540-px-high image, scaled with the height; 15 px if unknown
    no_ankle = pose.select(["neck", "hip", "knee"])
    assert margin_px_for(no_ankle) == pytest.approx(15.0 * pose.frame_size[1] / 540)
    assert margin_px_for(no_ankle.replace(frame_size=None)) == 15.0
    with pytest.raises(ValueError, match="margin_px"):
        CleanConfig(margin_px=0.0)
    # measured on the confident points (after the likelihood step): about the same
    used = clean_pose(pose, other=trials[0].views["C3"].pose).summary["margin_px"]
    assert used == pytest.approx(m, rel=0.03)


def test_decisions_do_not_depend_on_the_image_scale(trials):
    """A subject filmed twice as large (or at twice the resolution) gets the same wrong-limb
    and outlier decisions: every threshold is relative to the subject's size or its noise."""
    trial = trials[2]
    c1, c3 = trial.views["C1"].pose, trial.views["C3"].pose
    ref = clean_pose(c1, other=c3).flags & DETECTED
    assert ref.any()
    for k in (0.5, 2.0):
        got = clean_pose(_scaled(c1, k), other=_scaled(c3, k)).flags & DETECTED
        assert (got == ref).all(), k


@pytest.mark.parametrize("size", [(640, 360), (1920, 1080)])
def test_default_margin_holds_at_other_image_sizes(size):
    """Ground truth at 640 x 360 and 1920 x 1080 (DLC's pixel noise and the leg separation
    scale with the image): the default margin repairs the swaps without touching clean
    points, and at 640 x 360 at least as many as a fixed 15 px (right for 960 x 540), which
    is too wide there for legs 10-15 px apart."""
    k = size[1] / 540
    tr = [synthetic.generate_trial(seed, frame_size=size, noise_scale=k, min_swap_separation_px=15 * k)
          for seed in range(6)]
    inj, rep, false, *_ = _score(tr, method="twoview")
    assert inj >= 30 and rep / inj >= 0.9 and false <= 1
    if size[1] < 540:
        fixed = 0
        for trial in tr:
            for name, view in trial.views.items():
                other = next(v for k_, v in trial.views.items() if k_ != name)
                res = clean_pose(view.pose, other=other.pose, config=CleanConfig(margin_px=15.0))
                fixed += int((((res.flags & DETECTED) > 0) & _injected(view)).sum())
        assert rep >= fixed


# --- cameras off by whole frames -----------------------------------------------------------
def _late(pose: Pose, k: int) -> Pose:
    """The camera started ``k`` frames late: its frame f shows the moment f + k (the end
    is padded with missing points, as a camera that stopped with the other would be)."""
    out = pose.copy()
    out.values[:] = np.nan
    if k >= 0:
        out.values[: pose.n_frames - k] = pose.values[k:]
    else:
        out.values[-k:] = pose.values[: pose.n_frames + k]
    return out


def test_view_lag_found_within_range_and_never_wrong(trials):
    from napari_gaitint.core.clean_align import estimate_view_lag

    for trial in trials:
        c1, c3 = trial.views["C1"].pose, trial.views["C3"].pose
        assert estimate_view_lag(c1, c3)[0] == 0 and estimate_view_lag(c3, c1)[0] == 0
        for k in (-3, 4, 8):
            # C3 started k frames late: C1's frame f is C3's frame f - k
            assert estimate_view_lag(c1, _late(c3, k))[0] == -k
            assert estimate_view_lag(_late(c3, k), c1)[0] == k
        # 1 or 2 frames: found or left at 0, never wrong. (The walker's trunk moves as real
        # walkers' do since its calibration on real walking: the neck surges about half as
        # much as the hip, docs/methods/synthetic.md; two frames are then not always clear.)
        for k in (1, 2):
            assert estimate_view_lag(c1, _late(c3, k))[0] in (0, -k)
            assert estimate_view_lag(_late(c3, k), c1)[0] in (0, k)
        assert estimate_view_lag(c1, _late(c3, 3), config=CleanConfig(max_lag_s=0))[0] == 0
        # one step (~13 frames) late: the trunk fits frame by frame, but the other camera's
        # leg moves with this one's; and 0.5 s is the edge of the search: neither is used
        for k in (13, 12):
            lag, info = estimate_view_lag(c1, _late(c3, k))
            assert lag == 0 and info["beyond_range"], k


def test_view_lag_stays_zero_for_synchronised_views_of_all_kinds():
    from napari_gaitint.core.clean_align import estimate_view_lag

    kinds = [dict(fps=100.0), dict(frame_size=(640, 360)), dict(noise_scale=3.0),
             dict(treadmill=True, duration_s=12), dict(dropout_rate=0.05)]
    for seed, kw in enumerate(kinds):
        trial = synthetic.generate_trial(40 + seed, **kw)
        c1, c3 = trial.views["C1"].pose, trial.views["C3"].pose
        for a, b in ((c1, c3), (c3, c1)):
            lag, info = estimate_view_lag(a, b)
            assert lag == 0 and not info.get("beyond_range"), kw


def test_clean_with_lagged_other_view_repairs_and_warns(trials):
    from napari_gaitint.core.errors import GaitintWarning

    synced = _score(trials, method="twoview")
    inj = rep = false = 0
    for trial in trials:
        view, other = trial.views["C1"], trial.views["C3"]
        with pytest.warns(GaitintWarning, match="3 frames earlier.*synchronis"):
            res = clean_pose(view.pose, other=_late(other.pose, 3))
        assert res.summary["alignment"]["lag_frames"] == -3
        flagged = (res.flags & DETECTED) > 0
        truth = _injected(view)
        inj, rep, false = inj + truth.sum(), rep + (flagged & truth).sum(), false + (flagged & ~truth).sum()
        # a step out of sync: the other view is not used (its legs are from other moments)
        with pytest.warns(GaitintWarning, match="moves with this camera.s own leg.*not used as the far leg"):
            far_off = clean_pose(view.pose, other=_late(other.pose, 13))
        alone = clean_pose(view.pose, config=CleanConfig())
        assert (far_off.flags == alone.flags).all()
    assert inj >= 10 and rep / inj >= 0.9 and false <= 1
    assert rep / inj >= synced[1] / synced[0] - 0.1  # about as good as synchronised views


def test_qa_mapping_follows_the_lag(trials):
    from napari_gaitint.core import qa

    c1, c3 = trials[0].views["C1"].pose, trials[0].views["C3"].pose
    m0, _ = qa.map_other_view(c1, c3)
    m3, align = qa.map_other_view(c1, _late(c3, 3))
    assert align["lag_frames"] == -3
    assert_allclose(m3.bodypart("neck")[10:-10, :2], m0.bodypart("neck")[10:-10, :2], atol=1.0, equal_nan=True)


def test_load_flags_reads_back_the_flag_table(tmp_path, trials):
    from napari_gaitint.core._csv import write_csv
    from napari_gaitint.core.clean import clean_pose, flags_path, flags_table, load_flags
    from napari_gaitint.core.errors import InputFileError

    views = trials[0].views
    res = clean_pose(views["C1"].pose, other=views["C3"].pose)
    table = write_csv(flags_path(tmp_path / "T01_C1.h5"), flags_table(res))
    assert table.name == "T01_C1_flags.csv"
    np.testing.assert_array_equal(load_flags(table, res.pose), res.flags)
    renamed = res.pose.replace(bodyparts=tuple(b.upper() for b in res.pose.bodyparts))
    names = {b.upper(): b for b in res.pose.bodyparts}
    np.testing.assert_array_equal(load_flags(table, renamed, names=names), res.flags)
    short = res.pose.replace(values=res.pose.values[:10])
    with pytest.raises(InputFileError, match="names frame .* do not have"):
        load_flags(table, short)
    bad = tmp_path / "bad_flags.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(InputFileError, match="no column"):
        load_flags(bad, res.pose)
