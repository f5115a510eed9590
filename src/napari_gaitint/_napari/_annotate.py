"""Gait-event annotation dock: keys, the timeline, ``<trial>_events.csv``, autosave.

A thin skin over :class:`napari_gaitint.core.annotations.EventEditor`. It takes the events of
the trial loaded in the viewer (the layers of "Detect gait events", the saved
``<trial>_events.csv``, or runs the detector), shows them on BOTH views (an ``<trial> <view>
events (edit)`` layer per view: a heel strike at that foot's heel, a toe off at its toe -
the camera-facing foot where the camera sees it, the far foot estimated from the other
camera where it does not; text ``HS L``/``TO R``; detected events are diamonds, manual ones
stars) and on a timeline plot (one signal per side, a line per event: solid detected, dashed
manual; a black line at the current frame; click to jump; it folds away).

Keys (napari actions, rebindable in Preferences > Shortcuts; see :mod:`._keys`): ``H`` heel
strike, ``T`` toe off, ``D`` delete the event at (within 3 frames of) the current frame,
``,``/``.`` move it one frame, ``[``/``]`` previous / next event, ``L``/``R`` side,
``Ctrl+Z``/``Ctrl+Shift+Z`` undo / redo. Deleting a marker with napari's own tools deletes
its event. Edits are autosaved next to the events file (half a second after the last one, at
once when the window closes or another trial is opened); Save writes
``<trial>_events.csv`` (merging what another window saved meanwhile); re-running detection
keeps manual edits unless the user says otherwise; "Recompute cycles" cuts cycles from the
edited events.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from qtpy.QtCore import Qt, QTimer
from qtpy.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..core import annotations as ann
from ..core import edits as core_edits
from ..core._files import file_sha256
from ..core.errors import GaitintError
from ..core.pose import Pose, side_of_view, with_role_names
from . import _convert
from ._keys import key_label, next_stamp, register_dock
from ._layers import layer_pose, set_points
from ._meta import EVENTS, EVENTS_EDIT, keypoint_layers, layer_info, set_layer_info
from ._qt import (
    CloseGuard,
    DebouncedCall,
    collect_garbage,
    install_close_guard,
    show_message,
    weak_slot,
    wrapping_label,
)

if TYPE_CHECKING:
    import napari


class EventAnnotator(QWidget):
    """Dock widget: annotate heel strikes and toe offs of the trial loaded in the viewer."""

    DOCK = "events"
    #: Test hooks: callables answering the questions instead of message boxes.
    close_prompt = None
    confirm_prompt = None

    def __init__(self, napari_viewer: napari.viewer.Viewer):
        super().__init__()
        self.viewer = napari_viewer
        self.views: dict[str, tuple[object, Pose]] = {}
        self.side_views: dict[str, str] = {}
        self.layers: dict[str, object] = {}
        self.trial = ""
        self.editor = ann.EventEditor()
        self._other_trials = ann.empty_events()
        self.path: Path | None = None
        self._loaded_from: Path | None = None
        self._base = ann.empty_events()  # this trial's rows in the file when read (merge base)
        self._loaded_sha: str | None = None
        self.dirty = False
        self.cycles: pd.DataFrame | None = None
        self._signals: dict[str, np.ndarray] = {}
        self._mapped: dict[str, Pose | None] = {}  # the other camera's points in each view's image
        self._marker_cache: dict[tuple[str, str], tuple] = {}  # see _side_markers
        self._event_artists: list = []
        self._pending: list[int] = []
        self._undo_stamps: list[int] = []
        self._redo_stamps: list[int] = []
        self._updating = False
        self.last_message = ""

        self.setLayout(QVBoxLayout())
        row = QHBoxLayout()
        self.start_button = QPushButton("Start")
        self.start_button.setToolTip("Take the events of the trial in the viewer (saved, detected or detect now)")
        self.start_button.clicked.connect(weak_slot(self, "start"))
        self.side_box = QComboBox()
        self.side_box.addItems(list(ann.SIDES))
        self.save_button = QPushButton("Save")
        self.save_button.setToolTip("Save the events to <trial>_events.csv next to the predictions "
                                    "(edits saved meanwhile by another window are merged in)")
        self.save_button.clicked.connect(weak_slot(self, "_save_default"))
        row.addWidget(self.start_button)
        row.addWidget(QLabel("side"))
        row.addWidget(self.side_box)
        row.addWidget(self.save_button)
        self.layout().addLayout(row)
        for pair in ((("Save as…", "_save_clicked", "Save the events to another file"),
                      ("Load…", "_load_dialog", "Load an events .csv")),
                     (("Re-detect", "redetect", "Run the detector again; manual edits are kept unless you say otherwise"),
                      ("Cycles", "recompute_cycles", "Recompute the gait cycles (HS to HS) from the edited events"))):
            line = QHBoxLayout()
            for text, slot, tip in pair:
                b = QPushButton(text)
                b.setToolTip(tip)
                b.clicked.connect(weak_slot(self, slot))
                line.addWidget(b)
            self.layout().addLayout(line)
        # fixed heights: a message of another length must not resize the timeline below
        self.status = wrapping_label(lines=3)
        self.layout().addWidget(self.status)
        self.message = wrapping_label(lines=3)
        self.layout().addWidget(self.message)
        self.help = QLabel("")
        self.help.setWordWrap(True)
        self.layout().addWidget(self.help)
        self.timeline_toggle = QToolButton()
        self.timeline_toggle.setText("▾ timeline")
        self.timeline_toggle.setCheckable(True)
        self.timeline_toggle.setChecked(True)
        self.timeline_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.timeline_toggle.toggled.connect(weak_slot(self, "show_timeline", pass_args=True))
        self.layout().addWidget(self.timeline_toggle)
        self._make_timeline()
        self._guard = CloseGuard(self)
        self._guarded = None
        self._autosave = DebouncedCall(self, "_write_autosave")
        napari_viewer.dims.events.current_step.connect(self._on_step)
        register_dock(self)  # our keys, also when this dock has the focus
        self._update_help()

    # ------------------------------------------------------------------------------------
    # set-up
    # ------------------------------------------------------------------------------------
    @property
    def side(self) -> str:
        return self.side_box.currentText()

    @property
    def events(self) -> pd.DataFrame:
        """This trial's events (the editor's table)."""
        return self.editor.events

    @events.setter
    def events(self, value: pd.DataFrame) -> None:
        self.editor.events = ann.sort_events(value)

    @property
    def rejected(self) -> pd.DataFrame:
        return self.editor.rejected

    @rejected.setter
    def rejected(self, value: pd.DataFrame) -> None:
        self.editor.rejected = ann.sort_events(value)

    def showEvent(self, event):  # noqa: N802 (Qt API)
        install_close_guard(self)
        super().showEvent(event)

    def hideEvent(self, event):  # noqa: N802 (Qt API)
        self.flush_autosave()  # the dock is closed (or another tab raised): nothing waits
        super().hideEvent(event)

    def start(self, *, path: str | Path | None = None) -> None:
        """Collect the trial's views and events (saved file, events layers, or detection) and show them."""
        install_close_guard(self)
        try:
            self._start(path)
        except GaitintError as err:
            self._notify(str(err), error=True)
        else:
            collect_garbage()

    def _start(self, path):
        self.flush_autosave()  # the edits of what was open before
        layers = keypoint_layers(self.viewer, raw=True)
        if not layers:
            raise GaitintError("no keypoints layer: load a trial pair first")
        self.trial = str(layer_info(layers[0]).trial or "")
        layers = [lay for lay in layers if str(layer_info(lay).trial or "") == self.trial][:2]
        self.views = {}
        self.side_views = {}
        for lay in layers:
            view = str(layer_info(lay).view or lay.name)
            side = side_of_view(view, layer_info(lay).side)
            if side is None:  # not C1/C3 and no side given: the side not taken yet
                side = next((s for s in ("left", "right") if s not in self.side_views), "left")
            # events and cycles work on roles: the file's Neck, LHeel... -> neck, heel
            pose = with_role_names(layer_pose(lay, edits=False), side=side)
            self.views[view] = (lay, pose)
            self.side_views[side] = view
        self.editor = ann.EventEditor(trial=self.trial, fps=self.fps, n_frames=self.n_frames)
        self._undo_stamps, self._redo_stamps = [], []
        self._mapped = self._map_views()
        self._marker_cache = {}
        self._signals = {}
        first = next(iter(self.views.values()))[1]
        if self.path is None:
            folder = Path(first.source).parent if first.source else Path.cwd()
            self.path = folder / f"{self.trial or 'trial'}_events.csv"
        if path is not None:
            self.load(path)
        else:
            found = self._events_from_layers()
            covered = set() if found is None else set(found["view"].astype(str))
            missing = [v for v in self.side_views.values() if v not in covered]
            if missing:  # views without a Detect-events layer: detect with the default method
                parts = [f for f in (found, self._detect(missing)) if f is not None and len(f)]
                found = ann.sort_events(pd.concat(parts, ignore_index=True)) if parts else ann.empty_events()
            found, n_merged = ann.merge_duplicate_events(found)
            self.events = found
            self.rejected = ann.empty_events()
            self._base, self._loaded_sha, self._loaded_from = ann.empty_events(), None, None
            if n_merged:
                self._notify(f"merged {n_merged} duplicate detections (same side and kind within "
                             f"{ann.DUPLICATE_WINDOW_FRAMES:g} frames)")
            if self.path.is_file():  # resume from what was saved
                detected = self.events
                self.load(self.path)
                if not len(self.events) and len(detected):  # the file has no rows of this trial yet
                    self.events = detected
                else:
                    self._notify(f"resumed {self._summary()} from {self.path.name}")
            recovered = ann.recover_events(self.path)
            if recovered is not None and self.confirm(
                f"Unsaved event edits of {self.path.name} were autosaved. Recover them?"
            ):
                events, self.rejected = recovered
                mine = (events["trial"] == self.trial) | (events["trial"] == "")
                self.events = ann.sort_events(events[mine])
                self.dirty = True
        self._make_layers()
        self._draw_timeline()
        self._refresh()

    def _summary(self) -> str:
        n_manual = int((self.events["source"] == "manual").sum())
        return f"{len(self.events)} events ({n_manual} manual, {len(self.rejected)} rejected detections)"

    def _map_views(self) -> dict[str, Pose | None]:
        """Each view's image gets the other camera's points (its far leg): markers of the other
        side's events are drawn there, on the right foot."""
        from ..core import qa as core_qa

        out: dict[str, Pose | None] = {}
        for view, (_lay, pose) in self.views.items():
            other = next((p for v, (_l, p) in self.views.items() if v != view), None)
            out[view] = None
            if other is None:
                continue
            try:
                out[view] = core_qa.map_other_view(pose, other)[0]
            except (GaitintError, ValueError) as err:
                self._notify(f"{view}: the other side's events are not drawn there ({err})")
        return out

    @property
    def fps(self) -> float | None:
        for _, pose in self.views.values():
            if pose.fps:
                return pose.fps
        return None

    @property
    def n_frames(self) -> int:
        return max((p.n_frames for _, p in self.views.values()), default=0)

    def _events_from_layers(self) -> pd.DataFrame | None:
        parts = []
        for lay in self.viewer.layers:
            info = layer_info(lay)
            if info.kind != EVENTS or str(info.trial or "") != self.trial:
                continue
            ev = info.get("events")
            if isinstance(ev, pd.DataFrame) and len(ev):
                parts.append(ann.normalize_events(ev, trial=self.trial, view=str(info.view or ""),
                                                  fps=self.fps, side_views=self.side_views))
        if not parts:
            return None
        return ann.sort_events(pd.concat(parts, ignore_index=True).drop_duplicates(
            subset=["trial", "side", "event", "frame"]))

    def _detect(self, views=None) -> pd.DataFrame:
        from ..core.chain import analyze_pair, analyze_view
        from ..core.errors import AnalysisError

        wanted = {side: view for side, view in self.side_views.items() if views is None or view in views}
        for view in wanted.values():
            if self.views[view][1].frame_size is None:
                raise GaitintError(f"{view}: video frame size unknown; load the trial with its manifest or video")
        found = {}
        usable = {s: self.views[v][1] for s, v in self.side_views.items() if self.views[v][1].frame_size}
        cleaned = {s: layer_info(self.views[v][0]).cleaned for s, v in self.side_views.items()}
        flags = {s: _convert.points_to_flags(self.views[v][0].data, self.views[v][0].features, side=s,
                                             template=layer_pose(self.views[v][0], edits=False))
                 if cleaned[s] else None for s, v in self.side_views.items()}
        if len(usable) == 2 and wanted:  # a trial pair: both legs together, as gait analysis does
            try:
                found = {r.side: r.events for r in analyze_pair(
                    tuple(usable.values()), sides=tuple(usable), flags=tuple(flags[s] for s in usable),
                    cleaned=tuple(cleaned[s] for s in usable))}
            except AnalysisError:  # one leg cannot be detected: each requested leg alone
                found = {}
        parts = []
        for side, view in wanted.items():
            pose = self.views[view][1]
            ev = found[side] if side in found else analyze_view(
                pose, side=side, flags=flags[side], cleaned=cleaned[side]).events
            parts.append(ann.normalize_events(ev, trial=self.trial, view=view, fps=pose.fps))
        return ann.sort_events(pd.concat(parts, ignore_index=True)) if parts else ann.empty_events()

    # ------------------------------------------------------------------------------------
    # layers and timeline
    # ------------------------------------------------------------------------------------
    def _make_layers(self) -> None:
        # the Detect-events layers of this trial are taken over (their events are in the
        # table): hide them so each event is drawn once, by the editable layers
        for other in self.viewer.layers:
            info = layer_info(other)
            if info.kind == EVENTS and str(info.trial or "") == self.trial:
                other.visible = False
        for view, (lay, _pose) in self.views.items():
            name = f"{self.trial} {view} events (edit)".strip()
            if name in self.viewer.layers:
                self.viewer.layers.remove(name)
            data, kw = self._layer_kwargs(view)
            layer = self.viewer.add_points(data, name=name, affine=np.asarray(lay.affine.affine_matrix), **kw)
            set_layer_info(layer, {"kind": EVENTS_EDIT, "trial": self.trial, "view": view})
            layer.events.data.connect(weak_slot(self, "_on_layer_data", view, pass_args=True))
            self.layers[view] = layer
        if self.layers:
            self.viewer.layers.selection.active = next(iter(self.layers.values()))

    def _markers(self, view: str) -> tuple[np.ndarray, pd.DataFrame]:
        """Marker points of every event in ``view``'s image, each on its own foot."""
        own = self.views[view][1]
        own_side = next((s for s, v in self.side_views.items() if v == view), None)
        rows, feats = [], []
        for side in ann.SIDES:
            pose = own if side == own_side else self._mapped.get(view)
            mask = (self.events["side"] == side).to_numpy()
            if pose is None or not mask.any():
                continue
            d, f = self._side_markers(view, side, pose, self.events[mask])
            if len(d):
                f["row"] = np.flatnonzero(mask)[f["row"].to_numpy(int)]
                f["source"] = self.events["source"].to_numpy()[f["row"].to_numpy(int)]
                f["foot"] = "near" if side == own_side else "far"
                rows.append(d)
                feats.append(f)
        if not rows:
            return np.empty((0, 3)), pd.DataFrame(
                columns=["event", "side", "frame_exact", "label", "text", "row", "source", "foot"])
        return np.vstack(rows), pd.concat(feats, ignore_index=True)

    def _side_markers(self, view: str, side: str, pose: Pose, events: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
        """:func:`._convert.events_to_points` of one side's events in ``view``, kept while that
        side's events stay the same (an edit changes one side: the other is not placed again)."""
        key = tuple(zip(events["event"], events["frame"], strict=True))
        hit = self._marker_cache.get((view, side))
        if hit is None or hit[0] != key or hit[1] is not pose:
            hit = (key, pose, *_convert.events_to_points(events, pose))
            self._marker_cache[(view, side)] = hit
        return hit[2], hit[3].copy()

    def _layer_kwargs(self, view: str) -> tuple[np.ndarray, dict]:
        data, feats = self._markers(view)
        src = feats["source"].to_numpy()
        n = len(feats)
        symbols = np.where(src == "manual", "star", "diamond") if n else "diamond"
        border = np.array([(1.0, 0.9, 0.0, 1.0) if s == "manual" else (1.0, 1.0, 1.0, 1.0) for s in src]).reshape(-1, 4)
        kw = {
            "features": feats,
            "face_color": _convert.event_colors(feats) if n else "red",
            "border_color": border if n else "white",
            "symbol": symbols,
            "size": 22,
            "text": {"string": "{text}", "color": "white", "size": 11, "anchor": "upper_left",
                     "translation": [0, -14, 0]},
        }
        return data, kw

    def _render_layers(self) -> None:
        self._updating = True
        try:
            for view, layer in self.layers.items():
                data, kw = self._layer_kwargs(view)
                layer.selected_data = set()
                props = {"features": kw["features"]}
                if len(data):
                    props.update(face_color=kw["face_color"], border_color=kw["border_color"], symbol=kw["symbol"])
                set_points(layer, data, **props)  # the text follows the features
        finally:
            self._updating = False

    def _on_layer_data(self, view: str, event) -> None:
        """Markers deleted with napari's own tools delete their events; markers added or dragged
        by hand are put back (events are added with H / T and moved with , / .)."""
        if self._updating:
            return
        action = str(getattr(event, "action", "")).split(".")[-1].lower()
        layer = self.layers.get(view)
        idx = [int(i) for i in (getattr(event, "data_indices", ()) or ())]
        if action == "removing" and layer is not None:
            rows = layer.features["row"].to_numpy()
            self._pending = [int(rows[i]) for i in idx if i < len(rows)]
        elif action == "removed":
            pending, self._pending = self._pending, []
            result = self.editor.remove_rows(pending)
            QTimer.singleShot(0, weak_slot(self, "_apply", result))
        elif action in ("added", "changed"):
            QTimer.singleShot(0, weak_slot(self, "_refresh"))
            self._notify(f"add events with {key_label('add_heel_strike')} / {key_label('add_toe_off')} and "
                         f"move them with {key_label('nudge_back')} / {key_label('nudge_forward')}")

    def _make_timeline(self) -> None:
        from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
        from matplotlib.figure import Figure

        self.figure = Figure(figsize=(3.2, 1.8), tight_layout=True)  # its size is the dock's width hint
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setMinimumHeight(110)
        self.canvas.setMinimumWidth(120)
        self.canvas.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.ax = self.figure.add_subplot(111)
        self._background = None
        self.canvas.mpl_connect("button_press_event", self._on_click)
        self.canvas.mpl_connect("draw_event", self._on_draw)
        self.layout().addWidget(self.canvas, 1)

    def show_timeline(self, shown: bool = True) -> None:
        """Fold the timeline away (more room for the video) or show it again."""
        self.canvas.setVisible(bool(shown))
        self.timeline_toggle.setText(("▾" if shown else "▸") + " timeline")

    def _timeline_signals(self) -> dict[str, np.ndarray]:
        """Heel x minus hip x (gait coordinates, px) per side, the classic event signal."""
        from ..core.event_signals import relative_x
        from ..core.orient import orient_pose

        out = {}
        for side, view in self.side_views.items():
            pose = self.views[view][1]
            try:
                oriented = orient_pose(pose)
                ref = "hip" if "hip" in pose.bodyparts else pose.bodyparts[0]
                out[side] = relative_x(oriented, "heel" if "heel" in pose.bodyparts else pose.bodyparts[-1], ref)
            except (GaitintError, ValueError):
                continue
        return out

    def _draw_timeline(self) -> None:
        """Draw the signals (once per trial and side change); events by :meth:`_draw_events`."""
        ax = self.ax
        ax.clear()
        self._event_artists = []
        if not self._signals:
            self._signals = self._timeline_signals()
        frames = np.arange(self.n_frames)
        colors = {"left": "tab:green", "right": "tab:purple"}
        for side, sig in self._signals.items():
            ax.plot(frames[: len(sig)], sig, lw=1.3, color=colors.get(side, "k"), label=f"{side} heel x - hip x")
        ax.set_xlim(0, max(self.n_frames - 1, 1))
        ax.set_xlabel("frame", fontsize=7)
        ax.tick_params(labelsize=7)
        ax.set_title(self._title(), fontsize=6.5)
        if self._signals:
            ax.legend(fontsize=6, loc="lower right")
        self._frame_line = ax.axvline(self._current_frame(), color="k", lw=1, animated=True)
        self._background = None
        self._draw_events()
        self.canvas.draw_idle()  # the signals (a full draw; the events are blitted on top)

    def _on_draw(self, _event=None) -> None:
        """After a full draw: keep the picture of the signals, draw the events on top."""
        self._background = self.canvas.copy_from_bbox(self.figure.bbox)
        self._draw_animated()

    def _draw_animated(self) -> None:
        for artist in (*self._event_artists, getattr(self, "_frame_line", None)):
            if artist is not None:
                self.ax.draw_artist(artist)

    def _blit(self) -> None:
        """Redraw only the events and the frame line over the kept picture of the signals
        (a full matplotlib draw took ~40-80 ms per key press)."""
        if self._background is None or not self.canvas.isVisible():
            self.canvas.draw_idle()
            return
        self.canvas.restore_region(self._background)
        self._draw_animated()
        # painted with the rest of the window at the next turn of the event loop (blit()
        # repainted at once: a second composition of the whole window, ~30 ms in software GL)
        self.canvas.update()

    def _title(self) -> str:
        # the side of the next event is the dock's side box, not part of this picture: L / R
        # would need a full matplotlib draw of the timeline (~40-60 ms) to retitle it
        return (f"{self.trial}\n"
                "top L, bottom R · red HS, blue TO · dashed: manual")

    def _draw_events(self) -> None:
        """One line per event (left side upper half, right lower; heel strike red, toe off blue;
        manual dashed), as two line collections blitted over the signals: a key press redraws
        two artists, not one line and one label per event."""
        from matplotlib.collections import LineCollection

        for artist in self._event_artists:
            artist.remove()
        self._event_artists = []
        ev = self.events
        if len(ev):
            frames = ev["frame"].to_numpy(float)
            lower = (ev["side"] != "left").to_numpy()
            segments = np.stack([np.column_stack([frames, np.where(lower, 0.0, 0.5)]),
                                 np.column_stack([frames, np.where(lower, 0.5, 1.0)])], axis=1)
            colors = [_convert.EVENT_COLORS.get(e, (0, 0, 0, 1)) for e in ev["event"]]
            manual = (ev["source"] == "manual").to_numpy()
            for mask, style in ((~manual, "solid"), (manual, "dashed")):
                if mask.any():
                    lines = LineCollection(segments[mask], colors=[c for c, m in zip(colors, mask, strict=True) if m],
                                           linestyles=style, linewidths=1.4, animated=True,
                                           transform=self.ax.get_xaxis_transform())
                    self._event_artists.append(self.ax.add_collection(lines, autolim=False))
        self._blit()

    def _on_step(self, event=None) -> None:
        line = getattr(self, "_frame_line", None)
        if line is None:
            return
        try:
            line.set_xdata([self._current_frame()] * 2)
            if self.canvas.isVisible():
                self._blit()
        except RuntimeError:  # canvas deleted
            pass

    def _on_click(self, event) -> None:
        if event.inaxes is self.ax and event.xdata is not None:
            self.viewer.dims.set_current_step(0, int(round(event.xdata)))

    def _refresh(self) -> None:
        self._render_layers()
        self._draw_events()
        counts = self.events.groupby(["side", "source"]).size().to_dict() if len(self.events) else {}
        summary = ", ".join(f"{s} {src}: {n}" for (s, src), n in sorted(counts.items()))
        unsaved = " · unsaved edits" if self.dirty else ""
        where = self.path.name if self.path else ""
        self.status.setText(f"{len(self.events)} events ({summary}) · {where}{unsaved}")
        self.status.setToolTip(self.status.text())

    def _update_help(self) -> None:
        k = key_label
        self.help.setText(
            f"<b>Keys</b>: {k('add_heel_strike')} heel strike · {k('add_toe_off')} toe off · "
            f"{k('delete_event')} delete · {k('nudge_back')} {k('nudge_forward')} move ∓1 frame · "
            f"{k('previous_event')} {k('next_event')} previous / next · {k('select_left')} {k('select_right')} "
            f"side · {k('undo')} undo · click the timeline to jump")

    # ------------------------------------------------------------------------------------
    # edits
    # ------------------------------------------------------------------------------------
    def _current_frame(self) -> int:
        return int(self.viewer.dims.current_step[0])

    def _started(self) -> bool:
        if not self.views:
            self._notify("press Start first (events of the trial in the viewer)", error=True)
            return False
        return True

    def _apply(self, result: ann.EditResult, *, undoing: str = "") -> None:
        """Show an edit's outcome: history stamps, autosave, layers, timeline, message."""
        if result.changed:
            if undoing == "undo":
                self._redo_stamps.append(self._undo_stamps.pop() if self._undo_stamps else next_stamp())
            elif undoing == "redo":
                self._undo_stamps.append(self._redo_stamps.pop() if self._redo_stamps else next_stamp())
            else:
                self._undo_stamps.append(next_stamp())
                self._redo_stamps = []
            self.dirty = True
            self._autosave.request()  # written half a second after the last edit (and on close)
            self._refresh()
        self._notify(result.message, warn=not result.changed)

    def _write_autosave(self) -> None:
        """Keep the unsaved edits next to the events file (:func:`~napari_gaitint.core.annotations.recover_events`)."""
        if self.path is None or not self.dirty:
            return
        try:
            ann.autosave_events(self.path, self._all_events(), rejected=self.rejected)
        except (OSError, GaitintError) as err:
            self._notify(f"autosave failed: {err}", error=True)

    def flush_autosave(self) -> None:
        """Write a pending autosave now (the window closes, another trial or file is opened)."""
        self._autosave.flush()

    def _add(self, event: str) -> None:
        if not self._started():
            return
        self._apply(self.editor.add(side=self.side, event=event, frame=self._current_frame(),
                                    view=self.side_views.get(self.side, "")))

    def add_heel_strike(self) -> None:
        self._add("heel_strike")

    def add_toe_off(self) -> None:
        self._add("toe_off")

    def delete_nearest(self) -> None:
        """Delete the selected side's event at the current frame (within a few frames)."""
        if self._started():
            self._apply(self.editor.delete_near(self._current_frame(), side=self.side))

    def _nudge(self, delta: int) -> None:
        if not self._started():
            return
        result = self.editor.nudge_near(self._current_frame(), delta, side=self.side)
        if result.changed:
            self.viewer.dims.set_current_step(0, int(round(result.frame)))
        self._apply(result)

    def nudge_back(self) -> None:
        self._nudge(-1)

    def nudge_forward(self) -> None:
        self._nudge(+1)

    def undo_stamp(self) -> int:
        return self._undo_stamps[-1] if self._undo_stamps and self.editor.can_undo else 0

    def redo_stamp(self) -> int:
        return self._redo_stamps[-1] if self._redo_stamps and self.editor.can_redo else 0

    def undo(self) -> None:
        """Undo the last event edit and go to its frame."""
        self._history_step("undo")

    def redo(self) -> None:
        self._history_step("redo")

    def _history_step(self, which: str) -> None:
        result = getattr(self.editor, which)()
        if result is None:
            self._notify(f"no event edit to {which}")
            return
        if result.frame is not None:
            self.viewer.dims.set_current_step(0, int(round(result.frame)))
        self._apply(result, undoing=which)

    def _jump(self, backwards: bool) -> None:
        frame = ann.next_event_frame(self.events, self._current_frame(), backwards=backwards)
        if frame is None:
            self._notify("no more events in that direction")
            return
        self.viewer.dims.set_current_step(0, int(round(frame)))

    def next_event(self) -> None:
        self._jump(False)

    def previous_event(self) -> None:
        self._jump(True)

    def select_left(self) -> None:
        self.side_box.setCurrentText("left")

    def select_right(self) -> None:
        self.side_box.setCurrentText("right")

    # ------------------------------------------------------------------------------------
    # detection, cycles
    # ------------------------------------------------------------------------------------
    def redetect(self) -> ann.MergeResult | None:
        """Run the detector again; manual edits are kept unless the user says to drop them (undoable)."""
        try:
            detected = self._detect()
        except GaitintError as err:
            self._notify(str(err), error=True)
            return None
        n_manual = int((self.events["source"] == "manual").sum())
        keep = True
        if n_manual:
            keep = self.confirm(f"Keep your {n_manual} manual event edits? (No discards them.)")
        res = ann.merge_detected_events(self.events, detected, rejected=self.rejected, keep_manual=keep)
        message = (f"re-detected: {res.n_detected} detected events, {res.n_manual_kept} manual kept"
                   + (f", {res.n_manual_dropped} manual discarded" if res.n_manual_dropped else "")
                   + (f", {res.n_detected_suppressed} detections left out (edited by hand)"
                      if res.n_detected_suppressed else ""))
        self._apply(self.editor.replace(res.events, self.rejected if keep else ann.empty_events(), message=message))
        return res

    def recompute_cycles(self) -> pd.DataFrame | None:
        """Gait cycles (HS -> HS) of each view from the edited events (core.cycles)."""
        from ..core.config import likelihood_cutoff
        from ..core.cycles import compute_cycles
        from ..core.orient import orient_pose

        parts, msgs = [], []
        for side, view in self.side_views.items():
            layer, pose = self.views[view]
            ev = self.events[self.events["side"] == side]
            try:
                cyc = compute_cycles(orient_pose(pose), ev, side=side, fps=pose.fps,
                                     min_likelihood=likelihood_cutoff(cleaned=layer_info(layer).cleaned))
            except GaitintError as err:
                msgs.append(f"{view}: {err}")
                continue
            cyc.insert(0, "view", view)
            cyc.insert(0, "trial", self.trial)
            parts.append(cyc)
            msgs.append(f"{view}: {cyc['cycle'].nunique()} cycles")
        self.cycles = pd.concat(parts, ignore_index=True) if parts else None
        self._notify("; ".join(msgs))
        return self.cycles

    # ------------------------------------------------------------------------------------
    # files
    # ------------------------------------------------------------------------------------
    def _all_events(self) -> pd.DataFrame:
        return ann.sort_events(pd.concat([self._other_trials, self.events], ignore_index=True))

    def load(self, path: str | Path) -> None:
        """Load an ``events.csv``: this trial's rows are edited, other trials' rows kept for saving."""
        path = Path(path)
        table = ann.load_events(path)
        self.flush_autosave()  # the edits of what was open before
        mine = (table["trial"] == self.trial) | (table["trial"] == "")
        self._other_trials = table[~mine]
        rej = ann.load_rejected(path)
        rej = rej[(rej["trial"] == self.trial) | (rej["trial"] == "")] if len(rej) else rej
        self.editor = ann.EventEditor(ann.sort_events(table[mine].assign(trial=self.trial)), rej,
                                      trial=self.trial, fps=self.fps, n_frames=self.n_frames)
        self._undo_stamps, self._redo_stamps = [], []
        self.path = self._loaded_from = path
        self._base, self._loaded_sha = self.events.copy(), file_sha256(path)
        self.dirty = False
        if self.layers:
            self._refresh()

    def save(self, path: str | Path | None = None) -> Path:
        """Write the events (all trials of the file) atomically; removes the autosave.

        If the file was saved by someone else since this session read it (or it appeared
        since), their additions and deletions are merged in
        (:func:`~napari_gaitint.core.annotations.merge_saved_events`): nothing is dropped.
        Saving onto another existing file asks first.
        """
        path = Path(path) if path is not None else self.path
        ours = path == self.path or path == self._loaded_from
        if path.exists() and not ours and not self.confirm(f"{path.name} exists. Replace it?"):
            raise GaitintError(f"{path}: not replaced")
        note = ""
        if path.exists() and ours and file_sha256(path) != self._loaded_sha:
            table = ann.load_events(path)
            mine = (table["trial"] == self.trial) | (table["trial"] == "")
            theirs = ann.sort_events(table[mine].assign(trial=self.trial))
            self.events, n_added, n_removed = ann.merge_saved_events(self._base, self.events, theirs)
            self._other_trials = table[~mine]  # other trials as they are now, not as first read
            rej = ann.load_rejected(path)
            self.rejected = pd.concat([self.rejected, rej[rej["trial"].isin([self.trial, ""])]],
                                      ignore_index=True).drop_duplicates()
            note = (f" (merged with edits saved meanwhile by another session: {n_added} added, "
                    f"{n_removed} deleted)")
        ann.save_events(self._all_events(), path, rejected=self.rejected, overwrite=True)
        self._autosave.cancel()  # saved: nothing to keep aside
        if self.path is not None:
            core_edits.discard_autosave(self.path)
        core_edits.discard_autosave(path)
        self.path = self._loaded_from = path
        self._base, self._loaded_sha = self.events.copy(), file_sha256(path)
        self.dirty = False
        self._refresh()
        self._notify(f"saved {path}{note}")
        return path

    def _save_default(self) -> None:
        if self.path is None:
            self._notify("press Start first", error=True)
            return
        try:
            self.save()
        except GaitintError as err:
            self._notify(str(err), error=True)

    def _save_clicked(self) -> None:
        from qtpy.QtWidgets import QFileDialog

        name, _ = QFileDialog.getSaveFileName(self, "Save events", str(self.path or "events.csv"), "CSV (*.csv)")
        if name:
            try:
                self.save(name)
            except GaitintError as err:
                self._notify(str(err), error=True)

    def _load_dialog(self) -> None:
        from qtpy.QtWidgets import QFileDialog

        name, _ = QFileDialog.getOpenFileName(self, "Load events", str(self.path or ""), "CSV (*.csv)")
        if name:
            try:
                self.load(name)
            except GaitintError as err:
                self._notify(str(err), error=True)

    # ------------------------------------------------------------------------------------
    # prompts
    # ------------------------------------------------------------------------------------
    def confirm(self, text: str) -> bool:
        if EventAnnotator.confirm_prompt is not None:
            return bool(EventAnnotator.confirm_prompt(text))
        return QMessageBox.question(self, "napari-gaitint events", text) == QMessageBox.StandardButton.Yes

    def confirm_close(self) -> bool:
        """Ask what to do with unsaved event edits; True lets the window close."""
        if EventAnnotator.close_prompt is not None:
            answer = EventAnnotator.close_prompt()
        else:
            box = QMessageBox(self)
            box.setWindowTitle("Unsaved event edits")
            box.setText(f"There are unsaved event edits. Save them to {self.path}?")
            box.setStandardButtons(QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                                   | QMessageBox.StandardButton.Cancel)
            res = QMessageBox.StandardButton(box.exec())
            answer = {QMessageBox.StandardButton.Save: "save", QMessageBox.StandardButton.Discard: "discard"}.get(
                res, "cancel")
        if answer == "save":
            self.save()
            return True
        if answer == "discard":
            self.dirty = False
            self._autosave.cancel()
            if self.path is not None:
                core_edits.discard_autosave(self.path)
            return True
        return False

    def _notify(self, text: str, *, error: bool = False, warn: bool = False) -> None:
        """A message in the dock and napari's status bar (``warn``: in orange, e.g. a key that
        found nothing to act on); an ``error`` also pops up."""
        self.last_message = text
        self.message.setText(text)
        self.message.setToolTip(text)  # the whole text where the dock cuts it
        style = "color: #ff9040;" if error or warn else ""
        if self.message.styleSheet() != style:  # a new style sheet re-polishes the label
            self.message.setStyleSheet(style)
        show_message(self.viewer, text, error=error)
