"""Pose <-> layer data, without a viewer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from napari_gaitint._napari import _convert
from napari_gaitint.core.config import ROLES
from napari_gaitint.core.pose import Pose


@pytest.fixture
def pose():
    rng = np.random.default_rng(3)
    values = np.column_stack([rng.uniform(0, 960, 60), rng.uniform(0, 540, 60), rng.uniform(0, 1, 60)])
    values = values.reshape(10, 6, 3)
    values[2, 1, :2] = np.nan  # a missing hip
    return Pose(values, ROLES, fps=25.0, frame_size=(960, 540), scorer="DLC_test")


def test_points_are_frame_y_x_with_dlc_feature_names(pose):
    data, feats = _convert.pose_to_points(pose)
    assert data.shape == (59, 3)
    assert {"label", "id", "likelihood", "valid"} <= set(feats.columns)  # napari-deeplabcut names
    row = feats.index[(feats["frame"] == 4) & (feats["label"] == "knee")][0]
    assert_allclose(data[row], [4, pose.bodypart("knee")[4, 1], pose.bodypart("knee")[4, 0]])
    assert_allclose(feats.loc[row, "likelihood"], pose.bodypart("knee")[4, 2])
    assert_array_equal(feats["valid"], feats["likelihood"] >= 0.6)
    assert not ((feats["frame"] == 2) & (feats["label"] == "hip")).any()


def test_colour_by_bodypart_and_status(pose):
    from napari_gaitint.core.clean_flags import FLAG_FILTERED, FLAG_WRONG_LIMB

    flags = np.zeros((10, 6), int)
    flags[5, 3] = FLAG_WRONG_LIMB | FLAG_FILTERED
    flags[6, 3] = FLAG_FILTERED
    data, feats = _convert.pose_to_points(pose, flags=flags)
    colors = _convert.points_face_colors(feats)
    knee = (feats["label"] == "knee").to_numpy()
    assert len({tuple(c) for c in colors[knee & (feats["status"] == "ok").to_numpy()]}) == 1
    assert feats.loc[(feats["frame"] == 5) & (feats["label"] == "ankle"), "status"].item() == "wrong_limb"
    assert feats.loc[(feats["frame"] == 6) & (feats["label"] == "ankle"), "status"].item() == "filtered"
    wrong = (feats["status"] == "wrong_limb").to_numpy()
    assert_allclose(colors[wrong], [_convert.STATUS_COLORS["wrong_limb"]])
    # different body parts, different colours
    first = {lab: tuple(colors[i]) for i, lab in enumerate(feats["label"]) if feats["status"][i] == "ok"}
    assert len(set(first.values())) == 6


def test_tracks_one_per_bodypart_sorted(pose):
    data, feats = _convert.pose_to_tracks(pose)
    assert data.shape == (59, 4)
    assert_array_equal(np.unique(data[:, 0]), np.arange(6))
    order = np.lexsort((data[:, 1], data[:, 0]))
    assert_array_equal(order, np.arange(len(data)))
    hip = data[data[:, 0] == 1]
    assert 2 not in hip[:, 1]
    assert set(feats.loc[data[:, 0] == 1, "label"]) == {"hip"}


def test_points_back_to_pose_roundtrip(pose):
    data, feats = _convert.pose_to_points(pose)
    back = _convert.points_to_pose(data, feats, template=pose)
    assert_allclose(back.xy, pose.xy, equal_nan=True)
    seen = np.isfinite(pose.xy).all(axis=2)  # a point without x, y has no likelihood to keep
    assert_allclose(back.likelihood[seen], pose.likelihood[seen])
    assert back.bodyparts == pose.bodyparts and back.fps == 25.0 and back.scorer == "DLC_test"
    # a moved point and a deleted point come back as such
    data2 = data.copy()
    data2[0, 1:] = [11.0, 22.0]
    keep = np.ones(len(data2), bool)
    keep[1] = False
    back2 = _convert.points_to_pose(data2[keep], feats[keep].reset_index(drop=True), template=pose)
    assert_allclose(back2.values[0, 0, :2], [22.0, 11.0])
    assert np.isnan(back2.values[0, 1, :2]).all()


def test_points_to_pose_without_template_uses_label_order():
    feats = pd.DataFrame({"label": ["b", "a", "b"], "likelihood": [0.5, 0.6, 0.7]})
    data = np.array([[0, 1.0, 2.0], [0, 3.0, 4.0], [2, 5.0, 6.0]])
    p = _convert.points_to_pose(data, feats)
    assert p.bodyparts == ("b", "a") and p.n_frames == 3
    assert_allclose(p.values[2, 0], [6.0, 5.0, 0.7])
    assert np.isnan(p.values[1]).all()


def test_events_markers_at_heel_and_toe(pose):
    events = pd.DataFrame({"side": ["left", "left"], "event": ["heel_strike", "toe_off"],
                           "frame": [3.4, 7.6], "time_s": [0.136, 0.304]})
    data, feats = _convert.events_to_points(events, pose)
    assert_allclose(data[0], [3, pose.bodypart("heel")[3, 1], pose.bodypart("heel")[3, 0]])
    assert_allclose(data[1], [8, pose.bodypart("toe")[8, 1], pose.bodypart("toe")[8, 0]])
    assert list(feats["label"]) == ["HS", "TO"]
    assert_allclose(feats["frame_exact"], [3.4, 7.6])


def test_mirror_affine_maps_view_into_its_slot():
    a = _convert.view_affine(width_px=959, offset_px=980, mirror=True)
    y, x = _convert.apply_affine_xy(a, np.array([10.0, 10.0]), np.array([0.0, 959.0]))
    assert_allclose(x, [1939.0, 980.0])
    assert_allclose(y, [10.0, 10.0])
    assert_allclose(_convert.layout_offsets([960, 960], gap_px=20), [0, 980])
