"""Render the whole window with both views, keypoints, tracks and events; check the pixels."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.napari



def _canvas_xy(viewer, shot, world_y, world_x):
    """Canvas pixel (row, col) of a world point (2-D view, camera centre + zoom)."""
    cam = viewer.scene.camera if hasattr(viewer, "scene") else viewer.camera
    h, w = shot.shape[:2]
    cy, cx = cam.center[-2], cam.center[-1]
    ratio = w / viewer.window._qt_viewer.canvas.size[1] if hasattr(viewer.window._qt_viewer.canvas, "size") else 1.0
    z = cam.zoom * ratio
    return int(round((world_y - cy) * z + h / 2)), int(round((world_x - cx) * z + w / 2))


def test_full_window_screenshot(make_napari_viewer, sample_manifest, qtbot, screenshot_dir):
    from napari_gaitint._napari._clean import clean_widget
    from napari_gaitint._napari._detect import detect_events_widget
    from napari_gaitint._napari._load import LoadTrialPairWidget

    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(1600, 1000)
    loader = LoadTrialPairWidget(viewer)
    viewer.window.add_dock_widget(loader, name="Load trial pair")
    loader._on_load_sample()
    cleaner = clean_widget()
    viewer.window.add_dock_widget(cleaner, name="Clean keypoints")
    events = detect_events_widget()
    viewer.window.add_dock_widget(events, name="Detect gait events", tabify=True)
    for view in ("C1", "C3"):
        cleaner.layer.value = viewer.layers[f"T01 {view} keypoints"]
        cleaner()
        events.layer.value = viewer.layers[f"T01 {view} keypoints cleaned"]
        events.show_plot.value = view == "C1"
        events()
    for view in ("C1", "C3"):  # show the cleaned result over the raw predictions
        viewer.layers[f"T01 {view} keypoints"].visible = False
        viewer.layers[f"T01 {view} tracks"].visible = False
    ev_c1 = viewer.layers["T01 C1 keypoints cleaned events"]
    frame = int(ev_c1.data[1, 0])
    viewer.dims.set_current_step(0, frame)
    viewer.reset_view()
    qtbot.wait(300)

    full = viewer.screenshot(canvas_only=False, flash=False)
    canvas = viewer.screenshot(canvas_only=True, flash=False)
    from imageio.v3 import imwrite

    imwrite(screenshot_dir / "napari_trial_pair.png", full)
    assert full.shape[0] > canvas.shape[0] and full.shape[1] > canvas.shape[1]  # docks + canvas

    # both videos are visible: real image content in each view's slot
    for view in ("C1", "C3"):
        video = viewer.layers[f"T01 {view} video"]
        (y0, x0), (y1, x1) = video.extent.world[0][1:], video.extent.world[1][1:]
        r0, c0 = _canvas_xy(viewer, canvas, y0, min(x0, x1))
        r1, c1 = _canvas_xy(viewer, canvas, y1, max(x0, x1))
        patch = canvas[max(r0, 0):r1, max(c0, 0):c1, :3].astype(float)
        assert patch.size and patch.std() > 10, f"{view} video not drawn"
        # the frame drawn is the frame on the slider
        frame_rgb = np.asarray(video.data[frame], dtype=float)
        assert abs(patch.mean() - frame_rgb.mean()) < 25
    # keypoints drawn at their positions: the neck's colour at the neck's place
    from napari_gaitint._napari._convert import bodypart_colors

    for view in ("C1", "C3"):
        lay = viewer.layers[f"T01 {view} keypoints cleaned"]
        neck_rgb = np.array(bodypart_colors(lay.features["label"].cat.categories)["neck"][:3]) * 255
        sel = (lay.data[:, 0] == frame) & (lay.features["label"] == "neck").to_numpy()
        (_, y, x), = lay.data[sel]
        a = lay.affine.affine_matrix
        r, c = _canvas_xy(viewer, canvas, a[1, 1] * y + a[1, 3], a[2, 2] * x + a[2, 3])
        near = canvas[r - 1:r + 2, c - 1:c + 2, :3].reshape(-1, 3).astype(float)
        assert np.min(np.linalg.norm(near - neck_rgb, axis=1)) < 40, f"{view} neck not at its place"
    # event markers (HS red / TO blue) are drawn somewhere in the window
    assert (np.abs(full[..., :3].astype(float) - [255, 51, 51]).sum(axis=2) < 60).any() or \
           (np.abs(full[..., :3].astype(float) - [51, 153, 255]).sum(axis=2) < 60).any()
