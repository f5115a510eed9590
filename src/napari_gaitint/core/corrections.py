"""Manual corrections of keypoints: the editor and its autosave (the corrected predictions on
disk are in :mod:`napari_gaitint.core.refined`, importable from here too).

:class:`PoseEditor` applies manual corrections (move, delete → missing, "far leg / swapped",
undo) to a copy of the predictions, never to the source, logs them for
autosave/recovery and marks them with :data:`clean.FLAG_MANUAL`. :func:`save_refined` writes the
result as ``refined/<source name>`` beside the source (DLC layout and file name, same row
index: DeepLabCut's tools take it with ``destfolder="refined"`` and never mistake it for the
original, see docs/deeplabcut.md). The corrected frames go back into DeepLabCut's labels through
:func:`napari_gaitint.dlc.labels.export_corrected_labels`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from . import clean as _clean
from . import clean_filters as core_clean_filters
from . import clean_flags as core_clean_flags
from ._files import file_sha256
from .config import LEG_CHAIN
from .edits import EditHistory, read_autosave, write_autosave
from .errors import AnalysisError, InputFileError
from .pose import Pose
from .qa import ReviewState

# the corrections on disk (core/refined.py), importable from here as before
from .refined import (  # noqa: F401
    REFINED_DIR,
    CorrectionsConflictError,
    MergedCorrections,
    SavedCorrections,
    legacy_refined_path,
    load_review,
    load_saved_corrections,
    merge_corrections,
    read_refined,
    refined_path,
    review_path,
    save_refined,
    save_review,
)


def swap_with_far_leg(
    near: Pose,
    far: Pose,
    *,
    frame: int,
    bodyparts: Sequence[str],
    margin_px: float | None = None,
) -> tuple[Pose, Pose]:
    """Declare the near labels ``bodyparts`` at ``frame`` to be on the far leg.

    The label moves to the far-leg chain. The near point takes the far chain's previous
    value when that is a different place (farther than ``margin_px``: the two chains had
    exchanged legs, e.g. a model that labels both legs); when the far estimate is where
    the label already was, the near position is unknown and becomes missing (NaN) for
    gap filling or a manual fix. ``margin_px=None``: the cleaning margin of ``near``
    (:func:`~napari_gaitint.core.clean.margin_px_for`, from the leg length). Inputs are not
    modified.

    Returns
    -------
    near, far
        New poses.
    """
    if margin_px is None:
        margin_px = _clean.margin_px_for(near)
    near, far = near.copy(), far.copy()
    i = _row(near, frame)
    i_far = _row(far, frame)
    for bp in bodyparts:
        j, jf = near.bodypart_index(bp), far.bodypart_index(bp)
        label = near.values[i, j].copy()
        est = far.values[i_far, jf].copy()
        far.values[i_far, jf] = label
        apart = np.isfinite(est[:2]).all() and np.linalg.norm(est[:2] - label[:2]) > margin_px
        if apart or not np.isfinite(label[:2]).all():
            near.values[i, j] = est
            if near.has_likelihood and np.isfinite(est[:2]).all():
                near.values[i, j, 2] = 1.0
        else:
            near.values[i, j] = np.nan
    return near, far


def _row(pose: Pose, frame: int) -> int:
    frames = pose.frames
    hit = np.flatnonzero(frames == int(frame))
    if hit.size == 0:
        raise AnalysisError(f"frame {frame} is not in the data (frames {frames[0]}..{frames[-1]})")
    return int(hit[0])


#: Frames each side of an edited frame that the neighbour estimate of "far leg" looks at.
NEIGHBOUR_SUPPORT_FRAMES = 40


#: Longest run of untrusted frames (the edited one included) the neighbour estimate bridges.
NEIGHBOUR_MAX_GAP_FRAMES = 10


def estimate_from_neighbours_px(xy: np.ndarray, row: int, trusted: np.ndarray, *,
                                max_gap_frames: int = NEIGHBOUR_MAX_GAP_FRAMES) -> np.ndarray:
    """Where a point should be in frame ``row``, from the trusted frames around it.

    A cubic spline (the cleaning core's gap filling, :func:`clean.fill_gaps`) through the
    ``trusted`` samples of the track ``xy`` within :data:`NEIGHBOUR_SUPPORT_FRAMES` of ``row``.

    Parameters
    ----------
    xy
        ``(n_frames, 2)`` track in pixels.
    row
        The row to estimate (its own sample is never used).
    trusted
        ``(n_frames,)`` bool: samples that may be used (NaN samples never are).
    max_gap_frames
        The run of untrusted rows around ``row`` must be at most this long, with trusted
        samples on both sides (no extrapolation).

    Returns
    -------
    ndarray
        ``(2,)`` x, y in pixels, NaN when the gap is too long or at an end of the track.

    Examples
    --------
    >>> xy = np.column_stack([np.arange(10.0) ** 2, np.zeros(10)])
    >>> ok = np.ones(10, bool); ok[4:6] = False
    >>> estimate_from_neighbours_px(xy, 4, ok).round(6).tolist()
    [16.0, 0.0]
    """
    xy = np.asarray(xy, float)
    lo, hi = max(row - NEIGHBOUR_SUPPORT_FRAMES, 0), min(row + NEIGHBOUR_SUPPORT_FRAMES + 1, len(xy))
    win = xy[lo:hi].copy()
    ok = np.asarray(trusted, bool)[lo:hi] & np.isfinite(win).all(1)
    ok[row - lo] = False
    win[~ok] = np.nan
    filled = core_clean_filters.fill_gaps(win, max_gap_frames=max_gap_frames, method="spline")
    return filled[row - lo]


class PoseEditor(EditHistory):
    """Manual corrections of one view's predictions, with undo/redo, an edit log and manual flags.

    Each call of an edit method (or one :meth:`batch` of them) is one action: one
    :meth:`undo` reverts all of it. The editor keeps only the changed cells of each action,
    so undo costs nothing on long recordings.

    Parameters
    ----------
    pose
        The predictions as read (never modified; the editor works on a copy).
    far
        Optional far-leg estimate (:func:`far_leg_estimate`) for "far leg / swapped".
    flags
        Optional cleaning flags of ``pose`` (kept; :meth:`flags` adds ``FLAG_MANUAL``).
    view
        View name (for tables and autosave).
    margin_px
        Distance (px) within which a label counts as lying on the far-leg estimate
        (:func:`clean.margin_px_for` of ``pose`` when ``None``).

    Examples
    --------
    >>> ed = PoseEditor(Pose(np.ones((3, 1, 3)), ("knee",)))
    >>> ed.move(1, "knee", x=5.0, y=6.0); ed.pose.values[1, 0].tolist(), bool(ed.manual[1, 0])
    ([5.0, 6.0, 1.0], True)
    >>> _ = ed.undo(); ed.pose.values[1, 0].tolist(), bool(ed.manual[1, 0])
    ([1.0, 1.0, 1.0], False)
    >>> _ = ed.redo(); ed.pose.values[1, 0].tolist()
    [5.0, 6.0, 1.0]
    """

    def __init__(
        self,
        pose: Pose,
        *,
        far: Pose | None = None,
        flags: np.ndarray | None = None,
        view: str = "",
        margin_px: float | None = None,
    ):
        super().__init__()
        self.original = pose.copy()
        self.pose = pose.copy()
        self.far = far.copy() if far is not None else None
        self.clean_flags = (
            np.zeros((pose.n_frames, len(pose.bodyparts)), np.int64) if flags is None else np.asarray(flags, np.int64).copy()
        )
        self.manual = np.zeros((pose.n_frames, len(pose.bodyparts)), bool)
        self.view = view
        self.margin_px = float(margin_px) if margin_px is not None else _clean.margin_px_for(pose)
        self.ops: list[dict] = []  # the edit log (replayable)
        self._open: _Action | None = None
        self._depth = 0
        self._saved_at = 0  # len(ops) at the last save
        # what the corrections on disk were when this session began (or last saved): the
        # base of the three-way merge in :func:`save_refined`
        self.base_values = self.original.values.copy()
        self.base_manual = self.manual.copy()
        self.base_sha256: str | None = None
        self.n_merged = 0  # cells the last save took from a file saved meanwhile

    # -- state ---------------------------------------------------------------------------
    @property
    def dirty(self) -> bool:
        """Whether there are edits since the last :meth:`mark_saved`."""
        return len(self.ops) != self._saved_at

    def mark_saved(self) -> None:
        self._saved_at = len(self.ops)

    def row(self, frame: int) -> int:
        return _row(self.pose, frame)

    def resume(self, saved: SavedCorrections) -> None:
        """Start from corrections saved earlier (:func:`load_saved_corrections`).

        The saved values and manual marks become the current state and the base of later
        merges; nothing is to undo and nothing is unsaved.
        """
        if saved.values.shape != self.pose.values.shape:
            raise InputFileError(saved.path, f"holds {saved.values.shape} values for a source of "
                                             f"{self.pose.values.shape}")
        self.pose.values[...] = saved.values
        self.manual[...] = saved.manual
        self.base_values = saved.values.copy()
        self.base_manual = saved.manual.copy()
        self.base_sha256 = saved.sha256
        self._undo, self._redo = [], []
        self._saved_at = len(self.ops)

    # -- recording -----------------------------------------------------------------------
    def _begin(self) -> None:
        if self._depth == 0:
            self._open = _Action()
        self._depth += 1

    def _end(self) -> None:
        self._depth -= 1
        if self._depth:
            return
        action, self._open = self._open, None
        if action is not None and action.ops:
            self._record(action)
            self.ops.append(action.ops[0] if len(action.ops) == 1 else {"op": "batch", "ops": action.ops})

    def _set(self, i: int, j: int, value, *, manual: bool = True) -> None:
        old = self.pose.values[i, j].copy()
        self._open.cells.append(("pose", i, j, old, bool(self.manual[i, j]),
                                 np.asarray(value, float).copy(), manual))
        self.pose.values[i, j] = value
        self.manual[i, j] = manual

    def _set_far(self, i: int, j: int, value) -> None:
        old = self.far.values[i, j].copy()
        self._open.cells.append(("far", i, j, old, None, np.asarray(value, float).copy(), None))
        self.far.values[i, j] = value

    def _ensure_far(self, bodypart: str) -> int | None:
        """Column of ``bodypart`` in the far-leg pose (made, all missing, if there is none)."""
        if self.far is None:
            names = tuple(b for b in LEG_CHAIN if b in self.pose.bodyparts)
            if bodypart not in names:
                return None
            self.far = self.pose.replace(values=np.full((self.pose.n_frames, len(names), 3), np.nan),
                                         bodyparts=names, source=None)
        return self.far.bodypart_index(bodypart) if bodypart in self.far.bodyparts else None

    # -- edits ---------------------------------------------------------------------------
    def move(self, frame: int, bodypart: str, *, x: float, y: float) -> None:
        """Put ``bodypart`` at ``(x, y)`` px in ``frame`` (likelihood 1: placed by a person)."""
        i, j = self.row(frame), self.pose.bodypart_index(bodypart)
        lik = 1.0 if self.pose.has_likelihood else np.nan
        self._begin()
        try:
            self._set(i, j, (float(x), float(y), lik))
            self._open.ops.append({"op": "move", "frame": int(frame), "bodypart": bodypart, "x": float(x), "y": float(y)})
        finally:
            self._end()

    def delete(self, frame: int, bodypart: str) -> None:
        """Make ``bodypart`` missing in ``frame`` (x, y, likelihood NaN)."""
        i, j = self.row(frame), self.pose.bodypart_index(bodypart)
        self._begin()
        try:
            self._set(i, j, (np.nan, np.nan, np.nan))
            self._open.ops.append({"op": "delete", "frame": int(frame), "bodypart": bodypart})
        finally:
            self._end()

    def mark_far_leg(self, frame: int, bodypart: str) -> str:
        """"Far leg": the label of ``bodypart`` in ``frame`` lies on the far leg; put it on the near leg.

        The label moves to the far-leg chain (:attr:`far`). The near point takes the value
        its own track has there from the trusted frames around it
        (:meth:`neighbour_estimate`); where that is unknown (a long run of doubtful frames,
        or the start or end of the track) it becomes missing, to be placed by hand.

        Returns
        -------
        str
            ``"neighbours"`` (moved to the estimate) or ``"missing"`` (left to place).
        """
        i, j = self.row(frame), self.pose.bodypart_index(bodypart)
        label = self.pose.values[i, j].copy()
        guess = self.neighbour_estimate(frame, bodypart)
        self._begin()
        try:
            jf = self._ensure_far(bodypart)
            if jf is not None:
                self._set_far(_row(self.far, frame), jf, label)
            if np.isfinite(guess).all():
                lik = 1.0 if self.pose.has_likelihood else np.nan
                self._set(i, j, (float(guess[0]), float(guess[1]), lik))
                outcome = "neighbours"
            else:
                self._set(i, j, (np.nan, np.nan, np.nan))
                outcome = "missing"
            self._open.ops.append({"op": "far_leg", "frame": int(frame), "bodypart": bodypart})
        finally:
            self._end()
        return outcome

    def trusted(self, bodypart: str) -> np.ndarray:
        """``(n_frames,)`` bool: frames whose ``bodypart`` label may serve as a reference.

        Corrected by hand, or not doubtful: not flagged by the cleaning core (wrong limb,
        outlier, likelihood below its threshold), and not lying on the far-leg estimate
        (within :attr:`margin_px`).
        """
        j = self.pose.bodypart_index(bodypart)
        ok = (self.clean_flags[:, j] & (core_clean_flags.FLAGS_DETECTED | core_clean_flags.FLAG_LOW_LIKELIHOOD)) == 0
        if self.far is not None and bodypart in self.far.bodyparts and self.far.n_frames == self.pose.n_frames:
            d = np.linalg.norm(self.pose.xy[:, j] - self.far.bodypart(bodypart)[:, :2], axis=1)
            ok &= ~(np.nan_to_num(d, nan=np.inf) < self.margin_px)
        return ok | self.manual[:, j]

    def neighbour_estimate(self, frame: int, bodypart: str) -> np.ndarray:
        """``(2,)`` x, y (px) of ``bodypart`` in ``frame`` from its trusted neighbours
        (:func:`estimate_from_neighbours_px`); NaN where unknown."""
        j = self.pose.bodypart_index(bodypart)
        return estimate_from_neighbours_px(self.pose.xy[:, j], self.row(frame), self.trusted(bodypart))

    def batch(self, ops: Iterable[Mapping]) -> None:
        """Apply several edit-log entries as ONE action (one undo), e.g. a drag of several points."""
        self._begin()
        try:
            for op in ops:
                self.apply(op)
        finally:
            self._end()

    def accept_value(self, frame: int, bodypart: str, *, x: float, y: float) -> None:
        """Alias of :meth:`move` for a value suggested elsewhere (e.g. the cleaned track)."""
        self.move(frame, bodypart, x=x, y=y)

    def _restore(self, action: _Action, *, forward: bool) -> None:
        cells = action.cells if forward else reversed(action.cells)
        for target, i, j, old, old_manual, new, new_manual in cells:
            value, manual = (new, new_manual) if forward else (old, old_manual)
            if target == "pose":
                self.pose.values[i, j] = value
                self.manual[i, j] = manual
            else:
                self.far.values[i, j] = value

    def undo(self) -> dict | None:
        """Revert the last action; returns its (first) edit, with its ``frame``, or ``None``."""
        return self._go(forward=False)

    def redo(self) -> dict | None:
        """Apply the last undone action again; returns its (first) edit, or ``None``."""
        return self._go(forward=True)

    def _go(self, *, forward: bool) -> dict | None:
        action = self._step(forward)
        if action is None:
            return None
        self._restore(action, forward=forward)
        self.ops.append({"op": "redo" if forward else "undo"})
        return dict(action.ops[0])

    def apply(self, op: Mapping) -> None:
        """Replay one edit-log entry (used to recover an autosave)."""
        kind = op["op"]
        if kind == "move":
            self.move(op["frame"], op["bodypart"], x=op["x"], y=op["y"])
        elif kind == "delete":
            self.delete(op["frame"], op["bodypart"])
        elif kind == "far_leg":
            self.mark_far_leg(op["frame"], op["bodypart"])
        elif kind == "batch":
            self.batch(op["ops"])
        elif kind == "undo":
            self.undo()
        elif kind == "redo":
            self.redo()
        else:
            raise ValueError(f"unknown edit {kind!r}")

    def replay(self, ops: Iterable[Mapping]) -> None:
        for op in ops:
            self.apply(op)

    # -- results -------------------------------------------------------------------------
    def flags(self) -> np.ndarray:
        """Cleaning flags with :data:`clean.FLAG_MANUAL` set on corrected entries."""
        return self.clean_flags | np.where(self.manual, core_clean_flags.FLAG_MANUAL, 0)

    def corrected_frames(self) -> np.ndarray:
        """Frame numbers with at least one manual correction (sorted)."""
        return self.pose.frames[self.manual.any(axis=1)]

    def corrections_table(self) -> pd.DataFrame:
        """One row per corrected entry: ``view, frame, bodypart, x/y/likelihood before and after``."""
        rows, cols = np.nonzero(self.manual)
        b, a = self.original.values[rows, cols], self.pose.values[rows, cols]
        return pd.DataFrame(
            {
                "view": self.view,
                "frame": self.pose.frames[rows].astype(np.int64),
                "bodypart": [self.pose.bodyparts[c] for c in cols],
                "x_before": b[:, 0], "y_before": b[:, 1], "likelihood_before": b[:, 2],
                "x_after": a[:, 0], "y_after": a[:, 1], "likelihood_after": a[:, 2],
            }
        )

    # -- autosave ------------------------------------------------------------------------
    def source_sha256(self) -> str | None:
        """SHA-256 of the source file, computed once (the source is never written)."""
        if not hasattr(self, "_source_sha"):
            src = self.original.source
            self._source_sha = file_sha256(src) if src and Path(src).is_file() else None
        return self._source_sha

    def autosave_payload(self, review: ReviewState | None = None) -> dict:
        src = self.original.source
        return {
            "kind": "pose_edits",
            "view": self.view,
            "source": str(src) if src else None,
            "source_sha256": self.source_sha256(),
            "base_sha256": self.base_sha256,  # the refined file the edits were made on
            "ops": list(self.ops),
            "review": review.to_dict() if review is not None else None,
        }


@dataclasses.dataclass
class _Action:
    """One undoable action: its edit-log entries and the cells it changed
    (``(target, i, j, old, old_manual, new, new_manual)``, target ``"pose"`` or ``"far"``)."""

    ops: list[dict] = dataclasses.field(default_factory=list)
    cells: list[tuple] = dataclasses.field(default_factory=list)


def autosave_edits(editor: PoseEditor, *, review: ReviewState | None = None, target: str | Path | None = None) -> Path:
    """Write the editor's unsaved edit log next to its source (see :func:`recover_edits`)."""
    target = Path(target) if target is not None else editor.original.source
    if target is None:
        raise InputFileError(None, "the pose has no source file; give target= for the autosave")
    return write_autosave(target, editor.autosave_payload(review))


def recover_edits(editor: PoseEditor, *, target: str | Path | None = None, review: ReviewState | None = None) -> int:
    """Replay the autosaved edits of the editor's source onto ``editor``; returns the edit count.

    The edits are replayed on what the editor holds: start it from the saved corrections
    (:meth:`PoseEditor.resume`) first when there are some, as the session that autosaved did.

    Raises
    ------
    InputFileError
        If the source file changed since the autosave (its SHA-256 differs): replaying the
        edits onto other data would put them in the wrong place.
    """
    target = Path(target) if target is not None else editor.original.source
    data = read_autosave(target) if target is not None else None
    if not data or data.get("kind") != "pose_edits":
        return 0
    sha = data.get("source_sha256")
    src = editor.original.source
    if sha and src and Path(src).is_file() and file_sha256(src) != sha:
        raise InputFileError(src, "changed since the autosave was written; the autosaved edits cannot be replayed")
    editor.replay(data.get("ops", []))
    if review is not None and data.get("review"):
        review.restore(data["review"])
    return len(data.get("ops", []))


def has_autosave(target: str | Path) -> bool:
    """Whether ``target`` has an autosave with edits, events or review ticks in it."""
    data = read_autosave(target)
    if not data:
        return False
    return bool(data.get("ops") or data.get("events") or (data.get("review") or {}).get("reviewed"))
