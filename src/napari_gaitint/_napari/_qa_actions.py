"""The actions of the Label QA dock (:class:`._qa.QAWidget`), called by its buttons and keys
(:mod:`._keys`): walking the suspects, accepting a frame, the far leg, placing and deleting
points, undo and redo. A mixin of the widget: the methods use its sessions and layers."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from qtpy.QtCore import QModelIndex

from ..core import clean_flags as core_clean_flags
from ..core.config import LEG_CHAIN
from ._keys import next_stamp

if TYPE_CHECKING:
    from ._qa import ViewSession


def same_layer(a, b) -> bool:
    """Identity of layers seen through napari's plugin proxies."""
    return a is not None and b is not None and getattr(a, "__wrapped__", a) is getattr(b, "__wrapped__", b)


def make_active(viewer, layer) -> None:
    """Select ``layer`` alone (its controls shown) unless it is so already (a change of the
    active layer makes napari rebuild the layer controls: 10-20 ms of a key press)."""
    selection = viewer.layers.selection
    if not (same_layer(selection.active, layer) and len(selection) == 1):
        selection.active = layer


class QAActions:
    """Buttons and keys of :class:`._qa.QAWidget` (mixed into it)."""

    # ------------------------------------------------------------------------------------
    # actions (buttons and keys)
    # ------------------------------------------------------------------------------------
    def _current_frame(self) -> int:
        return int(self.viewer.dims.current_step[0])

    def _active_session(self) -> ViewSession | None:
        active = self.viewer.layers.selection.active
        for s in self.sessions.values():
            if same_layer(active, s.layer):
                return s
        if self.review is not None and 0 <= self.review.position < self.review.n:
            s = self.sessions.get(self.review.key(self.review.position)[0])
            if s is not None:
                return s
        return next(iter(self.sessions.values()), None)

    def _started(self) -> bool:
        if self.review is None:
            self._notify("press Start QA first (the trial in the viewer)", error=True)
            return False
        return True

    def _show(self, key) -> None:
        if key is None:
            self._notify("no more suspects in that direction")
            return
        view, frame = key
        self._showing = True  # the picker and the other view's picture are updated once, below
        try:
            self.viewer.dims.set_current_step(0, int(frame))
        finally:
            self._showing = False
        s = self.sessions.get(view)
        inset_done = False
        if s is not None and s.layer is not None:
            make_active(self.viewer, s.layer)
            # one point selected (the most suspect one there); the others stay visible
            for part in self._parts.get((view, int(frame)), []):
                i = self._index_of(s, int(frame), part)
                if i is not None:
                    s.layer.selected_data = {i}
                    break
            else:
                s.layer.selected_data = set()
            if self.zoom_box.isChecked():
                inset_done = self._zoom_on(s)
        if not inset_done and self.inset.isVisible():  # what _on_step does on a frame change
            a = self._active_session()
            if a is not None:
                self._update_inset(a.view, self._current_frame())
        self.table.selectRow(self.review.position)
        self._update_counter()
        self._update_picker()

    def next_suspect(self) -> None:
        if self._started():
            self._show(self.review.next())

    def previous_suspect(self) -> None:
        if self._started():
            self._show(self.review.previous())

    def _on_cell_clicked(self, index: QModelIndex) -> None:
        self.go_to(index.row())

    def go_to(self, row: int) -> None:
        if self.review is not None and 0 <= row < self.review.n:
            self._show(self.review.go_to(row))

    def accept(self) -> tuple[str, int] | None:
        """Accept the current frame (of the current suspect's view, else the active layer's view)."""
        if not self._started():
            return None
        frame = self._current_frame()
        if 0 <= self.review.position < self.review.n and self.review.key(self.review.position)[1] == frame:
            key = self.review.key(self.review.position)
        else:
            s = self._active_session()
            key = (s.view if s else "", frame)
        self.review.accept(*key)
        pos = self.review.index_of(*key)
        if pos is not None:
            self.table.model().row_changed(pos)
        self.autosave()
        self._update_counter()
        return key

    def accept_and_next(self) -> None:
        if self.accept() is None:
            return
        if self.review.k < self.review.n:
            start = self.review.position
            key = self.review.next(unreviewed_only=True)
            if key is None:  # wrap around to earlier unreviewed frames
                self.review.position = -1
                key = self.review.next(unreviewed_only=True)
                if key is None:
                    self.review.position = start
            self._show(key)

    def _selected(self, s: ViewSession) -> list[tuple[int, str]]:
        return [self._point_key(s, i) for i in sorted(s.layer.selected_data) if i < len(s.layer.data)]

    def mark_far_leg(self) -> None:
        """"Far leg": the selected label lies on the far leg; put it on the near leg.

        It goes where its own track says it should be (from the trusted frames around it);
        where that is unknown the point becomes missing and one click places it (add mode,
        that body part armed)."""
        if not self._started():
            return
        s = self._active_session()
        keys = self._selected(s) if s is not None else []
        if not keys:
            self._notify("select the point that sits on the far leg first (N selects the suspect)")
            return
        frame, label = keys[0]
        if len(keys) > 1:
            self._notify("one point at a time: the first selected is fixed")
        if label not in LEG_CHAIN and label not in (s.editor.far.bodyparts if s.editor.far is not None else ()):
            self._notify(f"{label} is not on the leg chain; drag it, or place it with the picker")
            return
        outcome = s.editor.mark_far_leg(frame, label)
        self._history.append((next_stamp(), s.view))
        self._redo_history = []
        self._render(s, select=(frame, label))
        self._after_edit(s)
        if outcome == "missing":
            self.place(label, view=s.view)
            self._notify(f"{s.view}: {label} moved to the far leg; its near position is unknown here - "
                         "click where it is")
        else:
            self._notify(f"{s.view}: {label} moved to the near leg (from its neighbours); the label went "
                         "to the far leg")

    def mark_far_leg_frame(self) -> None:
        """Every leg label of this frame that the list judges to lie on the far leg (wrong limb,
        other view) - a whole leg swapped - goes to the far leg and back on the near leg, as
        one action; where a near position is unknown, one click places the first of them."""
        if not self._started():
            return
        s = self._active_session()
        frame = self._current_frame()
        chain = set(LEG_CHAIN) | set(s.editor.far.bodyparts if s.editor.far is not None else ())
        parts = [b for b in self._far_parts.get((s.view, frame), []) if b in chain]
        if not parts:
            self._notify(f"{s.view}: no leg label of frame {frame} is judged to be on the far leg; "
                         "select one and use far leg on it", error=True)
            return
        s.editor.batch([{"op": "far_leg", "frame": frame, "bodypart": b} for b in parts])
        self._history.append((next_stamp(), s.view))
        self._redo_history = []
        row = s.editor.row(frame)
        missing = [b for b in parts if not np.isfinite(s.editor.pose.bodypart(b)[row, :2]).all()]
        self._render(s, select=(frame, parts[0]))
        self._after_edit(s)
        if missing:
            self.place(missing[0], view=s.view)
        self._notify(f"{s.view}: {', '.join(parts)} moved to the near leg (from their neighbours)"
                     + (f"; click where the {missing[0]} is" if missing else ""))

    def place(self, part: str, *, view: str | None = None) -> None:
        """Arm one click to place ``part`` in the current frame (moved there if it exists)."""
        if not self._started():
            return
        s = self.sessions.get(view) if view else self._active_session()
        if s is None or part not in s.editor.pose.bodyparts:
            self._notify(f"no body part {part!r} in this view", error=True)
            return
        make_active(self.viewer, s.layer)
        defaults = s.layer.feature_defaults
        row = defaults.iloc[0].to_dict() if len(defaults) else {}
        row.update({"label": part, "likelihood": 1.0, "flags": core_clean_flags.FLAG_MANUAL, "status": "manual"})
        s.layer.feature_defaults = {k: v for k, v in row.items() if k in s.layer.features.columns}
        s.layer.selected_data = set()
        s.layer.mode = "add"
        self._placing = (s.view, part)
        self._notify(f"{s.view}: click where the {part} is in frame {self._current_frame()}")
        self._update_picker()

    def delete_selected(self) -> None:
        s = self._active_session()
        if s is not None and s.layer.selected_data:
            s.layer.remove_selected()  # goes through _on_data like the Delete key

    def undo_stamp(self) -> int:
        return self._history[-1][0] if self._history else 0

    def redo_stamp(self) -> int:
        return self._redo_history[-1][0] if self._redo_history else 0

    def undo(self) -> None:
        """Undo the last correction (all of one drag or key press) and go to its frame."""
        self._step_history(self._history, self._redo_history, "undo")

    def redo(self) -> None:
        self._step_history(self._redo_history, self._history, "redo")

    def _step_history(self, source: list, target: list, which: str) -> None:
        if not source:
            self._notify(f"nothing to {which}")
            return
        stamp, view = source.pop()
        s = self.sessions[view]
        op = getattr(s.editor, which)()
        if op is None:
            self._notify(f"nothing to {which}")
            return
        target.append((stamp, view))
        if op.get("op") == "batch":
            op = op["ops"][0]
        frame, part = int(op.get("frame", self._current_frame())), str(op.get("bodypart", ""))
        self.viewer.dims.set_current_step(0, frame)
        make_active(self.viewer, s.layer)
        self._render(s, select=(frame, part))
        self._after_edit(s)
        self._notify(f"{which}: {op['op'].replace('_', ' ')} of {part} in frame {frame}")
