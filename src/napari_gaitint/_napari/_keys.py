"""Our keys as napari actions: one table, one meaning per key across the Label QA and event docks.

Each entry of :data:`KEY_ACTIONS` is registered with napari's action manager as
``napari-gaitint:<id>`` on the viewer (``keymapprovider=ViewerModel``), so it

* works on the canvas whichever layer is selected (our points layers, the keypoints, tracks;
  a selected *image* layer's own keys - napari's X, Y, Z, O, C, 1, 2 - come first, none of
  which we use),
* is listed, and can be rebound, in napari's Preferences > Shortcuts ("Viewer key
  bindings"); a binding the user chose there is kept (napari stores it in its settings),
* works when one of our docks has the keyboard focus (a suspect row just clicked, a button):
  :func:`forward_keys` passes our keys from the dock's widgets to the same actions, through
  the bindings in force (a rebound key follows).

An action runs on the dock of the viewer the key was pressed in (:func:`register_dock`);
undo and redo go to the dock whose edit is the most recent.
"""

from __future__ import annotations

import dataclasses
import itertools
import weakref

from napari.viewer import Viewer
from qtpy.QtCore import QEvent, QObject, Qt
from qtpy.QtWidgets import QAbstractSpinBox, QComboBox, QLineEdit, QTextEdit, QWidget

PREFIX = "napari-gaitint"


@dataclasses.dataclass(frozen=True)
class KeyAction:
    """One of our keys: ``id`` (action ``napari-gaitint:<id>``), default ``key``, what it does,
    the dock method it calls and which docks have it (``"qa"``, ``"events"``)."""

    id: str
    key: str
    description: str
    method: str
    docks: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{PREFIX}:{self.id}"


#: Every key of our docks, one meaning each.
KEY_ACTIONS: tuple[KeyAction, ...] = (
    KeyAction("next_suspect", "N", "Label QA: next suspect", "next_suspect", ("qa",)),
    KeyAction("previous_suspect", "B", "Label QA: previous suspect", "previous_suspect", ("qa",)),
    KeyAction("accept_and_next", "Enter", "Label QA: accept frame as reviewed, go to the next unreviewed",
              "accept_and_next", ("qa",)),
    KeyAction("far_leg", "W", "Label QA: selected label is on the far leg - put it on the near leg",
              "mark_far_leg", ("qa",)),
    KeyAction("far_leg_frame", "Shift-W", "Label QA: every suspect leg label of this frame is on the far leg (the "
              "whole leg swapped) - put them on the near leg", "mark_far_leg_frame", ("qa",)),
    KeyAction("toggle_zoom", "F", "Label QA: zoom on the suspect / back to both views", "toggle_zoom", ("qa",)),
    KeyAction("add_heel_strike", "H", "Events: add heel strike (selected side, current frame)",
              "add_heel_strike", ("events",)),
    KeyAction("add_toe_off", "T", "Events: add toe off (selected side, current frame)", "add_toe_off", ("events",)),
    KeyAction("delete_event", "D", "Events: delete the selected side's event at (near) the current frame",
              "delete_nearest", ("events",)),
    KeyAction("nudge_back", ",", "Events: move that event one frame earlier", "nudge_back", ("events",)),
    KeyAction("nudge_forward", ".", "Events: move that event one frame later", "nudge_forward", ("events",)),
    KeyAction("previous_event", "[", "Events: go to the previous event", "previous_event", ("events",)),
    KeyAction("next_event", "]", "Events: go to the next event", "next_event", ("events",)),
    KeyAction("select_left", "L", "Events: select the left side", "select_left", ("events",)),
    KeyAction("select_right", "R", "Events: select the right side", "select_right", ("events",)),
    KeyAction("undo", "Control-Z", "Undo the last label or event edit (and go to its frame)", "undo",
              ("qa", "events")),
    KeyAction("redo", "Control-Shift-Z", "Redo the last undone label or event edit", "redo", ("qa", "events")),
)
ACTIONS: dict[str, KeyAction] = {a.id: a for a in KEY_ACTIONS}

_registered = False
_bound: dict[str, list] = {}  # action name -> KeyBindings in force (followed through napari's events)
_docks: list[weakref.ref] = []
_stamps = itertools.count(1)  # orders edits across docks for undo/redo


def next_stamp() -> int:
    """A number larger than every one given before (docks stamp their edits with it)."""
    return next(_stamps)


def register_key_actions() -> None:
    """Register :data:`KEY_ACTIONS` with napari's action manager (once per process).

    The default key is bound unless the user's napari settings hold a binding for the
    action (chosen in Preferences > Shortcuts), which is used instead.
    """
    global _registered
    if _registered:
        return
    from napari.components import ViewerModel
    from napari.settings import get_settings
    from napari.utils.action_manager import action_manager
    from napari.utils.key_bindings import coerce_keybinding

    _registered = True
    action_manager.events.shortcut_changed.connect(_on_shortcut_changed)
    chosen = get_settings().shortcuts.shortcuts
    for action in KEY_ACTIONS:
        action_manager.register_action(action.name, _command(action.id), action.description, ViewerModel)
        keys = list(chosen[action.name]) if action.name in chosen else [action.key]
        _bound[action.name] = []
        for key in keys:
            action_manager.bind_shortcut(action.name, key)
            kb = coerce_keybinding(key)
            if kb not in _bound[action.name]:  # bound before we listened (napari's start-up)
                _bound[action.name].append(kb)


def _on_shortcut_changed(event) -> None:
    from napari.utils.key_bindings import coerce_keybinding

    if event.name not in _bound:
        return
    if not event.shortcut:  # napari unbinds all of an action's keys at once
        _bound[event.name] = []
    else:
        kb = coerce_keybinding(event.shortcut)
        if kb not in _bound[event.name]:
            _bound[event.name].append(kb)
    for ref in list(_docks):  # buttons and help lines name the keys in force
        dock = ref()
        if dock is not None and hasattr(dock, "_update_help"):
            try:
                dock._update_help()
            except RuntimeError:  # its Qt side is gone
                pass


def bound_keys(action_id: str) -> list[str]:
    """The keys in force for an action, as napari writes them (``"Ctrl+Z"``)."""
    from napari.utils.interactions import Shortcut

    return [str(Shortcut(kb)) for kb in _bound.get(ACTIONS[action_id].name, [])]


def key_label(action_id: str) -> str:
    """The first key in force for an action, for button texts (``""`` if unbound)."""
    keys = bound_keys(action_id)
    return keys[0] if keys else ""


def _command(action_id: str):
    def command(viewer: Viewer) -> None:
        dispatch(viewer, action_id)

    # napari lists the active shortcuts by the names of the bound functions
    command.__name__ = command.__qualname__ = f"gaitint_{action_id}"
    return command


# ---------------------------------------------------------------------------------------
# docks
# ---------------------------------------------------------------------------------------
def _unwrap(obj):
    """The object behind napari's plugin proxies."""
    return getattr(obj, "__wrapped__", obj)


def register_dock(widget) -> None:
    """Make ``widget`` (with ``.viewer`` and ``DOCK`` = ``"qa"``/``"events"``) receive our actions."""
    register_key_actions()
    _docks[:] = [r for r in _docks if r() is not None and r() is not widget]
    _docks.append(weakref.ref(widget))
    forward_keys(widget)


def docks_of(viewer) -> list:
    """Our live docks on ``viewer``, the most recently registered last."""
    target = _unwrap(viewer)
    out = []
    for ref in list(_docks):
        dock = ref()
        if dock is None:
            _docks.remove(ref)
        elif _unwrap(dock.viewer) is target:
            out.append(dock)
    return out


def dispatch(viewer, action_id: str) -> None:
    """Run action ``action_id`` on the right dock of ``viewer``."""
    action = ACTIONS[action_id]
    docks = [d for d in docks_of(viewer) if d.DOCK in action.docks]
    if action_id in ("undo", "redo"):
        attr = "undo_stamp" if action_id == "undo" else "redo_stamp"
        ranked = sorted(docks, key=lambda d: getattr(d, attr)())
        if not ranked or not getattr(ranked[-1], attr)():
            _info(f"nothing to {action_id}")
            return
        getattr(ranked[-1], action.method)()
        return
    if not docks:
        where = "Label QA" if "qa" in action.docks else "Annotate gait events"
        _info(f"{action.description}: open the {where} dock (Plugins > napari-gaitint) and start it first")
        return
    getattr(docks[-1], action.method)()


def _info(text: str) -> None:
    from napari.utils.notifications import show_info

    show_info(text)


# ---------------------------------------------------------------------------------------
# keys pressed in our docks
# ---------------------------------------------------------------------------------------
_MODIFIER_KEYS = (Qt.Key.Key_Shift, Qt.Key.Key_Control, Qt.Key.Key_Meta, Qt.Key.Key_Alt, Qt.Key.Key_AltGr,
                  Qt.Key.Key_CapsLock, Qt.Key.Key_unknown)


def keybinding_of(event):
    """The app-model KeyBinding of a Qt key event (``None`` for a lone modifier)."""
    from app_model.backends.qt import qkeysequence2modelkeybinding
    from qtpy.QtGui import QKeySequence

    if event.key() in _MODIFIER_KEYS:
        return None
    try:
        combo = event.keyCombination()  # Qt 6
    except AttributeError:  # pragma: no cover - Qt 5
        combo = int(event.modifiers()) | int(event.key())
    try:
        return qkeysequence2modelkeybinding(QKeySequence(combo))
    except Exception:  # a key app-model has no name for
        return None


class _DockKeys(QObject):
    """Event filter on a dock's widgets: our keys pressed there run our actions."""

    def __init__(self, widget):
        super().__init__(widget)
        self._widget = weakref.ref(widget)

    def eventFilter(self, obj, event):  # noqa: N802 (Qt API)
        if event.type() != QEvent.Type.KeyPress or _typing_into(obj):
            return False
        widget = self._widget()
        kb = keybinding_of(event) if widget is not None else None
        if kb is None:
            return False
        for name, keys in _bound.items():
            if kb in keys:
                dispatch(widget.viewer, name.split(":", 1)[1])
                return True
        return False


def _typing_into(obj) -> bool:
    """A text field (or an editable combo box) takes its own keys."""
    if isinstance(obj, QLineEdit | QTextEdit | QAbstractSpinBox):
        return True
    return isinstance(obj, QComboBox) and obj.isEditable()


def forward_keys(widget: QWidget) -> None:
    """Watch the keys pressed in ``widget`` and its children (made so far) for our actions."""
    filt = getattr(widget, "_gaitint_keys", None)
    if filt is None:
        filt = widget._gaitint_keys = _DockKeys(widget)
    for w in (widget, *widget.findChildren(QWidget)):
        w.installEventFilter(filt)
