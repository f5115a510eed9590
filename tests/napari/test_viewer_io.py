"""Open and save through napari itself (npe2 reader / writer contributions)."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from napari_gaitint.core.io import read_dlc_table

pytestmark = pytest.mark.napari

SINGLE = "single/reachingvideo1shortDLC_resnet50_TESTNov4shuffle1_10.h5"


def test_open_dlc_file_and_video_in_viewer(make_napari_viewer, dlc_fixtures):
    viewer = make_napari_viewer()
    viewer.open(str(dlc_fixtures / SINGLE), plugin="napari-gaitint")
    viewer.open(str(dlc_fixtures / "single" / "reachingvideo1short.avi"), plugin="napari-gaitint")
    kinds = [lay._type_string for lay in viewer.layers]
    assert kinds == ["points", "tracks", "image"]
    video = viewer.layers["reachingvideo1short"]
    assert video.rgb and video.data.shape[0] == read_dlc_table(dlc_fixtures / SINGLE).shape[0]
    assert video.metadata["fps"] > 0
    viewer.dims.set_current_step(0, 5)  # napari slices frame 5 from the lazy array
    assert video.data.stats["decoded"] >= 1


def test_save_points_layer_through_napari(make_napari_viewer, dlc_fixtures, tmp_path):
    viewer = make_napari_viewer()
    viewer.open(str(dlc_fixtures / SINGLE), plugin="napari-gaitint")
    layer = viewer.layers[0]
    moved = layer.data.copy()
    moved[0, 1:] += (3.0, -4.0)  # a user correction
    layer.data = moved
    out = tmp_path / "corrected.h5"
    layer.save(str(out), plugin="napari-gaitint")
    a, b = read_dlc_table(dlc_fixtures / SINGLE), read_dlc_table(out)
    assert list(a.columns) == list(b.columns)
    bp = str(layer.features["label"].iloc[0])
    f = int(layer.data[0, 0])
    scorer = a.columns.get_level_values(0)[0]
    assert_allclose([b.loc[b.index[f], (scorer, bp, "y")], b.loc[b.index[f], (scorer, bp, "x")]],
                    [a.loc[a.index[f], (scorer, bp, "y")] + 3.0, a.loc[a.index[f], (scorer, bp, "x")] - 4.0])
    unchanged = np.ones(a.shape, bool)
    unchanged[f, [a.columns.get_loc((scorer, bp, c)) for c in ("x", "y")]] = False
    assert_allclose(b.to_numpy(float)[unchanged], a.to_numpy(float)[unchanged], rtol=1e-6)
