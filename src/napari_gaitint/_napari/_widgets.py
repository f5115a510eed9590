"""Dock widgets: load a trial pair, clean, detect events, statistics.

Each widget is a thin skin: it reads the pose from a layer, calls one core function
(:func:`~napari_gaitint.core.clean.clean_pose`, :func:`~napari_gaitint.core.events.detect_events`,
:func:`~napari_gaitint.core.pipeline.analyze_cohort`, :func:`~napari_gaitint.core.stats.rm_anova`)
and turns the result into layers with :mod:`._convert`. Nothing is computed twice.
"""

from __future__ import annotations

import functools
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from magicgui import magic_factory
from magicgui.widgets import (
    CheckBox,
    ComboBox,
    Container,
    FileEdit,
    Label,
    ProgressBar,
    PushButton,
    Select,
    Table,
)

from ..core.angles import ANGLE_AXIS, JOINTS
from ..core.errors import AnalysisError, GaitintError
from ..core.event_methods import DEFAULT_METHOD
from ..core.io import ROLES, Pose
from ..core.manifest import MANIFEST_FILE_FILTER
from ..core.video import VIDEO_FILE_FILTER
from . import _convert
from ._meta import EVENTS, KEY, copy_info, keypoint_layers, kwargs_info, layer_info, view_side
from ._qt import (
    compact_file_edits,
    line_edit,
    notify_error,
    progress_steps,
    start_worker,
    wrap_label,
)

if TYPE_CHECKING:  # `import napari.layers` binds `napari` too
    import napari.layers
    import napari.types
    import napari.viewer


# ---------------------------------------------------------------------------------------
# helpers: layer <-> pose
# ---------------------------------------------------------------------------------------
def layer_pose(layer, *, edits: bool = True) -> Pose:
    """The pose shown by a keypoints layer.

    ``edits=True``: rebuilt from the layer's points, so the user's moves and deletions count
    (the stored pose is the template for frames, names and metadata). ``edits=False``: the
    pose the layer was made from (a copy of metadata ``pose``), if it has one.
    """
    from pathlib import Path

    info = layer_info(layer)
    template = info.pose
    if not edits and isinstance(template, Pose):
        pose = template.copy()
    else:
        pose = _convert.points_to_pose(
            np.asarray(layer.data), layer.features, template=template,
            n_frames=info.n_frames, bodyparts=info.bodyparts,
        )
        if pose.source is None and info.source:
            pose.source = Path(info.source)
        index = info.index
        if pose.index is None and index is not None and len(index) == pose.n_frames:
            pose.index = index  # image paths of a multi-animal label layer
    if pose.frame_size is None and info.frame_size:
        pose.frame_size = tuple(info.frame_size)
    if pose.fps is None and info.fps:
        pose.fps = float(info.fps)
    return pose


def partner_layer(viewer, layer):
    """The keypoints layer of the other view of the same trial (raw predictions), if loaded."""
    info = layer_info(layer)
    for other in keypoint_layers(viewer):
        oi = layer_info(other)
        if (
            other is not layer
            and oi.trial == info.trial
            and oi.view != info.view
            and not oi.cleaned
        ):
            return other
    return None


def _placement(layer) -> dict:
    return {"affine": np.asarray(layer.affine.affine_matrix)}


# ---------------------------------------------------------------------------------------
# 1. Load trial pair
# ---------------------------------------------------------------------------------------
class LoadTrialPairWidget(Container):
    """Pick a ``trials.csv`` row (or a DLC folder), two videos + two prediction files, or the sample.

    The buttons read the files in a ``thread_worker`` with a progress bar and add the layers
    when done (:meth:`load_in_background`); :meth:`add_rows` does the same at once (scripts,
    tests). The trial list survives the viewer's layer changes and shows its value.
    """

    def __init__(self, viewer: napari.viewer.Viewer):
        super().__init__(labels=True)
        self._viewer = viewer
        self._rows: pd.DataFrame | None = None
        self.worker = None
        self.manifest = FileEdit(label="trials.csv", filter=MANIFEST_FILE_FILTER, mode="r", value="")
        self.folder = FileEdit(label="or DLC folder", mode="d", value="")
        # choices from a function: napari resets every dock's choices when layers change,
        # which emptied a fixed list (the trial list was lost after each load)
        self.trial = ComboBox(label="trial", choices=self._trial_choices)
        self.load_row = PushButton(text="Load trial")
        self.pick = CheckBox(label="pick files", value=False, tooltip="Pick two prediction files and videos by hand")
        self.trial_name = line_edit("trial name", "T01")
        self.subject = line_edit("subject", "")  # the person: their trials are averaged in the statistics
        self.pred_a = FileEdit(label="C1 predictions", filter="*.h5 *.csv", value="")
        self.video_a = FileEdit(label="C1 video", filter=VIDEO_FILE_FILTER, value="")
        self.pred_b = FileEdit(label="C3 predictions", filter="*.h5 *.csv", value="")
        self.video_b = FileEdit(label="C3 video", filter=VIDEO_FILE_FILTER, value="")
        self.load_files = PushButton(text="Load picked files")
        self.load_sample = PushButton(text="Load synthetic sample")
        self.mirror = CheckBox(label="mirror R→L view", value=True,
                               tooltip="Mirror a view whose subject walks right to left, so both views agree")
        self.progress = ProgressBar(label="loading", min=0, max=1, value=0, visible=False)
        self.status = Label(value="")
        self._picked = (self.trial_name, self.subject, self.pred_a, self.video_a, self.pred_b, self.video_b,
                        self.load_files)
        self.extend([
            self.manifest, self.folder, self.trial, self.load_row, self.pick, *self._picked,
            self.load_sample, self.mirror, self.progress, self.status,
        ])
        compact_file_edits(self.manifest, self.folder, self.pred_a, self.video_a, self.pred_b, self.video_b)
        for w in self._picked:
            w.visible = False
        wrap_label(self.status)
        self.pick.changed.connect(self._on_pick)
        self.manifest.changed.connect(self._on_manifest)
        self.folder.changed.connect(self._on_folder)
        self.load_row.changed.connect(functools.partial(self._on_load_row, background=True))
        self.load_files.changed.connect(functools.partial(self._on_load_files, background=True))
        self.load_sample.changed.connect(functools.partial(self._on_load_sample, background=True))

    def _trial_choices(self, _widget=None) -> list[str]:
        return list(dict.fromkeys(self._rows["trial"].astype(str))) if self._rows is not None else []

    def _on_pick(self, *_):
        for w in self._picked:
            w.visible = bool(self.pick.value)

    # actions (also called from tests)
    def _on_manifest(self, *_):
        self._read_trials(Path(str(self.manifest.value)), folder=False)

    def _on_folder(self, *_):
        """A folder of DLC outputs: its trials.csv, else trials found by file name."""
        self._read_trials(Path(str(self.folder.value)), folder=True)

    def _read_trials(self, path: Path, *, folder: bool) -> None:
        from ..core.pipeline import load_manifest

        if not (path.is_dir() if folder else path.is_file()) or str(path) in ("", "."):
            return
        try:
            self._rows = load_manifest(path)
        except GaitintError as err:
            self.status.value = str(err)
            return
        self.trial.reset_choices()
        trials = self._trial_choices()
        self.trial.value = trials[0]
        if self._rows.attrs.get("found_by_name"):
            self.status.value = f"{len(trials)} trial(s) found by file name in {path.name}"

    def _on_load_row(self, *_, background: bool = False):
        if self._rows is None:
            self._on_manifest()
        if self._rows is None or not self.trial.value:
            self.status.value = "choose a trials.csv first"
            return []
        rows = self._rows[self._rows["trial"].astype(str) == str(self.trial.value)]
        return self.load_in_background(rows) if background else self.add_rows(rows)

    def _on_load_files(self, *_, background: bool = False):
        from ._layers import pair_rows

        preds = [p for p in (self.pred_a.value, self.pred_b.value) if str(p) not in ("", ".")]
        vids = [v if str(v) not in ("", ".") else None for v in (self.video_a.value, self.video_b.value)]
        if not preds:
            self.status.value = "pick at least one predictions file"
            return []
        rows = pair_rows(trial=self.trial_name.value, predictions=preds, videos=vids)
        rows["subject"] = self.subject.value.strip() or np.nan
        return self.load_in_background(rows) if background else self.add_rows(rows)

    def _on_load_sample(self, *_, background: bool = False):
        from ..core.pipeline import load_manifest
        from ._sample_data import ensure_sample

        manifest = ensure_sample()
        self.manifest.value = str(manifest)
        self._on_manifest()  # the change signal is not always emitted for programmatic values
        rows = load_manifest(manifest)
        rows = rows[rows["trial"] == rows["trial"].iloc[0]]
        return self.load_in_background(rows) if background else self.add_rows(rows)

    @property
    def loading(self) -> bool:
        """Whether a background load is running."""
        return self.worker is not None and self.worker.is_running

    def add_rows(self, rows: pd.DataFrame) -> list:
        """Add the layers of these manifest rows to the viewer; returns the new layers."""
        from ._layers import trial_pair_layers

        try:
            tuples = trial_pair_layers(rows, mirror="auto" if self.mirror.value else "none")
        except GaitintError as err:
            self._on_load_error(err)
            return []
        return self._add(tuples)

    def load_in_background(self, rows: pd.DataFrame):
        """Read the files of these rows in a ``thread_worker`` (progress bar: one step per file),
        then add the layers; returns the worker."""
        from napari.qt.threading import thread_worker

        from ._layers import trial_pair_layers

        mirror = "auto" if self.mirror.value else "none"
        trial = ", ".join(dict.fromkeys(rows["trial"].astype(str)))
        self.status.value = f"loading {trial}…"
        self.progress.visible = True
        self.progress.max, self.progress.value = 1, 0

        @thread_worker
        def work():
            return (yield from progress_steps(lambda report: trial_pair_layers(
                rows, mirror=mirror, on_progress=lambda i, n, what: report((i, n, what)))))

        buttons = (self.load_row, self.load_files, self.load_sample)
        for b in buttons:
            b.enabled = False

        def finished():
            self.progress.visible = False
            for b in buttons:
                b.enabled = True

        self.worker = work(_connect={"yielded": self._on_load_progress, "returned": self._add,
                                     "errored": self._on_load_error, "finished": finished}, _start_thread=False)
        self.worker.start()
        return self.worker

    def _on_load_progress(self, step) -> None:
        done, total, what = step
        self.progress.max = max(total, 1)
        self.progress.value = done
        self.status.value = f"loading: {what}"

    def _on_load_error(self, err) -> None:
        self.status.value = str(err)
        notify_error(err)

    def _add(self, tuples) -> list:
        added = _add_layer_tuples(self._viewer, tuples)
        self._viewer.reset_view()
        self._viewer.dims.set_current_step(0, 0)
        self.status.value = f"loaded {', '.join(lay.name for lay in added if lay._type_string == 'points')}"
        return added


def _add_layer_tuples(viewer, tuples) -> list:
    from napari.layers import Layer

    from ._reader import connect_track_windows, track_window_of

    added = []
    for data, kwargs, kind in tuples:
        added.append(Layer.create(data, kwargs, kind))
        viewer.add_layer(added[-1])
    if any(track_window_of(lay) is not None for lay in added):
        connect_track_windows(viewer)  # long recordings: tracks around the current frame
    return added


# ---------------------------------------------------------------------------------------
# 2. Clean
# ---------------------------------------------------------------------------------------
def _clean_choices(name: str) -> list[str]:
    from ..core import clean

    return list(getattr(clean, name))


@magic_factory(
    method={"choices": lambda _w: _clean_choices("METHODS")},
    filter={"choices": lambda _w: _clean_choices("FILTERS")},
    likelihood_threshold={"min": 0.0, "max": 1.0, "step": 0.05},
    margin_px={"min": 0.0, "max": 500.0, "label": "margin px (0: from leg length)"},
    max_gap_s={"min": 0.0, "max": 10.0, "step": 0.05},
    cutoff_hz={"min": 0.1, "max": 100.0, "step": 0.5},
    call_button="Clean",
)
def clean_widget(
    layer: napari.layers.Points,
    viewer: napari.viewer.Viewer,
    likelihood_threshold: float = 0.6,
    method: str = "twoview",
    margin_px: float = 0.0,
    max_gap_s: float = 0.4,
    filter: str = "butterworth",
    cutoff_hz: float = 6.0,
) -> list[napari.types.LayerDataTuple]:
    """Clean a keypoints layer; adds ``<name> cleaned`` points + tracks (original untouched).

    The other view of the same trial, if loaded, is the far-leg reference for wrong-limb
    repair. Changed points carry their flags in the ``flags``/``status`` features and are
    coloured by status (red: wrong limb repaired, white: gap filled, orange: outlier).
    """
    from ..core.clean import clean_pose, config_for_names

    if layer is None:
        raise GaitintError("choose a keypoints layer to clean")
    pose = layer_pose(layer)
    other_layer = partner_layer(viewer, layer) if viewer is not None else None
    other = layer_pose(other_layer) if other_layer is not None else None
    # the file's own names for our roles (Neck, LHeel...); the other view renamed to match
    config, other = config_for_names(
        pose, other, side=view_side(layer), likelihood_threshold=likelihood_threshold,
        method=method, margin_px=margin_px or None, max_gap_s=max_gap_s, filter=filter,
        cutoff_hz=cutoff_hz,
    )
    result = clean_pose(pose, other=other, config=config)
    tuples = cleaned_layer_tuples(layer, result)
    if viewer is not None:
        from ._reader import connect_track_windows

        connect_track_windows(viewer)  # a long recording's tracks follow the slider
    return tuples


def cleaned_layer_tuples(layer, result) -> list[tuple]:
    """Points + tracks LayerDataTuples of a :class:`~napari_gaitint.core.clean.CleanResult`."""
    from ._reader import keypoint_layer_kwargs, tracks_for_display

    info = copy_info(layer, drop=("pose", "kind", "source"))
    info.update(cleaned=True, source_layer=layer.name, clean_summary=result.summary)
    name = f"{layer.name} cleaned"
    data, kw = keypoint_layer_kwargs(result.pose, name=name, flags=result.flags, extra_metadata=info)
    kwargs_info(kw)["source"] = None  # a derived layer has no source file to protect
    kw.update(_placement(layer))
    tdata, tkw = tracks_for_display([result.pose], name=f"{name} tracks", extra_metadata=info)
    tkw.update(_placement(layer))
    return [(data, kw, "points"), (tdata, tkw, "tracks")]


# ---------------------------------------------------------------------------------------
# 3. Detect events
# ---------------------------------------------------------------------------------------
def _event_methods(_w=None) -> list[str]:
    from ..core.events import METHODS

    return [m for m in METHODS if m != "ankle_neck"]


@magic_factory(
    method={"choices": _event_methods},
    reference={"choices": ["auto", "hip", "neck"]},
    side={"choices": ["auto", "left", "right"]},
    call_button="Detect events",
)
def detect_events_widget(
    layer: napari.layers.Points,
    viewer: napari.viewer.Viewer,
    method: str = DEFAULT_METHOD,
    reference: str = "auto",
    side: str = "auto",
    show_plot: bool = True,
) -> napari.types.LayerDataTuple:
    """Heel strikes (HS) and toe offs (TO) of a keypoints layer's camera-facing leg.

    Adds ``<layer> events``: markers at the heel (HS) / toe (TO) in the event frame, and
    docks a plot of the detector's signal with the events and the current frame and, beside
    it, the joint angles per frame and per cycle (:mod:`._angles`); clicking a plot moves the
    frame slider there.
    """
    from ..core.events import METHODS, detect_events, relative_x
    from ..core.io import validate_time_series, with_role_names
    from ..core.orient import orient_pose

    if layer is None:
        raise GaitintError("choose a keypoints layer")
    side = view_side(layer) if side == "auto" else side
    if side is None:
        raise GaitintError(f"{layer.name}: cannot tell which leg this camera sees (the view is "
                           "not C1 or C3 and no side was given); choose left or right in 'side'")
    pose = validate_time_series(layer_pose(layer), task="event detection")
    pose = with_role_names(pose, side=side)  # Neck, LHeel... -> neck, heel
    if pose.frame_size is None:
        raise GaitintError(f"{layer.name}: video frame size unknown; load the trial with its video or manifest")
    ref = None if reference == "auto" else reference
    oriented = orient_pose(pose)
    events = detect_events(oriented, side=side, fps=pose.fps, method=method, reference=ref)
    data, feats = _convert.events_to_points(events, pose)
    info = copy_info(layer, keep=("trial", "view", "side", "mirrored"))
    kwargs = {
        "name": f"{layer.name} events",
        "features": feats,
        "face_color": _convert.event_colors(feats),
        "border_color": "white",
        "symbol": "diamond",
        "size": 26,
        "axis_labels": ("frame", "y", "x"),
        "text": {"string": "{label}", "color": "black", "size": 12, "anchor": "upper_left",
                 "translation": [0, -14, 0]},
        "metadata": {KEY: {"kind": EVENTS, "events": events, "method": method, **info,
                                 "floor_tilt_deg": oriented.meta["orientation"]["tilt_deg"]}},
        **_placement(layer),
    }
    if show_plot and viewer is not None:
        m = METHODS[method]
        reference_name = ref or m.default_reference
        signals = {
            f"{m.hs_bodypart} x - {reference_name} x (HS)": relative_x(oriented, m.hs_bodypart, reference_name),
        }
        if m.to_bodypart != m.hs_bodypart:
            signals[f"{m.to_bodypart} x - {reference_name} x (TO)"] = relative_x(oriented, m.to_bodypart, reference_name)
        title = f"{layer.name}: {method}"
        if oriented.meta["orientation"]["rotation_deg"]:  # a rolled camera: say so
            title += f" (floor levelled, it was tilted {oriented.meta['orientation']['tilt_deg']:+.1f}°)"
        plot = EventsPlot(viewer, pose.frames, signals, events, title=title)
        viewer.window.add_dock_widget(plot.native_widget, name=f"events plot: {layer.name}", area="bottom")
        from ._angles import dock_angles_plot

        dock_angles_plot(viewer, oriented, events, side=side, name=layer.name)  # beside it
    return (data, kwargs, "points")


class EventsPlot:
    """Matplotlib plot of an event signal: event markers, current-frame line, click to jump."""

    _last = None  # weak reference to the most recent plot (never keeps a viewer alive)

    @classmethod
    def latest(cls) -> EventsPlot | None:
        """The most recently created plot, if it still exists (for tests and scripting)."""
        return cls._last() if cls._last is not None else None

    def __init__(self, viewer, frames: np.ndarray, signals: dict[str, np.ndarray], events: pd.DataFrame, *, title: str = ""):
        from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
        from matplotlib.figure import Figure

        self.viewer = viewer
        self.figure = Figure(figsize=(6, 2.2), tight_layout=True)
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setMinimumHeight(160)
        ax = self.figure.add_subplot(111)
        self.ax = ax
        for label, sig in signals.items():
            ax.plot(frames, sig, lw=1.2, label=label)
        first = next(iter(signals.values()))
        for ev in events.itertuples(index=False):
            is_hs = ev.event == "heel_strike"
            sig = list(signals.values())[0 if is_hs or len(signals) == 1 else 1]
            y = np.interp(ev.frame, frames, np.where(np.isfinite(sig), sig, np.nanmean(sig)))
            ax.plot(ev.frame, y, "v" if is_hs else "^", color="tab:red" if is_hs else "tab:blue", ms=7)
        ax.set_xlabel("frame")
        ax.set_ylabel("px (gait x)")
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=7, loc="upper right")
        self.event_frames = events["frame"].to_numpy(float)
        self.line = ax.axvline(float(viewer.dims.current_step[0]), color="k", lw=1)
        del first
        self.canvas.mpl_connect("button_press_event", self._on_click)
        viewer.dims.events.current_step.connect(self._on_step)
        self.native_widget = self.canvas
        # napari holds event callbacks weakly: the docked canvas keeps the plot alive.
        self.canvas._gaitint_plot = self
        EventsPlot._last = weakref.ref(self)

    def _on_step(self, event=None):
        try:
            self.line.set_xdata([self.viewer.dims.current_step[0]] * 2)
            self.canvas.draw_idle()
        except RuntimeError:  # canvas deleted
            pass

    def _on_click(self, event):
        if event.inaxes is self.ax and event.xdata is not None:
            self.jump_to(event.xdata)

    def jump_to(self, frame: float) -> None:
        """Move the viewer's frame slider to ``frame`` (rounded)."""
        self.viewer.dims.set_current_step(0, int(round(frame)))


# ---------------------------------------------------------------------------------------
# 4. Stats
# ---------------------------------------------------------------------------------------
class StatsWidget(Container):
    """Cycles + RM-ANOVA on a manifest (or the trials loaded), in a background thread."""

    def __init__(self, viewer: napari.viewer.Viewer):
        super().__init__(labels=True)
        self._viewer = viewer
        self.manifest = FileEdit(label="trials.csv", filter=MANIFEST_FILE_FILTER, mode="r", value="")
        # body parts and joints (the angle's "body part"); x, y positions and joint angles
        parts = list(dict.fromkeys([*ROLES, *JOINTS]))
        self.bodyparts = Select(label="body parts / joints", choices=parts, value=parts)
        self.axes = Select(label="axes", choices=["x", "y", ANGLE_AXIS], value=["x", "y", ANGLE_AXIS])
        self.run = PushButton(text="Run statistics")
        self.progress = ProgressBar(label="progress", min=0, max=1, value=0)
        self.status = Label(value="")
        self.table = Table(value={"bodypart": [], "axis": [], "effect": [], "F": [], "p": [], "sig": []})
        self.plot_part = ComboBox(label="plot", choices=[])
        self.export_dir = FileEdit(label="export to", mode="d", value="")
        self.export = PushButton(text="Export CSV / PNG / HTML")
        self.extend([self.manifest, self.bodyparts, self.axes, self.run, self.progress, self.status,
                     self.table, self.plot_part, self.export_dir, self.export])
        compact_file_edits(self.manifest, self.export_dir)
        wrap_label(self.status)
        self.result = None
        self.anova: pd.DataFrame | None = None
        self.worker = None
        self._figure = None
        self._canvas = None
        self.run.changed.connect(self.start)
        self.export.changed.connect(self._on_export)
        self.plot_part.changed.connect(self._draw)
        self._add_canvas()

    def _add_canvas(self):
        from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
        from matplotlib.figure import Figure

        self._figure = Figure(figsize=(5, 4), tight_layout=True)
        self._canvas = FigureCanvasQTAgg(self._figure)
        self._canvas.setMinimumHeight(200)
        self._canvas.setVisible(False)  # shown with the results: the empty dock fits a laptop screen
        self.native.layout().addWidget(self._canvas)
        for select in (self.bodyparts, self.axes):  # short lists scroll instead of growing the dock
            select.native.setMaximumHeight(22 * min(len(select.choices), 3) + 6)
        self.table.native.setMinimumHeight(60)

    def _manifest_source(self):
        path = Path(str(self.manifest.value))
        if path.is_file() or (path.is_dir() and (path / "trials.csv").is_file() and str(self.manifest.value) not in ("", ".")):
            return path
        rows = [layer_info(lay).manifest_row for lay in keypoint_layers(self._viewer)]
        rows = [r for r in rows if r]
        if not rows:
            raise GaitintError("choose a trials.csv (or load trials in the viewer)")
        return pd.DataFrame(rows).drop_duplicates(["trial", "view"])

    def start(self, *_):
        """Run the analysis in a thread_worker; progress, table and plots update when done."""
        from napari.qt.threading import thread_worker

        try:
            source = self._manifest_source()
        except GaitintError as err:
            self.status.value = str(err)
            return None
        bodyparts = list(self.bodyparts.value)
        axes = list(self.axes.value)
        self.run.enabled = False
        self.status.value = "running..."
        self.progress.value = 0

        @thread_worker
        def work():
            return (yield from _analysis_steps(source, bodyparts, axes))

        self.worker = start_worker(work, yielded=self._on_progress, returned=self._on_done,
                                   errored=self._on_error, button=self.run)
        return self.worker

    def _on_progress(self, step):
        done, total = step
        self.progress.max = max(total, 1)
        self.progress.value = done
        self.status.value = f"trial {done} of {total}"

    def _on_error(self, err):
        self.status.value = f"error: {err}"
        notify_error(err)

    def _on_done(self, out):
        self.result, self.anova = out
        self.show_table(self.anova)
        pairs = self.result.cycles[["bodypart", "axis"]].drop_duplicates()
        pairs = pairs[pairs["bodypart"].isin(self.bodyparts.value) & pairs["axis"].isin(self.axes.value)]
        self.plot_part.choices = [f"{b} {a}" for b, a in pairs.itertuples(index=False)]
        n_sig = int(self.anova["significant"].sum()) if len(self.anova) else 0
        n_trials = self.result.cycles["trial"].nunique()
        self.status.value = f"{n_trials} trials; {n_sig} significant effect(s) (p_gg < 0.05, marked *)"
        self._canvas.setVisible(True)
        self._draw()

    def show_table(self, anova: pd.DataFrame) -> None:
        """Fill the table: one row per body part/axis/effect, significant rows marked ``*``."""
        self.table.value = anova_table_rows(anova)
        try:
            from qtpy.QtGui import QColor

            native = self.table.native
            sig_col = list(self.table.column_headers).index("sig")
            for r in range(native.rowCount()):
                item = native.item(r, sig_col)
                if item is not None and item.text() == "*":
                    for c in range(native.columnCount()):
                        native.item(r, c).setBackground(QColor(255, 210, 120))
                        native.item(r, c).setForeground(QColor(0, 0, 0))
        except Exception:  # pragma: no cover - cosmetic only
            pass

    def _draw(self, *_):
        from ..core.stats import compute_difference_curves
        from ..report.figures import value_label

        if self.result is None or not self.plot_part.value:
            return
        bodypart, axis = str(self.plot_part.value).split(" ")
        cyc = self.result.cycles
        sub = cyc[(cyc["bodypart"] == bodypart) & (cyc["axis"] == axis)]
        fig = self._figure
        fig.clear()
        ax1, ax2 = fig.add_subplot(211), fig.add_subplot(212)
        for view, g in sub.groupby("view", observed=True):
            m = g.groupby("pct", observed=True)["value"].agg(["mean", "std"])
            ax1.plot(m.index, m["mean"], label=str(view))
            ax1.fill_between(m.index, m["mean"] - m["std"], m["mean"] + m["std"], alpha=0.2)
        ax1.set_title(f"mean cycle: {bodypart} {axis}", fontsize=9)
        unit = str(sub["unit"].iloc[0]) if "unit" in sub.columns and len(sub) else "px"
        ax1.set_ylabel(value_label(axis, unit, bodypart=bodypart), fontsize=8)
        ax1.legend(fontsize=7)
        try:
            diff = compute_difference_curves(sub)
        except GaitintError:
            diff = None
        if diff is not None and len(diff):
            a, b = diff.attrs.get("views", ("a", "b"))
            ax2.plot(diff["pct"], diff["mean_diff"], color="k", label=f"{a} - {b}")
            ax2.fill_between(diff["pct"], diff["ci_low"], diff["ci_high"], color="0.5", alpha=0.3,
                             label="95% CI")
            ax2.legend(fontsize=7)
        ax2.axhline(0, color="0.6", lw=0.8)
        ax2.set_title("view difference", fontsize=9)
        ax2.set_ylabel(f"difference ({unit})", fontsize=8)
        ax2.set_xlabel("% gait cycle")
        self._canvas.draw_idle()

    def _on_export(self, *_):
        folder = Path(str(self.export_dir.value))
        if str(self.export_dir.value) in ("", "."):
            self.status.value = "choose an export folder"
            return
        try:
            files = self.export_to(folder)
        except GaitintError as err:
            self.status.value = str(err)
            return
        self.status.value = f"wrote {len(files)} files to {folder}"

    def export_to(self, folder: str | Path, *, overwrite: bool = False) -> list[Path]:
        """Write cycles.csv, the current plot (PNG) and the statistics folder of
        :func:`~napari_gaitint.report.outputs.write_stats_outputs` (anova.csv, agreement,
        figures, report.html)."""
        from ..core._csv import write_csv
        from ..core._files import write_atomic
        from ..report.outputs import write_stats_outputs

        if self.result is None:
            raise GaitintError("run the statistics first")
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        files = [
            write_csv(folder / "cycles.csv", self.result.cycles, overwrite=overwrite),
            write_atomic(folder / "stats_plot.png", lambda t: self._figure.savefig(t, format="png", dpi=120), overwrite=overwrite),
        ]
        out = write_stats_outputs(folder, self.result.cycles, parameters=self.result.parameters,
                                  overwrite=overwrite)
        return files + list(out.files.values())


def _analysis_steps(source, bodyparts, axes):
    """Generator: yields ``(done, total)`` while the core runs; returns ``(result, anova)``."""
    from ..core.pipeline import analyze_cohort
    from ..core.stats import rm_anova

    result = yield from progress_steps(lambda report: analyze_cohort(
        source, None, stats=False, report=False, on_progress=lambda i, n: report((i, n))))
    cycles = result.cycles
    # only the pairs the table has: a joint's angle has no x/y, a body part no angle
    chosen = cycles[cycles["bodypart"].isin(bodyparts) & cycles["axis"].isin(axes)]
    if chosen.empty:
        raise AnalysisError(f"the cycles have no {' or '.join(bodyparts)} with axis {' or '.join(axes)} (joints have "
                            "an angle, body parts x and y): choose other body parts or axes")
    anova = rm_anova(chosen)
    anova = anova.copy()
    anova["significant"] = anova["p_gg"].fillna(anova["p_unc"]) < 0.05
    return result, anova


def anova_table_rows(anova: pd.DataFrame) -> dict:
    """Columns of the stats table (strings), ``sig`` = ``*`` for p_gg < 0.05."""
    p = anova["p_gg"].fillna(anova["p_unc"]) if len(anova) else pd.Series(dtype=float)
    return {
        "bodypart": anova["bodypart"].astype(str).tolist(),
        "axis": anova["axis"].astype(str).tolist(),
        "effect": anova["effect"].astype(str).tolist(),
        "F": [f"{v:.3f}" for v in anova["F"]],
        "p": [f"{v:.3g}" for v in p],
        "np2": [f"{v:.2f}" for v in anova["np2"]],
        "sig": ["*" if s else "" for s in anova.get("significant", p < 0.05)],
    }
