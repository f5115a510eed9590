"""A user at the napari window, for the GUI tests and the session benchmark: keys typed on the
canvas or a widget, clicks and drags on the canvas at a layer's data point (through the layer's
affine and the camera), the sample trial copied where its files may be written next to."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
from qtpy.QtCore import QEvent, QPointF, Qt
from qtpy.QtGui import QMouseEvent
from qtpy.QtTest import QTest
from qtpy.QtWidgets import QApplication

NO_MODIFIER = Qt.KeyboardModifier.NoModifier


def canvas_native(viewer):
    return viewer.window._qt_viewer.canvas.native


def press(viewer, key, modifier=NO_MODIFIER, *, widget=None) -> None:
    """Type ``key`` on the canvas (or on ``widget``, e.g. a dock's table with the focus)."""
    QTest.keyClick(widget if widget is not None else canvas_native(viewer), key, modifier)


def canvas_xy(viewer, layer, point) -> QPointF:
    """Canvas pixel of a layer data point ``(frame, y, x)`` (through the layer affine and camera)."""
    world = layer.data_to_world(np.asarray(point, float))
    x, y = viewer.window._qt_viewer.canvas.view.scene.transform.map([world[-1], world[-2], 0, 1])[:2]
    return QPointF(float(x), float(y))


def _mouse(kind, pos, buttons, modifier=NO_MODIFIER):
    button = Qt.MouseButton.LeftButton if kind != QEvent.Type.MouseMove else Qt.MouseButton.NoButton
    return QMouseEvent(kind, pos, pos, button, buttons, modifier)


def drag(viewer, start: QPointF, end: QPointF, steps: int = 6) -> None:
    """Press at ``start``, move to ``end`` in ``steps``, release. The event loop runs between the
    moves, as under a hand: napari throttles mouse moves (5 ms) and keeps the last one."""
    native = canvas_native(viewer)
    left = Qt.MouseButton.LeftButton
    QApplication.sendEvent(native, _mouse(QEvent.Type.MouseButtonPress, start, left))
    for t in np.linspace(0, 1, steps + 1)[1:]:
        p = QPointF(start.x() + t * (end.x() - start.x()), start.y() + t * (end.y() - start.y()))
        QApplication.sendEvent(native, _mouse(QEvent.Type.MouseMove, p, left))
        QTest.qWait(8)
    QApplication.sendEvent(native, _mouse(QEvent.Type.MouseButtonRelease, end, Qt.MouseButton.NoButton))


def click(viewer, pos: QPointF, modifier=NO_MODIFIER) -> None:
    native = canvas_native(viewer)
    QApplication.sendEvent(native, _mouse(QEvent.Type.MouseButtonPress, pos, Qt.MouseButton.LeftButton, modifier))
    QApplication.sendEvent(native, _mouse(QEvent.Type.MouseButtonRelease, pos, Qt.MouseButton.NoButton, modifier))


def click_at(viewer, layer, frame: int, x: float, y: float) -> None:
    """Click where image point ``(x, y)`` of ``layer``'s view is drawn in ``frame``."""
    click(viewer, canvas_xy(viewer, layer, (frame, y, x)))


def point_index(layer, frame, label) -> int | None:
    frames = np.rint(np.asarray(layer.data)[:, 0]).astype(int)
    hit = np.flatnonzero((frames == frame) & (layer.features["label"].astype(str).to_numpy() == label))
    return int(hit[0]) if hit.size else None


def selected_labels(layer) -> list[str]:
    return [str(layer.features["label"].iloc[i]) for i in sorted(layer.selected_data)]


def copy_trial(folder: Path, manifest: Path, *, trial: str | None = None, video: bool = True) -> pd.DataFrame:
    """One trial of ``manifest`` with its predictions copied to ``folder`` (files may be written
    next to them) and its videos linked; returns its manifest rows."""
    from napari_gaitint.workflow.manifest import load_manifest

    folder.mkdir(parents=True, exist_ok=True)
    rows = load_manifest(manifest)
    trial = trial or rows["trial"].iloc[0]
    rows = rows[rows["trial"] == trial].copy()
    for i, row in rows.iterrows():
        pred = folder / Path(row["predictions"]).name
        shutil.copy(row["predictions"], pred)
        rows.loc[i, "predictions"] = str(pred)
        if video and isinstance(row.get("video"), str) and row["video"]:
            vid = folder / Path(row["video"]).name
            if not vid.exists():
                vid.symlink_to(row["video"])
            rows.loc[i, "video"] = str(vid)
        else:
            rows.loc[i, "video"] = np.nan
    return rows


def open_trial(viewer, rows) -> None:
    from napari_gaitint._napari._layers import trial_pair_layers

    for data, kw, kind in trial_pair_layers(rows):
        getattr(viewer, f"add_{kind}")(data, **kw)


def truth_of(manifest: Path, trial: str, view: str, *, far: bool = False):
    """The synthetic ground truth of a view (near leg, or the far leg) next to the sample."""
    from napari_gaitint.core.io import load_pose

    return load_pose(Path(manifest).parent / "truth" / f"{trial}_{view}_true{'_far' if far else ''}.h5")


def injected_wrong_limb(manifest: Path, trial: str) -> set[tuple[str, int, str]]:
    """``(view, frame, bodypart)`` of the labels the generator put on the far leg."""
    wl = pd.read_csv(Path(manifest).parent / "truth" / "wrong_limb.csv")
    wl = wl[wl["trial"] == trial]
    return {(str(v), int(f), str(b)) for v, f, b in wl[["view", "frame", "bodypart"]].itertuples(index=False)}


def fix_suspect(viewer, qa, injected: set, truths: dict, *, act=None, tolerance_px: float = 2.0) -> list[dict]:
    """Fix the injected wrong-limb labels of the suspect frame on screen, as a user who sees
    where the near leg is (the synthetic truth) does, with the fewest keys and clicks:

    * several labels of the frame on the far leg (a whole leg swapped): Shift+W (1, counted for
      each of them);
    * else, for each: a click on it when the QA selected another point (1), then W (1);
    * where the point is then more than ``tolerance_px`` from where the leg is: one drag there
      (1), or, when W left it missing (one click armed), one click there (1).

    ``act(kind, fn)`` runs each user action (the benchmark times them); returns one record per
    fixed label: view, frame, bodypart, actions, outcome, after_W_px and distance_px (to the
    truth, after W and at the end).
    """
    act = act or (lambda kind, fn: fn())
    view, frame = qa.review.key(qa.review.position)
    s = qa.sessions[view]
    layer = viewer.layers[s.layer.name]
    parts = [b for (v, f, b) in sorted(injected) if v == view and f == frame]
    truth = {b: truths[view].bodypart(b)[truths[view].frames == frame][0, :2] for b in parts}
    actions = dict.fromkeys(parts, 0)
    whole_leg = len(parts) > 1
    if whole_leg:
        act("Shift+W", lambda: press(viewer, Qt.Key.Key_W, Qt.KeyboardModifier.ShiftModifier))
        actions = dict.fromkeys(parts, 1)
    row = s.editor.row(frame)
    out = []
    for part in parts:
        outcome = "whole leg" if whole_leg else "W"
        if not s.editor.manual[row, s.pose.bodypart_index(part)]:  # not fixed yet: this one alone
            if selected_labels(layer) != [part]:
                i = point_index(layer, frame, part)
                act("select", lambda i=i: click(viewer, canvas_xy(viewer, layer, layer.data[i])))
                actions[part] += 1
            act("W", lambda: press(viewer, Qt.Key.Key_W))
            actions[part] += 1
            outcome = "W"
        if layer.mode == "add":  # W left it missing: one click where the leg is
            outcome += ", placed"
            act("click", lambda b=part: click_at(viewer, layer, frame, *truth[b]))
            actions[part] += 1
        now = s.editor.pose.bodypart(part)[row, :2]
        after_w = float(np.linalg.norm(now - truth[part])) if np.isfinite(now).all() else float("nan")
        if not np.isfinite(now).all() or np.linalg.norm(now - truth[part]) > tolerance_px:
            i = point_index(layer, frame, part)
            start = canvas_xy(viewer, layer, layer.data[i])
            end = canvas_xy(viewer, layer, (frame, truth[part][1], truth[part][0]))
            act("drag", lambda start=start, end=end: drag(viewer, start, end))
            actions[part] += 1
            outcome += " + drag"
        now = s.editor.pose.bodypart(part)[row, :2]
        out.append({"view": view, "frame": int(frame), "bodypart": part, "actions": actions[part],
                    "outcome": outcome, "after_W_px": after_w,
                    "distance_px": float(np.linalg.norm(now - truth[part]))})
    return out
