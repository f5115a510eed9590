"""Corrected predictions on disk: ``refined/<source name>`` beside the source, the list of
corrections and the review ticks beside it, read back and merged.

:func:`save_refined` writes what a :class:`~napari_gaitint.core.corrections.PoseEditor` holds
(DLC layout and file name, same row index: DeepLabCut's tools take it with
``destfolder="refined"`` and never mistake it for the original, see docs/deeplabcut.md),
merging corrections saved meanwhile by another session (:func:`merge_corrections`);
:func:`load_saved_corrections` reads them back. Everything here is importable from
:mod:`napari_gaitint.core.corrections` too.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ._csv import write_csv
from ._files import file_sha256, write_text_atomic
from .edits import discard_autosave
from .errors import InputFileError
from .io import write_dlc_metadata, write_dlc_table
from .pose import Pose
from .qa import ReviewState

if TYPE_CHECKING:
    from .corrections import PoseEditor


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
