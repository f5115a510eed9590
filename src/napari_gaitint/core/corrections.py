"""Manual corrections of keypoints: the editor, its autosave, and the corrected predictions on disk.

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
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from . import clean as _clean
from . import clean_filters as core_clean_filters
from . import clean_flags as core_clean_flags
from ._csv import write_csv
from ._files import file_sha256, write_text_atomic
from .config import LEG_CHAIN
from .edits import EditHistory, discard_autosave, read_autosave, write_autosave
from .errors import AnalysisError, InputFileError
from .io import write_dlc_metadata, write_dlc_table
from .pose import Pose
from .qa import ReviewState


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


#: Folder beside the source that holds the refined predictions.
REFINED_DIR = "refined"


def refined_path(source: str | Path, *, ext: str | None = None) -> Path:
    """``refined/<source stem><ext>`` beside ``source`` (``ext`` defaults to the source's).

    The file keeps DeepLabCut's name ``<video>DLC_<scorer>.h5``, so DeepLabCut's tools find it
    when told the folder (``destfolder``); in its own folder, they never take it instead of
    the original when looking beside the video (DLC looks one folder deep, by name).

    Examples
    --------
    >>> p = refined_path("/data/T01_C1DLC_resnet50.h5", ext=".csv")
    >>> p.parent.name, p.name
    ('refined', 'T01_C1DLC_resnet50.csv')
    """
    source = Path(source)
    return source.parent / REFINED_DIR / f"{source.stem}{ext or source.suffix}"


def _sidecar(base: Path, name: str) -> Path:
    """``<base stem>_<name>`` next to the refined file ``base``."""
    return base.with_name(f"{base.stem}_{name}")


def review_path(source: str | Path) -> Path:
    """The review ticks saved with the refined files of ``source`` (``refined/<stem>_review.json``).

    Examples
    --------
    >>> p = review_path("/data/T01_C1DLC_resnet50.h5")
    >>> p.parent.name, p.name
    ('refined', 'T01_C1DLC_resnet50_review.json')
    """
    return _sidecar(refined_path(source, ext=".json"), "review.json")


def legacy_refined_path(source: str | Path, *, ext: str | None = None) -> Path:
    """Where earlier versions saved the refined predictions: ``<stem>_refined<ext>`` beside the
    source (read to resume; saves go to :func:`refined_path`)."""
    source = Path(source)
    return source.with_name(f"{source.stem}_refined{ext or source.suffix}")


@dataclasses.dataclass
class SavedCorrections:
    """Corrections an earlier save left next to a source (:func:`load_saved_corrections`).

    Attributes
    ----------
    path
        The refined file read.
    values
        ``(n_frames, n_bodyparts, 3)`` x, y (px), likelihood, in the source's rows and columns.
    manual
        ``(n_frames, n_bodyparts)`` bool: corrected by hand (listed in the corrections csv,
        or different from the source).
    sha256
        SHA-256 of ``path`` when read (a later save merges if it changed meanwhile).
    reviewed
        ``(view, frame)`` accepted as reviewed, from :func:`review_path`.
    """

    path: Path
    values: np.ndarray
    manual: np.ndarray
    sha256: str
    reviewed: set[tuple[str, int]]

    @property
    def n_corrected(self) -> int:
        return int(self.manual.sum())


def _differs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(..., 3)`` -> ``(...)``: cells whose x, y or likelihood differ (NaN equals NaN)."""
    return ~((a == b) | (np.isnan(a) & np.isnan(b))).all(axis=-1)


def read_refined(path: str | Path, source_pose: Pose) -> tuple[np.ndarray, np.ndarray]:
    """Values and manual marks of a refined file written for ``source_pose``.

    Returns
    -------
    values, manual
        See :class:`SavedCorrections`.

    Raises
    ------
    InputFileError
        If the file does not hold ``source_pose``'s individual, body parts and frames.
    """
    from .io import load_poses

    path = Path(path)
    poses = load_poses(path)
    who = source_pose.individual if source_pose.individual is not None else ""
    if who not in poses:
        raise InputFileError(path, f"has no individual {who!r} (it has {sorted(poses)}); it is not the refined "
                                   f"file of {getattr(source_pose.source, 'name', 'this source')}")
    saved = poses[who]
    if set(saved.bodyparts) != set(source_pose.bodyparts) or not np.array_equal(saved.frames, source_pose.frames):
        raise InputFileError(path, f"does not match its source {getattr(source_pose.source, 'name', '')} "
                                   "(other body parts or frames); move it away to start again from the source")
    values = saved.values[:, [saved.bodypart_index(b) for b in source_pose.bodyparts]]
    manual = _differs(values, source_pose.values)
    corr = path.with_name(f"{path.stem}_corrections.csv")
    if corr.is_file():
        try:
            listed = pd.read_csv(corr, usecols=["frame", "bodypart"])
        except (ValueError, OSError) as err:
            raise InputFileError(corr, f"cannot read the corrections list ({err})") from err
        rows = pd.Index(source_pose.frames).get_indexer(listed["frame"].to_numpy())
        cols = pd.Index(source_pose.bodyparts).get_indexer(listed["bodypart"].astype(str).to_numpy())
        ok = (rows >= 0) & (cols >= 0)
        manual[rows[ok], cols[ok]] = True
    return values, manual


def load_saved_corrections(pose: Pose) -> SavedCorrections | None:
    """The corrections saved beside ``pose.source`` by :func:`save_refined`, if any.

    Reads ``refined/<stem>.h5`` (or ``.csv``; where there is none, a ``<stem>_refined.h5``
    or ``.csv`` saved by an earlier version), its corrections list and the review ticks
    (:func:`review_path`, else the earlier ``<stem>_refined_review.json``). ``None`` when the
    source has no refined file.
    """
    src = pose.source
    if src is None:
        return None
    candidates = [refined_path(src, ext=ext) for ext in (".h5", ".csv")]
    candidates += [legacy_refined_path(src, ext=ext) for ext in (".h5", ".csv")]
    path = next((c for c in candidates if c.is_file()), None)
    if path is None:
        return None
    values, manual = read_refined(path, pose)
    reviews = (review_path(src), _sidecar(legacy_refined_path(src, ext=".json"), "review.json"))
    return SavedCorrections(path=path, values=values, manual=manual, sha256=file_sha256(path),
                            reviewed=set().union(*(load_review(r) for r in reviews)))


def load_review(path: str | Path) -> set[tuple[str, int]]:
    """``(view, frame)`` pairs of a review file (empty set if there is none)."""
    path = Path(path)
    if not path.is_file():
        return set()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {(str(v), int(f)) for v, f in data.get("reviewed", [])}
    except (OSError, ValueError, TypeError) as err:
        raise InputFileError(path, f"cannot read the review ticks ({err})") from err


def save_review(path: str | Path, reviewed: Iterable[tuple[str, int]]) -> Path:
    """Write review ticks ``(view, frame)`` atomically (sorted, JSON)."""
    data = {"reviewed": sorted([str(v), int(f)] for v, f in reviewed)}
    return write_text_atomic(Path(path), json.dumps(data, indent=1), overwrite=True)


@dataclasses.dataclass
class MergedCorrections:
    """Outcome of :func:`merge_corrections`.

    Attributes
    ----------
    values, manual
        The merged state.
    n_theirs
        Cells taken from the file (corrected there, not here).
    conflicts
        ``(row, column)`` pairs corrected differently on both sides.
    """

    values: np.ndarray
    manual: np.ndarray
    n_theirs: int
    conflicts: list[tuple[int, int]]


def merge_corrections(
    base: np.ndarray,
    ours: np.ndarray,
    theirs: np.ndarray,
    *,
    ours_manual: np.ndarray,
    theirs_manual: np.ndarray,
    prefer: str = "ours",
) -> MergedCorrections:
    """Three-way merge of corrected keypoints, cell by cell (frame, body part).

    ``base`` is what both sides started from (the file when this session read it),
    ``ours`` this session's values, ``theirs`` the file now (saved meanwhile by someone
    else). A cell changed on one side only takes that side's value; a cell changed on both
    sides to different values is a conflict, settled by ``prefer`` (``"ours"`` or
    ``"theirs"``). Arrays are ``(n_frames, n_bodyparts, 3)``; manual marks ``(n_frames, n_bodyparts)``.

    Examples
    --------
    >>> base = np.zeros((2, 1, 3)); ours = base.copy(); theirs = base.copy()
    >>> ours[0, 0] = 1.0; theirs[1, 0] = 2.0
    >>> m = merge_corrections(base, ours, theirs, ours_manual=ours[..., 0] > 0, theirs_manual=theirs[..., 0] > 0)
    >>> m.values[:, 0, 0].tolist(), m.manual[:, 0].tolist(), m.n_theirs, m.conflicts
    ([1.0, 2.0], [True, True], 1, [])
    """
    if prefer not in ("ours", "theirs"):
        raise ValueError(f"prefer must be 'ours' or 'theirs', not {prefer!r}")
    we, they = _differs(ours, base), _differs(theirs, base)
    conflict = we & they & _differs(ours, theirs)
    take = (they & ~we) | (conflict if prefer == "theirs" else np.zeros_like(conflict))
    values = np.where(take[..., None], theirs, ours)
    manual = np.where(take, theirs_manual, ours_manual | (theirs_manual & ~we))
    rows, cols = np.nonzero(conflict)
    return MergedCorrections(values=values, manual=manual, n_theirs=int(take.sum()),
                             conflicts=list(zip(rows.tolist(), cols.tolist(), strict=True)))


class CorrectionsConflictError(InputFileError):
    """The refined file was saved meanwhile with other values in cells this session corrected too."""

    def __init__(self, path: str | Path, conflicts: list[tuple[int, str]]):
        self.conflicts = conflicts
        shown = ", ".join(f"{b} in frame {f}" for f, b in conflicts[:5]) + (" ..." if len(conflicts) > 5 else "")
        super().__init__(path, f"was saved by another session since you opened it, with other corrections of "
                               f"{len(conflicts)} point(s) you corrected too ({shown}); keep yours or the file's")

    def __reduce__(self):
        return (type(self), (self.path, self.conflicts))


def save_refined(
    editor: PoseEditor,
    *,
    path: str | Path | None = None,
    formats: Sequence[str] = (".h5", ".csv"),
    review: ReviewState | None = None,
    on_conflict: str = "raise",
) -> list[Path]:
    """Save the corrected predictions in DLC layout beside the source, plus a corrections csv.

    Writes ``refined/<source stem>.h5`` and ``.csv`` (:func:`refined_path`: same scorer,
    body parts and row index as the source, so frame numbers never shift, and DeepLabCut's
    file name), ``refined/<source stem>_corrections.csv`` and, with ``review``, the review
    ticks of this view (:func:`review_path`). The source itself is never written.

    No correction is lost: when the refined file changed since the editor started from it
    (:meth:`PoseEditor.resume`; or appeared since), the file's corrections are merged in
    (:func:`merge_corrections`) and the editor takes the merged state. Points corrected
    differently on both sides raise :class:`CorrectionsConflictError` unless ``on_conflict``
    says whose to keep (``"ours"``/``"theirs"``). Review ticks are merged too (union).

    Parameters
    ----------
    path
        Base output path instead of ``refined/<source stem>`` (its suffix is replaced by
        each of ``formats``).
    """
    src = editor.original.source
    base = Path(path) if path is not None else (refined_path(src) if src else None)
    if base is None:
        raise InputFileError(None, "the predictions have no source file; choose where to save them")
    targets = [base.with_suffix(ext) for ext in formats]
    for target in targets:
        if src is not None and target.resolve() == Path(src).resolve():
            raise InputFileError(target, "is the source file; the source is never overwritten, choose another name")
    first = targets[0]
    if first.is_file() and file_sha256(first) != editor.base_sha256:
        theirs, theirs_manual = read_refined(first, editor.original)
        if on_conflict == "raise":
            merged = merge_corrections(editor.base_values, editor.pose.values, theirs,
                                       ours_manual=editor.manual, theirs_manual=theirs_manual)
            if merged.conflicts:
                frames = editor.pose.frames
                raise CorrectionsConflictError(first, [(int(frames[r]), editor.pose.bodyparts[c])
                                                       for r, c in merged.conflicts])
        else:
            merged = merge_corrections(editor.base_values, editor.pose.values, theirs, ours_manual=editor.manual,
                                       theirs_manual=theirs_manual, prefer=on_conflict)
        editor.pose.values[...] = merged.values
        editor.manual[...] = merged.manual
        editor.n_merged = merged.n_theirs + (len(merged.conflicts) if on_conflict == "theirs" else 0)
    else:
        editor.n_merged = 0
    out = []
    table = _refined_table(editor)
    for ext, target in zip(formats, targets, strict=True):
        target.parent.mkdir(exist_ok=True)
        write_dlc_table(table, target, overwrite=True)
        out.append(target)
        if ext == ".h5":  # DeepLabCut's tools need its metadata file beside predictions
            write_dlc_metadata(target, source=src, pose=editor.pose, overwrite=True)
    corr = base.with_name(f"{base.stem}_corrections.csv")
    write_csv(corr, editor.corrections_table(), overwrite=True)
    out.append(corr)
    if review is not None and src is not None:
        rp = review_path(src) if path is None else _sidecar(base.with_suffix(".json"), "review.json")
        mine = {key for key in review.reviewed if key[0] == editor.view}
        out.append(save_review(rp, mine | load_review(rp)))
    editor.base_values = editor.pose.values.copy()
    editor.base_manual = editor.manual.copy()
    editor.base_sha256 = file_sha256(first)
    editor.mark_saved()
    if src is not None:
        discard_autosave(src)
    return out


def _refined_table(editor: PoseEditor) -> pd.DataFrame:
    """DLC table of the corrected pose; other individuals of a multi-animal source kept as read."""
    from .io import load_poses, poses_to_dlc_table

    pose = editor.pose
    src = editor.original.source
    if pose.individual is not None and src is not None and Path(src).is_file():
        others = load_poses(src)
        if pose.individual in others and all(p.n_frames == pose.n_frames for p in others.values()):
            poses = [pose if name == pose.individual else p for name, p in others.items()]
            return poses_to_dlc_table(poses)
    return poses_to_dlc_table([pose])
