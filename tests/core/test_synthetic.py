"""The synthetic two-view walker: reproducibility, self-consistent truth, files, video, CLI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from napari_gaitint.core.config import LEG_CHAIN, ROLES
from napari_gaitint.core.errors import InputFileError, OutputExistsError
from napari_gaitint.core.io import load_pose, read_dlc_table
from napari_gaitint.core.orient import detect_walking_direction
from napari_gaitint.synthetic.files import load_truth, prediction_filename, write_synthetic_cohort
from napari_gaitint.synthetic.trial import (
    MAX_NOISE_PX,
    SCORER,
    WRONG_LIMB_RATES,
    generate_cohort,
    generate_trial,
)

SEEDS = (0, 1, 2, 7)


@pytest.fixture(scope="module")
def trials():
    return [generate_trial(s, trial=f"T{s:02d}") for s in SEEDS]


@pytest.fixture(scope="module")
def long_trial():
    """A 10-minute treadmill-style recording (cameras follow the subject)."""
    return generate_trial(11, treadmill=True, duration_s=600.0)


def _speed(walker, side, part, t, dt=1e-4):
    a = walker.world(t - dt)[f"{side}_{part}"]
    b = walker.world(t + dt)[f"{side}_{part}"]
    return np.linalg.norm(b - a, axis=-1) / (2 * dt)


# ---------------------------------------------------------------------------------------
# contract and reproducibility
# ---------------------------------------------------------------------------------------
def test_contract(trials):
    trial = trials[0]
    assert set(trial.views) == {"C1", "C3"}
    assert trial.fps == 25.0 and trial.frame_size == (960, 540)
    for name, side, direction in (("C1", "left", -1), ("C3", "right", 1)):
        v = trial.views[name]
        assert (v.view, v.side, v.direction) == (name, side, direction)
        for pose in (v.pose, v.true_pose, v.true_far_pose):
            assert pose.bodyparts == ROLES
            assert pose.fps == 25.0 and pose.frame_size == (960, 540)
            assert pose.n_frames == trial.n_frames
        assert v.pose.scorer == SCORER
        assert list(v.wrong_limb.columns[:2]) == ["frame", "bodypart"]
        assert list(v.events.columns[:4]) == ["side", "event", "frame", "time_s"]
        assert set(v.events.side) == {side}
        assert set(v.events.event) <= {"heel_strike", "toe_off"}
        assert_allclose(v.events.frame, v.events.time_s * trial.fps, rtol=0, atol=1e-9)
        lik = v.pose.likelihood
        assert np.all((lik >= 0) & (lik <= 1))
        assert np.isfinite(v.pose.values).all()
    # a walk of a few seconds, entering and leaving the frame
    assert 3.0 < trial.duration_s < 7.0


def test_reproducible_from_seed():
    a, b, c = generate_trial(5), generate_trial(5), generate_trial(6)
    for v in ("C1", "C3"):
        assert_array_equal(a.views[v].pose.values, b.views[v].pose.values)
        assert_array_equal(a.views[v].true_pose.values, b.views[v].true_pose.values)
        pd.testing.assert_frame_equal(a.views[v].wrong_limb, b.views[v].wrong_limb)
        pd.testing.assert_frame_equal(a.views[v].events, b.views[v].events)
    assert a.views["C1"].pose.values.shape != c.views["C1"].pose.values.shape or not np.allclose(
        a.views["C1"].pose.values, c.views["C1"].pose.values
    )
    # cohort trials do not depend on how many trials are asked for
    two, three = generate_cohort(2, seed=4), generate_cohort(3, seed=4)
    assert_array_equal(two[1].views["C3"].pose.values, three[1].views["C3"].pose.values)
    assert [t.trial for t in three] == ["T01", "T02", "T03"]


# ---------------------------------------------------------------------------------------
# the gait itself
# ---------------------------------------------------------------------------------------
def _velocity(walker, side, part, t, dt=1e-4):
    """World velocity (m/s) of one point, ``(n, 2)``."""
    return (walker.world(t + dt)[f"{side}_{part}"] - walker.world(t - dt)[f"{side}_{part}"]) / (2 * dt)


def _strides(trial, side, event):
    """Times of ``event`` of ``side`` (all but the first and last) and the stride durations."""
    ev = trial.events
    hs = ev[(ev.side == side) & (ev.event == "heel_strike")].time_s.to_numpy()
    t = ev[(ev.side == side) & (ev.event == event)].time_s.to_numpy()[1:-1]
    k = np.searchsorted(hs, t, side="right") - 1
    return t, hs[k + 1] - hs[k]


def test_heel_lands_first_moving_forward_and_settles(long_trial):
    """Heel strike: the heel touches the floor (the lowest foot point, toes up) still sliding
    forward at heel_strike_speed, decelerating, and is at rest heel_settle later; the
    forefoot lowers to the floor by foot_flat."""
    w = long_trial.walker
    p = w.params
    ground = p.marker_height_m
    for side in ("left", "right"):
        t, dur = _strides(long_trial, side, "heel_strike")
        assert t.size > 250
        world = w.world(t)
        heel = world[f"{side}_heel"][:, 1]
        assert_allclose(heel, ground, atol=1e-9)  # on the floor
        for part in ("toe", "ankle", "knee"):
            assert np.all(world[f"{side}_{part}"][:, 1] > heel + 0.01), part
        v = _velocity(w, side, "heel", t, dt=1e-6)  # (the acceleration jumps at the strike)
        assert_allclose(v[:, 0], p.heel_strike_speed * p.speed_mps, rtol=1e-3)  # landing speed
        assert np.all(np.abs(v[:, 1]) < 1e-3)  # no longer falling
        before = _velocity(w, side, "heel", t - 0.02)[:, 0]
        assert np.all(before > v[:, 0] + 0.1)  # decelerating into the strike
        assert np.all(w.world(t - 0.06)[f"{side}_heel"][:, 1] > ground + 0.002)  # came from above
        # at rest from heel_settle to (at least) foot flat, where the toe is down too
        for frac in (p.heel_settle + 1e-3, p.foot_flat + 1e-3):
            assert np.all(_speed(w, side, "heel", t + frac * dur) < 1e-3)
        flat = w.world(t + (p.foot_flat + 1e-3) * dur)
        assert_allclose(flat[f"{side}_toe"][:, 1], ground, atol=1e-6)
        # the forefoot lowers monotonically in between
        toe = np.stack([w.world(t + f * dur)[f"{side}_toe"][:, 1] for f in np.linspace(0, p.foot_flat, 8)])
        assert np.all(np.diff(toe, axis=0) < 0)
    # the heel is the lowest foot point at heel strike, in the images too
    for v in long_trial.views.values():
        vh = v.events[v.events.event == "heel_strike"]
        frames = np.round(vh.frame.to_numpy()).astype(int)
        frames = frames[frames < v.n_frames]
        y = v.true_pose.xy[frames][:, :, 1]  # image y grows downward
        heel = y[:, ROLES.index("heel")]
        for part in ("toe", "ankle", "knee", "hip", "neck"):
            assert np.all(heel > y[:, ROLES.index(part)]), part


def test_heel_rises_well_before_the_toe_rolls_off(long_trial):
    """Late stance: the heel rises well before toe off (about the toe marker, which rests),
    and only in the last toe_roll of stance does the toe marker roll forward and up, leaving
    the floor at toe off at toe_off_speed, toe_rise_m up and climbing; clear in swing."""
    w = long_trial.walker
    p = w.params
    ground = p.marker_height_m
    ev = long_trial.events
    for side in ("left", "right"):
        t, dur = _strides(long_trial, side, "toe_off")
        # heel well up 0.1 stride before toe off, toe marker still on the floor then
        early = w.world(t - 0.1 * dur)
        assert np.all(early[f"{side}_heel"][:, 1] > ground + 0.02)
        rest = t - (p.toe_roll + 0.01) * dur
        assert_allclose(w.world(rest)[f"{side}_toe"][:, 1], ground, atol=1e-9)
        assert np.all(_speed(w, side, "toe", rest) < 1e-3)
        # the heel keeps rising to toe off, the foot pitched heel-up by ~to_pitch_deg
        heel = np.stack([w.world(t - f * dur)[f"{side}_heel"][:, 1] for f in (0.2, 0.15, 0.1, 0.05, 0.0)])
        assert np.all(np.diff(heel, axis=0) > 0)
        pitch = np.degrees(w.foot(side, t - 1e-6)[1])
        assert np.all(np.abs(pitch - p.to_pitch_deg) < 8.0)
        # the toe rolls forward and up during toe_roll ...
        roll = np.stack([w.world(t - f * dur)[f"{side}_toe"] for f in np.linspace(p.toe_roll - 0.01, 0, 6)])
        assert np.all(np.diff(roll[..., 0], axis=0) > 0) and np.all(np.diff(roll[..., 1], axis=0) > 0)
        # ... and leaves at toe off moving forward at toe_off_speed, up and climbing
        at = w.world(t)[f"{side}_toe"][:, 1]
        assert_allclose(at, ground + p.toe_rise_m * p.scale, rtol=1e-9)
        v = _velocity(w, side, "toe", t, dt=1e-6)
        assert_allclose(v[:, 0], p.toe_off_speed * p.speed_mps, rtol=1e-3)
        assert np.all(v[:, 1] > 0.05)
        prev = at
        for dt in (0.01, 0.02, 0.04):
            y = w.world(t + dt)[f"{side}_toe"][:, 1]
            assert np.all(y > prev)
            prev = y
        # clear of the ground during the whole swing
        nxt = ev[(ev.side == side) & (ev.event == "heel_strike")].time_s.to_numpy()
        k = np.searchsorted(nxt, t)
        ok = k < nxt.size
        for frac in np.linspace(0.02, 0.98, 25):
            tt = t[ok] + frac * (nxt[k[ok]] - t[ok])
            assert np.all(w.world(tt)[f"{side}_toe"][:, 1] > ground)
            assert np.all(w.world(tt)[f"{side}_heel"][:, 1] > ground)


def test_feet_move_smoothly_through_the_events(long_trial):
    """Positions and velocities are continuous at every phase boundary of the foot model
    (heel strike, settle, foot flat, heel off, toe roll, toe off)."""
    w = long_trial.walker
    p = w.params
    eps = 1e-6
    for side in ("left", "right"):
        t, dur = _strides(long_trial, side, "heel_strike")
        st = w._stride[side]
        k = np.searchsorted(w._hs[side], t)
        to, ho = st["toe_off"][k], st["heel_off"][k]
        for frac in (0.0, p.heel_settle, p.foot_flat, ho, to - p.toe_roll, to):
            tb = t + frac * dur
            for part in ("heel", "toe", "ankle"):
                a = w.world(tb - eps)[f"{side}_{part}"]
                b = w.world(tb + eps)[f"{side}_{part}"]
                assert np.max(np.linalg.norm(b - a, axis=1)) < 1e-4, (frac, part)
                va = _velocity(w, side, part, tb - 1e-4, dt=1e-5)
                vb = _velocity(w, side, part, tb + 1e-4, dt=1e-5)
                assert np.max(np.linalg.norm(vb - va, axis=1)) < 0.05, (frac, part)


def test_stance_fraction_cadence_and_alternation(long_trial):
    ev = long_trial.events
    fractions, stride_times = [], []
    for side in ("left", "right"):
        hs = ev[(ev.side == side) & (ev.event == "heel_strike")].time_s.to_numpy()
        to = ev[(ev.side == side) & (ev.event == "toe_off")].time_s.to_numpy()
        for a, b in zip(hs[:-1], hs[1:], strict=True):
            off = to[(to > a) & (to < b)]
            assert off.size == 1
            fractions.append((off[0] - a) / (b - a))
            stride_times.append(b - a)
    fractions = np.array(fractions)
    assert 0.58 < fractions.mean() < 0.64
    assert np.all((fractions > 0.55) & (fractions < 0.68))
    steps_per_s = 2.0 / np.mean(stride_times)
    assert 1.75 < steps_per_s < 2.05
    assert 0.005 < np.std(stride_times) / np.mean(stride_times) < 0.05  # stride variability
    # legs half a cycle apart: a right heel strike between consecutive left ones, mid-way
    left = ev[(ev.side == "left") & (ev.event == "heel_strike")].time_s.to_numpy()
    right = ev[(ev.side == "right") & (ev.event == "heel_strike")].time_s.to_numpy()
    k = np.searchsorted(left, right) - 1
    ok = (k >= 0) & (k + 1 < left.size)
    rel = (right[ok] - left[k[ok]]) / (left[k[ok] + 1] - left[k[ok]])
    assert_allclose(rel.mean(), 0.5, atol=0.02)
    # constant walking speed: the pelvis advances at speed_mps
    t = np.array([10.0, 590.0])
    x = long_trial.walker.pelvis_x(t)
    assert_allclose((x[1] - x[0]) / 580.0, long_trial.params.speed_mps, rtol=1e-3)
    assert 1.15 < long_trial.params.speed_mps < 1.45


def test_segment_lengths_are_rigid(trials):
    """Thigh and shank lengths in the image stay constant (knee inverse kinematics is exact)."""
    for trial in trials:
        for v in trial.views.values():
            xy = v.true_pose.xy
            for a, b in (("hip", "knee"), ("knee", "ankle"), ("heel", "toe")):
                d = np.linalg.norm(xy[:, ROLES.index(a)] - xy[:, ROLES.index(b)], axis=1)
                assert d.std() / d.mean() < 1e-9, (a, b)
            # the far leg looks smaller (perspective) but just as rigid
            far = v.true_far_pose.xy
            df = np.linalg.norm(far[:, 1] - far[:, 2], axis=1)
            dn = np.linalg.norm(xy[:, 1] - xy[:, 2], axis=1)
            assert df.mean() < dn.mean()


def test_knee_and_hip_angles_look_like_gait(long_trial):
    w = long_trial.walker
    t = np.linspace(5, 595, 60000)
    world = w.world(t)

    def from_vertical(a, b):
        d = b - a
        return np.degrees(np.arctan2(d[:, 0], -d[:, 1]))

    thigh = from_vertical(world["hip"], world["left_knee"])
    knee = thigh - from_vertical(world["left_knee"], world["left_ankle"])
    phase = w.phase(t, "left") % 1.0

    def mean_at(x, lo, hi):
        return x[(phase >= lo) & (phase < hi)].mean()

    assert knee.min() > -0.5  # never hyperextends
    assert 45 < knee.max() < 75  # swing flexion peak
    bins = np.arange(0, 1.0, 0.02)
    curve = np.array([mean_at(knee, b, b + 0.02) for b in bins])
    assert 0.66 <= bins[curve.argmax()] <= 0.82  # ... in early/mid swing
    assert curve.max() > 45
    # nearly straight at heel strike and at the end of swing: real walking (realgait,
    # overground, validation/calibrate_synthetic_feet.py) has 11.5 deg at heel strike and
    # 7.3 deg in the last 8 % of swing on average (lab means 1-35 and 1-37 deg); the walker
    # ~15 and ~12.5 deg
    assert mean_at(knee, 0.0, 0.02) < 20
    assert mean_at(knee, 0.92, 1.0) < 20
    assert 10 < mean_at(knee, 0.08, 0.16) < 30  # loading-response flexion
    assert mean_at(thigh, 0.0, 0.04) > 15  # hip flexed at heel strike
    assert mean_at(thigh, 0.5, 0.62) < -5  # extended before toe off
    hip_y = world["hip"][:, 1]
    assert 0.02 < hip_y.max() - hip_y.min() < 0.1  # vertical oscillation of a few cm


# ---------------------------------------------------------------------------------------
# the cameras
# ---------------------------------------------------------------------------------------
def test_direction_opposite_and_detectable(trials):
    for trial in trials:
        for v in trial.views.values():
            neck = v.pose.bodypart("neck")
            ok = neck[:, 2] > 0.5
            assert detect_walking_direction(neck[ok, 0]) == v.direction
        assert trial.views["C1"].direction == -trial.views["C3"].direction


def test_neck_tracks_are_mirror_consistent(trials):
    trial = generate_trial(3, drift=False)
    width = trial.frame_size[0]
    n1, n3 = trial.views["C1"].true_pose.bodypart("neck"), trial.views["C3"].true_pose.bodypart("neck")
    assert_allclose(n1[:, 0] + n3[:, 0], width, atol=1e-9)
    assert_allclose(n1[:, 1], n3[:, 1], atol=1e-9)
    # the predictions agree within the truncated noise where both are valid
    p1, p3 = trial.views["C1"].pose.bodypart("neck"), trial.views["C3"].pose.bodypart("neck")
    ok = (p1[:, 2] > 0.5) & (p3[:, 2] > 0.5)
    assert ok.sum() > 0.6 * trial.n_frames
    assert np.all(np.abs(p1[ok, 0] + p3[ok, 0] - width) <= 2 * MAX_NOISE_PX)
    # with per-trial camera drift they still agree up to a small offset/scale
    for trial in trials:
        n1 = trial.views["C1"].true_pose.bodypart("neck")
        n3 = trial.views["C3"].true_pose.bodypart("neck")
        assert np.max(np.abs(n1[:, 0] + n3[:, 0] - width)) < 40
        assert np.max(np.abs(n1[:, 1] - n3[:, 1])) < 30
        assert np.corrcoef(n1[:, 0], width - n3[:, 0])[0, 1] > 0.999


def test_subject_enters_and_leaves_through_the_edges(trials):
    for trial in trials:
        for v in trial.views.values():
            neck = v.true_pose.xy[:, 0, 0]
            width = trial.frame_size[0]
            inside = (neck >= 0) & (neck <= width - 1)
            assert not inside[0] and not inside[-1]
            assert inside.mean() > 0.6
            # the body parts outside the frame are low-likelihood predictions
            out = v.dropouts[v.dropouts.reason == "outside"]
            assert len(out) > 0
            lik = v.pose.likelihood[out.frame.to_numpy(), [ROLES.index(b) for b in out.bodypart]]
            assert lik.max() < 0.3


def test_bias_applies_to_one_view_only():
    a = generate_trial(8, bias_px=10.0)
    b = generate_trial(8, bias_px=0.0)
    for name in ("C1", "C3"):
        diff = a.views[name].pose.xy - b.views[name].pose.xy
        if name == "C3":  # walks left-to-right: forward is +x
            assert_allclose(diff[:, 1:, 0], 10.0, atol=1e-6)
            assert_allclose(diff[:, 0], 0.0, atol=1e-6)  # the neck is the shared reference
        else:
            assert_allclose(diff, 0.0, atol=1e-6)
        assert_array_equal(a.views[name].true_pose.values, b.views[name].true_pose.values)


# ---------------------------------------------------------------------------------------
# prediction errors
# ---------------------------------------------------------------------------------------
def _check_wrong_limb_exact(trial, min_sep=15.0):
    n_checked = 0
    for v in trial.views.values():
        pred = v.pose.xy - np.asarray(v.bias_xy_px)
        pred[:, 0] = v.pose.xy[:, 0]  # the neck is never biased
        near, far = v.true_pose.xy, v.true_far_pose.xy
        d_near = np.linalg.norm(pred - near, axis=-1)
        d_far = np.linalg.norm(pred - far, axis=-1)
        injected = np.zeros(d_near.shape, bool)
        injected[v.wrong_limb.frame.to_numpy(), [ROLES.index(b) for b in v.wrong_limb.bodypart]] = True
        dropped = np.zeros_like(injected)
        dropped[v.dropouts.frame.to_numpy(), [ROLES.index(b) for b in v.dropouts.bodypart]] = True
        sep = np.linalg.norm(near - far, axis=-1)
        assert not injected[:, :2].any()  # neck and hip are never swapped
        assert not (injected & dropped).any()
        assert np.all(sep[injected] >= min_sep)
        rows = v.wrong_limb.frame.to_numpy(), [ROLES.index(b) for b in v.wrong_limb.bodypart]
        assert_allclose(v.wrong_limb.separation_px, sep[rows], rtol=1e-9)
        check = ~dropped & (sep >= min_sep)
        nearer_far = d_far < d_near
        assert_array_equal(nearer_far[check], injected[check])
        # swapped points sit on the far leg (within the truncated noise)
        assert np.all(d_far[injected] <= MAX_NOISE_PX + 1e-9)
        n_checked += check.sum()
    return n_checked


def test_wrong_limb_frames_are_exactly_those_on_the_far_leg(trials, long_trial):
    total = sum(_check_wrong_limb_exact(t) for t in trials)
    assert total > 1000
    assert _check_wrong_limb_exact(long_trial) > 100000
    assert sum(len(v.wrong_limb) for t in trials for v in t.views.values()) > 0


def test_wrong_limb_rates_match_the_seed(long_trial):
    for v in long_trial.views.values():
        in_view = (
            (v.true_pose.xy[..., 0] >= 0) & (v.true_pose.xy[..., 0] <= 959)
            & (v.true_pose.xy[..., 1] >= 0) & (v.true_pose.xy[..., 1] <= 539)
        ).sum(axis=0)
        counts = v.wrong_limb.bodypart.value_counts()
        for part in LEG_CHAIN:
            rate = counts.get(part, 0) / in_view[ROLES.index(part)]
            assert_allclose(rate, WRONG_LIMB_RATES[part], rtol=0.35, err_msg=part)
        # runs of 1-3 frames, some of them the whole chain at once
        per_frame = v.wrong_limb.groupby("frame").bodypart.nunique()
        assert (per_frame == len(LEG_CHAIN)).sum() > 5
        for part in LEG_CHAIN:
            f = np.sort(v.wrong_limb.frame[v.wrong_limb.bodypart == part].to_numpy())
            runs = np.split(f, np.flatnonzero(np.diff(f) > 1) + 1)
            lengths = np.array([len(r) for r in runs])
            assert lengths.max() <= 6 and (lengths == 1).any() and (lengths > 1).any()
        # swapped points keep a fairly high likelihood; dropouts are low
        lik = v.pose.likelihood
        sw = lik[v.wrong_limb.frame.to_numpy(), [ROLES.index(b) for b in v.wrong_limb.bodypart]]
        assert sw.min() > 0.5 and sw.mean() > 0.7
        dr = v.dropouts[v.dropouts.reason != "outside"]
        dl = lik[dr.frame.to_numpy(), [ROLES.index(b) for b in dr.bodypart]]
        assert dl.max() < 0.5
        ok = np.ones(lik.shape, bool)
        ok[v.dropouts.frame.to_numpy(), [ROLES.index(b) for b in v.dropouts.bodypart]] = False
        ok[v.wrong_limb.frame.to_numpy(), [ROLES.index(b) for b in v.wrong_limb.bodypart]] = False
        assert np.median(lik[ok]) > 0.95
        # the near hand occludes the hip for some frames, not most
        occluded = (v.dropouts.reason == "occluded").sum() / long_trial.n_frames
        assert 0.0 <= occluded < 0.35
        assert set(v.dropouts.bodypart[v.dropouts.reason == "occluded"]) <= {"hip"}


def test_prediction_noise_is_a_few_pixels(trials):
    errs = []
    for trial in trials:
        for v in trial.views.values():
            bad = np.zeros(v.pose.likelihood.shape, bool)
            bad[v.dropouts.frame.to_numpy(), [ROLES.index(b) for b in v.dropouts.bodypart]] = True
            bad[v.wrong_limb.frame.to_numpy(), [ROLES.index(b) for b in v.wrong_limb.bodypart]] = True
            e = np.linalg.norm(v.pose.xy - v.true_pose.xy, axis=-1)[~bad]
            errs.append(e)
    e = np.concatenate(errs)
    assert e.max() <= MAX_NOISE_PX + 1e-9
    assert 1.0 < np.sqrt(np.mean(e**2)) < 3.0


# ---------------------------------------------------------------------------------------
# files, video, CLI
# ---------------------------------------------------------------------------------------
def test_write_cohort_roundtrip(tmp_path):
    out = tmp_path / "cohort"
    manifest = write_synthetic_cohort(out, n_trials=2, seed=3, video=False)
    assert manifest == out / "trials.csv"
    table = pd.read_csv(manifest, keep_default_na=False)
    assert list(table.columns) == ["trial", "view", "side", "predictions", "video", "fps", "width", "height"]
    assert list(table.trial) == ["T01", "T01", "T02", "T02"]
    assert list(table.view) == ["C1", "C3", "C1", "C3"]
    assert table.predictions[0] == prediction_filename("T01", "C1")
    assert table.predictions[0] == "T01_C1DLC_resnet50_gaitintSyntheticshuffle1_100000.h5"
    expected = generate_cohort(2, seed=3)
    truth = load_truth(out)
    for trial in expected:
        for name, v in trial.views.items():
            row = table[(table.trial == trial.trial) & (table.view == name)].iloc[0]
            pose = load_pose(out / row.predictions)
            assert pose.bodyparts == ROLES and pose.scorer == SCORER
            assert_allclose(pose.values, v.pose.values, rtol=0, atol=1e-12)
            assert_allclose(truth.true_pose(trial.trial, name).values, v.true_pose.values, atol=1e-12)
            assert_allclose(truth.true_pose(trial.trial, name, far=True).values, v.true_far_pose.values,
                            atol=1e-12)
            ev = truth.events[(truth.events.trial == trial.trial) & (truth.events.view == name)]
            assert_allclose(ev.frame.to_numpy(), v.events.frame.to_numpy(), atol=1e-5)
            assert list(ev.event) == list(v.events.event) and set(ev.side) <= {v.side}
            assert_allclose(ev.time_s.to_numpy(), ev.frame.to_numpy() / 25.0, atol=1e-5)
            wl = truth.wrong_limb[(truth.wrong_limb.trial == trial.trial) & (truth.wrong_limb.view == name)]
            assert list(zip(wl.frame, wl.bodypart, strict=True)) == list(
                zip(v.wrong_limb.frame, v.wrong_limb.bodypart, strict=True))
    assert list(truth.events.columns[:6]) == ["trial", "view", "side", "event", "frame", "time_s"]
    assert list(truth.wrong_limb.columns[:4]) == ["trial", "view", "frame", "bodypart"]
    assert set(truth.parameters.side) == {"left", "right"}
    # never overwrite without being asked
    before = (out / table.predictions[0]).read_bytes()
    with pytest.raises(OutputExistsError):
        write_synthetic_cohort(out, n_trials=2, seed=4, video=False)
    assert (out / table.predictions[0]).read_bytes() == before
    write_synthetic_cohort(out, n_trials=2, seed=4, video=False, overwrite=True)
    assert not np.allclose(load_pose(out / table.predictions[0]).values[:5, :, :2],
                           expected[0].views["C1"].pose.values[:5, :, :2])


def test_write_cohort_in_processes_gives_the_same_data(tmp_path):
    one = write_synthetic_cohort(tmp_path / "one", n_trials=3, seed=5, video=False)
    two = write_synthetic_cohort(tmp_path / "two", n_trials=3, seed=5, video=False, n_jobs=2)
    assert one.read_bytes() == two.read_bytes()  # the manifest
    for name in ("events.csv", "wrong_limb.csv", "dropouts.csv", "parameters.csv"):
        assert (one.parent / "truth" / name).read_bytes() == (two.parent / "truth" / name).read_bytes()
    for f in sorted(one.parent.rglob("*.h5")):
        pd.testing.assert_frame_equal(read_dlc_table(f), read_dlc_table(two.parent / f.relative_to(one.parent)))
    assert len(list(one.parent.rglob("*.h5"))) == 3 * 2 * 3  # predictions, true, true far


def test_write_cohort_in_processes_reports_a_worker_error(tmp_path):
    out = tmp_path / "cohort"
    out.mkdir()
    (out / "truth").write_text("a file where the truth folder goes")
    with pytest.raises(InputFileError, match=r"truth: .*not a folder"):
        write_synthetic_cohort(out, n_trials=2, seed=5, video=False, n_jobs=2)
    assert (out / "truth").read_text() == "a file where the truth folder goes"


def test_video_matches_the_keypoints(tmp_path):
    av = pytest.importorskip("av")
    out = tmp_path / "vid"
    manifest = write_synthetic_cohort(out, n_trials=1, seed=2, video=True)
    table = pd.read_csv(manifest, keep_default_na=False)
    trial = generate_cohort(1, seed=2)[0]
    for _, row in table.iterrows():
        v = trial.views[row["view"]]
        assert row["video"] == f"T01_{row['view']}.mp4"
        with av.open(str(out / row.video)) as container:
            stream = container.streams.video[0]
            assert stream.codec_context.name in ("h264", "mpeg4")
            frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
        assert len(frames) == v.n_frames
        assert frames[0].shape == (540, 960, 3)
        # where the subject is in view, every near-side keypoint sits on a dark limb
        xy = v.true_pose.xy
        n_dark = n_total = 0
        for i in range(0, v.n_frames, 3):
            gray = frames[i].astype(np.float32).mean(axis=-1)
            for j in range(len(ROLES)):
                x, y = np.round(xy[i, j]).astype(int)
                if 2 <= x < 958 and 2 <= y < 538:
                    patch = gray[y - 1:y + 2, x - 1:x + 2]
                    n_total += 1
                    n_dark += patch.mean() < 110
        assert n_total > 100
        assert n_dark == n_total
        # the background far from the figure is light
        neck_x = xy[:, 0, 0]
        i = int(np.argmin(np.abs(neck_x - 480)))
        far_x = 60 if neck_x[i] > 480 else 900
        gray = frames[i].astype(np.float32).mean(axis=-1)
        assert gray[40:100, far_x - 20:far_x + 20].min() > 200
