"""Label QA: rank suspicious keypoints and keep track of their review. Pure.

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
("k of n reviewed"). Manual corrections (the editor, autosave, ``refined/`` files) are in :mod:`.corrections`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np
import pandas as pd

from . import clean_align as core_clean_align
from . import clean_flags as core_clean_flags
from . import config as core_config
from .config import LEG_CHAIN
from .pose import Pose, leg_length_px

#: Suspect kinds, most important first.
SUSPECT_KINDS: tuple[str, ...] = ("wrong_limb", "other_view", "jump", "low_likelihood")


#: Columns of a suspects table.
SUSPECT_COLUMNS: tuple[str, ...] = (
    "view", "frame", "bodypart", "kinds", "score", "likelihood", "jump_px", "other_view_px",
)


TRUNK: tuple[str, ...] = ("neck", "hip")


# Legs cross under the pelvis: a far-leg point within this many margins of the hip x is not evidence.
HIP_CROSS_FRAC = 2.0


RUN_ON_STRENGTH = 0.5


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
        within ``2 x`` this of the hip in x, where the legs cross, unless the frame before or
        after holds a label the cleaning flagged as a wrong limb: a run of them goes on where
        the legs come close); a trunk label farther than ``3 x`` this from the mapped
        opposite-camera point disagrees. On 24 synthetic trials of the calibrated walker (187
        injected wrong-limb labels) this hint alone has precision 0.81 and recall 0.51 (0.99
        and 0.49 without the run's neighbours, which add one entry per trial and list one more
        injected label in 24 trials); with the cleaning's flags, the list holds 183 of the 187.
        It complements the cleaning core's ``wrong_limb`` flags, it does not replace them.
        ``None`` (default): ``other_view_margin_leg`` x the leg length (20 px for ~170 px).
    jump_margin_leg, other_view_margin_leg
        The two margins as fractions of the leg length, when they are None.
    weights
        Score weight per kind; the score of an entry is the sum over its kinds of
        ``weight x strength`` with strength in 0..1.
    """

    likelihood_threshold: float = core_config.LIKELIHOOD_THRESHOLD
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


def map_other_view(pose: Pose, other: Pose, *, config: core_config.CleanConfig | None = None) -> tuple[Pose, dict]:
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
    _, align = core_clean_align.far_leg_from_other_view(pose, other, config=config)
    pos = pd.Index(other.frames).get_indexer(pose.frames + align.get("lag_frames", 0))
    has = pos >= 0
    values = np.full((pose.n_frames, len(other.bodyparts), 3), np.nan)
    src = other.values[pos[has]]
    values[has, :, 0] = align["ax"] * src[:, :, 0] + align["bx"]
    values[has, :, 1] = align["ay"] * src[:, :, 1] + align["by"]
    values[has, :, 2] = src[:, :, 2]
    mapped = pose.replace(values=values, bodyparts=other.bodyparts, source=None, meta={"mapped_from": str(other.source)})
    return mapped, align


def far_leg_estimate(pose: Pose, other: Pose, *, config: core_config.CleanConfig | None = None) -> Pose:
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
        strength["wrong_limb"][(flags & core_clean_flags.FLAG_WRONG_LIMB) != 0] = 1.0

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
                bad = (np.asarray(other_flags)[:, jo] & core_clean_flags.FLAGS_DETECTED) != 0
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

    if other_mapped is not None:
        # A wrong-limb run goes on where the legs come close (the "apart" test above cannot
        # tell then): next to a frame judged to hold the far leg, a leg label lying on the
        # mapped far leg is suspect too.
        judged = strength["wrong_limb"] > 0
        beside = np.zeros_like(judged)
        beside[1:] |= judged[:-1]
        beside[:-1] |= judged[1:]
        for j, bp in enumerate(pose.bodyparts):
            if bp in LEG_CHAIN:
                run_on = beside[:, j] & ~judged[:, j] & (np.nan_to_num(other_px[:, j], nan=np.inf) < mo)
                strength["other_view"][run_on, j] = RUN_ON_STRENGTH

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


#: Ways to narrow the suspect list (:func:`select_suspects`): everything, one reason, or all
#: but the entries whose only reason is a low likelihood (often many, at the clip edges).
SUSPECT_FILTERS: tuple[str, ...] = ("all", *SUSPECT_KINDS, "not_only_low_likelihood")


def select_suspects(suspects: pd.DataFrame, which: str = "all") -> pd.DataFrame:
    """The entries of a suspects table for one of :data:`SUSPECT_FILTERS`.

    ``"all"`` keeps every entry, a kind (``"wrong_limb"``, ...) the entries with that reason,
    ``"not_only_low_likelihood"`` the entries with a reason other than a low likelihood.

    Examples
    --------
    >>> t = pd.DataFrame({"kinds": ["wrong_limb+low_likelihood", "low_likelihood", "jump"]})
    >>> [len(select_suspects(t, w)) for w in ("all", "low_likelihood", "not_only_low_likelihood")]
    [3, 2, 2]
    """
    if which not in SUSPECT_FILTERS:
        raise ValueError(f"unknown suspect filter {which!r}; choose one of {list(SUSPECT_FILTERS)}")
    if which == "all" or suspects.empty:
        return suspects
    kinds = suspects["kinds"].astype(str)
    if which == "not_only_low_likelihood":
        keep = kinds != "low_likelihood"
    else:
        keep = kinds.str.split("+").apply(lambda k: which in k)
    return suspects[keep.to_numpy(bool)]


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
        self._saved: set[tuple[str, int]] = set()  # reviewed at the last save (or resume)

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

    @property
    def dirty(self) -> bool:
        """Whether frames were accepted (or un-accepted) since :meth:`mark_saved`."""
        return self.reviewed != self._saved

    def mark_saved(self) -> None:
        self._saved = set(self.reviewed)

    def with_frames(self, frames: pd.DataFrame) -> ReviewState:
        """The same review (ticks, saved state) over another list of frames (e.g. filtered);
        the position stays on the current frame when the new list has it."""
        out = ReviewState(frames)
        out.reviewed, out._saved = set(self.reviewed), set(self._saved)
        if 0 <= self.position < self.n:
            here = out.index_of(*self.key(self.position))
            out.position = -1 if here is None else here
        return out

    def to_dict(self) -> dict:
        return {"reviewed": sorted([v, f] for v, f in self.reviewed), "position": self.position}

    def restore(self, data: Mapping) -> None:
        self.reviewed = {(str(v), int(f)) for v, f in data.get("reviewed", [])}
        self.position = int(data.get("position", -1))
