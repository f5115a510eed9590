"""Mirroring, image <-> gait coordinates, walking-direction detection."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from napari_gaitint.core import io
from napari_gaitint.core.config import ROLES
from napari_gaitint.core.errors import AnalysisError, ConfigError, InputFileError
from napari_gaitint.core.orient import (
    LEFT_TO_RIGHT,
    RIGHT_TO_LEFT,
    deorient_pose,
    detect_walking_direction,
    gait_to_image,
    image_to_gait,
    mirror_x,
    orient_pose,
)
from napari_gaitint.core.pose import Pose

W, H = 960, 540


def test_mirror_x_known_values_and_involution():
    x = np.array([0.0, 100.0, 480.0, 959.0, 960.0, np.nan, -5.0])
    assert_array_equal(mirror_x(x, W), [960.0, 860.0, 480.0, 1.0, 0.0, np.nan, 965.0])
    assert_array_equal(mirror_x(mirror_x(x, W), W), x)  # exact on integers
    assert mirror_x(3.5, 10) == 6.5


@pytest.mark.parametrize(
    ("direction", "expected"),
    [(RIGHT_TO_LEFT, [[60.0, 40.0], [960.0, 540.0]]), (LEFT_TO_RIGHT, [[900.0, 40.0], [0.0, 540.0]])],
)
def test_image_to_gait_known_answers(direction, expected):
    xy = np.array([[900.0, 500.0], [0.0, 0.0]])
    out = image_to_gait(xy, width_px=W, height_px=H, direction=direction)
    assert_array_equal(out, expected)
    assert_array_equal(xy, [[900.0, 500.0], [0.0, 0.0]])  # input untouched


@pytest.mark.parametrize("direction", [LEFT_TO_RIGHT, RIGHT_TO_LEFT])
def test_gait_to_image_inverts_image_to_gait(direction, rng):
    xy = rng.uniform(-50, 1010, size=(40, 6, 2))
    xy[rng.random(xy.shape[:2]) < 0.2] = np.nan
    there = image_to_gait(xy, width_px=W, height_px=H, direction=direction)
    back = gait_to_image(there, width_px=W, height_px=H, direction=direction)
    assert_array_equal(np.isnan(back), np.isnan(xy))
    # exact up to one rounding of (width - x): below 1e-12 px
    assert_allclose(back, xy, rtol=0, atol=1e-12)
    grid = np.round(xy * 16) / 16  # values on a binary grid round-trip bit-exactly
    assert_array_equal(
        gait_to_image(image_to_gait(grid, width_px=W, height_px=H, direction=direction),
                      width_px=W, height_px=H, direction=direction),
        grid,
    )


def test_image_to_gait_y_up_and_x_forward():
    # subject walking right-to-left: frames later have smaller image x
    x_img = np.array([800.0, 700.0, 600.0])
    xy = np.stack([x_img, np.full(3, 100.0)], axis=-1)  # y=100 px from the top: high up
    g = image_to_gait(xy, width_px=W, height_px=H, direction=RIGHT_TO_LEFT)
    assert np.all(np.diff(g[:, 0]) > 0)  # x grows with progression
    assert_array_equal(g[:, 1], 440.0)  # 440 px above the bottom edge


@pytest.mark.parametrize("bad", [0, 2, -2, None, "left"])
def test_bad_direction_is_refused(bad):
    with pytest.raises(ValueError, match="direction must be"):
        image_to_gait(np.zeros((1, 2)), width_px=W, height_px=H, direction=bad)


# ---------------------------------------------------------------------------------------
# direction detection
# ---------------------------------------------------------------------------------------
def _track(n, start, stop, rng, noise=2.0):
    return np.linspace(start, stop, n) + rng.normal(0, noise, n)


@pytest.mark.parametrize(("start", "stop", "want"), [(100, 850, 1), (880, 60, -1)])
def test_detect_direction_both_ways(start, stop, want, rng):
    assert detect_walking_direction(_track(120, start, stop, rng)) == want


@pytest.mark.parametrize(("start", "stop", "want"), [(100, 850, 1), (880, 60, -1)])
def test_detect_direction_with_nan_and_outliers(start, stop, want, rng):
    x = _track(200, start, stop, rng)
    x[rng.random(x.size) < 0.4] = np.nan  # 40 % dropouts
    x[:15] = np.nan  # not yet in view
    out = rng.choice(np.flatnonzero(np.isfinite(x)), size=15, replace=False)
    x[out] = rng.choice([-400.0, 2000.0], size=out.size)  # 15 wild jumps (~12 % of valid)
    x[rng.choice(x.size, 3)] = np.inf
    assert detect_walking_direction(x) == want


def test_detect_direction_two_points_enough():
    assert detect_walking_direction(np.array([np.nan, 10.0, np.nan, 500.0])) == LEFT_TO_RIGHT


def test_stationary_subject_is_an_error(rng):
    x = 480 + rng.normal(0, 3, 300)
    with pytest.raises(AnalysisError, match=r"t01\.h5: the body reference moves only [+-]\d+\.\d "
                       r"px .*less than 20 px.*give it explicitly"):
        detect_walking_direction(x, source="t01.h5")
    # a larger threshold also refuses a slow walk
    with pytest.raises(AnalysisError, match="less than 500 px"):
        detect_walking_direction(np.linspace(100, 400, 50), min_travel_px=500)


@pytest.mark.parametrize("x", [[], [np.nan] * 5, [3.0], [np.nan, 7.0, np.inf]])
def test_too_few_points_is_an_error(x):
    with pytest.raises(AnalysisError, match=r"only [01] valid point\(s\)"):
        detect_walking_direction(np.array(x, dtype=float))


# ---------------------------------------------------------------------------------------
# orient_pose / deorient_pose
# ---------------------------------------------------------------------------------------
def _walker(direction, rng, n=60, frame_size=(W, H)):
    """A stick figure crossing the image: neck high, toe low, moving along ``direction``."""
    heights = np.array([150.0, 260.0, 350.0, 440.0, 455.0, 460.0])  # image y, down
    x0 = np.linspace(100, 850, n)[::direction]
    values = np.empty((n, len(ROLES), 3))
    values[..., 0] = x0[:, None] + rng.normal(0, 2, (n, len(ROLES)))
    values[..., 1] = heights[None] + rng.normal(0, 2, (n, len(ROLES)))
    values[..., 2] = rng.uniform(0.5, 1, (n, len(ROLES)))
    values[rng.random((n, len(ROLES))) < 0.1] = np.nan
    return Pose(values, ROLES, frame_size=frame_size, fps=25.0, source="/d/trial.h5")


@pytest.mark.parametrize("direction", [LEFT_TO_RIGHT, RIGHT_TO_LEFT])
def test_orient_pose_progression_and_up(direction, rng):
    pose = _walker(direction, rng)
    g = orient_pose(pose)
    info = g.meta["orientation"]
    assert {k: info[k] for k in ("direction", "width_px", "height_px")} == {
        "direction": direction, "width_px": 960.0, "height_px": 540.0}
    assert abs(info["tilt_deg"]) < 0.5 and info["rotation_deg"] == 0.0  # a level floor
    neck_x = g.bodypart("neck")[:, 0]
    ok = np.isfinite(neck_x)
    assert np.polyfit(np.flatnonzero(ok), neck_x[ok], 1)[0] > 10  # forward, px/frame
    assert np.nanmean(g.bodypart("neck")[:, 1]) > np.nanmean(g.bodypart("toe")[:, 1])  # y up
    assert_array_equal(g.likelihood, pose.likelihood)  # likelihood untouched
    assert "orientation" not in pose.meta and pose.values is not g.values


@pytest.mark.parametrize("direction", [LEFT_TO_RIGHT, RIGHT_TO_LEFT])
def test_deorient_undoes_orient(direction, rng):
    pose = _walker(direction, rng)
    back = deorient_pose(orient_pose(pose))
    assert_array_equal(np.isnan(back.values), np.isnan(pose.values))
    assert_allclose(back.values, pose.values, rtol=0, atol=1e-12)
    assert "orientation" not in back.meta
    grid = pose.replace(values=np.round(pose.values * 4) / 4)
    assert_array_equal(deorient_pose(orient_pose(grid)).values, grid.values)  # bit-exact


def test_opposite_views_walk_the_same_way_after_orientation(rng):
    c1 = orient_pose(_walker(LEFT_TO_RIGHT, rng))
    c3 = orient_pose(_walker(RIGHT_TO_LEFT, rng))
    assert c1.meta["orientation"]["direction"] == -c3.meta["orientation"]["direction"]
    for g in (c1, c3):
        x = g.bodypart("hip")[:, 0]
        assert np.nanmedian(x[-10:]) - np.nanmedian(x[:10]) > 500


def test_orient_with_explicit_direction_and_frame_size(rng):
    pose = _walker(LEFT_TO_RIGHT, rng).replace(frame_size=None)
    g = orient_pose(pose, frame_size=(1000, 600), direction=RIGHT_TO_LEFT)
    assert g.frame_size == (1000, 600)
    assert_allclose(g.xy[..., 0], 1000 - pose.xy[..., 0], atol=1e-12)
    assert_allclose(g.xy[..., 1], 600 - pose.xy[..., 1], atol=1e-12)


def test_orient_errors(rng):
    pose = _walker(LEFT_TO_RIGHT, rng)
    with pytest.raises(InputFileError, match=r"trial\.h5: the video frame size is unknown"):
        orient_pose(pose.replace(frame_size=None))
    with pytest.raises(ConfigError, match="frame size is unknown"):
        orient_pose(pose.replace(frame_size=None, source=None))
    with pytest.raises(ConfigError, match="must be positive"):
        orient_pose(pose.replace(source=None), frame_size=(0, 540))
    with pytest.raises(InputFileError, match="no body part 'nose'.*--bodyparts"):
        orient_pose(pose, reference="nose")
    g = orient_pose(pose)
    with pytest.raises(ValueError, match="already in gait coordinates"):
        orient_pose(g)
    with pytest.raises(ValueError, match="not in gait coordinates"):
        deorient_pose(pose)
    still = pose.replace(values=np.where(np.isnan(pose.values), np.nan, 300.0))
    with pytest.raises(AnalysisError, match="trial.h5: cannot tell the walking direction: the neck and the hip do not move"):
        orient_pose(still)


def test_orient_own_fixture_walks_right_to_left(data_dir):
    pose = io.load_pose(data_dir / "pred_single.csv").replace(frame_size=(W, H))
    g = orient_pose(pose)
    assert g.meta["orientation"]["direction"] == RIGHT_TO_LEFT
    assert g.bodypart("neck")[-1, 0] > g.bodypart("neck")[0, 0]


def test_orient_synthetic_views():
    synthetic = pytest.importorskip("napari_gaitint.synthetic")
    trial = synthetic.generate_trial(3)
    for name, view in trial.views.items():
        g = orient_pose(view.pose)
        assert g.meta["orientation"]["direction"] == view.direction, name
        x = g.bodypart("neck")[:, 0]
        ok = np.isfinite(x)
        assert np.polyfit(np.flatnonzero(ok), x[ok], 1)[0] > 0, name


def test_orient_treadmill_falls_back_to_the_feet():
    """On a treadmill the body does not cross the image; the feet still tell the direction."""
    from napari_gaitint.core.orient import detect_pose_direction
    from napari_gaitint.synthetic.trial import generate_trial

    trial = generate_trial(5, treadmill=True, duration_s=8.0)
    for view in trial.views.values():
        assert detect_pose_direction(view.pose) == view.direction
        gait = orient_pose(view.pose)
        assert gait.meta["orientation"]["direction"] == view.direction


def test_orient_without_neck_uses_the_hip():
    from napari_gaitint.synthetic.trial import generate_trial

    view = generate_trial(6).views["C1"]
    pose = view.pose.copy()
    pose.values[:, pose.bodypart_index("neck"), :] = np.nan
    assert orient_pose(pose).meta["orientation"]["direction"] == view.direction


def test_orient_standing_subject_is_a_clear_error():
    from napari_gaitint.core.config import ROLES
    from napari_gaitint.core.errors import AnalysisError
    from napari_gaitint.core.pose import Pose

    values = np.zeros((50, len(ROLES), 3))
    values[..., 0] = np.arange(len(ROLES)) * 10.0 + 300
    values[..., 1] = 200.0
    values[..., 2] = 0.99
    pose = Pose(values, ROLES, frame_size=(960, 540), fps=25.0, source="still.h5")
    with pytest.raises(AnalysisError, match="still.h5.*walking direction"):
        orient_pose(pose)


# ---------------------------------------------------------------------------------------
# levelling the floor (cameras rolled about their axis)
# ---------------------------------------------------------------------------------------
def _cleaned_views(trial):
    from napari_gaitint.core.clean import clean_pose

    c1, c3 = trial.views["C1"].pose, trial.views["C3"].pose
    return {"C1": clean_pose(c1, other=c3).pose, "C3": clean_pose(c3, other=c1).pose}


@pytest.mark.parametrize("kwargs", [{}, {"frame_size": (640, 360)}, {"fps": 100.0}, {"noise_scale": 3.0}])
def test_floor_tilt_recovers_the_camera_roll(kwargs):
    """The fitted tilt is the camera's roll (sign by the view's walking direction, C1 walks
    right-to-left and is mirrored), within 0.5 degrees also with 3x DLC noise; a level camera
    is not rotated."""
    from napari_gaitint.core.orient import MIN_TILT_DEG
    from napari_gaitint.synthetic.trial import generate_trial

    for seed, roll in ((0, {"C1": 2.5, "C3": -1.5}), (1, {"C1": 0.0, "C3": 0.0})):
        views = _cleaned_views(generate_trial(seed, roll_deg=roll, **kwargs))
        for view, pose in views.items():
            info = orient_pose(pose).meta["orientation"]
            want = -roll[view] if view == "C1" else roll[view]
            assert abs(info["tilt_deg"] - want) < 0.5, (view, info["tilt_deg"], want)
            if roll[view] == 0:
                assert abs(info["tilt_deg"]) < MIN_TILT_DEG and info["rotation_deg"] == 0.0
            else:
                assert info["rotation_deg"] == -info["tilt_deg"]


def test_levelled_cycles_match_the_level_camera():
    """Ground truth: the same walk filmed with C3 rolled by 2 degrees. Levelled, its mean
    cycles are those of the level camera within 1 px RMS per body part and axis; not
    levelled they are off by several pixels (heights ramp over the stride, limb x shifts)."""
    from napari_gaitint.core.cycles import compute_cycles, mean_cycles
    from napari_gaitint.core.events import detect_events
    from napari_gaitint.synthetic.trial import generate_trial

    def poses_events(trial, level):
        pose = orient_pose(_cleaned_views(trial)["C3"], level=level)
        return pose, detect_events(pose, side="right", fps=trial.fps)

    def curves(pose, events, keep_hs):
        # the same strides in both: a heel strike near the edge of the image may be found by
        # one camera and not by the other (the rolled image's corners cut the foot off)
        hs = events["event"] == "heel_strike"
        near = np.abs(events["frame"].to_numpy()[:, None] - keep_hs[None, :]).min(axis=1) < 1.0
        cycles = mean_cycles(compute_cycles(pose, events[~hs | near], side="right"))
        return cycles.set_index(["bodypart", "axis", "pct"])["value"]

    def hs_frames(events):
        return events.loc[events["event"] == "heel_strike", "frame"].to_numpy()

    for seed in (0, 3):
        level_pose, level_ev = poses_events(generate_trial(seed), level=False)
        rolled = generate_trial(seed, roll_deg={"C3": 2.0})
        err = {}
        for level in (True, False):
            pose, ev = poses_events(rolled, level)
            both = hs_frames(ev)[np.abs(hs_frames(ev)[:, None] - hs_frames(level_ev)[None, :]).min(axis=1) < 1.0]
            assert both.size >= 3
            d = (curves(pose, ev, both) - curves(level_pose, level_ev, both)).dropna()
            err[level] = np.sqrt((d**2).groupby(level=[0, 1], observed=True).mean())
        assert err[True].max() < 1.0, err[True]
        assert err[False].max() > 4.0 and err[False].median() > 2.5, err[False]


def test_levelled_pose_maps_back_onto_the_image():
    from napari_gaitint.synthetic.trial import generate_trial

    pose = _cleaned_views(generate_trial(2, roll_deg=3.0))["C1"]
    oriented = orient_pose(pose)
    assert oriented.meta["orientation"]["rotation_deg"] != 0
    assert_allclose(deorient_pose(oriented).xy, pose.xy, atol=1e-9)
    assert_array_equal(np.isnan(deorient_pose(oriented).xy), np.isnan(pose.xy))


def test_treadmill_and_too_tilted_floors_are_left_alone():
    """On a treadmill every stance covers the same short stretch: no tilt is fitted. A fit
    beyond MAX_TILT_DEG is not trusted: a warning naming the file, and no rotation."""
    from napari_gaitint.core.errors import GaitintWarning
    from napari_gaitint.synthetic.trial import generate_trial

    views = _cleaned_views(generate_trial(0, treadmill=True, roll_deg=2.0))
    for pose in views.values():
        info = orient_pose(pose).meta["orientation"]
        assert info["tilt_deg"] is None and info["rotation_deg"] == 0.0
    pose = _cleaned_views(generate_trial(0, roll_deg=20.0))["C3"]
    pose.source = "T01_C3DLC.h5"
    # (20 degrees of roll, fitted within a few tenths)
    with pytest.warns(GaitintWarning, match=r"T01_C3DLC.h5.*tilted by (19|2\d)\.\d degrees"):
        oriented = orient_pose(pose)
    assert oriented.meta["orientation"]["rotation_deg"] == 0.0
    finite = np.isfinite(pose.xy)
    assert_array_equal(orient_pose(pose, level=False).xy[finite], oriented.xy[finite])


def test_orient_like_gives_another_version_of_a_view_the_same_gait_coordinates():
    """The unfiltered cleaned pose must be in exactly the coordinates of the filtered one
    (direction and levelling rotation from the filtered one, not estimated again)."""
    from napari_gaitint.core.clean import clean_pose
    from napari_gaitint.core.orient import orient_like
    from napari_gaitint.synthetic.trial import generate_trial

    trial = generate_trial(2, roll_deg=3.0)
    res = clean_pose(trial.views["C1"].pose, other=trial.views["C3"].pose)
    oriented = orient_pose(res.pose)
    assert oriented.meta["orientation"]["rotation_deg"] != 0
    assert_allclose(orient_like(res.pose, oriented).values, oriented.values, atol=1e-12)
    raw = orient_like(res.unfiltered, oriented)
    assert raw.meta["orientation"] == oriented.meta["orientation"]
    assert_allclose(deorient_pose(raw).xy, res.unfiltered.xy, atol=1e-9)
    with pytest.raises(ValueError, match="not in gait coordinates"):
        orient_like(res.pose, res.pose)
