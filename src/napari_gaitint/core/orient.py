"""Mirroring, origin and walking direction.

Image coordinates from DLC have the origin at the top-left, x to the right and y down. The
analysis works in *gait coordinates*: x grows with walking progression and y grows upward.
For a subject walking right-to-left in the image the origin is therefore the bottom-right
corner (``x_gait = width - x_img``, ``y_gait = height - y_img``); for left-to-right walking
it is the bottom-left corner (``x_gait = x_img``). The two opposite sagittal cameras see the
subject walk in opposite image directions, so after this step both views walk the same way
— the horizontal mirror of the opposite view.

The transforms are invertible (:func:`image_to_gait` / :func:`gait_to_image`), so results in
gait coordinates map back onto the video. A round trip is exact up to the rounding of
``width - x`` in floating point: bit-exact for ``width/2 <= x <= 2*width`` and for values on a
binary grid (integers, halves...), otherwise within one unit in the last place of the frame
size (about 1e-13 px). NaN stays NaN.
"""

from __future__ import annotations

import warnings

import numpy as np

from .config import LIKELIHOOD_THRESHOLD
from .errors import AnalysisError, ConfigError, GaitintWarning, InputFileError
from .event_signals import _FOOT_FALLBACK, _with_data, mask_low_likelihood, relative_x
from .pose import Pose

#: Walking direction codes: +1 left-to-right in the image, -1 right-to-left.
LEFT_TO_RIGHT = 1
RIGHT_TO_LEFT = -1


def mirror_x(x_px: np.ndarray, width_px: float) -> np.ndarray:
    """Mirror image x coordinates horizontally: ``width - x``.

    Examples
    --------
    >>> mirror_x(np.array([0.0, 100.0, 960.0]), 960)
    array([960., 860.,   0.])
    """
    return float(width_px) - np.asarray(x_px, dtype=float)


def detect_walking_direction(
    x_px: np.ndarray, *, min_travel_px: float = 20.0, source=None
) -> int:
    """Walking direction from a body reference track's x (e.g. the neck), in image pixels.

    Compares the median x of the first third of the valid (finite) samples with the median
    of the last third, so dropouts (NaN) and a minority of outliers do not flip it.

    Parameters
    ----------
    x_px
        Image x of the reference body part over time (NaN where missing).
    min_travel_px
        Smallest net travel accepted as walking; below it the direction is undecidable.
    source
        File named in the error message.

    Returns
    -------
    int
        :data:`LEFT_TO_RIGHT` (+1) or :data:`RIGHT_TO_LEFT` (-1).

    Raises
    ------
    AnalysisError
        If fewer than 2 valid samples exist or the reference travels less than
        ``min_travel_px`` (the subject does not walk across the image).

    Examples
    --------
    >>> detect_walking_direction(np.linspace(900, 100, 50))
    -1
    """
    x = np.asarray(x_px, dtype=float)
    valid = np.flatnonzero(np.isfinite(x))
    where = f"{source}: " if source else ""
    if valid.size < 2:
        raise AnalysisError(
            f"{where}only {valid.size} valid point(s) of the body reference; cannot tell the "
            "walking direction — check the reference body part's likelihoods, or give the "
            "direction explicitly"
        )
    third = max(1, valid.size // 3)
    early = np.median(x[valid[:third]])
    late = np.median(x[valid[-third:]])
    travel = late - early
    if abs(travel) < min_travel_px:
        raise AnalysisError(
            f"{where}the body reference moves only {travel:+.1f} px across the recording "
            f"(less than {min_travel_px:g} px): the subject does not walk across the image, so "
            "the walking direction cannot be told — give it explicitly (+1 left-to-right, "
            "-1 right-to-left) or check that this is a walking trial"
        )
    return LEFT_TO_RIGHT if travel > 0 else RIGHT_TO_LEFT


def image_to_gait(
    xy_px: np.ndarray, *, width_px: float, height_px: float, direction: int
) -> np.ndarray:
    """Convert image coordinates (``..., 2``) to gait coordinates (x forward, y up).

    Examples
    --------
    >>> image_to_gait(np.array([[900.0, 500.0]]), width_px=960, height_px=540, direction=-1)
    array([[60., 40.]])
    """
    _check_direction(direction)
    xy = np.array(xy_px, dtype=float, copy=True)
    if direction == RIGHT_TO_LEFT:
        xy[..., 0] = mirror_x(xy[..., 0], width_px)
    xy[..., 1] = float(height_px) - xy[..., 1]
    return xy


def gait_to_image(
    xy_gait: np.ndarray, *, width_px: float, height_px: float, direction: int
) -> np.ndarray:
    """Inverse of :func:`image_to_gait` (the transform is its own inverse)."""
    return image_to_gait(xy_gait, width_px=width_px, height_px=height_px, direction=direction)


def _check_direction(direction: int) -> None:
    if direction not in (LEFT_TO_RIGHT, RIGHT_TO_LEFT):
        raise ValueError(f"direction must be +1 (left-to-right) or -1 (right-to-left), got {direction!r}")


def detect_pose_direction(pose: Pose, *, reference: str = "neck") -> int:
    """Walking direction of a pose in image coordinates, as robustly as the data allow.

    Tries the travel of ``reference`` across the image, then of the other trunk point
    (neck ↔ hip) when the reference is missing; when the body does not travel (treadmill,
    a camera that follows the subject) it falls back to the feet's motion relative to the
    body (:func:`~detect_walking_direction_from_feet`).

    Raises
    ------
    AnalysisError
        When none of these can tell; the message gives each reason.
    """
    pose.bodypart_index(reference)  # an unknown reference is the user's mistake: say so
    still = []
    for ref in [reference] + [r for r in ("neck", "hip") if r != reference]:
        if ref not in pose.bodyparts:
            continue
        try:
            return detect_walking_direction(pose.bodypart(ref)[:, 0])
        except AnalysisError:
            still.append(ref)

    for ref in [r for r in ("hip", "neck") if r in pose.bodyparts]:
        try:
            return detect_walking_direction_from_feet(pose, reference=ref)
        except (AnalysisError, InputFileError):
            pass
    where = f"{pose.source}: " if pose.source is not None else ""
    trunk = " and the ".join(still) if still else "trunk"
    raise AnalysisError(
        f"{where}cannot tell the walking direction: the {trunk} do{'es' if len(still) == 1 else ''} "
        "not move across the image and the feet show no walking motion; check that this is a "
        "walking trial, or give the direction explicitly"
    )


#: A fitted floor tilt smaller than this (degrees) is taken as a level camera: the pose is
#: not rotated (the fit's noise on a level camera is ~0.1°).
MIN_TILT_DEG = 0.5
#: A fitted tilt larger than this (degrees) is not trusted (more likely wrong foot labels or
#: a sloped walkway than a rolled camera): a warning, and no rotation.
MAX_TILT_DEG = 15.0
#: Share of frames, the slowest of the foot's forward speed, taken as standing on the floor.
STANCE_SHARE = 0.35
#: The footprints must cover this many leg lengths along the floor for a tilt to be fitted.
#: Walking over ground they cover the walkway; on a treadmill all stances cover the same
#: short stretch, where the marker's path over a stance would pass for a slope.
MIN_FLOOR_SPAN_LEG = 1.5


def floor_tilt_deg(pose: Pose) -> float | None:
    """Tilt of the floor line in gait coordinates (degrees; positive: the floor rises in the
    walking direction), from the frames where the foot stands on it.

    A camera rolled about its axis by a few degrees tilts everything it sees, and each
    camera is rolled differently: heights over the cycle get a ramp of ``stride x tan(roll)``
    (10 px over a 300 px stride at 2 degrees) and limb x relative to the hip an offset of
    ``leg x sin(roll)``, which would show up as a difference between the views. The foot's
    contacts lie on the floor, a straight line in the image for a straight walkway (also
    under perspective).

    The frames taken: the :data:`STANCE_SHARE` slowest of the foot's forward speed (the foot
    stands still on the floor). The lowest of heel and toe (else the ankle) at those frames
    is fitted with a line: one slope, an offset per marker, least squares, then again
    without points more than 3 robust SD off. On a treadmill the footprints cover too short
    a stretch (:data:`MIN_FLOOR_SPAN_LEG`): no tilt.

    Parameters
    ----------
    pose
        Pose in gait coordinates (x with progression, y up); roles ``heel``/``toe`` (or
        ``ankle``), and ``hip`` or ``neck`` with ``ankle`` for the leg length.

    Returns
    -------
    float or None
        None when there are fewer than 20 such frames or they span less than
        :data:`MIN_FLOOR_SPAN_LEG` leg lengths along the floor (too short a base for a
        slope; a treadmill).

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(200) / 25.0
    >>> x = 100 * t + 30 * np.sin(2 * np.pi * t)      # foot: stops and goes
    >>> v = np.zeros((200, 3, 3)); v[..., 2] = 1
    >>> v[:, 0, :2] = np.c_[x, 0.05 * x + 5]            # heel on a floor rising 5 %
    >>> v[:, 1, :2] = np.c_[x, 0.05 * x + 200]          # hip
    >>> v[:, 2, :2] = np.c_[x, 0.05 * x + 20]           # ankle
    >>> round(floor_tilt_deg(Pose(v, ("heel", "hip", "ankle"))), 2)  # atan(0.05)
    2.86
    """
    from .pose import leg_length_px

    parts = [p for p in ("heel", "toe") if p in pose.bodyparts] or (
        ["ankle"] if "ankle" in pose.bodyparts else [])
    if not parts:
        return None
    xy = np.stack([pose.bodypart(p)[:, :2] for p in parts], axis=1)  # (frames, parts, 2)
    y = np.where(np.isfinite(xy[..., 1]), xy[..., 1], np.inf)
    low = np.argmin(y, axis=1)
    rows = np.arange(xy.shape[0])
    fx, fy = xy[rows, low, 0], xy[rows, low, 1]
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN frames
        foot_x = np.nanmean(xy[..., 0], axis=1)
    speed = np.full_like(foot_x, np.nan)
    speed[1:-1] = (foot_x[2:] - foot_x[:-2]) / 2.0
    ok = np.isfinite(fx) & np.isfinite(fy) & np.isfinite(speed)
    if ok.sum() < 20:
        return None
    slow = ok & (speed <= np.quantile(speed[ok], STANCE_SHARE))
    if slow.sum() < 20:
        return None
    px, py = fx[slow], fy[slow]
    leg = leg_length_px(pose)
    span = np.subtract(*np.quantile(px, [0.95, 0.05]))
    if leg is None or not span >= MIN_FLOOR_SPAN_LEG * leg:
        return None
    # one slope, an offset per marker (heel and toe markers sit at different heights, and
    # the heel is the lowest early in stance, the toe late: one line would turn that into
    # a slope where all stances cover the same x, as on a treadmill)
    design = np.column_stack([px] + [(low[slow] == j).astype(float) for j in range(len(parts))])
    design = design[:, design.any(axis=0)]
    keep = np.ones(px.size, dtype=bool)
    for _ in range(4):
        coef = np.linalg.lstsq(design[keep], py[keep], rcond=None)[0]
        slope = coef[0]
        resid = py - design @ coef
        mad = np.median(np.abs(resid[keep] - np.median(resid[keep])))
        new = np.abs(resid) <= 3 * 1.4826 * mad + 1e-9
        if new.sum() < 20 or np.array_equal(new, keep):
            break
        keep = new
    return float(np.degrees(np.arctan(slope)))


def detect_walking_direction_from_feet(
    pose: Pose, *, reference: str = "hip", foot: str = "heel", fps: float | None = None,
    min_likelihood: float = LIKELIHOOD_THRESHOLD, min_margin: float = 0.04,
) -> int:
    """Walking direction (+1 toward +x, -1 toward -x) from the foot's motion relative to the body.

    Works where the body does not travel across the image (a treadmill, a camera following
    the subject), so :func:`~napari_gaitint.core.orient.detect_walking_direction` cannot
    tell. In walking the foot is on the floor for more than half of each stride (stance,
    ~55-70 %), moving backward relative to the body, and swings forward quickly for the
    rest: the relative position ``foot x - reference x`` decreases in most frames when the
    walk goes toward +x. Velocities are taken over +/- 40 ms to average out keypoint noise.
    Image coordinates (or any frame whose y direction does not matter) are fine.

    Raises
    ------
    AnalysisError
        When fewer than 20 frames have data or the share of decreasing frames is within
        ``min_margin`` of one half (not walking, or running).

    Examples
    --------
    >>> from napari_gaitint.core.orient import orient_pose
    >>> direction = detect_walking_direction_from_feet(pose)  # doctest: +SKIP
    >>> gait = orient_pose(pose, direction=direction)  # doctest: +SKIP
    """
    pose = mask_low_likelihood(pose, min_likelihood)
    bp = _with_data(pose, foot, _FOOT_FALLBACK.get(foot, ()))
    rel = relative_x(pose, bp, reference)
    fps = fps or pose.fps or 25.0
    k = max(1, int(round(0.04 * fps)))
    v = rel[2 * k :] - rel[: -2 * k] if rel.size > 2 * k else np.zeros(0)
    v = v[np.isfinite(v) & (v != 0)]
    where = f"{pose.source}: " if pose.source is not None else ""
    if v.size < 20:
        raise AnalysisError(f"{where}too few frames with {bp} and {reference} to tell the "
                            "walking direction from the feet")
    backward = float(np.mean(v < 0))
    if abs(backward - 0.5) < min_margin:
        raise AnalysisError(
            f"{where}cannot tell the walking direction from the feet: the {bp} moves backward "
            f"relative to the {reference} in {100 * backward:.0f} % of the frames (walking: "
            "55-70 % toward the walking direction); give the direction explicitly"
        )
    return 1 if backward > 0.5 else -1


def rotate_xy(xy_px: np.ndarray, angle_deg: float, pivot_px: tuple[float, float]) -> np.ndarray:
    """Rotate points ``(..., 2)`` counter-clockwise (x right, y up) by ``angle_deg`` about
    ``pivot_px``. NaN stays NaN.

    >>> rotate_xy(np.array([[2.0, 1.0]]), 90.0, (1.0, 1.0)).round(12)
    array([[1., 2.]])
    """
    a = np.radians(angle_deg)
    c, s = np.cos(a), np.sin(a)
    xy_px = np.asarray(xy_px, dtype=float)
    dx, dy = xy_px[..., 0] - pivot_px[0], xy_px[..., 1] - pivot_px[1]
    out = np.empty(xy_px.shape)
    np.multiply(dx, c, out=out[..., 0])
    out[..., 0] -= s * dy
    out[..., 0] += pivot_px[0]
    np.multiply(dx, s, out=out[..., 1])
    out[..., 1] += c * dy
    out[..., 1] += pivot_px[1]
    return out


def orient_pose(
    pose: Pose,
    *,
    frame_size: tuple[int, int] | None = None,
    direction: int | None = None,
    reference: str = "neck",
    level: bool = True,
) -> Pose:
    """Return ``pose`` in gait coordinates (x with progression, y up), recording what was done.

    Parameters
    ----------
    pose
        Pose in image coordinates.
    frame_size
        ``(width_px, height_px)``; defaults to ``pose.frame_size``.
    direction
        Walking direction in the image; detected from ``reference`` when None.
    reference
        Body part used to detect the direction.
    level
        Level the floor: when the floor line fitted to the foot's contacts
        (:func:`floor_tilt_deg`) is tilted by :data:`MIN_TILT_DEG` or more (a camera rolled
        about its axis), rotate the pose about the frame centre so that it is horizontal.
        A level camera is left as it is.

    Notes
    -----
    The returned pose's ``meta["orientation"]`` holds ``direction``, ``width_px``,
    ``height_px``, ``tilt_deg`` (the fitted floor tilt, None when it could not be fitted or
    ``level`` is False) and ``rotation_deg`` (the rotation applied, 0 for none), so
    :func:`deorient_pose` can map it back (exactly without rotation, to ~1e-12 px with one).
    """
    if pose.meta.get("orientation"):
        raise ValueError("pose is already in gait coordinates")
    size = frame_size or pose.frame_size
    problem = None
    if size is None:
        problem = ("the video frame size is unknown; give it (width and height in pixels, "
                   "e.g. in the manifest's width/height columns or frame_size=(960, 540))")
    else:
        width, height = size
        if not (np.isfinite(width) and np.isfinite(height) and width > 0 and height > 0):
            problem = f"the video frame size must be positive pixels, got {tuple(size)}"
    if problem:
        if pose.source is not None:
            raise InputFileError(pose.source, problem)
        raise ConfigError(problem)
    if direction is None:
        direction = detect_pose_direction(pose, reference=reference)
    out = pose.replace(frame_size=(int(width), int(height)))
    out.values[..., :2] = image_to_gait(pose.xy, width_px=width, height_px=height, direction=direction)
    info = {
        "direction": int(direction),
        "width_px": float(width),
        "height_px": float(height),
        "tilt_deg": None,
        "rotation_deg": 0.0,
    }
    if level:
        tilt = floor_tilt_deg(out)
        info["tilt_deg"] = tilt
        if tilt is not None and abs(tilt) > MAX_TILT_DEG:
            where = f"{pose.source}: " if pose.source is not None else ""
            warnings.warn(
                f"{where}the floor under the feet looks tilted by {tilt:.1f} degrees (more than "
                f"{MAX_TILT_DEG:g}); not levelled. Check the camera and the foot labels, or turn "
                "levelling off", GaitintWarning, stacklevel=2)
        elif tilt is not None and abs(tilt) >= MIN_TILT_DEG:
            info["rotation_deg"] = -tilt
            out.values[..., :2] = rotate_xy(out.xy, -tilt, (width / 2.0, height / 2.0))
    out.meta["orientation"] = info
    return out


def orient_like(pose: Pose, oriented: Pose) -> Pose:
    """``pose`` (image coordinates) in the gait coordinates of ``oriented``: the same
    direction, frame size and levelling rotation that :func:`orient_pose` gave
    ``oriented`` (e.g. the unfiltered and the filtered version of one cleaned view).

    Examples
    --------
    >>> v = np.array([[[100.0, 400.0, 1.0]], [[120.0, 400.0, 1.0]]])
    >>> a = Pose(v, ("neck",), fps=25.0, frame_size=(960, 540))
    >>> o = orient_pose(a, direction=-1, level=False)
    >>> np.array_equal(orient_like(a, o).values, o.values)
    True
    """
    info = oriented.meta.get("orientation")
    if not info:
        raise ValueError("the reference pose is not in gait coordinates (no orientation recorded)")
    if pose.meta.get("orientation"):
        raise ValueError("pose is already in gait coordinates")
    width, height = info["width_px"], info["height_px"]
    out = pose.replace(frame_size=(int(width), int(height)))
    out.values[..., :2] = image_to_gait(pose.xy, width_px=width, height_px=height,
                                        direction=info["direction"])
    if info.get("rotation_deg"):
        out.values[..., :2] = rotate_xy(out.xy, info["rotation_deg"], (width / 2.0, height / 2.0))
    out.meta["orientation"] = dict(info)
    return out


def deorient_pose(pose: Pose) -> Pose:
    """Map a pose from gait coordinates back to the image (undo :func:`orient_pose`)."""
    info = pose.meta.get("orientation")
    if not info:
        raise ValueError("pose is not in gait coordinates (no orientation recorded)")
    out = pose.replace()
    xy = pose.xy
    if info.get("rotation_deg"):
        xy = rotate_xy(xy, -info["rotation_deg"], (info["width_px"] / 2.0, info["height_px"] / 2.0))
    out.values[..., :2] = gait_to_image(
        xy, width_px=info["width_px"], height_px=info["height_px"], direction=info["direction"]
    )
    del out.meta["orientation"]
    return out
