"""What the docked plots share: a matplotlib canvas that follows the viewer's frame.

:class:`FramePlot` draws the current frame as a vertical line on the plot's frame axis,
moves it when the frame slider moves, and moves the slider to the frame clicked on that
axis. The event-signal plot (:class:`~napari_gaitint._napari._detect.EventsPlot`) and the
joint-angle plot (:class:`~napari_gaitint._napari._angles.AnglesPlot`) are built on it.
"""

from __future__ import annotations

import weakref


class FramePlot:
    """Base of a docked matplotlib plot following the viewer's current frame.

    A subclass calls :meth:`_make_canvas` first, draws on :attr:`figure`, then calls
    :meth:`_follow` with the axes whose x is the frame; :meth:`_update` redraws what else
    depends on the frame.
    """

    _last = None  # weak reference to the most recent plot of each class (never keeps a viewer alive)

    @classmethod
    def latest(cls):
        """The most recently created plot of this class, if it still exists (for tests and
        scripting)."""
        return cls._last() if cls._last is not None else None

    def _make_canvas(self, viewer, *, figsize: tuple[float, float], min_height: int,
                     min_width: int | None = None, **figure_kw) -> None:
        """Set :attr:`viewer`, :attr:`figure` and its Qt :attr:`canvas`."""
        from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
        from matplotlib.figure import Figure

        self.viewer = viewer
        self.figure = Figure(figsize=figsize, **figure_kw)
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setMinimumHeight(min_height)
        if min_width is not None:
            self.canvas.setMinimumWidth(min_width)

    def _follow(self, frame_ax) -> None:
        """Draw the current-frame line on ``frame_ax``, follow the slider, jump on a click."""
        self.frame_ax = frame_ax
        self.line = frame_ax.axvline(float(self.viewer.dims.current_step[0]), color="k", lw=1)
        self._on_step()
        self.canvas.mpl_connect("button_press_event", self._on_click)
        self.viewer.dims.events.current_step.connect(self._on_step)
        self.native_widget = self.canvas
        # napari holds event callbacks weakly: the docked canvas keeps the plot alive.
        self.canvas._gaitint_plot = self
        type(self)._last = weakref.ref(self)

    def _update(self) -> None:
        """Redraw what depends on the current frame besides its line (nothing here)."""

    def _on_step(self, event=None):
        try:
            self.line.set_xdata([self.viewer.dims.current_step[0]] * 2)
            self._update()
            self.canvas.draw_idle()
        except RuntimeError:  # canvas deleted
            pass

    def _on_click(self, event):
        if event.inaxes is self.frame_ax and event.xdata is not None:
            self.jump_to(event.xdata)

    def jump_to(self, frame: float) -> None:
        """Move the viewer's frame slider to ``frame`` (rounded)."""
        self.viewer.dims.set_current_step(0, int(round(frame)))
