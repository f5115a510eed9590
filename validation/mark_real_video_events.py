"""Enter the hand-marked gait events of the real-video set through the event annotator.

The events were decided by looking at the video's frames (zoomed crops of the feet, see
``validation/data/real_video/PROVENANCE.md`` for the criteria); this script types them into
napari-gaitint's own event annotator, as a user does, and saves ``<trial>_events.csv`` with
it::

    xvfb-run -a .venv/bin/python validation/mark_real_video_events.py --video sports2d_demo=demo.mp4

For each trial of the video (both modes of the pose estimator): the video and the keypoints open as the *Load trial pair* widget opens a
manifest row; the *Annotate gait events* dock starts on an empty events file; for each
marked event the frame slider goes to the frame, ``L``/``R`` selects the leg and ``H``/``T``
adds a heel strike / toe off (key presses on the canvas); *Save events.csv* writes the file.
The script then checks that the saved file holds exactly the marked events.
"""

from __future__ import annotations

import argparse
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "real_video"

#: Marked events of each video, video frame numbers (0-based, as the keypoint files): heel
#: strike = the first frame with the heel on the ground, toe off = the last frame with the
#: toe on it.
MARKED: dict[str, dict[tuple[str, str], tuple[int, ...]]] = {
    "sports2d_demo": {
        ("right", "heel_strike"): (61, 98, 134, 171),
        ("left", "toe_off"): (65, 102, 139, 175),
        ("left", "heel_strike"): (79, 116, 152),
        ("right", "toe_off"): (85, 121, 158),
    },
}
#: The camera of each video (one camera sees both legs) and its frame rate.
CAMERAS = {"sports2d_demo": {"view": "cam", "fps": 30.0}}
#: The video of each trial (validation/make_real_video_set.py: the same video analysed in
#: two modes of the pose estimator); a trial's events are its video's.
TRIAL_VIDEO = {"sports2d_demo": "sports2d_demo", "sports2d_demo_static": "sports2d_demo"}


def marked_events(trial: str) -> list[tuple[int, str, str]]:
    """``(frame, side, event)`` of a trial, in time order."""
    marked = MARKED[TRIAL_VIDEO[trial]]
    return sorted((f, side, ev) for (side, ev), frames in marked.items() for f in frames)


def mark(trial: str, video: Path, out: Path, *, screenshot: Path | None = None) -> Path:
    import numpy as np
    from qtpy.QtCore import Qt
    from qtpy.QtTest import QTest
    from qtpy.QtWidgets import QApplication

    import napari
    from napari_gaitint._napari._annotate import EventAnnotator
    from napari_gaitint._napari._layers import trial_pair_layers
    from napari_gaitint.core import annotations as ann
    from napari_gaitint.core.video import probe_video

    info = probe_video(video)
    cam = CAMERAS[TRIAL_VIDEO[trial]]
    row = {"trial": trial, "view": cam["view"], "side": "left",
           "predictions": str(DATA / f"{trial}.h5"), "video": str(video),
           "fps": cam["fps"], "width": info.width, "height": info.height}
    viewer = napari.Viewer(show=True)
    for data, kw, kind in trial_pair_layers([row]):
        getattr(viewer, f"add_{kind}")(data, **kw)
    widget = EventAnnotator(viewer)
    viewer.window.add_dock_widget(widget, name="Annotate gait events", area="bottom")
    # start from an empty events file, so that nothing detected is mixed in
    ann.save_events(ann.empty_events(), out, overwrite=True)
    widget.start(path=out)
    canvas = viewer.window._qt_viewer.canvas.native
    keys = {"left": Qt.Key.Key_L, "right": Qt.Key.Key_R,
            "heel_strike": Qt.Key.Key_H, "toe_off": Qt.Key.Key_T}
    for frame, side, event in marked_events(trial):
        viewer.layers.selection.active = next(iter(widget.layers.values()))
        viewer.dims.set_current_step(0, frame)
        QTest.keyClick(canvas, keys[side])
        QTest.keyClick(canvas, keys[event])
        QApplication.processEvents()
    widget.save(out)
    saved = ann.load_events(out)
    got = sorted(zip(saved["frame"].astype(int), saved["side"], saved["event"], strict=True))
    want = marked_events(trial)
    if got != want or set(saved["source"]) != {"manual"}:
        raise SystemExit(f"{out}: the annotator saved {got}, not the marked {want}")
    if screenshot is not None:
        import matplotlib.image as mpimg

        viewer.dims.set_current_step(0, want[0][0])
        viewer.window._qt_window.resize(1400, 900)
        viewer.reset_view()
        QApplication.processEvents()
        mpimg.imsave(screenshot, np.asarray(viewer.screenshot(canvas_only=False, flash=False)))
    widget.dirty = False
    viewer.close()
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--video", action="append", required=True, metavar="VIDEO=PATH",
                   help="a video (validation/make_real_video_set.py says where from); its "
                   "trials are marked")
    p.add_argument("--out", type=Path, default=DATA, help="folder of <trial>_events.csv")
    p.add_argument("--screenshot", type=Path, default=None, metavar="PNG",
                   help="save a screenshot of the viewer at the first event (one trial)")
    args = p.parse_args(argv)
    videos = dict(item.split("=", 1) for item in args.video)
    for trial, name in TRIAL_VIDEO.items():
        if name not in videos:
            continue
        path = mark(trial, Path(videos[name]), args.out / f"{trial}_events.csv",
                    screenshot=args.screenshot)
        print(f"{trial}: {len(marked_events(trial))} events entered in the annotator -> {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
