"""The cleaning's bit flags: why each point of a cleaned pose was changed.

Every value :func:`~napari_gaitint.core.clean.clean_pose` changes carries a bit flag saying
why (``CleanResult.flags``, ``(n_frames, n_bodyparts)`` integers, 0 = unchanged), so a viewer
can show it and later steps can judge what rests on measured points.
"""

from __future__ import annotations

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
