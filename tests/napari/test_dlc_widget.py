"""The "Run DeepLabCut" dock without DeepLabCut: install hint, fields, worker and layers.

DeepLabCut itself is exercised with a real trained network in tests/dlc (``bash
scripts/dlc_test.sh``); here its one call, ``dlc.analyze.analyze_trial_pair``, is replaced by a
stand-in that writes known predictions, so the skin (worker, progress, placement of the
loaded layers on the videos in the viewer) is checked on every machine.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from napari_gaitint import dlc as core_dlc
from napari_gaitint._napari import _dlc
from napari_gaitint.core.errors import GaitintError
from napari_gaitint.core.io import load_pose
from napari_gaitint.core.pose import VIEW_SIDES
from napari_gaitint.workflow.manifest import load_manifest, update_manifest

pytestmark = pytest.mark.napari


def _wait_done(qtbot, widget, timeout_ms=60_000):
    """Until the dock's worker has finished (the Run button is enabled again). Not
    ``waitSignal(worker.finished)``: a fast worker may finish before that connects."""
    qtbot.waitUntil(lambda: widget.run.enabled, timeout=timeout_ms)


@pytest.fixture
def project(tmp_path) -> Path:
    config = tmp_path / "proj" / "config.yaml"
    config.parent.mkdir()
    config.write_text("scorer: lab\nbodyparts: [neck, hip, knee, ankle, heel, toe]\n")
    return config


@pytest.fixture
def stand_in(monkeypatch, sample_manifest):
    """Replaces DeepLabCut's analysis: writes the sample's predictions as DLC would."""
    calls = []
    rows = load_manifest(sample_manifest).set_index("view")

    def analyze_trial_pair(config, video_c1, video_c3, *, mirror="C3", out_dir=None,
                           progress=None, **kwargs):
        calls.append({"config": config, "videos": (video_c1, video_c3), "mirror": mirror,
                      "out_dir": out_dir, **kwargs})
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        progress("importing DeepLabCut")
        progress("mirroring")
        progress("DeepLabCut: analysing")
        predictions, table = {}, []
        for view, video in (("C1", video_c1), ("C3", video_c3)):
            dest = out / f"{Path(video).stem}DLC_stand_in.h5"
            shutil.copyfile(rows.loc[view, "predictions"], dest)
            predictions[view] = dest
            table.append({"trial": "T01", "view": view, "side": VIEW_SIDES[view],
                          "predictions": dest.name, "video": str(video), "fps": rows.loc[view, "fps"],
                          "width": 960, "height": 540, "mirrored": view == mirror})
        manifest = update_manifest(out / "trials.csv", table)
        progress(f"wrote {manifest}")
        return core_dlc.PairAnalysis(trial="T01", predictions=predictions, raw=dict(predictions),
                                     mirrored=mirror, mirrored_video=None, manifest=manifest,
                                     scorer="DLC_stand_in")

    monkeypatch.setattr(core_dlc, "dlc_available", lambda: True)
    monkeypatch.setattr(core_dlc, "analyze_trial_pair", analyze_trial_pair)
    return calls


def test_without_deeplabcut_the_dock_says_how_to_install(make_napari_viewer, monkeypatch, project,
                                                         sample_manifest):
    monkeypatch.setattr(core_dlc, "dlc_available", lambda: False)
    viewer = make_napari_viewer()
    widget = _dlc.RunDLCWidget(viewer)
    assert core_dlc.INSTALL_HINT in widget.status.value
    rows = load_manifest(sample_manifest).set_index("view")
    widget.config.value = str(project)
    widget.video_c1.value = rows.loc["C1", "video"]
    widget.video_c3.value = rows.loc["C3", "video"]
    assert widget.start() is None  # no worker
    assert "not installed" in widget.status.value and core_dlc.INSTALL_HINT in widget.status.value
    assert len(viewer.layers) == 0


def test_missing_fields_are_named(make_napari_viewer, stand_in):
    widget = _dlc.RunDLCWidget(make_napari_viewer())
    assert widget.start() is None
    assert "config.yaml" in widget.status.value
    widget.config.value = "/somewhere/config.yaml"
    assert widget.start() is None
    assert "both videos" in widget.status.value
    assert stand_in == []


def test_video_fields_follow_the_loaded_trial_pair(make_napari_viewer, sample_manifest):
    viewer = make_napari_viewer()
    widget = _dlc.RunDLCWidget(viewer)
    assert str(widget.video_c1.value) in ("", ".")
    viewer.open_sample("napari-gaitint", "trial_pair")  # the dock fills in what appears
    rows = load_manifest(sample_manifest).set_index("view")
    assert Path(widget.video_c1.value) == Path(rows.loc["C1", "video"])
    assert Path(widget.video_c3.value) == Path(rows.loc["C3", "video"])


def test_run_loads_predictions_onto_the_videos_shown(make_napari_viewer, qtbot, stand_in, project,
                                                     sample_manifest, tmp_path):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-gaitint", "trial_pair")
    before = {lay.name: lay for lay in viewer.layers}
    widget = _dlc.RunDLCWidget(viewer)
    widget.config.value = str(project)
    widget.out_dir.value = str(tmp_path / "dlc-out")
    widget.snapshot.value = "-1"
    widget.device.value = "auto"
    assert widget.start() is not None
    _wait_done(qtbot, widget)
    assert widget.result is not None, widget.status.value
    # the core got the dock's settings
    (call,) = stand_in
    assert call["config"] == project and call["mirror"] == "C3" and call["snapshot"] == "-1"
    assert call["device"] is None and call["shuffle"] == 1 and call["overwrite"] is False
    assert call["out_dir"] == tmp_path / "dlc-out"
    assert widget.steps[0] == "importing DeepLabCut" and widget.steps[-1].startswith("wrote") and widget.progress.value == widget.progress.max
    assert widget.run.enabled
    # predictions added as keypoints + tracks; the videos are not added a second time
    new = [lay for lay in viewer.layers if lay.name not in before]
    assert sorted(lay._type_string for lay in new) == ["points", "points", "tracks", "tracks"]
    assert widget.added == new
    for view in ("C1", "C3"):
        (pts,) = [lay for lay in new if lay._type_string == "points" and f" {view} " in lay.name]
        video = before[f"T01 {view} video"]
        assert_allclose(pts.affine.affine_matrix, video.affine.affine_matrix)
        assert pts.metadata["gaitint"]["dlc_scorer"] == "DLC_stand_in"
        # same predictions as the sample's layer: same data, same place on the canvas
        old = before[f"T01 {view} keypoints"]
        assert_array_equal(pts.data, old.data)
        assert_array_equal(pts.features["label"], old.features["label"])
        pose = load_pose(widget.result.predictions[view])
        neck = (pts.features["label"] == "neck").to_numpy() & (pts.data[:, 0] == 5)
        assert_allclose(pts.data[neck][0, 1:], pose.bodypart("neck")[5, [1, 0]])
    assert "loaded" in widget.status.value


def test_run_without_videos_in_the_viewer_adds_them(make_napari_viewer, qtbot, stand_in, project,
                                                    sample_manifest, tmp_path):
    viewer = make_napari_viewer()
    rows = load_manifest(sample_manifest).set_index("view")
    widget = _dlc.RunDLCWidget(viewer)
    widget.config.value = str(project)
    widget.video_c1.value = rows.loc["C1", "video"]
    widget.video_c3.value = rows.loc["C3", "video"]
    widget.mirror.value = "none"
    widget.out_dir.value = str(tmp_path / "out")
    assert widget.start() is not None
    _wait_done(qtbot, widget)
    assert widget.result is not None, widget.status.value
    assert stand_in[0]["mirror"] is None
    kinds = sorted(lay._type_string for lay in viewer.layers)
    assert kinds == ["image", "image", "points", "points", "tracks", "tracks"]
    c1, c3 = viewer.layers["T01 C1 video"], viewer.layers["T01 C3 video"]
    assert c3.extent.world[0][2] > c1.extent.world[1][2]  # side by side
    assert np.sort([c1.affine.affine_matrix[2, 2], c3.affine.affine_matrix[2, 2]]).tolist() == [-1, 1]


def test_errors_of_the_analysis_reach_the_status_line(make_napari_viewer, qtbot, monkeypatch, project,
                                                      tmp_path, sample_manifest):
    def fails(*args, progress=None, **kwargs):
        progress("importing DeepLabCut")
        raise GaitintError(f"{project}: no trained shuffle 1")

    monkeypatch.setattr(core_dlc, "dlc_available", lambda: True)
    monkeypatch.setattr(core_dlc, "analyze_trial_pair", fails)
    rows = load_manifest(sample_manifest).set_index("view")
    viewer = make_napari_viewer()
    widget = _dlc.RunDLCWidget(viewer)
    widget.config.value = str(project)
    widget.video_c1.value = rows.loc["C1", "video"]
    widget.video_c3.value = rows.loc["C3", "video"]
    assert widget.start() is not None
    _wait_done(qtbot, widget)
    assert "no trained shuffle 1" in widget.status.value
    assert widget.run.enabled and len(viewer.layers) == 0
