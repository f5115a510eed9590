"""What every editor of this package shares: undo and redo, and the autosave sidecar of unsaved edits.

Used by the gait-event editor (:class:`~napari_gaitint.core.annotations.EventEditor`) and the
keypoint editor (:class:`~napari_gaitint.core.corrections.PoseEditor`). An autosave is a JSON
file ``<stem>.gaitint-autosave.json`` beside the file being edited, written atomically after
every edit and removed after a successful save.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path

from ._files import write_text_atomic

#: Suffix of the autosave sidecar file.
AUTOSAVE_SUFFIX = ".gaitint-autosave.json"


class EditHistory:
    """Undo and redo stacks of an editor: one entry per action; a new action clears the redo stack.

    Shared by :class:`~napari_gaitint.core.annotations.EventEditor` and
    :class:`~napari_gaitint.core.corrections.PoseEditor`.
    """

    def __init__(self):
        self._undo: list = []
        self._redo: list = []

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    def _record(self, entry) -> None:
        self._undo.append(entry)
        self._redo = []

    def _step(self, forward: bool):
        """The entry to redo (``forward``) or undo, moved to the other stack; ``None`` if none."""
        source, target = (self._redo, self._undo) if forward else (self._undo, self._redo)
        if not source:
            return None
        entry = source.pop()
        target.append(entry)
        return entry


def autosave_path(target: str | Path) -> Path:
    """Sidecar autosave file of the file ``target`` (``<stem>.gaitint-autosave.json``)."""
    target = Path(target)
    return target.with_name(f"{target.stem}{AUTOSAVE_SUFFIX}")


def write_autosave(target: str | Path, payload: Mapping) -> Path:
    """Write unsaved edits of ``target`` to its sidecar, atomically (replaces the previous one).

    ``payload`` must be JSON-serialisable; ``target``, ``kind`` and ``saved_at`` are added.
    """
    data = {"target": str(Path(target)), "saved_at": time.time(), **dict(payload)}
    return write_text_atomic(autosave_path(target), json.dumps(data, allow_nan=True), overwrite=True)


def read_autosave(target: str | Path) -> dict | None:
    """The autosaved payload of ``target``, or ``None`` if there is none (or it is unreadable)."""
    p = autosave_path(target)
    if not p.is_file():
        return None
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def discard_autosave(target: str | Path) -> None:
    """Remove the autosave sidecar of ``target`` (after a successful save)."""
    p = autosave_path(target)
    if p.exists():
        p.unlink()
