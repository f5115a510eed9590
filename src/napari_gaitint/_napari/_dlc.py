"""Dock widget "Run DeepLabCut": analyse the loaded trial pair with a DLC network.

A thin skin over :func:`napari_gaitint.dlc.analyze.analyze_trial_pair` (the same function as
``gaitint dlc analyze``): it runs in a ``thread_worker`` (DeepLabCut takes seconds to
minutes), reports each step in a progress bar, then adds the predictions to the viewer as
keypoints + tracks layers placed on the videos already shown (or adds the videos too).
Without the ``[dlc]`` extra the widget says how to install it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from magicgui.widgets import (
    CheckBox,
    ComboBox,
    Container,
    FileEdit,
    Label,
    LineEdit,
    ProgressBar,
    PushButton,
    SpinBox,
)

from .. import dlc as core_dlc
from ..core.errors import GaitintError
from ..core.video import VIDEO_FILE_FILTER
from ._layers import add_layer_tuples
from ._meta import VIDEO, info_dict, kwargs_info, layer_info
from ._qt import notify_error, progress_steps, start_worker

if TYPE_CHECKING:
    import napari.viewer

VIEWS = ("C1", "C3")


def _path_or_none(value) -> Path | None:
    text = str(value or "").strip()
    return Path(text) if text not in ("", ".") else None


def loaded_videos(viewer) -> dict[str, Path]:
    """``{view: video path}`` of the video layers in the viewer that name their view."""
    out: dict[str, Path] = {}
    for layer in viewer.layers:
        info = layer_info(layer)
        source = (layer.metadata or {}).get("source")
        if info.kind == VIDEO and source and str(info.view or "").upper() in VIEWS:
            out.setdefault(str(info.view).upper(), Path(source))
    return out


def prediction_layer_tuples(viewer, result: core_dlc.PairAnalysis) -> list[tuple]:
    """Layers of a :class:`~napari_gaitint.dlc.analyze.PairAnalysis`, fitted to the viewer.

    The predictions are read back through the manifest that ``analyze_trial_pair`` wrote
    (the same rows ``gaitint analyze`` uses). A video already shown in the viewer is not
    added again: the new keypoints and tracks take that video layer's placement (affine)
    so they land on it.
    """
    from ..workflow.manifest import load_manifest
    from ._layers import trial_pair_layers

    rows = load_manifest(result.manifest)
    rows = rows[rows["trial"].astype(str) == str(result.trial)]
    if rows.empty:
        raise GaitintError(f"{result.manifest}: no rows for trial {result.trial!r}")
    shown = {}
    for layer in viewer.layers:
        source = (layer.metadata or {}).get("source")
        if layer_info(layer).kind == VIDEO and source:
            shown[Path(source).resolve()] = layer
    tuples = trial_pair_layers(rows, mirror="auto")
    placed: dict[str, object] = {}  # view -> the video layer already in the viewer
    for _data, kw, kind in tuples:
        if kind == "image" and Path(kw["metadata"].get("source", "")).resolve() in shown:
            placed[kwargs_info(kw)["view"]] = shown[Path(kw["metadata"]["source"]).resolve()]
    out = []
    for data, kw, kind in tuples:
        info = kwargs_info(kw)
        existing = placed.get(info.get("view"))
        if existing is not None:
            if kind == "image":
                continue
            kw["affine"] = np.asarray(existing.affine.affine_matrix)
            old = info_dict(existing)
            for key in ("mirrored", "offset_px"):
                if key in old:
                    info[key] = old[key]
        info["dlc_scorer"] = result.scorer
        out.append((data, kw, kind))
    return out


class RunDLCWidget(Container):
    """Analyse both views of a trial pair with a trained DeepLabCut network."""

    def __init__(self, viewer: napari.viewer.Viewer):
        super().__init__(labels=True)
        self._viewer = viewer
        self.config = FileEdit(label="DLC config.yaml", filter="*.yaml *.yml", mode="r", value="")
        self.video_c1 = FileEdit(label="C1 video", filter=VIDEO_FILE_FILTER, value="")
        self.video_c3 = FileEdit(label="C3 video", filter=VIDEO_FILE_FILTER, value="")
        self.use_loaded = PushButton(text="Use the videos in the viewer")
        self.mirror = ComboBox(label="mirror", choices=["C3", "C1", "none"], value="C3",
                               tooltip="the view analysed through a mirrored copy (the one walking "
                                       "the opposite way to the network's training videos)")
        self.shuffle = SpinBox(label="shuffle", value=1, min=1, max=1000)
        self.snapshot = LineEdit(label="snapshot", value="",
                                 tooltip="index (0 first, -1 last), 'best', or a file name; "
                                         "empty = the project's snapshotindex")
        self.device = ComboBox(label="device", choices=["cpu", "cuda", "auto"], value="cpu")
        self.out_dir = FileEdit(label="output folder", mode="d", value="",
                                tooltip="empty = the C1 video's folder")
        self.overwrite = CheckBox(label="re-analyse (overwrite)", value=False)
        self.run = PushButton(text="Run DeepLabCut")
        self.progress = ProgressBar(label="progress", min=0, max=1, value=0)
        self.status = Label(value="")
        self.status.native.setWordWrap(True)  # long paths and DeepLabCut messages
        self.extend([self.config, self.video_c1, self.video_c3, self.use_loaded, self.mirror,
                     self.shuffle, self.snapshot, self.device, self.out_dir, self.overwrite,
                     self.run, self.progress, self.status])
        self.worker = None
        self.result: core_dlc.PairAnalysis | None = None
        self.added: list = []
        self.steps: list[str] = []  # progress messages of the last run
        self.use_loaded.changed.connect(self.fill_from_viewer)
        self.run.changed.connect(self.start)
        viewer.layers.events.inserted.connect(self._on_layers_changed)
        if not core_dlc.dlc_available():
            self.status.value = f"DeepLabCut is not installed: {core_dlc.INSTALL_HINT}"
        self.fill_from_viewer(only_empty=True)

    def _on_layers_changed(self, *_):
        self.fill_from_viewer(only_empty=True)

    def fill_from_viewer(self, *_, only_empty: bool = False) -> dict[str, Path]:
        """Put the viewer's C1/C3 video layers into the video fields."""
        videos = loaded_videos(self._viewer)
        for view, field in (("C1", self.video_c1), ("C3", self.video_c3)):
            if view in videos and not (only_empty and _path_or_none(field.value)):
                field.value = str(videos[view])
        return videos

    def _arguments(self) -> dict:
        config = _path_or_none(self.config.value)
        c1, c3 = _path_or_none(self.video_c1.value), _path_or_none(self.video_c3.value)
        if config is None:
            raise GaitintError("choose the DeepLabCut project's config.yaml")
        if c1 is None or c3 is None:
            raise GaitintError("choose both videos (C1 and C3), or load a trial pair first")
        snapshot = str(self.snapshot.value).strip() or None
        return {
            "config": config, "video_c1": c1, "video_c3": c3,
            "mirror": None if self.mirror.value == "none" else self.mirror.value,
            "shuffle": int(self.shuffle.value), "snapshot": snapshot,
            "device": None if self.device.value == "auto" else self.device.value,
            "out_dir": _path_or_none(self.out_dir.value), "overwrite": bool(self.overwrite.value),
        }

    def start(self, *_):
        """Run :func:`~napari_gaitint.dlc.analyze.analyze_trial_pair` in a ``thread_worker``."""
        from napari.qt.threading import thread_worker

        try:
            kwargs = self._arguments()
            if not core_dlc.dlc_available():
                raise core_dlc.DLCNotInstalledError()
        except GaitintError as err:
            self.status.value = str(err)
            notify_error(err)
            return None
        n_steps = 4 if kwargs["mirror"] else 3
        self.progress.max, self.progress.value = n_steps, 0
        self.run.enabled = False
        self.status.value = "starting..."

        @thread_worker
        def work():
            return (yield from progress_steps(
                lambda report: core_dlc.analyze_trial_pair(**kwargs, progress=report)))

        self.steps = []
        self.worker = start_worker(work, yielded=self._on_step, returned=self._on_done,
                                   errored=self._on_error, button=self.run)
        return self.worker

    def _on_step(self, message: str):
        self.steps.append(str(message))
        self.progress.value = min(self.progress.value + 1, self.progress.max)
        self.status.value = str(message)

    def _on_error(self, err):
        self.status.value = f"error: {err}"
        notify_error(err)

    def _on_done(self, result: core_dlc.PairAnalysis):
        self.result = result
        self.progress.value = self.progress.max
        try:
            self.added = add_layer_tuples(self._viewer, prediction_layer_tuples(self._viewer, result))
        except GaitintError as err:
            self._on_error(err)
            return
        names = ", ".join(lay.name for lay in self.added if lay._type_string == "points")
        self.status.value = f"{result.scorer}: loaded {names}; manifest {result.manifest}"
