"""The files of the Label QA dock (:class:`._qa.QAWidget`): the autosave of the edits, the
refined predictions (``refined/<source>``) and the corrected frames exported as DeepLabCut
labels. A mixin of the widget: the methods use its sessions."""

from __future__ import annotations

from pathlib import Path

from ..core import corrections as core_corrections
from ..core.errors import GaitintError
from ..dlc import labels as labels
from ._meta import layer_info


class QAFiles:
    """Saving and exporting of :class:`._qa.QAWidget` (mixed into it)."""

    # ------------------------------------------------------------------------------------
    # files
    # ------------------------------------------------------------------------------------
    def autosave(self) -> None:
        """Autosave the edit log and review ticks of every view, half a second after the last
        edit (a key press does not wait for the file writes); at once when the window closes."""
        self._autosave.request()

    def flush_autosave(self) -> None:
        """Write a pending autosave now (the window closes, QA starts again)."""
        self._autosave.flush()

    def _write_autosave(self) -> None:
        for s in self.sessions.values():
            if s.pose.source is not None and (s.editor.ops or self.review and self.review.reviewed):
                try:
                    core_corrections.autosave_edits(s.editor, review=self.review)
                except (OSError, GaitintError) as err:  # never lose the session over an autosave
                    self._notify(f"autosave failed: {err}", error=True)

    def save(self) -> list[Path]:
        """Save ``refined/<source>.h5/.csv``, the corrections csv and the review ticks of every
        view with a source. Corrections saved meanwhile by another session are merged in
        (never dropped); points corrected differently on both sides ask whose to keep."""
        out, merged, failed = [], [], False
        for s in self.sessions.values():
            try:
                try:
                    out += core_corrections.save_refined(s.editor, review=self.review)
                except core_corrections.CorrectionsConflictError as err:
                    keep = "ours" if self.confirm(f"{err}\n\nKeep your corrections of these points? "
                                                  "(No keeps the file's.)") else "theirs"
                    out += core_corrections.save_refined(s.editor, review=self.review, on_conflict=keep)
            except GaitintError as err:
                failed = True
                self._notify(str(err), error=True)
                continue
            if s.editor.n_merged:
                merged.append(f"{s.editor.n_merged} in {s.view}")
                self._render(s)
            saved = core_corrections.load_review(core_corrections.review_path(s.pose.source)) if s.pose.source else set()
            self.review.reviewed |= saved
        if not failed:
            self._autosave.cancel()  # saved: nothing to keep aside
        if not failed and self.review is not None:
            self.review.mark_saved()
            self.table.model().set_review(self.review)
        self._update_counter()
        if out:
            extra = f" (merged corrections saved meanwhile by another session: {', '.join(merged)})" if merged else ""
            views = ", ".join(s.view for s in self.sessions.values() if s.pose.source is not None)
            self._notify(f"saved {views}: {len(out)} files (refined .h5/.csv, corrections, review ticks) "
                         f"in {out[0].parent}{extra}")
        return out

    def export_labels(self, target, *, scorer: str = "gaitint-qa", video_paths: dict | None = None) -> list[Path]:
        """Export the corrected frames of every view as DLC machine labels (``CollectedData``).

        ``target`` is a DeepLabCut project (its folder or ``config.yaml``): the labels are merged
        into ``labeled-data/<video>/`` by ``dlc.labels.export_labels_to_project`` (the project's
        scorer and body parts, frame PNGs extracted, the video added to ``video_sets``). A view
        that DeepLabCut analysed through a mirrored copy (manifest column ``mirrored``) is
        exported onto that copy (``dlc.labels.export_labels_mirrored``), as the network sees
        it. Any other folder gets
        ``labeled-data/<video>/CollectedData_<scorer>.h5/.csv`` written by ``core.qa``.
        """
        from .. import dlc as core_dlc

        target = Path(target)
        config = target if target.name == "config.yaml" else target / "config.yaml"
        out: list[Path] = []
        for s in self.sessions.values():
            if not s.editor.manual.any():
                continue
            row = layer_info(s.source_layer).manifest_row or {}
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
                    out += labels.export_corrected_labels(
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


def _truthy(value) -> bool:
    """A manifest cell as a bool (``True``, ``"True"``, ``"1"``, ``"yes"``...)."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "y")
    return bool(value) if value is not None and value == value else False
