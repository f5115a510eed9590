"""The joint-angle plot docked beside the event plot: per frame, and each gait cycle overlaid.

A thin skin over :mod:`napari_gaitint.core.angles`: the angles per frame
(:func:`~napari_gaitint.core.angles.compute_angles`) on the left, against the frame, with the
heel strikes as dotted lines; every cycle of the leg
(:func:`~napari_gaitint.core.angles.compute_angle_cycles`) overlaid on the right, against the
percent of the cycle. The viewer's current frame is a vertical line on the left and a dot on
each joint's curve of the cycle holding it on the right; clicking the left panel moves the
frame slider there.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.angles import JOINTS, compute_angle_cycles, compute_angles, locate_in_cycles
from ..core.errors import AnalysisError
from ..core.events import HEEL_STRIKE
from ..core.pose import Pose
from ._plot import FramePlot

#: One colour per joint (the same in both panels).
JOINT_COLORS = {"hip": "tab:blue", "knee": "tab:orange", "ankle": "tab:green", "trunk": "tab:purple"}


class AnglesPlot(FramePlot):
    """Matplotlib plot of the joint angles of one view, following the viewer's frame.

    Parameters
    ----------
    viewer
        The napari viewer (its frame slider is followed and set).
    pose
        The view's pose in gait coordinates (roles ``neck, hip, knee, ankle, heel, toe``).
    events
        Its events (``side, event, frame``).
    side
        The leg the camera sees.
    title
        Shown above the plot.
    min_likelihood
        Likelihood cut-off of the angles (:func:`~napari_gaitint.core.config.likelihood_cutoff`
        of a cleaned or a raw pose); None: the default of
        :func:`~napari_gaitint.core.angles.compute_angles` (raw predictions).

    The current-frame line, the slider following and click to jump are
    :class:`~napari_gaitint._napari._plot.FramePlot`'s.
    """

    def __init__(self, viewer, pose: Pose, events: pd.DataFrame, *, side: str, title: str = "",
                 min_likelihood: float | None = None):
        self._make_canvas(viewer, figsize=(7, 2.4), min_height=170, min_width=560, layout="constrained")
        self.angles = compute_angles(pose, min_likelihood=min_likelihood)
        try:
            self.cycles = compute_angle_cycles(pose, events, side=side, min_likelihood=min_likelihood)
        except AnalysisError:  # no full cycle: the per-frame panel only
            self.cycles = None
        self.ax_frames, self.ax_cycles = self.figure.subplots(1, 2, gridspec_kw={"width_ratios": [1.6, 1]})
        frames = self.angles["frame"].to_numpy(float)
        for joint in JOINTS:
            self.ax_frames.plot(frames, self.angles[joint], lw=1.1, color=JOINT_COLORS[joint], label=joint)
        sel = (events["side"] == side).to_numpy() & (events["event"] == HEEL_STRIKE).to_numpy()
        for f in events["frame"].to_numpy(float)[sel]:
            self.ax_frames.axvline(f, color="0.6", lw=0.8, ls=":")
        self.ax_frames.set_xlabel("frame")
        self.ax_frames.set_ylabel("angle (deg)")
        self.ax_frames.set_title(title, fontsize=9)
        self.figure.legend(*self.ax_frames.get_legend_handles_labels(), fontsize=7, loc="outside right center")
        self.dots = {}
        if self.cycles is not None:
            for (joint, _), g in self.cycles.groupby(["bodypart", "cycle"], sort=False, observed=True):
                self.ax_cycles.plot(g["pct"], g["value"], lw=0.8, alpha=0.7, color=JOINT_COLORS[joint])
            for joint in JOINTS:
                (self.dots[joint],) = self.ax_cycles.plot([], [], "o", ms=6, color=JOINT_COLORS[joint],
                                                          markeredgecolor="k")
            n = self.cycles["cycle"].nunique()
            self.ax_cycles.set_title(f"{n} cycle(s), {side} leg", fontsize=9)
        else:
            self.ax_cycles.set_title("no full gait cycle", fontsize=9)
        self.ax_cycles.set_xlabel("gait cycle (%)")
        self.ax_cycles.set_xlim(0, 100)
        self._follow(self.ax_frames)

    def current_cycle(self) -> tuple[int | None, float]:
        """``(cycle, pct)`` of the viewer's current frame (``(None, nan)`` outside every cycle)."""
        if self.cycles is None:
            return None, float("nan")
        return locate_in_cycles(float(self.viewer.dims.current_step[0]), self.cycles.attrs["cycle_frames"])

    def _update(self) -> None:
        """The dot of each joint at the current frame's place in its cycle."""
        cycle, pct = self.current_cycle()
        for joint, dot in self.dots.items():
            if cycle is None:
                dot.set_data([], [])
                continue
            g = self.cycles[(self.cycles["cycle"] == cycle) & (self.cycles["bodypart"] == joint)]
            dot.set_data([pct], [np.interp(pct, g["pct"], g["value"])])


def dock_angles_plot(viewer, pose: Pose, events: pd.DataFrame, *, side: str, name: str,
                     min_likelihood: float | None = None) -> AnglesPlot:
    """Dock an :class:`AnglesPlot` of ``pose`` at the bottom of the viewer's window."""
    plot = AnglesPlot(viewer, pose, events, side=side, title="joint angles per frame",
                      min_likelihood=min_likelihood)
    viewer.window.add_dock_widget(plot.native_widget, name=f"angles plot: {name}", area="bottom")
    return plot
