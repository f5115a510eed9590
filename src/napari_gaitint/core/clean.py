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
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ._frames import EXACT_FLOATS
from .clean_align import _leg_length, far_leg_from_other_view, virtual_far_leg
from .clean_filters import _dist, _finite2, _finite_rows, fill_gaps, lowpass
from .clean_flags import (
    _FLAG_NAMES,
    FLAG_FILTERED,
    FLAG_INTERPOLATED,
    FLAG_LOW_LIKELIHOOD,
    FLAG_WRONG_LIMB,
    flag_names,
    flag_reasons,
)
from .clean_limbs import _baseline, _other_leg, _two_legs, _twoview
from .config import LEG_CHAIN, CleanConfig
from .errors import AnalysisError, GaitintWarning
from .pose import Pose, validate_time_series


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
    unfiltered
        The cleaned pose before the low-pass filter (step 4: wrong-limb labels repaired or
        removed, gaps filled, not smoothed), or None when no filter was asked (then it is
        ``pose``). Gait events are timed on it: the filter smears the heel's sharp landing
        and moves heel strikes late (``docs/methods/events.md``).
    """

    pose: Pose
    flags: np.ndarray
    config: CleanConfig
    summary: dict
    unfiltered: Pose | None = None

    @property
    def events_pose(self) -> Pose:
        """The pose gait events are detected on: :attr:`unfiltered`, else :attr:`pose`."""
        return self.unfiltered if self.unfiltered is not None else self.pose

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


def flags_path(pose_path: str | Path) -> Path:
    """The flag table beside cleaned predictions: ``<stem>_flags.csv`` (:func:`flags_table`;
    ``gaitint clean`` and ``gaitint analyze`` write it)."""
    pose_path = Path(pose_path)
    return pose_path.with_name(f"{pose_path.stem}_flags.csv")


def load_flags(path: str | Path, pose: Pose, *, names: dict[str, str] | None = None) -> np.ndarray:
    """The ``(n_frames, n_bodyparts)`` cleaning flags of ``pose`` from a flag table
    (:func:`flags_table`, e.g. :func:`flags_path` of its cleaned file).

    Parameters
    ----------
    path
        The flag table (``frame, bodypart, flags, ...``; one row per flagged point).
    pose
        The cleaned pose the table belongs to: its frame numbers and body parts place the rows.
    names
        The table's name of each of ``pose``'s body parts where they differ (role to file
        name, as :func:`~napari_gaitint.core.pose.rename_bodyparts` records in
        ``meta["bodypart_names"]``).

    Raises
    ------
    InputFileError
        If the table lacks its columns or names frames or body parts ``pose`` does not have.
    """
    from .errors import InputFileError

    path = Path(path)
    try:
        table = pd.read_csv(path, **EXACT_FLOATS)
    except (OSError, ValueError, pd.errors.ParserError) as err:
        raise InputFileError(path, f"cannot read the cleaning flags: {err}") from None
    missing = [c for c in ("frame", "bodypart", "flags") if c not in table.columns]
    if missing:
        raise InputFileError(path, f"is not a flag table of gaitint clean: no column(s) {missing}")
    names = names or {}
    col_of = {names.get(bp, bp): j for j, bp in enumerate(pose.bodyparts)}
    row_of = pd.Series(np.arange(pose.n_frames), index=pose.frames.astype(np.int64))
    out = np.zeros((pose.n_frames, len(pose.bodyparts)), dtype=np.int64)
    table = table[table["bodypart"].astype(str).isin(col_of)]  # parts the analysis did not take
    frames = table["frame"].to_numpy(np.int64)
    unknown = ~np.isin(frames, row_of.index)
    if unknown.any():
        raise InputFileError(path, f"names frame {int(frames[unknown][0])}, which the cleaned "
                             f"predictions ({pose.n_frames} frames) do not have")
    rows = row_of.loc[frames].to_numpy()
    cols = table["bodypart"].astype(str).map(col_of).to_numpy(np.int64)
    out[rows, cols] = table["flags"].to_numpy(np.int64)
    return out


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
    from .config import ROLES
    from .pose import match_roles

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

    unfiltered = None
    if config.filter != "none":
        unfiltered = out.copy()
        unfiltered.values[..., :2] = tracks.transpose(1, 0, 2)
        before = tracks.copy()

        def filtered(values: np.ndarray) -> np.ndarray:
            return lowpass(values, fps=fps, method=config.filter, cutoff_hz=config.cutoff_hz,
                           order=config.filter_order, window_s=config.savgol_window_s,
                           polyorder=config.savgol_polyorder)

        J = tracks.shape[0]
        if config.filter == "butterworth":
            # each stretch of valid samples is filtered on its own, to the bit: all body
            # parts' stretches in one call, their tracks end to end, a missing frame between
            laid = np.full((J, n + 1, 2), np.nan)
            laid[:, :n] = tracks
            tracks[...] = filtered(laid.reshape(J * (n + 1), 2)).reshape(J, n + 1, 2)[:, :n]
        else:  # body parts with the same missing frames share the stretches: filtered together
            same: dict[bytes, list[int]] = {}
            for j, track in enumerate(tracks):
                same.setdefault(np.packbits(_finite_rows(track)).tobytes(), []).append(j)
            for cols in same.values():
                values = tracks[cols].transpose(1, 0, 2).reshape(n, 2 * len(cols))
                tracks[cols] = filtered(values).reshape(n, len(cols), 2).transpose(1, 0, 2)
        moved = _dist(tracks, before).T  # (n, J)
        flags[moved > config.filtered_flag_px] |= FLAG_FILTERED  # NaN compares False
    xy[...] = tracks.transpose(1, 0, 2)

    counts = {name: int(np.count_nonzero(flags & bit)) for bit, name, _ in _FLAG_NAMES}
    summary["counts"] = counts
    summary["missing_after"] = int(np.count_nonzero(np.isnan(xy[..., 0])))
    summary["max_gap_frames"] = max_gap
    out.meta["cleaning"] = {"config": config.to_dict(), "summary": summary}
    if unfiltered is not None:
        unfiltered.meta["cleaning"] = out.meta["cleaning"]
    return CleanResult(pose=out, flags=flags, config=config, summary=summary, unfiltered=unfiltered)
