"""Label QA dock widget: ranked suspects, fix points by hand, save ``_refined`` files.

A thin skin over :mod:`napari_gaitint.core.qa`. For each view of a trial (the raw keypoints
layers the loader made) the widget

* cleans the view with the opposite view (:func:`core.clean.clean_pose`, wrong-limb flags
  only: no filtering) and maps the opposite view into this image (far-leg estimate);
* ranks suspicious frames (:func:`core.qa.find_suspects`) in a table; ``N``/``B`` walk it,
  a click on a row jumps there; a counter shows "k of n reviewed";
* adds an editable ``<trial> <view> QA`` points layer (the source layer is not touched) and a
  faint ``far leg`` layer. Dragging a point moves it, ``Delete`` makes it missing, ``W``
  marks it "far leg / swapped", ``R`` accepts the frame as reviewed, ``Ctrl+Z`` undoes;
  every edit goes through a :class:`core.qa.PoseEditor` (manual flag, edit log);
* autosaves the edit log next to the source after every edit, offers to recover it, warns
  when the window closes with unsaved edits;
* saves ``<source>_refined.h5/.csv`` (DLC layout, same frame index) and exports the
  corrected frames as DLC ``CollectedData`` labels.

Keys (on the QA layers): ``N`` next suspect, ``B`` previous suspect, ``R`` accept frame as
reviewed and go to the next unreviewed one, ``W`` far leg / swapped, ``Delete``/``Backspace``
delete → missing (napari's own delete of the selected points), ``Ctrl+Z`` undo.
"""

from __future__ import annotations

import weakref
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from qtpy.QtCore import QAbstractTableModel, QEvent, QModelIndex, QObject, Qt
from qtpy.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ..core import clean as core_clean
from ..core import qa as core_qa
from ..core.errors import GaitintError
from ..core.io import LEG_CHAIN, Pose, side_of_view, with_role_names
from . import _convert
from ._widgets import _info, layer_pose

if TYPE_CHECKING:
    import napari

#: Key bindings of the QA layers: key -> (method name, help text).
QA_KEYS: dict[str, tuple[str, str]] = {
    "n": ("next_suspect", "next suspect frame"),
    "b": ("previous_suspect", "previous suspect frame"),
    "r": ("accept_and_next", "accept frame as reviewed, go to next unreviewed"),
    "w": ("mark_far_leg", "far leg / swapped (selected points)"),
    "Control-z": ("undo", "undo the last correction"),
}
FAR_COLOR = "#c8ff00"
#: Columns of the suspects table.
TABLE_COLUMNS = ("✓", "view", "frame", "score", "why", "parts")
KIND_LABELS = {"wrong_limb": "wrong limb", "other_view": "other view", "jump": "jump",
               "low_likelihood": "low likelihood"}


class SuspectTableModel(QAbstractTableModel):
    """The ranked suspect frames of a :class:`core.qa.ReviewState` as a Qt table: cells are
    made when they are drawn, so the tens of thousands of suspects of a long recording cost
    nothing to list. Columns :data:`TABLE_COLUMNS`; ``✓`` marks reviewed frames."""

    def __init__(self):
        super().__init__()
        self.review: core_qa.ReviewState | None = None
        self._cols: dict = {}

    def set_review(self, review: core_qa.ReviewState | None) -> None:
        self.beginResetModel()
        self.review = review
        fr = review.frames if review is not None else pd.DataFrame()
        self._cols = {c: fr[c].tolist() if c in fr else [""] * len(fr)
                      for c in ("view", "frame", "score", "kinds", "bodyparts")}
        self.endResetModel()

    def row_changed(self, row: int) -> None:
        """Redraw a row (after it was reviewed)."""
        self.dataChanged.emit(self.index(row, 0), self.index(row, self.columnCount() - 1))

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() or self.review is None else self.review.n

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(TABLE_COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return TABLE_COLUMNS[section]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or self.review is None:
            return None
        r, c = index.row(), index.column()
        if role == Qt.ItemDataRole.TextAlignmentRole and c in (2, 3):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if c == 0:
            return "✓" if self.review.key(r) in self.review.reviewed else ""
        if c == 1:
            return str(self._cols["view"][r])
        if c == 2:
            return str(int(self._cols["frame"][r]))
        if c == 3:
            return f"{self._cols['score'][r]:.1f}"
        if c == 4:
            return ", ".join(KIND_LABELS.get(k, k) for k in str(self._cols["kinds"][r]).split("+"))
        return str(self._cols["bodyparts"][r]).replace(",", ", ")


def _layer_pose(layer) -> Pose:
    """The pose a raw keypoints layer was made from (its edits are the QA session's)."""
    return layer_pose(layer, edits=False)


def raw_keypoint_layers(viewer) -> list:
    """Keypoints layers holding predictions as read (not cleaned, not ours)."""
    return [
        lay for lay in viewer.layers
        if lay.__class__.__name__ == "Points" and _info(lay).get("kind") == "keypoints" and not _info(lay).get("cleaned")
    ]


class _CloseGuard(QObject):
    """Event filter on the main window: asks before closing with unsaved edits."""

    def __init__(self, widget: QAWidget):
        super().__init__()
        self.widget = widget

    def eventFilter(self, obj, event):  # noqa: N802 (Qt API)
        if event.type() == QEvent.Type.Close and self.widget.dirty:
            if not self.widget.confirm_close():
                event.ignore()
                return True
        return False


def weak_slot(obj, name: str, *args, pass_args: bool = False):
    """A callback calling ``obj.<name>(*args)`` that does not keep ``obj`` alive.

    Qt and napari hold callbacks strongly; a lambda closing over a widget would keep the
    widget (and through it the viewer) alive after the window closed.
    """
    ref = weakref.ref(obj)

    def slot(*signal_args):
        target = ref()
        if target is not None:
            return getattr(target, name)(*args, *(signal_args if pass_args else ()))

    return slot


def install_close_guard(widget) -> None:
    """Watch the main window's close once the widget is docked (asks about unsaved edits)."""
    win = widget.window()
    if win is widget or win is None or (widget._guarded is not None and widget._guarded() is win):
        return
    win.installEventFilter(widget._guard)
    widget._guarded = weakref.ref(win)


def same_layer(a, b) -> bool:
    """Identity of layers seen through napari's plugin proxies."""
    return a is not None and b is not None and getattr(a, "__wrapped__", a) is getattr(b, "__wrapped__", b)


class ViewSession:
    """One view under QA: its editor, layers and placement."""

    def __init__(self, view: str, source_layer, pose: Pose, editor: core_qa.PoseEditor):
        self.view = view
        self.source_layer = source_layer
        self.pose = pose
        self.editor = editor
        self.layer = None  # the editable QA points layer
        self.far_layer = None
        self.pending_remove: list[tuple[int, str]] = []


class QAWidget(QWidget):
    """Dock widget: QA of the keypoints of the trial loaded in the viewer."""

    #: Answer for the close prompt: a callable returning "save", "discard" or "cancel".
    #: ``None`` asks with a message box (tests set it).
    close_prompt = None
    #: Answer for yes/no questions (recover autosave...): callable(text) -> bool, or None to ask.
    confirm_prompt = None

    def __init__(self, napari_viewer: napari.viewer.Viewer, *, config: core_qa.QAConfig | None = None):
        super().__init__()
        self.viewer = napari_viewer
        self.config = config or core_qa.QAConfig()
        self.sessions: dict[str, ViewSession] = {}
        self.review: core_qa.ReviewState | None = None
        self.trial: str | None = None
        self._history: list[str] = []  # view of each edit, for a global undo
        self._updating = False

        self.setLayout(QVBoxLayout())
        top = QHBoxLayout()
        self.start_button = QPushButton("Start QA")
        self.start_button.clicked.connect(weak_slot(self, "start"))
        self.counter = QLabel("no suspects yet")
        top.addWidget(self.start_button)
        top.addWidget(self.counter, 1)
        self.layout().addLayout(top)

        self.table = QTableView()
        self.table.setModel(SuspectTableModel())
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setResizeContentsPrecision(200)  # column widths: 200 rows
        self.table.verticalHeader().setDefaultSectionSize(20)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.clicked.connect(weak_slot(self, "_on_cell_clicked", pass_args=True))
        self.layout().addWidget(self.table, 1)

        nav = QHBoxLayout()
        for text, slot in (("◀ Prev (B)", "previous_suspect"), ("Next (N) ▶", "next_suspect"),
                           ("Accept (R)", "accept_and_next")):
            b = QPushButton(text)
            b.clicked.connect(weak_slot(self, slot))
            nav.addWidget(b)
        self.layout().addLayout(nav)
        edit = QHBoxLayout()
        for text, slot in (("Far leg / swapped (W)", "mark_far_leg"), ("Delete → missing", "delete_selected"),
                           ("Undo (Ctrl+Z)", "undo")):
            b = QPushButton(text)
            b.clicked.connect(weak_slot(self, slot))
            edit.addWidget(b)
        self.layout().addLayout(edit)
        out = QHBoxLayout()
        self.save_button = QPushButton("Save _refined .h5/.csv")
        self.save_button.clicked.connect(weak_slot(self, "save"))
        self.export_button = QPushButton("Export DLC labels…")
        self.export_button.clicked.connect(weak_slot(self, "_export_dialog"))
        out.addWidget(self.save_button)
        out.addWidget(self.export_button)
        self.layout().addLayout(out)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.layout().addWidget(self.status)
        help_text = QLabel(
            "<b>Keys on the QA layers</b>: N / B next / previous suspect · R accept frame, next · "
            "drag a point to fix it · Delete → missing · W far leg / swapped · Ctrl+Z undo"
        )
        help_text.setWordWrap(True)
        self.layout().addWidget(help_text)
        keys = ", ".join(f"{k.replace('Control-', 'Ctrl+').upper()}: {h}" for k, (_, h) in QA_KEYS.items())
        self.setToolTip(f"Keys on the QA layers — {keys}; Delete/Backspace: delete → missing; drag a point to fix it")

        self._guard = _CloseGuard(self)
        self._guarded = None

    # ------------------------------------------------------------------------------------
    # set-up
    # ------------------------------------------------------------------------------------
    @property
    def dirty(self) -> bool:
        """Unsaved corrections in any view, or review ticks not saved yet."""
        return any(s.editor.dirty for s in self.sessions.values()) or bool(
            self.review is not None and self.sessions and self.review.dirty)

    def showEvent(self, event):  # noqa: N802 (Qt API)
        install_close_guard(self)
        super().showEvent(event)

    def start(self, layers: list | None = None) -> None:
        """Start QA on the keypoints layers of one trial (default: the first trial loaded)."""
        install_close_guard(self)
        try:
            self._start(layers)
        except GaitintError as err:
            self._notify(str(err), error=True)

    def _start(self, layers):
        if self.sessions:  # started again: keep nothing half-done
            if self.dirty and not self.confirm("Restart QA? Unsaved corrections stay in the autosave only."):
                return
            for s in self.sessions.values():
                for lay in (s.layer, s.far_layer):
                    if lay is not None and lay.name in self.viewer.layers:
                        self.viewer.layers.remove(lay.name)
                s.source_layer.visible = True
            self.sessions, self._history = {}, []
        layers = layers if layers is not None else raw_keypoint_layers(self.viewer)
        if not layers:
            raise GaitintError("no keypoints layer: load a trial pair (or a DLC file) first")
        trial = _info(layers[0]).get("trial", "")
        layers = [lay for lay in layers if _info(lay).get("trial", "") == trial][:2]
        self.trial = trial
        poses, checked, file_name = {}, {}, {}
        for lay in layers:
            view = str(_info(lay).get("view") or lay.name)
            poses[view] = (lay, _layer_pose(lay))
            # the checks run on role names (Neck, LHeel... -> neck, heel); the table and the
            # edits use the file's own names
            side = side_of_view(view, _info(lay).get("side"))
            roles = with_role_names(poses[view][1], side=side)
            same_columns = len(roles.bodyparts) == len(poses[view][1].bodyparts)
            checked[view] = roles if same_columns else poses[view][1]
            file_name[view] = dict(roles.meta["bodypart_names"]) if same_columns else {}
        views = list(poses)
        suspects = []
        flags, mapped = {}, {}
        cfg = core_clean.CleanConfig(filter="none", max_gap_frames=0,
                                     likelihood_threshold=self.config.likelihood_threshold)
        for v in views:
            others = [o for o in views if o != v]
            pose = checked[v]
            other = checked[others[0]] if others else None
            try:
                flags[v] = core_clean.clean_pose(pose, other=other, config=cfg).flags
            except GaitintError as err:
                self._notify(f"{v}: cleaning check skipped ({err})")
                flags[v] = None
            if other is not None:
                try:
                    mapped[v] = core_qa.map_other_view(pose, other, config=cfg)[0]
                except GaitintError as err:
                    self._notify(f"{v}: other view not aligned ({err})")
        for v in views:
            others = [o for o in views if o != v]
            other_flags = flags.get(others[0]) if others else None
            m = mapped.get(v)
            if m is not None and other_flags is not None and other_flags.shape[0] != m.n_frames:
                other_flags = None
            found = core_qa.find_suspects(checked[v], view=v, flags=flags[v], other_mapped=m,
                                          other_flags=other_flags, config=self.config)
            found["bodypart"] = [file_name[v].get(b, b) for b in found["bodypart"]]
            suspects.append(found)
        self.suspects = core_qa.rank_suspects(*suspects)
        self.review = core_qa.ReviewState(core_qa.suspect_frames(self.suspects))
        for v in views:
            lay, pose = poses[v]
            far = None
            if v in mapped:
                names = [b for b in LEG_CHAIN if b in mapped[v].bodyparts and file_name[v].get(b, b) in pose.bodyparts]
                far = mapped[v].select(names)
                far.bodyparts = tuple(file_name[v].get(b, b) for b in names)
            editor = core_qa.PoseEditor(pose, far=far, flags=flags[v], view=v,
                                         margin_px=core_clean.margin_px_for(checked[v], cfg))
            self.sessions[v] = ViewSession(v, lay, pose, editor)
        self._resume_saved()
        self._offer_recovery()
        for v in views:
            self._make_layers(self.sessions[v])
        self._fill_table()
        self._update_counter()
        if self.sessions:
            self.viewer.layers.selection.active = next(iter(self.sessions.values())).layer

    def _resume_saved(self) -> None:
        """Start each view from its saved ``_refined`` file and review ticks, and say so."""
        said = []
        for s in self.sessions.values():
            try:
                saved = core_qa.load_saved_corrections(s.pose)
            except GaitintError as err:  # kept as it is: a save would refuse to overwrite it
                self._notify(f"{s.view}: {err}", error=True)
                continue
            if saved is None:
                continue
            s.editor.resume(saved)
            self.review.reviewed |= saved.reviewed
            said.append(f"{s.view}: {saved.n_corrected} corrected points and "
                        f"{len(saved.reviewed)} reviewed frames from {saved.path.name}")
        self.review.mark_saved()
        if said:
            self._notify("resumed " + "; ".join(said))

    def _offer_recovery(self) -> None:
        found = [s for s in self.sessions.values() if s.pose.source and core_qa.has_autosave(s.pose.source)]
        if not found:
            return
        names = ", ".join(Path(s.pose.source).name for s in found)
        if self.confirm(f"Unsaved corrections of {names} were autosaved. Recover them?"):
            self.recover()

    def recover(self) -> int:
        """Replay the autosaved corrections of every view; returns the number of edits replayed."""
        total = 0
        for s in self.sessions.values():
            if s.pose.source is None:
                continue
            n = core_qa.recover_edits(s.editor, review=self.review)
            if n:
                self._history.extend([s.view] * len(s.editor._undo))
            total += n
            if s.layer is not None:
                self._render(s)
        self._fill_table()
        self._update_counter()
        if total:
            self._notify(f"recovered {total} autosaved edits")
        return total

    def _make_layers(self, s: ViewSession) -> None:
        affine = np.asarray(s.source_layer.affine.affine_matrix)
        data, kw = self._points_kwargs(s)
        s.layer = self.viewer.add_points(data, name=f"{self.trial} {s.view} QA".strip(), affine=affine, **kw)
        s.layer.metadata["gaitint"] = {**{k: v for k, v in _info(s.source_layer).items() if k != "pose"},
                                       "kind": "qa", "view": s.view, "pose": None}
        s.source_layer.visible = False
        fdata, fkw = self._far_kwargs(s)
        s.far_layer = self.viewer.add_points(fdata, name=f"{self.trial} {s.view} far leg".strip(), affine=affine, **fkw)
        s.far_layer.metadata["gaitint"] = {"kind": "far_leg", "view": s.view, "trial": self.trial}
        self.viewer.layers.selection.active = s.layer
        s.layer.mode = "select"
        for key, (method, _help) in QA_KEYS.items():
            s.layer.bind_key(key, weak_slot(self, method), overwrite=True)
        s.layer.events.data.connect(weak_slot(self, "_on_data", s, pass_args=True))

    def _points_kwargs(self, s: ViewSession) -> tuple[np.ndarray, dict]:
        data, feats = _convert.pose_to_points(s.editor.pose, flags=s.editor.flags(),
                                              pcutoff=self.config.likelihood_threshold)
        return np.asfortranarray(data), {  # column-major: cheap extents on long recordings
            "features": feats,
            "face_color": _convert.points_face_colors(feats),
            "border_color": _convert.points_border_colors(feats),
            "border_width": 0.1,
            "size": 12,
        }

    def _far_kwargs(self, s: ViewSession) -> tuple[np.ndarray, dict]:
        far = s.editor.far
        if far is None:
            return np.empty((0, 3)), {"face_color": FAR_COLOR, "size": 9, "symbol": "x", "opacity": 0.6}
        data, feats = _convert.pose_to_points(far)
        return data, {"features": feats, "face_color": FAR_COLOR, "border_color": FAR_COLOR,
                      "size": 9, "symbol": "x", "opacity": 0.6}

    def _render(self, s: ViewSession) -> None:
        """Redraw a view's QA and far-leg layers from its editor."""
        self._updating = True
        try:
            data, kw = self._points_kwargs(s)
            s.layer.selected_data = set()
            s.layer.data = data
            s.layer.features = kw["features"]
            s.layer.face_color = kw["face_color"]
            s.layer.border_color = kw["border_color"]
            fdata, fkw = self._far_kwargs(s)
            s.far_layer.data = fdata
            if len(fdata):
                s.far_layer.features = fkw["features"]
        finally:
            self._updating = False

    # ------------------------------------------------------------------------------------
    # edits coming from the layer (drag, delete, add)
    # ------------------------------------------------------------------------------------
    def _point_key(self, s: ViewSession, i: int) -> tuple[int, str]:
        return int(round(float(s.layer.data[i][0]))), str(s.layer.features["label"].iloc[i])

    def _on_data(self, s: ViewSession, event) -> None:
        if self._updating:
            return
        action = str(getattr(event, "action", ""))
        action = action.split(".")[-1].lower()
        idx = [int(i) for i in (getattr(event, "data_indices", ()) or ())]
        if action == "removing":
            s.pending_remove = [self._point_key(s, i) for i in idx]
        elif action == "removed":
            for frame, label in s.pending_remove:
                if label in s.editor.pose.bodyparts and np.isfinite(s.editor.pose.bodypart(label)[s.editor.row(frame), :2]).all():
                    s.editor.delete(frame, label)
                    self._history.append(s.view)
            s.pending_remove = []
            self._after_edit(s)
        elif action == "changed":
            for i in idx:
                if i >= len(s.layer.data):
                    continue
                frame, label = self._point_key(s, i)
                if label not in s.editor.pose.bodyparts:
                    continue
                y, x = (float(v) for v in np.asarray(s.layer.data[i])[-2:])
                s.editor.move(frame, label, x=x, y=y)
                self._history.append(s.view)
            self._recolor(s, idx)
            self._after_edit(s)
        elif action == "added":
            bad = []
            for i in idx:
                frame, label = self._point_key(s, i)
                if label not in s.editor.pose.bodyparts or np.isfinite(s.editor.pose.bodypart(label)[s.editor.row(frame), :2]).all():
                    bad.append(i)
                    continue
                y, x = (float(v) for v in np.asarray(s.layer.data[i])[-2:])
                s.editor.move(frame, label, x=x, y=y)
                self._history.append(s.view)
            if bad:
                self._notify("that body part is already placed in this frame: drag it instead")
            from qtpy.QtCore import QTimer

            QTimer.singleShot(0, lambda: self._render(s))
            self._after_edit(s)

    def _recolor(self, s: ViewSession, indices) -> None:
        """Mark moved points as manual in the layer features and colours (no data reset)."""
        self._updating = True
        try:
            feats = s.layer.features.copy()
            for i in indices:
                if i < len(feats):
                    feats.loc[feats.index[i], "flags"] = int(feats["flags"].iloc[i]) | core_clean.FLAG_MANUAL
                    feats.loc[feats.index[i], "likelihood"] = 1.0
            feats["status"] = _convert.status_from_flags(feats["flags"].to_numpy())
            s.layer.features = feats
            s.layer.face_color = _convert.points_face_colors(feats)
            s.layer.border_color = _convert.points_border_colors(feats)
        finally:
            self._updating = False

    def _after_edit(self, s: ViewSession) -> None:
        self.autosave()
        self._update_counter()

    # ------------------------------------------------------------------------------------
    # actions (buttons and keys)
    # ------------------------------------------------------------------------------------
    def _current_frame(self) -> int:
        return int(self.viewer.dims.current_step[0])

    def _active_session(self) -> ViewSession | None:
        active = self.viewer.layers.selection.active
        for s in self.sessions.values():
            if same_layer(active, s.layer):
                return s
        return next(iter(self.sessions.values()), None)

    def _show(self, key) -> None:
        if key is None:
            self._notify("no more suspects in that direction")
            return
        view, frame = key
        self.viewer.dims.set_current_step(0, int(frame))
        s = self.sessions.get(view)
        if s is not None and s.layer is not None:
            self.viewer.layers.selection.active = s.layer
            parts = set(self.review.frames.iloc[self.review.position]["bodyparts"].split(","))
            feats = s.layer.features
            frames = np.rint(np.asarray(s.layer.data)[:, 0]).astype(int) if len(s.layer.data) else np.empty(0, int)
            sel = np.flatnonzero((frames == int(frame)) & feats["label"].astype(str).isin(parts).to_numpy())
            s.layer.selected_data = set(sel.tolist())
        self.table.selectRow(self.review.position)
        self._update_counter()

    def next_suspect(self) -> None:
        if self.review is not None:
            self._show(self.review.next())

    def previous_suspect(self) -> None:
        if self.review is not None:
            self._show(self.review.previous())

    def _on_cell_clicked(self, index: QModelIndex) -> None:
        self.go_to(index.row())

    def go_to(self, row: int) -> None:
        if self.review is not None and 0 <= row < self.review.n:
            self._show(self.review.go_to(row))

    def accept(self) -> tuple[str, int] | None:
        """Accept the current frame (of the current suspect's view, else the active layer's view)."""
        if self.review is None:
            return None
        frame = self._current_frame()
        if 0 <= self.review.position < self.review.n and self.review.key(self.review.position)[1] == frame:
            key = self.review.key(self.review.position)
        else:
            s = self._active_session()
            key = (s.view if s else "", frame)
        self.review.accept(*key)
        pos = self.review.index_of(*key)
        if pos is not None:
            self.table.model().row_changed(pos)
        self.autosave()
        self._update_counter()
        return key

    def accept_and_next(self) -> None:
        self.accept()
        if self.review is not None and self.review.k < self.review.n:
            start = self.review.position
            key = self.review.next(unreviewed_only=True)
            if key is None:  # wrap around to earlier unreviewed frames
                self.review.position = -1
                key = self.review.next(unreviewed_only=True)
                if key is None:
                    self.review.position = start
            self._show(key)

    def mark_far_leg(self) -> None:
        """"Far leg / swapped" for the selected points of the active QA layer."""
        s = self._active_session()
        if s is None or not s.layer.selected_data:
            self._notify("select the point(s) that sit on the far leg first")
            return
        keys = [self._point_key(s, i) for i in sorted(s.layer.selected_data)]
        done = []
        for frame, label in keys:
            if label not in LEG_CHAIN:
                self._notify(f"{label} is not on the leg chain; drag or delete it instead")
                continue
            s.editor.mark_far_leg(frame, label)
            self._history.append(s.view)
            done.append(label)
        self._render(s)
        self._after_edit(s)
        if done:
            self._notify(f"{s.view}: {', '.join(done)} marked as far leg")

    def delete_selected(self) -> None:
        s = self._active_session()
        if s is not None and s.layer.selected_data:
            s.layer.remove_selected()  # goes through _on_data like the Delete key

    def undo(self) -> None:
        if not self._history:
            self._notify("nothing to undo")
            return
        view = self._history.pop()
        s = self.sessions[view]
        op = s.editor.undo()
        self._render(s)
        self._after_edit(s)
        if op:
            self._notify(f"undid {op['op']} of {op.get('bodypart', '')} in frame {op.get('frame', '')}")

    # ------------------------------------------------------------------------------------
    # files
    # ------------------------------------------------------------------------------------
    def autosave(self) -> None:
        for s in self.sessions.values():
            if s.pose.source is not None and (s.editor.ops or self.review and self.review.reviewed):
                try:
                    core_qa.autosave_edits(s.editor, review=self.review)
                except (OSError, GaitintError) as err:  # never lose the session over an autosave
                    self._notify(f"autosave failed: {err}", error=True)

    def save(self) -> list[Path]:
        """Save ``<source>_refined.h5/.csv``, the corrections csv and the review ticks of every
        view with a source. Corrections saved meanwhile by another session are merged in
        (never dropped); points corrected differently on both sides ask whose to keep."""
        out, merged, failed = [], [], False
        for s in self.sessions.values():
            try:
                try:
                    out += core_qa.save_refined(s.editor, review=self.review)
                except core_qa.CorrectionsConflictError as err:
                    keep = "ours" if self.confirm(f"{err}\n\nKeep your corrections of these points? "
                                                  "(No keeps the file's.)") else "theirs"
                    out += core_qa.save_refined(s.editor, review=self.review, on_conflict=keep)
            except GaitintError as err:
                failed = True
                self._notify(str(err), error=True)
                continue
            if s.editor.n_merged:
                merged.append(f"{s.editor.n_merged} in {s.view}")
                self._render(s)
            saved = core_qa.load_review(core_qa.review_path(s.pose.source)) if s.pose.source else set()
            self.review.reviewed |= saved
        if not failed and self.review is not None:
            self.review.mark_saved()
            self.table.model().set_review(self.review)
        self._update_counter()
        if out:
            extra = f" (merged corrections saved meanwhile by another session: {', '.join(merged)})" if merged else ""
            self._notify("saved " + ", ".join(p.name for p in out) + extra)
        return out

    def export_labels(self, target, *, scorer: str = "gaitint-qa", video_paths: dict | None = None) -> list[Path]:
        """Export the corrected frames of every view as DLC machine labels (``CollectedData``).

        ``target`` is a DeepLabCut project (its folder or ``config.yaml``): the labels are merged
        into ``labeled-data/<video>/`` by ``core.dlc.export_labels_to_project`` (the project's
        scorer and body parts, frame PNGs extracted, the video added to ``video_sets``). A view
        that DeepLabCut analysed through a mirrored copy (manifest column ``mirrored``) is
        exported onto that copy (``core.dlc.export_labels_mirrored``), as the network sees
        it. Any other folder gets
        ``labeled-data/<video>/CollectedData_<scorer>.h5/.csv`` written by ``core.qa``.
        """
        from ..core import dlc as core_dlc

        target = Path(target)
        config = target if target.name == "config.yaml" else target / "config.yaml"
        out: list[Path] = []
        for s in self.sessions.values():
            if not s.editor.manual.any():
                continue
            info = _info(s.source_layer)
            row = info.get("manifest_row") or {}
            video = (video_paths or {}).get(s.view) or row.get("video")
            video = video if isinstance(video, str | Path) and Path(video).is_file() else None
            video_name = Path(video).stem if video else (Path(s.pose.source).stem if s.pose.source else s.view)
            frames = list(s.editor.corrected_frames())
            try:
                if config.is_file() and video is not None and _truthy(row.get("mirrored")):
                    # the network analysed this view through a mirrored copy: label that copy
                    res = core_dlc.export_labels_mirrored(config, video, s.editor.pose, frames=frames)
                    out += [res.h5, res.csv, *res.images]
                elif config.is_file():
                    res = core_dlc.export_labels_to_project(config, video_name, s.editor.pose, frames=frames,
                                                            video=video, register_video=video is not None)
                    out += [res.h5, res.csv, *res.images]
                else:
                    out += core_qa.export_corrected_labels(
                        s.editor, target, video_name=video_name, scorer=scorer, video_path=video,
                    )
            except GaitintError as err:
                self._notify(str(err), error=True)
        self._notify("exported " + ", ".join(p.name for p in out) if out else "no corrected frames exported")
        return out

    def _export_dialog(self) -> None:
        from qtpy.QtWidgets import QFileDialog

        folder = QFileDialog.getExistingDirectory(self, "DeepLabCut project folder")
        if folder:
            self.export_labels(folder)

    # ------------------------------------------------------------------------------------
    # prompts and display
    # ------------------------------------------------------------------------------------
    def confirm(self, text: str) -> bool:
        if QAWidget.confirm_prompt is not None:
            return bool(QAWidget.confirm_prompt(text))
        answer = QMessageBox.question(self, "napari-gaitint QA", text)
        return answer == QMessageBox.StandardButton.Yes

    def confirm_close(self) -> bool:
        """Ask what to do with unsaved corrections; True lets the window close."""
        if QAWidget.close_prompt is not None:
            answer = QAWidget.close_prompt()
        else:
            box = QMessageBox(self)
            box.setWindowTitle("Unsaved label corrections")
            box.setText("There are unsaved label corrections. Save them as _refined files?")
            box.setStandardButtons(QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                                   | QMessageBox.StandardButton.Cancel)
            res = box.exec()
            answer = {QMessageBox.StandardButton.Save: "save", QMessageBox.StandardButton.Discard: "discard"}.get(
                QMessageBox.StandardButton(res), "cancel")
        if answer == "save":
            self.save()
            return not self.dirty
        if answer == "discard":
            for s in self.sessions.values():
                s.editor.mark_saved()
                if s.pose.source is not None:
                    core_qa.discard_autosave(s.pose.source)
            if self.review is not None:
                self.review.mark_saved()
            return True
        return False

    def _fill_table(self) -> None:
        self.table.model().set_review(self.review)
        self.table.resizeColumnsToContents()

    def _update_counter(self) -> None:
        if self.review is None:
            return
        n_manual = sum(int(s.editor.manual.sum()) for s in self.sessions.values())
        unsaved = " · unsaved edits" if self.dirty else ""
        self.counter.setText(f"{self.review.counter_text()} · {n_manual} points corrected{unsaved}")

    def _notify(self, text: str, *, error: bool = False) -> None:
        self.status.setText(text)
        try:
            from napari.utils.notifications import show_error, show_info

            (show_error if error else show_info)(text)
        except Exception:  # pragma: no cover - no napari app
            pass


def _truthy(value) -> bool:
    """A manifest cell as a bool (``True``, ``"True"``, ``"1"``, ``"yes"``...)."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "y")
    return bool(value) if value is not None and value == value else False
