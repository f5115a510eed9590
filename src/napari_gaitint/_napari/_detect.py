"""Detect gait events dock: :func:`~napari_gaitint.core.events.detect_events` on a keypoints layer.

Adds ``<layer> events`` (heel strike / toe off markers) and docks :class:`EventsPlot` (the
detector's signal, click to jump) with the joint angles (:mod:`._angles`) beside it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from magicgui import magic_factory

from ..core.config import EVENT_OPTIONS as _HELP
from ..core.config import EVENT_REFERENCES as _REFERENCES
from ..core.config import EventConfig as _EventConfig
from ..core.errors import GaitintError
from . import _convert
from ._layers import layer_placement, layer_pose
from ._meta import EVENTS, KEY, copy_info, layer_info, view_side
from ._plot import FramePlot

if TYPE_CHECKING:  # `import napari.layers` binds `napari` too
    import napari.layers
    import napari.types
    import napari.viewer


def _event_methods(_w=None) -> list[str]:
    from ..core.config import EVENT_METHODS as METHODS

    return [m for m in METHODS if m != "ankle_neck"]


#: The dock's word for a setting left to the detector (EventConfig's None).
AUTO = "auto"


def _optional_float(text: str, name: str) -> float | None:
    """``"auto"`` (or empty) -> None, else the number ``text`` says."""
    text = str(text).strip()
    if text in ("", AUTO):
        return None
    try:
        return float(text)
    except ValueError:
        raise GaitintError(f"{name}: give a number or '{AUTO}', not {text!r}") from None


@magic_factory(
    method={"choices": _event_methods, "tooltip": _HELP["method"]},
    reference={"choices": [AUTO, *_REFERENCES], "tooltip": _HELP["reference"]},
    min_likelihood={"label": "likelihood cut-off", "tooltip": _HELP["min_likelihood"]},
    max_gap_s={"label": "max gap (s)", "min": 0.0, "max": 5.0, "step": 0.05, "tooltip": _HELP["max_gap_s"]},
    stride_s={"label": "stride (s)", "tooltip": _HELP["stride_s"]},
    shortest_stride_s={"label": "shortest stride (s)", "min": 0.05, "max": 10.0, "step": 0.1,
                       "tooltip": _HELP["stride_range_s"]},
    longest_stride_s={"label": "longest stride (s)", "min": 0.05, "max": 10.0, "step": 0.1,
                      "tooltip": _HELP["stride_range_s"]},
    side={"choices": ["auto", "left", "right"]},
    call_button="Detect events",
)
def detect_events_widget(
    layer: napari.layers.Points,
    viewer: napari.viewer.Viewer,
    method: str = _EventConfig.method,
    reference: str = AUTO,
    min_likelihood: str = AUTO,
    max_gap_s: float = _EventConfig.max_gap_s,
    stride_s: str = AUTO,
    shortest_stride_s: float = _EventConfig.stride_range_s[0],
    longest_stride_s: float = _EventConfig.stride_range_s[1],
    side: str = "auto",
    show_plot: bool = True,
) -> napari.types.LayerDataTuple:
    """Heel strikes (HS) and toe offs (TO) of a keypoints layer's camera-facing leg.

    Adds ``<layer> events``: markers at the heel (HS) / toe (TO) in the event frame, and
    docks a plot of the detector's signal with the events and the current frame and, beside
    it, the joint angles per frame and per cycle (:mod:`._angles`); clicking a plot moves the
    frame slider there. The settings are those of
    :data:`~napari_gaitint.core.config.EVENT_OPTIONS` (``gaitint events`` has the same
    options; ``stride_range_s`` as its shortest and longest stride), their defaults
    :class:`~napari_gaitint.core.config.EventConfig`'s;
    ``"auto"``: the detector's own (the method's reference, the cut-off of a cleaned or raw
    layer, the stride estimated).
    """
    from ..core.chain import analyze_view
    from ..core.config import EVENT_METHODS as METHODS
    from ..core.config import EventConfig, likelihood_cutoff
    from ..core.event_signals import relative_x
    from ..core.pose import validate_time_series, with_role_names

    if layer is None:
        raise GaitintError("choose a keypoints layer")
    side = view_side(layer) if side == "auto" else side
    if side is None:
        raise GaitintError(f"{layer.name}: cannot tell which leg this camera sees (the view is "
                           "not C1 or C3 and no side was given); choose left or right in 'side'")
    shown = validate_time_series(layer_pose(layer), task="event detection")
    pose = with_role_names(shown, side=side)  # Neck, LHeel... -> neck, heel
    if pose.frame_size is None:
        raise GaitintError(f"{layer.name}: video frame size unknown; load the trial with its video or manifest")
    ref = None if reference == AUTO else reference
    try:
        settings = EventConfig(method=method, reference=ref, max_gap_s=max_gap_s,
                               stride_range_s=(shortest_stride_s, longest_stride_s),
                               min_likelihood=_optional_float(min_likelihood, "likelihood cut-off"),
                               stride_s=_optional_float(stride_s, "stride"))
    except ValueError as err:
        raise GaitintError(str(err)) from None
    cleaned = layer_info(layer).cleaned  # a cleaned layer: its cut-off and its flags (confidence)
    flags = _convert.points_to_flags(layer.data, layer.features, template=shown, side=side) if cleaned else None
    result = analyze_view(pose, side=side, settings=settings, flags=flags, cleaned=cleaned)
    oriented, events = result.oriented, result.events
    data, feats = _convert.events_to_points(events, pose)
    info = copy_info(layer, keep=("trial", "view", "side", "mirrored"))
    kwargs = {
        "name": f"{layer.name} events",
        "features": feats,
        "face_color": _convert.event_colors(feats),
        "border_color": "white",
        "symbol": "diamond",
        "size": 26,
        "axis_labels": ("frame", "y", "x"),
        "text": {"string": "{label}", "color": "black", "size": 12, "anchor": "upper_left",
                 "translation": [0, -14, 0]},
        "metadata": {KEY: {"kind": EVENTS, "events": events, "method": method, **info,
                                 "floor_tilt_deg": oriented.meta["orientation"]["tilt_deg"]}},
        **layer_placement(layer),
    }
    if show_plot and viewer is not None:
        m = METHODS[method]
        reference_name = ref or m.default_reference
        signals = {
            f"{m.hs_bodypart} x - {reference_name} x (HS)": relative_x(oriented, m.hs_bodypart, reference_name),
        }
        if m.to_bodypart != m.hs_bodypart:
            signals[f"{m.to_bodypart} x - {reference_name} x (TO)"] = relative_x(oriented, m.to_bodypart, reference_name)
        title = f"{layer.name}: {method}"
        if oriented.meta["orientation"]["rotation_deg"]:  # a rolled camera: say so
            title += f" (floor levelled, it was tilted {oriented.meta['orientation']['tilt_deg']:+.1f}°)"
        plot = EventsPlot(viewer, pose.frames, signals, events, title=title)
        viewer.window.add_dock_widget(plot.native_widget, name=f"events plot: {layer.name}", area="bottom")
        from ._angles import dock_angles_plot

        dock_angles_plot(viewer, oriented, events, side=side, name=layer.name,  # beside it
                         min_likelihood=likelihood_cutoff(settings.min_likelihood, cleaned=cleaned))
    return (data, kwargs, "points")


class EventsPlot(FramePlot):
    """Matplotlib plot of an event signal: event markers, current-frame line, click to jump
    (:class:`~napari_gaitint._napari._plot.FramePlot`)."""

    def __init__(self, viewer, frames: np.ndarray, signals: dict[str, np.ndarray], events: pd.DataFrame, *, title: str = ""):
        self._make_canvas(viewer, figsize=(6, 2.2), min_height=160, tight_layout=True)
        ax = self.ax = self.figure.add_subplot(111)
        for label, sig in signals.items():
            ax.plot(frames, sig, lw=1.2, label=label)
        for ev in events.itertuples(index=False):
            is_hs = ev.event == "heel_strike"
            sig = list(signals.values())[0 if is_hs or len(signals) == 1 else 1]
            y = np.interp(ev.frame, frames, np.where(np.isfinite(sig), sig, np.nanmean(sig)))
            ax.plot(ev.frame, y, "v" if is_hs else "^", color="tab:red" if is_hs else "tab:blue", ms=7)
        ax.set_xlabel("frame")
        ax.set_ylabel("px (gait x)")
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=7, loc="upper right")
        self.event_frames = events["frame"].to_numpy(float)
        self._follow(ax)

