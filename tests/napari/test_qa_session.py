"""Label QA as a user drives it at 1280 x 800: keys typed on the canvas and in the dock, clicks
and drags on the canvas. The sample trial's injected wrong-limb labels are fixed in at most two
keys or clicks each, within 2 px of the synthetic truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from gui_user import (
    canvas_xy,
    click,
    click_at,
    copy_trial,
    drag,
    fix_suspect,
    injected_wrong_limb,
    open_trial,
    point_index,
    press,
    selected_labels,
    truth_of,
)
from numpy.testing import assert_array_equal
from qtpy.QtCore import QPointF, Qt
from qtpy.QtWidgets import QApplication

from napari_gaitint.core.corrections import refined_path
from napari_gaitint.core.io import load_pose

pytestmark = pytest.mark.napari
CTRL = Qt.KeyboardModifier.ControlModifier
CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


@pytest.fixture
def answers():
    from napari_gaitint._napari._annotate import EventAnnotator
    from napari_gaitint._napari._qa import QAWidget

    for cls in (QAWidget, EventAnnotator):
        cls.close_prompt = staticmethod(lambda: "discard")
        cls.confirm_prompt = staticmethod(lambda text: True)
    yield
    for cls in (QAWidget, EventAnnotator):
        cls.close_prompt = None
        cls.confirm_prompt = None


@pytest.fixture
def session(answers, make_napari_viewer, tmp_path, sample_manifest, qtbot):
    """The sample trial (copied) in a shown 1280 x 800 window, Label QA opened from the Plugins
    menu and started with a click."""
    rows = copy_trial(tmp_path / "trial", sample_manifest)
    viewer = make_napari_viewer(show=True)
    viewer.window.resize(1280, 800)
    open_trial(viewer, rows)
    _, qa = viewer.window.add_plugin_dock_widget("napari-gaitint", "Label QA")
    qtbot.mouseClick(qa.start_button, Qt.MouseButton.LeftButton)
    qtbot.wait(50)
    return viewer, qa, rows


def test_injected_wrong_limb_labels_fixed_in_two_keys_or_clicks(session, sample_manifest, qtbot):
    viewer, qa, rows = session
    injected = injected_wrong_limb(sample_manifest, "T01")
    truths = {v: truth_of(sample_manifest, "T01", v) for v in ("C1", "C3")}
    assert injected
    fixed, seen = [], set()
    for _ in range(qa.review.n):
        press(viewer, Qt.Key.Key_N)
        view, frame = qa.review.key(qa.review.position)
        s = qa.sessions[view]
        layer = viewer.layers[s.layer.name]
        assert viewer.dims.current_step[0] == frame and viewer.layers.selection.active is layer
        assert len(layer.selected_data) <= 1  # one point selected, the others visible
        fixed += fix_suspect(viewer, qa, injected, truths)
        seen |= {(view, frame, b) for (v, f, b) in injected if (v, f) == (view, frame)}
        if seen == injected:
            break
    assert {(r["view"], r["frame"], r["bodypart"]) for r in fixed} == injected
    assert max(r["actions"] for r in fixed) <= 2, pd.DataFrame(fixed).to_string()
    assert max(r["distance_px"] for r in fixed) <= 2.0, fixed
    # the fixed labels are on the far leg now (their far-leg layer holds them)
    last = fixed[-1]
    s = qa.sessions[last["view"]]
    assert np.isfinite(s.editor.far.bodypart(last["bodypart"])[s.editor.row(last["frame"])]).all()

    # Ctrl+Z from elsewhere undoes the last fix and goes back to its frame; Ctrl+Shift+Z redoes it
    done = s.editor.pose.values.copy()
    viewer.dims.set_current_step(0, 0)
    press(viewer, Qt.Key.Key_Z, CTRL)
    assert viewer.dims.current_step[0] == last["frame"]
    assert not np.array_equal(s.editor.pose.values, done, equal_nan=True)
    press(viewer, Qt.Key.Key_Z, CTRL_SHIFT)
    assert_array_equal(s.editor.pose.values, done)

    # one click saves; the refined files hold every fix
    qtbot.mouseClick(qa.save_button, Qt.MouseButton.LeftButton)
    for r in fixed:
        src = qa.sessions[r["view"]].pose.source
        back = load_pose(refined_path(src))
        truth = truths[r["view"]].bodypart(r["bodypart"])[r["frame"], :2]
        assert np.linalg.norm(back.bodypart(r["bodypart"])[r["frame"], :2] - truth) <= 2.0


def test_dock_keys_filter_zoom_picker_and_one_undo_per_drag(session, qtbot):
    viewer, qa, _ = session
    table = qa.table
    # the suspect list narrowed to one reason with the keyboard on the drop-down
    qa.filter_box.setFocus()
    press(viewer, Qt.Key.Key_Down, widget=qa.filter_box)
    assert qa.filter_box.currentData() == "wrong_limb"
    kinds = [table.model().index(r, 4).data() for r in range(table.model().rowCount())]
    assert kinds and all("wrong limb" in k for k in kinds)
    assert "(wrong limb)" in qa.counter.text() and qa.review.n < len(qa._all_frames)
    press(viewer, Qt.Key.Key_Up, widget=qa.filter_box)
    assert qa.filter_box.currentData() == "all" and qa.review.n == len(qa._all_frames)

    # a click on a row, then N and Enter typed while the table has the focus
    index = table.model().index(2, 0)
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=table.visualRect(index).center())
    assert qa.review.position == 2
    press(viewer, Qt.Key.Key_N, widget=table)
    assert qa.review.position == 3
    key = qa.review.key(3)
    assert viewer.dims.current_step[0] == key[1]
    press(viewer, Qt.Key.Key_Return, widget=table)
    assert key in qa.review.reviewed and qa.review.position == 4

    # zoomed and centred on the selected suspect point, the other view pictured in the dock;
    # F on the canvas goes back to both views, F again zooms in
    view, frame = qa.review.key(4)
    s = qa.sessions[view]
    layer = viewer.layers[s.layer.name]
    (i,) = layer.selected_data
    camera = viewer.scene.camera
    world = layer.data_to_world(np.asarray(layer.data[i]))
    assert np.allclose(camera.center[-2:], world[-2:], atol=1.0)
    zoomed = camera.zoom
    assert qa.inset.isVisible() and qa.inset.pixmap() is not None and not qa.inset.pixmap().isNull()
    press(viewer, Qt.Key.Key_F)
    assert camera.zoom < zoomed / 2 and not qa.zoom_box.isChecked() and not qa.inset.isVisible()
    press(viewer, Qt.Key.Key_F)
    assert camera.zoom == pytest.approx(zoomed) and qa.inset.isVisible()

    # the body-part picker: one click on "toe", one click on the canvas puts this frame's toe there
    viewer.layers.selection.active = layer
    toe_before = s.editor.pose.bodypart("toe")[s.editor.row(frame)].copy()
    qtbot.mouseClick(qa.part_buttons["toe"], Qt.MouseButton.LeftButton)
    assert layer.mode == "add"
    hip = s.editor.pose.bodypart("hip")[s.editor.row(frame), :2]
    target = hip + [15.0, 40.0]
    click_at(viewer, layer, frame, *target)
    qtbot.wait(20)
    assert layer.mode == "select"
    toe = s.editor.pose.bodypart("toe")[s.editor.row(frame)]
    assert np.linalg.norm(toe[:2] - target) < 1.0 and toe[2] == 1.0
    assert selected_labels(layer) == ["toe"]
    toes = (np.rint(layer.data[:, 0]) == frame) & (layer.features["label"] == "toe").to_numpy()
    assert toes.sum() == 1  # moved, not doubled
    press(viewer, Qt.Key.Key_Z, CTRL)
    assert_array_equal(s.editor.pose.bodypart("toe")[s.editor.row(frame)], toe_before)

    # a drag of two selected points is one action: one Ctrl+Z puts both back
    viewer.dims.set_current_step(0, frame)
    knee, ankle = point_index(layer, frame, "knee"), point_index(layer, frame, "ankle")
    before = s.editor.pose.values.copy()
    click(viewer, canvas_xy(viewer, layer, layer.data[knee]))
    click(viewer, canvas_xy(viewer, layer, layer.data[ankle]), modifier=Qt.KeyboardModifier.ShiftModifier)
    assert sorted(selected_labels(layer)) == ["ankle", "knee"]
    start = canvas_xy(viewer, layer, layer.data[knee])
    drag(viewer, start, QPointF(start.x() + 30, start.y() + 10))
    moved = s.editor.manual[s.editor.row(frame), [s.pose.bodypart_index("knee"), s.pose.bodypart_index("ankle")]]
    assert moved.all()
    press(viewer, Qt.Key.Key_Z, CTRL)
    assert_array_equal(s.editor.pose.values, before)

    # W where the track says nothing (its first frame: no neighbour before it): the label goes
    # to the far leg, the point is left missing, and the next click on the canvas places it
    viewer.dims.set_current_step(0, 0)
    knee0 = point_index(layer, 0, "knee")
    click(viewer, canvas_xy(viewer, layer, layer.data[knee0]))
    assert selected_labels(layer) == ["knee"]
    label = s.editor.pose.bodypart("knee")[0, :2].copy()
    press(viewer, Qt.Key.Key_W)
    assert layer.mode == "add" and np.isnan(s.editor.pose.bodypart("knee")[0]).all()
    assert_array_equal(s.editor.far.bodypart("knee")[0, :2], label)
    assert qa.part_buttons["knee"].isChecked()  # the picker shows what one click places
    target = label + [-20.0, 6.0]
    click_at(viewer, layer, 0, *target)
    qtbot.wait(20)
    assert layer.mode == "select" and np.linalg.norm(s.editor.pose.bodypart("knee")[0, :2] - target) < 1.0
    # the zoom size: fewer image pixels across the canvas, a closer zoom
    qa.zoom_px.setValue(130)
    assert camera.zoom == pytest.approx(2 * zoomed, rel=0.02)

    # our keys work whichever layer is selected (here the far-leg layer): N goes on
    viewer.layers.selection.active = viewer.layers[s.far_layer.name]
    pos = qa.review.position
    press(viewer, Qt.Key.Key_N)
    assert qa.review.position == pos + 1


def test_keys_are_napari_actions_rebindable_in_napari_shortcut_editor(session, qtbot):
    """Our keys are listed in napari's Preferences > Shortcuts (Viewer key bindings) and a key
    chosen there takes over, on the canvas and in our dock."""
    from napari._qt.widgets.qt_keyboard_settings import ShortcutEditor
    from napari.utils.action_manager import action_manager

    from napari_gaitint._napari._keys import ACTIONS, KEY_ACTIONS

    viewer, qa, _ = session
    name = ACTIONS["next_suspect"].name
    editor = ShortcutEditor()
    qtbot.addWidget(editor)
    listed = editor.key_bindings_strs[editor.VIEWER_KEYBINDINGS]
    assert {a.name for a in KEY_ACTIONS} <= set(listed)
    editor.layer_combo_box.setCurrentText(editor.VIEWER_KEYBINDINGS)
    table = editor._table
    rows = [r for r in range(table.rowCount())
            if table.item(r, editor._action_name_col).text() == ACTIONS["next_suspect"].description]
    assert len(rows) == 1 and table.item(rows[0], editor._shortcut_col).text() == "N"
    try:
        table.item(rows[0], editor._shortcut_col).setText("K")  # what typing K in the editor does
        assert [str(k) for k in action_manager._shortcuts[name]] == ["K"]
        pos = qa.review.position
        press(viewer, Qt.Key.Key_K)
        assert qa.review.position == pos + 1
        press(viewer, Qt.Key.Key_N)  # no longer bound: nothing
        assert qa.review.position == pos + 1
        press(viewer, Qt.Key.Key_K, widget=qa.table)  # the dock follows the new key too
        assert qa.review.position == pos + 2
        assert "(K)" in qa.buttons["next_suspect"].text()  # the buttons name the key in force
    finally:
        action_manager.unbind_shortcut(name)
        action_manager.bind_shortcut(name, "N")
        QApplication.processEvents()
    # one meaning per key: R is the events' "right side", not QA's accept
    pos = qa.review.position
    press(viewer, Qt.Key.Key_R)
    assert qa.review.position == pos and not qa.review.reviewed


def test_the_keys_table_of_the_docs_is_the_key_table_of_the_code():
    """docs/napari-qa.md lists every action with its default key and description."""
    import re
    from pathlib import Path

    from napari.utils.key_bindings import coerce_keybinding

    from napari_gaitint._napari._keys import KEY_ACTIONS

    page = (Path(__file__).resolve().parents[2] / "docs" / "napari-qa.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([^`]+)` \| (.+?) \| `(napari-gaitint:\w+)` \|$", page, re.MULTILINE)
    documented = {name: (coerce_keybinding(key.replace("Ctrl", "Control")), text) for key, text, name in rows}
    assert documented == {a.name: (coerce_keybinding(a.key), a.description) for a in KEY_ACTIONS}
