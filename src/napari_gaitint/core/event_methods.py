"""The event detectors' names and the default of every entry point, without heavy imports.

The command line builds its options from here (importing :mod:`~napari_gaitint.core.events`
would load pandas and scipy just to print ``--help``); :mod:`~napari_gaitint.core.events`
re-exports everything.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class _Method:
    """Which body part's x (relative to the reference) gives which event."""

    hs_bodypart: str
    to_bodypart: str
    default_reference: str
    description: str


#: The event detectors by name (described in :mod:`napari_gaitint.core.events`).
METHODS: dict[str, _Method] = {
    "zeni": _Method("heel", "toe", "hip", "Zeni: max of heel x - ref x / min of toe x - ref x"),
    "seed": _Method("ankle", "ankle", "neck", "seed: max / min of ankle x - neck x"),
    "ankle_neck": _Method("ankle", "ankle", "neck", "alias of 'seed'"),
    "ankle_hip": _Method("ankle", "ankle", "hip", "max / min of ankle x - hip x"),
    "velocity": _Method(
        "heel", "toe", "hip",
        "Zeni, then refined to where the heel stops / the toe starts moving forward",
    ),
    "foot": _Method(
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
