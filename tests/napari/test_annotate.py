"""Event annotation in napari as a user drives it: keys on the events layer and the timeline,
save/reload events.csv, re-detection keeps manual edits, crash recovery, screenshots."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from qtpy.QtCore import QPoint, Qt
from qtpy.QtGui import QCloseEvent
from qtpy.QtWidgets import QApplication

from napari_gaitint.core import annotations as ann
from napari_gaitint.core.edits import read_autosave
from napari_gaitint.core.errors import AnalysisError
from napari_gaitint.workflow.manifest import load_manifest

pytestmark = pytest.mark.napari



def press(qtbot, viewer, key, modifier=Qt.KeyboardModifier.NoModifier):
    qtbot.keyClick(viewer.window._qt_viewer.canvas.native, key, modifier)


def copy_trial(folder: Path, sample_manifest, *, video: bool) -> pd.DataFrame:
    folder.mkdir(parents=True, exist_ok=True)
    rows = load_manifest(sample_manifest)
    rows = rows[rows["trial"] == rows["trial"].iloc[0]].copy()
    for i, row in rows.iterrows():
        pred = folder / f"{row['trial']}_{row['view']}DLC_resnet50_gaitShuffle1_1000.h5"
        shutil.copy(row["predictions"], pred)
        rows.loc[i, "predictions"] = str(pred)
        if video:
            vid = folder / f"{row['trial']}_{row['view']}.mp4"
            vid.symlink_to(row["video"])
            rows.loc[i, "video"] = str(vid)
        else:
            rows.loc[i, "video"] = np.nan
    return rows


def open_trial(viewer, rows):
    from napari_gaitint._napari._layers import trial_pair_layers

    for data, kw, kind in trial_pair_layers(rows):
        getattr(viewer, f"add_{kind}")(data, **kw)


@pytest.fixture
def answers():
    """Auto-answers for the widgets' questions (torn down after the viewers close)."""
    from napari_gaitint._napari._annotate import EventAnnotator
    from napari_gaitint._napari._qa import QAWidget

    replies = {"confirm": True, "close": "discard"}
    for cls in (EventAnnotator, QAWidget):
        cls.confirm_prompt = staticmethod(lambda text: replies["confirm"])
        cls.close_prompt = staticmethod(lambda: replies["close"])
    yield replies
    for cls in (EventAnnotator, QAWidget):
        cls.confirm_prompt = None
        cls.close_prompt = None


def _gap_frame(events: pd.DataFrame, side: str) -> int:
    """A frame in the middle of the widest gap between events of ``side``."""
    f = np.sort(events.loc[events["side"] == side, "frame"].to_numpy())
    i = int(np.argmax(np.diff(f)))
    return int(round((f[i] + f[i + 1]) / 2))


def _markers_at(layer, frame):
    sel = np.rint(np.asarray(layer.data)[:, 0]) == frame
    return layer.features[sel]


def test_keys_timeline_save_reload_redetect_and_screenshots(answers, make_napari_viewer, tmp_path,
                                                            sample_manifest, qtbot, screenshot_dir):
    from napari_gaitint._napari._annotate import EventAnnotator
    from napari_gaitint._napari._qa import QAWidget
    from napari_gaitint.core.cycles import compute_cycles
    from napari_gaitint.core.orient import orient_pose

    rows = copy_trial(tmp_path / "trial", sample_manifest, video=True)
    viewer = make_napari_viewer()
    open_trial(viewer, rows)
    qa_widget = QAWidget(viewer)
    viewer.window.add_dock_widget(qa_widget, name="Label QA", area="right")
    widget = EventAnnotator(viewer)
    viewer.window.add_dock_widget(widget, name="Gait events", area="bottom")
    qa_widget.start()
    widget.start()
    viewer.reset_view()
    detected = widget.events.copy()
    assert set(detected["side"]) == {"left", "right"} and set(detected["source"]) == {"detected"}
    # the trial pair's two legs are detected together, by the core function gaitint analyze uses
    from napari_gaitint.core.phase import detect_events_both_legs

    sides = tuple(widget.side_views)
    want = detect_events_both_legs(tuple(orient_pose(widget.views[widget.side_views[s]][1]) for s in sides),
                                   sides=sides, lag_frames=None)
    for side, ev in zip(sides, want, strict=True):
        got = np.sort(detected.loc[detected["side"] == side, "frame"].to_numpy(float))
        np.testing.assert_allclose(got, np.sort(ev["frame"].to_numpy(float)), atol=0.01)
    assert set(widget.layers) == {"C1", "C3"}
    c1, c3 = widget.layers["C1"], widget.layers["C3"]
    assert len(c1.data) == len(c3.data) == len(detected)  # every event shown on both views

    # H at a frame without events: a manual left heel strike, shown on both views
    viewer.layers.selection.active = c1
    assert widget.side == "left"
    f0 = _gap_frame(detected, "left")
    viewer.dims.set_current_step(0, f0)
    press(qtbot, viewer, Qt.Key.Key_H)
    new = widget.events[(widget.events["frame"] == f0) & (widget.events["side"] == "left")]
    assert new[["event", "source", "view"]].values.tolist() == [["heel_strike", "manual", "C1"]]
    assert new["time_s"].iloc[0] == f0 / 25.0
    for layer in (c1, c3):
        m = _markers_at(layer, f0)
        assert m[["text", "source"]].values.tolist() == [["HS L", "manual"]]
    # T: a toe off 3 frames later
    viewer.dims.set_current_step(0, f0 + 3)
    press(qtbot, viewer, Qt.Key.Key_T)
    assert ((widget.events["frame"] == f0 + 3) & (widget.events["event"] == "toe_off")).sum() == 1
    # '.' twice at f0+1: nudges the nearest left event (the HS at f0) to f0+2; the frame follows
    viewer.dims.set_current_step(0, f0 + 1)
    press(qtbot, viewer, Qt.Key.Key_Comma)
    assert viewer.dims.current_step[0] == f0 - 1
    press(qtbot, viewer, Qt.Key.Key_Period)
    press(qtbot, viewer, Qt.Key.Key_Period)
    press(qtbot, viewer, Qt.Key.Key_Period)
    assert viewer.dims.current_step[0] == f0 + 2
    left = widget.events[widget.events["side"] == "left"]
    assert f0 + 2 in set(left["frame"]) and f0 not in set(left["frame"])
    # ']' / '[' walk the events of both sides in time
    frames_all = np.sort(widget.events["frame"].to_numpy())
    press(qtbot, viewer, Qt.Key.Key_BracketRight)
    assert viewer.dims.current_step[0] == int(round(frames_all[np.rint(frames_all) > f0 + 2][0]))
    press(qtbot, viewer, Qt.Key.Key_BracketLeft)
    assert viewer.dims.current_step[0] == f0 + 2
    # X deletes the nearest left event: our moved heel strike
    press(qtbot, viewer, Qt.Key.Key_D)
    assert not ((widget.events["frame"] == f0 + 2) & (widget.events["side"] == "left")).any()
    # X on a detected left heel strike: deleted and remembered as rejected
    hs = detected[(detected["side"] == "left") & (detected["event"] == "heel_strike")].iloc[1]
    viewer.dims.set_current_step(0, int(round(hs["frame"])))
    press(qtbot, viewer, Qt.Key.Key_D)
    assert hs["frame"] not in set(widget.events["frame"]) and list(widget.rejected["frame"]) == [hs["frame"]]
    assert widget.dirty
    # autosaved half a second after the last edit (a key press does not wait for the file)
    qtbot.waitUntil(lambda: read_autosave(widget.path) is not None, timeout=5000)

    # the timeline: R selects the right side, H adds a right heel strike; a click jumps to a frame
    fr = _gap_frame(detected, "right")
    viewer.dims.set_current_step(0, fr)
    widget.canvas.setFocus()
    qtbot.keyClick(widget.canvas, Qt.Key.Key_R)
    assert widget.side == "right"
    qtbot.keyClick(widget.canvas, Qt.Key.Key_H)
    assert ((widget.events["frame"] == fr) & (widget.events["side"] == "right")
            & (widget.events["source"] == "manual")).sum() == 1
    widget.canvas.draw()
    x_disp, y_disp = widget.ax.transData.transform((20.0, float(np.mean(widget.ax.get_ylim()))))
    ratio = widget.canvas.device_pixel_ratio  # matplotlib's own mapping of Qt positions
    pos = QPoint(int(round(x_disp / ratio)), int(round((widget.figure.bbox.height - y_disp) / ratio)))
    qtbot.mouseClick(widget.canvas, Qt.MouseButton.LeftButton, pos=pos)
    assert abs(viewer.dims.current_step[0] - 20) <= 1

    # cycles recompute from the edited events: the same as the core on the edited table, and the
    # deleted left heel strike (+ the extra toe off) costs the left side its cycle(s)
    def n_cycles(view, side, events):
        pose = widget.views[view][1]
        try:
            return compute_cycles(orient_pose(pose), events[events["side"] == side], side=side,
                                  fps=pose.fps)["cycle"].nunique()
        except AnalysisError:
            return 0

    cycles = widget.recompute_cycles()
    for view, side in (("C1", "left"), ("C3", "right")):
        got = 0 if cycles is None else cycles[cycles["view"] == view]["cycle"].nunique()
        assert got == n_cycles(view, side, widget.events)
    assert n_cycles("C1", "left", widget.events) < n_cycles("C1", "left", detected)

    # screenshots for the README: the QA panel and the events timeline, with both views
    key = qa_widget.review.key(0)
    qa_widget.go_to(0)
    viewer.dims.set_current_step(0, key[1])
    viewer.window._qt_window.resize(1600, 1050)
    qtbot.wait(100)
    # zoom onto the suspect frame's view, as a reviewer would
    qa_layer = viewer.layers[qa_widget.sessions[key[0]].layer.name]
    pts = np.asarray(qa_layer.data)[np.rint(np.asarray(qa_layer.data)[:, 0]) == key[1]]
    centre = np.mean([qa_layer.data_to_world(p) for p in pts], axis=0)
    viewer.scene.camera.center = (float(centre[1]) - 60.0, float(centre[2]))
    viewer.scene.camera.zoom = 1.2
    qtbot.wait(200)
    shot = viewer.screenshot(canvas_only=False, flash=False)
    import matplotlib.image as mpimg

    mpimg.imsave(screenshot_dir / "qa_and_events.png", shot)
    qa_widget.grab().save(str(screenshot_dir / "qa_panel.png"))
    widget.grab().save(str(screenshot_dir / "event_timeline.png"))
    assert shot.shape[0] > 600 and shot[..., :3].std() > 10  # not a blank window
    panel = mpimg.imread(screenshot_dir / "qa_panel.png")
    assert panel[..., :3].std() > 0.05

    # save: events.csv reloads exactly; the file holds the manual and the detected events
    path = tmp_path / "T01_events.csv"
    widget.save(path)
    assert not widget.dirty and read_autosave(path) is None
    back = ann.load_events(path)
    pd.testing.assert_frame_equal(back, ann.sort_events(widget.events))
    columns = list(pd.read_csv(path).columns)  # ours, then the detector's own (kept)
    assert columns[: len(ann.EVENT_COLUMNS)] == list(ann.EVENT_COLUMNS) and "confidence" in columns
    assert list(ann.load_rejected(path)["frame"]) == [hs["frame"]]

    # re-detection keeps the manual edits (the user answers "keep") and does not bring back the
    # deleted detection
    manual = widget.events[widget.events["source"] == "manual"].reset_index(drop=True)
    res = widget.redetect()
    assert res.n_manual_kept == len(manual) and res.n_manual_dropped == 0
    pd.testing.assert_frame_equal(widget.events[widget.events["source"] == "manual"].reset_index(drop=True), manual)
    assert hs["frame"] not in set(widget.events["frame"])
    # ... or drops them when the user says so, and says how many
    answers["confirm"] = False
    res = widget.redetect()
    assert res.n_manual_dropped == len(manual) and set(widget.events["source"]) == {"detected"}
    answers["confirm"] = True

    # reload the saved file: the edited events come back
    widget.load(path)
    pd.testing.assert_frame_equal(widget.events, back)
    assert not widget.dirty


def test_event_edits_survive_a_crash_and_close_warns(answers, make_napari_viewer, tmp_path, sample_manifest, qtbot):
    from napari_gaitint._napari._annotate import EventAnnotator

    rows = copy_trial(tmp_path / "trial", sample_manifest, video=False)
    viewer = make_napari_viewer()
    open_trial(viewer, rows)
    _, widget = viewer.window.add_plugin_dock_widget("napari-gaitint", "Annotate gait events")  # Plugins menu
    assert isinstance(widget, EventAnnotator)
    widget.start()
    viewer.layers.selection.active = widget.layers["C3"]
    press(qtbot, viewer, Qt.Key.Key_R)
    f = _gap_frame(widget.events, "right")
    viewer.dims.set_current_step(0, f)
    press(qtbot, viewer, Qt.Key.Key_T)
    press(qtbot, viewer, Qt.Key.Key_Period)
    edited = widget.events.copy()
    assert ((edited["frame"] == f + 1) & (edited["source"] == "manual")).sum() == 1
    # the close prompt: "cancel" keeps the window open; closing wrote the autosave at once
    # (not half a second after the last key)
    answers["close"] = "cancel"
    ev = QCloseEvent()
    QApplication.sendEvent(viewer.window._qt_window, ev)
    assert not ev.isAccepted() and widget.dirty
    recovered = ann.recover_events(widget.path)
    assert recovered is not None
    pd.testing.assert_frame_equal(recovered[0], edited)
    # crash: the process dies without saving (no close handler runs)
    widget._guarded().removeEventFilter(widget._guard)
    viewer.close()
    answers["close"] = "discard"

    viewer2 = make_napari_viewer()
    open_trial(viewer2, rows)
    widget2 = EventAnnotator(viewer2)
    widget2.start()  # finds the autosave, the user answers "recover"
    pd.testing.assert_frame_equal(widget2.events, edited)
    assert widget2.dirty
    m = _markers_at(widget2.layers["C1"], f + 1)
    assert m[["text", "source"]].values.tolist() == [["TO R", "manual"]]
    out = widget2.save()
    pd.testing.assert_frame_equal(ann.load_events(out), ann.sort_events(edited))
    assert read_autosave(out) is None


def test_an_event_key_then_closing_at_once_loses_nothing(answers, make_napari_viewer, tmp_path, sample_manifest,
                                                         qtbot):
    """The autosave waits half a second after the last key; a close before that (saving),
    or a save right after a key, leaves the edit in the file and no stale autosave."""
    from napari_gaitint._napari._annotate import EventAnnotator

    rows = copy_trial(tmp_path / "trial", sample_manifest, video=False)
    viewer = make_napari_viewer()
    open_trial(viewer, rows)
    widget = EventAnnotator(viewer)
    viewer.window.add_dock_widget(widget)
    widget.start()
    path = widget.path
    viewer.layers.selection.active = widget.layers["C1"]
    f = _gap_frame(widget.events, "left")
    viewer.dims.set_current_step(0, f)
    press(qtbot, viewer, Qt.Key.Key_H)
    assert widget._autosave.pending and read_autosave(path) is None  # not written yet
    edited = widget.events.copy()
    answers["close"] = "save"
    viewer.close()  # at once
    qtbot.wait(700)  # longer than the autosave's delay: nothing is written after the save
    assert read_autosave(path) is None
    pd.testing.assert_frame_equal(ann.load_events(path), edited)

    viewer2 = make_napari_viewer()
    open_trial(viewer2, rows)
    widget2 = EventAnnotator(viewer2)
    widget2.start()  # resumes from the saved file
    pd.testing.assert_frame_equal(widget2.events, edited)
    assert ["HS L", "manual"] in _markers_at(widget2.layers["C1"], f)[["text", "source"]].values.tolist()
    # a save right after a key: no autosave written after it
    viewer2.dims.set_current_step(0, f)
    viewer2.layers.selection.active = widget2.layers["C1"]
    press(qtbot, viewer2, Qt.Key.Key_D)
    widget2.save()
    qtbot.wait(700)
    assert read_autosave(path) is None and not widget2.dirty
    assert not ((ann.load_events(path)["frame"] == f) & (ann.load_events(path)["side"] == "left")).any()
    # a key, then another events file opened at once: the edit is autosaved first, and
    # offered back when the trial is started again
    press(qtbot, viewer2, Qt.Key.Key_H)
    edited = widget2.events.copy()
    other = tmp_path / "other_events.csv"
    ann.save_events(ann.empty_events(), other)
    widget2.load(other)
    recovered = ann.recover_events(path)
    assert recovered is not None
    pd.testing.assert_frame_equal(recovered[0], edited)
    widget2.path = path
    widget2.start()  # "recover": yes
    pd.testing.assert_frame_equal(widget2.events, edited)


def test_annotator_takes_over_the_detect_events_layer(answers, make_napari_viewer, tmp_path, sample_manifest):
    """Events detected by the Detect-events dock are what the annotator edits; drawn once."""
    from napari_gaitint._napari._annotate import EventAnnotator
    from napari_gaitint._napari._detect import detect_events_widget

    rows = copy_trial(tmp_path / "trial", sample_manifest, video=False)
    viewer = make_napari_viewer()
    open_trial(viewer, rows)
    detect = detect_events_widget()
    detect.layer.value = viewer.layers["T01 C1 keypoints"]
    detect.method.value = "zeni"
    detect.show_plot.value = False
    detect()
    detected = viewer.layers["T01 C1 keypoints events"]
    assert detected.visible and len(detected.data)
    widget = EventAnnotator(viewer)
    widget.start()
    # the C1 events come from that layer (zeni), not a new detection (the default velocity)
    c1 = widget.events[widget.events["view"] == "C1"].sort_values("frame")
    zeni = detected.metadata["gaitint"]["events"].sort_values("frame")
    np.testing.assert_allclose(c1["frame"].to_numpy(float), zeni["frame"].to_numpy(float))
    assert not detected.visible  # one display per event: the editable layer
    edit = widget.layers["C1"]
    assert edit.visible and (edit.features["side"] == "left").sum() == len(detected.data)
    # the view without a Detect-events layer is detected as usual
    from napari_gaitint.core.events import detect_events
    from napari_gaitint.core.orient import orient_pose

    c3 = widget.events[widget.events["view"] == "C3"].sort_values("frame")
    pose = widget.views["C3"][1]
    expected = detect_events(orient_pose(pose), side="right", fps=pose.fps).sort_values("frame")
    assert len(c3) and len(c3) == len(expected)
    np.testing.assert_allclose(c3["frame"].to_numpy(float), expected["frame"].to_numpy(float))


def test_views_not_named_c1_c3_get_both_sides_and_the_events_dock_asks(
        answers, make_napari_viewer, tmp_path, sample_manifest):
    """A manifest without a side column whose cameras are called camL/camR: the annotator
    gives the two views the two legs (not both "left"), and the events dock asks which leg
    a camera sees instead of guessing."""
    from napari_gaitint._napari._annotate import EventAnnotator
    from napari_gaitint._napari._detect import detect_events_widget
    from napari_gaitint.core.errors import GaitintError

    rows = copy_trial(tmp_path / "trial", sample_manifest, video=False)
    rows = rows.drop(columns=["side"]).replace({"view": {"C1": "camL", "C3": "camR"}})
    viewer = make_napari_viewer()
    open_trial(viewer, rows)
    widget = EventAnnotator(viewer)
    viewer.window.add_dock_widget(widget, name="Gait events", area="bottom")
    widget.start()
    assert widget.side_views == {"left": "camL", "right": "camR"}
    assert set(widget.events["side"]) == {"left", "right"}
    dock = detect_events_widget()
    viewer.window.add_dock_widget(dock)
    layer = next(lay for lay in viewer.layers if lay.name.endswith("camR keypoints"))
    dock.layer.value = layer
    with pytest.raises(GaitintError, match="cannot tell which leg"):
        dock()
    dock.side.value = "right"
    dock()
    events = viewer.layers[f"{layer.name} events"]
    assert len(events.data) > 0 and set(events.features["event"]) == {"heel_strike", "toe_off"}


def test_annotator_reads_side_named_body_parts(answers, make_napari_viewer, tmp_path, sample_manifest):
    """Files that name the parts as many DLC projects do (Neck, LHip... in C1, RHip... in
    C3): the annotator detects the same events as on our role names, markers included."""
    from napari_gaitint._napari._annotate import EventAnnotator
    from napari_gaitint.core.io import load_pose, save_pose

    rows = copy_trial(tmp_path / "trial", sample_manifest, video=False)
    plain = make_napari_viewer()
    open_trial(plain, rows)
    reference = EventAnnotator(plain)
    plain.window.add_dock_widget(reference, name="Gait events", area="bottom")
    reference.start()
    names = {"C1": ["Neck", "LHip", "LKnee", "LAnkle", "LHeel", "LBigToe"],
             "C3": ["Neck", "RHip", "RKnee", "RAnkle", "RHeel", "RBigToe"]}
    renamed = rows.copy()
    for i, row in rows.iterrows():
        pose = load_pose(row["predictions"])
        assert pose.bodyparts == ("neck", "hip", "knee", "ankle", "heel", "toe")
        pose.bodyparts = tuple(names[row["view"]])
        renamed.loc[i, "predictions"] = str(save_pose(pose, tmp_path / f"named_{row['view']}DLC.h5"))
    viewer = make_napari_viewer()
    open_trial(viewer, renamed)
    widget = EventAnnotator(viewer)
    viewer.window.add_dock_widget(widget, name="Gait events", area="bottom")
    widget.start()
    cols = ["view", "side", "event", "frame"]
    pd.testing.assert_frame_equal(widget.events[cols].reset_index(drop=True),
                                  reference.events[cols].reset_index(drop=True))
    assert len(widget.events) > 10
    for view in ("C1", "C3"):
        np.testing.assert_allclose(widget.layers[view].data, reference.layers[view].data)


def test_annotator_resumes_saved_events_and_merges_a_second_window(answers, make_napari_viewer, tmp_path,
                                                                   sample_manifest, qtbot):
    """Save, close, reopen: the annotator resumes from <trial>_events.csv and says so; two windows
    saving in turn keep each other's edits."""
    from napari_gaitint._napari._annotate import EventAnnotator

    rows = copy_trial(tmp_path / "trial", sample_manifest, video=False)

    def open_annotator():
        viewer = make_napari_viewer()
        open_trial(viewer, rows)
        widget = EventAnnotator(viewer)
        viewer.window.add_dock_widget(widget, name="Gait events", area="bottom")
        widget.start()
        viewer.layers.selection.active = widget.layers["C1"]
        return viewer, widget

    viewer, widget = open_annotator()
    path = widget.path
    assert path.name == "T01_events.csv" and not path.exists()
    f0 = _gap_frame(widget.events, "left")
    viewer.dims.set_current_step(0, f0)
    press(qtbot, viewer, Qt.Key.Key_H)
    qtbot.mouseClick(widget.save_button, Qt.MouseButton.LeftButton)
    assert path.is_file() and not widget.dirty
    saved = widget.events.copy()
    viewer.close()

    viewer2, widget2 = open_annotator()
    assert widget2.last_message.startswith("resumed") and path.name in widget2.last_message
    pd.testing.assert_frame_equal(widget2.events, saved)
    assert not widget2.dirty
    viewer3, widget3 = open_annotator()
    # window 2 deletes a detected event, window 3 adds a toe off; both save
    gone = saved[(saved["side"] == "left") & (saved["source"] == "detected")].iloc[0]
    viewer2.dims.set_current_step(0, int(round(gone["frame"])))
    press(qtbot, viewer2, Qt.Key.Key_D)
    qtbot.mouseClick(widget2.save_button, Qt.MouseButton.LeftButton)
    f1 = f0 + 4
    viewer3.dims.set_current_step(0, f1)
    press(qtbot, viewer3, Qt.Key.Key_T)
    qtbot.mouseClick(widget3.save_button, Qt.MouseButton.LeftButton)
    assert "merged" in widget3.last_message
    back = ann.load_events(path)
    left = back[back["side"] == "left"]
    assert ((left["frame"] == f0) & (left["source"] == "manual")).any()
    assert ((left["frame"] == f1) & (left["event"] == "toe_off")).any()
    assert not ((left["frame"] == gone["frame"]) & (left["event"] == gone["event"])).any()
    pd.testing.assert_frame_equal(widget3.events, back)


def test_event_keys_act_near_the_frame_merge_duplicates_undo_and_follow_napari_delete(
        answers, make_napari_viewer, tmp_path, sample_manifest, qtbot):
    """D deletes only near the current frame (and says when none is), H next to a detected heel
    strike merges with it, Ctrl+Z / Ctrl+Shift+Z undo and redo (returning to the frame), napari's
    own Delete on a marker deletes its event from the table and the saved file, each event is
    drawn on its own foot in both views, and Ctrl+Z undoes the last edit of either dock."""
    from gui_user import truth_of

    from napari_gaitint._napari._annotate import EventAnnotator
    from napari_gaitint._napari._qa import QAWidget

    rows = copy_trial(tmp_path / "trial", sample_manifest, video=False)
    viewer = make_napari_viewer()
    open_trial(viewer, rows)
    qa = QAWidget(viewer)
    viewer.window.add_dock_widget(qa, name="QA")
    widget = EventAnnotator(viewer)
    viewer.window.add_dock_widget(widget, name="Events", tabify=True)
    qa.start()
    qtbot.mouseClick(widget.start_button, Qt.MouseButton.LeftButton)
    viewer.layers.selection.active = widget.layers["C1"]
    detected = widget.events.copy()
    left = detected[detected["side"] == "left"].sort_values("frame")
    far = left["frame"].to_numpy(float)

    # D with no left event within 3 frames: nothing deleted, and the dock says what is nearest
    gap = _gap_frame(detected, "left")
    viewer.dims.set_current_step(0, gap)
    press(qtbot, viewer, Qt.Key.Key_D)
    pd.testing.assert_frame_equal(widget.events, detected)
    nearest = far[np.argmin(np.abs(far - gap))]
    assert f"no left event within 3 frames of frame {gap}" in widget.last_message
    assert f"{nearest:g}" in widget.last_message

    # H on the frame of a detected heel strike (a fraction of a frame from it): one event, manual
    hs = left[left["event"] == "heel_strike"].iloc[0]
    f_hs = int(round(hs["frame"]))
    viewer.dims.set_current_step(0, f_hs)
    press(qtbot, viewer, Qt.Key.Key_H)
    near = widget.events[(widget.events["side"] == "left") & (widget.events["event"] == "heel_strike")
                         & (np.abs(widget.events["frame"] - f_hs) < 3)]
    assert near[["frame", "source"]].values.tolist() == [[float(f_hs), "manual"]]
    assert "one event" in widget.last_message

    # undo from another frame: back to that frame, the detected event back; redo again
    viewer.dims.set_current_step(0, 0)
    press(qtbot, viewer, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert viewer.dims.current_step[0] == f_hs
    pd.testing.assert_frame_equal(widget.events, detected)
    press(qtbot, viewer, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert ((widget.events["frame"] == f_hs) & (widget.events["source"] == "manual")).sum() == 1

    # napari's own Delete on a marker: the event leaves the table, the other view and the file
    layer = widget.layers["C1"]
    to = left[left["event"] == "toe_off"].iloc[0]
    viewer.dims.set_current_step(0, int(round(to["frame"])))
    i = int(np.flatnonzero((np.rint(layer.data[:, 0]) == round(to["frame"]))
                           & (layer.features["event"] == "toe_off").to_numpy()
                           & (layer.features["side"] == "left").to_numpy())[0])
    layer.selected_data = {i}
    press(qtbot, viewer, Qt.Key.Key_Delete)
    qtbot.wait(20)
    assert not ((widget.events["frame"] == to["frame"]) & (widget.events["event"] == "toe_off")).any()
    assert len(widget.layers["C3"].data) == len(widget.events)
    assert to["frame"] in set(widget.rejected["frame"])
    qtbot.mouseClick(widget.save_button, Qt.MouseButton.LeftButton)
    saved = ann.load_events(widget.path)
    assert not ((saved["frame"] == to["frame"]) & (saved["event"] == "toe_off")).any()

    # each event on its own foot: in C1 (the left camera) a right heel strike sits on the far
    # (right) heel, estimated from C3, not on the near heel the camera sees
    c1 = widget.layers["C1"]
    right_hs = np.flatnonzero((c1.features["side"] == "right").to_numpy() & (c1.features["event"] == "heel_strike").to_numpy())
    assert right_hs.size
    near_truth, far_truth = truth_of(sample_manifest, "T01", "C1"), truth_of(sample_manifest, "T01", "C1", far=True)
    for i in right_hs:
        f, y, x = c1.data[i]
        d_far = np.linalg.norm(far_truth.bodypart("heel")[int(f), :2] - (x, y))
        d_near = np.linalg.norm(near_truth.bodypart("heel")[int(f), :2] - (x, y))
        assert d_far < 30.0 and d_far < d_near, (f, d_far, d_near)

    # Ctrl+Z undoes the last edit of either dock: a QA correction made after the event edits first
    press(qtbot, viewer, Qt.Key.Key_N)
    view, frame = qa.review.key(qa.review.position)
    s = qa.sessions[view]
    qa_layer = viewer.layers[s.layer.name]
    assert len(qa_layer.selected_data) == 1
    before_qa, before_events = s.editor.pose.values.copy(), widget.events.copy()
    press(qtbot, viewer, Qt.Key.Key_Delete)
    assert not np.array_equal(s.editor.pose.values, before_qa, equal_nan=True)
    press(qtbot, viewer, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    np.testing.assert_array_equal(s.editor.pose.values, before_qa)
    pd.testing.assert_frame_equal(widget.events, before_events)
    press(qtbot, viewer, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # now the event edit
    assert to["frame"] in set(widget.events["frame"])


def test_messages_and_side_keys_leave_the_timeline_as_drawn(answers, make_napari_viewer, tmp_path, sample_manifest,
                                                             qtbot):
    """A message or status line of another length keeps its label's height (the timeline
    below is not resized, which would draw it again in full), and L / R change the side box
    only: the timeline's picture is kept (blitted), not drawn again."""
    from napari_gaitint._napari._annotate import EventAnnotator

    rows = copy_trial(tmp_path / "trial", sample_manifest, video=False)
    viewer = make_napari_viewer(show=True)
    open_trial(viewer, rows)
    widget = EventAnnotator(viewer)
    viewer.window.add_dock_widget(widget)
    widget.start()
    qtbot.wait(50)
    viewer.layers.selection.active = widget.layers["C1"]
    draws = []
    widget.canvas.mpl_connect("draw_event", lambda _e: draws.append(1))
    size = widget.canvas.size()
    heights = (widget.status.height(), widget.message.height())
    for text in ("ok", "a much longer message " * 12):
        widget._notify(text)
        qtbot.wait(20)
        assert widget.message.toolTip() == text
    press(qtbot, viewer, Qt.Key.Key_R)
    assert widget.side == "right"
    press(qtbot, viewer, Qt.Key.Key_L)
    assert widget.side == "left"
    f = _gap_frame(widget.events, "left")
    viewer.dims.set_current_step(0, f)
    press(qtbot, viewer, Qt.Key.Key_H)  # the status line gains "unsaved edits"
    qtbot.wait(50)
    assert widget.dirty and "unsaved" in widget.status.toolTip()
    assert (widget.status.height(), widget.message.height()) == heights
    assert widget.canvas.size() == size
    assert draws == []  # no full draw of the timeline: the events are blitted on its picture
    assert "side" not in widget.ax.get_title()  # the side is the dock's side box
