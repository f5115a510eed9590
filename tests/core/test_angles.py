"""Joint angles: hand-built legs with known angles, orientation, missing points, cycles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from napari_gaitint.core.angles import (
    ANGLE_AXIS,
    JOINTS,
    append_angle_cycles,
    compute_angle_cycles,
    compute_angles,
    compute_joint_angles,
    signed_angle_deg,
)
from napari_gaitint.core.cycles import compute_cycles, mean_cycles
from napari_gaitint.core.orient import orient_pose
from napari_gaitint.core.pose import Pose

BODYPARTS = ("neck", "hip", "knee", "ankle", "heel", "toe")


def leg_from_angles(trunk, hip, knee, ankle, *, origin=(400.0, 250.0), trunk_len=180.0,
                    thigh=90.0, shank=85.0, heel_back=12.0, foot=45.0, foot_drop=9.0):
    """Keypoints (gait coordinates, x forward, y up) of a leg with the given angles (degrees,
    arrays of one length): built segment by segment from the definitions."""
    def unit(deg):  # direction at ``deg`` from straight down, forward (toward +x) positive
        r = np.radians(deg)
        return np.stack([np.sin(r), -np.cos(r)], axis=-1)

    trunk, hip, knee, ankle = (np.asarray(a, dtype=float) for a in (trunk, hip, knee, ankle))
    hip_xy = np.broadcast_to(np.asarray(origin, dtype=float), trunk.shape + (2,)).copy()
    neck = hip_xy - trunk_len * unit(-trunk)  # up the trunk, leaning forward by ``trunk``
    thigh_dir = -trunk + hip  # from straight down: the trunk's downward line, then flexion
    knee_xy = hip_xy + thigh * unit(thigh_dir)
    shank_dir = thigh_dir - knee  # flexion turns the shank back
    ankle_xy = knee_xy + shank * unit(shank_dir)
    # the foot at right angles to the shank, turned toward it by ``ankle`` (dorsiflexion)
    foot_dir = shank_dir + 90.0 + ankle
    heel = ankle_xy - heel_back * unit(foot_dir) + foot_drop * unit(shank_dir)
    toe = heel + foot * unit(foot_dir)
    return dict(neck=neck, hip=hip_xy, knee=knee_xy, ankle=ankle_xy, heel=heel, toe=toe)


def test_signed_angle_conventions():
    x = np.array([1.0, 0.0])
    assert_allclose(signed_angle_deg(x, np.array([[0.0, 1.0], [0.0, -1.0], [-1.0, 0.0]])), [90, -90, 180])
    assert np.isnan(signed_angle_deg(x, np.array([0.0, 0.0])))
    assert np.isnan(signed_angle_deg(x, np.array([np.nan, 1.0])))


def test_upright_straight_leg_is_zero():
    pts = leg_from_angles([0.0], [0.0], [0.0], [0.0])
    got = compute_joint_angles(pts)
    assert list(got) == list(JOINTS)
    for name, value in got.items():
        assert_allclose(value, [0.0], atol=1e-9, err_msg=name)


@pytest.mark.parametrize(
    ("joint", "value", "where"),
    [
        ("hip", 30.0, "knee ahead of the trunk line"),
        ("hip", -15.0, "thigh behind (extension)"),
        ("knee", 60.0, "shank behind the thigh (flexion)"),
        ("knee", -5.0, "hyperextension"),
        ("ankle", 15.0, "toe up (dorsiflexion)"),
        ("ankle", -25.0, "toe down (plantarflexion)"),
        ("trunk", 8.0, "leaning forward"),
        ("trunk", -4.0, "leaning back"),
    ],
)
def test_each_angle_sign(joint, value, where):
    angles = dict(trunk=[0.0], hip=[0.0], knee=[0.0], ankle=[0.0])
    angles[joint] = [value]
    got = compute_joint_angles(leg_from_angles(**angles))
    for name in JOINTS:
        assert_allclose(got[name], angles[name], atol=1e-9, err_msg=f"{joint} {where}: {name}")


def test_random_legs_recovered(rng):
    n = 500
    truth = dict(trunk=rng.uniform(-20, 30, n), hip=rng.uniform(-30, 70, n),
                 knee=rng.uniform(-10, 120, n), ankle=rng.uniform(-40, 30, n))
    got = compute_joint_angles(leg_from_angles(**truth))
    for name in JOINTS:
        assert_allclose(got[name], truth[name], atol=1e-9, err_msg=name)


def test_angles_do_not_depend_on_scale_or_position(rng):
    truth = dict(trunk=[5.0], hip=[25.0], knee=[40.0], ankle=[-8.0])
    a = compute_joint_angles(leg_from_angles(**truth))
    b = compute_joint_angles({k: 3.7 * v + [120.0, -40.0] for k, v in leg_from_angles(**truth).items()})
    for name in JOINTS:
        assert_allclose(a[name], b[name], atol=1e-9)


def test_missing_point_blanks_only_the_angles_that_need_it():
    pts = leg_from_angles([0.0, 3.0], [20.0, 20.0], [30.0, 30.0], [5.0, 5.0])
    pts["toe"][1] = np.nan
    got = compute_joint_angles(pts)
    assert np.isnan(got["ankle"][1]) and np.isfinite(got["ankle"][0])
    for name in ("hip", "knee", "trunk"):
        assert np.isfinite(got[name]).all()
    del pts["neck"]
    assert set(compute_joint_angles(pts)) == {"knee", "ankle"}


def _image_pose(gait: dict, *, direction: int, width=960, height=540, fps=25.0) -> Pose:
    """An image-coordinate pose whose gait coordinates are ``gait`` (walking ``direction``)."""
    xy = np.stack([gait[b] for b in BODYPARTS], axis=1)
    img = xy.copy()
    if direction < 0:
        img[..., 0] = width - img[..., 0]
    img[..., 1] = height - img[..., 1]
    values = np.concatenate([img, np.ones(img.shape[:2] + (1,))], axis=2)
    return Pose(values, BODYPARTS, fps=fps, frame_size=(width, height))


@pytest.mark.parametrize("direction", [1, -1])
def test_both_walking_directions_give_the_clinical_signs(direction):
    n = 60
    t = np.arange(n) / 25.0
    truth = dict(trunk=4 + 2 * np.sin(2 * np.pi * t), hip=20 * np.cos(2 * np.pi * t),
                 knee=30 + 25 * np.sin(2 * np.pi * t), ankle=10 * np.sin(2 * np.pi * t + 1))
    gait = leg_from_angles(**truth)
    for b in gait.values():  # walking forward across the image
        b[:, 0] = b[:, 0] - 300 + 12 * np.arange(n)
    pose = orient_pose(_image_pose(gait, direction=direction), direction=direction, level=False)
    table = compute_angles(pose)
    assert list(table.columns) == ["frame", "time_s", "hip", "knee", "ankle", "trunk"]
    assert_allclose(table["time_s"], t)
    for name in JOINTS:
        assert_allclose(table[name], truth[name], atol=1e-9, err_msg=name)


def test_low_likelihood_points_are_missing():
    gait = leg_from_angles(np.zeros(5), np.full(5, 10.0), np.full(5, 20.0), np.zeros(5))
    pose = _image_pose(gait, direction=1)
    pose.values[2, BODYPARTS.index("knee"), 2] = 0.1
    table = compute_angles(orient_pose(pose, direction=1, level=False))
    assert table.loc[2, ["hip", "knee", "ankle"]].isna().all()
    assert np.isfinite(table.loc[2, "trunk"])
    assert table.drop(index=2)[list(JOINTS)].notna().all().all()


def test_image_coordinates_are_refused():
    pose = _image_pose(leg_from_angles([0.0], [0.0], [0.0], [0.0]), direction=1)
    with pytest.raises(ValueError, match="gait coordinates"):
        compute_angles(pose)


@pytest.fixture(scope="module")
def synthetic_view():
    from napari_gaitint.synthetic.trial import generate_trial

    view = generate_trial(1).views["C1"]
    return orient_pose(view.true_pose), view.events


def test_angle_cycles_cover_the_position_cycles(synthetic_view):
    pose, events = synthetic_view
    cycles = compute_cycles(pose, events, side="left")
    ang = compute_angle_cycles(pose, events, side="left", cycles=cycles)
    assert list(ang.columns) == list(cycles.columns)
    assert set(ang["axis"]) == {ANGLE_AXIS} and list(ang["bodypart"].cat.categories) == list(JOINTS)
    assert sorted(set(ang["cycle"])) == sorted(set(cycles["cycle"]))
    # the cycle's curve at 0 % is the angle at its heel strike
    per_frame = compute_angles(pose)
    first = int(cycles["cycle"].iloc[0])
    hs = events[(events["side"] == "left") & (events["event"] == "heel_strike")]["frame"].to_numpy(float)
    start = np.sort(hs)[first - 1]
    for joint in JOINTS:
        at0 = ang[(ang["cycle"] == first) & (ang["bodypart"] == joint) & (ang["pct"] == 0)]["value"].iloc[0]
        expected = np.interp(start, per_frame["frame"], per_frame[joint])
        assert abs(at0 - expected) < 0.5, joint
    knee = ang[ang["bodypart"] == "knee"]["value"]
    assert knee.between(-5, 90).all() and knee.max() - knee.min() > 30


def test_appended_table_keeps_position_rows_and_the_fast_means(synthetic_view):
    pose, events = synthetic_view
    cycles = compute_cycles(pose, events, side="left")
    both = append_angle_cycles(cycles, compute_angle_cycles(pose, events, side="left", cycles=cycles))
    pos = both[both["axis"] != ANGLE_AXIS].reset_index(drop=True)
    pd.testing.assert_frame_equal(pos.astype({c: str for c in ("side", "bodypart", "axis")}),
                                  cycles.astype({c: str for c in ("side", "bodypart", "axis")}))
    assert both.attrs == cycles.attrs
    means = mean_cycles(both)
    slow = both.groupby(["side", "bodypart", "axis", "pct"], sort=False, observed=True)["value"].agg(
        value="mean", sd="std", n_cycles="count").reset_index()
    assert_allclose(means["value"], slow["value"])
    assert (means["axis"] == ANGLE_AXIS).sum() == len(JOINTS) * 101
    # the position means are those of the position table alone, bit for bit
    pos_means = means[means["axis"] != ANGLE_AXIS].reset_index(drop=True)
    assert np.array_equal(pos_means["value"].to_numpy(), mean_cycles(cycles)["value"].to_numpy(), equal_nan=True)


def test_angle_cycles_blank_a_joint_with_a_long_gap(synthetic_view):
    pose, events = synthetic_view
    pose = pose.replace()
    cycles = compute_cycles(pose, events, side="left")
    first = int(cycles["cycle"].iloc[0])
    hs = np.sort(events[(events["side"] == "left") & (events["event"] == "heel_strike")]["frame"].to_numpy(float))
    a = int(hs[first - 1]) + 3
    pose.values[a:a + 10, BODYPARTS.index("toe"), :2] = np.nan  # 0.4 s at 25 Hz
    ang = compute_angle_cycles(pose, events, side="left", cycles=cycles)
    sel = ang["cycle"] == first
    assert ang[sel & (ang["bodypart"] == "ankle")]["value"].isna().all()
    assert ang[sel & (ang["bodypart"] == "knee")]["value"].notna().all()


def test_append_refuses_other_cycles(synthetic_view):
    pose, events = synthetic_view
    cycles = compute_cycles(pose, events, side="left")
    ang = compute_angle_cycles(pose, events, side="left", cycles=cycles)
    with pytest.raises(ValueError, match="same cycles"):
        append_angle_cycles(cycles, ang[ang["cycle"] != ang["cycle"].iloc[0]])


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    from napari_gaitint.synthetic.files import write_synthetic_cohort
    from napari_gaitint.workflow.cohort import analyze_cohort

    folder = tmp_path_factory.mktemp("angles_cohort")
    manifest = write_synthetic_cohort(folder / "sample", n_trials=3, seed=5, video=False)
    return analyze_cohort(manifest)


def test_analyze_puts_angle_cycles_into_the_tables_and_the_statistics(cohort):
    from napari_gaitint.core.agreement import compute_agreement

    for table in (cohort.cycles, cohort.cycles_all):
        ang = table[table["axis"] == ANGLE_AXIS]
        assert list(pd.unique(ang["bodypart"])) == list(JOINTS)
        assert ang.groupby(["trial", "view"], observed=True).ngroups == 6
    # every cycle has its angles: the same cycles as the positions
    keys = ["trial", "view", "cycle"]
    all_ = cohort.cycles_all
    pos = all_[all_["axis"] != ANGLE_AXIS][keys].drop_duplicates().astype(str)
    ang = all_[all_["axis"] == ANGLE_AXIS][keys].drop_duplicates().astype(str)
    pd.testing.assert_frame_equal(pos.reset_index(drop=True), ang.reset_index(drop=True))
    knee = cohort.cycles[(cohort.cycles["bodypart"] == "knee") & (cohort.cycles["axis"] == ANGLE_AXIS)]
    assert knee["value"].max() > 40 and knee["value"].min() < 15  # swing flexion, near straight at contact
    # the ANOVA and the agreement test every joint angle, and no pair the table lacks
    aov = cohort.anova
    tested = set(zip(aov["bodypart"], aov["axis"], strict=True))
    assert {(j, ANGLE_AXIS) for j in JOINTS} <= tested
    assert ("trunk", "x") not in tested and ("neck", ANGLE_AXIS) not in tested
    assert np.isfinite(aov["F"]).all()
    agreement = compute_agreement(cohort.cycles)
    assert set(agreement.loc[agreement["axis"] == ANGLE_AXIS, "bodypart"]) == set(JOINTS)


def test_an_absent_pair_asked_for_is_still_reported(cohort):
    from napari_gaitint.core.stats import rm_anova

    with pytest.warns(UserWarning, match="trunk/x: no data"):
        aov = rm_anova(cohort.cycles, bodyparts=["trunk", "knee"], axes=["x", ANGLE_AXIS])
    assert aov[(aov["bodypart"] == "trunk") & (aov["axis"] == "x")]["F"].isna().all()


def test_angle_figures_are_their_own_set_in_degrees(cohort):
    from napari_gaitint.report.figures import ANGLE_FIGURE_NAMES, make_figures

    figs = make_figures(cohort.cycles)
    assert list(figs) == ["mean_cycles", "difference_curves", "bland_altman", *ANGLE_FIGURE_NAMES]
    titles = [ax.get_title() for ax in figs["mean_angles"].axes]
    assert titles == [f"{j} angle" for j in JOINTS]
    # every panel says its unit and what is measured (the sign of the angle, what x is relative to)
    assert [ax.get_ylabel() for ax in figs["mean_angles"].axes] == [
        "angle (deg, flexion +)", "angle (deg, flexion +)", "angle (deg, dorsiflexion +)",
        "angle (deg, forward lean +)"]
    assert {ax.get_ylabel() for ax in figs["mean_cycles"].axes} == {
        "x minus mean progression (px)", "x relative to neck (px)", "y: height above floor (px)"}
    assert not any("angle" in ax.get_title() for ax in figs["mean_cycles"].axes)
