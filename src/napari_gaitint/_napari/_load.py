"""Load trial pair dock: a ``trials.csv`` row, a DLC folder, picked files or the synthetic sample.

The files are read in a ``thread_worker`` by :func:`._layers.trial_pair_layers` (videos side by
side, predictions on top, the opposite view mirrored) and the layers added when done.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from magicgui.widgets import CheckBox, ComboBox, Container, FileEdit, Label, ProgressBar, PushButton

from ..core.errors import GaitintError
from ..core.video import VIDEO_FILE_FILTER
from ..workflow.manifest import MANIFEST_FILE_FILTER
from ._layers import add_layer_tuples
from ._qt import compact_file_edits, line_edit, notify_error, progress_steps, wrap_label

if TYPE_CHECKING:  # `import napari.layers` binds `napari` too
    import napari.layers
    import napari.types
    import napari.viewer


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
        from ..workflow.manifest import load_manifest

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
        from ..workflow.manifest import load_manifest
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
        added = add_layer_tuples(self._viewer, tuples)
        self._viewer.reset_view()
        self._viewer.dims.set_current_step(0, 0)
        self.status.value = f"loaded {', '.join(lay.name for lay in added if lay._type_string == 'points')}"
        return added

