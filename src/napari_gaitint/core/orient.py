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

import numpy as np

from .errors import AnalysisError, ConfigError, InputFileError
from .io import Pose

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
    body (:func:`~napari_gaitint.core.events.detect_walking_direction_from_feet`).

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
    from .events import detect_walking_direction_from_feet

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


def orient_pose(
    pose: Pose,
    *,
    frame_size: tuple[int, int] | None = None,
    direction: int | None = None,
    reference: str = "neck",
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

    The returned pose's ``meta["orientation"]`` holds ``direction``, ``width_px`` and
    ``height_px`` so :func:`deorient_pose` can map it back exactly.
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
    out.meta["orientation"] = {
        "direction": int(direction),
        "width_px": float(width),
        "height_px": float(height),
    }
    return out


def deorient_pose(pose: Pose) -> Pose:
    """Map a pose from gait coordinates back to the image (undo :func:`orient_pose`)."""
    info = pose.meta.get("orientation")
    if not info:
        raise ValueError("pose is not in gait coordinates (no orientation recorded)")
    out = pose.replace()
    out.values[..., :2] = gait_to_image(
        pose.xy, width_px=info["width_px"], height_px=info["height_px"], direction=info["direction"]
    )
    del out.meta["orientation"]
    return out
