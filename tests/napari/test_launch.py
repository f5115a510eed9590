"""`gaitint demo --gui` opens napari on the sample with the widgets docked."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.napari


def test_open_viewer_on_sample(sample_manifest, tmp_path, qtbot):
    from napari_gaitint._napari._launch import open_viewer_on_sample

    viewer = open_viewer_on_sample(tmp_path, run=False)  # no demo folder: the cached sample
    try:
        names = {lay.name for lay in viewer.layers}
        assert {"T01 C1 video", "T01 C3 video", "T01 C1 keypoints", "T01 C3 keypoints"} <= names
        docks = set(viewer.window.dock_widgets)
        assert {"Load trial pair", "Clean keypoints", "Detect gait events", "Gait statistics"} <= docks
    finally:
        viewer.close()
