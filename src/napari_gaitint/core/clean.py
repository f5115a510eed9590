"""Cleaning DeepLabCut keypoints: likelihood, wrong-limb swaps, outliers, gaps, low-pass filter.

A camera filming one sagittal side sees the near leg and, behind it, the far leg. DeepLabCut
(DLC) sometimes puts the near-leg labels (knee, ankle, heel, toe) on the far leg for a few
frames — a *wrong-limb* label. :func:`clean_pose` finds and repairs those, removes isolated
outliers and low-likelihood points, fills short gaps and low-pass filters the tracks. Every
changed value carries a bit flag saying why, so a viewer can show it.

Steps, in order (each can be switched off through :class:`CleanConfig`):

1. likelihood below ``likelihood_threshold`` → missing (:data:`FLAG_LOW_LIKELIHOOD`);
2. wrong-limb labels (:data:`FLAG_WRONG_LIMB`) and isolated outliers (:data:`FLAG_OUTLIER`)
   → missing, by ``method``:

   * ``"twoview"`` (default): the opposite camera's near leg *is* this camera's far leg.
     Its track is mapped into this image by a per-axis linear map fitted on the shared
     neck and hip tracks (the sign of the x scale takes care of the mirroring; the fit is
     redone for every trial pair because cameras move). A label that lies on the mapped
     far leg while the near leg — bridged over the suspect frames from trusted
     neighbouring frames, trust growing into runs from their edges — is clearly
     elsewhere is a wrong-limb label. The other view's own wrong-limb labels (which then
     sit on our near leg) are found the same way and ignored, and frames where both views
     are wrong at once (labels exchanged) are recognised. Where the legs cross (near and
     far leg closer than ``margin_px``) a swap is harmless and nothing is flagged. Without
     the other view (or where it is missing) short runs between two jumps of the track
     that do not continue the bridged track are flagged (single-view fall-back). Isolated
     one-frame spikes of any body part are flagged as outliers.

     One camera that sees both legs (a file with both legs, e.g. ``LHeel`` and ``RHeel``,
     and no other view; ``other_leg``): the other leg's own track is the far leg. First,
     frames where the two legs' labels are exchanged (the pose estimator took the left leg
     for the right one) are found by the continuity of both tracks at once and exchanged
     back (:data:`FLAG_SWAPPED`); then each leg is checked against the other as against
     the other view's leg above.

     Without the other view, a wrong-limb label that was not exchanged back has no
     replacement: it stays missing (it is not interpolated in step 3), so later steps such
     as the event detectors leave it out instead of timing events on a guess.
   * ``"baseline"``: the seed project's rule, kept for comparison. A point whose x differs
     from both neighbours by more than ``margin_px`` is replaced by their mean
     (:data:`FLAG_OUTLIER`); a leg-chain point that jumps by more than ``margin_px`` from the
     previous frame and whose x lies within ``margin_px`` of the other leg (the mapped
     other view) is replaced by linear extrapolation of the two previous frames
     (:data:`FLAG_WRONG_LIMB`). Without the other view only the first rule applies.
   * ``"none"``: no detection.

3. gaps of at most ``max_gap_s`` (or ``max_gap_frames``) are interpolated
   (:data:`FLAG_INTERPOLATED`), except single-view wrong-limb labels; longer gaps stay
   missing;
4. zero-lag low-pass filter (Butterworth forward–backward or Savitzky–Golay) on each
   contiguous stretch of valid samples; :data:`FLAG_FILTERED` marks points the filter moved
   by more than ``filtered_flag_px``.

Coordinates stay in the frame of the input (image pixels as DLC wrote them, or gait
coordinates if the pose was oriented first); the likelihood column is kept unchanged (a
label exchanged back to its leg takes its likelihood along).
"""

from __future__ import annotations

import dataclasses
import functools
import warnings

import numpy as np
import pandas as pd

from ._spline import cubic_spline_at
from .errors import AnalysisError, GaitintWarning
from .io import LEG_CHAIN, Pose, leg_length_px, validate_time_series

# ---------------------------------------------------------------------------------------
# Flags
# ---------------------------------------------------------------------------------------
#: Likelihood below the threshold: the point was removed (and maybe interpolated).
FLAG_LOW_LIKELIHOOD = 1
#: Isolated outlier (spike) in time: removed (and maybe interpolated).
FLAG_OUTLIER = 2
#: Label on the far leg instead of the near leg: removed (and maybe interpolated).
FLAG_WRONG_LIMB = 4
#: Value filled by interpolation over a gap.
FLAG_INTERPOLATED = 8
#: Moved by the low-pass filter by more than ``CleanConfig.filtered_flag_px``.
FLAG_FILTERED = 16
#: Corrected by hand (reserved for the napari editing tools).
FLAG_MANUAL = 32
#: The two legs' labels of this frame were exchanged: each leg took the other's label back
#: (one camera seeing both legs; always with :data:`FLAG_WRONG_LIMB`).
FLAG_SWAPPED = 64

_FLAG_NAMES: tuple[tuple[int, str, str], ...] = (
    (FLAG_LOW_LIKELIHOOD, "low_likelihood", "likelihood below threshold"),
    (FLAG_OUTLIER, "outlier", "isolated jump in time"),
    (FLAG_WRONG_LIMB, "wrong_limb", "label on the far leg"),
    (FLAG_INTERPOLATED, "interpolated", "filled by interpolation"),
    (FLAG_FILTERED, "filtered", "moved by the low-pass filter"),
    (FLAG_MANUAL, "manual", "corrected by hand"),
    (FLAG_SWAPPED, "swapped", "exchanged back with the other leg's label"),
)
#: Flags meaning "the detector judged this label wrong" (what false-change rates count).
FLAGS_DETECTED = FLAG_OUTLIER | FLAG_WRONG_LIMB

METHODS = ("twoview", "baseline", "none")
GAP_METHODS = ("linear", "pchip", "spline")
FILTERS = ("butterworth", "savgol", "none")


def flag_names(bits: int) -> list[str]:
    """Names of the flags set in ``bits``.

    Examples
    --------
    >>> flag_names(FLAG_WRONG_LIMB | FLAG_INTERPOLATED)
    ['wrong_limb', 'interpolated']
    >>> flag_names(0)
    []
    """
    bits = int(bits)
    return [name for bit, name, _ in _FLAG_NAMES if bits & bit]


def flag_reasons(bits: int) -> str:
    """Human-readable reasons for ``bits``, joined by ``"; "``."""
    bits = int(bits)
    return "; ".join(reason for bit, _, reason in _FLAG_NAMES if bits & bit)


# ---------------------------------------------------------------------------------------
# Configuration and result
# ---------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class CleanConfig:
    """Cleaning settings, in physical units.

    Parameters
    ----------
    likelihood_threshold
        Points with a DLC likelihood below this (0–1) are removed; 0 disables.
    method
        Wrong-limb/outlier detection: ``"twoview"`` (default), ``"baseline"`` (the seed's
        rule) or ``"none"``.
    margin_px
        Distance in pixels that counts as "clearly different" (jump size for the baseline,
        minimum deviation and minimum near/far leg separation for ``"twoview"``). ``None``
        (default): ``margin_leg`` times the subject's leg length in this view's image
        (:func:`margin_px_for`), so the same settings hold for any camera distance and
        resolution.
    margin_leg
        The margin as a fraction of the leg length (median hip–ankle distance, px) when
        ``margin_px`` is None. 0.09 gives ~15 px for a leg of ~170 px (a 960 × 540 walkway
        view with the subject about half the image height).
    outlier_sigma
        ``"twoview"`` flags isolated spikes whose deviation from the cubic prediction of
        their neighbours exceeds this many robust standard deviations (and ``2 *
        margin_px``).
    max_run_s
        Longest wrong-limb run the single-view fall-back looks for, in seconds.
    max_gap_s, max_gap_frames
        Longest gap that is filled; ``max_gap_frames`` wins when given; 0 disables filling.
    gap_method
        ``"linear"``, ``"pchip"`` or ``"spline"`` (cubic spline through the valid samples).
    filter
        ``"butterworth"`` (zero-lag, :func:`scipy.signal.sosfiltfilt`), ``"savgol"`` or
        ``"none"``.
    cutoff_hz
        Butterworth cut-off frequency in Hz (6 Hz is usual for walking kinematics).
    filter_order
        Butterworth order of one pass; the forward–backward filter has twice this order.
    savgol_window_s, savgol_polyorder
        Savitzky–Golay window length in seconds (rounded to an odd number of frames) and
        polynomial order.
    filtered_flag_px
        :data:`FLAG_FILTERED` marks points the filter moved by more than this.
    leg_chain
        Body parts of the leg that swap together.
    reference
        Body parts seen by both cameras, used to align the other view.
    other_leg
        The other leg's ``hip, knee, ankle, heel, toe`` in the same file (one camera sees
        both legs, as a pose estimator labels them), or None. Without the other view, that
        leg's own track is the far leg of ``leg_chain`` and vice versa, and frames where the
        two legs' labels are exchanged are exchanged back (both legs are cleaned). Names not
        in the file are skipped. :func:`config_for_names` sets it for files with both legs.
    max_lag_s
        The two cameras should be synchronised. If the shared ``reference`` tracks match
        clearly better with the other view shifted by a whole number of frames (up to this
        many seconds), the far leg is taken from the shifted frames and a warning says so
        (:func:`estimate_view_lag`). 0: frames are matched by number only. Lags beyond
        half a stride (~0.5 s) cannot be told from smaller ones (the gait repeats).
    """

    likelihood_threshold: float = 0.6
    method: str = "twoview"
    margin_px: float | None = None
    margin_leg: float = 0.09
    outlier_sigma: float = 8.0
    max_run_s: float = 0.4
    max_gap_s: float = 0.4
    max_gap_frames: int | None = None
    gap_method: str = "spline"
    filter: str = "butterworth"
    cutoff_hz: float = 6.0
    filter_order: int = 2
    savgol_window_s: float = 0.28
    savgol_polyorder: int = 3
    filtered_flag_px: float = 1.0
    leg_chain: tuple[str, ...] = LEG_CHAIN
    reference: tuple[str, ...] = ("neck", "hip")
    other_leg: tuple[str, ...] | None = None
    max_lag_s: float = 0.5

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        if self.gap_method not in GAP_METHODS:
            raise ValueError(f"gap_method must be one of {GAP_METHODS}, got {self.gap_method!r}")
        if self.filter not in FILTERS:
            raise ValueError(f"filter must be one of {FILTERS}, got {self.filter!r}")
        if not 0.0 <= self.likelihood_threshold <= 1.0:
            raise ValueError(f"likelihood_threshold must be in [0, 1], got {self.likelihood_threshold}")
        if self.margin_px is not None and not self.margin_px > 0:
            raise ValueError(f"margin_px must be > 0 (or None: from the leg length), got {self.margin_px}")
        if not self.max_lag_s >= 0:
            raise ValueError(f"max_lag_s must be >= 0, got {self.max_lag_s}")
        if not self.margin_leg > 0:
            raise ValueError(f"margin_leg must be > 0, got {self.margin_leg}")
        if self.cutoff_hz <= 0:
            raise ValueError(f"cutoff_hz must be > 0, got {self.cutoff_hz}")
        if self.filter_order < 1:
            raise ValueError(f"filter_order must be >= 1, got {self.filter_order}")
        if self.max_gap_s < 0 or (self.max_gap_frames is not None and self.max_gap_frames < 0):
            raise ValueError("the maximum gap must be >= 0")
        object.__setattr__(self, "leg_chain", tuple(self.leg_chain))
        object.__setattr__(self, "reference", tuple(self.reference))
        if self.other_leg is not None:
            other_leg = tuple(self.other_leg)
            if len(other_leg) != 1 + len(self.leg_chain):
                raise ValueError("other_leg names the other leg's hip, knee, ankle, heel and toe "
                                 f"(5 body parts), got {other_leg!r}")
            object.__setattr__(self, "other_leg", other_leg)

    def to_dict(self) -> dict:
        """Plain dict (for provenance / TOML)."""
        return dataclasses.asdict(self)

    def gap_frames(self, fps: float | None) -> int:
        """The maximum gap in frames (needs ``fps`` unless ``max_gap_frames`` is set)."""
        if self.max_gap_frames is not None:
            return int(self.max_gap_frames)
        if self.max_gap_s == 0:
            return 0
        if not fps:
            raise AnalysisError(
                "the frame rate is unknown, so max_gap_s cannot be turned into frames; "
                "give fps (--fps) or max_gap_frames"
            )
        return int(np.floor(self.max_gap_s * fps + 1e-9))


@dataclasses.dataclass(frozen=True)
class CleanResult:
    """What :func:`clean_pose` returns.

    Attributes
    ----------
    pose
        The cleaned pose: same frames, body parts and coordinate frame as the input; the
        likelihood column is the input's (a label exchanged back to its leg,
        :data:`FLAG_SWAPPED`, keeps its own).
    flags
        ``(n_frames, n_bodyparts)`` int bit flags (``FLAG_*``); 0 = unchanged.
    config
        The settings used.
    summary
        Counts per flag and details of the alignment of the other view.
    """

    pose: Pose
    flags: np.ndarray
    config: CleanConfig
    summary: dict

    def flags_table(self) -> pd.DataFrame:
        """See :func:`flags_table`."""
        return flags_table(self)


def flags_table(result: CleanResult) -> pd.DataFrame:
    """One row per flagged point: ``frame, bodypart, flags (int), names, reason``.

    ``frame`` is the pose's frame number (its integer index, else the row number).
    """
    pose, flags = result.pose, result.flags
    rows, cols = np.nonzero(flags)
    bits = flags[rows, cols]
    # names and reasons once per distinct combination of flags (a few), not per point
    which, distinct = pd.factorize(bits)
    names = np.array(["|".join(flag_names(b)) for b in distinct], dtype=object)
    reasons = np.array([flag_reasons(b) for b in distinct], dtype=object)
    # the text columns from lists: pandas types an empty list other than an empty array
    return pd.DataFrame(
        {
            "frame": pose.frames[rows].astype(int),
            "bodypart": np.array(pose.bodyparts, dtype=object)[cols].tolist(),
            "flags": bits.astype(int),
            "names": names[which].tolist(),
            "reason": reasons[which].tolist(),
        }
    )


# ---------------------------------------------------------------------------------------
# Main entry
# ---------------------------------------------------------------------------------------
def _leg_length(pose: Pose, config: CleanConfig) -> float | None:
    """:func:`~napari_gaitint.core.io.leg_length_px` with the config's body-part names."""
    chain, ref = config.leg_chain, config.reference
    names = dict(zip(LEG_CHAIN, chain, strict=True)) if len(chain) == len(LEG_CHAIN) else {}
    ref = dict(zip(("neck", "hip"), ref, strict=True)) if len(ref) == 2 else {}
    return leg_length_px(pose, hip=ref.get("hip", "hip"), ankle=names.get("ankle", "ankle"),
                         neck=ref.get("neck", "neck"))


def config_for_names(
    pose: Pose,
    other: Pose | None = None,
    *,
    side: str | None = None,
    mapping: dict | None = None,
    **config_kw,
) -> tuple[CleanConfig, Pose | None]:
    """A :class:`CleanConfig` for a file that names our roles its own way, and the other
    view renamed to match.

    The roles are matched in ``pose`` (this camera sees the ``side`` leg) and in ``other``
    (the opposite leg) by :func:`~napari_gaitint.core.io.match_roles`: ``mapping`` first,
    then the role names, then common names (``Neck``, ``LHeel``, ``RHeel``...). The config's
    ``leg_chain`` and ``reference`` are this file's names; ``other`` keeps only the role
    body parts both files have, renamed to this file's names (the two cameras' files may
    name the same role differently: ``LHeel`` and ``RHeel``). ``config_kw`` are passed on.

    A file with both legs (knee, ankle, heel and toe named for each side, as a pose
    estimator labels what one camera sees) also gets ``other_leg``: the opposite leg's hip
    and chain; without ``side`` the left leg is ``leg_chain`` and the right ``other_leg``.

    Examples
    --------
    >>> import numpy as np
    >>> from napari_gaitint.core.io import Pose
    >>> c1 = Pose(np.zeros((5, 3, 3)), ("Neck", "LHip", "LAnkle"))
    >>> c3 = Pose(np.zeros((5, 3, 3)), ("Neck", "RHip", "RAnkle"))
    >>> cfg, other = config_for_names(c1, c3, side="left")
    >>> cfg.reference, cfg.leg_chain, other.bodyparts
    (('Neck', 'LHip'), ('knee', 'LAnkle', 'heel', 'toe'), ('Neck', 'LHip', 'LAnkle'))
    >>> both = Pose(np.zeros((5, 11, 3)), ("neck",) + tuple(
    ...     f"{s}_{b}" for b in ("hip", "knee", "ankle", "heel", "toe") for s in ("left", "right")))
    >>> cfg, _ = config_for_names(both)
    >>> cfg.leg_chain, cfg.other_leg
    (('left_knee', 'left_ankle', 'left_heel', 'left_toe'), ('right_hip', 'right_knee', 'right_ankle', 'right_heel', 'right_toe'))
    """
    from .io import ROLES, match_roles

    mapping = dict(mapping or {})
    names = match_roles(pose.bodyparts, mapping, side=side)
    # both legs in the file: each leg by its side's names (the left one first without a side)
    opposite = {"left": "right", "right": "left"}
    mine_side = side if side in opposite else "left"
    mine = match_roles(pose.bodyparts, mapping, side=mine_side)
    theirs = match_roles(pose.bodyparts, mapping, side=opposite[mine_side])
    both_legs = (all(r in mine and r in theirs and mine[r] != theirs[r] for r in LEG_CHAIN)
                 and not any(r in mapping for r in LEG_CHAIN))
    if both_legs:
        names = {**names, **{r: mine[r] for r in ("hip",) + LEG_CHAIN if r in mine}}
        config_kw.setdefault("other_leg", tuple(theirs.get(r, f"other {r}") for r in ("hip",) + LEG_CHAIN))
    # every role keeps its place (a role the file lacks keeps its own name and is skipped)
    chain = tuple(names.get(r, mapping.get(r, r)) for r in LEG_CHAIN)
    reference = tuple(names.get(r, mapping.get(r, r)) for r in ("neck", "hip"))
    config = CleanConfig(**{"leg_chain": chain, "reference": reference, **config_kw})
    if other is not None:
        opposite = {"left": "right", "right": "left"}.get(side) if side else None
        theirs = match_roles(other.bodyparts, mapping, side=opposite)
        common = [r for r in ROLES if r in names and r in theirs]
        if common:
            renamed = other.select([theirs[r] for r in common])
            renamed.bodyparts = tuple(names[r] for r in common)
            other = renamed
    return config, other


#: Margin (px) when the leg length cannot be measured, for a 540-px-high image (scaled
#: with the image height when it is known).
FALLBACK_MARGIN_PX = 15.0


def margin_px_for(pose: Pose, config: CleanConfig | None = None) -> float:
    """The margin (px) that counts as "clearly different" in this view.

    ``config.margin_px`` when given; otherwise ``config.margin_leg`` times the subject's leg
    length in the image (:func:`~napari_gaitint.core.io.leg_length_px`, with the body-part
    names of ``config.reference`` and ``config.leg_chain``). A subject filmed from twice the
    distance, or at half the resolution, gets half the margin: DLC's pixel errors and the
    distance between the legs shrink the same way. Without a hip (or neck) and ankle track,
    15 px scaled by the image height / 540 (15 px if the frame size is unknown).

    Examples
    --------
    >>> import numpy as np
    >>> from napari_gaitint.core.io import Pose
    >>> v = np.zeros((10, 2, 3)); v[:, 0, :2] = (100, 100); v[:, 1, :2] = (100, 440)
    >>> margin_px_for(Pose(v, ("hip", "ankle")))  # a leg of 340 px: a 1920 x 1080 view
    30.6
    >>> margin_px_for(Pose(v, ("hip", "ankle")), CleanConfig(margin_px=15.0))
    15.0
    """
    config = config or CleanConfig()
    if config.margin_px is not None:
        return float(config.margin_px)
    leg = _leg_length(pose, config)
    if leg is not None and leg > 0:
        return round(config.margin_leg * leg, 2)
    if pose.frame_size:
        return FALLBACK_MARGIN_PX * float(pose.frame_size[1]) / 540.0
    return FALLBACK_MARGIN_PX


def clean_pose(pose: Pose, *, other: Pose | None = None, config: CleanConfig | None = None) -> CleanResult:
    """Clean one view's keypoints, using the opposite view's file for wrong-limb labels.

    Parameters
    ----------
    pose
        This camera's predictions (image coordinates as DLC wrote them, or oriented).
    other
        The opposite camera's predictions of the same trial, as DLC wrote them (its near
        leg is this camera's far leg). Aligned internally on ``config.reference``; frames
        are matched by frame number.
    config
        Settings; :class:`CleanConfig` defaults when None.

    Returns
    -------
    CleanResult

    Examples
    --------
    >>> import numpy as np
    >>> from napari_gaitint.core.io import Pose
    >>> x = np.linspace(0, 100, 50); x[20] = 400.0
    >>> v = np.stack([x, np.full(50, 200.0), np.ones(50)], axis=-1)[:, None, :]
    >>> res = clean_pose(Pose(v, ("hip",), fps=25.0), config=CleanConfig(filter="none"))
    >>> flag_names(res.flags[20, 0]), round(float(res.pose.values[20, 0, 0]), 1)
    (['outlier', 'interpolated'], 40.8)
    """
    validate_time_series(pose, task="cleaning (gap filling, filtering, swap repair)")
    config = config or CleanConfig()
    fps = pose.fps
    if config.filter != "none" and not fps:
        raise AnalysisError(
            f"{pose.source or 'pose'}: the frame rate is unknown but a {config.filter} filter "
            "in Hz was asked; give fps (--fps) or filter='none'"
        )
    out = pose.copy()
    xy = out.values[..., :2]  # view
    flags = np.zeros((pose.n_frames, len(pose.bodyparts)), dtype=np.int64)
    summary: dict = {"method": config.method, "n_frames": pose.n_frames}

    # 1. likelihood
    if pose.has_likelihood and config.likelihood_threshold > 0:
        lk = pose.likelihood
        low = _finite2(xy) & np.isfinite(lk) & (lk < config.likelihood_threshold)
        xy[low] = np.nan
        flags[low] |= FLAG_LOW_LIKELIHOOD

    # 2. wrong-limb and outliers
    far = None
    if other is not None and config.method != "none":
        far, align = far_leg_from_other_view(out, other, config=config)
        summary["alignment"] = align
        lag = align["lag_frames"]
        if lag or align["lag_beyond_range"]:
            me = pose.source.name if pose.source else "this view"
            them = other.source.name if other.source else "the other view"
            if lag:
                what = (f"{them} matches best {abs(lag)} frame{'s' if abs(lag) != 1 else ''} "
                        f"{'later' if lag > 0 else 'earlier'} (neck/hip tracks; residual "
                        f"{align['lag_score_ratio']:.0%} of the unshifted one); the far leg was "
                        "taken from the shifted frames")
            else:  # its leg positions would be from other moments: not used
                far = None
                if align.get("lag_why") == "legs":
                    what = (f"the leg of {them}, mapped into this image, moves with this "
                            "camera's own leg instead of the other leg (the views look about a "
                            "step apart)")
                else:
                    what = (f"{them} matches better shifted by more than {config.max_lag_s:g} s "
                            "(neck/hip tracks) than frame by frame")
                what += ", so it was not used as the far leg (single-view checks)"
            warnings.warn(
                f"{me}: {what}. The cameras do not look synchronised to the frame: check the "
                "synchronisation (max_lag_s=0 turns this check off)",
                GaitintWarning, stacklevel=2,
            )
    chain = [b for b in config.leg_chain if b in pose.bodyparts]
    margin = margin_px_for(out, config)  # after the likelihood step: confident points only
    summary["margin_px"] = margin
    if config.method == "baseline":
        _baseline(xy, flags, pose.bodyparts, chain, far, margin)
    elif config.method == "twoview":
        max_run = max(1, int(round(config.max_run_s * fps))) if fps else 10
        legs = _other_leg(pose.bodyparts, config) if far is None else None
        if legs is not None:  # one camera sees both legs: each leg is the other's far leg
            summary["legs_exchanged_frames"] = _two_legs(out.values, flags, pose.bodyparts, chain,
                                                         legs, config, max_run, margin)
        elif far is not None:
            summary["other_view_wrong_limb_ignored"] = _twoview(
                xy, flags, pose.bodyparts, chain, far, config, max_run, margin)
        else:  # one view, one leg: the far leg is this leg half a stride away (or unknown)
            virtual, stride = virtual_far_leg(xy, pose.bodyparts, chain, config, fps)
            summary["virtual_far_leg_stride_frames"] = stride
            _twoview(xy, flags, pose.bodyparts, chain, virtual, config, max_run, margin,
                     far_is_estimate=True)

    # 3. gaps and 4. filter, on each body part's track as a contiguous (n, 2) array
    n = xy.shape[0]
    tracks = np.ascontiguousarray(xy.transpose(1, 0, 2))  # (J, n, 2)
    max_gap = config.gap_frames(fps)
    # Without the other view, a wrong-limb label that was not exchanged back has nothing to
    # stand for it: interpolating it would be a guess, so it stays missing.
    unfilled = ((flags & FLAG_WRONG_LIMB) != 0) & np.isnan(xy[..., 0]) if far is None else None
    if max_gap > 0:
        for j, track in enumerate(tracks):
            filled = fill_gaps(track, max_gap_frames=max_gap, method=config.gap_method)
            if unfilled is not None:
                filled[unfilled[:, j]] = np.nan
            new = np.isnan(track[:, 0]) & np.isfinite(filled[:, 0])
            tracks[j] = filled
            flags[new, j] |= FLAG_INTERPOLATED

    if config.filter != "none":
        before = tracks.copy()
        # body parts with the same missing frames share the stretches: filtered together
        same: dict[bytes, list[int]] = {}
        for j, track in enumerate(tracks):
            same.setdefault(np.packbits(_finite_rows(track)).tobytes(), []).append(j)
        for cols in same.values():
            tracks[cols] = lowpass(
                tracks[cols].transpose(1, 0, 2).reshape(n, 2 * len(cols)),
                fps=fps,
                method=config.filter,
                cutoff_hz=config.cutoff_hz,
                order=config.filter_order,
                window_s=config.savgol_window_s,
                polyorder=config.savgol_polyorder,
            ).reshape(n, len(cols), 2).transpose(1, 0, 2)
        moved = _dist(tracks, before).T  # (n, J)
        flags[moved > config.filtered_flag_px] |= FLAG_FILTERED  # NaN compares False
    xy[...] = tracks.transpose(1, 0, 2)

    counts = {name: int(np.count_nonzero(flags & bit)) for bit, name, _ in _FLAG_NAMES}
    summary["counts"] = counts
    summary["missing_after"] = int(np.count_nonzero(np.isnan(xy[..., 0])))
    summary["max_gap_frames"] = max_gap
    out.meta["cleaning"] = {"config": config.to_dict(), "summary": summary}
    return CleanResult(pose=out, flags=flags, config=config, summary=summary)


# ---------------------------------------------------------------------------------------
# Likelihood-free building blocks: gap filling, filtering
# ---------------------------------------------------------------------------------------
def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[(start, stop), ...]`` half-open runs of True in a 1-D boolean array."""
    m = np.concatenate([[False], np.asarray(mask, bool), [False]])
    d = np.diff(m.astype(np.int8))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1), strict=True))


def _dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distance over the last axis (size 2) of ``a - b``; as
    ``np.linalg.norm(a - b, axis=-1)`` (same arithmetic), without its reduction overhead."""
    dx = a[..., 0] - b[..., 0]
    dy = a[..., 1] - b[..., 1]
    return np.sqrt(dx * dx + dy * dy)


def _finite_rows(arr: np.ndarray) -> np.ndarray:
    """``np.isfinite(arr).all(axis=1)`` of an ``(n, k)`` array with few columns, faster
    (a reduction over a short last axis is slow in numpy)."""
    ok = np.isfinite(arr[:, 0])
    for c in range(1, arr.shape[1]):
        ok &= np.isfinite(arr[:, c])
    return ok


def _finite2(p: np.ndarray) -> np.ndarray:
    """``np.isfinite(p).all(-1)`` for a last axis of size 2 (x, y)."""
    return np.isfinite(p[..., 0]) & np.isfinite(p[..., 1])


def fill_gaps(values: np.ndarray, *, max_gap_frames: int, method: str = "spline") -> np.ndarray:
    """Interpolate interior runs of NaN no longer than ``max_gap_frames``.

    Parameters
    ----------
    values
        ``(n_frames,)`` or ``(n_frames, k)``; a row is missing if any column is NaN.
    max_gap_frames
        Longest run of missing rows to fill. Gaps at the start or end are never filled
        (no extrapolation).
    method
        ``"linear"``, ``"pchip"`` (shape-preserving cubic) or ``"spline"`` (cubic spline,
        not-a-knot, through the valid samples; falls back to linear with < 4 samples).

    Examples
    --------
    >>> fill_gaps(np.array([0.0, np.nan, 2.0, np.nan, np.nan, np.nan, 6.0]), max_gap_frames=2,
    ...           method="linear")
    array([ 0.,  1.,  2., nan, nan, nan,  6.])
    """
    from scipy.interpolate import PchipInterpolator

    if method not in GAP_METHODS:
        raise ValueError(f"method must be one of {GAP_METHODS}, got {method!r}")
    arr = np.array(values, dtype=float, copy=True)
    one_d = arr.ndim == 1
    if one_d:
        arr = arr[:, None]
    bad = ~_finite_rows(arr)
    arr[bad] = np.nan
    valid = np.flatnonzero(~bad)
    if valid.size < 2 or max_gap_frames <= 0:
        return arr[:, 0] if one_d else arr
    a, b = _run_bounds(bad)
    inner = (a > 0) & (b < arr.shape[0]) & (b - a <= max_gap_frames)  # no extrapolation
    rows = np.flatnonzero(_cover(arr.shape[0], a[inner], b[inner]))
    if rows.size:
        if method == "linear" or valid.size < 4:
            # np.interp through the samples next to the gaps only: each gap is bridged by
            # its two neighbouring samples, as through all of them
            ends = np.union1d(a[inner] - 1, b[inner])
            for k in range(arr.shape[1]):
                arr[rows, k] = np.interp(rows, ends.astype(float), arr[ends, k])
        elif method == "pchip":
            arr[rows] = PchipInterpolator(valid.astype(float), arr[valid], axis=0)(rows)
        else:
            near = _near_gaps(valid, rows, _SPLINE_SUPPORT)
            arr[rows] = cubic_spline_at(valid[near].astype(float), arr[valid[near]], rows)  # CubicSpline's values
    return arr[:, 0] if one_d else arr


#: Valid samples each side of a gap that the gap-filling spline is fitted to. An
#: interpolating cubic spline's dependence on a sample decays by ``2 - sqrt(3) ~ 0.27`` per
#: knot, so samples further than 40 knots change the filled values by less than 1e-22 of
#: their size: fitting the spline near the gaps only gives the values of the spline through
#: all samples (to rounding), in time that grows with the gaps, not the recording.
_SPLINE_SUPPORT = 40


def _near_gaps(valid: np.ndarray, rows: np.ndarray, support: int) -> np.ndarray:
    """Mask of the ``valid`` (sorted frame numbers) within ``support`` valid samples of a
    frame in ``rows`` (the frames to fill)."""
    pos = np.searchsorted(valid, rows)  # first valid sample after each row
    lo = np.maximum(pos - support, 0)
    hi = np.minimum(pos + support, valid.size)
    return _cover(valid.size, lo, hi)


@functools.lru_cache(maxsize=32)
def _butter_sos_zi(order: int, cutoff_hz: float, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """``(sos, zi)``: low-pass Butterworth second-order sections and their step-response
    initial conditions (:func:`scipy.signal.sosfilt_zi`), cached: designing them takes
    ~1 ms, more than filtering a short trial. ``zi`` is read-only; ``sos`` is not
    (:func:`scipy.signal.sosfilt` needs it writeable): copy it before use."""
    from scipy.signal import butter, sosfilt_zi

    sos = butter(order, cutoff_hz, btype="low", fs=fps, output="sos")
    zi = sosfilt_zi(sos)
    zi.flags.writeable = False
    return sos, zi


def lowpass(
    values: np.ndarray,
    *,
    fps: float,
    method: str = "butterworth",
    cutoff_hz: float = 6.0,
    order: int = 2,
    window_s: float = 0.28,
    polyorder: int = 3,
) -> np.ndarray:
    """Zero-lag low-pass filter of each contiguous stretch of valid samples.

    Parameters
    ----------
    values
        ``(n_frames,)`` or ``(n_frames, k)``; NaN rows split the track into stretches,
        each filtered on its own (NaN stay NaN).
    fps
        Sampling rate in Hz.
    method
        ``"butterworth"``: :func:`scipy.signal.butter` of ``order`` applied forward and
        backward (:func:`~scipy.signal.sosfiltfilt`, effective order ``2 * order``), with
        the padding shortened for short stretches; ``"savgol"``: Savitzky–Golay with a
        ``window_s`` window (odd number of frames, shortened for short stretches);
        ``"none"``.
    cutoff_hz
        Butterworth cut-off in Hz; must be below the Nyquist frequency ``fps / 2``.

    Notes
    -----
    Stretches too short to filter (fewer than 4 samples, or shorter than ``polyorder + 2``
    for Savitzky–Golay) are left as they are.
    """
    if method == "none":
        return np.array(values, dtype=float, copy=True)
    if method not in FILTERS:
        raise ValueError(f"method must be one of {FILTERS}, got {method!r}")
    if not fps or fps <= 0:
        raise AnalysisError("the frame rate is unknown; a filter in Hz needs fps")
    arr = np.array(values, dtype=float, copy=True)
    one_d = arr.ndim == 1
    if one_d:
        arr = arr[:, None]
    good = _finite_rows(arr)
    if method == "butterworth":
        nyq = fps / 2.0
        if cutoff_hz >= nyq:
            raise AnalysisError(
                f"cut-off {cutoff_hz} Hz must be below the Nyquist frequency {nyq:g} Hz "
                f"(half of {fps:g} fps)"
            )
        sos, zi = _butter_sos_zi(int(order), float(cutoff_hz), float(fps))
        sos = sos.copy()
        full_pad = 3 * (2 * len(sos) + 1)
    else:
        window = max(int(round(window_s * fps)) | 1, polyorder + 2 | 1)
    if method == "savgol":
        _savgol_stretches(arr, good, window, polyorder)
        return arr[:, 0] if one_d else arr
    _sosfiltfilt_stretches(arr, good, sos, zi, full_pad)
    return arr[:, 0] if one_d else arr


def _sosfiltfilt_stretches(arr: np.ndarray, good: np.ndarray, sos: np.ndarray, zi: np.ndarray,
                           full_pad: int) -> None:
    """:func:`scipy.signal.sosfiltfilt` of each run of ``good`` rows of ``arr`` (n, k) with
    at least 4 rows, in place, with ``padlen = min(full_pad, rows - 1)``; ``zi`` is
    ``sosfilt_zi(sos)``.

    Equal to the last bit to ``sosfiltfilt(sos, arr[a:b], axis=0, padlen=...)`` on every
    stretch (the same odd extension, initial conditions and :func:`~scipy.signal.sosfilt`
    arithmetic), without scipy's per-call checks and with ``zi`` computed once (~0.1 ms per
    stretch, most of the time spent filtering a short trial). When at least 4 stretches
    have similar lengths (within 2x) they are filtered in one call, stacked as rows, each
    left-aligned: the filter is causal, so what follows a stretch in its row does not reach
    it, and the backward pass runs on each row reversed within its own length (on 100 000
    frames x 12 columns with ~1 200 stretches, 3.5x faster than scipy's ``sosfiltfilt`` per
    stretch: ``benchmarks/core_throughput.py``).
    """
    from scipy.signal import sosfilt

    a, b = _run_bounds(good)
    keep = b - a >= 4
    a, b = a[keep], b[keep]
    if not a.size:
        return
    n = b - a
    pad = np.minimum(full_pad, n - 1)
    length = n + 2 * pad  # of each extended stretch
    bucket = np.frexp(length)[1]  # lengths in [2**(e-1), 2**e) are stacked together
    counts = np.bincount(bucket)
    stacked = counts[bucket] >= 4
    zi_one = zi[:, :, None]  # (sections, 2, 1 column)
    for s in np.flatnonzero(~stacked):
        # few stretches of this length: scipy's steps on slices
        x, p = arr[a[s]:b[s]], int(pad[s])
        ext = np.concatenate((2 * x[:1] - x[p:0:-1], x, 2 * x[-1:] - x[-2:-(p + 2):-1]))
        y, _ = sosfilt(sos, ext, axis=0, zi=zi_one * ext[:1])
        y, _ = sosfilt(sos, y[::-1], axis=0, zi=zi_one * y[-1:])
        arr[a[s]:b[s]] = y[::-1][p:p + int(n[s])]
    zi = zi[:, None, :, None]  # (sections, 1 stretch, 2, 1 column)
    for level in np.unique(bucket[stacked]):
        same = np.flatnonzero(bucket == level)
        # rows per call: the temporaries stay near _STACK_SAMPLES samples x columns each
        per_call = max(1, _STACK_SAMPLES // (2 ** int(level)))
        for s in np.array_split(same, -(-same.size // per_call)):
            _sosfiltfilt_stacked(arr, a[s, None], n[s, None], pad[s, None], length[s, None], sos, zi)


#: Samples per stacked filter call (bounds its temporaries, ~10 arrays of this x columns).
_STACK_SAMPLES = 1 << 16


def _sosfiltfilt_stacked(arr, a_s, n_s, pad_s, len_s, sos, zi) -> None:
    """The stretches ``[a_s, a_s + n_s)`` (column vectors) of ``arr`` filtered in one call,
    one row each (see :func:`_sosfiltfilt_stretches`); ``zi`` shaped (sections, 1, 2, 1)."""
    from scipy.signal import sosfilt

    # odd extension (scipy's odd_ext): 2 x[0] - x[pad..1], x, 2 x[-1] - x[-2..-pad-1];
    # past its length a row repeats its last value (never read back)
    idx = np.minimum(np.arange(int(len_s.max()))[None, :], len_s - 1) - pad_s
    left, right = idx < 0, idx >= n_s
    src = arr[a_s + np.where(left, -idx, np.where(right, 2 * (n_s - 1) - idx, idx))]
    ext = np.where(left[..., None], 2 * arr[a_s] - src,
                   np.where(right[..., None], 2 * arr[a_s + n_s - 1] - src, src))
    y, _ = sosfilt(sos, ext, axis=1, zi=zi * ext[:, :1])
    rev = np.maximum(len_s - 1 - np.arange(ext.shape[1])[None, :], 0)  # each row reversed
    y = np.take_along_axis(y, rev[..., None], axis=1)
    y, _ = sosfilt(sos, y, axis=1, zi=zi * y[:, :1])
    # back in order, without the padding: frame a + i is y[len - 1 - pad - i]
    i = np.arange(int(n_s.max()))[None, :]
    inside = i < n_s
    rows = np.broadcast_to(np.arange(a_s.shape[0])[:, None], inside.shape)[inside]
    arr[(a_s + i)[inside]] = y[rows, (len_s - 1 - pad_s - i)[inside]]


@functools.lru_cache(maxsize=32)
def _savgol_edge_maps(window: int, polyorder: int) -> tuple[np.ndarray, np.ndarray]:
    """Linear maps from a stretch's first / last ``window`` samples to its first / last
    ``window // 2`` filtered values: what :func:`scipy.signal.savgol_filter`'s
    ``mode="interp"`` computes there (a degree-``polyorder`` polynomial fitted to the
    window, evaluated at the edge positions)."""
    h = window // 2
    fit = np.linalg.pinv(np.vander(np.arange(window, dtype=float), polyorder + 1))
    left = np.vander(np.arange(h, dtype=float), polyorder + 1) @ fit
    right = np.vander(np.arange(window - h, window, dtype=float), polyorder + 1) @ fit
    return left, right


def _savgol_stretches(arr: np.ndarray, good: np.ndarray, window: int, polyorder: int) -> None:
    """Savitzky-Golay (``mode="interp"``) of each run of ``good`` rows of ``arr`` (n, k), in place.

    Equal (to rounding) to :func:`scipy.signal.savgol_filter` on every stretch, computed in one
    pass: one convolution of the whole array gives the stretches' interiors (a window there
    holds only the stretch's samples), and the edge polynomial fits of all stretches are two
    matrix products. Stretches shorter than ``window`` use a shorter odd window (left alone
    below ``polyorder + 1`` samples).
    """
    from scipy.ndimage import convolve1d
    from scipy.signal import savgol_coeffs, savgol_filter

    a, b = _run_bounds(good)
    if not a.size:
        return
    long = b - a >= window
    for s, e in zip(a[~long], b[~long], strict=True):
        n = e - s
        w = min(window, n if n % 2 else n - 1)
        if w > polyorder:
            arr[s:e] = savgol_filter(arr[s:e], w, polyorder, axis=0, mode="interp")
    if not long.any():
        return
    a, b = a[long], b[long]
    h = window // 2
    src = np.where(good[:, None], arr, 0.0)
    smooth = convolve1d(src, savgol_coeffs(window, polyorder), axis=0, mode="constant")
    np.copyto(arr, smooth, where=_cover(arr.shape[0], a + h, b - h)[:, None])
    left, right = _savgol_edge_maps(window, polyorder)
    offs = np.arange(window)
    first = src[a[:, None] + offs]  # (n_stretches, window, k)
    last = src[(b - window)[:, None] + offs]
    arr[(a[:, None] + np.arange(h)).ravel()] = np.einsum("ew,swk->sek", left, first).reshape(-1, arr.shape[1])
    arr[(b[:, None] - h + np.arange(h)).ravel()] = np.einsum("ew,swk->sek", right, last).reshape(-1, arr.shape[1])


# ---------------------------------------------------------------------------------------
# The other view
# ---------------------------------------------------------------------------------------
def _robust_line(u: np.ndarray, v: np.ndarray) -> tuple[float, float, float]:
    """Least-squares ``v ≈ a u + b`` with two rounds of 3-MAD outlier rejection.

    Returns ``(a, b, rms_residual)``.
    """
    keep = np.ones(u.size, bool)
    a = b = 0.0
    for _ in range(3):
        A = np.column_stack([u[keep], np.ones(keep.sum())])
        (a, b), *_ = np.linalg.lstsq(A, v[keep], rcond=None)
        res = v - (a * u + b)
        mad = np.median(np.abs(res[keep] - np.median(res[keep])))
        new = np.abs(res) <= max(3 * 1.4826 * mad, 1e-6)
        if new.sum() < 4 or (new == keep).all():
            break
        keep = new
    rms = float(np.sqrt(np.mean((v[keep] - (a * u[keep] + b)) ** 2)))
    return float(a), float(b), rms


def _lag_fits(A: np.ndarray, B: np.ndarray, k_max: int) -> tuple[dict, dict]:
    """Least-squares lines ``A ~ a B[lag] + b`` per axis for every lag, at once.

    ``A`` is ``(n, J, 2)``, ``B`` ``(n + 2 k_max, J, 2)`` (frames ``-k_max .. n - 1 +
    k_max`` relative to ``A``), NaN where missing. Returns ``({lag: rms_x + rms_y},
    {lag: ((a_x, b_x), (a_y, b_y))})`` for lags with at least 10 pairs per axis."""
    n = A.shape[0]
    lags = np.arange(-k_max, k_max + 1)
    U = np.stack([B[k_max + k: k_max + k + n] for k in lags])  # (L, n, J, 2)
    V = np.broadcast_to(A, U.shape)
    m = np.isfinite(U) & np.isfinite(V)
    u, v = np.where(m, U, 0.0), np.where(m, V, 0.0)
    cnt = m.sum(axis=(1, 2)).astype(float)  # (L, 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        su, sv = u.sum(axis=(1, 2)), v.sum(axis=(1, 2))
        suu, svv, suv = (u * u).sum(axis=(1, 2)), (v * v).sum(axis=(1, 2)), (u * v).sum(axis=(1, 2))
        var_u, var_v = suu - su * su / cnt, svv - sv * sv / cnt
        cov = suv - su * sv / cnt
        a = np.where(var_u > 1e-9, cov / var_u, 0.0)
        b = (sv - a * su) / cnt
        rss = np.maximum(var_v - a * cov, 0.0)
        rms = np.sqrt(rss / cnt)
    scores, fits = {}, {}
    for i, k in enumerate(lags):
        if (cnt[i] >= 10).all() and np.isfinite(rms[i]).all():
            scores[int(k)] = float(rms[i].sum())
            fits[int(k)] = ((float(a[i, 0]), float(b[i, 0])), (float(a[i, 1]), float(b[i, 1])))
    return scores, fits


#: A lag is accepted when its residual is below this share of the residual without one.
LAG_ACCEPT_RATIO = 0.85
#: Frames used to estimate the lag (a window in the middle of the shared frames).
LAG_WINDOW_FRAMES = 1000
#: The two legs are apart (median distance of the ankles) by at least this share of the leg
#: length in synchronised views (measured: 0.5-0.65 on the synthetic walker); one step out
#: of sync the mapped leg moves with this camera's own leg (0.02-0.1).
LEGS_APART_LEG = 0.25
#: Without leg tracks in both views, lags are searched up to this (s): the trunk's motion
#: repeats every step (~0.5 s), so only lags well below half a step are unambiguous.
LAG_TRUNK_ONLY_S = 0.2


def estimate_view_lag(
    pose: Pose, other: Pose, *, config: CleanConfig | None = None, max_lag_frames: int | None = None
) -> tuple[int, dict]:
    """The whole-frame lag between two synchronised views, from their shared tracks.

    Both cameras see the ``config.reference`` body parts (neck, hip). For each lag ``k``
    in ``-max_lag .. max_lag`` frames, frame ``f`` of ``pose`` is paired with frame ``f +
    k`` of ``other`` and a line per axis is fitted on those tracks (as for the alignment);
    the residuals are small only where the vertical bobbing of the trunk and its speed
    changes line up. That motion repeats with every *step*, so a lag one step away fits the
    trunk about as well. The legs tell them apart: at the right lag the other camera's leg,
    mapped into this image, is the *other* leg (half a stride out of phase: mostly apart
    from this camera's leg); one step off it moves with this camera's leg. Among the lags
    whose trunk residual is a local minimum below :data:`LAG_ACCEPT_RATIO` x the residual
    at lag 0 (clear evidence: a half-frame offset, or a recording without walking, stays
    0), those whose mapped ankle keeps less than half the largest leg separation are
    dropped and the best trunk fit wins. Without an ankle in both views the search stays
    within :data:`LAG_TRUNK_ONLY_S`.

    Parameters
    ----------
    pose, other
        The two views (image or gait coordinates), frames numbered alike.
    config
        Uses ``reference``, ``leg_chain``, ``likelihood_threshold`` and ``max_lag_s``.
    max_lag_frames
        Search range; default ``max_lag_s x fps`` (12 frames when the frame rate is unknown).

    Returns
    -------
    lag_frames, info
        ``other``'s frame ``f + lag_frames`` shows the moment of ``pose``'s frame ``f``
        (positive: ``other`` started earlier, so its frame numbers run ahead). ``info`` has
        ``scores`` (``{lag: x + y trunk residual px}``), ``leg_separation_px`` (``{lag:
        median distance}`` for the candidates), ``ratio`` (best / lag 0) and
        ``beyond_range`` with ``why``: ``"edge"``, the best match lies at the edge of the
        search, so the views are off by more than it; ``"legs"``, the trunk fits frame by
        frame but the other camera's leg moves with this camera's leg (about a step apart).
        Lag 0 is returned then. Lags beyond half a stride (~0.5 s) look like smaller ones
        (the gait repeats every stride): they cannot be found.

    Examples
    --------
    >>> from napari_gaitint.core.synthetic import generate_trial
    >>> c1, c3 = (generate_trial(0).views[v].pose for v in ("C1", "C3"))
    >>> late = c3.replace(index=c3.frames + 3)  # C3's numbering runs 3 frames ahead
    >>> estimate_view_lag(c1, c3)[0], estimate_view_lag(c1, late)[0]
    (0, 3)
    """
    config = config or CleanConfig()
    fps = pose.fps or other.fps
    if max_lag_frames is None:
        max_lag_frames = int(round(config.max_lag_s * fps)) if fps else (12 if config.max_lag_s > 0 else 0)
    k_max = int(max_lag_frames)
    refs = [r for r in config.reference if r in pose.bodyparts and r in other.bodyparts]
    # one leg point seen by both: the ankle (second of a full leg chain), else the first there is
    shared = [b for b in config.leg_chain if b in pose.bodyparts and b in other.bodyparts]
    ankle = config.leg_chain[1] if len(config.leg_chain) == len(LEG_CHAIN) else None
    legs = [ankle] if ankle in shared else shared[:1]
    if not legs:
        k_max = min(k_max, int(round(LAG_TRUNK_ONLY_S * fps)) if fps else 5)
    if k_max <= 0 or not refs or pose.n_frames < 10 or other.n_frames < 10:
        return 0, {}
    thr = config.likelihood_threshold
    names = refs + legs

    def grid(p: Pose, lo: int, n: int) -> np.ndarray:
        """(n, len(names), 2) positions of frames lo .. lo + n - 1 (NaN where missing)."""
        out = np.full((n, len(names), 2), np.nan)
        rows = p.frames.astype(np.int64) - lo
        idx = np.flatnonzero((rows >= 0) & (rows < n))
        v = p.values[idx][:, [p.bodypart_index(r) for r in names]]
        xy = v[..., :2]
        if p.has_likelihood and thr > 0:
            xy[v[..., 2] < thr] = np.nan
        out[rows[idx]] = xy
        return out

    # a window of the frames both views have (by number), widened by the search range
    lo = int(max(pose.frames.min(), other.frames.min()))
    hi = int(min(pose.frames.max(), other.frames.max()))
    if hi - lo < 10:
        return 0, {}
    if hi - lo + 1 > LAG_WINDOW_FRAMES:
        mid = (lo + hi) // 2
        lo, hi = mid - LAG_WINDOW_FRAMES // 2, mid + LAG_WINDOW_FRAMES // 2
    n = hi - lo + 1 + 2 * k_max
    A = grid(pose, lo - k_max, n)[k_max: n - k_max]  # pose's frames lo..hi
    B = grid(other, lo - k_max, n)
    nr = len(refs)
    scores, fits = _lag_fits(A[:, :nr], B[:, :nr], k_max)
    if 0 not in scores or len(scores) < 3:
        return 0, {"scores": scores}
    ks = sorted(scores)
    cands = [k for i, k in enumerate(ks) if k != 0 and scores[k] < LAG_ACCEPT_RATIO * scores[0]
             and (i == 0 or scores[ks[i - 1]] >= scores[k]) and (i == len(ks) - 1 or scores[ks[i + 1]] >= scores[k])]
    info = {"scores": scores, "ratio": 1.0, "beyond_range": False, "leg_separation_px": {}}
    if legs:  # the mapped leg must be the other leg (apart), not this one a step later
        sep = {}
        for k in [0, *cands]:
            (ax, bx), (ay, by) = fits[k]
            Bk = B[k_max + k: k_max + k + A.shape[0], nr]
            d = np.hypot(A[:, nr, 0] - (ax * Bk[:, 0] + bx), A[:, nr, 1] - (ay * Bk[:, 1] + by))
            d = d[np.isfinite(d)]
            sep[k] = float(np.median(d)) if d.size >= 10 else np.nan
        info["leg_separation_px"] = sep
        leg = _leg_length(pose, config)
        floor = LEGS_APART_LEG * leg if leg else 0.0
        seps = np.array(list(sep.values()), float)
        widest = float(np.nanmax(seps)) if np.isfinite(seps).any() else np.nan
        if np.isfinite(widest):
            cands = [k for k in cands if np.isfinite(sep[k]) and sep[k] >= max(0.5 * widest, floor)]
        if not cands and np.isfinite(sep[0]) and sep[0] < floor:
            # the trunk fits frame by frame but the other camera's leg moves with this
            # camera's leg: the views are about a step (an odd number of steps) apart
            info["beyond_range"], info["why"] = True, "legs"
            return 0, info
    if not cands:
        return 0, info
    best = min(cands, key=scores.get)
    info["ratio"] = float(scores[best] / scores[0]) if scores[0] > 0 else 1.0
    if abs(best) == k_max:  # still falling at the edge: the lag is larger than the search
        info["beyond_range"], info["why"] = True, "edge"
        return 0, info
    return best, info


def far_leg_from_other_view(
    pose: Pose, other: Pose, *, config: CleanConfig | None = None
) -> tuple[dict[str, np.ndarray], dict]:
    """The far leg of ``pose``'s camera, seen as the near leg of the opposite camera.

    ``other``'s leg-chain tracks are mapped into ``pose``'s coordinates by a per-axis
    linear map ``x = a_x x' + b_x``, ``y = a_y y' + b_y`` fitted (robustly) on the shared
    ``config.reference`` tracks (neck and hip) over the frames both views have; a negative
    ``a_x`` is the mirror between opposite cameras. Frames are matched by frame number.

    Returns
    -------
    far
        ``{bodypart: (n_frames, 2) array}`` in ``pose``'s coordinates (NaN where unknown).
    alignment
        ``{"ax", "bx", "ay", "by", "rms_x_px", "rms_y_px", "n_points", "x_map",
        "lag_frames", "lag_score_ratio", "lag_beyond_range", "lag_why"}``: frame ``f`` of
        ``pose`` was matched with frame ``f + lag_frames`` of ``other``
        (:func:`estimate_view_lag`; ``lag_beyond_range``: the views look out of sync by more
        than can be corrected, see there).

    Raises
    ------
    AnalysisError
        If fewer than 10 shared valid reference samples exist or they do not span the
        image (the subject must walk across both views).
    """
    config = config or CleanConfig()
    thr = config.likelihood_threshold
    # match frames by number (plus the cameras' lag, when one is clearly found)
    lag, lag_info = estimate_view_lag(pose, other, config=config)
    fa, fb = pose.frames, other.frames
    pos = pd.Index(fb).get_indexer(fa + lag)
    has = pos >= 0

    def _other_xy(name: str) -> np.ndarray:
        v = np.full((pose.n_frames, 2), np.nan)
        src = other.bodypart(name)
        good = other.has_xy(name)
        if other.has_likelihood and thr > 0:
            good &= ~(src[:, 2] < thr)
        sel = np.where(good, src[:, 0], np.nan), np.where(good, src[:, 1], np.nan)
        v[has, 0] = sel[0][pos[has]]
        v[has, 1] = sel[1][pos[has]]
        return v

    us, vs = [], []
    for name in config.reference:
        if name not in pose.bodyparts or name not in other.bodyparts:
            continue
        mine = pose.bodypart(name)[:, :2].copy()
        if pose.has_likelihood and thr > 0:
            mine[pose.bodypart(name)[:, 2] < thr] = np.nan
        theirs = _other_xy(name)
        ok = _finite2(mine) & _finite2(theirs)
        us.append(theirs[ok])
        vs.append(mine[ok])
    if not us or sum(len(u) for u in us) < 10:
        raise AnalysisError(
            f"{pose.source or 'pose'}: cannot align the other view ({other.source or 'other'}): "
            f"fewer than 10 frames where both have {'/'.join(config.reference)} with likelihood "
            f">= {thr}; check that the two files are the same trial, or clean without it"
        )
    u = np.concatenate(us)
    v = np.concatenate(vs)
    if np.ptp(u[:, 1]) > 1.0 and len(us) > 1:
        ay, by, ry = _robust_line(u[:, 1], v[:, 1])
    else:  # one reference only: keep the vertical scale, fit the offset
        ay = 1.0
        by = float(np.median(v[:, 1] - u[:, 1]))
        ry = float(np.std(v[:, 1] - u[:, 1] - by))
    how = "fit"
    if np.ptp(u[:, 0]) >= 50.0 and np.ptp(v[:, 0]) >= 50.0:
        ax, bx, rx = _robust_line(u[:, 0], v[:, 0])
    else:
        # The body stays in place (treadmill): the x scale cannot be fitted. Take its size
        # from the vertical fit (square pixels) and its sign from the direction the feet
        # swing in each view (fast forward swings vs slow stance).
        mine = _facing(pose, config)
        theirs = _facing(other, config)
        if mine == 0 or theirs == 0 or not 0.2 < abs(ay) < 5:
            raise AnalysisError(
                f"{pose.source or 'pose'}: the body reference barely moves across the image "
                f"and the feet do not show a walking direction; cannot align the other view "
                f"({other.source or 'other'}). Clean without it."
            )
        ax = float(abs(ay) * mine * theirs)
        bx = float(np.median(v[:, 0] - ax * u[:, 0]))
        rx = float(np.std(v[:, 0] - (ax * u[:, 0] + bx)))
        how = "treadmill"
    far = {}
    for name in config.leg_chain:
        if name in other.bodyparts and name in pose.bodyparts:
            t = _other_xy(name)
            far[name] = np.column_stack([ax * t[:, 0] + bx, ay * t[:, 1] + by])
    align = {
        "ax": ax, "bx": bx, "ay": ay, "by": by,
        "rms_x_px": rx, "rms_y_px": ry, "n_points": int(len(u)), "x_map": how,
        "lag_frames": lag, "lag_score_ratio": lag_info.get("ratio", 1.0),
        "lag_beyond_range": bool(lag_info.get("beyond_range", False)), "lag_why": lag_info.get("why", ""),
    }
    return far, align


def _facing(pose: Pose, config: CleanConfig) -> int:
    """+1/-1: the image direction the feet swing in relative to the body (0 if unclear).

    In walking, a foot moves forward fast (swing, ~40 % of the time) and backward slowly
    relative to the body (stance): the fastest relative motions point forward.
    """
    ref = next((r for r in config.reference if r in pose.bodyparts), None)
    feet = [b for b in ("toe", "heel", "ankle") if b in config.leg_chain and b in pose.bodyparts]
    if ref is None or not feet:
        return 0
    votes = []
    for b in feet:
        rel = pose.bodypart(b)[:, 0] - pose.bodypart(ref)[:, 0]
        d = np.diff(rel)
        d = d[np.isfinite(d)]
        if d.size < 10:
            continue
        fast = d[np.abs(d) >= np.percentile(np.abs(d), 80)]
        votes.append(np.sign(np.median(fast)))
    total = float(np.sum(votes)) if votes else 0.0
    return int(np.sign(total)) if abs(total) >= max(1, len(votes) / 2) else 0


# ---------------------------------------------------------------------------------------
# Baseline (the seed's rule)
# ---------------------------------------------------------------------------------------
def _baseline(xy, flags, bodyparts, chain, far, margin):
    n = xy.shape[0]
    for j in range(len(bodyparts)):
        x = xy[:, j, 0]
        for t in range(1, n - 1):
            d1, d2 = abs(x[t] - x[t - 1]), abs(x[t] - x[t + 1])
            if d1 > margin and d2 > margin:  # NaN compares False
                xy[t, j] = (xy[t - 1, j] + xy[t + 1, j]) / 2.0
                flags[t, j] |= FLAG_OUTLIER
    if far is None:
        return
    for name in chain:
        if name not in far:
            continue
        j = bodyparts.index(name)
        x = xy[:, j, 0]
        fx = far[name][:, 0]
        for t in range(2, n):
            if abs(x[t] - x[t - 1]) > margin and abs(x[t] - fx[t]) < margin:
                xy[t, j] = 2.0 * xy[t - 1, j] - xy[t - 2, j]
                flags[t, j] |= FLAG_WRONG_LIMB


# ---------------------------------------------------------------------------------------
# Two-view detector with single-view fall-back
# ---------------------------------------------------------------------------------------
def _run_bounds(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(starts, stops)`` arrays of the half-open runs of True in a 1-D boolean array."""
    m = np.concatenate([[False], np.asarray(mask, bool), [False]])
    d = np.diff(m.astype(np.int8))
    return np.flatnonzero(d == 1), np.flatnonzero(d == -1)


def _cover(n: int, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """Boolean (n,) mask that is True on every half-open range ``[starts[i], stops[i])``."""
    d = np.zeros(n + 1, np.int64)
    keep = stops > starts
    np.add.at(d, starts[keep], 1)
    np.add.at(d, stops[keep], -1)
    return np.cumsum(d[:-1]) > 0


def _long_runs(mask: np.ndarray, longer_than: int) -> np.ndarray:
    """Frames of the runs of True in ``mask`` (1-D) longer than ``longer_than`` frames."""
    a, b = _run_bounds(mask)
    long = b - a > longer_than
    return _cover(mask.size, a[long], b[long])


def _bridge_at(p: np.ndarray, trusted: np.ndarray, t: np.ndarray, k: int = 2,
               max_reach: int = 12, segment: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Predictions of ``p`` (n, 2) at frames ``t`` bridging their runs of non-trusted frames.

    Each run of non-trusted frames is bridged by the polynomial through the nearest (up to
    ``k = 2``) trusted frames before and after it within ``max_reach`` frames: cubic with
    2 + 2 frames, lower order with fewer; one side only: linear extrapolation from 2
    frames, constant from 1. The polynomial passes through all its points, so it is
    evaluated as a Lagrange polynomial, for all ``t`` at once.

    Returns ``(q, both)``: ``(t.size, 2)`` predictions (NaN at trusted frames or where no
    trusted frame is in reach) and whether trusted frames on both sides were used.

    ``segment``: ``p`` holds several tracks, track ``s`` in rows ``[s * segment, s *
    segment + n_s)`` (each followed by untrusted padding): each is bridged on its own, as
    if it were passed alone.
    """
    if k > 2:
        raise ValueError("k > 2 is not supported")
    n = p.shape[0]
    t = np.asarray(t, dtype=np.int64)
    q = np.full((t.size, 2), np.nan)
    both = np.zeros(t.size, bool)
    tr_idx = np.flatnonzero(trusted)
    n_tr = tr_idx.size
    if n_tr == 0 or t.size == 0:
        return q, both
    i = np.searchsorted(tr_idx, t)  # trusted frames before t: tr_idx[:i]
    if segment is None:  # one track: frames [0, n), its trusted frames tr_idx[0:n_tr]
        lo, hi, i_lo, i_hi = 0, n, 0, n_tr
    else:  # t's own track: frames [lo, hi) (the padding after it is never trusted)
        lo = t - t % segment
        hi = lo + segment
        i_lo, i_hi = np.searchsorted(tr_idx, lo), np.searchsorted(tr_idx, hi)
    a = np.where(i > i_lo, tr_idx[np.maximum(i - 1, 0)] + 1, lo)  # start of t's untrusted run
    b = np.where(i < i_hi, tr_idx[np.minimum(i, n_tr - 1)], hi)  # its (exclusive) end
    offs = np.arange(-k, k)
    j = i[:, None] + offs[None, :]  # (m, 2k): k trusted frames before, k after
    ts = tr_idx[np.clip(j, 0, n_tr - 1)]
    before = offs < 0
    use = ((j >= np.reshape(i_lo, (-1, 1))) & (j < np.reshape(i_hi, (-1, 1)))
           & np.where(before[None, :], ts >= (a - max_reach)[:, None], ts < (b + max_reach)[:, None]))
    use &= ~trusted[t][:, None]
    nb, na = use[:, before].sum(1), use[:, ~before].sum(1)
    both = (nb > 0) & (na > 0)
    x = (ts - a[:, None]).astype(float)  # as polyfit(ts - a, ...)
    xt = (t - a).astype(float)
    ys = np.where(use[..., None], p[ts], 0.0)  # (m, 2k, 2)
    # Lagrange basis r: the product over the other used points s of (xt - x_s) / (x_r - x_s)
    with np.errstate(invalid="ignore", divide="ignore"):
        f = (xt[:, None, None] - x[:, None, :]) / (x[:, :, None] - x[:, None, :])  # [m, r, s]
    keep = use[:, :, None] & use[:, None, :] & ~np.eye(2 * k, dtype=bool)[None]
    w = np.where(use, np.prod(np.where(keep, f, 1.0), axis=2), 0.0)
    qq = np.einsum("mr,mrc->mc", w, ys)
    has = use.any(1)
    q[has] = qq[has]
    return q, both & has


def _distance_to(mask: np.ndarray, t: np.ndarray | None = None) -> np.ndarray:
    """Frames from each frame (or from frames ``t``) to the nearest True frame of ``mask``
    (inf if none)."""
    idx = np.flatnonzero(mask)
    t = np.arange(mask.size) if t is None else np.asarray(t, dtype=np.int64)
    if idx.size == 0:
        return np.full(t.size, np.inf)
    pos = np.clip(np.searchsorted(idx, t), 1, idx.size) - 1
    d1 = np.abs(t - idx[pos])
    d2 = np.abs(idx[np.minimum(pos + 1, idx.size - 1)] - t)
    return np.minimum(d1, d2).astype(float)


def _stencil_residual(p: np.ndarray) -> np.ndarray:
    """Deviation of each sample (n, 2) from the cubic through its ±1, ±2 neighbours (px)."""
    n = p.shape[0]
    r = np.full(n, np.nan)
    if n < 5:
        return r
    x, y = np.ascontiguousarray(p[:, 0]), np.ascontiguousarray(p[:, 1])
    px = (-x[:-4] + 4 * x[1:-3] + 4 * x[3:-1] - x[4:]) / 6.0
    py = (-y[:-4] + 4 * y[1:-3] + 4 * y[3:-1] - y[4:]) / 6.0
    dx, dy = x[2:-2] - px, y[2:-2] - py
    r[2:-2] = np.sqrt(dx * dx + dy * dy)
    return r


def _robust_sigma(r: np.ndarray) -> float:
    r = r[np.isfinite(r)]
    if r.size < 5:
        return np.inf
    return float(1.4826 * np.median(r) / 1.1774)  # median of a 2-D Rayleigh = 1.1774 sigma


def virtual_far_leg(xy: np.ndarray, bodyparts, chain, config: CleanConfig, fps: float | None
                    ) -> tuple[dict[str, np.ndarray] | None, float | None]:
    """The far leg of a camera that sees one leg, estimated from that leg half a stride away.

    In walking the two legs move alike, half a stride apart: relative to the body (the
    hip, else the neck), the far leg's joint at frame ``t`` is where the near leg's was at
    ``t - T/2`` and will be at ``t + T/2`` (``T``, the stride, from the autocorrelation of
    the ankle's, else the first leg joint's, x relative to the body between 0.5 and 3 s).
    The two are averaged where both exist, linearly interpolated between frames. A
    wrong-limb label half a stride away puts this estimate on the near leg, as the other
    camera's own wrong-limb labels put its leg (and are found the same way); an asymmetric
    gait moves it off the far leg, where it only finds nothing (the checks of the label's
    own track stay on: :func:`_chain_swaps`, ``far_is_estimate``).

    Parameters
    ----------
    xy
        ``(n_frames, n_bodyparts, 2)`` positions (NaN where missing), any coordinates.
    bodyparts, chain
        The names of ``xy``'s columns and of the leg joints to estimate.
    config
        ``reference`` gives the body reference (its second name, the hip, else the first).
    fps
        Frames per second (None: no estimate).

    Returns
    -------
    far, stride_frames
        ``{joint: (n_frames, 2)}`` (NaN where unknown) and ``T`` in frames; ``(None,
        None)`` when no stride can be found (fewer than ~1.5 strides, no body reference).
    """
    from .events import estimate_period_frames  # (events does not import clean)

    refs = [r for r in config.reference[::-1] if r in bodyparts]
    joints = [b for b in chain if b in bodyparts]
    if not fps or not refs or not joints:
        return None, None
    body = xy[:, bodyparts.index(refs[0])]
    lead = joints[1] if len(joints) > 1 and len(chain) == len(LEG_CHAIN) else joints[0]
    rel_lead = xy[:, bodyparts.index(lead), 0] - body[:, 0]
    stride = estimate_period_frames(rel_lead, min_frames=0.5 * fps, max_frames=3.0 * fps)
    if stride is None:
        return None, None
    n = xy.shape[0]
    t = np.arange(n, dtype=float)
    far = {}
    for name in joints:
        rel = xy[:, bodyparts.index(name)] - body  # (n, 2), NaN where either is missing
        acc = np.zeros((n, 2))
        cnt = np.zeros(n)
        for shift in (-0.5 * stride, 0.5 * stride):
            src = t + shift
            i0 = np.floor(src).astype(np.int64)
            w = (src - i0)[:, None]
            ok = (i0 >= 0) & (i0 + 1 <= n - 1)
            i0c = np.clip(i0, 0, n - 2)
            val = (1 - w) * rel[i0c] + w * rel[i0c + 1]
            ok &= _finite2(val)
            acc[ok] += val[ok]
            cnt[ok] += 1
        with np.errstate(invalid="ignore", divide="ignore"):
            far[name] = body + acc / cnt[:, None]  # NaN where no shift has data
    return far, float(stride)


def _twoview(xy, flags, bodyparts, chain, far, config, max_run, margin, *, outliers: bool = True,
             far_is_estimate: bool = False, far_vetoes: bool = True) -> int:
    """Flag and remove (NaN) wrong-limb labels of the chain and (``outliers``) isolated
    outliers of every body part, in place (``margin`` in px).

    ``far_is_estimate``: ``far`` is not seen by another camera but estimated
    (:func:`virtual_far_leg`): the single-view checks stay on beside it (see
    :func:`_chain_swaps`). ``far_vetoes``: a label closer to the far leg than to the near
    track does not continue the track on one side's evidence alone (:func:`_continues`);
    off for the far leg of a file with both legs, whose labels are as unsure as the ones
    they check.

    Returns the number of the other view's leg labels judged wrong-limb and ignored.
    """
    m = margin
    n = xy.shape[0]
    cj = [bodyparts.index(b) for b in chain]
    n_theirs = 0
    if cj:
        P = xy[:, cj, :]  # (n, J, 2) copy (fancy index)
        if far is not None:
            F = np.stack([far.get(b, np.full((n, 2), np.nan)) for b in chain], axis=1)
            # The other view has wrong-limb labels of its own (then its "near" label sits on
            # our near leg). Find them the same way, with our labels as its far leg, and
            # drop them before judging ours: first a rough pass on ours, then the other
            # view's against our rough-cleaned labels, then ours against the cleaned other.
            cache: dict = {}  # per-track features shared by the passes
            kw = dict(far_is_estimate=far_is_estimate, far_vetoes=far_vetoes)
            if not far_is_estimate:
                rough = _chain_swaps(P, F, m, max_run, cache, **kw)
                theirs = _chain_swaps(F, np.where(rough[..., None], np.nan, P), m, max_run, cache, **kw)
                F = np.where(theirs[..., None], np.nan, F)
                n_theirs = int(theirs.sum())
        else:
            F = np.full_like(P, np.nan)
            cache, kw = {}, {}
        swapped = _chain_swaps(P, F, m, max_run, cache, **kw)
        for k, j in enumerate(cj):
            xy[swapped[:, k], j] = np.nan
            flags[swapped[:, k], j] |= FLAG_WRONG_LIMB

    # isolated outliers on every body part (two passes catch neighbouring spikes)
    for j in range(xy.shape[1] if outliers else 0):
        for _ in range(2):
            r = _stencil_residual(xy[:, j, :])
            sig = _robust_sigma(r)
            thr = max(2 * m, config.outlier_sigma * sig)
            out = np.nan_to_num(r, nan=0.0) > thr
            # A one-frame spike of size s leaves residuals s at the spike and 2/3 s at its
            # neighbours: keep clear peaks only (a run of several bad frames gives flat
            # residuals, and flagging its good neighbours would be wrong).
            rr = np.nan_to_num(r, nan=0.0)
            peak = out & (0.8 * rr >= np.roll(rr, 1)) & (0.8 * rr >= np.roll(rr, -1))
            if not peak.any():
                break
            xy[peak, j] = np.nan
            flags[peak, j] |= FLAG_OUTLIER
    return n_theirs


def _other_leg(bodyparts, config: CleanConfig) -> tuple[list[int], list[int]] | None:
    """Column pairs ``(this leg's, the other leg's)`` of the body parts that swap together
    (hip and leg chain) when ``config.other_leg`` names the other leg in this file; None
    when it does not, or when no leg-chain body part of both legs is in the file."""
    if config.other_leg is None:
        return None
    mine_names = (config.reference[1] if len(config.reference) > 1 else None,) + config.leg_chain
    pairs = [(bodyparts.index(a), bodyparts.index(b)) for a, b in zip(mine_names, config.other_leg, strict=True)
             if a in bodyparts and b in bodyparts and a != b]
    if not any(bodyparts[a] in config.leg_chain for a, _ in pairs):
        return None
    return [a for a, _ in pairs], [b for _, b in pairs]


def _two_legs(values, flags, bodyparts, chain, legs, config, max_run, margin) -> int:
    """Both legs seen by one camera: exchange back the frames where the legs' labels are
    exchanged (x, y and likelihood of ``values``, (n, J, 3)), then flag and remove (NaN)
    each leg's wrong-limb labels with the other leg's own track as its far leg
    (:func:`_twoview`), and isolated outliers, in place.

    Returns the number of frames exchanged back.
    """
    mine, theirs = legs
    xy = values[..., :2]  # view
    in_chain = [k for k, j in enumerate(mine) if bodyparts[j] in chain]
    gap = max(1, max_run // 4)  # continuity is judged over gaps of up to ~0.1 s
    exchanged = _exchanged_legs(xy[:, [mine[k] for k in in_chain]], xy[:, [theirs[k] for k in in_chain]],
                                margin, max_gap_frames=gap)
    if exchanged.any():  # each label goes back to its leg with its likelihood
        a, b = values[:, mine], values[:, theirs]  # copies (fancy index)
        values[np.ix_(exchanged, mine)] = b[exchanged]
        values[np.ix_(exchanged, theirs)] = a[exchanged]
        had = np.isfinite(a[exchanged, :, 0]) | np.isfinite(b[exchanged, :, 0])
        for cols in (mine, theirs):
            flags[np.ix_(exchanged, cols)] |= np.where(had, FLAG_WRONG_LIMB | FLAG_SWAPPED, 0)
    # each leg against the other, from the same (exchanged back) labels
    this_chain = [bodyparts[mine[k]] for k in in_chain]
    other_chain = [bodyparts[theirs[k]] for k in in_chain]
    before = xy.copy()
    far_of_mine = {m: before[:, bodyparts.index(o)] for m, o in zip(this_chain, other_chain, strict=True)}
    far_of_theirs = {o: before[:, bodyparts.index(m)] for m, o in zip(this_chain, other_chain, strict=True)}
    _twoview(xy, flags, bodyparts, this_chain, far_of_mine, config, max_run, margin, outliers=False,
             far_vetoes=False)
    _twoview(xy, flags, bodyparts, other_chain, far_of_theirs, config, max_run, margin, far_vetoes=False)
    return int(exchanged.sum())


def _exchanged_legs(A: np.ndarray, B: np.ndarray, m: float, *, max_gap_frames: int) -> np.ndarray:
    """(n,) frames where the labels of two legs seen by one camera are exchanged.

    ``A`` and ``B`` are the two legs' ``(n, J, 2)`` joint tracks (NaN = missing). Each frame
    either keeps the legs' labels or exchanges them; the choice over all frames that makes
    both tracks the most continuous wins (a two-state Viterbi path). The cost of a frame is
    how far each leg's joints moved since the last frame (within ``max_gap_frames``) that
    had both legs' labels of that joint, each distance capped at ``4 m``; changing between
    keeping and exchanging costs ``m`` (a flip must make the tracks clearly more
    continuous; where the legs cross, both readings fit and nothing changes), and each
    exchanged frame ``m / 4``: the labels as given are right unless the ends of an
    exchanged run say otherwise (a run between two ambiguous places, a crossing and a lost
    frame say, is left as it is). An exchange at two clear jumps, the legs apart, saves
    several ``m`` per joint at each end and is found whatever its length within a stride or
    two.
    """
    n, J = A.shape[:2]
    both = _finite2(A) & _finite2(B)
    stay = np.zeros(n)
    swap = np.zeros(n)
    cap = 4.0 * m
    for k in range(J):
        idx = np.flatnonzero(both[:, k])
        t, p = idx[1:], idx[:-1]
        near = t - p <= max_gap_frames
        t, p = t[near], p[near]
        a, b, ap, bp = A[t, k], B[t, k], A[p, k], B[p, k]
        stay[t] += np.minimum(_dist(a, ap), cap) + np.minimum(_dist(b, bp), cap)
        swap[t] += np.minimum(_dist(a, bp), cap) + np.minimum(_dist(b, ap), cap)
    flip, per_frame = float(m), 0.25 * float(m)
    c0, c1 = 0.0, per_frame  # best cost so far ending in "kept" / "exchanged"
    came = np.zeros((n, 2), bool)  # came[t, s]: state s at t came from the other state
    for t, (st, sw) in enumerate(zip(stay.tolist(), swap.tolist(), strict=True)):
        if t == 0:
            continue
        k0, x0 = c0 + st, c1 + sw + flip
        k1, x1 = c1 + st, c0 + sw + flip
        came[t] = (x0 < k0, x1 < k1)
        c0, c1 = min(k0, x0), min(k1, x1) + per_frame
    out = np.zeros(n, bool)
    s = int(c1 < c0)
    for t in range(n - 1, -1, -1):
        out[t] = bool(s)
        if came[t, s]:
            s = 1 - s
    return out


def _one_sided_at(p: np.ndarray, trusted: np.ndarray, t: np.ndarray) -> list[np.ndarray]:
    """Extrapolations of ``p`` (n, 2) to frames ``t`` from the trusted frames just before
    them (linear from 2, quadratic from 3) and just after them (same): four ``(t.size, 2)``
    arrays, NaN where not available."""
    n = p.shape[0]
    s = t[:, None] + np.array([-1, -2, -3, 1, 2, 3])[None, :]
    sc = np.clip(s, 0, n - 1)
    v = np.where((trusted[sc] & (sc == s))[..., None], p[sc], np.nan)  # (t.size, 6, 2)
    m1, m2, m3, p1, p2, p3 = (v[:, i] for i in range(6))
    return [2 * m1 - m2, 2 * p1 - p2, 3 * m1 - 3 * m2 + m3, 3 * p1 - 3 * p2 + p3]


def _continues(p: np.ndarray, trusted: np.ndarray, t: np.ndarray, m: float, *,
               at_edge: bool, segment: int | None = None, far: np.ndarray | None = None) -> np.ndarray:
    """Whether the labels ``p[t]`` continue the trusted track: within ``m`` of the bridge
    over their run or of an extrapolation from the trusted frames next to them.

    At a track's start or end (``at_edge`` frames next to a trusted one, with trusted
    frames on one side only) only one side predicts: ``2 m`` is accepted there, what would
    not be judged a swap (see :func:`_chain_swaps`), so the track can continue.
    ``segment``: several tracks in one array, as in :func:`_bridge_at` (their padding,
    at least 3 frames, is never trusted).

    ``far`` (aligned with ``p``, NaN where unknown): where the two legs cross, the label
    can go on along either leg and both continue the track on that side. A label within
    ``2 m`` of the far leg that only continues an extrapolation from one side, while the
    bridge from both sides puts the near leg more than ``m`` away and the label closer to
    the far leg than to it, is
    not accepted here (it is judged: :func:`_chain_swaps`); nor is a label that is closer
    to the far leg than to its one-sided prediction and only within the ``2 m`` allowed
    at a track's ends.
    """
    if not t.size:
        return np.zeros(0, bool)
    pt = p[t]
    e = np.full(t.size, np.inf)  # the closest extrapolation (inf: none)
    for x in _one_sided_at(p, trusted, t):
        e = np.fmin(e, _dist(pt, x))
    ok = e <= m  # continues an extrapolation: accepted unless the bridge says the far leg
    d_far = _dist(pt, far[t]) if far is not None else np.full(t.size, np.nan)
    chk = ok & (d_far < 2 * m)  # (NaN: no far leg there)
    need = np.flatnonzero(chk | ~ok)  # one bridge for both checks
    if need.size:
        q, both = _bridge_at(p, trusted, t[need], segment=segment)
        eq = _dist(pt[need], q)
        veto = chk[need] & both & (eq > m) & (d_far[need] < eq)
        ok[need[veto]] = False
        judge = ~chk[need]  # the labels that continue no extrapolation: the bridge decides
        rest, eq, both = need[judge], eq[judge], both[judge]
        e_rest = np.minimum(e[rest], np.where(np.isnan(eq), np.inf, eq))
        accept = e_rest <= (np.where(both, m, 2 * m) if at_edge else m)
        # the one-sided allowance is not for a label on the far leg
        accept &= (e_rest <= m) | ~(d_far[rest] < e_rest)
        ok[rest] = accept
    return ok


def _continues_context(trusted: np.ndarray, t: np.ndarray, k: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Open intervals ``(lo, hi)`` of frames around frames ``t`` whose trust decides
    :func:`_continues` there: it uses the ``k`` nearest trusted frames before and after
    (:func:`_bridge_at`) and frames ``t +- 3`` (:func:`_one_sided_at`). Until a frame in
    there turns trusted, the outcome at ``t`` cannot change."""
    n = trusted.shape[0]
    tr_idx = np.flatnonzero(trusted)
    if not tr_idx.size:
        return np.full(t.size, -1, np.int64), np.full(t.size, n, np.int64)
    i = np.searchsorted(tr_idx, t)
    lo = np.where(i >= k, tr_idx[np.maximum(i - k, 0)], -1)
    hi = np.where(i + k - 1 < tr_idx.size, tr_idx[np.minimum(i + k - 1, tr_idx.size - 1)], n)
    return np.minimum(lo, t - 4), np.maximum(hi, t + 4)


def _chain_swaps(P: np.ndarray, F: np.ndarray, m: float, max_run: int, cache: dict | None = None,
                 *, far_is_estimate: bool = False, far_vetoes: bool = True) -> np.ndarray:
    """Wrong-limb labels ``(n, J)`` of the leg chain ``P`` (n, J, 2), NaN = missing.

    ``F`` (n, J, 2) is the far leg where known (NaN elsewhere); ``m`` the margin in px.
    ``cache``: a dict shared by calls on the same arrays (the jumps and the smoothness of a
    track are computed once per array).

    1. Candidates. With the far leg known: labels within ``3 m`` of it (and the whole
       chain in a frame where most of it is). Without it: labels in a run between two
       jumps of the track at most ``max_run + 1`` frames apart. Where both are known and
       the label is clearly off the far leg, jump runs are candidates only if the far
       track jumps there too (both views wrong at once). All other labels are trusted.
       Inside candidate runs longer than ``max_run`` (legs close for long), smooth
       stretches are trusted.
    2. Trust grows into candidate runs from their edges: a candidate that continues the
       trusted track (within ``m`` of the cubic bridge over the run, or of a linear or
       quadratic extrapolation from the neighbouring trusted frames; ``2 m`` at the start
       or end of a track) is accepted. Legs crossing (near and far leg together) and
       frames where the *other* view was wrong (its label then lies on our near leg) are
       accepted this way; not (``far_vetoes``) a label closer to the far leg than to the
       bridge from both sides (after a crossing the label can go on along either leg).
    3. A remaining candidate is a wrong-limb label when
       * the far leg is known, the label is closer to it than to the bridged near track,
         more than ``m`` off that track, and the legs are more than ``m`` apart there;
       * or the far leg is unknown and the label is more than ``2 m`` off the bridge
         while another joint of the chain is too (``3 m`` alone);
       * or the two views exchanged their labels: ours continues the far track and
         theirs our near track.
       With a one-sided bridge (start or end of a track) the thresholds grow by ``m``
       per frame from the last trusted frame. Runs longer than ``max_run`` frames, where
       the bridge is unreliable, are judged only at their two frames next to trusted ones.

    ``far_is_estimate``: ``F`` is an estimate of the far leg, not another camera's labels
    (:func:`virtual_far_leg`): the checks without a far leg (jump runs; a label far off
    the bridge) apply everywhere beside the far-leg checks, and there is no other view to
    be wrong at the same time.
    """
    n, J = P.shape[:2]
    valid = _finite2(P)
    has_f = _finite2(F) & valid
    d_pf = _dist(P, F)
    near_far = has_f & (d_pf < 3 * m)
    frame_cand = near_far.sum(1) * 2 >= np.maximum(has_f.sum(1), 1)
    cand = near_far | (frame_cand[:, None] & has_f)
    trusted = valid & ~cand
    # Candidate runs longer than any plausible swap (legs close for long, e.g. the knees of
    # a short step): smooth stretches inside them seed the trust. (A frame next to or in a
    # short swap run has a residual of at least a third of the swap distance, and so does
    # one of its neighbours at half of it: require all three to be small.)
    cache = {} if cache is None else cache

    def memo(key, fn):  # entries keep their array alive, so its id stays its own
        if key not in cache:
            cache[key] = fn()
        return cache[key][1]

    smooth = memo(("smooth", id(P)), lambda: (P, _smooth_frames(P, valid, m)))
    for k in range(J):
        long = _long_runs(~trusted[:, k], max_run)
        trusted[:, k] |= long & valid[:, k] & smooth[:, k]
    # Candidates from the track itself (needed where the far leg is unknown, or where
    # both views are wrong at once): frames between two jumps at most max_run + 1 apart.
    # A jump is a label more than 2 m off the linear extrapolation of the two previous
    # frames (on clean tracks of walking at 25 Hz that is rarer than 1 in 1000).
    between = memo(("between", id(P)), lambda: (P, _between_jumps(P, 2 * m, max_run)))
    seen_f = np.zeros_like(has_f) if far_is_estimate else has_f  # another camera's far leg
    jump_nof = valid & between & ~seen_f
    # Where the far leg is known and the label is clearly off it, a jump run is only
    # suspect if the far track jumps there too (both views wrong at once: the labels
    # exchanged); other jump runs keep their trust (fast swings also jump).
    between_f = memo(("between", id(F)), lambda: (F, _between_jumps(F, 2 * m, max_run)))
    jump_f = valid & between & seen_f & ~near_far & between_f
    cand |= jump_nof | jump_f
    trusted &= ~(jump_nof | jump_f)
    trusted = _grow_trust(P, trusted, cand, m, F if far_vetoes else None)
    swapped = np.zeros((n, J), bool)
    weak = np.zeros((n, J), bool)
    strong = np.zeros((n, J), bool)
    for k in range(J):
        todo = cand[:, k] & ~trusted[:, k]
        if not todo.any():
            continue
        a, b = _run_bounds(~trusted[:, k])
        short = b - a <= max_run
        reliable = (_cover(n, a[short], b[short]) | _cover(n, a[~short], a[~short] + 2)
                    | _cover(n, b[~short] - 2, b[~short]))
        t = np.flatnonzero(todo & reliable)  # judged frames (the rest stay False)
        q, both = _bridge_at(P[:, k], trusted[:, k], t)  # the bridge over each frame's run
        eq = np.nan_to_num(_dist(P[t, k], q), nan=-np.inf)
        sep = np.nan_to_num(_dist(q, F[t, k]), nan=-np.inf)
        on_far = has_f[t, k] & (d_pf[t, k] < eq)
        # extrapolating from one side only (track starts or ends) is less sure, the more
        # so the further from the last trusted frame
        dist = _distance_to(trusted[:, k], t)
        need = np.where(both, m, m * (1 + dist))
        judged = both | (dist <= 2)  # no judging far beyond the end of a track
        swapped[t, k] = judged & on_far & (eq > need) & (sep > need)
        weak[t, k] = judged & ~seen_f[t, k] & (eq > need + m)
        strong[t, k] = weak[t, k] & (eq > need + 2 * m)
    lone = strong | (weak & (weak.sum(1, keepdims=True) >= 2))
    if far_is_estimate:
        return swapped | lone
    exchanged = _exchanged(P, F, trusted, has_f & ~between_f, jump_f & ~trusted, m, max_run)
    return swapped | lone | exchanged


def _grow_trust(P: np.ndarray, trusted: np.ndarray, cand: np.ndarray, m: float,
                F: np.ndarray | None = None) -> np.ndarray:
    """Step 2 of :func:`_chain_swaps`: trust grows into the candidate runs of each joint's
    track ``P[:, k]`` from their edges, one frame per pass, while a candidate continues the
    trusted track (:func:`_continues`, with the far leg ``F`` where known). Returns the
    grown ``(n, J)`` trust.

    All joints are judged in one call per pass: their tracks are laid end to end, each
    followed by untrusted padding, and bridged each on its own (``segment``).
    """
    n, J = trusted.shape
    seg = n + 8  # padding: _one_sided_at looks 3 frames away, _continues_context 4
    N = J * seg
    Pf = np.full((J, seg, 2), np.nan)
    Pf[:, :n] = P.transpose(1, 0, 2)
    Pf = Pf.reshape(N, 2)
    Ff = None
    if F is not None:
        Ff = np.full((J, seg, 2), np.nan)
        Ff[:, :n] = F.transpose(1, 0, 2)
        Ff = Ff.reshape(N, 2)
    tf = np.zeros((J, seg), bool)
    tf[:, :n] = trusted.T
    tf = tf.reshape(N)
    cf = np.zeros((J, seg), bool)
    cf[:, :n] = cand.T
    cf = cf.reshape(N)
    changed = np.ones(J, bool)  # a track's outcome only changes when its trust did
    # Frames judged not to continue the track, per (next to a trusted frame or not), with
    # the open interval of frames whose trust decided it: they are not judged again until
    # a frame in there turns trusted (the outcome could not change before). Near a track's
    # ends the interval may reach into the next track: that only means judging again.
    rejected = np.zeros((2, N), bool)
    ctx_lo = np.zeros((2, N), np.int64)
    ctx_hi = np.zeros((2, N), np.int64)

    def judge(t, mode):
        fresh = ~rejected[mode, t]
        ok = np.zeros(t.size, bool)
        ok[fresh] = _continues(Pf, tf, t[fresh], m, at_edge=mode == 0, segment=seg, far=Ff)
        no = t[fresh & ~ok]
        if no.size:
            rejected[mode, no] = True
            ctx_lo[mode, no], ctx_hi[mode, no] = _continues_context(tf, no)
        return ok

    for _ in range(n):
        todo = np.flatnonzero(cf & ~tf & np.repeat(changed, seg))
        if not todo.size:
            break
        # Trust grows from the edges of the trusted track; only where no candidate next to
        # a trusted frame of a track continues it are the track's others accepted (so the
        # frames next to trusted ones are judged first, and the rest only when needed).
        # (The padding around each track is never trusted.)
        ek = tf[np.maximum(todo - 1, 0)] | tf[np.minimum(todo + 1, N - 1)]
        t = todo[ek]
        ok = judge(t, 0)
        grown = np.bincount(t[ok] // seg, minlength=J) > 0
        rest = todo[~ek & ~grown[todo // seg]]
        ok_rest = judge(rest, 1)
        new = np.concatenate([t[ok], rest[ok_rest]])
        if not new.size:
            break
        changed = np.bincount(new // seg, minlength=J) > 0
        new.sort()
        tf[new] = True
        for mode in (0, 1):
            f = np.flatnonzero(rejected[mode])
            inside = (np.searchsorted(new, ctx_hi[mode, f])
                      - np.searchsorted(new, ctx_lo[mode, f], side="right"))
            rejected[mode, f[inside > 0]] = False
    return tf.reshape(J, seg)[:, :n].T.copy()


def _smooth_frames(P: np.ndarray, valid: np.ndarray, m: float) -> np.ndarray:
    """(n, J) frames where the track and both its neighbours deviate less than ``m`` from
    the cubic through their +-1, +-2 neighbours."""
    out = np.zeros(valid.shape, bool)
    for k in range(P.shape[1]):
        r = _stencil_residual(np.where(valid[:, k, None], P[:, k], np.nan))
        r = np.nan_to_num(r, nan=np.inf)
        r[1:-1] = np.maximum(np.maximum(r[:-2], r[1:-1]), r[2:])
        out[:, k] = r < m
    return out


def _jumps(P: np.ndarray, valid: np.ndarray, thr: float, max_lead: int = 3) -> np.ndarray:
    """(n, J) labels more than ``thr`` off the linear extrapolation of the track's two
    previous labels; over a gap (the last label ``d`` <= ``max_lead`` frames back) the
    extrapolation reaches ``d`` frames and the threshold grows to ``d * thr``."""
    n, J = P.shape[:2]
    fwd0 = np.full(P.shape, np.nan)
    if n >= 3:
        fwd0[2:] = 2 * P[1:-1] - P[:-2]
    jump = np.nan_to_num(_dist(P, fwd0), nan=0.0) > thr
    # labels whose previous two frames are not both there (few): from the two labels before
    gap = valid.copy()
    gap[2:] &= ~(valid[1:-1] & valid[:-2])
    gap[:2] = False
    for k in np.flatnonzero(gap.any(0)):
        idx = np.flatnonzero(valid[:, k])
        pos = np.searchsorted(idx, np.flatnonzero(gap[:, k]))
        pos = pos[pos >= 2]
        t, t1, t2 = idx[pos], idx[pos - 1], idx[pos - 2]
        lead = t - t1
        ok = lead <= max_lead
        t, t1, t2, lead = t[ok], t1[ok], t2[ok], lead[ok]
        pred = P[t1, k] + (lead / (t1 - t2))[:, None] * (P[t1, k] - P[t2, k])
        jump[t, k] = _dist(P[t, k], pred) > thr * lead
    return jump


def _between_jumps(P: np.ndarray, thr: float, max_run: int) -> np.ndarray:
    """(n, J) frames between two jumps of a track at most ``max_run + 1`` frames apart.

    A jump is a label more than ``thr`` off the linear extrapolation of the two previous
    frames (on clean tracks of walking at 25 Hz with ``thr`` = 30 px that is rarer than 1
    in 1000 frames); a wrong-limb run starts and ends with one. The run of a jump ``a``
    ends at the first later jump that lands back within ``thr`` of the track before ``a``
    (extrapolated linearly from its two last frames), else at the last jump in reach: two
    short runs a few frames apart stay two runs, with the good labels between them out.
    """
    n, J = P.shape[:2]
    valid = _finite2(P)
    jump = _jumps(P, valid, thr)
    between = np.zeros((n, J), bool)
    for k in range(J):
        idx = np.flatnonzero(jump[:, k])
        if idx.size < 2:
            continue
        # each jump a with a later one at most max_run + 1 frames on: b, the last such ...
        i_all = np.arange(idx.size)
        last = np.searchsorted(idx, idx + max_run + 1, side="right") - 1
        has = last > i_all
        # ... or the first that lands back on the track before a (extrapolated linearly)
        land = np.full(idx.size, -1)
        ok = has & (idx >= 2)
        if ok.any():
            a = idx[ok]
            base, step = P[a - 1, k], P[a - 1, k] - P[a - 2, k]
            for o in range(int((last - i_all)[ok].max()), 0, -1):  # the first one wins
                j = np.minimum(i_all[ok] + o, idx.size - 1)
                b = idx[j]
                back = (j <= last[ok]) & (_dist(P[b, k], base + (b - a + 1)[:, None] * step) <= thr)
                land[np.flatnonzero(ok)[back]] = j[back]
        # jumps at b and b + 1 of a run that landed back (predicted from the run) open none
        back_end = -1
        for i in np.flatnonzero(has).tolist():
            if idx[i] <= back_end + 1:
                has[i] = False
            elif land[i] >= 0:
                last[i], back_end = land[i], idx[land[i]]
        a, b = idx[has], idx[last[has]]
        # the closing jump lands back on the track, unless the track ends there
        ends_there = (b + 1 >= n) | ~valid[np.minimum(b + 1, n - 1), k]
        between[:, k] = _cover(n, a, np.where(ends_there, b + 1, b))
    return between


def _exchanged(P, F, base, base_f, targets, m, max_run):
    """Frames where our label continues the far track and the other view's label continues
    our near track (both views wrong at once), among ``targets`` (n, J)."""
    n, J = targets.shape
    out = np.zeros((n, J), bool)
    for k in range(J):
        tk = targets[:, k] & ~_long_runs(~base[:, k], max_run)
        t = np.flatnonzero(tk)
        if not t.size:
            continue
        q, _ = _bridge_at(P[:, k], base[:, k], t)
        qf, _ = _bridge_at(F[:, k], base_f[:, k], t)
        pk, fk = P[t, k], F[t, k]
        with np.errstate(invalid="ignore"):
            e_pq = _dist(pk, q)
            e_pf = _dist(pk, qf)
            e_fq = _dist(fk, q)
            e_ff = _dist(fk, qf)
            out[t, k] = ((e_pf < e_pq) & (e_fq < e_ff) & (e_pq > 2 * m)
                         & (_dist(q, qf) > 2 * m))
    return out


