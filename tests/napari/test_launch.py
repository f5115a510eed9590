"""`gaitint demo --gui`: napari on the sample with every widget docked, fitting a laptop screen."""

from __future__ import annotations

import pytest
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QApplication, QDockWidget, QTabBar

pytestmark = pytest.mark.napari

OUR_DOCKS = ("Load", "QA", "Events", "Clean", "Detect", "Stats")


def test_open_viewer_on_sample_fits_a_laptop_screen(sample_manifest, tmp_path, qtbot, monkeypatch):
    """At 1280 x 800 the canvas keeps more than half of the window with all docks open; the docks
    are tabs of one column with Load in front and whole titles; the window does not grow."""
    from gui_user import copy_trial

    from napari_gaitint._napari._annotate import EventAnnotator
    from napari_gaitint._napari._launch import open_viewer_on_sample
    from napari_gaitint._napari._qa import QAWidget

    for cls in (QAWidget, EventAnnotator):
        monkeypatch.setattr(cls, "confirm_prompt", staticmethod(lambda text: True))
        monkeypatch.setattr(cls, "close_prompt", staticmethod(lambda: "discard"))
    # a demo folder holding a copy of the sample trial (the sessions below write next to it)
    copy_trial(tmp_path / "sample", sample_manifest).to_csv(tmp_path / "sample" / "trials.csv", index=False)
    viewer = open_viewer_on_sample(tmp_path, run=False, size=(1280, 800))
    try:
        window = viewer.window._qt_window
        window.show()
        qtbot.waitUntil(window.isVisible)
        qtbot.wait(200)
        names = {lay.name for lay in viewer.layers}
        assert {"T01 C1 video", "T01 C3 video", "T01 C1 keypoints", "T01 C3 keypoints"} <= names
        assert set(OUR_DOCKS) <= set(viewer.window.dock_widgets)
        docks = {d.windowTitle(): d for d in window.findChildren(QDockWidget)}
        load = docks["Load"]
        group = set(window.tabifiedDockWidgets(load)) | {load}
        assert {docks[n] for n in OUR_DOCKS} <= group  # one tab group
        assert not load.visibleRegion().isEmpty()  # Load in front
        assert all(docks[n].visibleRegion().isEmpty() for n in OUR_DOCKS[1:])
        # the window stays on a 1280 x 800 screen; the canvas keeps more than half of it
        assert window.width() <= 1280 and window.height() <= 800
        canvas = viewer.window._qt_viewer.canvas.native
        share = canvas.width() * canvas.height() / (window.width() * window.height())
        assert share > 0.5, share
        # every tab title is shown whole (the tabs run along the column's side)
        bars = [b for b in window.findChildren(QTabBar) if b.isVisible() and b.count() >= len(OUR_DOCKS)]
        assert bars
        bar = bars[0]
        metrics = bar.fontMetrics()
        for i in range(bar.count()):
            rect = bar.tabRect(i)
            assert max(rect.width(), rect.height()) > metrics.horizontalAdvance(bar.tabText(i)), bar.tabText(i)
        # the trial drop-down shows its value, after the layers came in
        loader = viewer.window.dock_widgets["Load"]
        assert loader.trial.native.currentText() == "T01" and list(loader.trial.choices) == ["T01"]
        # a QA and an events session (zoom, the other view's picture, long messages) keep the layout
        qa, events = viewer.window.dock_widgets["QA"], viewer.window.dock_widgets["Events"]
        for dock, name in ((qa, "QA"), (events, "Events")):
            docks[name].raise_()
            qtbot.mouseClick(dock.start_button, Qt.MouseButton.LeftButton)
        qa.next_suspect()
        qtbot.mouseClick(qa.save_button, Qt.MouseButton.LeftButton)
        assert "saved" in qa.status.text()
        qtbot.wait(100)
        share = canvas.width() * canvas.height() / (window.width() * window.height())
        assert share > 0.5 and window.width() <= 1280 and window.height() <= 800, share
    finally:
        viewer.close()
        QApplication.processEvents()


def test_demo_gui_opens_existing_results_without_running_again(tmp_path, monkeypatch, capsys):
    """`gaitint demo --gui` after `gaitint demo`: the results are opened as they are (no
    --overwrite needed, nothing computed again, no file touched)."""
    from napari_gaitint import cli
    from napari_gaitint._napari import _launch
    from napari_gaitint.synthetic import demo

    results = tmp_path / "demo" / "results"
    results.mkdir(parents=True)
    (results / "events.csv").write_text("trial,view,side,event,frame,time_s,source\n")
    before = (results / "events.csv").stat().st_mtime_ns
    opened, ran = [], []
    monkeypatch.setattr(_launch, "open_viewer_on_sample", lambda out_dir, **kw: opened.append(out_dir))
    monkeypatch.setattr(demo, "run_demo", lambda *a, **kw: ran.append(a))
    assert cli.main(["demo", str(tmp_path / "demo"), "--gui"]) == 0
    assert opened == [tmp_path / "demo"] and ran == []
    assert (results / "events.csv").stat().st_mtime_ns == before
    assert "opening the demo results" in capsys.readouterr().out
