"""The plugin as a user drives it: open the sample, clean, detect events, run the statistics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from napari_gaitint.workflow.manifest import load_manifest

pytestmark = pytest.mark.napari


def _by_name(viewer, text):
    return [lay for lay in viewer.layers if text in lay.name]


@pytest.fixture
def sample_viewer(make_napari_viewer, sample_manifest):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-gaitint", "trial_pair")
    return viewer


@pytest.fixture(scope="session")
def truth(sample_manifest):
    folder = sample_manifest.parent / "truth"
    return {
        "wrong_limb": pd.read_csv(folder / "wrong_limb.csv"),
        "events": pd.read_csv(folder / "events.csv"),
    }


def test_sample_opens_both_views_side_by_side(sample_viewer, sample_manifest):
    viewer = sample_viewer
    kinds = sorted((lay._type_string, lay.name) for lay in viewer.layers)
    assert [k for k, _ in kinds] == ["image", "image", "points", "points", "tracks", "tracks"]
    for name in ("T01 C1 video", "T01 C3 video", "T01 C1 keypoints", "T01 C3 keypoints",
                 "T01 C1 tracks", "T01 C3 tracks"):
        assert name in viewer.layers
    c1, c3 = viewer.layers["T01 C1 video"], viewer.layers["T01 C3 video"]
    assert c1.data.shape == c3.data.shape and c1.data.shape[1:] == (540, 960, 3)
    assert viewer.dims.nsteps[0] == c1.data.shape[0]  # one frame slider for both
    # the view walking right-to-left in the image is mirrored by its affine
    # (x -> offset + 959 - x), not copied; the other one is only placed
    from napari_gaitint.core.io import load_pose
    from napari_gaitint.core.orient import detect_walking_direction

    rows = load_manifest(sample_manifest).set_index("view")
    directions = {}
    for view in ("C1", "C3"):
        pose = load_pose(rows.loc[view, "predictions"])
        directions[view] = detect_walking_direction(pose.bodypart("neck")[:, 0])
    assert sorted(directions.values()) == [-1, 1]  # opposite cameras
    for view, layer in (("C1", c1), ("C3", c3)):
        a = layer.affine.affine_matrix
        assert a[2, 2] == directions[view]  # -1: mirrored
        assert layer.metadata["gaitint"]["mirrored"] is (directions[view] == -1)
    assert c3.extent.world[0][2] > c1.extent.world[1][2]  # C3 placed right of C1
    # points share their video's transform; data stay in DLC image pixels
    mirrored = "C1" if directions["C1"] == -1 else "C3"
    k3 = viewer.layers[f"T01 {mirrored} keypoints"]
    assert_allclose(k3.affine.affine_matrix, viewer.layers[f"T01 {mirrored} video"].affine.affine_matrix)
    pose = load_pose(rows.loc[mirrored, "predictions"])
    hip = (k3.features["label"] == "hip").to_numpy() & (k3.data[:, 0] == 10)
    assert_allclose(k3.data[hip][0, 1:], pose.bodypart("hip")[10, [1, 0]])
    # walking direction on the canvas is the same for both views
    for view in ("C1", "C3"):
        lay = viewer.layers[f"T01 {view} keypoints"]
        neck = lay.data[(lay.features["label"] == "neck").to_numpy()]
        world_x = lay.affine.affine_matrix[2, 2] * neck[:, 2] + lay.affine.affine_matrix[2, 3]
        assert world_x[-1] > world_x[0]
    assert set(k3.features["label"]) == {"neck", "hip", "knee", "ankle", "heel", "toe"}


def test_load_trial_pair_widget_from_manifest_and_files(make_napari_viewer, sample_manifest, tmp_path, qtbot):
    from napari_gaitint._napari._load import LoadTrialPairWidget

    viewer = make_napari_viewer()
    widget = LoadTrialPairWidget(viewer)
    viewer.window.add_dock_widget(widget)
    widget.manifest.value = str(sample_manifest)
    assert list(widget.trial.choices) == ["T01"]
    # the button reads the files in a worker, with a progress bar, then adds the layers
    steps = []
    widget.progress.changed.connect(steps.append)
    widget.load_row.clicked.emit()
    assert not widget.progress.native.isHidden() and not widget.load_row.enabled
    qtbot.waitUntil(lambda: not widget.loading and widget.load_row.enabled, timeout=30_000)
    assert {"T01 C1 keypoints", "T01 C3 keypoints", "T01 C1 video"} <= {lay.name for lay in viewer.layers}
    assert steps[-1] == widget.progress.max == 4 and widget.progress.native.isHidden()
    assert widget.status.value.startswith("loaded")
    # the trial list is still there after the layers came in (napari resets dock choices)
    assert list(widget.trial.choices) == ["T01"] and widget.trial.value == "T01"
    assert widget.trial.native.currentText() == "T01"
    # picked files: predictions only, named by the trial name typed
    rows = load_manifest(sample_manifest)
    widget.pick.value = True
    assert not widget.pred_a.native.isHidden()
    widget.trial_name.value = "mine"
    widget.pred_a.value = rows.loc[0, "predictions"]
    widget.pred_b.value = rows.loc[1, "predictions"]
    widget.load_files.clicked.emit()
    qtbot.waitUntil(lambda: not widget.loading and widget.load_files.enabled, timeout=30_000)
    assert {"mine C1 keypoints", "mine C3 keypoints"} <= {lay.name for lay in viewer.layers}
    # a folder as DeepLabCut leaves it (no trials.csv): trials found by file name
    import shutil

    folder = tmp_path / "dlc"
    folder.mkdir()
    for _, row in rows.iterrows():
        shutil.copy(row["predictions"], folder)
        if isinstance(row["video"], str):
            (folder / f"{row['trial']}_{row['view']}.mp4").symlink_to(row["video"])
    widget.folder.value = str(folder)
    widget._on_folder()
    assert "found by file name" in widget.status.value and list(widget.trial.choices) == ["T01"]
    before = len(viewer.layers)
    widget.load_row.clicked.emit()
    qtbot.waitUntil(lambda: not widget.loading and widget.load_row.enabled, timeout=30_000)
    assert len(viewer.layers) > before


def _run_clean(viewer, layer_name, **params):
    from napari_gaitint._napari._clean import clean_widget

    widget = clean_widget()
    viewer.window.add_dock_widget(widget)
    widget.layer.value = viewer.layers[layer_name]
    for k, v in params.items():
        getattr(widget, k).value = v
    widget()
    return viewer.layers[f"{layer_name} cleaned"]


def test_clean_flags_the_repaired_wrong_limb_points(sample_viewer, truth):
    from napari_gaitint._napari._layers import layer_pose
    from napari_gaitint.core.clean import clean_pose
    from napari_gaitint.core.clean_flags import FLAG_WRONG_LIMB
    from napari_gaitint.core.config import CleanConfig

    viewer = sample_viewer
    raw = viewer.layers["T01 C1 keypoints"]
    raw_data = raw.data.copy()
    params = dict(likelihood_threshold=0.6, method="twoview", margin_px=15.0, max_gap_s=0.4,
                  filter="butterworth", cutoff_hz=6.0)
    cleaned = _run_clean(viewer, "T01 C1 keypoints", **params)
    assert "T01 C1 keypoints cleaned tracks" in viewer.layers
    np.testing.assert_array_equal(raw.data, raw_data)  # original untouched
    feats = cleaned.features
    flagged = {(int(f), str(b)) for f, b, fl in zip(feats["frame"], feats["label"], feats["flags"], strict=True)
               if fl & FLAG_WRONG_LIMB}
    # the layer shows exactly what the core decided ...
    core = clean_pose(layer_pose(raw), other=layer_pose(viewer.layers["T01 C3 keypoints"]),
                      config=CleanConfig(**params))
    fr, bp = np.nonzero(core.flags & FLAG_WRONG_LIMB)
    assert flagged == {(int(f), core.pose.bodyparts[j]) for f, j in zip(fr, bp, strict=True)}
    # ... and that is the injected wrong-limb frames of this view
    wl = truth["wrong_limb"]
    injected = {(int(f), b) for f, b in wl.loc[wl["view"] == "C1", ["frame", "bodypart"]].itertuples(index=False)}
    assert injected, "the sample must contain wrong-limb labels"
    found = flagged & injected
    assert len(found) >= 0.8 * len(injected)
    assert len(flagged - injected) <= max(2, 0.2 * len(flagged))
    # repaired points sit where the core put them, coloured as wrong-limb repairs
    wrong = (feats["status"] == "wrong_limb").to_numpy()
    assert wrong.sum() == len(flagged)
    assert_allclose(cleaned.face_color[wrong][:, :3], np.tile([1.0, 0.0, 0.0], (wrong.sum(), 1)), atol=1e-6)
    f0, b0 = sorted(found)[0]
    row = np.flatnonzero((feats["frame"] == f0).to_numpy() & (feats["label"] == b0).to_numpy())[0]
    assert_allclose(cleaned.data[row, 1:], core.pose.bodypart(b0)[f0, [1, 0]])


def test_detect_events_layer_matches_core_and_truth(sample_viewer, truth):
    from napari_gaitint._napari._detect import detect_events_widget
    from napari_gaitint._napari._layers import layer_pose
    from napari_gaitint.core.events import detect_events
    from napari_gaitint.core.orient import orient_pose

    viewer = sample_viewer
    cleaned = _run_clean(viewer, "T01 C1 keypoints")
    widget = detect_events_widget()
    viewer.window.add_dock_widget(widget)
    from napari_gaitint.core.config import CLEANED_LIKELIHOOD_THRESHOLD, DEFAULT_METHOD

    assert widget.method.value == DEFAULT_METHOD  # the default of every entry point
    widget.layer.value = cleaned
    widget.method.value = "zeni"
    widget.reference.value = "hip"
    widget()
    events_layer = viewer.layers["T01 C1 keypoints cleaned events"]
    # a cleaned layer: the dock states the cleaned cut-off (0: the filled points are kept)
    # and passes the layer's cleaning flags (the confidence), as the chain gets them
    shown = layer_pose(cleaned)
    flags = np.zeros((shown.n_frames, len(shown.bodyparts)), dtype=np.int64)
    points = cleaned.features
    flags[points["frame"].to_numpy(int), [shown.bodyparts.index(b) for b in points["label"]]] = points["flags"]
    assert flags.any()
    core = detect_events(orient_pose(shown), side="left", method="zeni", reference="hip",
                         min_likelihood=CLEANED_LIKELIHOOD_THRESHOLD, flags=flags)
    found = events_layer.metadata["gaitint"]["events"]
    assert found["confidence"].tolist() == core["confidence"].tolist()
    assert found["why"].tolist() == core["why"].tolist()
    feats = events_layer.features
    assert list(feats["event"]) == list(core["event"])
    assert_allclose(feats["frame_exact"], core["frame"])
    assert_allclose(events_layer.data[:, 0], np.rint(core["frame"]))
    assert set(feats["label"]) == {"HS", "TO"}
    assert abs(events_layer.metadata["gaitint"]["floor_tilt_deg"]) < 0.5  # level sample cameras
    # markers at the heel (HS) / toe (TO) of the cleaned pose in that frame
    pose = layer_pose(cleaned)
    for (f, y, x), ev in zip(events_layer.data, feats["event"], strict=True):
        part = "heel" if ev == "heel_strike" else "toe"
        assert_allclose([y, x], pose.bodypart(part)[int(f), [1, 0]])
    # and near the true events of the synthetic walker (in view)
    tr = truth["events"]
    tr = tr[(tr["view"] == "C1") & tr["in_view"]]
    for ev in core.itertuples(index=False):
        same = tr.loc[tr["event"] == ev.event, "frame"].to_numpy()
        assert np.min(np.abs(same - ev.frame)) < 2.5
    # the signal plot: a line follows the slider, a click jumps the slider
    from napari_gaitint._napari._detect import EventsPlot

    plot = EventsPlot.latest()
    viewer.dims.set_current_step(0, 40)
    assert plot.line.get_xdata()[0] == 40
    plot.jump_to(float(core["frame"].iloc[1]))
    assert viewer.dims.current_step[0] == int(np.rint(core["frame"].iloc[1]))
    assert len(plot.ax.lines) >= 1 + len(core)


def test_detect_events_dock_fields_are_the_event_settings(sample_viewer):
    """The dock's fields: the EVENT_OPTIONS settings with EventConfig's defaults; what is set
    reaches the detector (and a bad value is a clear error)."""
    from napari_gaitint._napari._detect import detect_events_widget
    from napari_gaitint._napari._layers import layer_pose
    from napari_gaitint.core.config import EVENT_OPTIONS, EVENT_REFERENCES, EventConfig
    from napari_gaitint.core.errors import GaitintError
    from napari_gaitint.core.events import detect_events
    from napari_gaitint.core.orient import orient_pose

    viewer = sample_viewer
    widget = detect_events_widget()
    viewer.window.add_dock_widget(widget)
    defaults = EventConfig()
    for name in set(EVENT_OPTIONS) - {"stride_range_s"}:
        assert hasattr(widget, name), name
    assert widget.max_gap_s.value == defaults.max_gap_s
    assert (widget.shortest_stride_s.value, widget.longest_stride_s.value) == defaults.stride_range_s
    assert list(widget.reference.choices) == ["auto", *EVENT_REFERENCES]
    assert widget.min_likelihood.value == widget.stride_s.value == "auto"
    raw = viewer.layers["T01 C1 keypoints"]
    widget.layer.value = raw
    widget.method.value = "zeni"
    widget.min_likelihood.value = "0.9"
    widget.max_gap_s.value = 0.05
    widget.shortest_stride_s.value, widget.longest_stride_s.value = 0.8, 1.6
    widget.show_plot.value = False
    widget()
    found = viewer.layers["T01 C1 keypoints events"].metadata["gaitint"]["events"]
    core = detect_events(orient_pose(layer_pose(raw)), side="left", method="zeni", min_likelihood=0.9,
                         max_gap_s=0.05, stride_range_s=(0.8, 1.6))
    assert_allclose(found["frame"], core["frame"])
    assert not detect_events(orient_pose(layer_pose(raw)), side="left", method="zeni")["frame"].equals(core["frame"])
    widget.min_likelihood.value = "high"
    with pytest.raises(GaitintError, match="likelihood cut-off: give a number or 'auto'"):
        widget()


def test_stats_dock_runs_in_worker_and_fills_table(make_napari_viewer, tmp_path, qtbot):
    from napari_gaitint._napari._stats import StatsWidget
    from napari_gaitint.core.stats import rm_anova
    from napari_gaitint.synthetic.files import write_synthetic_cohort
    from napari_gaitint.workflow.cohort import analyze_cohort

    manifest = write_synthetic_cohort(tmp_path / "cohort", n_trials=4, seed=11, video=False)
    viewer = make_napari_viewer()
    widget = StatsWidget(viewer)
    viewer.window.add_dock_widget(widget)
    widget.manifest.value = str(manifest)
    widget.bodyparts.value = ["ankle", "heel"]
    widget.axes.value = ["x"]
    assert widget.start() is not None
    # the Run button is enabled again when the worker has finished (not waitSignal on
    # worker.finished: a fast worker could finish before that connects)
    qtbot.waitUntil(lambda: widget.run.enabled, timeout=120_000)
    assert widget.anova is not None, widget.status.value
    expected = rm_anova(analyze_cohort(manifest, stats=False, report=False).cycles,
                        bodyparts=["ankle", "heel"], axes=["x"])
    table = widget.table.to_dataframe()
    assert len(table) == len(expected) > 0
    assert list(table["bodypart"]) == list(expected["bodypart"])
    assert list(table["effect"]) == list(expected["effect"])
    assert_allclose(table["F"].astype(float), expected["F"], atol=1e-3, rtol=1e-6)
    p = expected["p_gg"].fillna(expected["p_unc"])
    assert list(table["sig"].fillna("")) == ["*" if v < 0.05 else "" for v in p]
    assert widget.progress.value == widget.progress.max == 4
    assert widget.plot_part.value in ("ankle x", "heel x")
    top, bottom = widget._figure.axes
    assert top.get_ylabel() == "x relative to neck (px)" and bottom.get_ylabel() == "difference (px)"
    files = widget.export_to(tmp_path / "export")
    assert (tmp_path / "export" / "anova.csv").is_file() and (tmp_path / "export" / "stats_plot.png").is_file()
    assert all(f.exists() for f in files)
    html = (tmp_path / "export" / "report.html").read_text()
    assert "perspective" in html and "data:image/png;base64" in html


def test_stats_dock_tests_joint_angles(make_napari_viewer, tmp_path, qtbot):
    """Joints and the angle axis are choices: the knee and trunk angles get their ANOVA rows."""
    from napari_gaitint._napari._stats import StatsWidget
    from napari_gaitint.core.stats import rm_anova
    from napari_gaitint.synthetic.files import write_synthetic_cohort
    from napari_gaitint.workflow.cohort import analyze_cohort

    manifest = write_synthetic_cohort(tmp_path / "cohort", n_trials=3, seed=5, video=False)
    viewer = make_napari_viewer()
    widget = StatsWidget(viewer)
    assert "trunk" in widget.bodyparts.choices and "angle" in widget.axes.choices
    assert set(widget.axes.value) == {"x", "y", "angle"}  # angles tested by default, as in `gaitint analyze`
    widget.manifest.value = str(manifest)
    widget.bodyparts.value = ["knee", "trunk", "heel"]  # heel has no angle: no row for it
    widget.axes.value = ["angle"]
    widget.start()
    qtbot.waitUntil(lambda: widget.run.enabled, timeout=120_000)
    assert widget.anova is not None, widget.status.value
    table = widget.table.to_dataframe()
    cycles = analyze_cohort(manifest, stats=False, report=False).cycles
    expected = rm_anova(cycles, bodyparts=["knee", "trunk"], axes=["angle"])
    assert list(table["bodypart"]) == list(expected["bodypart"]) == ["knee"] * 3 + ["trunk"] * 3
    assert set(table["axis"]) == {"angle"}
    assert_allclose(table["F"].astype(float), expected["F"], atol=1e-3, rtol=1e-6)
    assert widget.plot_part.choices == ("knee angle", "trunk angle")
    top, _ = widget._figure.axes
    assert "deg" in top.get_ylabel()
    widget.axes.value = ["x"]
    widget.bodyparts.value = ["trunk"]  # a joint has no x: said, not an empty table
    widget.start()
    qtbot.waitUntil(lambda: widget.run.enabled, timeout=120_000)
    assert "the cycles have no trunk with axis x" in widget.status.value
    assert list(widget.table.to_dataframe()["bodypart"]) == ["knee"] * 3 + ["trunk"] * 3  # the last result stays
