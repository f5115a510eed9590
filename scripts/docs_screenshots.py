"""Take the napari screenshots of the documentation (docs/images/*.png) at 1280x800.

A real, shown napari window on the plugin's sample trial pair (generated into a temporary
folder), driven through the docks as a user would. Needs a display; on a machine without
one run it under Xvfb with a screen of that size (never QT_QPA_PLATFORM=offscreen, which
draws a black canvas)::

    xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python scripts/docs_screenshots.py

Writes docs/images/napari_window.png (the trial pair cleaned, events detected, the event
plot), napari_stats.png (the statistics dock after a run) and napari_qa.png (Label QA
and the event annotator). ``--out DIR`` writes elsewhere.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

WIDTH, HEIGHT = 1280, 800


def _settle(app, ms: int = 300) -> None:
    import time

    end = time.monotonic() + ms / 1000
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def _save(viewer, app, path: Path) -> None:
    from imageio.v3 import imwrite

    _settle(app)
    shot = viewer.screenshot(canvas_only=False, flash=False)
    imwrite(path, shot)
    print(f"wrote {path} ({shot.shape[1]}x{shot.shape[0]})")


def _new_viewer(napari):
    viewer = napari.Viewer(title="napari-gaitint")
    viewer.window._qt_window.resize(WIDTH, HEIGHT)
    viewer.window._qt_window.move(0, 0)
    return viewer


def _trial_rows(manifest: Path, folder: Path):
    """The sample's first trial, predictions copied to ``folder`` (the docks write next to them)."""
    from napari_gaitint.workflow.manifest import load_manifest

    rows = load_manifest(manifest)
    rows = rows[rows["trial"] == rows["trial"].iloc[0]].copy()
    folder.mkdir(parents=True, exist_ok=True)
    for i, row in rows.iterrows():
        pred = folder / Path(row["predictions"]).name
        shutil.copy(row["predictions"], pred)
        rows.loc[i, "predictions"] = str(pred)
    return rows


def shoot_window(napari, app, cohort: Path, out: Path) -> None:
    from napari_gaitint._napari._clean import clean_widget
    from napari_gaitint._napari._detect import detect_events_widget
    from napari_gaitint._napari._load import LoadTrialPairWidget
    from napari_gaitint._napari._stats import StatsWidget

    viewer = _new_viewer(napari)
    loader = LoadTrialPairWidget(viewer)
    viewer.window.add_dock_widget(loader, name="Load trial pair", area="right")
    loader._on_load_sample()
    cleaner = clean_widget()
    viewer.window.add_dock_widget(cleaner, name="Clean keypoints", area="right", tabify=True)
    events = detect_events_widget()
    viewer.window.add_dock_widget(events, name="Detect gait events", area="right", tabify=True)
    for view in ("C1", "C3"):
        cleaner.layer.value = viewer.layers[f"T01 {view} keypoints"]
        cleaner()
        events.layer.value = viewer.layers[f"T01 {view} keypoints cleaned"]
        events.show_plot.value = view == "C1"
        events()
    for view in ("C1", "C3"):  # the cleaned result over the raw predictions
        viewer.layers[f"T01 {view} keypoints"].visible = False
        viewer.layers[f"T01 {view} tracks"].visible = False
    frame = int(viewer.layers["T01 C1 keypoints cleaned events"].data[1, 0])
    viewer.dims.set_current_step(0, frame)
    _settle(app)
    viewer.reset_view()
    _save(viewer, app, out / "napari_window.png")
    viewer.close()

    # the statistics dock on a cohort, beside the loaded trial pair
    viewer = _new_viewer(napari)
    loader = LoadTrialPairWidget(viewer)
    viewer.window.add_dock_widget(loader, name="Load trial pair", area="right")
    loader._on_load_sample()
    stats = StatsWidget(viewer)
    stats.manifest.value = str(cohort)
    viewer.window.add_dock_widget(stats, name="Gait statistics", area="right", tabify=True)
    stats.start()
    import time

    end = time.monotonic() + 600
    while not stats.run.enabled and time.monotonic() < end:
        app.processEvents()
        time.sleep(0.05)
    if stats.anova is None:
        raise SystemExit(f"the statistics dock did not finish: {stats.status.value}")
    viewer.dims.set_current_step(0, frame)
    _settle(app)
    viewer.reset_view()
    _save(viewer, app, out / "napari_stats.png")
    viewer.close()


def shoot_qa(napari, app, manifest: Path, folder: Path, out: Path) -> None:
    import numpy as np

    from napari_gaitint._napari._annotate import EventAnnotator
    from napari_gaitint._napari._layers import trial_pair_layers
    from napari_gaitint._napari._qa import QAWidget

    rows = _trial_rows(manifest, folder)
    viewer = _new_viewer(napari)
    for data, kw, kind in trial_pair_layers(rows):
        getattr(viewer, f"add_{kind}")(data, **kw)
    qa = QAWidget(viewer)
    viewer.window.add_dock_widget(qa, name="Label QA", area="right")
    annotator = EventAnnotator(viewer)
    viewer.window.add_dock_widget(annotator, name="Gait events", area="bottom")
    qa.start()
    annotator.start()
    key = qa.review.key(0)
    qa.go_to(0)
    viewer.dims.set_current_step(0, key[1])
    viewer.reset_view()
    _settle(app)
    # zoom onto the suspect frame's view, as a reviewer would
    layer = viewer.layers[qa.sessions[key[0]].layer.name]
    data = np.asarray(layer.data)
    pts = data[np.rint(data[:, 0]) == key[1]]
    centre = np.mean([layer.data_to_world(p) for p in pts], axis=0)
    viewer.scene.camera.center = (float(centre[1]), float(centre[2]))
    viewer.scene.camera.zoom = viewer.scene.camera.zoom * 2.2
    _save(viewer, app, out / "napari_qa.png")
    for cls in (QAWidget, EventAnnotator):  # nothing to keep: leave without asking
        cls.confirm_prompt = staticmethod(lambda text: True)
        cls.close_prompt = staticmethod(lambda: "discard")
    viewer.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs" / "images")
    args = parser.parse_args(argv)
    if os.environ.get("QT_QPA_PLATFORM") == "offscreen":
        raise SystemExit("QT_QPA_PLATFORM=offscreen draws a black canvas: run under xvfb-run instead")
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gaitint-shots-") as tmp:
        os.environ["NAPARI_GAITINT_CACHE"] = str(Path(tmp) / "cache")  # the sample goes here
        from napari.qt import get_qapp

        import napari
        from napari_gaitint._napari._sample_data import ensure_sample
        from napari_gaitint.synthetic.demo import DEMO_SEED, DEMO_TRIALS
        from napari_gaitint.synthetic.files import write_synthetic_cohort

        manifest = ensure_sample()
        # the statistics need a cohort: the demo's trials, without videos
        cohort = write_synthetic_cohort(Path(tmp) / "cohort", n_trials=DEMO_TRIALS, seed=DEMO_SEED,
                                        fps=25.0, video=False)
        app = get_qapp()
        shoot_window(napari, app, cohort, args.out)
        shoot_qa(napari, app, manifest, Path(tmp) / "trial", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
