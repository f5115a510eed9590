"""The pose type: keypoints of one individual over time, and the roles our analysis reads.

:class:`Pose` is the array form the analysis works on: one individual,
``(n_frames, n_bodyparts, 3)`` values ``x_px, y_px, likelihood``. The six roles (:data:`ROLES`:
neck, hip, knee, ankle, heel, toe) are found in a file's own body-part names by
:func:`match_roles` (``Neck``, ``LHeel``, ``heel_r``...). Also here: :func:`validate_fps`
(frame rates from options or manifests), :func:`validate_time_series`, :func:`leg_length_px`
(the scale of size-relative thresholds) and :func:`align_view_lengths` (two synchronised views
with different frame counts). DeepLabCut files are read and written by :mod:`.io`.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .config import ROLES
from .errors import AnalysisError, ConfigError, GaitintWarning, InputFileError

#: The walkway's two cameras and the leg each one sees.
VIEW_SIDES: dict[str, str] = {"C1": "left", "C3": "right"}


def side_of_view(view: object, side: object = None) -> str | None:
    """The leg a camera sees: ``side`` when it says left or right, else ``C1`` -> left and
    ``C3`` -> right (any case), else None (unknown: the caller asks or leaves it open).

    >>> side_of_view("c3"), side_of_view("C1", "Right"), side_of_view("cam2")
    ('right', 'right', None)
    """
    if isinstance(side, str) and side.strip().lower() in ("left", "right"):
        return side.strip().lower()
    return VIEW_SIDES.get(str(view).strip().upper()) if isinstance(view, str) else None


@dataclasses.dataclass(eq=False)
class Pose:
    """Keypoints of one individual over time, as DeepLabCut tracked or labelled them.

    Parameters
    ----------
    values
        ``(n_frames, n_bodyparts, 3)`` float array: x and y in pixels and the likelihood
        (0–1). Missing points are NaN. Labels without likelihood carry NaN likelihoods and
        ``has_likelihood=False``.
    bodyparts
        Names of the body parts, one per entry of axis 1.
    scorer
        DLC scorer name (network or labeller), kept for writing back.
    individual
        Individual name for multi-animal data, ``None`` for single-animal data.
    fps
        Frame rate in frames per second, if known.
    index
        Row index of the DLC table (frame numbers, or image paths for labels). ``None``
        means ``0 .. n_frames-1``.
    source
        The file this pose was read from, if any. It is never written to.
    has_likelihood
        Whether a likelihood column exists (False for hand labels).
    frame_size
        ``(width_px, height_px)`` of the video, if known; needed for mirroring.
    meta
        Free-form provenance (orientation applied, cleaning settings...).

    Examples
    --------
    >>> import numpy as np
    >>> pose = Pose(np.zeros((4, 2, 3)), ("hip", "knee"))
    >>> pose.n_frames, pose.xy.shape
    (4, (4, 2, 2))
    >>> pose.bodypart("knee").shape
    (4, 3)
    """

    values: np.ndarray
    bodyparts: tuple[str, ...]
    scorer: str = "gaitint"
    individual: str | None = None
    fps: float | None = None
    index: pd.Index | None = None
    source: Path | None = None
    has_likelihood: bool = True
    frame_size: tuple[int, int] | None = None
    meta: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        values = np.asarray(self.values, dtype=float)
        if values.ndim != 3 or values.shape[2] != 3:
            raise ValueError(
                f"Pose values must have shape (n_frames, n_bodyparts, 3), got {values.shape}"
            )
        self.values = values
        self.bodyparts = tuple(str(b) for b in self.bodyparts)
        if len(self.bodyparts) != values.shape[1]:
            raise ValueError(
                f"{len(self.bodyparts)} body-part names for {values.shape[1]} body parts in values"
            )
        if len(set(self.bodyparts)) != len(self.bodyparts):
            raise ValueError(f"body-part names repeat: {list(self.bodyparts)}")
        if self.index is not None:
            self.index = pd.Index(self.index) if not isinstance(self.index, pd.Index) else self.index
            if len(self.index) != values.shape[0]:
                raise ValueError(f"index has {len(self.index)} rows for {values.shape[0]} frames")
        if self.source is not None:
            self.source = Path(self.source)
        if self.fps is not None:
            self.fps = float(self.fps)

    # -- shape and access ---------------------------------------------------------------
    @property
    def n_frames(self) -> int:
        """Number of frames (rows)."""
        return self.values.shape[0]

    @property
    def xy(self) -> np.ndarray:
        """``(n_frames, n_bodyparts, 2)`` view of x, y in pixels."""
        return self.values[..., :2]

    @property
    def likelihood(self) -> np.ndarray:
        """``(n_frames, n_bodyparts)`` view of the likelihoods."""
        return self.values[..., 2]

    @property
    def frames(self) -> np.ndarray:
        """Frame numbers of the rows: the integer index if there is one, else ``0..n-1``."""
        if self.index is not None and pd.api.types.is_integer_dtype(self.index):
            return np.asarray(self.index, dtype=int)
        return np.arange(self.n_frames)

    def bodypart_index(self, name: str) -> int:
        """Position of body part ``name`` on axis 1; a clear error if it is absent."""
        try:
            return self.bodyparts.index(name)
        except ValueError:
            close = _suggest(name, self.bodyparts)
            example = f"{name}={close}" if close else "neck=Neck,hip=Hip,..."
            raise InputFileError(
                self.source,
                f"no body part {name!r}; the data have "
                f"{list(self.bodyparts)}. Map your names to ours with the body-part mapping "
                f"option (e.g. --bodyparts {example})",
            ) from None

    def bodypart(self, name: str) -> np.ndarray:
        """``(n_frames, 3)`` view of one body part's x, y, likelihood."""
        return self.values[:, self.bodypart_index(name), :]

    def has_xy(self, name: str) -> np.ndarray:
        """``(n_frames,)`` bool: the frames where body part ``name`` has both x and y."""
        v = self.bodypart(name)
        return np.isfinite(v[:, 0]) & np.isfinite(v[:, 1])

    def replace(self, **changes) -> Pose:
        """A copy with some fields replaced (``values`` is copied unless given)."""
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        fields["values"] = self.values.copy()
        fields["meta"] = dict(self.meta)
        fields.update(changes)
        return Pose(**fields)

    def copy(self) -> Pose:
        """A deep copy of the values (metadata shared where immutable)."""
        return self.replace()

    def select(self, bodyparts: Sequence[str]) -> Pose:
        """A pose with only ``bodyparts``, in that order."""
        idx = [self.bodypart_index(b) for b in bodyparts]
        return self.replace(values=self.values[:, idx, :].copy(), bodyparts=tuple(bodyparts))

    def __repr__(self) -> str:
        who = f", individual={self.individual!r}" if self.individual else ""
        src = f", source={self.source.name!r}" if self.source else ""
        return (
            f"Pose({self.n_frames} frames, bodyparts={list(self.bodyparts)}{who}, "
            f"fps={self.fps}{src})"
        )


def is_image_index(index: pd.Index | None) -> bool:
    """Whether a DLC table's rows are labelled images (paths, as in ``CollectedData_*`` and
    ``machinelabels`` files) rather than the frames of one video (integer frame numbers)."""
    if index is None or len(index) == 0:
        return False
    return isinstance(index, pd.MultiIndex) or not pd.api.types.is_numeric_dtype(index)


def validate_time_series(pose: Pose, *, task: str = "this step") -> Pose:
    """Refuse a pose whose rows are labelled images (a ``CollectedData_*`` label file or
    ``machinelabels``), not the consecutive frames of one video.

    Cleaning (gap filling, low-pass filtering, swap repair by continuity), gait events and
    cycles all treat neighbouring rows as neighbouring moments; on separate images they
    would move labels towards unrelated pictures. Returns ``pose`` unchanged otherwise.

    Raises
    ------
    InputFileError
        Naming the file, what it is, and what to give instead.
    """
    if not is_image_index(pose.index):
        return pose
    first = pose.index[0]
    first = "/".join(map(str, first)) if isinstance(first, tuple) else str(first)
    raise InputFileError(
        pose.source,
        f"is a DeepLabCut label file: its {pose.n_frames} rows are separate labelled images "
        f"({first}, ...), not the frames of one video, so {task} would mix unrelated images. "
        "Give the predictions DeepLabCut made for a video (<video>DLC_<scorer>.h5, from "
        "deeplabcut.analyze_videos or 'gaitint dlc analyze'); to review or correct these "
        "labels, open the file in napari (Label QA, or napari-deeplabcut)",
    )


def validate_fps(fps, *, source: str | Path | None = None) -> float:
    """Check a frame rate (frames per second) and return it as a float.

    Parameters
    ----------
    fps
        The frame rate; ``None``, NaN, infinite, zero or negative values are refused.
    source
        Where the value came from (a manifest, a predictions file); named in the error.

    Raises
    ------
    InputFileError
        If ``source`` is given and the value is unusable.
    ConfigError
        If the value is unusable and no source is known (an option or argument).

    Examples
    --------
    >>> validate_fps("25")
    25.0
    """
    if (fps is None or (isinstance(fps, str) and not fps.strip())
            or (isinstance(fps, (float, np.floating)) and np.isnan(fps))):  # empty cell
        problem = ("the frame rate (fps) is missing; give it (e.g. --fps 25 or an "
                   "fps column in the manifest)")
    else:
        try:
            value = None if isinstance(fps, bool) else float(fps)
        except (TypeError, ValueError):
            value = None
        if value is not None and np.isfinite(value) and value > 0:
            return value
        problem = ("the frame rate (fps) must be a positive number of frames per "
                   f"second, got {fps!r}; give the video's real rate (e.g. 25)")
    if source is not None:
        raise InputFileError(source, problem)
    raise ConfigError(problem)


def parse_bodypart_mapping(text: str | None, *, roles: Sequence[str] | None = ROLES) -> dict[str, str] | None:
    """Parse ``"neck=Neck,hip=Hip"`` into ``{"neck": "Neck", "hip": "Hip"}`` (roles first).

    Roles not named map to themselves. Empty text gives ``None`` (no mapping). With
    ``roles=None`` the left-hand names are any body-part names (``ours=theirs``: our labels'
    names to a DeepLabCut project's, ``gaitint dlc export-labels --bodyparts``).

    Raises
    ------
    ConfigError
        For an item without ``=``, an unknown role, an empty name or a name given twice.

    Examples
    --------
    >>> parse_bodypart_mapping("neck=Nose, toe = BigToe")
    {'neck': 'Nose', 'toe': 'BigToe'}
    >>> parse_bodypart_mapping("HEEL=heel", roles=None)
    {'HEEL': 'heel'}
    """
    if not text or not text.strip():
        return None
    mapping = {}
    for item in text.split(","):
        if not item.strip():
            continue
        role, sep, name = (s.strip() for s in item.partition("="))
        if roles is None:  # any names: the command line's wording
            if not sep or not role or not name:
                raise ConfigError(f"--bodyparts: {item.strip()!r} must look like ours=theirs, e.g. heel=LHeel")
            if role in mapping:
                raise ConfigError(f"--bodyparts: {role!r} is given twice")
            mapping[role] = name
            continue
        if not sep:
            raise ConfigError(
                f"body-part mapping item {item.strip()!r} must look like role=name, e.g. "
                "neck=Neck,hip=Hip"
            )
        if role not in roles:
            raise ConfigError(
                f"unknown role {role!r} in body-part mapping; roles are {list(roles)}"
            )
        if not name:
            raise ConfigError(f"body-part mapping gives no file name for role {role!r}")
        if role in mapping:
            raise ConfigError(f"role {role!r} appears twice in the body-part mapping")
        mapping[role] = name
    return mapping


def _suggest(name: str, candidates: Sequence[str]) -> str:
    lower = {c.lower(): c for c in candidates}
    if name.lower() in lower:
        return lower[name.lower()]
    close = difflib.get_close_matches(name.lower(), list(lower), n=1, cutoff=0.6)
    return lower[close[0]] if close else ""


#: Names DLC projects commonly give our roles (compared lower-case without separators, so
#: ``Lateral_Malleolus`` is ``lateralmalleolus``), best first. A side may come before or
#: after: ``LHeel``, ``heel_r``, ``Right Ankle``.
ROLE_SYNONYMS: dict[str, tuple[str, ...]] = {
    "neck": ("neck", "c7", "cervical"),
    "hip": ("hip", "hipjoint", "greatertrochanter", "trochanter", "gt"),
    "knee": ("knee", "kneejoint", "lateralepicondyle", "lateralknee", "epicondyle"),
    "ankle": ("ankle", "anklejoint", "lateralmalleolus", "malleolus", "lateralankle"),
    "heel": ("heel", "calcaneus", "calc"),
    "toe": ("toe", "toes", "toetip", "bigtoe", "hallux", "mtp", "mtp5", "5thmtp", "fifthmtp",
            "5thmetatarsal", "metatarsal", "mtp1", "foottip", "foot"),
}
_SIDE_TOKENS = {"left": ("left", "l"), "right": ("right", "r")}


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def _role_candidates(name: str, role: str) -> tuple[int, str | None] | None:
    """``(rank, side)`` if ``name`` can stand for ``role`` (rank: lower is a closer name;
    side: ``"left"``/``"right"`` when the name carries one), else None."""
    n = _norm(name)
    for rank, syn in enumerate(ROLE_SYNONYMS.get(role, (role,))):
        if n == syn:
            return rank, None
        for side, tokens in _SIDE_TOKENS.items():
            for t in tokens:
                if n == t + syn or n == syn + t:
                    return rank, side
    return None


def match_roles(
    bodyparts: Sequence[str],
    mapping: Mapping[str, str] | None = None,
    *,
    side: str | None = None,
    roles: Sequence[str] = ROLES,
) -> dict[str, str]:
    """Which of a file's body-part names play our roles: ``{role: name}`` for those found.

    In order: the explicit ``mapping`` (role → name); a body part named as the role; then
    the common names of :data:`ROLE_SYNONYMS`, any case and separators, with or without a
    side (``Neck``, ``LHeel``, ``right_ankle``, ``Lateral Malleolus``, ``MTP5``). Names of
    the camera's ``side`` (the leg it sees) come before names without a side; names of the
    other side are used only when nothing else fits (they are just names). A role is left
    out when two names fit it equally well (say ``LHeel`` and ``RHeel`` without ``side``)
    or when its name is taken by an earlier role.

    Examples
    --------
    >>> match_roles(["Neck", "LHip", "RHip", "LKnee", "LAnkle", "LHeel", "L_MTP5"], side="left")
    {'neck': 'Neck', 'hip': 'LHip', 'knee': 'LKnee', 'ankle': 'LAnkle', 'heel': 'LHeel', 'toe': 'L_MTP5'}
    >>> match_roles(["neck", "LHip", "RHip"])  # hip: which side?
    {'neck': 'neck'}
    """
    mapping = dict(mapping or {})
    out: dict[str, str] = {}
    taken = set()
    for role in roles:
        if role in mapping:
            out[role] = mapping[role]
        elif role in bodyparts:
            out[role] = role
        else:
            continue
        taken.add(out[role])
    for role in roles:
        if role in out:
            continue
        scored = []
        for name in bodyparts:
            if name in taken or name in mapping.values():
                continue
            hit = _role_candidates(name, role)
            if hit is None:
                continue
            rank, name_side = hit
            # the camera's own side first, then names without a side, then the other side
            side_rank = 1 if side is None or name_side is None else 0 if name_side == side else 2
            scored.append(((side_rank, rank), name))
        if not scored:
            continue
        scored.sort()
        best = scored[0][0]
        tied = [n for key, n in scored if key == best]
        if len(tied) == 1:
            out[role] = tied[0]
            taken.add(tied[0])
    return {role: out[role] for role in roles if role in out}


def with_role_names(pose: Pose, mapping: Mapping[str, str] | None = None, *, side: str | None = None) -> Pose:
    """A copy of ``pose`` whose body parts that play our roles (:func:`match_roles`) carry
    the role names; other body parts keep theirs (dropped if one is already called like a
    role it does not play). ``meta["bodypart_names"]`` records the renaming.

    Examples
    --------
    >>> import numpy as np
    >>> p = Pose(np.zeros((2, 3, 3)), ("Neck", "LHeel", "tail"))
    >>> with_role_names(p, side="left").bodyparts
    ('neck', 'heel', 'tail')
    """
    found = match_roles(pose.bodyparts, mapping, side=side)
    role_of = {name: role for role, name in found.items()}
    keep = [b for b in pose.bodyparts if b in role_of or b not in ROLES]
    out = pose.select(keep)
    out.bodyparts = tuple(role_of.get(b, b) for b in keep)
    out.meta["bodypart_names"] = dict(found)
    return out


def rename_bodyparts(
    pose: Pose, mapping: Mapping[str, str], roles: Sequence[str] = ROLES, *, side: str | None = None
) -> Pose:
    """Select ``roles`` from ``pose`` and name them by role.

    Names come from :func:`match_roles`: ``mapping`` (role → file name) first, then the
    role's own name, then common names (``Neck``, ``LHeel``, ``lateral_malleolus``...; with
    ``side``, the names of the leg this camera sees). A role that cannot be matched raises
    :class:`InputFileError` listing what the file has and a ready ``--bodyparts``
    suggestion. ``meta["bodypart_names"]`` records the names used.
    """
    mapping = mapping or {}
    found = match_roles(pose.bodyparts, mapping, side=side, roles=roles)
    names = {role: found.get(role, mapping.get(role, role)) for role in roles}
    seen: dict[str, str] = {}
    for role, name in names.items():
        if name in seen:
            raise ConfigError(
                f"roles {seen[name]!r} and {role!r} both map to body part {name!r}; each role "
                "needs its own body part in the body-part mapping"
            )
        seen[name] = role
    missing = [role for role, name in names.items() if name not in pose.bodyparts]
    if missing:
        guess = dict(names)
        for role in missing:
            guess[role] = _suggest(names[role], pose.bodyparts) or "?"
        suggestion = ",".join(f"{r}={guess[r]}" for r in roles if guess[r] != r or r in missing)
        described = ", ".join(f"{r} (as {names[r]!r})" if names[r] != r else r for r in missing)
        raise InputFileError(
            pose.source,
            f"missing body part(s) {described}; the file has {list(pose.bodyparts)}. "
            "Map our roles to your names with the body-part mapping option, e.g. "
            f"--bodyparts {suggestion}",
        )
    out = pose.select([names[r] for r in roles])
    out.bodyparts = tuple(roles)
    out.meta["bodypart_names"] = dict(names)
    return out


def leg_length_px(pose: Pose, *, hip: str = "hip", ankle: str = "ankle", neck: str = "neck") -> float | None:
    """The subject's leg length in the image (pixels): the median hip–ankle distance.

    A scale for thresholds that must follow the subject's size in the image (camera
    distance, resolution) rather than a fixed number of pixels. The median over frames is
    not moved by a few wrong-limb labels. Without hip data, 0.6 x the median neck–ankle
    distance (hip–ankle is about 0.6 of it in adults). Missing points (NaN) are ignored.

    Returns
    -------
    float or None
        None when fewer than 5 frames have both points.

    Examples
    --------
    >>> import numpy as np
    >>> v = np.zeros((10, 2, 3)); v[:, 0, :2] = (100, 200); v[:, 1, :2] = (110, 370)
    >>> round(leg_length_px(Pose(v, ("hip", "ankle"))), 1)
    170.3
    """
    for top, factor in ((hip, 1.0), (neck, 0.6)):
        if top not in pose.bodyparts or ankle not in pose.bodyparts:
            continue
        d = np.linalg.norm(pose.bodypart(top)[:, :2] - pose.bodypart(ankle)[:, :2], axis=1)
        d = d[np.isfinite(d)]
        if d.size >= 5:
            return factor * float(np.median(d))
    return None


def align_view_lengths(
    pose_a: Pose,
    pose_b: Pose,
    *,
    trim: bool = True,
    max_diff_frames: int | None = None,
) -> tuple[Pose, Pose]:
    """Make two synchronised views the same length, or say clearly why not.

    The two cameras start together (synchronised recording), so extra frames are at the
    *end* of the longer view; trimming keeps frames ``0 .. n_short-1`` of both.

    Parameters
    ----------
    pose_a, pose_b
        The two views (any coordinates).
    trim
        If True (default) drop the longer view's extra final frames and emit a
        :class:`~napari_gaitint.core.errors.GaitintWarning` saying how many; if False,
        raise instead.
    max_diff_frames
        Refuse (raise) even with ``trim=True`` when the counts differ by more than this
        many frames — a large difference usually means the wrong pair of files. ``None``
        means no limit.

    Returns
    -------
    (Pose, Pose)
        The inputs themselves when the lengths already match, else trimmed copies
        (``meta["trimmed_frames"]`` records how many frames were dropped).

    Raises
    ------
    AnalysisError
        If the lengths differ and ``trim`` is False, the difference exceeds
        ``max_diff_frames`` or one view has no frames. The message names both files, both
        counts and the difference.

    Examples
    --------
    >>> import numpy as np
    >>> a = Pose(np.zeros((10, 1, 3)), ("neck",)); b = Pose(np.zeros((8, 1, 3)), ("neck",))
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     a2, b2 = align_view_lengths(a, b)
    >>> a2.n_frames, b2.n_frames, caught[0].category.__name__
    (8, 8, 'GaitintWarning')
    """
    na, nb = pose_a.n_frames, pose_b.n_frames
    if na == nb:
        return pose_a, pose_b
    diff = abs(na - nb)
    name_a = pose_a.source.name if pose_a.source else "view A"
    name_b = pose_b.source.name if pose_b.source else "view B"
    what = (f"the two views have different frame counts: {name_a} has {na}, {name_b} has "
            f"{nb} (they differ by {diff} frame{'s' if diff != 1 else ''})")
    if min(na, nb) == 0:
        raise AnalysisError(f"{what}; a view without frames cannot be analysed")
    if not trim:
        raise AnalysisError(
            f"{what}; the cameras must be synchronised. Trim both to the shorter view "
            "(trimming option) or fix the exports"
        )
    if max_diff_frames is not None and diff > max_diff_frames:
        raise AnalysisError(
            f"{what}, more than the {max_diff_frames} allowed; are these really the two views "
            "of the same trial?"
        )
    n = min(na, nb)
    warnings.warn(
        f"{what}; trimming the last {diff} frame{'s' if diff != 1 else ''} of the longer view "
        f"so both have {n}",
        GaitintWarning,
        stacklevel=2,
    )
    return _head(pose_a, n), _head(pose_b, n)


def _head(pose: Pose, n: int) -> Pose:
    if pose.n_frames == n:
        return pose
    index = pose.index[:n] if pose.index is not None else None
    out = pose.replace(values=pose.values[:n].copy(), index=index)
    out.meta["trimmed_frames"] = pose.n_frames - n + int(pose.meta.get("trimmed_frames", 0))
    return out
