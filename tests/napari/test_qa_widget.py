"""Label QA in napari as a user drives it: keys and mouse on the canvas, save, reopen, recover."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from gui_user import canvas_native, canvas_xy, click, drag
from numpy.testing import assert_array_equal
from qtpy.QtCore import QPointF, Qt
from qtpy.QtGui import QCloseEvent
from qtpy.QtWidgets import QApplication

from napari_gaitint.core import clean
from napari_gaitint.core._files import file_sha256
from napari_gaitint.core.corrections import has_autosave, refined_path
from napari_gaitint.core.io import load_pose
from napari_gaitint.workflow.manifest import load_manifest

pytestmark = pytest.mark.napari


# ---------------------------------------------------------------------------------------
# helpers: a user at the canvas
# ---------------------------------------------------------------------------------------
def press(qtbot, viewer, key, modifier=Qt.KeyboardModifier.NoModifier):
    qtbot.keyClick(canvas_native(viewer), key, modifier)


def point_index(layer, frame, label) -> int:
    frames = np.rint(np.asarray(layer.data)[:, 0]).astype(int)
    hit = np.flatnonzero((frames == frame) & (layer.features["label"].astype(str).to_numpy() == label))
    assert hit.size == 1, (frame, label, hit)
    return int(hit[0])


def read_like_napari_deeplabcut(path) -> pd.DataFrame:
    """Rows (frame, bodypart, x, y) as napari-deeplabcut builds its points from ``pd.read_hdf``."""
    temp = pd.read_hdf(path).droplevel("scorer", axis=1)
    df = temp.stack("bodyparts", future_stack=True).reset_index()
    return df.dropna(subset=["x", "y"]).rename(columns={"level_0": "frame"})[["frame", "bodyparts", "x", "y"]]


# ---------------------------------------------------------------------------------------
# fixtures
# ---------------------------------------------------------------------------------------
@pytest.fixture
def answers():
    """Auto-answer the widget's questions (set up before, torn down after the viewer)."""
    from napari_gaitint._napari._qa import QAWidget

    QAWidget.close_prompt = staticmethod(lambda: "discard")
    QAWidget.confirm_prompt = staticmethod(lambda text: True)
    yield QAWidget
    QAWidget.close_prompt = None
    QAWidget.confirm_prompt = None


def copy_trial(tmp_path, sample_manifest, *, video: bool = False) -> pd.DataFrame:
    """The sample trial copied to tmp_path (predictions copied, videos linked): sources we may write next to."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    rows = load_manifest(sample_manifest)
    rows = rows[rows["trial"] == rows["trial"].iloc[0]].copy()
    for i, row in rows.iterrows():
        pred = tmp_path / f"{row['trial']}_{row['view']}DLC_resnet50_gaitShuffle1_1000.h5"
        shutil.copy(row["predictions"], pred)
        rows.loc[i, "predictions"] = str(pred)
        if video and isinstance(row.get("video"), str) and row["video"]:
            vid = tmp_path / f"{row['trial']}_{row['view']}.mp4"
            vid.symlink_to(row["video"])
            rows.loc[i, "video"] = str(vid)
        else:
            rows.loc[i, "video"] = np.nan
    return rows


@pytest.fixture
def trial_rows(tmp_path, sample_manifest) -> pd.DataFrame:
    """The sample trial's predictions in tmp_path, without videos (faster; the QA needs none)."""
    return copy_trial(tmp_path, sample_manifest)


def open_trial(viewer, rows):
    from napari_gaitint._napari._layers import trial_pair_layers

    for data, kw, kind in trial_pair_layers(rows):
        getattr(viewer, f"add_{kind}")(data, **kw)


@pytest.fixture
def qa_session(answers, make_napari_viewer, trial_rows, qtbot):
    viewer = make_napari_viewer()
    open_trial(viewer, trial_rows)
    # opened as a user does, from the Plugins menu (npe2 manifest)
    _, widget = viewer.window.add_plugin_dock_widget("napari-gaitint", "Label QA")
    assert isinstance(widget, answers)
    widget.start()
    viewer.reset_view()
    qtbot.wait(50)
    return viewer, widget


# ---------------------------------------------------------------------------------------
# tests
# ---------------------------------------------------------------------------------------
def test_suspect_list_navigation_and_counter(qa_session, qtbot):
    viewer, widget = qa_session
    review = widget.review
    assert review.n > 0 and widget.table.model().rowCount() == review.n
    assert widget.counter.text().startswith(f"0 of {review.n} reviewed")
    # the wrong-limb suspects the cleaning core flags are in the list, first
    views = {v: s for v, s in widget.sessions.items()}
    wl = widget.suspects[widget.suspects["kinds"].str.contains("wrong_limb")]
    for v, s in views.items():
        flagged = set(map(tuple, clean.flags_table(clean.CleanResult(s.pose, s.editor.clean_flags, None, {}))
                          .query("names.str.contains('wrong_limb')", engine="python")[["frame", "bodypart"]]
                          .itertuples(index=False)))
        listed = {(int(f), b) for f, b in wl[wl["view"] == v][["frame", "bodypart"]].itertuples(index=False)}
        assert listed == {(int(f), b) for f, b in flagged}
    press(qtbot, viewer, Qt.Key.Key_N)
    view, frame = review.key(0)
    assert viewer.dims.current_step[0] == frame
    model = widget.table.model()
    assert [model.index(0, c).data() for c in range(3)] == ["", view, str(frame)]
    assert widget.table.selectionModel().isRowSelected(0, model.index(0, 0).parent())
    s = widget.sessions[view]
    assert viewer.layers.selection.active.name == s.layer.name
    # one point selected: the frame's most suspect part (the others stay visible, unselected)
    top = widget.suspects[(widget.suspects["view"] == view) & (widget.suspects["frame"] == frame)].iloc[0]
    selected = [str(s.layer.features["label"].iloc[i]) for i in s.layer.selected_data]
    assert selected == [top["bodypart"]]
    press(qtbot, viewer, Qt.Key.Key_N)
    assert viewer.dims.current_step[0] == review.key(1)[1]
    press(qtbot, viewer, Qt.Key.Key_B)
    assert viewer.dims.current_step[0] == frame and review.position == 0
    # Enter: accept and go to the next unreviewed frame
    press(qtbot, viewer, Qt.Key.Key_Return)
    assert (view, frame) in review.reviewed and review.position == 1
    assert widget.counter.text().startswith(f"1 of {review.n} reviewed")
    assert widget.table.model().index(0, 0).data() == "✓"
    # clicking a row of the list jumps there
    widget.table.clicked.emit(widget.table.model().index(2, 0))
    assert viewer.dims.current_step[0] == review.key(2)[1]


def test_fix_by_mouse_and_keys_then_save_and_reopen_exactly(qa_session, qtbot, tmp_path, sample_manifest):
    viewer, widget = qa_session
    s = widget.sessions["C1"]
    src = s.pose.source
    sha = file_sha256(src)
    layer = viewer.layers[s.layer.name]  # the viewer's layer (the widget sees napari's plugin proxy)
    viewer.layers.selection.active = layer
    frame = 40
    viewer.dims.set_current_step(0, frame)
    qtbot.wait(20)

    # 1. drag the ankle 30 px (canvas) away: the point moves, carries the manual flag
    i = point_index(layer, frame, "ankle")
    before = np.asarray(layer.data[i]).copy()
    start = canvas_xy(viewer, layer, before)
    drag(viewer, start, QPointF(start.x() + 30, start.y() - 20))
    qtbot.wait(20)
    i = point_index(layer, frame, "ankle")
    moved = np.asarray(layer.data[i]).copy()
    assert np.linalg.norm(moved[1:] - before[1:]) > 5
    assert moved[0] == frame  # the frame never shifts
    assert layer.features["status"].iloc[i] == "manual"
    assert_array_equal(s.editor.pose.bodypart("ankle")[s.editor.row(frame)], [moved[2], moved[1], 1.0])

    # 2. click the toe, Delete -> missing
    click(viewer, canvas_xy(viewer, layer, layer.data[point_index(layer, frame, "toe")]))
    assert {str(layer.features["label"].iloc[j]) for j in layer.selected_data} == {"toe"}
    press(qtbot, viewer, Qt.Key.Key_Delete)
    assert np.isnan(s.editor.pose.bodypart("toe")[s.editor.row(frame)]).all()
    assert "toe" not in set(layer.features.loc[np.rint(layer.data[:, 0]) == frame, "label"].astype(str))

    # 2b. one frame later: delete the heel, then place it again by hand (add mode, one click)
    f2 = frame + 1
    viewer.dims.set_current_step(0, f2)
    layer.selected_data = {point_index(layer, f2, "heel")}
    press(qtbot, viewer, Qt.Key.Key_Delete)
    heel_at = np.asarray(layer.data[point_index(layer, f2, "ankle")]) + [0, 12.0, -9.0]
    layer.mode = "add"
    layer.feature_defaults = {**layer.feature_defaults.iloc[0].to_dict(), "label": "heel"}
    click(viewer, canvas_xy(viewer, layer, heel_at))
    qtbot.wait(20)
    layer.mode = "select"
    placed = np.asarray(layer.data[point_index(layer, f2, "heel")]).copy()
    assert placed[0] == f2 and np.abs(placed[1:] - heel_at[1:]).max() < 2.0  # where the user clicked
    assert_array_equal(s.editor.pose.bodypart("heel")[s.editor.row(f2)], [placed[2], placed[1], 1.0])
    viewer.dims.set_current_step(0, frame)

    # 3. select the knee, W -> far leg / swapped; Ctrl+Z undoes it
    knee_before = s.editor.pose.bodypart("knee")[s.editor.row(frame)].copy()
    layer.selected_data = {point_index(layer, frame, "knee")}
    press(qtbot, viewer, Qt.Key.Key_W)
    assert not np.array_equal(s.editor.pose.bodypart("knee")[s.editor.row(frame)], knee_before, equal_nan=True)
    assert_array_equal(s.editor.far.bodypart("knee")[s.editor.row(frame)], knee_before)
    press(qtbot, viewer, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert_array_equal(s.editor.pose.bodypart("knee")[s.editor.row(frame)], knee_before)
    assert not s.editor.manual[s.editor.row(frame), s.pose.bodypart_index("knee")]

    # the autosave follows the edits (half a second after the last one)
    qtbot.waitUntil(lambda: has_autosave(src), timeout=5000)

    # 4. save: refined/<source name> .h5 and .csv beside the source; the source is untouched
    paths = widget.save()
    assert file_sha256(src) == sha
    h5 = src.parent / "refined" / (src.stem + ".h5")
    assert h5 in paths and h5.with_suffix(".csv") in paths
    assert not widget.dirty and not has_autosave(src)

    # reopen: exactly the corrections, nothing else, same frames
    expected = load_pose(src).values.copy()
    r = s.editor.row(frame)
    expected[r, s.pose.bodypart_index("ankle")] = [moved[2], moved[1], 1.0]
    expected[r, s.pose.bodypart_index("toe")] = np.nan
    expected[s.editor.row(f2), s.pose.bodypart_index("heel")] = [placed[2], placed[1], 1.0]
    for p in (h5, h5.with_suffix(".csv")):
        back = load_pose(p)
        assert_array_equal(back.frames, load_pose(src).frames)
        assert_array_equal(back.values, expected)
    # as napari-deeplabcut reads it (plain pd.read_hdf, index value = frame)
    rows = read_like_napari_deeplabcut(h5)
    ank = rows[(rows["frame"] == frame) & (rows["bodyparts"] == "ankle")]
    assert_array_equal(ank[["x", "y"]].to_numpy()[0], [moved[2], moved[1]])
    assert rows[(rows["frame"] == frame) & (rows["bodyparts"] == "toe")].empty
    assert len(rows) == int(np.isfinite(expected[..., 0]).sum())
    # and in our own reader's layer: the points the user saw
    from napari_gaitint._napari._reader import napari_get_reader

    (data, kw, _), *_ = napari_get_reader(str(h5))(str(h5))
    lab = kw["features"]["label"].astype(str).to_numpy()
    sel = (np.rint(data[:, 0]) == frame) & (lab == "ankle")
    assert_array_equal(data[sel][0], moved)

    # 5. export the corrected frame as DLC machine labels: into a plain folder ...
    videos = {v: r["video"] for _, r in copy_trial(tmp_path / "v", sample_manifest, video=True).iterrows()
              for v in [r["view"]]}
    out = widget.export_labels(tmp_path / "labels_out", scorer="QA", video_paths=videos)
    h5_labels = [p for p in out if p.suffix == ".h5"][0]
    labels = pd.read_hdf(h5_labels)
    assert [i[2] for i in labels.index] == [f"img{frame:03d}.png", f"img{f2:03d}.png"]  # the corrected frames
    assert labels.loc[labels.index[0], ("QA", "ankle", "x")] == moved[2]
    assert np.isnan(labels.loc[labels.index[0], ("QA", "toe", "x")])
    assert labels.loc[labels.index[1], ("QA", "heel", "y")] == placed[1]
    assert all((h5_labels.parent / i[2]).is_file() for i in labels.index)  # frame images, for retraining
    # ... and each image is that frame of the video (no off-by-one between labels and images)
    import matplotlib.image as mpimg

    from napari_gaitint._napari._video import VideoArray

    video = VideoArray(videos["C1"])
    for i, f in zip(labels.index, (frame, f2), strict=True):
        png = np.rint(mpimg.imread(h5_labels.parent / i[2])[..., :3] * 255).astype(np.uint8)
        assert_array_equal(png, np.asarray(video[f]))
    # ... and merged into a DeepLabCut project (dlc.labels), with the project's scorer
    project = tmp_path / "dlc_project"
    project.mkdir()
    (project / "config.yaml").write_text(
        "Task: gait\nscorer: Anna\nmultianimalproject: false\nvideo_sets: {}\n"
        "bodyparts: [neck, hip, knee, ankle, heel, toe]\n"
    )
    out = widget.export_labels(project, video_paths=videos)
    h5_project = [p for p in out if p.name == "CollectedData_Anna.h5"][0]
    merged = pd.read_hdf(h5_project)
    row = [i for i in merged.index if str(i[-1]).endswith(f"{frame:03d}.png") or str(i[-1]).endswith(f"{frame:04d}.png")]
    assert len(row) == 1
    assert merged.loc[row[0], ("Anna", "ankle", "x")] == moved[2]
    import yaml

    listed = yaml.safe_load((project / "config.yaml").read_text())["video_sets"]
    assert [Path(k).name for k in listed] == [Path(videos[s.view]).name]  # DLC retrains on it
    # ... and a view DeepLabCut analysed through a mirrored copy is labelled on that copy
    s.source_layer.metadata["gaitint"].setdefault("manifest_row", {})["mirrored"] = "True"
    project2 = tmp_path / "dlc_project2"
    project2.mkdir()
    (project2 / "config.yaml").write_text((project / "config.yaml").read_text().split("video_sets:")[0]
                                          + "video_sets: {}\nbodyparts: [neck, hip, knee, ankle, heel, toe]\n")
    out = widget.export_labels(project2, video_paths=videos)
    h5_mirrored = [p for p in out if p.name == "CollectedData_Anna.h5"][0]
    assert h5_mirrored.parent.name == Path(videos[s.view]).stem + "_mirrored"
    width = VideoArray(videos[s.view]).shape[2]
    mirrored = pd.read_hdf(h5_mirrored)
    assert mirrored.iloc[0][("Anna", "ankle", "x")] == pytest.approx(width - 1 - moved[2])
    assert mirrored.iloc[0][("Anna", "ankle", "y")] == moved[1]


# The first viewer is closed right after the edits, as a crash would leave it: a throttled
# napari callback (superqt) may then find its method gone and say so. That is napari's, not ours.
@pytest.mark.filterwarnings("ignore:Method has been garbage collected:RuntimeWarning")
def test_a_qa_key_then_closing_at_once_loses_nothing(answers, make_napari_viewer, trial_rows, qtbot):
    """The autosave waits half a second after the last key; closing the window before that
    writes it at once, and a save right after a key leaves no stale autosave behind."""
    viewer = make_napari_viewer()
    open_trial(viewer, trial_rows)
    _, widget = viewer.window.add_plugin_dock_widget("napari-gaitint", "Label QA")
    widget.start()
    s = widget.sessions["C1"]
    src = s.pose.source
    layer = viewer.layers[s.layer.name]
    viewer.layers.selection.active = layer
    viewer.dims.set_current_step(0, 40)
    layer.selected_data = {point_index(layer, 40, "toe")}
    press(qtbot, viewer, Qt.Key.Key_Delete)
    assert np.isnan(s.editor.pose.bodypart("toe")[s.editor.row(40)]).all()
    assert widget._autosave.pending and not has_autosave(src)  # not written yet
    # the window closes at once ("cancel" keeps it open): the close wrote the autosave
    answers.close_prompt = staticmethod(lambda: "cancel")
    ev = QCloseEvent()
    QApplication.sendEvent(viewer.window._qt_window, ev)
    assert not ev.isAccepted() and has_autosave(src)
    # a save right after a key (Enter: reviewed): nothing is autosaved after it
    press(qtbot, viewer, Qt.Key.Key_Return)
    assert widget._autosave.pending
    widget.save()
    qtbot.wait(700)  # longer than the autosave's delay
    assert not has_autosave(src) and not widget.dirty
    answers.close_prompt = staticmethod(lambda: "discard")
    viewer.close()

    viewer2 = make_napari_viewer(show=True)  # reopened: the edit is there, from the saved file
    open_trial(viewer2, trial_rows)
    dock, widget2 = viewer2.window.add_plugin_dock_widget("napari-gaitint", "Label QA")
    widget2.start()
    s2 = widget2.sessions["C1"]
    assert np.isnan(s2.editor.pose.bodypart("toe")[s2.editor.row(40)]).all()
    # a key, then the (shown) dock closed at once: the autosave is written as the dock goes
    layer2 = viewer2.layers[s2.layer.name]
    viewer2.layers.selection.active = layer2
    viewer2.dims.set_current_step(0, 41)
    layer2.selected_data = {point_index(layer2, 41, "knee")}
    press(qtbot, viewer2, Qt.Key.Key_Delete)
    assert widget2._autosave.pending and not has_autosave(src)
    dock.raise_()
    qtbot.waitUntil(widget2.isVisible, timeout=3000)
    viewer2.window.remove_dock_widget(dock)  # hides the dock's widget
    assert has_autosave(src) and not widget2._autosave.pending


def test_crash_recovery_from_autosave(answers, make_napari_viewer, trial_rows, qtbot):
    viewer = make_napari_viewer()
    open_trial(viewer, trial_rows)
    widget = answers(viewer)
    widget.start()
    viewer.reset_view()
    s = widget.sessions["C3"]
    layer = viewer.layers[s.layer.name]  # the viewer's layer (the widget sees napari's plugin proxy)
    viewer.layers.selection.active = layer
    viewer.dims.set_current_step(0, 30)
    qtbot.wait(20)
    i = point_index(layer, 30, "heel")
    start = canvas_xy(viewer, layer, layer.data[i])
    drag(viewer, start, QPointF(start.x() - 25, start.y() + 15))
    layer.selected_data = {point_index(layer, 30, "hip")}
    press(qtbot, viewer, Qt.Key.Key_Delete)
    press(qtbot, viewer, Qt.Key.Key_Return)
    edited = s.editor.pose.values.copy()
    reviewed = set(widget.review.reviewed)
    shown = np.asarray(layer.data).copy()
    qtbot.waitUntil(lambda: has_autosave(s.pose.source), timeout=5000)  # half a second after the last edit

    # the session dies: no save, no close prompt (the guard is gone with the process)
    if widget._guarded is not None:
        widget._guarded().removeEventFilter(widget._guard)
    viewer.close()

    # a new session on the same files offers the autosave and recovers it
    viewer2 = make_napari_viewer()
    open_trial(viewer2, trial_rows)
    widget2 = answers(viewer2)
    widget2.start()
    s2 = widget2.sessions["C3"]
    assert_array_equal(s2.editor.pose.values, edited)
    assert_array_equal(np.asarray(s2.layer.data), shown)
    assert widget2.review.reviewed == reviewed
    assert widget2.dirty
    widget2.save()
    assert_array_equal(load_pose(s2.pose.source.parent / "refined" / (s2.pose.source.stem + ".h5")).values, edited)


def test_real_dlc_file_fix_save_and_close_warning(answers, make_napari_viewer, dlc_fixtures_dir, tmp_path, qtbot):
    """A real DeepLabCut prediction file opened from disk: delete a point, warn on close, save."""
    name = "reachingvideo1shortDLC_resnet50_TESTNov4shuffle1_10.h5"
    src = tmp_path / name
    shutil.copy(dlc_fixtures_dir / "single" / name, src)
    sha = file_sha256(src)
    viewer = make_napari_viewer()
    viewer.open(str(src), plugin="napari-gaitint")
    widget = answers(viewer)
    viewer.window.add_dock_widget(widget, name="Label QA", area="right")
    widget.start()
    assert widget.review.n > 0  # low-likelihood / jump suspects of the reaching data
    (s,) = widget.sessions.values()
    layer = viewer.layers[s.layer.name]
    viewer.layers.selection.active = layer
    frame = int(s.pose.frames[5])
    viewer.dims.set_current_step(0, frame)
    bp = s.pose.bodyparts[2]
    layer.selected_data = {point_index(layer, frame, bp)}
    press(qtbot, viewer, Qt.Key.Key_Backspace)
    assert widget.dirty and np.isnan(s.editor.pose.bodypart(bp)[s.editor.row(frame)]).all()
    # closing asks; "cancel" keeps the window open with the edits
    asked = []
    type(widget).close_prompt = staticmethod(lambda: asked.append(1) or "cancel")
    ev = QCloseEvent()
    QApplication.sendEvent(viewer.window._qt_window, ev)
    assert asked and not ev.isAccepted() and widget.dirty
    # "save" writes the refined file and lets the window close
    type(widget).close_prompt = staticmethod(lambda: "save")
    assert widget.confirm_close() and not widget.dirty
    refined = pd.read_hdf(src.parent / "refined" / (src.stem + ".h5"))
    original = pd.read_hdf(src)
    assert file_sha256(src) == sha
    assert refined.index.equals(original.index) and refined.columns.equals(original.columns)
    diff = ~((refined == original) | (refined.isna() & original.isna()))
    rows, cols = np.nonzero(diff.to_numpy())
    assert set(rows) == {5} and {refined.columns[c][1] for c in cols} == {bp}
    assert refined.iloc[5].xs(bp, level="bodyparts").isna().all()


def test_side_named_body_parts_get_the_same_suspects(answers, make_napari_viewer, trial_rows, tmp_path, qtbot):
    """A DLC project naming the parts Neck, LHip ... (C1) and RHip ... (C3): the checks run on
    the roles, the list and the far leg speak the file's names."""
    from napari_gaitint.core.io import load_pose, save_pose

    def start(rows):
        viewer = make_napari_viewer()
        open_trial(viewer, rows)
        _, widget = viewer.window.add_plugin_dock_widget("napari-gaitint", "Label QA")
        widget.start()
        return widget

    ours = start(trial_rows)
    named = trial_rows.copy()
    rename = {}
    for i, row in named.iterrows():
        pose = load_pose(row["predictions"])
        side = "L" if row["view"] == "C1" else "R"
        rename[row["view"]] = {b: ("Neck" if b == "neck" else side + b.capitalize()) for b in pose.bodyparts}
        out = tmp_path / "named" / Path(row["predictions"]).name
        out.parent.mkdir(exist_ok=True)
        save_pose(pose.replace(bodyparts=tuple(rename[row["view"]][b] for b in pose.bodyparts)), out)
        named.loc[i, "predictions"] = str(out)
    theirs = start(named)
    expect = {(v, int(f), rename[v][b], k) for v, f, b, k in ours.suspects[["view", "frame", "bodypart", "kinds"]]
              .itertuples(index=False)}
    got = {(v, int(f), b, k) for v, f, b, k in theirs.suspects[["view", "frame", "bodypart", "kinds"]]
           .itertuples(index=False)}
    assert got == expect and any("wrong_limb" in k for *_, k in got)
    far = theirs.sessions["C1"].editor.far
    assert far is not None and set(far.bodyparts) == {"LKnee", "LAnkle", "LHeel", "LToe"}


def test_save_close_reopen_and_continue_never_loses_a_correction(answers, make_napari_viewer, trial_rows, qtbot):
    """The issue's session: fix, save, close, reopen, fix again, save - and two windows on one
    trial saving in turn. Every correction and review tick survives; the counter is right."""

    def open_qa():
        viewer = make_napari_viewer()
        open_trial(viewer, trial_rows)
        _, widget = viewer.window.add_plugin_dock_widget("napari-gaitint", "Label QA")
        widget.start()
        viewer.reset_view()
        s = widget.sessions["C1"]
        layer = viewer.layers[s.layer.name]
        viewer.layers.selection.active = layer
        return viewer, widget, s, layer

    viewer, widget, s, layer = open_qa()
    src = s.pose.source
    refined = refined_path(src)
    viewer.dims.set_current_step(0, 40)
    qtbot.wait(20)
    start = canvas_xy(viewer, layer, layer.data[point_index(layer, 40, "ankle")])
    drag(viewer, start, QPointF(start.x() + 25, start.y() - 15))
    moved = s.editor.pose.bodypart("ankle")[s.editor.row(40)].copy()
    assert s.editor.manual[s.editor.row(40), s.pose.bodypart_index("ankle")]
    press(qtbot, viewer, Qt.Key.Key_N)  # the first suspect ...
    first = widget.review.key(0)
    press(qtbot, viewer, Qt.Key.Key_Return)  # ... accepted as reviewed
    assert widget.review.reviewed == {first}
    assert "unsaved edits" in widget.counter.text()
    qtbot.mouseClick(widget.save_button, Qt.MouseButton.LeftButton)
    assert refined.is_file() and not widget.dirty
    assert "unsaved" not in widget.counter.text()  # the counter follows the save
    assert widget.counter.text().startswith("1 of ")
    viewer.close()  # not dirty: closes without asking

    # reopen: QA resumes from the refined file and the review ticks, and says so
    viewer2, widget2, s2, layer2 = open_qa()
    assert "resumed" in widget2.status.text() and refined.name in widget2.status.text()
    assert_array_equal(s2.editor.pose.bodypart("ankle")[s2.editor.row(40)], moved)
    i = point_index(layer2, 40, "ankle")
    assert layer2.features["status"].iloc[i] == "manual"
    assert_array_equal(np.asarray(layer2.data[i])[1:], moved[[1, 0]])
    assert widget2.review.reviewed == {first} and widget2.table.model().index(0, 0).data() == "✓"
    assert widget2.counter.text().startswith("1 of ") and "unsaved" not in widget2.counter.text()
    assert not widget2.dirty
    # one more fix, save: the earlier fix is still in the file
    viewer2.dims.set_current_step(0, 41)
    layer2.selected_data = {point_index(layer2, 41, "toe")}
    press(qtbot, viewer2, Qt.Key.Key_Delete)
    qtbot.mouseClick(widget2.save_button, Qt.MouseButton.LeftButton)
    back = load_pose(refined)
    assert_array_equal(back.bodypart("ankle")[40], moved)
    assert np.isnan(back.bodypart("toe")[41]).all()

    # a second window on the same trial: each save merges what the other saved meanwhile
    viewer3, widget3, s3, layer3 = open_qa()
    viewer2.dims.set_current_step(0, 50)
    layer2.selected_data = {point_index(layer2, 50, "knee")}
    press(qtbot, viewer2, Qt.Key.Key_Delete)
    qtbot.mouseClick(widget2.save_button, Qt.MouseButton.LeftButton)
    viewer3.dims.set_current_step(0, 60)
    layer3.selected_data = {point_index(layer3, 60, "heel")}
    press(qtbot, viewer3, Qt.Key.Key_Delete)
    qtbot.mouseClick(widget3.save_button, Qt.MouseButton.LeftButton)
    assert "merged" in widget3.status.text()
    back = load_pose(refined)
    assert_array_equal(back.bodypart("ankle")[40], moved)
    assert all(np.isnan(back.bodypart(b)[f]).all() for f, b in ((41, "toe"), (50, "knee"), (60, "heel")))
    assert np.isnan(s3.editor.pose.bodypart("knee")[s3.editor.row(50)]).all()  # window 3 shows window 2's fix
    assert "knee" not in set(layer3.features.loc[np.rint(layer3.data[:, 0]) == 50, "label"].astype(str))
