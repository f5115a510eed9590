"""The settings of every analysis step, in one place: the single home of every default.

One frozen, validated settings object per step: :class:`CleanConfig` (cleaning,
:func:`~napari_gaitint.core.clean.clean_pose`), :class:`EventConfig` (event detection,
:func:`~napari_gaitint.core.events.detect_events`), :class:`CycleConfig` (gait cycles,
:func:`~napari_gaitint.core.cycles.compute_cycles`), :class:`StatsConfig` (statistics,
:func:`~napari_gaitint.core.stats.rm_anova`), and the choices every entry point offers (the
command line builds its options from here, the napari docks their fields). This module
imports nothing heavy, so ``gaitint --help`` stays quick.
"""

from __future__ import annotations

import dataclasses
import math

from .errors import AnalysisError

#: Our six roles, in the order the analysis uses them.
ROLES: tuple[str, ...] = ("neck", "hip", "knee", "ankle", "heel", "toe")
#: The joints of the leg chain (the ones DLC may take from the far leg).
LEG_CHAIN: tuple[str, ...] = ("knee", "ankle", "heel", "toe")
#: DeepLabCut likelihood below which a point is not trusted: the default cut-off of the
#: cleaning, of the event and cycle steps on uncleaned poses, of the walking direction from
#: the feet and of label QA.
LIKELIHOOD_THRESHOLD = 0.6
#: The likelihood cut-off of the steps after cleaning (events, cycles, parameters, angles) on
#: a pose cleaned by :func:`~napari_gaitint.core.clean.clean_pose`: it removed its own
#: low-likelihood points and filled some, which keep their raw likelihood and must not be
#: removed again.
CLEANED_LIKELIHOOD_THRESHOLD = 0.0


def likelihood_cutoff(min_likelihood: float | None = None, *, cleaned: bool) -> float:
    """The likelihood cut-off of a step after cleaning: ``min_likelihood`` when given, else
    :data:`CLEANED_LIKELIHOOD_THRESHOLD` for a cleaned pose and :data:`LIKELIHOOD_THRESHOLD`
    for raw predictions (the caller says which)."""
    if min_likelihood is not None:
        return float(min_likelihood)
    return CLEANED_LIKELIHOOD_THRESHOLD if cleaned else LIKELIHOOD_THRESHOLD

# ---------------------------------------------------------------------------------------
# cleaning
# ---------------------------------------------------------------------------------------
#: Wrong-limb / outlier detectors of the cleaning (:class:`CleanConfig` ``method``).
CLEAN_METHODS = ("twoview", "baseline", "none")
#: Gap-filling methods (:class:`CleanConfig` ``gap_method``).
GAP_METHODS = ("linear", "pchip", "spline")
#: Low-pass filters (:class:`CleanConfig` ``filter``).
FILTERS = ("butterworth", "savgol", "none")


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

    likelihood_threshold: float = LIKELIHOOD_THRESHOLD
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
        if self.method not in CLEAN_METHODS:
            raise ValueError(f"method must be one of {CLEAN_METHODS}, got {self.method!r}")
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
        return int(math.floor(self.max_gap_s * fps + 1e-9))


# ---------------------------------------------------------------------------------------
# events
# ---------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class EventMethod:
    """Which body part's x (relative to the reference) gives which event."""

    hs_bodypart: str
    to_bodypart: str
    default_reference: str
    description: str


#: The event detectors by name (described in :mod:`napari_gaitint.core.events`).
EVENT_METHODS: dict[str, EventMethod] = {
    "zeni": EventMethod("heel", "toe", "hip", "Zeni: max of heel x - ref x / min of toe x - ref x"),
    "seed": EventMethod("ankle", "ankle", "neck", "seed: max / min of ankle x - neck x"),
    "ankle_neck": EventMethod("ankle", "ankle", "neck", "alias of 'seed'"),
    "ankle_hip": EventMethod("ankle", "ankle", "hip", "max / min of ankle x - hip x"),
    "velocity": EventMethod(
        "heel", "toe", "hip",
        "Zeni, then refined to where the heel stops / the toe starts moving forward",
    ),
    "foot": EventMethod(
        "heel", "toe", "hip",
        "heel strike where the heel comes to rest (Zeni's heel maximum extrapolated by its "
        "deceleration); toe off where the toe overtakes the body (Zeni's toe minimum)",
    ),
}
#: The default detector of every entry point (CLI, widgets, annotator, pipeline), chosen on
#: real walking (validation/validate_real_events.py; tables in docs/methods/events.md).
DEFAULT_METHOD = "foot"
#: Events with a lower ``confidence`` are counted as low-confidence (report, QA order).
LOW_CONFIDENCE = 0.5
#: The body references an entry point offers (:class:`EventConfig` ``reference``; None: the
#: method's own, :attr:`EventMethod.default_reference`).
EVENT_REFERENCES = ("hip", "neck")
#: The :class:`EventConfig` fields a user sets from every entry point, with what each does:
#: the options of ``gaitint events`` and ``gaitint analyze`` (``--min-likelihood``...) and
#: the fields of the Detect-events dock are made from this table, their defaults from
#: :class:`EventConfig`. The other fields are set in the ``[events]`` table of config.toml.
EVENT_OPTIONS: dict[str, str] = {
    "method": "event detector; docs/methods/events.md describes them all, the default was "
              "chosen on real walking",
    "reference": "body reference the foot is measured from (default: the method's own; hip, "
                 "neck for seed)",
    "min_likelihood": "likelihood cut-off: points below it are missing (default: 0.6 for raw "
                      "predictions, 0 for cleaned ones, whose filled points keep their raw "
                      "likelihood)",
    "max_gap_s": "longest gap of the foot signal bridged, in seconds; longer ones split the "
                 "recording",
    "stride_s": "stride period in seconds when known (default: estimated from the data)",
    "stride_range_s": "shortest and longest plausible stride period in seconds, searched when "
                      "the stride is estimated",
}


@dataclasses.dataclass(frozen=True)
class EventConfig:
    """Event-detection settings: the keyword arguments of
    :func:`~napari_gaitint.core.events.detect_events` a user sets, and their defaults (the
    detector takes its defaults from here).

    Parameters
    ----------
    method
        Event detector, one of :data:`EVENT_METHODS` (default :data:`DEFAULT_METHOD`).
    reference
        Body reference (``"hip"``, ``"neck"``); None: the method's own.
    min_likelihood
        Points with a lower DLC likelihood are missing; None: the cut-off for the pose at
        hand (:func:`likelihood_cutoff`: :data:`LIKELIHOOD_THRESHOLD` for raw predictions,
        :data:`CLEANED_LIKELIHOOD_THRESHOLD` for a cleaned pose, which the caller states,
        e.g. ``cleaned=True`` of :func:`~napari_gaitint.core.chain.analyze_view`).
    max_gap_s, max_reference_gap_s, min_prominence, min_distance_stride, edge_stride, fit_stride, min_excursion_leg, stride_s, stride_range_s, rest_fraction, despike, max_spike_s, rest_half_width_s
        As in :func:`~napari_gaitint.core.events.detect_events`.
    """

    method: str = DEFAULT_METHOD
    reference: str | None = None
    min_likelihood: float | None = None
    max_gap_s: float = 0.2
    max_reference_gap_s: float = 0.5
    min_prominence: float = 0.3
    min_distance_stride: float = 0.55
    edge_stride: float = 0.12
    fit_stride: float = 0.08
    min_excursion_leg: float = 0.15
    stride_s: float | None = None
    stride_range_s: tuple[float, float] = (0.5, 3.0)
    rest_fraction: float = 0.1
    despike: float | None = 0.3
    max_spike_s: float = 0.12
    rest_half_width_s: float = 0.08

    def __post_init__(self):
        if self.method not in EVENT_METHODS:
            raise ValueError(f"unknown event method {self.method!r}; choose from {sorted(EVENT_METHODS)}")
        if self.min_likelihood is not None and not 0.0 <= self.min_likelihood <= 1.0:
            raise ValueError(f"min_likelihood must be in [0, 1], got {self.min_likelihood}")
        stride_range = tuple(self.stride_range_s)
        if len(stride_range) != 2 or not 0 < stride_range[0] < stride_range[1]:
            raise ValueError(f"stride_range_s must be (shortest, longest) in seconds, got {self.stride_range_s!r}")
        object.__setattr__(self, "stride_range_s", stride_range)

    def to_dict(self) -> dict:
        """Plain dict: the keyword arguments of ``detect_events``."""
        return dataclasses.asdict(self)


# ---------------------------------------------------------------------------------------
# cycles
# ---------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class CycleConfig:
    """Gait-cycle settings (:func:`~napari_gaitint.core.cycles.compute_cycles`, which, with
    :func:`~napari_gaitint.core.cycles.split_cycles` and
    :func:`~napari_gaitint.core.angles.compute_angle_cycles`, takes its defaults from here).

    Parameters
    ----------
    reference
        Body part that x of the limbs is expressed relative to.
    n_points
        Samples per normalised cycle (101 → 0, 1, ..., 100 %).
    y_reference, max_gap_s, duration_tolerance, max_reference_gap_s
        As in :func:`~napari_gaitint.core.cycles.compute_cycles`.
    """

    reference: str = "neck"
    n_points: int = 101
    y_reference: str = "floor"
    max_gap_s: float = 0.2
    duration_tolerance: float = 0.35
    max_reference_gap_s: float = 0.5


# ---------------------------------------------------------------------------------------
# statistics
# ---------------------------------------------------------------------------------------
#: Multiple-comparison corrections of the RM-ANOVA p-values (:class:`StatsConfig` ``correction``).
CORRECTIONS = ("holm", "fdr_bh", "bonf")
#: RM-ANOVA engines (:class:`StatsConfig` ``engine``): vectorised numpy or pingouin itself.
STATS_ENGINES = ("numpy", "pingouin")


@dataclasses.dataclass(frozen=True)
class StatsConfig:
    """Statistics settings (:func:`~napari_gaitint.core.stats.rm_anova`).

    Parameters
    ----------
    correction
        Multiple-comparison correction across the ANOVA tests: None or one of
        :data:`CORRECTIONS`.
    engine
        One of :data:`STATS_ENGINES`: ``"numpy"`` (vectorised, the default) or
        ``"pingouin"`` (:func:`pingouin.rm_anova`); identical results.
    """

    correction: str | None = None
    engine: str = "numpy"

    def __post_init__(self):
        if self.correction is not None and self.correction not in CORRECTIONS:
            raise ValueError(f"correction must be one of {', '.join(CORRECTIONS)} or None, not {self.correction!r}")
        if self.engine not in STATS_ENGINES:
            raise ValueError(f"engine must be one of {', '.join(STATS_ENGINES)}, not {self.engine!r}")
