"""Gait cycles, their means and spatiotemporal parameters on hand-made walks with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from napari_gaitint.core.config import ROLES
from napari_gaitint.core.cycles import compute_cycles, mean_cycles, split_cycles
from napari_gaitint.core.errors import AnalysisError
from napari_gaitint.core.parameters import compute_parameters
from napari_gaitint.core.pose import Pose

FPS = 25.0
T = 27.5  # stride, frames
PHASE = 0.3
AMP = 80.0
SPEED = 11.0  # px / frame


def walker(n: int = 150) -> Pose:
    """Gait-coordinate pose: foot x - body x = AMP sin(2 pi (t - PHASE) / T); body at SPEED."""
    t = np.arange(n, dtype=float)
    body = 100.0 + SPEED * t
    rel = AMP * np.sin(2 * np.pi * (t - PHASE) / T)
    lift = 7.5 * (1 - np.sin(2 * np.pi * (t - PHASE) / T))  # 0 at heel strike, smooth
    values = np.ones((n, len(ROLES), 3))
    layout = {"neck": (0.0, 420.0), "hip": (0.0, 260.0), "knee": (0.5, 150.0),
              "ankle": (1.0, 60.0), "heel": (1.0, 50.0), "toe": (1.0, 45.0)}
    for j, bp in enumerate(ROLES):
        k, y = layout[bp]
        values[:, j, 0] = body + k * rel + (12.0 if bp == "toe" else 0.0)
        values[:, j, 1] = y + (lift if k == 1.0 else 0.0)
    return Pose(values, ROLES, fps=FPS)


def true_events(n: int = 150, side: str = "left") -> pd.DataFrame:
    k = np.arange(0, int(n / T))
    hs = PHASE + T / 4 + k * T
    to = PHASE + 3 * T / 4 + k * T
    hs, to = hs[hs < n - 1], to[to < n - 1]
    df = pd.DataFrame({
        "side": side,
        "event": ["heel_strike"] * hs.size + ["toe_off"] * to.size,
        "frame": np.concatenate([hs, to]),
    }).sort_values("frame", ignore_index=True)
    df["time_s"] = df["frame"] / FPS
    return df


def curve(cycles, bodypart, axis, cycle=None):
    sel = (cycles["bodypart"] == bodypart) & (cycles["axis"] == axis)
    if cycle is not None:
        sel &= cycles["cycle"] == cycle
    return cycles.loc[sel, "value"].to_numpy()


def test_split_cycles_flags_missed_and_spurious_events():
    ev = pd.DataFrame({
        "side": "left",
        "event": ["heel_strike", "toe_off", "heel_strike", "toe_off", "toe_off", "heel_strike",
                  "toe_off", "heel_strike", "heel_strike"],
        "frame": [10.0, 26.0, 36.0, 50.0, 53.0, 62.0, 78.0, 114.0, 140.0],
    })
    ev.loc[len(ev)] = ["right", "heel_strike", 20.0]
    table = split_cycles(ev, side="left")
    assert table["cycle"].tolist() == [1, 2, 3, 4]
    assert_allclose(table["start_frame"], [10, 36, 62, 114])
    assert_allclose(table["duration_frames"], [26, 26, 52, 26])
    assert table["valid"].tolist() == [True, False, False, True]
    assert "2 toe offs" in table.loc[1, "reason"]
    assert "duration 52.0" in table.loc[2, "reason"]  # a heel strike was missed
    assert table.loc[0, "toe_off_frame"] == 26.0 and np.isnan(table.loc[3, "toe_off_frame"])
    assert split_cycles(ev, side="right").empty


def test_compute_cycles_known_curves():
    pose, ev = walker(), true_events()
    cycles = compute_cycles(pose, ev, side="left", reference="neck")
    assert list(cycles.columns) == ["side", "cycle", "bodypart", "axis", "pct", "value"]
    n_cycles = int((ev["event"] == "heel_strike").sum()) - 1
    assert cycles["cycle"].nunique() == n_cycles
    assert len(cycles) == n_cycles * len(ROLES) * 2 * 101
    pct = np.linspace(0, 100, 101)
    for c in range(1, n_cycles + 1):
        # heel x relative to the neck: a cosine over the cycle, +AMP at heel strike
        assert_allclose(curve(cycles, "heel", "x", c), AMP * np.cos(2 * np.pi * pct / 100), atol=0.05)
        assert_allclose(curve(cycles, "knee", "x", c), AMP / 2 * np.cos(2 * np.pi * pct / 100), atol=0.05)
        # the reference itself: progression minus the cycle's mean speed (constant here)
        assert_allclose(curve(cycles, "neck", "x", c), 0.0, atol=1e-6)
        # y above the floor (the toe's lowest height, 45 px): heel 5 px at heel strike
        assert_allclose(curve(cycles, "heel", "y", c)[[0, 100]], 5.0, atol=0.2)
        assert_allclose(curve(cycles, "hip", "y", c), 260.0 - 45.0, atol=0.2)
    raw = compute_cycles(pose, ev, side="left", y_reference="raw")
    assert_allclose(curve(raw, "hip", "y"), 260.0)
    rel = compute_cycles(pose, ev, side="left", y_reference="reference", reference="hip")
    assert_allclose(curve(rel, "neck", "y"), 160.0)
    assert_allclose(curve(rel, "neck", "x", 1), -AMP * 0.0, atol=1e-6)


def test_cycles_with_long_gaps_are_skipped_and_named():
    pose, ev = walker(), true_events()
    ref = compute_cycles(pose, ev, side="left")
    pose.values[38:52, ROLES.index("neck"), :2] = np.nan  # the reference: 14 frames in cycle 2
    cycles = compute_cycles(pose, ev, side="left")
    assert 2 not in set(cycles["cycle"])
    assert any("cycle 2" in s and "neck: 14 missing" in s for s in cycles.attrs["skipped"])
    # up to max_reference_gap_s (0.5 s) the smoothly moving reference is bridged
    bridged = compute_cycles(pose, ev, side="left", max_reference_gap_s=0.6)
    assert_allclose(curve(bridged, "heel", "x", 2), curve(ref, "heel", "x", 2), atol=1e-6)
    # another body part's long gap blanks only that body part in that cycle
    toe_gap = walker()
    toe_gap.values[40:52, ROLES.index("toe"), :2] = np.nan
    cycles = compute_cycles(toe_gap, ev, side="left")
    assert cycles.attrs["skipped"] == [] and 2 in set(cycles["cycle"])
    assert np.isnan(curve(cycles, "toe", "x", 2)).all() and np.isnan(curve(cycles, "toe", "y", 2)).all()
    assert cycles.attrs["gaps"] == ["cycle 2: toe left out (12 missing frames in a row)"]
    assert_allclose(curve(cycles, "heel", "x"), curve(ref, "heel", "x"), atol=1e-9)
    assert_allclose(curve(cycles, "toe", "x", 3), curve(ref, "toe", "x", 3), atol=1e-6)
    assert (mean_cycles(cycles).query("bodypart == 'toe'")["n_cycles"] == cycles["cycle"].nunique() - 1).all()
    short = walker()
    short.values[60:62, ROLES.index("toe"), :2] = np.nan  # 2 frames: interpolated over
    assert 3 in set(compute_cycles(short, ev, side="left")["cycle"])


def test_cycles_shorter_than_a_frame_are_never_valid():
    """Heel strikes a hair apart (hand-edited or fuzzed event tables) make cycles with no
    frame in them: rejected, so parameters never divide by a vanishing duration."""
    pose = walker()
    ev = pd.DataFrame({"side": "left", "event": "heel_strike", "frame": [10.0, 10.0 + 1e-12, 10.0 + 2e-12]})
    table = split_cycles(ev, side="left")
    assert not table["valid"].any() and table["reason"].str.startswith("duration").all()
    with pytest.raises(AnalysisError, match="no full gait cycle"):
        compute_parameters(pose, ev, side="left", fps=25.0)
    # a median stride of a denormal number of frames (found by the fuzz tests)
    ev = pd.DataFrame({"side": "left", "event": "heel_strike", "frame": [0.0, 0.0, 2.2e-311, 1.0]})
    with np.errstate(all="raise"):
        assert not split_cycles(ev, side="left")["valid"].any()


def test_no_full_cycle_is_a_clear_error():
    pose, ev = walker(), true_events()
    one_hs = ev[(ev["event"] == "toe_off") | (ev["frame"] < 10)]
    with pytest.raises(AnalysisError, match="no full gait cycle on the left side"):
        compute_cycles(pose, one_hs, side="left")
    neck = ROLES.index("neck")
    pose.values[np.arange(pose.n_frames) % 20 != 0, neck, :2] = np.nan  # 19-frame gaps
    pose.source = "T01_C1DLC.h5"
    with pytest.raises(AnalysisError, match=r"T01_C1DLC\.h5: no full gait cycle.*neck: 19 missing"):
        compute_cycles(pose, ev, side="left")
    pose.values[:, [ROLES.index("neck"), ROLES.index("hip")], :2] = np.nan
    with pytest.raises(AnalysisError, match=r"reference 'neck' has no data and neither has 'hip'"):
        compute_cycles(pose, ev, side="left")


def test_mean_cycles_mean_sd_and_groups():
    df = pd.DataFrame({
        "trial": "T01", "side": "left", "cycle": [1, 2, 3, 1, 2, 3], "bodypart": "heel",
        "axis": "x", "pct": [0.0, 0.0, 0.0, 1.0, 1.0, 1.0], "value": [1.0, 2.0, 6.0, 0.0, 0.0, np.nan],
    })
    m = mean_cycles(df)
    assert list(m.columns) == ["trial", "side", "bodypart", "axis", "pct", "value", "sd", "n_cycles"]
    assert_allclose(m["value"], [3.0, 0.0])
    assert_allclose(m["sd"], [np.std([1, 2, 6], ddof=1), 0.0])
    assert m["n_cycles"].tolist() == [3, 2]
    cycles = compute_cycles(walker(), true_events(), side="left")
    mc = mean_cycles(cycles)
    assert len(mc) == len(ROLES) * 2 * 101
    assert_allclose(mc["sd"], 0.0, atol=0.05)
    assert (mc["n_cycles"] == cycles["cycle"].nunique()).all()


def _groupby_means(cycles: pd.DataFrame) -> pd.DataFrame:
    """mean_cycles as a plain pandas groupby: what its numpy path must equal to the bit."""
    keys = [c for c in cycles.columns if c not in ("cycle", "value")]
    out = cycles.groupby(keys, sort=False, observed=True)["value"].agg(
        value="mean", sd="std", n_cycles="count").reset_index()
    out["n_cycles"] = out["n_cycles"].astype(int)
    return out


def _long_walk_cycles(n_cycles: int = 300, seed: int = 0) -> pd.DataFrame:
    """compute_cycles of a long walk, with noisy values around a large offset (where the
    order of summation shows in the last bits)."""
    n = int(T * (n_cycles + 2))
    cycles = compute_cycles(walker(n), true_events(n), side="left")
    rng = np.random.default_rng(seed)
    cycles["value"] = 1e4 + rng.normal(0, 50, len(cycles))
    return cycles


def test_mean_cycles_numpy_path_is_the_groupby_to_the_bit():
    from napari_gaitint.core.cycles import _cycle_blocks

    cycles = _long_walk_cycles()
    keys = ["side", "bodypart", "axis", "pct"]
    value = cycles["value"].to_numpy().copy()
    rng = np.random.default_rng(1)
    value[rng.random(value.size) < 0.2] = np.nan  # scattered gaps
    heel_x = ((cycles["bodypart"] == "heel") & (cycles["axis"] == "x")).to_numpy()
    value[heel_x & (cycles["pct"] == 3.0).to_numpy()] = np.nan  # a point never seen
    value[heel_x & (cycles["cycle"] != 5).to_numpy() & (cycles["pct"] == 7.0).to_numpy()] = np.nan  # seen once
    cycles["value"] = value
    single = cycles[cycles["cycle"] == 5].reset_index(drop=True)
    labels = {k: pd.Categorical([v] * len(cycles)) for k, v in (("trial", "T01"), ("view", "C1"))}
    extra = cycles.assign(**labels)[["trial", "view", *cycles.columns]]  # more keys
    unused = cycles.assign(bodypart=cycles["bodypart"].cat.add_categories(["tail"]))
    for table in (cycles, single, extra, unused):
        assert _cycle_blocks(table, [c for c in table.columns if c not in ("cycle", "value")]) is not None
        got, want = mean_cycles(table), _groupby_means(table)
        pd.testing.assert_frame_equal(got, want, check_exact=True)
        for col in ("value", "sd"):
            assert np.array_equal(got[col].to_numpy(), want[col].to_numpy(), equal_nan=True)
    got = mean_cycles(cycles).set_index(["bodypart", "axis", "pct"])
    assert np.isnan(got.loc[("heel", "x", 3.0), ["value", "sd"]]).all() and got.loc[("heel", "x", 3.0), "n_cycles"] == 0
    assert np.isnan(got.loc[("heel", "x", 7.0), "sd"]) and got.loc[("heel", "x", 7.0), "n_cycles"] == 1
    assert np.isnan(mean_cycles(single)["sd"]).all()
    assert list(mean_cycles(unused)["bodypart"].cat.categories) == [*ROLES, "tail"]
    # numpy's own (pairwise) sums would not do: they differ in the last bits
    blocks = _cycle_blocks(cycles, keys)
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        assert not np.array_equal(np.nanmean(blocks, axis=0), _groupby_means(cycles)["value"], equal_nan=True)


@pytest.mark.parametrize("change", ["shuffled", "row_dropped", "duplicate_key", "duplicate_key_apart",
                                    "nan_key", "inf_value", "text_key"])
def test_mean_cycles_of_other_layouts_go_through_the_groupby(change):
    from napari_gaitint.core.cycles import _cycle_blocks

    cycles = _long_walk_cycles(20)
    if change == "shuffled":  # every cycle's rows, but not in the same order
        cycles = cycles.sample(frac=1.0, random_state=0)
    elif change == "row_dropped":
        cycles = cycles.drop(index=cycles.index[40])
    elif change == "duplicate_key":  # two rows of a cycle with the same labels
        cycles.loc[cycles.index[1::len(ROLES) * 2 * 101], "pct"] = 0.0
    elif change == "duplicate_key_apart":  # a cycle's last row labelled as its first
        block = len(ROLES) * 2 * 101
        for k in ("side", "bodypart", "axis", "pct"):
            cycles.loc[cycles.index[block - 1::block], k] = cycles[k].iloc[0]
    elif change == "nan_key":  # left out by the groupby
        cycles.loc[cycles.index[::len(ROLES) * 2 * 101], "pct"] = np.nan
    elif change == "inf_value":
        cycles.loc[cycles.index[7], "value"] = np.inf
    else:
        cycles["side"] = cycles["side"].astype(str)
    keys = [c for c in cycles.columns if c not in ("cycle", "value")]
    assert _cycle_blocks(cycles, keys) is None
    pd.testing.assert_frame_equal(mean_cycles(cycles), _groupby_means(cycles), check_exact=True)


def test_parameters_known_values():
    pose, ev = walker(), true_events()
    p = compute_parameters(pose, ev, side="left", fps=FPS, px_per_m=200.0)
    assert len(p) == 1
    row = p.iloc[0]
    assert row["side"] == "left" and row["n_cycles"] == 4 and row["n_skipped"] == 0
    assert_allclose(row["stride_time_s"], T / FPS)
    assert_allclose(row["cadence_steps_per_min"], 120 / (T / FPS))
    assert_allclose(row["stance_pct"], 50.0)
    assert_allclose(row["swing_pct"], 50.0)
    assert_allclose(row["stride_length_px"], SPEED * T, rtol=1e-3)
    assert_allclose(row["step_length_px"], SPEED * T / 2, rtol=1e-3)
    assert_allclose(row["speed_px_per_s"], SPEED * FPS, rtol=1e-9)
    assert_allclose(row["stride_length_m"], SPEED * T / 200.0, rtol=1e-3)
    assert_allclose(row["speed_m_per_s"], SPEED * FPS / 200.0, rtol=1e-9)
    no_scale = compute_parameters(pose, ev, side="left", fps=FPS)
    assert "stride_length_m" not in no_scale.columns


@pytest.mark.parametrize("seed", [21, 22])
def test_walker_parameters_and_cycles_from_detected_events(seed):
    """Raw predictions of the synthetic walker -> events -> parameters close to the truth."""
    import warnings

    from napari_gaitint.core.events import detect_events, match_events
    from napari_gaitint.core.orient import orient_pose
    from napari_gaitint.synthetic.trial import generate_trial

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        trial = generate_trial(seed)
    truth = trial.parameters().set_index("side")
    for view in trial.views.values():
        pose = orient_pose(view.pose)
        ev = detect_events(pose, side=view.side)
        p = compute_parameters(pose, ev, side=view.side).iloc[0]
        t = truth.loc[view.side]
        assert p["n_cycles"] >= 2
        assert_allclose(p["stride_time_s"], t["stride_time_s"], rtol=0.03)
        assert_allclose(p["cadence_steps_per_min"], t["cadence_steps_per_min"], rtol=0.03)
        # Stance from detected events differs from the truth by those events' own timing
        # errors (toe off minus heel strike, in % of a stride): the parameters add none. The
        # default detector's events are within a frame (test_events.py), a frame being ~4 %
        # of a stride here: stance within 4 % of the cycle (measured: -2.4 to +0.4 %).
        err = match_events(ev, view.events, tolerance_frames=3).groupby("event")["error_frames"].mean()
        expected = 100 * (err["toe_off"] - err["heel_strike"]) / (t["stride_time_s"] * trial.fps)
        assert abs(p["stance_pct"] - t["stance_pct"] - expected) < 1.5
        assert abs(p["stance_pct"] - t["stance_pct"]) < 4
        cycles = compute_cycles(pose, ev, side=view.side)
        mean = mean_cycles(cycles)
        heel_x = mean[(mean["bodypart"] == "heel") & (mean["axis"] == "x")]["value"].to_numpy()
        # heel in front of the neck at heel strike, behind it around toe off (~60 %)
        assert heel_x[0] > 0 and heel_x[100] > 0 and heel_x[55:70].min() < 0


# ---------------------------------------------------------------------------------------
# regressions from validation/robustness_events.py
# ---------------------------------------------------------------------------------------
def test_missing_reference_and_body_part_do_not_reject_every_cycle():
    """Regression: with the neck (the default reference) or any one body part missing
    entirely, every cycle was rejected ("neck: 150 missing frames in a row")."""
    pose, ev = walker(), true_events()
    ref = compute_cycles(pose, ev, side="left")
    no_neck = pose.copy()
    no_neck.values[:, ROLES.index("neck"), :2] = np.nan
    no_neck.values[:, ROLES.index("toe"), 2] = 0.01  # toe all below the likelihood cut-off
    cyc = compute_cycles(no_neck, ev, side="left")
    assert cyc.attrs["reference"] == "hip"  # the walker's hip x equals its neck x
    assert cyc.attrs["missing_bodyparts"] == ["neck", "toe"]
    assert "neck has no data: x is relative to hip instead" in cyc.attrs["notes"]
    assert set(cyc["bodypart"]) == set(ROLES) - {"neck", "toe"}
    assert cyc["cycle"].nunique() == ref["cycle"].nunique()
    for bp in ("knee", "heel"):
        assert_allclose(curve(cyc, bp, "x"), curve(ref, bp, "x"), atol=1e-9)
    # the floor without the toe is the heel's lowest point (toe was 5 px lower)
    assert_allclose(curve(cyc, "hip", "y"), curve(ref, "hip", "y") - 5.0, atol=0.2)


def test_low_likelihood_points_are_missing_in_raw_predictions():
    pose, ev = walker(), true_events()
    pose.values[40:52, ROLES.index("knee"), 2] = 0.2  # 12 frames inside cycle 2
    pose.values[40:52, ROLES.index("knee"), 0] += 300.0  # garbage, as DLC writes it
    cycles = compute_cycles(pose, ev, side="left")
    assert np.isnan(curve(cycles, "knee", "x", 2)).all()
    assert_allclose(curve(cycles, "knee", "x", 1), AMP / 2 * np.cos(2 * np.pi * np.linspace(0, 1, 101)),
                    atol=0.05)
    kept = compute_cycles(pose, ev, side="left", min_likelihood=0.0)
    assert curve(kept, "knee", "x", 2).max() > 250  # the garbage is used when asked to


def _reference_cycles(pose, ev, side, n_points=101):
    """The straightforward per-cycle computation (local spline per cycle and body part)."""
    from scipy.interpolate import CubicSpline

    table = split_cycles(ev, side=side, pose=pose)
    pct = np.linspace(0, 100, n_points)
    out = {}
    for r in table[table["valid"]].itertuples():
        p0, p1 = r.start_frame, r.end_frame
        at = p0 + (p1 - p0) * pct / 100
        lo, hi = max(0, int(np.floor(p0)) - 2), min(pose.n_frames, int(np.ceil(p1)) + 3)
        rows = np.arange(lo, hi)
        lowest = np.fmin(pose.bodypart("heel")[lo:hi, 1], pose.bodypart("toe")[lo:hi, 1])
        floor = np.nanpercentile(lowest, 5)
        for bp in pose.bodyparts:
            x = pose.bodypart(bp)[lo:hi, 0] - pose.bodypart("neck")[lo:hi, 0]
            y = pose.bodypart(bp)[lo:hi, 1]
            for axis, v in (("x", x), ("y", y)):
                ok = np.isfinite(v)
                val = CubicSpline(rows[ok], v[ok])(at)
                out[(r.cycle, bp, axis)] = val - floor if axis == "y" else val
    return out


def test_vectorised_cycles_match_the_per_cycle_computation(rng):
    """The vectorised resampling (one spline per track) equals per-cycle local splines."""
    pose, ev = walker(n=400), true_events(n=400)
    pose.values[..., :2] += rng.normal(0, 1.0, pose.values[..., :2].shape)
    pose.values[[50, 51, 90, 200], ROLES.index("ankle"), :2] = np.nan  # short gaps
    cycles = compute_cycles(pose, ev, side="left")
    expected = _reference_cycles(pose, ev, "left")
    assert cycles["cycle"].nunique() == len({k[0] for k in expected})
    for (c, bp, axis), val in expected.items():
        if bp == "neck" and axis == "x":
            continue  # the reference's own x is detrended (tested above)
        got = curve(cycles, bp, axis, c)
        # the local splines' end conditions (2 samples past the cycle, worse next to a gap) move
        # the first and last few percent by a fraction of the 1 px noise; inside they agree
        assert_allclose(got, val, atol=0.5, err_msg=f"{c} {bp} {axis}")
        assert_allclose(got[10:91], val[10:91], atol=0.02, err_msg=f"{c} {bp} {axis}")


def test_cycle_splines_are_scipys_cubic_spline_to_the_bit(rng):
    """The resampling's own spline fit gives the bits of scipy's CubicSpline (not-a-knot),
    inside, at the knots and beyond the ends, at any scale and spacing of the samples."""
    from scipy.interpolate import CubicSpline

    from napari_gaitint.core.cycles import _cubic_spline

    for _ in range(300):
        n = int(rng.integers(4, 300))
        x = np.sort(rng.choice(np.arange(2.0 * n), n, replace=False))
        y = rng.normal(size=(n, int(rng.integers(1, 6)))) * rng.choice([1e-3, 1.0, 500.0])
        at = np.concatenate([rng.uniform(x[0] - 2, x[-1] + 2, 200), x])
        want = CubicSpline(x, y, axis=0)(at)
        assert np.array_equal(_cubic_spline(x, y)(at).view(np.int64), want.view(np.int64))


def test_longest_gap_per_window_matches_brute_force(rng):
    from napari_gaitint.core.cycles import _longest_run_in_windows

    mask = rng.random(500) < 0.4
    mask[100:140] = True
    lo = rng.integers(0, 480, 200)
    hi = lo + rng.integers(1, 80, 200)
    got = _longest_run_in_windows(mask, lo, hi)

    def brute(m):
        best = cur = 0
        for v in m:
            cur = cur + 1 if v else 0
            best = max(best, cur)
        return best

    assert got.tolist() == [brute(mask[a:b]) for a, b in zip(lo, hi, strict=True)]


def test_parameters_survive_gaps_away_from_the_events_and_a_missing_hip():
    """Regression: a gap in the heel or hip anywhere in a cycle (e.g. the arm hiding the
    hip marker every stride) rejected the cycle; a missing hip gave no parameters."""
    pose, ev = walker(), true_events()
    ref = compute_parameters(pose, ev, side="left", fps=FPS).iloc[0]
    gappy = pose.copy()
    t = np.arange(pose.n_frames)
    phase = ((t - PHASE) / T) % 1.0
    swing_mid = (phase > 0.6) & (phase < 0.9)  # far from the heel strikes (phase 0.25)
    gappy.values[swing_mid, ROLES.index("heel"), 2] = 0.1
    gappy.values[:, ROLES.index("hip"), :2] = np.nan
    p = compute_parameters(gappy, ev, side="left", fps=FPS)
    assert p.attrs["reference"] == "neck" and p.attrs["foot"] == "heel"
    for key in ("n_cycles", "stride_time_s", "stance_pct", "stride_length_px", "speed_px_per_s"):
        assert_allclose(p.iloc[0][key], ref[key], rtol=1e-6, err_msg=key)
    # a heel gap at a heel strike leaves that stride's length out, not the cycle's timing
    hole = pose.copy()
    first_hs = ev.loc[ev["event"] == "heel_strike", "frame"].iloc[1]
    hole.values[int(first_hs) - 4 : int(first_hs) + 5, ROLES.index("heel"), :2] = np.nan
    hole.values[int(first_hs) - 4 : int(first_hs) + 5, ROLES.index("ankle"), :2] = np.nan
    p = compute_parameters(hole, ev, side="left", fps=FPS).iloc[0]
    assert p["n_cycles"] == ref["n_cycles"]
    assert_allclose(p["stride_length_px"], ref["stride_length_px"], rtol=1e-3)


# --- steps: the other leg from the other camera ----------------------------------------
def _limping_trial(seed: int, share: float, duty: float | None = None):
    """Right heel strike at ``share`` of the left stride (stance ``duty``, default drawn)."""
    import dataclasses

    from napari_gaitint.synthetic.trial import generate_trial
    from napari_gaitint.synthetic.walker import draw_walker_params

    params = dataclasses.replace(draw_walker_params(np.random.default_rng(seed)), right_step_share=share)
    if duty is not None:
        params = dataclasses.replace(params, duty=duty)
    return generate_trial(seed, params=params)


def _px_per_m(trial, view) -> float:
    """This camera's scale at the near heel (gait px per world m), from the true track."""
    from napari_gaitint.core.orient import orient_pose

    x = orient_pose(view.true_pose).bodypart("heel")[:, 0]
    wx = trial.world(np.arange(x.size) / trial.fps)[f"{view.side}_heel"][:, 0]
    ok = np.isfinite(x)
    return float(np.polyfit(wx[ok], x[ok], 1)[0])


def test_steps_of_true_poses_are_the_world_steps():
    """Each heel relative to the hip in its own view, the other camera's scaled by the leg
    lengths: the step lengths of the world, step by step (< 0.7 cm: perspective, and the two
    legs' median hip-ankle distances, which set the scale between the views, differ by
    ~0.5 % on this limping walker)."""
    from napari_gaitint.core.orient import orient_pose
    from napari_gaitint.core.parameters import compute_steps

    trial = _limping_trial(5, 0.44)
    for a, b in (("C1", "C3"), ("C3", "C1")):
        va, vb = trial.views[a], trial.views[b]
        steps = compute_steps(orient_pose(va.true_pose), va.events, orient_pose(vb.true_pose), vb.events,
                              side=va.side, other_side=vb.side)
        assert steps["valid"].all() and len(steps) >= 3
        w = trial.world(steps["frame"].to_numpy() / trial.fps)
        true_m = w[f"{va.side}_heel"][:, 0] - w[f"{vb.side}_heel"][:, 0]
        assert_allclose(steps["step_length_px"] / _px_per_m(trial, va), true_m, atol=0.007)
        # the step time: from the other leg's heel strike before
        hs_b = vb.events.loc[vb.events["event"] == "heel_strike", "frame"].to_numpy()
        before = np.array([hs_b[hs_b < f].max() for f in steps["frame"]])
        assert_allclose(steps["step_time_s"], (steps["frame"] - before) / trial.fps)


@pytest.mark.parametrize("seed", [1, 2])
def test_a_limp_is_measured_where_half_the_stride_would_hide_it(seed):
    """Right heel strike at 42 % of the left stride: the left step is long and slow, the
    right one short and quick. From cleaned predictions and detected events, the step
    length / stride length is within 0.025 of the truth on each side (half the stride, the
    one-view rule, is off by 0.06-0.10) and the two step times add up to the stride. (The
    heels are measured at the detected heel strikes, where the landing heel still slides
    and the trailing one is rising: a third of a frame of timing and the 6 Hz low-pass make
    up the error, up to 0.021 on these trials.)"""
    from napari_gaitint.core.clean import clean_pose
    from napari_gaitint.core.events import detect_events
    from napari_gaitint.core.orient import orient_pose
    from napari_gaitint.core.parameters import compute_steps

    # Stance 66 % of the stride, so that both feet are on the floor around either heel
    # strike: at 61 % and 0.42 the trailing foot would be 3 % of a stride from toe off at
    # the other heel strike, its heel high and moving fast (as the walker's feet do since
    # their calibration on real walking), and a heel strike timed a frame off would move it.
    trial = _limping_trial(seed, 0.42, duty=0.66)
    c1, c3 = trial.views["C1"], trial.views["C3"]
    pose = {v.view: orient_pose(clean_pose(v.pose, other=o.pose).pose) for v, o in ((c1, c3), (c3, c1))}
    events = {v: detect_events(pose[v], side=trial.views[v].side) for v in pose}
    truth = trial.parameters().set_index("side")
    got = {}
    for a, b in ((c1, c3), (c3, c1)):
        steps = compute_steps(pose[a.view], events[a.view], pose[b.view], events[b.view],
                              side=a.side, other_side=b.side)
        p = compute_parameters(pose[a.view], events[a.view], side=a.side, steps=steps).iloc[0]
        assert p["steps_from_both_views"] and p["n_steps"] == steps["valid"].sum() >= 2
        hs = trial.events.loc[(trial.events.side == a.side) & (trial.events.event == "heel_strike"), "time_s"]
        w = trial.world(hs.to_numpy())
        true_share = np.mean(w[f"{a.side}_heel"][:, 0] - w[f"{b.side}_heel"][:, 0]) / truth.loc[a.side, "stride_length_m"]
        assert abs(true_share - 0.5) > 0.04  # a limp that half the stride misses
        assert abs(p["step_length_px"] / p["stride_length_px"] - true_share) < 0.025, a.side
        got[a.side] = p
    assert got["left"]["step_time_s"] > got["right"]["step_time_s"] + 0.1
    stride = np.mean([got[s]["stride_time_s"] for s in got])
    assert_allclose(got["left"]["step_time_s"] + got["right"]["step_time_s"], stride, atol=0.04)


def test_a_missed_heel_strike_of_the_other_leg_invalidates_that_step_only():
    from napari_gaitint.core.orient import orient_pose
    from napari_gaitint.core.parameters import compute_steps

    trial = _limping_trial(3, 0.5)
    c1, c3 = trial.views["C1"], trial.views["C3"]
    ev3 = c3.events
    hs3 = ev3.index[ev3["event"] == "heel_strike"]
    missed = ev3.drop(index=hs3[1])  # the detector missed one right heel strike
    full = compute_steps(orient_pose(c1.true_pose), c1.events, orient_pose(c3.true_pose), ev3,
                         side="left", other_side="right")
    steps = compute_steps(orient_pose(c1.true_pose), c1.events, orient_pose(c3.true_pose), missed,
                          side="left", other_side="right")
    bad = steps[~steps["valid"]]
    assert len(bad) == 1 and "no right heel strike since the previous left one" in bad["reason"].iloc[0]
    assert bad["frame"].iloc[0] > ev3.loc[hs3[1], "frame"]
    good = steps[steps["valid"]]
    assert_allclose(good["step_length_px"], full.loc[good.index, "step_length_px"])
    p = compute_parameters(orient_pose(c1.true_pose), c1.events, side="left", steps=steps).iloc[0]
    assert p["n_steps"] == len(good)


def test_a_spurious_heel_strike_of_the_other_leg_invalidates_that_step_only():
    from napari_gaitint.core.orient import orient_pose
    from napari_gaitint.core.parameters import compute_steps

    trial = _limping_trial(3, 0.5)
    c1, c3 = trial.views["C1"], trial.views["C3"]
    near, far = orient_pose(c1.true_pose), orient_pose(c3.true_pose)
    full = compute_steps(near, c1.events, far, c3.events, side="left", other_side="right")
    # a second right heel strike detected 3 frames before the third left one
    third = full["frame"].iloc[2]
    extra = pd.DataFrame({"side": ["right"], "event": ["heel_strike"], "frame": [third - 3.0],
                          "time_s": [(third - 3.0) / c3.true_pose.fps]})
    ev3 = pd.concat([c3.events, extra], ignore_index=True).sort_values("frame", ignore_index=True)
    steps = compute_steps(near, c1.events, far, ev3, side="left", other_side="right")
    bad = steps[~steps["valid"]]
    assert list(bad["frame"]) == [third]
    assert bad["reason"].iloc[0] == "2 right heel strikes since the previous left one"
    assert_allclose(bad["step_time_s"], 3.0 / c3.true_pose.fps)  # what it would have reported
    good = steps[steps["valid"]]
    assert len(good) == len(full) - 1
    assert_allclose(good["step_length_px"], full.loc[good.index, "step_length_px"])


def test_one_view_keeps_half_the_stride():
    pose, ev = walker(), true_events()
    p = compute_parameters(pose, ev, side="left", fps=FPS).iloc[0]
    assert not p["steps_from_both_views"] and p["n_steps"] == 0 and np.isnan(p["step_time_s"])
    assert_allclose(p["step_length_px"], p["stride_length_px"] / 2)
