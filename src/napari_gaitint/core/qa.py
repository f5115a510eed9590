"""Label QA: rank suspicious keypoints, keep track of review, record manual corrections. Pure.

Suspects (:func:`find_suspects`) are ``(frame, bodypart)`` entries of one view, each with the
reasons it looks wrong and a score (higher = look first):

* ``wrong_limb`` — the cleaning core flagged it (:data:`clean.FLAG_WRONG_LIMB`);
* ``other_view`` — disagreement with the opposite camera: a leg-chain label that lies on the
  opposite camera's near leg mapped into this image (i.e. on this camera's far leg) while the
  legs are apart, or a trunk label (neck, hip) far from the mapped opposite-camera point;
* ``jump`` — the point leaves its own track by more than ``jump_margin_px`` (distance to the
  mean of its two neighbours, a second difference, so smooth fast motion does not count);
* ``low_likelihood`` — DLC's likelihood below the threshold (or the point is missing).

:class:`ReviewState` holds the ranked suspect frames and which ones a person accepted
("k of n reviewed"). :class:`PoseEditor` applies manual corrections (move, delete → missing,
"far leg / swapped", undo) to a copy of the predictions, never to the source, logs them for
autosave/recovery and marks them with :data:`clean.FLAG_MANUAL`. :func:`save_refined` writes the
result as ``refined/<source name>`` beside the source (DLC layout and file name, same row
index: DeepLabCut's tools take it with ``destfolder="refined"`` and never mistake it for the
original, see docs/deeplabcut.md), and
:func:`export_corrected_labels` merges the corrected frames into DLC ``CollectedData`` labels
(with their frame images) for retraining.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from . import clean as _clean
from ._csv import write_csv
from ._files import file_sha256
from .annotations import discard_autosave, read_autosave, write_autosave
from .errors import AnalysisError, InputFileError
from .io import LEG_CHAIN, Pose, leg_length_px, write_dlc_metadata, write_dlc_table

#: Suspect kinds, most important first.
SUSPECT_KINDS: tuple[str, ...] = ("wrong_limb", "other_view", "jump", "low_likelihood")
#: Columns of a suspects table.
SUSPECT_COLUMNS: tuple[str, ...] = (
    "view", "frame", "bodypart", "kinds", "score", "likelihood", "jump_px", "other_view_px",
)
TRUNK: tuple[str, ...] = ("neck", "hip")
# Legs cross under the pelvis: a far-leg point within this many margins of the hip x is not evidence.
HIP_CROSS_FRAC = 2.0


@dataclasses.dataclass(frozen=True)
class QAConfig:
    """Thresholds of :func:`find_suspects` (pixels are image pixels).

    Attributes
    ----------
    likelihood_threshold
        DLC likelihood below which a point is suspect.
    jump_margin_px
        Distance from the mean of the two neighbouring frames above which a point jumps.
        ``None`` (default): ``jump_margin_leg`` x the subject's leg length in the view's image
        (:func:`~napari_gaitint.core.io.leg_length_px`; 25 px for a leg of ~170 px).
    other_view_margin_px
        A leg label closer than this to the mapped far leg is "on the far leg" (not counted
        within ``2 x`` this of the hip in x, where the legs cross); a trunk label farther than
        ``3 x`` this from the mapped opposite-camera point disagrees. On 24 synthetic trials
        (175 injected wrong-limb labels) this hint alone has precision 0.99 and recall 0.41:
        it complements the cleaning core's ``wrong_limb`` flags, it does not replace them.
        ``None`` (default): ``other_view_margin_leg`` x the leg length (20 px for ~170 px).
    jump_margin_leg, other_view_margin_leg
        The two margins as fractions of the leg length, when they are None.
    weights
        Score weight per kind; the score of an entry is the sum over its kinds of
        ``weight x strength`` with strength in 0..1.
    """

    likelihood_threshold: float = 0.6
    jump_margin_px: float | None = None
    other_view_margin_px: float | None = None
    jump_margin_leg: float = 0.15
    other_view_margin_leg: float = 0.12
    weights: tuple[tuple[str, float], ...] = (
        ("wrong_limb", 4.0), ("other_view", 2.0), ("jump", 1.5), ("low_likelihood", 1.0),
    )

    def weight(self, kind: str) -> float:
        return dict(self.weights).get(kind, 1.0)

    def margins_px(self, pose: Pose) -> tuple[float, float]:
        """``(jump, other_view)`` margins in pixels for this view (see the attributes)."""
        leg = leg_length_px(pose)
        if leg is None or not leg > 0:  # no hip/neck + ankle: as for a 540-px-high image
            leg = _REFERENCE_LEG_PX * (pose.frame_size[1] / 540.0 if pose.frame_size else 1.0)
        jump = self.jump_margin_px if self.jump_margin_px is not None else self.jump_margin_leg * leg
        other = (self.other_view_margin_px if self.other_view_margin_px is not None
                 else self.other_view_margin_leg * leg)
        return float(jump), float(other)


_REFERENCE_LEG_PX = 170.0  # leg length of a subject about half the height of a 960 x 540 view


# ---------------------------------------------------------------------------------------
# Suspects
# ---------------------------------------------------------------------------------------
def jump_residual_px(xy: np.ndarray) -> np.ndarray:
    """Distance (px) of each point from the mean of its neighbours (or the one neighbour there is).

    ``xy`` is ``(n_frames, 2)``; NaN where the point or both neighbours are missing.

    Examples
    --------
    >>> xy = np.array([[0.0, 0], [1, 0], [50, 0], [3, 0], [4, 0]])
    >>> jump_residual_px(xy).round(1).tolist()
    [1.0, 24.0, 48.0, 24.0, 1.0]
    """
    xy = np.asarray(xy, float)
    n = len(xy)
    prev = np.full_like(xy, np.nan)
    nxt = np.full_like(xy, np.nan)
    prev[1:] = xy[:-1]
    nxt[:-1] = xy[1:]
    both = np.isfinite(prev).all(1) & np.isfinite(nxt).all(1)
    with np.errstate(invalid="ignore", over="ignore"):  # inf in a hand-edited file: NaN/inf out
        ref = np.where(both[:, None], (prev + nxt) / 2.0, np.where(np.isfinite(prev).all(1)[:, None], prev, nxt))
        out = np.linalg.norm(xy - ref, axis=1)
    return out if n else np.empty(0)


def map_other_view(pose: Pose, other: Pose, *, config: _clean.CleanConfig | None = None) -> tuple[Pose, dict]:
    """The opposite camera's keypoints mapped into ``pose``'s image (per-axis linear map).

    Uses the cleaning core's alignment on the shared neck/hip tracks
    (:func:`clean.far_leg_from_other_view`); the mapped leg chain is this camera's far leg.

    Returns
    -------
    mapped
        A pose with ``pose``'s frames and ``other``'s body parts (likelihood copied).
    alignment
        As :func:`clean.far_leg_from_other_view` (frames matched with its ``lag_frames``).
    """
    _, align = _clean.far_leg_from_other_view(pose, other, config=config)
    pos = pd.Index(other.frames).get_indexer(pose.frames + align.get("lag_frames", 0))
    has = pos >= 0
    values = np.full((pose.n_frames, len(other.bodyparts), 3), np.nan)
    src = other.values[pos[has]]
    values[has, :, 0] = align["ax"] * src[:, :, 0] + align["bx"]
    values[has, :, 1] = align["ay"] * src[:, :, 1] + align["by"]
    values[has, :, 2] = src[:, :, 2]
    mapped = pose.replace(values=values, bodyparts=other.bodyparts, source=None, meta={"mapped_from": str(other.source)})
    return mapped, align


def far_leg_estimate(pose: Pose, other: Pose, *, config: _clean.CleanConfig | None = None) -> Pose:
    """This camera's far leg (leg chain only), estimated from the opposite camera's near leg."""
    mapped, _ = map_other_view(pose, other, config=config)
    names = [b for b in LEG_CHAIN if b in mapped.bodyparts]
    far = mapped.select(names)
    far.meta["far_leg"] = True
    return far


def find_suspects(
    pose: Pose,
    *,
    view: str = "",
    flags: np.ndarray | None = None,
    other_mapped: Pose | None = None,
    other_flags: np.ndarray | None = None,
    config: QAConfig | None = None,
) -> pd.DataFrame:
    """Suspicious ``(frame, bodypart)`` entries of one view, ranked by score.

    Parameters
    ----------
    pose
        DLC predictions of this view (image pixels).
    view
        View name written in the table (e.g. ``"C1"``).
    flags
        ``(n_frames, n_bodyparts)`` bit flags from :func:`clean.clean_pose` on this pose.
    other_mapped
        The opposite camera mapped into this image (:func:`map_other_view`).
    other_flags
        Cleaning flags of the opposite camera (rows matched to ``other_mapped``'s frames, columns
        to its body parts). Where the opposite camera's own label was judged wrong
        (wrong limb or outlier), a coincidence with it is explained there and not flagged here.
    config
        Thresholds.

    Returns
    -------
    DataFrame
        Columns :data:`SUSPECT_COLUMNS`; ``kinds`` joins the reasons with ``+``, ``frame``
        is the frame number. Sorted by score (descending), then frame.
    """
    config = config or QAConfig()
    n, k = pose.n_frames, len(pose.bodyparts)
    xy = pose.xy
    lik = pose.likelihood
    strength = {kind: np.zeros((n, k)) for kind in SUSPECT_KINDS}
    jump = np.full((n, k), np.nan)
    other_px = np.full((n, k), np.nan)

    if flags is not None:
        flags = np.asarray(flags, np.int64)
        if flags.shape != (n, k):
            raise ValueError(f"flags shape {flags.shape} does not match the pose ({n}, {k})")
        strength["wrong_limb"][(flags & _clean.FLAG_WRONG_LIMB) != 0] = 1.0

    if pose.has_likelihood:
        thr = config.likelihood_threshold
        low = np.isfinite(lik) & (lik < thr)
        strength["low_likelihood"] = np.where(low, (thr - np.nan_to_num(lik)) / thr, 0.0)
    missing = ~np.isfinite(xy).all(-1)
    strength["low_likelihood"][missing] = 1.0

    m, mo = config.margins_px(pose)
    for j in range(k):
        r = jump_residual_px(xy[:, j])
        jump[:, j] = r
        over = np.nan_to_num(r) > m
        strength["jump"][over, j] = np.clip((r[over] - m) / m, 0.2, 1.0)

    if other_mapped is not None:
        hip = pose.bodypart("hip")[:, :2] if "hip" in pose.bodyparts else None
        for j, bp in enumerate(pose.bodyparts):
            if bp not in other_mapped.bodyparts:
                continue
            o = other_mapped.bodypart(bp)[:, :2].copy()
            if other_flags is not None:
                jo = other_mapped.bodypart_index(bp)
                bad = (np.asarray(other_flags)[:, jo] & _clean.FLAGS_DETECTED) != 0
                o[bad] = np.nan
            d = np.linalg.norm(xy[:, j] - o, axis=1)
            other_px[:, j] = d
            if bp in TRUNK:
                over = np.nan_to_num(d) > 3 * mo
                strength["other_view"][over, j] = np.clip((d[over] - 3 * mo) / (3 * mo), 0.2, 1.0)
            elif bp in LEG_CHAIN:
                on_far = np.isfinite(d) & (d < mo)
                if hip is not None:
                    # Legs cross under the pelvis: there a label near the far leg is expected.
                    apart = np.abs(o[:, 0] - hip[:, 0]) > HIP_CROSS_FRAC * mo
                    on_far &= np.nan_to_num(apart).astype(bool)
                strength["other_view"][on_far, j] = 1.0 - d[on_far] / mo * 0.5

    score = sum(config.weight(kind) * strength[kind] for kind in SUSPECT_KINDS)
    rows, cols = np.nonzero(score > 0)
    frames = pose.frames
    kinds = [
        "+".join(kind for kind in SUSPECT_KINDS if strength[kind][r, c] > 0) for r, c in zip(rows, cols, strict=True)
    ]
    table = pd.DataFrame(
        {
            "view": np.full(len(rows), view, dtype=object),
            "frame": frames[rows].astype(np.int64),
            "bodypart": np.asarray([pose.bodyparts[c] for c in cols], dtype=object),
            "kinds": np.asarray(kinds, dtype=object),
            "score": score[rows, cols],
            "likelihood": lik[rows, cols],
            "jump_px": jump[rows, cols],
            "other_view_px": other_px[rows, cols],
        },
        columns=list(SUSPECT_COLUMNS),
    )
    return rank_suspects(table)


def rank_suspects(*tables: pd.DataFrame) -> pd.DataFrame:
    """Concatenate suspects tables (e.g. of both views) and sort by score, view, frame, body part."""
    tables = [t for t in tables if t is not None and len(t)]
    if not tables:
        return pd.DataFrame({c: [] for c in SUSPECT_COLUMNS})
    out = pd.concat(tables, ignore_index=True)
    out = out.sort_values(["score", "view", "frame", "bodypart"], ascending=[False, True, True, True], kind="stable")
    return out.reset_index(drop=True)


def suspect_frames(suspects: pd.DataFrame, *, min_score: float = 0.0) -> pd.DataFrame:
    """One row per suspicious ``(view, frame)``: ``score`` (max), ``bodyparts``, ``kinds``, ranked."""
    s = suspects[suspects["score"] > min_score]
    if s.empty:
        return pd.DataFrame({"view": [], "frame": [], "score": [], "bodyparts": [], "kinds": []})
    # one pass over the rows: a pandas groupby with per-group functions took 1.06 s for the
    # ~56 000 suspect frames of a 100 000-frame recording, all of this function now 0.19 s
    by_frame: dict = {}
    columns = (s[c].tolist() for c in ("view", "frame", "score", "bodypart", "kinds"))
    for view, frame, score, part, kinds in zip(*columns, strict=True):
        entry = by_frame.get((view, frame))
        if entry is None:
            by_frame[(view, frame)] = [score, {part: None}, dict.fromkeys(kinds.split("+"))]
        else:
            entry[0] = max(entry[0], score)
            entry[1][part] = None
            entry[2].update(dict.fromkeys(kinds.split("+")))
    out = pd.DataFrame({
        "view": [k[0] for k in by_frame],
        "frame": np.fromiter((k[1] for k in by_frame), dtype=np.int64, count=len(by_frame)),
        "score": [e[0] for e in by_frame.values()],
        "bodyparts": [",".join(e[1]) for e in by_frame.values()],
        "kinds": ["+".join(e[2]) for e in by_frame.values()],
    })
    out = out.sort_values(["score", "view", "frame"], ascending=[False, True, True], kind="stable")
    return out.reset_index(drop=True)


# ---------------------------------------------------------------------------------------
# Review state
# ---------------------------------------------------------------------------------------
class ReviewState:
    """Ranked suspect frames, the current position in the list and which frames were reviewed.

    Parameters
    ----------
    frames
        Table from :func:`suspect_frames` (``view``, ``frame`` ... in review order).

    Examples
    --------
    >>> st = ReviewState(pd.DataFrame({"view": ["C1", "C3"], "frame": [7, 3], "score": [2.0, 1.0]}))
    >>> st.next()
    ('C1', 7)
    >>> st.accept("C1", 7); st.counter_text()
    '1 of 2 reviewed'
    >>> st.next(unreviewed_only=True)
    ('C3', 3)
    """

    def __init__(self, frames: pd.DataFrame):
        self.frames = frames.reset_index(drop=True)
        self._keys = [(str(v), int(f)) for v, f in zip(self.frames["view"], self.frames["frame"], strict=True)]
        self._place = {key: i for i, key in reversed(list(enumerate(self._keys)))}  # first place
        self.reviewed: set[tuple[str, int]] = set()
        self.position: int = -1

    @property
    def n(self) -> int:
        """Number of suspect frames."""
        return len(self._keys)

    @property
    def k(self) -> int:
        """Number of suspect frames reviewed."""
        return sum(1 for key in self._keys if key in self.reviewed)

    def counter_text(self) -> str:
        return f"{self.k} of {self.n} reviewed"

    def key(self, position: int) -> tuple[str, int]:
        return self._keys[position]

    def index_of(self, view: str, frame: int) -> int | None:
        return self._place.get((str(view), int(frame)))

    def _step(self, step: int, unreviewed_only: bool) -> tuple[str, int] | None:
        if not self._keys:
            return None
        pos = self.position
        for _ in range(self.n):
            pos = pos + step
            if pos < 0 or pos >= self.n:
                return None
            if not unreviewed_only or self._keys[pos] not in self.reviewed:
                self.position = pos
                return self._keys[pos]
        return None

    def next(self, *, unreviewed_only: bool = False) -> tuple[str, int] | None:
        """Go to the next suspect frame in rank order; ``None`` (position kept) at the end."""
        return self._step(+1, unreviewed_only)

    def previous(self, *, unreviewed_only: bool = False) -> tuple[str, int] | None:
        """Go to the previous suspect frame; ``None`` (position kept) at the start."""
        return self._step(-1, unreviewed_only)

    def go_to(self, position: int) -> tuple[str, int]:
        self.position = int(position)
        return self._keys[self.position]

    def accept(self, view: str, frame: int) -> None:
        """Mark ``(view, frame)`` as reviewed (also frames that are not in the list)."""
        self.reviewed.add((str(view), int(frame)))

    def unaccept(self, view: str, frame: int) -> None:
        self.reviewed.discard((str(view), int(frame)))

    def to_dict(self) -> dict:
        return {"reviewed": sorted([v, f] for v, f in self.reviewed), "position": self.position}

    def restore(self, data: Mapping) -> None:
        self.reviewed = {(str(v), int(f)) for v, f in data.get("reviewed", [])}
        self.position = int(data.get("position", -1))


# ---------------------------------------------------------------------------------------
# Manual corrections
# ---------------------------------------------------------------------------------------
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


class PoseEditor:
    """Manual corrections of one view's predictions, with undo, an edit log and manual flags.

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
        See :func:`swap_with_far_leg`; ``None``: from the leg length of ``pose``.

    Examples
    --------
    >>> ed = PoseEditor(Pose(np.ones((3, 1, 3)), ("knee",)))
    >>> ed.move(1, "knee", x=5.0, y=6.0); ed.pose.values[1, 0].tolist(), bool(ed.manual[1, 0])
    ([5.0, 6.0, 1.0], True)
    >>> _ = ed.undo(); ed.pose.values[1, 0].tolist(), bool(ed.manual[1, 0])
    ([1.0, 1.0, 1.0], False)
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
        self._undo: list[tuple[np.ndarray, np.ndarray, Pose | None, dict]] = []
        self._saved_at = 0  # len(ops) at the last save

    # -- state ---------------------------------------------------------------------------
    @property
    def dirty(self) -> bool:
        """Whether there are edits since the last :meth:`mark_saved`."""
        return len(self.ops) != self._saved_at

    def mark_saved(self) -> None:
        self._saved_at = len(self.ops)

    def row(self, frame: int) -> int:
        return _row(self.pose, frame)

    def _push(self, op: dict) -> None:
        far = self.far.copy() if self.far is not None else None
        self._undo.append((self.pose.values.copy(), self.manual.copy(), far, op))

    # -- edits ---------------------------------------------------------------------------
    def move(self, frame: int, bodypart: str, *, x: float, y: float) -> None:
        """Put ``bodypart`` at ``(x, y)`` px in ``frame`` (likelihood 1: placed by a person)."""
        i, j = self.row(frame), self.pose.bodypart_index(bodypart)
        op = {"op": "move", "frame": int(frame), "bodypart": bodypart, "x": float(x), "y": float(y)}
        self._push(op)
        lik = 1.0 if self.pose.has_likelihood else np.nan
        self.pose.values[i, j] = (float(x), float(y), lik)
        self.manual[i, j] = True
        self.ops.append(op)

    def delete(self, frame: int, bodypart: str) -> None:
        """Make ``bodypart`` missing in ``frame`` (x, y, likelihood NaN)."""
        i, j = self.row(frame), self.pose.bodypart_index(bodypart)
        op = {"op": "delete", "frame": int(frame), "bodypart": bodypart}
        self._push(op)
        self.pose.values[i, j] = np.nan
        self.manual[i, j] = True
        self.ops.append(op)

    def mark_far_leg(self, frame: int, bodypart: str) -> None:
        """"Far leg / swapped": see :func:`swap_with_far_leg`; without an estimate the point goes missing."""
        op = {"op": "far_leg", "frame": int(frame), "bodypart": bodypart}
        i, j = self.row(frame), self.pose.bodypart_index(bodypart)
        self._push(op)
        far = self.far
        if far is None or bodypart not in far.bodyparts:
            names = tuple(b for b in LEG_CHAIN if b in self.pose.bodyparts)
            if bodypart not in names:
                names = (*names, bodypart)
            vals = np.full((self.pose.n_frames, len(names), 3), np.nan)
            if far is not None:
                for jj, b in enumerate(names):
                    if b in far.bodyparts:
                        vals[:, jj] = far.bodypart(b)
            far = self.pose.replace(values=vals, bodyparts=names, source=None)
        near, new_far = swap_with_far_leg(self.pose, far, frame=frame, bodyparts=[bodypart], margin_px=self.margin_px)
        self.pose, self.far = near, new_far
        self.manual[i, j] = True
        self.ops.append(op)

    def accept_value(self, frame: int, bodypart: str, *, x: float, y: float) -> None:
        """Alias of :meth:`move` for a value suggested elsewhere (e.g. the cleaned track)."""
        self.move(frame, bodypart, x=x, y=y)

    def undo(self) -> dict | None:
        """Revert the last edit; returns it (``None`` when there is nothing to undo)."""
        if not self._undo:
            return None
        values, manual, far, op = self._undo.pop()
        self.pose.values[...] = values
        self.manual[...] = manual
        self.far = far
        self.ops.append({"op": "undo"})
        return op

    def apply(self, op: Mapping) -> None:
        """Replay one edit-log entry (used to recover an autosave)."""
        kind = op["op"]
        if kind == "move":
            self.move(op["frame"], op["bodypart"], x=op["x"], y=op["y"])
        elif kind == "delete":
            self.delete(op["frame"], op["bodypart"])
        elif kind == "far_leg":
            self.mark_far_leg(op["frame"], op["bodypart"])
        elif kind == "undo":
            self.undo()
        else:
            raise ValueError(f"unknown edit {kind!r}")

    def replay(self, ops: Iterable[Mapping]) -> None:
        for op in ops:
            self.apply(op)

    # -- results -------------------------------------------------------------------------
    def flags(self) -> np.ndarray:
        """Cleaning flags with :data:`clean.FLAG_MANUAL` set on corrected entries."""
        return self.clean_flags | np.where(self.manual, _clean.FLAG_MANUAL, 0)

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
            "ops": list(self.ops),
            "review": review.to_dict() if review is not None else None,
        }


def autosave_edits(editor: PoseEditor, *, review: ReviewState | None = None, target: str | Path | None = None) -> Path:
    """Write the editor's unsaved edit log next to its source (see :func:`recover_edits`)."""
    target = Path(target) if target is not None else editor.original.source
    if target is None:
        raise InputFileError(None, "the pose has no source file; give target= for the autosave")
    return write_autosave(target, editor.autosave_payload(review))


def recover_edits(editor: PoseEditor, *, target: str | Path | None = None, review: ReviewState | None = None) -> int:
    """Replay the autosaved edits of the editor's source onto ``editor``; returns the edit count.

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
    data = read_autosave(target)
    return bool(data) and bool(data.get("ops") or data.get("events"))


# ---------------------------------------------------------------------------------------
# Saving
# ---------------------------------------------------------------------------------------
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


def save_refined(
    editor: PoseEditor,
    *,
    path: str | Path | None = None,
    formats: Sequence[str] = (".h5", ".csv"),
) -> list[Path]:
    """Save the corrected predictions in DLC layout beside the source, plus a corrections csv.

    Writes ``refined/<source stem>.h5`` and ``.csv`` (:func:`refined_path`: same scorer,
    body parts and row index as the source, so frame numbers never shift, and DeepLabCut's
    file name) and ``refined/<source stem>_corrections.csv``. Earlier refined files are
    replaced atomically; the source itself never is.

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
    out = []
    table = _refined_table(editor)
    for ext in formats:
        target = base.with_suffix(ext)
        if src is not None and target.resolve() == Path(src).resolve():
            raise InputFileError(target, "is the source file; the source is never overwritten, choose another name")
        target.parent.mkdir(exist_ok=True)
        write_dlc_table(table, target, overwrite=True)
        out.append(target)
        if ext == ".h5":  # DeepLabCut's tools need its metadata file beside predictions
            write_dlc_metadata(target, source=src, pose=editor.pose, overwrite=True)
    corr = base.with_name(f"{base.stem}_corrections.csv")
    write_csv(corr, editor.corrections_table(), overwrite=True)
    out.append(corr)
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


# ---------------------------------------------------------------------------------------
# DLC labels for retraining
# ---------------------------------------------------------------------------------------
def export_corrected_labels(
    editor: PoseEditor,
    project_dir: str | Path,
    *,
    video_name: str,
    scorer: str,
    frames: Sequence[int] | None = None,
    video_path: str | Path | None = None,
) -> list[Path]:
    """Write the corrected frames as DLC labels: ``labeled-data/<video>/CollectedData_<scorer>.h5/.csv``.

    Merged with labels already in that folder (none are lost; the previous ``.h5`` is kept as
    ``.h5.bak``), through :func:`napari_gaitint.core.dlc.write_labels` - the same writer as the
    export into a DeepLabCut project. With ``video_path`` the frame images are written too
    (``img<frame>.png``) so the folder can be merged into a DLC project for retraining;
    without it, only labels whose images exist already can be written.
    """
    from .dlc import write_labels

    frames = list(editor.corrected_frames() if frames is None else frames)
    if not frames:
        raise AnalysisError("no corrected frames to export; correct some points first")
    res = write_labels(project_dir, video_name, editor.pose, scorer=scorer, frames=frames,
                       video=video_path)
    return [res.h5, res.csv, *res.images]


__all__ = [
    "PoseEditor",
    "QAConfig",
    "ReviewState",
    "SUSPECT_COLUMNS",
    "SUSPECT_KINDS",
    "autosave_edits",
    "export_corrected_labels",
    "far_leg_estimate",
    "find_suspects",
    "has_autosave",
    "jump_residual_px",
    "map_other_view",
    "rank_suspects",
    "recover_edits",
    "refined_path",
    "save_refined",
    "suspect_frames",
    "swap_with_far_leg",
]
