"""The calibration dock: a line over a known floor distance on a view gives its px_per_m,
saved into trials.csv; the loader's subject field goes into the trial's manifest rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from napari_gaitint.workflow.manifest import load_manifest, read_manifest_cells

pytestmark = pytest.mark.napari


@pytest.fixture
def sample_viewer(make_napari_viewer, sample_manifest):
    viewer = make_napari_viewer(show=True)  # (a hidden window's screenshot is black)
    viewer.open_sample("napari-gaitint", "trial_pair")
    return viewer


def _yellow(img: np.ndarray) -> np.ndarray:
    return (img[..., 0] > 200) & (img[..., 1] > 200) & (img[..., 2] < 80)


@pytest.mark.parametrize("view", ["C1", "C3"])  # one of the two is mirrored by its affine
def test_line_on_a_view_gives_px_per_m_saved_in_the_manifest(sample_viewer, sample_manifest, tmp_path, view):
    from napari_gaitint._napari._calibrate import CalibrateWidget

    viewer = sample_viewer
    manifest = tmp_path / "trials.csv"  # the sample's, with absolute paths
    cols = ["trial", "view", "side", "predictions", "video", "fps", "width", "height"]
    load_manifest(sample_manifest)[cols].to_csv(manifest, index=False)
    widget = CalibrateWidget(viewer)
    viewer.window.add_dock_widget(widget)
    widget.view.reset_choices()
    assert list(widget.view.choices) == ["T01 C1", "T01 C3"]
    widget.view.value = f"T01 {view}"
    layer = widget.start_line()
    assert layer.name == f"calibration T01 {view}" and layer.mode == "add_line"
    keypoints = viewer.layers[f"T01 {view} keypoints"]
    assert_allclose(layer.affine.affine_matrix, keypoints.affine.affine_matrix)
    # a line drawn on the canvas (world coordinates) over 400 image pixels of floor
    ends_world = np.array([keypoints.data_to_world([0, 500, x]) for x in (100.0, 500.0)])
    layer.add(np.array([layer.world_to_data(p) for p in ends_world]), shape_type="line")
    widget.length_m.value = 0.5
    assert widget.px_per_m() == pytest.approx(800.0)
    widget.manifest.value = str(manifest)
    widget.save.clicked.emit()
    assert widget.status.value == f"{view}: 800.0 px/m saved to trials.csv (1 row(s))"
    cells = read_manifest_cells(manifest)
    assert cells["px_per_m"].tolist() == ["800.0" if v == view else "" for v in cells["view"]]
    table = load_manifest(manifest)
    assert table.set_index("view").loc[view, "px_per_m"] == 800.0
    # the line is drawn where it was put (yellow over the floor of that view)
    viewer.dims.set_current_step(0, 0)
    viewer.reset_view()
    shot = viewer.screenshot(canvas_only=True, flash=False)
    yellow = _yellow(shot)
    assert yellow.sum() > 100
    columns = np.flatnonzero(yellow.any(axis=0))
    half = shot.shape[1] / 2  # C1 is shown left of C3
    assert (columns < half).all() if view == "C1" else (columns > half).all()


def test_nothing_drawn_or_no_manifest_is_said(sample_viewer, tmp_path):
    from napari_gaitint._napari._calibrate import CalibrateWidget

    widget = CalibrateWidget(sample_viewer)
    widget.view.reset_choices()
    widget.view.value = "T01 C1"
    widget.save.clicked.emit()
    assert widget.status.value == "choose the trials.csv to save into"
    widget.manifest.value = str(tmp_path / "absent.csv")
    widget.start_line()
    (tmp_path / "trials.csv").write_text("trial,view,predictions\nT01,C1,a.h5\n")
    widget.manifest.value = str(tmp_path / "trials.csv")
    widget.save.clicked.emit()
    assert widget.status.value == "draw a line on T01 C1 first"
    assert "px_per_m" not in pd.read_csv(tmp_path / "trials.csv").columns


def test_loader_subject_field_goes_into_the_trial_rows(make_napari_viewer, sample_manifest):
    from napari_gaitint._napari._load import LoadTrialPairWidget

    viewer = make_napari_viewer()
    widget = LoadTrialPairWidget(viewer)
    rows = load_manifest(sample_manifest)
    widget.trial_name.value = "walk2"
    widget.subject.value = "P07"
    widget.pred_a.value = rows.loc[0, "predictions"]
    widget.pred_b.value = rows.loc[1, "predictions"]
    widget._on_load_files()
    loaded = [lay for lay in viewer.layers if lay.name.endswith("keypoints")]
    assert [lay.metadata["gaitint"]["manifest_row"]["subject"] for lay in loaded] == ["P07", "P07"]
