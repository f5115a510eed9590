"""Qt and magicgui helpers shared by the docks.

Message lines that wrap instead of widening a dock, compact file fields, status-bar and error
messages, ``thread_worker`` start-up and progress, callbacks that do not keep a widget alive, and
the guard that asks before the window closes with unsaved edits.
"""

from __future__ import annotations

import queue
import threading
import weakref

from qtpy.QtCore import QEvent, QObject, Qt
from qtpy.QtWidgets import QLabel, QSizePolicy, QWidget


class _LinesLabel(QLabel):
    """A label as high as ``lines`` lines of its font, the font it gets from the style sheet."""

    def __init__(self, text: str, lines: int):
        super().__init__(text)
        self._lines = lines
        self._fit()

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._fit()

    def _fit(self) -> None:
        m = self.contentsMargins()
        # half a line more: the theme's padding, which the contents margins do not tell
        self.setFixedHeight(int((self._lines + 0.5) * self.fontMetrics().lineSpacing())
                            + m.top() + m.bottom() + 2 * self.margin())


def wrapping_label(text: str = "", *, lines: int | None = None) -> QLabel:
    """A message line that wraps and never widens its dock (a long file name is cut instead).

    ``lines``: the label keeps the height of that many lines whatever its text, so that a new
    message never resizes the widgets below or above it (a resized matplotlib canvas is drawn
    again in full, ~70 ms); a longer text is cut at the bottom."""
    label = _LinesLabel(text, lines) if lines else QLabel(text)
    label.setWordWrap(True)
    label.setMinimumWidth(1)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    if lines:
        label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
    return label


def collect_garbage() -> None:
    """One full garbage collection, after a dock has built a trial's layers and tables.

    Python runs a full collection once the objects made since the last one reach a quarter
    of those it kept then; napari's are many, so with a trial just opened one is due within
    a few key presses and it took 230-280 ms, on whichever key it fell. Collected here, in a
    step that already takes most of a second, the next one is far off.
    """
    import gc

    gc.collect()


def wrap_label(label) -> None:
    """A magicgui Label whose long message wraps (or is cut) instead of widening its dock."""
    label.native.setWordWrap(True)
    label.native.setMinimumWidth(1)
    label.native.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)


def compact_file_edits(*edits) -> None:
    """File fields with a narrow "…" button instead of "Select file": the docks fit a laptop screen."""
    for edit in edits:
        edit.choose_btn.text = "…"
        edit.choose_btn.tooltip = "Choose…"


def line_edit(label: str, value: str):
    """A one-line text field (magicgui ``LineEdit``)."""
    from magicgui.widgets import LineEdit

    return LineEdit(label=label, value=value)


def show_message(viewer, text: str, *, error: bool = False) -> None:
    """Say ``text`` in napari's status bar; a problem (``error``) also as a napari notification.

    Routine messages (one per key press) do not pop up: a notification per key would cover the
    canvas and cost a few ms each.
    """
    try:
        viewer.status = text
    except Exception:  # pragma: no cover - a viewer without a status
        pass
    if error:
        try:
            from napari.utils.notifications import show_warning

            show_warning(text)
        except Exception:  # pragma: no cover - no napari app
            pass


def notify_error(err: Exception) -> None:
    try:
        from napari.utils.notifications import show_error

        show_error(str(err))
    except Exception:  # pragma: no cover - no napari app
        pass


def start_worker(work, *, yielded, returned, errored, button):
    """Start the ``thread_worker`` function ``work`` with its signals connected first.

    ``errored`` takes the worker's errors (shown in the dock's status line instead of
    re-raised in Qt's event loop); ``button`` is enabled again when the worker finishes.
    """
    worker = work(_connect={
        "yielded": yielded, "returned": returned, "errored": errored,
        "finished": lambda: setattr(button, "enabled", True),
    }, _start_thread=False)
    worker.start()
    return worker


def progress_steps(fn):
    """Generator for a ``thread_worker``: runs ``fn(report)`` and yields what it reports.

    ``fn`` is called in a helper thread with a ``report(value)`` callback; every reported
    value is yielded (so the worker's ``yielded`` signal updates the GUI in the main thread)
    and ``fn``'s return value is returned (the worker's ``returned`` signal). Exceptions in
    ``fn`` are re-raised in the worker.
    """
    q: queue.Queue = queue.Queue()
    box: dict = {}

    def target():
        try:
            box["result"] = fn(q.put)
        except BaseException as err:  # re-raised in the worker thread below
            box["error"] = err

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    while thread.is_alive() or not q.empty():
        try:
            yield q.get(timeout=0.05)
        except queue.Empty:
            pass
    if "error" in box:
        raise box["error"]
    return box["result"]


def weak_slot(obj, name: str, *args, pass_args: bool = False):
    """A callback calling ``obj.<name>(*args)`` that does not keep ``obj`` alive.

    Qt and napari hold callbacks strongly; a lambda closing over a widget would keep the
    widget (and through it the viewer) alive after the window closed.
    """
    ref = weakref.ref(obj)

    def slot(*signal_args):
        target = ref()
        if target is not None:
            return getattr(target, name)(*args, *(signal_args if pass_args else ()))

    return slot


#: How long after the last edit a dock autosaves (ms): a key press does not wait for the file
#: write, and a burst of keys writes once. Closing the window, saving and starting another
#: trial write a pending autosave at once.
AUTOSAVE_DELAY_MS = 500


class DebouncedCall:
    """``owner.<name>()`` once, ``delay_ms`` after the last :meth:`request` (a single-shot Qt
    timer owned by ``owner``); :meth:`flush` makes a pending call now, :meth:`cancel` drops it."""

    def __init__(self, owner: QObject, name: str, delay_ms: int = AUTOSAVE_DELAY_MS):
        from qtpy.QtCore import QTimer

        self._timer = QTimer(owner)
        self._timer.setSingleShot(True)
        self._timer.setInterval(int(delay_ms))
        self._call = weak_slot(owner, name)
        self._timer.timeout.connect(self._call)

    @property
    def pending(self) -> bool:
        try:
            return self._timer.isActive()
        except RuntimeError:  # the owner's Qt side is gone
            return False

    def request(self) -> None:
        self._timer.start()

    def cancel(self) -> None:
        if self.pending:
            self._timer.stop()

    def flush(self) -> None:
        if self.pending:
            self._timer.stop()
            self._call()


class CloseGuard(QObject):
    """Event filter on the main window: writes a pending autosave, asks before closing with
    unsaved edits."""

    def __init__(self, widget: QWidget):
        super().__init__()
        self.widget = widget

    def eventFilter(self, obj, event):  # noqa: N802 (Qt API)
        if event.type() == QEvent.Type.Close:
            flush = getattr(self.widget, "flush_autosave", None)
            if flush is not None:
                flush()
            if self.widget.dirty and not self.widget.confirm_close():
                event.ignore()
                return True
        return False


def install_close_guard(widget) -> None:
    """Watch the main window's close once the widget is docked (asks about unsaved edits)."""
    win = widget.window()
    if win is widget or win is None or (widget._guarded is not None and widget._guarded() is win):
        return
    win.installEventFilter(widget._guard)
    widget._guarded = weakref.ref(win)
