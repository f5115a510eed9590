"""The joint-angle plot docked beside the event plot: its data, the slider, its pixels."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

pytestmark = pytest.mark.napari


def _rgb(name: str) -> np.ndarray:
    from matplotlib.colors import to_rgb

    return np.array(to_rgb(name)) * 255


def test_angles_plot_beside_the_event_plot(make_napari_viewer, sample_manifest, qtbot, screenshot_dir):
    from napari_gaitint._napari._angles import JOINT_COLORS, AnglesPlot
    from napari_gaitint._napari._clean import clean_widget
    from napari_gaitint._napari._detect import EventsPlot, detect_events_widget
    from napari_gaitint._napari._layers import layer_pose
    from napari_gaitint.core.angles import JOINTS, compute_angle_cycles, compute_angles
    from napari_gaitint.core.config import CLEANED_LIKELIHOOD_THRESHOLD
    from napari_gaitint.core.orient import orient_pose
    from napari_gaitint.core.pose import with_role_names

    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(1600, 1000)
    viewer.open_sample("napari-gaitint", "trial_pair")
    cleaner = clean_widget()
    viewer.window.add_dock_widget(cleaner)
    cleaner.layer.value = viewer.layers["T01 C1 keypoints"]
    cleaner()
    detect = detect_events_widget()
    viewer.window.add_dock_widget(detect, tabify=True)
    layer = viewer.layers["T01 C1 keypoints cleaned"]
    detect.layer.value = layer
    detect()
    plot, events_plot = AnglesPlot.latest(), EventsPlot.latest()
    assert plot is not None and events_plot is not None

    # the data are the core's, of the same oriented pose and events
    pose = orient_pose(with_role_names(layer_pose(layer), side="left"))
    events = viewer.layers["T01 C1 keypoints cleaned events"].metadata["gaitint"]["events"]
    cut = CLEANED_LIKELIHOOD_THRESHOLD  # a cleaned layer: the dock states the cleaned cut-off
    expected = compute_angles(pose, min_likelihood=cut)
    for joint, line in zip(JOINTS, plot.ax_frames.lines, strict=False):
        assert line.get_label() == joint
        assert_allclose(line.get_ydata(), expected[joint], equal_nan=True)
    cycles = compute_angle_cycles(pose, events, side="left", min_likelihood=cut)
    n_cycles = cycles["cycle"].nunique()
    assert n_cycles >= 2 and len(plot.ax_cycles.lines) == n_cycles * len(JOINTS) + len(JOINTS)
    knee = cycles[cycles["bodypart"] == "knee"]["value"]
    assert knee.max() > 40  # swing flexion

    # the current frame: a line on the left, a dot on each joint's cycle curve on the right
    frames = cycles.attrs["cycle_frames"]
    inside = int(np.ceil(frames["start_frame"].iloc[0] + 0.5 * (frames["end_frame"].iloc[0] - frames["start_frame"].iloc[0])))
    viewer.dims.set_current_step(0, inside)
    assert plot.line.get_xdata()[0] == inside
    # both plots follow the one slider through what they share (_plot.FramePlot)
    from napari_gaitint._napari._plot import FramePlot

    assert isinstance(plot, FramePlot) and isinstance(events_plot, FramePlot) and plot is not events_plot
    assert events_plot.line.get_xdata()[0] == inside
    cycle, pct = plot.current_cycle()
    assert cycle == int(frames["cycle"].iloc[0]) and 40 < pct < 60
    for joint in JOINTS:
        g = cycles[(cycles["cycle"] == cycle) & (cycles["bodypart"] == joint)]
        x, y = plot.dots[joint].get_data()
        assert_allclose([x[0], y[0]], [pct, np.interp(pct, g["pct"], g["value"])])
    viewer.dims.set_current_step(0, 0)  # before the first heel strike: no dot
    assert plot.current_cycle()[0] is None and len(plot.dots["knee"].get_data()[0]) == 0
    plot.jump_to(inside + 2.4)
    assert viewer.dims.current_step[0] == inside + 2

    # the window: both plots docked at the bottom, side by side, drawn
    qtbot.wait(300)
    shot = viewer.screenshot(canvas_only=False, flash=False)
    from imageio.v3 import imwrite

    imwrite(screenshot_dir / "angles_plot.png", shot)
    window = viewer.window._qt_window
    scale = shot.shape[1] / window.width()
    boxes = {}
    for name, canvas in (("angles", plot.canvas), ("events", events_plot.canvas)):
        assert canvas.isVisible()
        top_left = canvas.mapTo(window, canvas.rect().topLeft())
        boxes[name] = (int(top_left.y() * scale), int(top_left.x() * scale),
                       int((top_left.y() + canvas.height()) * scale), int((top_left.x() + canvas.width()) * scale))
    (a0, a1, a2, a3), (e0, _, _, e3) = boxes["angles"], boxes["events"]
    assert a1 >= e3 - 2 and abs(a0 - e0) < 40  # beside the event plot, not below it
    assert a2 > shot.shape[0] * 0.6  # in the bottom area
    patch = shot[a0:a2, a1:a3, :3].astype(float)
    for joint in JOINTS:  # every joint's colour is drawn
        near = np.abs(patch - _rgb(JOINT_COLORS[joint])).max(axis=2) < 40
        assert near.sum() > 50, joint
