"""Label QA dock widget: ranked suspects, fix points by hand, save refined files.

A thin skin over :mod:`napari_gaitint.core.qa`. For each view of a trial (the raw keypoints
layers the loader made) the widget

* cleans the view with the opposite view (:func:`core.clean.clean_pose`, wrong-limb flags
  only: no filtering) and maps the opposite view into this image (far-leg estimate);
* ranks suspicious frames (:func:`core.qa.find_suspects`) in a table, filterable by reason;
  ``N``/``B`` walk it, a click on a row jumps there, selecting the most suspect point of the
  frame (one point; the others stay visible), zoomed and centred on it (``F`` toggles back to
  both views; the other view at the same moment is shown in the dock); a counter shows
  "k of n reviewed";
* adds an editable ``<trial> <view> QA`` points layer (the source layer is not touched) and a
  faint ``far leg`` layer. Dragging a point moves it, ``Delete`` makes it missing, ``W``
  puts a label lying on the far leg back on the near leg (or arms one click to place it),
  the body-part picker arms one click to place (or move) any part, ``Enter`` accepts the
  frame as reviewed, ``Ctrl+Z``/``Ctrl+Shift+Z`` undo/redo one action and go to its frame;
  every edit goes through a :class:`core.qa.PoseEditor` (manual flag, edit log);
* resumes from the saved refined file and review ticks, autosaves the edit log next to the
  source (half a second after the last edit; at once when the window closes), offers to
  recover it, warns when the window closes with unsaved edits;
* saves ``refined/<source>.h5/.csv`` (DLC layout and name, same frame index), merging
  corrections another window saved meanwhile, and exports the corrected frames as DLC
  ``CollectedData`` labels.

The keys are napari actions (:mod:`._keys`): listed and rebindable in Preferences > Shortcuts,
working on the canvas whichever layer is selected and in this dock. The suspects table is in
:mod:`._qa_table`, the actions of the buttons and keys in :mod:`._qa_actions`, saving and
exporting in :mod:`._qa_files` (mixed into :class:`QAWidget`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from qtpy.QtCore import Qt, QTimer
from qtpy.QtGui import QImage, QPixmap
from qtpy.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ..core import clean as core_clean
from ..core import clean_flags as core_clean_flags
from ..core import config as core_config
from ..core import corrections as core_corrections
from ..core import edits as core_edits
from ..core import qa as core_qa
from ..core.config import LEG_CHAIN
from ..core.errors import GaitintError
from ..core.pose import Pose, side_of_view, with_role_names
from ..dlc import labels as labels
from . import _convert, _qt
from ._inset import inset_image
from ._keys import ACTIONS, forward_keys, key_label, next_stamp, register_dock
from ._layers import layer_pose, set_points
from ._meta import FAR_LEG, QA, copy_info, keypoint_layers, layer_info, set_layer_info
from ._qa_actions import QAActions
from ._qa_files import QAFiles
from ._qa_table import KIND_LABELS, TABLE_COLUMNS, SuspectTableModel  # noqa: F401 (importable here)
from ._qt import (
    CloseGuard,
    collect_garbage,
    install_close_guard,
    show_message,
    weak_slot,
    wrapping_label,
)

if TYPE_CHECKING:
    import napari

FAR_COLOR = "#c8ff00"
#: Image pixels shown across the canvas's shorter side when zoomed on a suspect (the default of
#: the dock's zoom size).
ZOOM_CROP_PX = 260.0
#: Largest size (screen px) of the other view's picture in the dock.
INSET_HEIGHT_PX = 150
INSET_WIDTH_PX = 260
#: Widest the body-parts column of the suspects table gets (screen px; longer lists elided).
PARTS_COLUMN_PX = 70
FILTER_LABELS = {"all": "all reasons", **KIND_LABELS, "not_only_low_likelihood": "all but low likelihood only"}
#: Dock buttons -> widget methods (the key actions of :mod:`._keys` call the same methods).
BUTTON_SLOTS = {"previous_suspect": "previous_suspect", "next_suspect": "next_suspect",
                "accept_and_next": "accept_and_next", "far_leg": "mark_far_leg",
                "delete_selected": "delete_selected", "undo": "undo"}


def _layer_pose(layer) -> Pose:
    """The pose a raw keypoints layer was made from (its edits are the QA session's)."""
    return layer_pose(layer, edits=False)


class ViewSession:
    """One view under QA: its editor, layers and placement."""

    def __init__(self, view: str, source_layer, pose: Pose, editor: core_corrections.PoseEditor):
        self.view = view
        self.source_layer = source_layer
        self.pose = pose
        self.editor = editor
        self.layer = None  # the editable QA points layer
        self.far_layer = None
        self.pending_remove: list[tuple[int, str]] = []


class QAWidget(QAActions, QAFiles, QWidget):
    """Dock widget: QA of the keypoints of the trial loaded in the viewer."""

    DOCK = "qa"
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
        self.suspects: pd.DataFrame | None = None
        self.trial: str | None = None
        self._all_frames: pd.DataFrame | None = None  # the suspect frames before filtering
        self._parts: dict[tuple[str, int], list[str]] = {}  # suspect parts of a frame, by score
        self._far_parts: dict[tuple[str, int], list[str]] = {}  # those judged on the far leg
        self._history: list[tuple[int, str]] = []  # (stamp, view) of each undoable action
        self._redo_history: list[tuple[int, str]] = []
        self._updating = False
        self._placing: tuple[str, str] | None = None  # (view, body part) armed for one click
        self._showing = False  # a suspect is being shown (see QAActions._show)
        self._build()
        self._guard = CloseGuard(self)
        self._guarded = None
        self._autosave = _qt.DebouncedCall(self, "_write_autosave")  # see QAFiles.autosave
        napari_viewer.dims.events.current_step.connect(weak_slot(self, "_on_step"))
        register_dock(self)  # our keys, also when this dock has the focus
        self._update_help()

    def _build(self) -> None:
        layout = QVBoxLayout()
        layout.setContentsMargins(4, 4, 4, 4)
        self.setLayout(layout)
        top = QHBoxLayout()
        self.start_button = QPushButton("Start QA")
        self.start_button.setToolTip("Rank the suspect labels of the trial in the viewer (resumes saved work)")
        self.start_button.clicked.connect(weak_slot(self, "start"))
        self.counter = QLabel("no suspects yet")
        self.counter.setWordWrap(True)
        top.addWidget(self.start_button)
        top.addWidget(self.counter, 1)
        layout.addLayout(top)

        show = QHBoxLayout()
        show.addWidget(QLabel("show"))
        self.filter_box = QComboBox()
        for which in core_qa.SUSPECT_FILTERS:
            self.filter_box.addItem(FILTER_LABELS.get(which, which), which)
        self.filter_box.setToolTip("Narrow the suspect list to one reason (review ticks are kept)")
        self.filter_box.currentIndexChanged.connect(weak_slot(self, "_filter_changed", pass_args=True))
        self.filter_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.filter_box.setMinimumContentsLength(8)
        show.addWidget(self.filter_box, 1)
        layout.addLayout(show)
        zoom = QHBoxLayout()  # its own row: under napari's style the two rows did not fit in one
        self.zoom_box = QCheckBox("zoom on the suspect")
        self.zoom_box.setToolTip("Zoom and centre on each suspect (the other view is shown below)")
        self.zoom_box.setChecked(True)
        self.zoom_box.toggled.connect(weak_slot(self, "_zoom_toggled", pass_args=True))
        zoom.addWidget(self.zoom_box)
        self.zoom_px = QSpinBox()
        self.zoom_px.setRange(40, 2000)
        self.zoom_px.setSingleStep(20)
        self.zoom_px.setValue(int(ZOOM_CROP_PX))
        self.zoom_px.setSuffix(" px")
        self.zoom_px.setToolTip("Image pixels shown across the canvas (its shorter side) when zoomed on a suspect")
        self.zoom_px.valueChanged.connect(weak_slot(self, "_zoom_size_changed", pass_args=True))
        zoom.addWidget(self.zoom_px)
        zoom.addStretch(1)
        layout.addLayout(zoom)

        self.table = QTableView()
        self.table.setModel(SuspectTableModel())
        self.table.horizontalHeader().setResizeContentsPrecision(200)  # column widths: 200 rows
        self.table.verticalHeader().setDefaultSectionSize(18)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setMinimumHeight(110)
        self.table.clicked.connect(weak_slot(self, "_on_cell_clicked", pass_args=True))
        layout.addWidget(self.table, 1)

        self.buttons: dict[str, QPushButton] = {}
        for row in (("previous_suspect", "next_suspect", "accept_and_next"),
                    ("far_leg", "delete_selected", "undo")):
            line = QHBoxLayout()
            for action in row:
                b = QPushButton()
                b.clicked.connect(weak_slot(self, BUTTON_SLOTS[action]))
                self.buttons[action] = b
                line.addWidget(b)
            layout.addLayout(line)

        place = QHBoxLayout()
        place.setSpacing(2)
        place.addWidget(QLabel("place"))
        self.picker = QHBoxLayout()
        self.picker.setSpacing(2)
        place.addLayout(self.picker, 1)
        layout.addLayout(place)
        self.part_buttons: dict[str, QPushButton] = {}

        self.inset = QLabel()
        self.inset.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.inset.setFixedHeight(INSET_HEIGHT_PX)
        self.inset.setMinimumWidth(1)  # the picture never widens the dock
        self.inset.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.inset.setVisible(False)
        self.inset.setToolTip("The other view at the same moment, around the same body part")
        layout.addWidget(self.inset)

        out = QHBoxLayout()
        self.save_button = QPushButton("Save")
        self.save_button.setToolTip("Save refined/<predictions>.h5/.csv beside the predictions, the corrections "
                                    "list and the review ticks (corrections saved meanwhile by another window "
                                    "are merged in)")
        self.save_button.clicked.connect(weak_slot(self, "save"))
        self.export_button = QPushButton("Export DLC labels…")
        self.export_button.clicked.connect(weak_slot(self, "_export_dialog"))
        out.addWidget(self.save_button)
        out.addWidget(self.export_button)
        layout.addLayout(out)
        self.status = wrapping_label()
        layout.addWidget(self.status)
        self.help = QLabel("")
        self.help.setWordWrap(True)
        layout.addWidget(self.help)

    def _update_help(self) -> None:
        """Button texts and the help line name the keys in force (they can be rebound)."""
        k = key_label
        texts = {"previous_suspect": f"◀ prev ({k('previous_suspect')})",
                 "next_suspect": f"next ({k('next_suspect')}) ▶",
                 "accept_and_next": f"✓ ok ({k('accept_and_next')})",
                 "far_leg": f"far leg ({k('far_leg')})",
                 "delete_selected": "→ missing (Del)",
                 "undo": f"undo ({k('undo')})"}
        for action, b in self.buttons.items():
            b.setText(texts[action])
            b.setToolTip(ACTIONS[action].description if action in ACTIONS else
                         "Make the selected point missing (napari's Delete key)")
        self.help.setText(
            f"<b>Keys</b>: {k('next_suspect')} / {k('previous_suspect')} next / previous · "
            f"{k('accept_and_next')} reviewed · {k('far_leg')} far leg → near leg ({k('far_leg_frame')}: "
            f"the frame's whole leg) · drag to move · Del missing · {k('toggle_zoom')} zoom · {k('undo')} undo")

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

    def hideEvent(self, event):  # noqa: N802 (Qt API)
        self.flush_autosave()  # the dock is closed (or another tab raised): nothing waits
        super().hideEvent(event)

    def start(self, layers: list | None = None) -> None:
        """Start QA on the keypoints layers of one trial (default: the first trial loaded)."""
        install_close_guard(self)
        try:
            self._start(layers)
        except GaitintError as err:
            self._notify(str(err), error=True)
        else:
            collect_garbage()

    def _start(self, layers):
        self.flush_autosave()  # the edits of the session before
        if self.sessions:  # started again: keep nothing half-done
            if self.dirty and not self.confirm("Restart QA? Unsaved corrections stay in the autosave only."):
                return
            for s in self.sessions.values():
                for lay in (s.layer, s.far_layer):
                    if lay is not None and lay.name in self.viewer.layers:
                        self.viewer.layers.remove(lay.name)
                s.source_layer.visible = True
            self.sessions, self._history, self._redo_history = {}, [], []
        layers = layers if layers is not None else keypoint_layers(self.viewer, raw=True)
        if not layers:
            raise GaitintError("no keypoints layer: load a trial pair (or a DLC file) first")
        trial = layer_info(layers[0]).trial or ""
        layers = [lay for lay in layers if (layer_info(lay).trial or "") == trial][:2]
        self.trial = trial
        poses, checked, file_name = {}, {}, {}
        for lay in layers:
            view = str(layer_info(lay).view or lay.name)
            poses[view] = (lay, _layer_pose(lay))
            # the checks run on role names (Neck, LHeel... -> neck, heel); the table and the
            # edits use the file's own names
            side = side_of_view(view, layer_info(lay).side)
            roles = with_role_names(poses[view][1], side=side)
            same_columns = len(roles.bodyparts) == len(poses[view][1].bodyparts)
            checked[view] = roles if same_columns else poses[view][1]
            file_name[view] = dict(roles.meta["bodypart_names"]) if same_columns else {}
        views = list(poses)
        suspects = []
        flags, mapped = {}, {}
        cfg = core_config.CleanConfig(filter="none", max_gap_frames=0,
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
        self._parts, self._far_parts = {}, {}
        for v, f, b, k in self.suspects[["view", "frame", "bodypart", "kinds"]].itertuples(index=False):
            self._parts.setdefault((str(v), int(f)), []).append(str(b))  # best score first
            if "wrong_limb" in str(k) or "other_view" in str(k):  # judged to lie on the far leg
                self._far_parts.setdefault((str(v), int(f)), []).append(str(b))
        self._all_frames = core_qa.suspect_frames(self.suspects)
        self.review = core_qa.ReviewState(self._select_frames())
        for v in views:
            lay, pose = poses[v]
            far = None
            if v in mapped:
                names = [b for b in LEG_CHAIN if b in mapped[v].bodyparts and file_name[v].get(b, b) in pose.bodyparts]
                far = mapped[v].select(names)
                far.bodyparts = tuple(file_name[v].get(b, b) for b in names)
            editor = core_corrections.PoseEditor(pose, far=far, flags=flags[v], view=v,
                                         margin_px=core_clean.margin_px_for(checked[v], cfg))
            self.sessions[v] = ViewSession(v, lay, pose, editor)
        self._resume_saved()
        self._offer_recovery()
        for v in views:
            self._make_layers(self.sessions[v])
        self._fill_table()
        self._update_counter()
        self._make_picker()
        if self.sessions:
            self.viewer.layers.selection.active = next(iter(self.sessions.values())).layer

    def _select_frames(self) -> pd.DataFrame:
        which = self.filter_box.currentData() or "all"
        if which == "all":
            return self._all_frames
        return core_qa.suspect_frames(core_qa.select_suspects(self.suspects, which))

    def _filter_changed(self, _index: int = 0) -> None:
        if self.review is None or self.suspects is None:
            return
        self.review = self.review.with_frames(self._select_frames())
        self._fill_table()
        self._update_counter()
        if 0 <= self.review.position < self.review.n:
            self.table.selectRow(self.review.position)

    def _resume_saved(self) -> None:
        """Start each view from its saved refined file and review ticks, and say so."""
        said = []
        for s in self.sessions.values():
            try:
                saved = core_corrections.load_saved_corrections(s.pose)
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
        found = [s for s in self.sessions.values() if s.pose.source and core_corrections.has_autosave(s.pose.source)]
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
            n = core_corrections.recover_edits(s.editor, review=self.review)
            self._history += [(next_stamp(), s.view) for _ in range(len(s.editor._undo))]
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
        set_layer_info(s.layer, {**copy_info(s.source_layer, drop=("pose",)), "kind": QA, "view": s.view, "pose": None})
        s.source_layer.visible = False
        fdata, fkw = self._far_kwargs(s)
        s.far_layer = self.viewer.add_points(fdata, name=f"{self.trial} {s.view} far leg".strip(), affine=affine, **fkw)
        set_layer_info(s.far_layer, {"kind": FAR_LEG, "view": s.view, "trial": self.trial})
        self.viewer.layers.selection.active = s.layer
        s.layer.mode = "select"
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

    def _render(self, s: ViewSession, *, select: tuple[int, str] | None = None) -> None:
        """Redraw a view's QA and far-leg layers from its editor; ``select`` a (frame, part)."""
        self._updating = True
        try:
            data, kw = self._points_kwargs(s)
            s.layer.selected_data = set()
            set_points(s.layer, data, features=kw["features"], face_color=kw["face_color"],
                       border_color=kw["border_color"])
            fdata, fkw = self._far_kwargs(s)
            set_points(s.far_layer, fdata, **({"features": fkw["features"]} if len(fdata) else {}))
            if select is not None:
                i = self._index_of(s, *select)
                if i is not None:
                    s.layer.selected_data = {i}
        finally:
            self._updating = False

    @staticmethod
    def _index_of(s: ViewSession, frame: int, part: str) -> int | None:
        """Row of the point ``part`` in ``frame`` in the view's QA layer (None if missing)."""
        data = np.asarray(s.layer.data)
        if not len(data):
            return None
        hit = np.flatnonzero((np.rint(data[:, 0]).astype(int) == int(frame))
                             & (s.layer.features["label"].astype(str).to_numpy() == part))
        return int(hit[0]) if hit.size else None

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
        pose = s.editor.pose
        if action == "removing":
            s.pending_remove = [self._point_key(s, i) for i in idx]
        elif action == "removed":
            ops = [{"op": "delete", "frame": f, "bodypart": b} for f, b in s.pending_remove
                   if b in pose.bodyparts and np.isfinite(pose.bodypart(b)[s.editor.row(f), :2]).all()]
            s.pending_remove = []
            self._edit(s, ops, f"{s.view}: {', '.join(o['bodypart'] for o in ops)} made missing")
        elif action == "changed":
            ops = []
            for i in idx:
                if i >= len(s.layer.data):
                    continue
                frame, label = self._point_key(s, i)
                if label in pose.bodyparts:
                    y, x = (float(v) for v in np.asarray(s.layer.data[i])[-2:])
                    ops.append({"op": "move", "frame": frame, "bodypart": label, "x": x, "y": y})
            self._recolor(s, idx)
            self._edit(s, ops, "", render=False)
        elif action == "added":
            # a click in add mode (armed by W or the body-part picker): the part goes there,
            # moved if it was placed already - one action either way
            ops = []
            for i in idx:
                frame, label = self._point_key(s, i)
                if label in pose.bodyparts:
                    y, x = (float(v) for v in np.asarray(s.layer.data[i])[-2:])
                    ops.append({"op": "move", "frame": frame, "bodypart": label, "x": x, "y": y})
            self._placing = None
            QTimer.singleShot(0, weak_slot(self, "_after_place", s))
            last = (ops[-1]["frame"], ops[-1]["bodypart"]) if ops else None
            self._edit(s, ops, f"{s.view}: {', '.join(o['bodypart'] for o in ops)} placed", render=False,
                       select=last)

    def _after_place(self, s: ViewSession) -> None:
        s.layer.mode = "select"
        frame = self._current_frame()
        placed = [b for (f, b) in [self._last_edit(s)] if f == frame] if s.editor.can_undo else []
        self._render(s, select=(frame, placed[0]) if placed else None)
        self._update_picker()

    @staticmethod
    def _last_edit(s: ViewSession) -> tuple[int, str]:
        op = s.editor.ops[-1] if s.editor.ops else {}
        if op.get("op") == "batch":
            op = op["ops"][-1]
        return int(op.get("frame", -1)), str(op.get("bodypart", ""))

    def _edit(self, s: ViewSession, ops: list[dict], message: str, *, render: bool = True,
              select: tuple[int, str] | None = None) -> None:
        """Apply layer edits to the view's editor as ONE undoable action."""
        if not ops:
            return
        s.editor.batch(ops)
        self._history.append((next_stamp(), s.view))
        self._redo_history = []
        if render:
            self._render(s, select=select)
        self._after_edit(s)
        if message:
            self._notify(message)

    def _recolor(self, s: ViewSession, indices) -> None:
        """Mark moved points as manual in the layer features and colours (no data reset)."""
        self._updating = True
        try:
            feats = s.layer.features.copy()
            for i in indices:
                if i < len(feats):
                    feats.loc[feats.index[i], "flags"] = int(feats["flags"].iloc[i]) | core_clean_flags.FLAG_MANUAL
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
        self._update_picker()

    # ------------------------------------------------------------------------------------
    # seeing: zoom on the suspect, the other view, the body-part picker
    # ------------------------------------------------------------------------------------
    def toggle_zoom(self) -> None:
        """Zoom on the suspect, or back to both views (the zoom box follows)."""
        self.zoom_box.setChecked(not self.zoom_box.isChecked())

    @property
    def zoom_crop_px(self) -> float:
        """Image pixels shown across the canvas's shorter side when zoomed on a suspect."""
        return float(self.zoom_px.value())

    @zoom_crop_px.setter
    def zoom_crop_px(self, value: float) -> None:
        self.zoom_px.setValue(int(round(value)))

    def _zoom_size_changed(self, _value: int = 0) -> None:
        s = self._active_session()
        if self.zoom_box.isChecked() and s is not None and self.review is not None:
            self._zoom_on(s)

    def _zoom_toggled(self, on: bool) -> None:
        s = self._active_session()
        if on and s is not None:
            self._zoom_on(s)
        else:
            self.inset.setVisible(False)
            self.viewer.reset_view()

    def _zoom_on(self, s: ViewSession) -> bool:
        """Centre the canvas on the selected point (else the view's hip) at ``zoom_crop_px``;
        False if there is no point to centre on (nothing changed)."""
        frame = self._current_frame()
        keys = self._selected(s)
        point = None
        for f, part in keys or [(frame, p) for p in ("hip", "knee", *s.editor.pose.bodyparts)]:
            i = self._index_of(s, f, part)
            if i is not None:
                point = np.asarray(s.layer.data[i], float)
                break
        if point is None:
            return False
        world = np.asarray(s.layer.data_to_world(point), float)
        camera = self.viewer.scene.camera
        camera.center = (float(world[-2]), float(world[-1]))
        win = self.window()  # napari's main window once docked; its centre is the canvas
        canvas = win.centralWidget() if win is not self and hasattr(win, "centralWidget") else None
        short_px = min(canvas.width(), canvas.height()) if canvas is not None else 600
        camera.zoom = max(short_px, 100) / float(self.zoom_crop_px)
        self._update_inset(s.view, frame)
        return True

    def _update_inset(self, view: str, frame: int) -> None:
        """The other view at the same moment, around the same body part, below the table."""
        other = next((o for v, o in self.sessions.items() if v != view), None)
        if other is None or not self.zoom_box.isChecked():
            self.inset.setVisible(False)
            return
        s = self.sessions[view]
        keys = self._selected(s)
        part = keys[0][1] if keys else "hip"
        image = inset_image(self.viewer, other, frame, part, crop_px=self.zoom_crop_px * 1.5,
                            height_px=INSET_HEIGHT_PX, width_px=INSET_WIDTH_PX, trial=self.trial)
        if image is None:
            self.inset.setVisible(False)
            return
        h, w = image.shape[:2]
        qimg = QImage(image.tobytes(), w, h, 3 * w, QImage.Format.Format_RGB888)
        self.inset.setPixmap(QPixmap.fromImage(qimg))
        self.inset.setToolTip(f"{other.view} at frame {frame}, around its {part}")
        self.inset.setVisible(True)

    def _on_step(self, event=None) -> None:
        if not self.sessions or self._showing:  # a suspect shown: _show updates them once, after
            return
        self._update_picker()
        if self.inset.isVisible():
            s = self._active_session()
            if s is not None:
                self._update_inset(s.view, self._current_frame())

    def _make_picker(self) -> None:
        while self.picker.count():
            item = self.picker.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.part_buttons = {}
        s = next(iter(self.sessions.values()), None)
        if s is None:
            return
        for part in s.editor.pose.bodyparts:
            b = QPushButton(part)
            b.setToolTip(f"Place (or move) the {part} of the current frame with one click "
                         "(red: missing in this frame; pressed: the next click places it)")
            b.setCheckable(True)
            b.setMinimumWidth(10)
            b.setStyleSheet("padding: 1px 3px;")
            b.clicked.connect(weak_slot(self, "place", part))
            self.picker.addWidget(b)
            self.part_buttons[part] = b
        forward_keys(self)  # the new buttons pass our keys on too
        self._update_picker()

    def _update_picker(self) -> None:
        """Mark the parts missing in the current frame of the active view (to place)."""
        s = self._active_session()
        if s is None or not self.part_buttons:
            return
        row = s.editor.row(self._current_frame()) if self._current_frame() in set(s.editor.pose.frames) else None
        for part, b in self.part_buttons.items():
            missing = row is not None and part in s.editor.pose.bodyparts and not np.isfinite(
                s.editor.pose.bodypart(part)[row, :2]).all()
            # the state in colour and the pressed look, not in the text: the row keeps its width
            b.setChecked(self._placing == (s.view, part))
            style = "padding: 1px 3px;" + (" color: #ff6060; font-weight: bold;" if missing else "")
            if b.styleSheet() != style:  # a new style sheet re-polishes and repaints the button
                b.setStyleSheet(style)

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
            box.setText("There are unsaved label corrections. Save them in refined/?")
            box.setStandardButtons(QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                                   | QMessageBox.StandardButton.Cancel)
            res = box.exec()
            answer = {QMessageBox.StandardButton.Save: "save", QMessageBox.StandardButton.Discard: "discard"}.get(
                QMessageBox.StandardButton(res), "cancel")
        if answer == "save":
            self.save()
            return not self.dirty
        if answer == "discard":
            self._autosave.cancel()
            for s in self.sessions.values():
                s.editor.mark_saved()
                if s.pose.source is not None:
                    core_edits.discard_autosave(s.pose.source)
            if self.review is not None:
                self.review.mark_saved()
            return True
        return False

    def _fill_table(self) -> None:
        self.table.model().set_review(self.review)
        self.table.resizeColumnsToContents()
        header = self.table.horizontalHeader()
        header.resizeSection(3, min(header.sectionSize(3), PARTS_COLUMN_PX))
        # the reasons take the room left (elided, full text in the tooltip); the rest fit
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)

    def _update_counter(self) -> None:
        if self.review is None:
            return
        n_manual = sum(int(s.editor.manual.sum()) for s in self.sessions.values())
        unsaved = " · unsaved edits" if self.dirty else ""
        which = self.filter_box.currentData() or "all"
        shown = "" if which == "all" else f" ({FILTER_LABELS.get(which, which)})"
        self.counter.setText(f"{self.review.counter_text()}{shown} · {n_manual} points corrected{unsaved}")

    def _notify(self, text: str, *, error: bool = False) -> None:
        """A message in the dock and napari's status bar; a problem also pops up."""
        self.status.setText(text)
        style = "color: #ff9040;" if error else ""
        if self.status.styleSheet() != style:  # a new style sheet re-polishes the label
            self.status.setStyleSheet(style)
        show_message(self.viewer, text, error=error)
