"""Cleaning and gait events on real pose-estimator output (one camera, both legs).

The data are committed in validation/data/real_video/ (MediaPipe Pose keypoints of a public
walking video and events marked by hand, see its PROVENANCE.md), so these tests always run.
The measurement is validation/validate_real_video.py's; docs/validation/real-video.md has
the tables.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from napari_gaitint.core.clean import clean_pose, config_for_names
from napari_gaitint.core.clean_flags import FLAG_INTERPOLATED, FLAG_SWAPPED, FLAG_WRONG_LIMB
from napari_gaitint.core.config import DEFAULT_METHOD
from napari_gaitint.core.pose import Pose

REPO_ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("validate_real_video",
                                               REPO_ROOT / "validation" / "validate_real_video.py")
rv = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rv)

TRIALS = tuple(rv.TRIALS)
#: Half of the hand marking's +-1 frame: a smaller change of the MAE is not "worse".
MAE_SLACK_FRAMES = 0.25


METHODS = ("seed", "zeni", "ankle_hip", "velocity", DEFAULT_METHOD, rv.both_legs(DEFAULT_METHOD))


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return rv.evaluate(METHODS[:-1], tolerance_frames=2.0, pairs=(DEFAULT_METHOD,))


def _row(table, trial, src, method, event="all"):
    sel = ((table["trial"] == trial) & (table["input"] == src) & (table["method"] == method)
           & (table["event"] == event))
    return table[sel].iloc[0]


def test_the_marked_events_come_from_the_annotator():
    for trial in TRIALS:
        pose, truth = rv.load_trial(trial)
        assert set(truth["source"]) == {"manual"} and set(truth["trial"]) == {trial}
        assert len(truth) == 14 and set(truth["side"]) == {"left", "right"}
        # heel strikes and toe offs alternate on each leg, one stride (~36 frames) apart
        for _side, ev in truth.groupby("side"):
            ev = ev.sort_values("frame")
            assert (ev["event"].to_numpy()[1:] != ev["event"].to_numpy()[:-1]).all()
            same = ev[ev["event"] == "heel_strike"]["frame"].diff().dropna()
            assert same.between(35, 38).all()
        # inside the frames with the walker whole in the picture
        has = np.flatnonzero(np.isfinite(pose.bodypart("neck")[:, 0]))
        assert has.min() <= truth["frame"].min() and truth["frame"].max() <= has.max()


_VELOCITY = pytest.mark.xfail(
    reason="the velocity detector times the foot's stop / start on the cleaned track (gap-filled; "
    "the 6 Hz low-pass or, before it, the per-frame trial's filled gaps): 1-3 frames off on real "
    "feet; see docs/validation/real-video.md", strict=True)
#: velocity on the tracked trial's cleaned track before the low-pass is not worse than raw
_VELOCITY_OK = {("sports2d_demo", "cleaned_unfiltered")}
CASES = [pytest.param(t, src, m, marks=_VELOCITY if m == "velocity" and (t, src) not in _VELOCITY_OK else ())
         for t in TRIALS for src in ("cleaned", "cleaned_unfiltered") for m in METHODS]


@pytest.mark.parametrize(("trial", "src", "method"), CASES)
def test_cleaning_never_makes_events_worse_than_the_raw_tracks(table, trial, src, method):
    """No marked event lost, nothing spurious added, the MAE not larger by more than the
    hand marking's resolution: on the cleaned file (gaitint clean) and on the cleaned pose
    before its low-pass (what gaitint analyze times events on)."""
    raw, cleaned = _row(table, trial, "raw", method), _row(table, trial, src, method)
    assert cleaned["found"] >= raw["found"]
    assert cleaned["spurious"] <= raw["spurious"]
    assert cleaned["mae_frames"] <= raw["mae_frames"] + MAE_SLACK_FRAMES


@pytest.mark.parametrize("trial", TRIALS)
def test_bounds_on_real_walking(table, trial):
    """Every marked event found within 2 frames, MAE <= 1 frame, nothing spurious: the
    default detector alone and on both legs, and zeni, raw and cleaned (the other methods:
    see the docs' table)."""
    for src in rv.INPUTS:
        for method in (DEFAULT_METHOD, rv.both_legs(DEFAULT_METHOD)):
            row = _row(table, trial, src, method)
            assert row["found"] == row["marked"] == 14, (src, method)
            assert row["spurious"] == 0 and row["mae_frames"] <= 0.85 and row["max_frames"] <= 1.6, (src, method)
        row = _row(table, trial, src, "zeni")
        assert row["found"] == row["marked"] == 14, src
        assert row["spurious"] == 0 and row["mae_frames"] <= 0.6 and row["max_frames"] <= 1.6, src
    for method in ("seed", "ankle_hip"):
        row = _row(table, trial, "cleaned", method)
        assert row["found"] >= 13 and row["mae_frames"] <= 1.0


def test_the_lone_last_frame_no_longer_makes_a_toe_off():
    """The bug: MediaPipe lost the walker in frames 182-185 of the per-frame trial and found
    it in 186 only; gap filling's spline through that lone frame overshot by ~60 px and the
    seed's rule took the overshoot for a right toe off at 183.6. The gap stays unfilled."""
    pose, _ = rv.load_trial("sports2d_demo_static")
    cleaned = rv.clean_single_view(pose)
    j = pose.bodyparts.index("right_ankle")
    assert np.isfinite(pose.values[186, j, 0]) and np.isnan(pose.values[182:186, j, 0]).all()
    assert np.isnan(cleaned.values[182:186, j, 0]).all()
    right = rv.detect_leg_events(cleaned, "right", "seed")
    assert not ((right["frame"] > 175) & (right["event"] == "toe_off")).any()


def test_single_view_cleaning_uses_the_other_leg_and_leaves_the_far_leg_alone():
    """The bug: a pose estimator's far leg, cleaned as a single view, got half of its frames
    flagged wrong-limb and interpolated into wrong places. With both legs in the file, the
    whole-leg exchange at frame 158 is undone and the far leg keeps its good frames."""
    for trial in TRIALS:
        pose, _ = rv.load_trial(trial)
        config, _ = config_for_names(pose, None)
        assert config.other_leg == ("right_hip", "right_knee", "right_ankle", "right_heel", "right_toe")
        res = clean_pose(pose, config=config)
        has = np.isfinite(pose.values[..., 0])
        for side in ("left", "right"):
            cols = [pose.bodyparts.index(f"{side}_{b}") for b in ("knee", "ankle", "heel", "toe")]
            wrong = (res.flags[:, cols] & FLAG_WRONG_LIMB) != 0
            removed = wrong & ((res.flags[:, cols] & FLAG_SWAPPED) == 0)
            frames_with_data = has[:, cols].any(1).sum()
            # the per-frame mode's far leg is the worst (whole legs exchanged, both feet on
            # one): 20 frames of 120 flagged, 9 of them exchanged back (the tracked: 2 and 2)
            assert wrong.any(1).sum() <= 0.2 * frames_with_data, (trial, side)
            assert removed.any(1).sum() <= 0.15 * frames_with_data, (trial, side)
            # unresolved wrong-limb labels stay missing: never interpolated into a guess
            assert not (res.flags[:, cols][removed] & FLAG_INTERPOLATED).any()
            assert np.isnan(res.pose.values[:, cols, 0][removed]).all()
    pose, _ = rv.load_trial("sports2d_demo")
    res = clean_pose(pose, config=config_for_names(pose, None)[0])
    swapped = np.flatnonzero((res.flags & FLAG_SWAPPED).any(1))
    assert 158 in swapped and len(swapped) <= 3
    # frame 158: MediaPipe put the left leg on the right one and back; the heels return
    left, right = res.pose.bodypart("left_heel")[158, 0], res.pose.bodypart("right_heel")[158, 0]
    assert abs(left - 410) < 15 and abs(right - 550) < 15
    # the exchanged labels took their likelihood along
    j, k = pose.bodyparts.index("left_heel"), pose.bodyparts.index("right_heel")
    assert res.pose.values[158, j, 2] == pose.values[158, k, 2]


# --- the exchange of two legs seen by one camera, on the synthetic walker ---------------
def _both_legs(seed: int, rng) -> tuple[Pose, Pose]:
    """One camera (C1) seeing both legs of the synthetic walker: the near (left) and far
    (right) legs' true keypoints plus 1.5 px of noise; returns (noisy, true)."""
    from napari_gaitint.synthetic.trial import generate_trial

    view = generate_trial(seed).views["C1"]
    parts = ("hip", "knee", "ankle", "heel", "toe")
    names = ("neck",) + tuple(f"{s}_{b}" for b in parts for s in ("left", "right"))
    true = np.full((view.n_frames, len(names), 3), 1.0)
    true[:, 0, :2] = view.true_pose.bodypart("neck")[:, :2]
    for i, b in enumerate(parts):
        true[:, 1 + 2 * i, :2] = view.true_pose.bodypart(b)[:, :2]
        true[:, 2 + 2 * i, :2] = view.true_far_pose.bodypart(b)[:, :2]
    noisy = true.copy()
    noisy[..., :2] += rng.normal(0, 1.5, noisy[..., :2].shape)
    return (Pose(noisy, names, fps=25.0, frame_size=(960, 540)),
            Pose(true, names, fps=25.0, frame_size=(960, 540)))


def _exchange(pose: Pose, frames) -> None:
    left = [i for i, b in enumerate(pose.bodyparts) if b.startswith("left_")]
    right = [i for i, b in enumerate(pose.bodyparts) if b.startswith("right_")]
    a, b = pose.values[:, left].copy(), pose.values[:, right].copy()
    pose.values[np.ix_(frames, left)] = b[frames]
    pose.values[np.ix_(frames, right)] = a[frames]


@pytest.mark.parametrize("seed", [1, 2])
def test_exchanged_legs_are_exchanged_back_any_run_length(seed, rng):
    pose, true = _both_legs(seed, rng)
    heel = np.abs(true.bodypart("left_heel")[:, 0] - true.bodypart("right_heel")[:, 0])
    apart = np.flatnonzero(heel > 60)  # frames where the feet are clearly apart
    apart = apart[(apart > 5) & (apart < pose.n_frames - 30)]
    # a single frame, a run of 4 and one of 20 frames (0.8 s: longer than any single-view
    # wrong-limb run), each starting and ending where the legs are apart
    starts = [apart[0]]
    for length in (4, 20):
        nxt = [f for f in apart if f > starts[-1] + 8 and heel[min(f + length, pose.n_frames - 1)] > 60]
        starts.append(nxt[0])
    runs = [np.arange(s, s + n) for s, n in zip(starts, (1, 4, 20), strict=True)]
    injected = np.concatenate(runs)
    bad = pose.copy()
    _exchange(bad, injected)
    config, _ = config_for_names(bad, None, filter="none", max_gap_s=0)
    res = clean_pose(bad, config=config)
    swapped = (res.flags & FLAG_SWAPPED).any(1)
    assert set(np.flatnonzero(swapped)) == set(injected)
    err = np.linalg.norm(res.pose.xy - true.xy, axis=-1)
    assert np.nanmax(err[injected]) < 8.0  # back on their own legs (noise 1.5 px per axis)
    assert not (res.flags & FLAG_WRONG_LIMB)[~swapped].any()  # crossings are left alone


def test_legs_without_exchanges_are_left_as_they_are(rng):
    pose, _ = _both_legs(3, rng)
    config, _ = config_for_names(pose, None, filter="none")
    assert config.leg_chain == ("left_knee", "left_ankle", "left_heel", "left_toe")
    res = clean_pose(pose, config=config)
    assert not (res.flags & (FLAG_SWAPPED | FLAG_WRONG_LIMB)).any()
    assert res.summary["legs_exchanged_frames"] == 0


def test_one_legs_labels_on_the_other_foot_are_removed_not_interpolated(rng):
    """A frame where the estimator put the left foot's labels on the right foot (both
    labels on one foot): nothing to exchange; the left labels are flagged and stay missing."""
    pose, true = _both_legs(4, rng)
    heel = np.abs(true.bodypart("left_heel")[:, 0] - true.bodypart("right_heel")[:, 0])
    f = int(np.flatnonzero(heel > 80)[3])
    bad = pose.copy()
    for b in ("ankle", "heel", "toe"):
        bad.values[f, bad.bodyparts.index(f"left_{b}"), :2] = bad.bodypart(f"right_{b}")[f, :2] + 2.0
    res = clean_pose(bad, config=config_for_names(bad, None)[0])
    for b in ("ankle", "heel", "toe"):
        j = bad.bodyparts.index(f"left_{b}")
        assert res.flags[f, j] & FLAG_WRONG_LIMB and not res.flags[f, j] & FLAG_INTERPOLATED
        assert np.isnan(res.pose.values[f, j, 0])
