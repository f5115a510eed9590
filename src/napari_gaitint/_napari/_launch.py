"""``gaitint demo --gui``: open napari on the demo sample with every widget docked.

The docks share one column with napari's layer list (ours as tabs: Load in front, short
titles), so the video canvas keeps two thirds of a laptop screen (1280 x 800).
"""

from __future__ import annotations

from pathlib import Path

#: Width (screen px) of the docks' column; height of napari's layer list / controls above our docks.
DOCK_WIDTH_PX = 340
NAPARI_DOCKS_HEIGHT_PX = 170


def open_viewer_on_sample(out_dir: str | Path, *, run: bool = True, size: tuple[int, int] | None = None):
    """Open a napari viewer on the first trial of ``out_dir/sample/trials.csv`` (as written by
    :func:`napari_gaitint.synthetic.demo.run_demo`), with the Load, Label QA, Annotate events,
    Clean, Detect events and Stats widgets docked as tabs (Load in front) and the stats widget
    pointed at the sample manifest. Nothing is computed again: results already in
    ``out_dir/results`` stay as they are.

    Parameters
    ----------
    out_dir
        The demo folder (holding ``sample/trials.csv``); if it has none, the plugin's own
        cached sample trial is used.
    run
        Start the Qt event loop (``napari.run()``); False returns the viewer at once (tests).
    size
        Window size ``(width, height)`` in screen pixels; ``None`` keeps napari's.
    """
    from pandas import read_csv

    import napari

    from ..workflow.manifest import load_manifest
    from ._annotate import EventAnnotator
    from ._clean import clean_widget
    from ._detect import detect_events_widget
    from ._load import LoadTrialPairWidget
    from ._qa import QAWidget
    from ._sample_data import ensure_sample
    from ._stats import StatsWidget

    manifest = Path(out_dir) / "sample" / "trials.csv"
    if not manifest.is_file():
        manifest = ensure_sample()
    viewer = napari.Viewer(title="napari-gaitint demo")
    if size is not None:
        viewer.window.resize(*size)
    loader = LoadTrialPairWidget(viewer)
    stats = StatsWidget(viewer)
    stats.manifest.value = str(manifest)
    anova = Path(out_dir) / "results" / "anova.csv"
    if anova.is_file():  # the demo's results as they are (Run statistics computes them again)
        stats.show_table(read_csv(anova))
        stats.status.value = f"results of {anova.parent}"
    docks = [
        ("Load", loader),
        ("QA", QAWidget(viewer)),
        ("Events", EventAnnotator(viewer)),
        ("Clean", clean_widget()),
        ("Detect", detect_events_widget()),
        ("Stats", stats),
    ]
    added = [viewer.window.add_dock_widget(w, name=name, area="left", tabify=i > 0)
             for i, (name, w) in enumerate(docks)]
    arrange_docks(added, size=size)
    loader.manifest.value = str(manifest)
    loader._on_manifest()
    rows = load_manifest(manifest)
    loader.add_rows(rows[rows["trial"] == rows["trial"].iloc[0]])
    if run:
        napari.run()
    return viewer


def arrange_docks(docks, *, size: tuple[int, int] | None = None) -> None:
    """One column on the left for a laptop screen: our docks and napari's layer list and layer
    controls as tabs of one group (the first of ours in front); the canvas gets the rest.
    ``size``: the window size to keep."""
    from qtpy.QtCore import QTimer

    def arrange():
        try:
            fit_docks(docks)
            docks[0].raise_()
            if size is not None and docks[0].parentWidget() is not None:
                docks[0].parentWidget().resize(*size)
        except RuntimeError:  # the window was closed before the event loop came round
            pass

    arrange()
    QTimer.singleShot(0, arrange)  # again once the window is shown (Qt lays docks out then)


def fit_docks(docks) -> None:
    """Put napari's own left docks (layer list, layer controls) in our tab group and size the
    column (see :func:`arrange_docks`)."""
    from qtpy.QtCore import Qt
    from qtpy.QtWidgets import QDockWidget, QTabWidget

    if not docks:
        return
    window = docks[0].parentWidget()
    if window is None or not hasattr(window, "resizeDocks"):
        return
    # tabs along the column's side: eight titles stay readable in a narrow column
    window.setTabPosition(Qt.DockWidgetArea.LeftDockWidgetArea, QTabWidget.TabPosition.West)
    ours = set(docks)
    grouped = set(window.tabifiedDockWidgets(docks[0]))
    for d in window.findChildren(QDockWidget):
        if (d not in ours and d not in grouped and not d.isFloating() and not d.isHidden()
                and window.dockWidgetArea(d) == Qt.DockWidgetArea.LeftDockWidgetArea):
            window.tabifyDockWidget(docks[-1], d)
    window.resizeDocks([docks[0]], [DOCK_WIDTH_PX], Qt.Orientation.Horizontal)
