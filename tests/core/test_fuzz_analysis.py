"""Property tests (hypothesis) of the analysis core: cleaning, events, cycles, parameters,
RM-ANOVA, label QA and event editing.

Inputs are the synthetic walker's predictions damaged at random (NaN patterns, likelihoods
including all low, lengths 0/1/2/3 frames and long, extreme and identical points, any
fps > 0) and fully random arrays. Properties: only GaitintErrors escape (a ValueError,
IndexError, ZeroDivisionError or numpy RuntimeWarning from inside is a bug: RuntimeWarnings
are turned into errors here), shapes, body parts and frame numbers are kept, gaps longer
than the limit are never filled, no NaN appears where the input was valid unless the point
was flagged, results are deterministic and inputs are not mutated.
"""

from __future__ import annotations

import contextlib
import functools
import os
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_array_equal

from napari_gaitint.core import annotations, qa
from napari_gaitint.core.clean import clean_pose
from napari_gaitint.core.clean_filters import fill_gaps, lowpass
from napari_gaitint.core.clean_flags import FLAG_LOW_LIKELIHOOD, FLAG_OUTLIER, FLAG_WRONG_LIMB
from napari_gaitint.core.config import CLEAN_METHODS as METHODS
from napari_gaitint.core.config import FILTERS, GAP_METHODS, CleanConfig
from napari_gaitint.core.cycles import CYCLE_COLUMNS, compute_cycles
from napari_gaitint.core.errors import AnalysisError, ConfigError, GaitintError, InputFileError
from napari_gaitint.core.events import EVENT_COLUMNS, HEEL_STRIKE, TOE_OFF, detect_events
from napari_gaitint.core.orient import orient_pose
from napari_gaitint.core.parameters import compute_parameters
from napari_gaitint.core.pose import Pose
from napari_gaitint.core.stats import ANOVA_COLUMNS, rm_anova

#: GAITINT_FUZZ_EXAMPLES=500 for a longer hunt (the default keeps the file under ~30 s)
FAST = settings(max_examples=int(os.environ.get("GAITINT_FUZZ_EXAMPLES", "30")), deadline=None,
                database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much])
#: the exceptions a user may see; anything else escaping is a bug
USER_ERRORS = (AnalysisError, ConfigError, InputFileError)
REMOVED = FLAG_LOW_LIKELIHOOD | FLAG_OUTLIER | FLAG_WRONG_LIMB


@contextlib.contextmanager
def strict_numpy():
    """numpy's RuntimeWarnings (overflow, empty slice, 0/0...) become errors."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", UserWarning)  # the core's own notes to the user
        yield


def call(fn, *args, **kwargs):
    """``fn(...)`` or None when it raised a user error; anything else propagates (a bug)."""
    with strict_numpy():
        try:
            return fn(*args, **kwargs)
        except USER_ERRORS as err:
            assert isinstance(err, GaitintError)
            msg = str(err)
            assert msg and "Traceback" not in msg
            return None


def same(a, b):
    """Bit-for-bit equal arrays, NaN equal to NaN."""
    assert_array_equal(np.asarray(a), np.asarray(b))


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    m = np.concatenate([[False], np.asarray(mask, bool), [False]])
    d = np.diff(m.astype(np.int8))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1), strict=True))


# ---------------------------------------------------------------------------------------
# inputs: the synthetic walker, damaged
# ---------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _trial():
    from napari_gaitint.synthetic.trial import generate_trial

    return generate_trial(3)


EXTREMES = [1e9, -1e9, 0.0, -1.0, 1e-9, -3e8]
lengths = st.one_of(st.sampled_from([0, 1, 2, 3]), st.integers(4, 110), st.just(1100))
fps_values = st.one_of(st.sampled_from([25.0, 100.0, 13.0, 12.5, 2.0, 0.5, 1e-3, 240.0, 1e4]),
                       st.floats(1e-3, 1e4))


@st.composite
def damaged(draw, view="C1", *, allow_inf=False):
    """A DLC prediction pose (image coordinates) of the walker, damaged at random."""
    base = _trial().views[view].pose
    n = draw(lengths)
    reps = -(-max(n, 1) // base.n_frames)
    values = np.concatenate([base.values] * reps)[:n].copy()
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    nb = values.shape[1]
    # blocks of missing frames (one body part or all)
    for _ in range(draw(st.integers(0, 4))):
        if n == 0:
            break
        a = int(rng.integers(0, n))
        length = draw(st.sampled_from([1, 2, 3, 5, 9, 15, 40, n]))
        cols = slice(None) if rng.random() < 0.3 else int(rng.integers(0, nb))
        values[a:a + length, cols, :2] = np.nan
    # scattered NaN coordinates (sometimes only x or only y)
    frac = draw(st.sampled_from([0.0, 0.0, 0.05, 0.3, 0.9, 1.0]))
    values[..., :2][rng.random(values[..., :2].shape) < frac] = np.nan
    # likelihoods
    lk = draw(st.sampled_from(["keep", "all_low", "random", "nan", "zero_one"]))
    if lk == "all_low":
        values[..., 2] = 0.01
    elif lk == "random":
        values[..., 2] = rng.random(values.shape[:2])
    elif lk == "nan":
        values[..., 2] = np.nan
    elif lk == "zero_one":
        values[..., 2] = rng.integers(0, 2, values.shape[:2]).astype(float)
    # extreme and identical points
    extra = draw(st.sampled_from(["none", "extreme", "identical", "constant", "swap"]))
    if n and extra == "extreme":
        k = int(rng.integers(1, 6))
        idx = (rng.integers(0, n, k), rng.integers(0, nb, k), rng.integers(0, 2, k))
        values[idx] = rng.choice(EXTREMES + ([np.inf, -np.inf] if allow_inf else []), k)
    elif n and extra == "identical":  # every body part on one point in some frames
        rows = rng.random(n) < 0.3
        values[rows, :, :2] = values[rows, :1, :2]
    elif extra == "constant":  # nobody moves
        values[..., :2] = np.array([480.0, 270.0])
    elif n > 4 and extra == "swap":  # a burst of far-leg-like jumps
        a = int(rng.integers(0, n - 3))
        values[a:a + 3, 2:, 0] += 80.0
    start = draw(st.sampled_from([0, 0, 7, 1000]))
    index = pd.RangeIndex(start, start + n) if start else None
    return base.replace(values=values, index=index)


def clean_configs():
    return st.builds(
        CleanConfig,
        likelihood_threshold=st.sampled_from([0.0, 0.6, 0.95, 1.0]),
        method=st.sampled_from(METHODS),
        max_gap_frames=st.one_of(st.none(), st.integers(0, 12)),
        max_gap_s=st.sampled_from([0.0, 0.4, 2.0]),
        gap_method=st.sampled_from(GAP_METHODS),
        filter=st.sampled_from(FILTERS),
        cutoff_hz=st.sampled_from([6.0, 0.5, 20.0]),
    )


# ---------------------------------------------------------------------------------------
# clean
# ---------------------------------------------------------------------------------------
@FAST
@given(pose=damaged("C1"), other=st.one_of(st.none(), damaged("C3")), config=clean_configs(),
       fps=fps_values)
def test_clean_pose_properties(pose, other, config, fps):
    pose = pose.replace(fps=fps)
    before = pose.values.copy()
    other_before = other.values.copy() if other is not None else None
    res = call(clean_pose, pose, other=other, config=config)
    same(pose.values, before)  # input not mutated
    if other is not None:
        same(other.values, other_before)
    if res is None:
        return
    out = res.pose
    n, nb = before.shape[:2]
    assert out.values.shape == before.shape
    assert out.bodyparts == pose.bodyparts
    same(out.frames, pose.frames)
    same(out.likelihood, pose.likelihood)  # likelihood column kept
    assert res.flags.shape == (n, nb)
    # no NaN where the input was valid, unless the point was judged bad
    valid_in = np.isfinite(before[..., :2]).all(-1)
    if pose.has_likelihood and config.likelihood_threshold > 0:
        valid_in &= ~(before[..., 2] < config.likelihood_threshold)
    nan_out = np.isnan(out.values[..., :2]).any(-1)
    invented = valid_in & nan_out & ((res.flags & REMOVED) == 0)
    assert not invented.any(), np.argwhere(invented)[:5]
    # gaps longer than the limit stay missing; leading/trailing gaps are never filled. (The
    # seed's "baseline" rule replaces a spike by its neighbours' mean or an extrapolation by
    # design, even a point with only x or only y known: those points carry their flag.)
    max_gap = res.summary["max_gap_frames"]
    replaced = (res.flags & (FLAG_OUTLIER | FLAG_WRONG_LIMB)) != 0 if config.method == "baseline" \
        else np.zeros((n, nb), bool)
    for j in range(nb):
        for a, b in runs(np.isnan(before[:, j, :2]).any(-1)):
            if b - a > max_gap or a == 0 or b == n:
                kept = np.isnan(out.values[a:b, j, :2]).any(-1) | replaced[a:b, j]
                assert kept.all(), (j, a, b, max_gap)
    # deterministic
    again = call(clean_pose, pose, other=other, config=config)
    same(again.pose.values, out.values)
    same(again.flags, res.flags)


@FAST
@given(values=arrays(np.float64, st.tuples(st.integers(0, 60), st.integers(1, 3)),
                     elements=st.one_of(st.floats(-1e9, 1e9), st.just(np.nan))),
       max_gap=st.integers(-1, 12), method=st.sampled_from(GAP_METHODS))
def test_fill_gaps_properties(values, max_gap, method):
    before = values.copy()
    out = call(fill_gaps, values, max_gap_frames=max_gap, method=method)
    same(values, before)
    assert out is not None and out.shape == values.shape
    bad = np.isnan(values).any(axis=1)
    same(out[~bad], values[~bad])  # valid rows untouched
    n_valid = int((~bad).sum())
    gaps = runs(bad)
    # which gaps may be filled: interior, short, and anchored on each side by two valid rows
    # or by a valid row next to another filled gap (a lone row at the end of the data or
    # next to an unfilled gap anchors nothing), settled by repetition
    fillable = [a > 0 and b < len(values) and b - a <= max_gap and n_valid >= 2 for a, b in gaps]
    changed = True
    while changed:
        changed = False
        for i, (a, b) in enumerate(gaps):
            prev_end = gaps[i - 1][1] if i else 0
            next_start = gaps[i + 1][0] if i + 1 < len(gaps) else len(values)
            lone_before = a - prev_end < 2 and (i == 0 or not fillable[i - 1])
            lone_after = next_start - b < 2 and (i + 1 == len(gaps) or not fillable[i + 1])
            if fillable[i] and (lone_before or lone_after):
                fillable[i], changed = False, True
    for (a, b), ok in zip(gaps, fillable, strict=True):
        filled = np.isfinite(out[a:b]).all(axis=1)
        if ok:
            assert filled.all(), (a, b, max_gap)
        else:
            assert not filled.any(), (a, b, max_gap)
    same(call(fill_gaps, values, max_gap_frames=max_gap, method=method), out)
    if values.shape[1] == 1:  # 1-D gives the same as one column
        same(call(fill_gaps, values[:, 0], max_gap_frames=max_gap, method=method), out[:, 0])


@FAST
@given(values=arrays(np.float64, st.tuples(st.integers(0, 80), st.integers(1, 3)),
                     elements=st.one_of(st.floats(-1e9, 1e9), st.just(np.nan))),
       fps=fps_values, method=st.sampled_from(FILTERS), cutoff=st.sampled_from([6.0, 1.0, 0.1]),
       const=st.floats(-1e9, 1e9))
def test_lowpass_properties(values, fps, method, cutoff, const):
    before = values.copy()
    out = call(lowpass, values, fps=fps, method=method, cutoff_hz=cutoff)
    same(values, before)
    if out is None:
        assert method == "butterworth" and cutoff >= fps / 2
        return
    assert out.shape == values.shape
    same(np.isnan(out), np.isnan(values))  # NaN stay NaN, nothing else becomes NaN
    assert np.isfinite(out[~np.isnan(values)]).all()
    partial = np.isnan(values).any(axis=1)
    same(out[partial], values[partial])  # incomplete rows are left alone
    same(call(lowpass, values, fps=fps, method=method, cutoff_hz=cutoff), out)
    # a constant track stays constant (to ~1e-7: a 0.1 Hz cut-off at 8 kHz is ill-conditioned)
    flat = np.full((values.shape[0], 1), const)
    np.testing.assert_allclose(call(lowpass, flat, fps=fps, method=method, cutoff_hz=cutoff),
                               flat, rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------------------------------
# events, cycles, parameters
# ---------------------------------------------------------------------------------------
def _oriented(pose: Pose, direction: int) -> Pose:
    with strict_numpy():
        return orient_pose(pose, direction=direction)


EVENT_METHODS = ["foot", "velocity", "zeni", "seed", "ankle_hip"]


@FAST
@given(pose=damaged("C1"), fps=fps_values, method=st.sampled_from(EVENT_METHODS),
       cleaned=st.booleans())
def test_detect_events_properties(pose, fps, method, cleaned):
    pose = pose.replace(fps=fps)
    if cleaned:
        res = call(clean_pose, pose, config=CleanConfig(filter="none", max_gap_frames=3))
        assume(res is not None)
        pose = res.pose
    oriented = _oriented(pose, _trial().views["C1"].direction)
    before = oriented.values.copy()
    ev = call(detect_events, oriented, side="left", fps=fps, method=method)
    same(oriented.values, before)
    if ev is None:
        return
    assert tuple(ev.columns) == EVENT_COLUMNS
    assert len(ev) > 0
    assert set(ev["event"]) <= {HEEL_STRIKE, TOE_OFF} and set(ev["side"]) == {"left"}
    f = ev["frame"].to_numpy(float)
    assert np.isfinite(f).all()
    assert (f >= oriented.frames.min()).all() and (f <= oriented.frames.max()).all()
    assert (np.diff(f) >= 0).all()
    np.testing.assert_allclose(ev["time_s"].to_numpy(float), f / fps, rtol=1e-12)
    pd.testing.assert_frame_equal(call(detect_events, oriented, side="left", fps=fps, method=method), ev)


@st.composite
def event_tables(draw, n_frames: int):
    """Random events tables, including frames outside the recording and duplicates."""
    frames = draw(st.lists(st.one_of(
        st.floats(-5, n_frames + 5, allow_nan=False),
        st.integers(0, max(n_frames - 1, 0)).map(float)), max_size=12))
    kinds = draw(st.lists(st.sampled_from([HEEL_STRIKE, TOE_OFF]), min_size=len(frames),
                          max_size=len(frames)))
    df = pd.DataFrame({"side": "left", "event": kinds, "frame": np.asarray(frames, float)})
    df["time_s"] = df["frame"] / 25.0
    return df.sort_values("frame", kind="stable").reset_index(drop=True)


def _check_cycles(cyc: pd.DataFrame, pose: Pose, n_points: int) -> None:
    assert tuple(cyc.columns) == CYCLE_COLUMNS
    assert set(cyc["bodypart"]) <= set(pose.bodyparts)
    assert set(cyc["axis"]) <= {"x", "y"}
    assert set(np.round(cyc["pct"], 9)) <= set(np.round(np.linspace(0, 100, n_points), 9))
    sizes = cyc.groupby(["cycle", "bodypart", "axis"], observed=True).size()
    assert (sizes == n_points).all()


@FAST
@given(data=st.data(), pose=damaged("C1"), fps=fps_values, detected=st.booleans(),
       n_points=st.sampled_from([101, 2, 11]), y_reference=st.sampled_from(["floor", "raw", "reference"]))
def test_cycles_and_parameters_properties(data, pose, fps, detected, n_points, y_reference):
    pose = _oriented(pose.replace(fps=fps), _trial().views["C1"].direction)
    events = None
    if detected:
        events = call(detect_events, pose, side="left", fps=fps)
    if events is None:
        events = data.draw(event_tables(pose.n_frames))
        if pose.index is not None:
            events["frame"] += pose.frames[0] if pose.n_frames else 0
    pose_before, events_before = pose.values.copy(), events.copy()
    cyc = call(compute_cycles, pose, events, side="left", fps=fps, n_points=n_points,
               y_reference=y_reference)
    params = call(compute_parameters, pose, events, side="left", fps=fps, px_per_m=500.0)
    same(pose.values, pose_before)
    pd.testing.assert_frame_equal(events, events_before)
    if cyc is not None:
        _check_cycles(cyc, pose, n_points)
        pd.testing.assert_frame_equal(call(compute_cycles, pose, events, side="left", fps=fps,
                                           n_points=n_points, y_reference=y_reference), cyc)
    if params is not None:
        assert len(params) == 1 and params["n_cycles"].iloc[0] >= 1
        t = params["stride_time_s"].iloc[0]
        assert np.isfinite(t) and t > 0
        pd.testing.assert_frame_equal(call(compute_parameters, pose, events, side="left", fps=fps,
                                           px_per_m=500.0), params)


# ---------------------------------------------------------------------------------------
# statistics
# ---------------------------------------------------------------------------------------
@st.composite
def cycle_tables(draw):
    n_trials = draw(st.integers(1, 4))
    views = draw(st.sampled_from([["C1"], ["C1", "C3"], ["C1", "C3", "C2"]]))
    bodyparts = draw(st.sampled_from([["ankle"], ["ankle", "toe"]]))
    n_pct = draw(st.integers(1, 6))
    rows = [(f"T{t}", v, b, a, p) for t in range(n_trials) for v in views for b in bodyparts
            for a in ("x", "y") for p in np.linspace(0, 100, n_pct)]
    df = pd.DataFrame(rows, columns=["trial", "view", "bodypart", "axis", "pct"])
    kind = draw(st.sampled_from(["random", "constant", "extreme", "one_view_constant"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if kind == "random":
        df["value"] = rng.normal(0, 10, len(df))
    elif kind == "constant":
        df["value"] = 3.0
    elif kind == "extreme":
        df["value"] = rng.choice([1e9, -1e9, 0.0, 1e-9], len(df))
    else:
        df["value"] = np.where(df["view"] == "C1", 5.0, rng.normal(0, 1, len(df)))
    df.loc[rng.random(len(df)) < draw(st.sampled_from([0.0, 0.05, 0.5])), "value"] = np.nan
    drop = rng.random(len(df)) < draw(st.sampled_from([0.0, 0.1]))
    return df[~drop].reset_index(drop=True)


@FAST
@given(cycles=cycle_tables(), correction=st.sampled_from([None, "holm", "fdr_bh"]))
def test_rm_anova_properties(cycles, correction):
    before = cycles.copy()
    aov = call(rm_anova, cycles, correction=correction)
    pd.testing.assert_frame_equal(cycles, before)
    if aov is None:
        return
    assert list(aov.columns[: len(ANOVA_COLUMNS)]) == list(ANOVA_COLUMNS)
    assert (aov["n"] <= cycles["trial"].nunique()).all()
    for col in ("p_unc", "p_gg", "eps"):
        p = aov[col].to_numpy(float)
        assert ((p[np.isfinite(p)] >= 0) & (p[np.isfinite(p)] <= 1 + 1e-12)).all(), col
    assert (aov["F"].dropna() >= -1e-9).all()
    pd.testing.assert_frame_equal(call(rm_anova, cycles, correction=correction), aov)


# ---------------------------------------------------------------------------------------
# label QA and event editing (cheap)
# ---------------------------------------------------------------------------------------
@FAST
@given(pose=damaged("C1", allow_inf=True), with_flags=st.booleans())
def test_find_suspects_properties(pose, with_flags):
    before = pose.values.copy()
    flags = np.zeros((pose.n_frames, len(pose.bodyparts)), np.int64) if with_flags else None
    for j in range(len(pose.bodyparts)):
        r = call(qa.jump_residual_px, pose.xy[:, j])
        assert r is not None and r.shape == (pose.n_frames,)
    table = call(qa.find_suspects, pose, view="C1", flags=flags)
    same(pose.values, before)
    if table is None:
        return
    assert list(table.columns) == list(qa.SUSPECT_COLUMNS)
    assert set(table["frame"]) <= set(pose.frames.tolist())
    assert set(table["bodypart"]) <= set(pose.bodyparts)
    pd.testing.assert_frame_equal(call(qa.find_suspects, pose, view="C1", flags=flags), table)


@FAST
@given(ops=st.lists(st.tuples(st.sampled_from(["add", "delete", "nudge"]),
                              st.sampled_from(["left", "right"]),
                              st.sampled_from([HEEL_STRIKE, TOE_OFF]),
                              st.floats(-3, 200, allow_nan=False), st.floats(-5, 5, allow_nan=False)),
                    max_size=15),
       fps=st.one_of(st.none(), fps_values), n_frames=st.integers(1, 150))
def test_event_editing_properties(ops, fps, n_frames):
    ev = annotations.empty_events()
    rejected = None
    for op, side, kind, frame, delta in ops:
        with strict_numpy():
            if op == "add":
                ev = annotations.add_event(ev, side=side, event=kind, frame=frame, fps=fps)
            elif op == "delete":
                ev, rejected, _ = annotations.delete_nearest_event(ev, frame, rejected=rejected)
            elif len(ev):
                pos = annotations.nearest_event(ev, frame)
                ev, rejected, new = annotations.nudge_event(ev, pos, delta, fps=fps,
                                                            rejected=rejected, n_frames=n_frames)
                assert 0 <= ev["frame"].iloc[new] <= max(n_frames - 1, 0) or delta == 0
        assert tuple(ev.columns) == annotations.EVENT_COLUMNS
        assert not ev.duplicated(["trial", "side", "event", "frame"]).any()
        assert ev.equals(annotations.sort_events(ev))


def test_gaitint_errors_are_the_only_user_errors():
    assert all(issubclass(e, GaitintError) for e in USER_ERRORS)


# ---------------------------------------------------------------------------------------
# regression tests for bugs the properties found (plain inputs)
# ---------------------------------------------------------------------------------------
def _walker(n: int, **kw) -> Pose:
    base = _trial().views["C1"].pose
    values = np.concatenate([base.values] * (-(-max(n, 1) // base.n_frames)))[:n].copy()
    return base.replace(values=values, **kw)


@pytest.mark.parametrize("n", [0, 1, 2, 3])
def test_clean_and_events_on_tiny_recordings(n):
    pose = _walker(n)
    other = _trial().views["C3"].pose
    for o in (None, other):
        res = call(clean_pose, pose, other=o)
        if res is not None:
            assert res.pose.values.shape == pose.values.shape
    assert call(detect_events, _oriented(pose, _trial().views["C1"].direction), side="left") is None


def test_duplicate_heel_strikes_make_no_zero_length_cycle():
    """Found by the properties: two heel strikes on one frame (a duplicated hand-edited event)
    gave a 0/0 in the cycle-duration check and a zero-length cycle judged valid."""
    pose = orient_pose(_walker(110))
    for frames in ([7.0, 7.0], [0.0, 0.0, 2.2e-308], [10.0, 10.0, 10.0 + 1e-12]):
        events = pd.DataFrame({"side": "left", "event": HEEL_STRIKE, "frame": frames})
        events["time_s"] = events["frame"] / 25.0
        with strict_numpy():
            with pytest.raises(AnalysisError, match="no full gait cycle on the left side"):
                compute_cycles(pose, events, side="left", fps=25.0)
            with pytest.raises(AnalysisError, match="no full gait cycle on the left side"):
                compute_parameters(pose, events, side="left", fps=25.0)
    # a duplicate among good heel strikes only costs its own zero-length cycle
    events = call(detect_events, pose, side="left", fps=25.0)
    hs = events[events["event"] == HEEL_STRIKE].iloc[[0]]
    doubled = pd.concat([events, hs]).sort_values("frame", kind="stable").reset_index(drop=True)
    with strict_numpy():
        cyc = compute_cycles(pose, doubled, side="left", fps=25.0)
    assert any("duration 0.0 frames" in s for s in cyc.attrs["skipped"])
    assert cyc["cycle"].nunique() >= 1


def test_jump_residual_with_infinite_coordinates_warns_nothing():
    """Found by the properties: an inf coordinate (hand-edited file) raised numpy's
    'invalid value encountered in add' RuntimeWarning in label QA."""
    xy = np.array([[0.0, 0.0], [np.inf, 0.0], [-np.inf, 0.0], [3.0, 0.0], [4.0, 0.0]])
    with strict_numpy():
        r = qa.jump_residual_px(xy)
    assert r.shape == (5,)
    np.testing.assert_allclose(r[4], 1.0)


def test_nudging_an_event_onto_an_identical_one_merges_them():
    """Found by the properties: nudging an event onto another of the same kind and frame left
    two identical events (a zero-length gait cycle later)."""
    ev = annotations.add_event(annotations.empty_events(), side="left", event=HEEL_STRIKE, frame=0)
    ev = annotations.add_event(ev, side="left", event=HEEL_STRIKE, frame=1)
    ev2, _rejected, pos = annotations.nudge_event(ev, 1, 0.0, n_frames=1)  # clipped onto frame 0
    assert list(ev2["frame"]) == [0.0]
    assert pos == 0 and ev2["source"].iloc[pos] == "manual"
    ev3, _rejected, pos = annotations.nudge_event(ev, 1, -1.0)
    assert list(ev3["frame"]) == [0.0] and pos == 0
