"""``gaitint demo --gui``: open napari on the demo sample with every widget docked."""

from __future__ import annotations

from pathlib import Path


def open_viewer_on_sample(out_dir: str | Path, *, run: bool = True):
    """Open a napari viewer on the first trial of ``out_dir/sample/trials.csv`` (as written by
    :func:`napari_gaitint.core.pipeline.run_demo`), with the Load, Clean, Detect events and
    Stats widgets docked and the stats widget pointed at the sample manifest.

    Parameters
    ----------
    out_dir
        The demo folder (holding ``sample/trials.csv``); if it has none, the plugin's own
        cached sample trial is used.
    run
        Start the Qt event loop (``napari.run()``); False returns the viewer at once (tests).
    """
    import napari

    from ..core.pipeline import load_manifest
    from ._sample_data import ensure_sample
    from ._widgets import LoadTrialPairWidget, StatsWidget, clean_widget, detect_events_widget

    manifest = Path(out_dir) / "sample" / "trials.csv"
    if not manifest.is_file():
        manifest = ensure_sample()
    viewer = napari.Viewer(title="napari-gaitint demo")
    loader = LoadTrialPairWidget(viewer)
    viewer.window.add_dock_widget(loader, name="Load trial pair", area="right")
    loader.manifest.value = str(manifest)
    loader._on_manifest()
    rows = load_manifest(manifest)
    loader.add_rows(rows[rows["trial"] == rows["trial"].iloc[0]])
    viewer.window.add_dock_widget(clean_widget(), name="Clean keypoints", area="right", tabify=True)
    viewer.window.add_dock_widget(detect_events_widget(), name="Detect gait events", area="right", tabify=True)
    stats = StatsWidget(viewer)
    stats.manifest.value = str(manifest)
    viewer.window.add_dock_widget(stats, name="Gait statistics", area="right", tabify=True)
    if run:
        napari.run()
    return viewer
