"""Gait-event annotation: edit, merge, save and recover an events table. Pure pandas.

An events table has one row per event with the columns :data:`EVENT_COLUMNS`:

``trial``, ``view``, ``side`` (``left``/``right``), ``event`` (``heel_strike``/``toe_off``),
``frame`` (float; detections may be fractional, manual events sit on whole frames),
``time_s`` (``frame / fps``) and ``source`` (``detected`` by :func:`detect_events`, or
``manual`` when a person added or moved it).

Every edit function returns a NEW table (inputs are never modified). Editing or deleting a
detected event records it in a ``rejected`` table, so re-running detection can never bring
back an event the user removed nor duplicate one the user moved; :func:`merge_detected_events`
keeps every manual event and reports what it replaced.

Files: :func:`save_events` writes ``events.csv`` atomically (and ``<stem>.rejected.csv``
when there are rejected detections); :func:`autosave_events` keeps unsaved edits in a sidecar
``<stem>.gaitint-autosave.json`` (:mod:`.edits`) that :func:`recover_events` recovers after a
crash.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from ._files import write_text_atomic
from ._frames import EXACT_FLOATS
from .edits import EditHistory, read_autosave, write_autosave
from .errors import InputFileError

#: Columns of an events table, in file order.
EVENT_COLUMNS: tuple[str, ...] = ("trial", "view", "side", "event", "frame", "time_s", "source")


#: Event names.
EVENT_TYPES: tuple[str, ...] = ("heel_strike", "toe_off")


SIDES: tuple[str, ...] = ("left", "right")


SOURCES: tuple[str, ...] = ("detected", "manual")


def empty_events() -> pd.DataFrame:
    """An events table with no rows and the right columns and dtypes."""
    return _typed(pd.DataFrame({c: [] for c in EVENT_COLUMNS}))


def _plain_text(column: pd.Series) -> bool:
    """An object column holding only ``str`` values (what the conversion below makes of it)."""
    return column.dtype == object and all(type(v) is str for v in column.to_numpy())


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    # other columns (e.g. the detector's confidence and why) are kept, after ours, as they are
    extra = [c for c in df.columns if c not in EVENT_COLUMNS and not str(c).startswith("_")]
    out = df.loc[:, [*EVENT_COLUMNS, *extra]].copy()
    # columns already of their type are left as they are (the conversions would give the same
    # values): an edit types its small tables several times, ~1 ms each with the conversions
    for c in ("trial", "view", "side", "event", "source"):
        if not _plain_text(out[c]):
            out[c] = out[c].fillna("").astype(str).astype(object)
    if out["frame"].dtype != np.float64:
        out["frame"] = pd.to_numeric(out["frame"], errors="raise").astype(float)
    if out["time_s"].dtype != np.float64:
        out["time_s"] = pd.to_numeric(out["time_s"], errors="coerce").astype(float)
    for c in extra:  # a text column reads back with "" for missing, a number column with NaN
        if not pd.api.types.is_numeric_dtype(out[c]):
            given = out[c].mask(out[c].eq(""))  # "" as missing
            numbers = pd.to_numeric(given, errors="coerce")
            if numbers.notna().sum() == given.notna().sum():
                out[c] = numbers.astype(float)
            else:
                out[c] = out[c].fillna("").astype(str).astype(object)
    return out


def sort_events(events: pd.DataFrame) -> pd.DataFrame:
    """Events sorted by trial, side, frame, event; index reset; columns and dtypes of :data:`EVENT_COLUMNS`."""
    out = _typed(events)
    if not out.empty:
        out = out.sort_values(["trial", "side", "frame", "event"], kind="stable")
    return out.reset_index(drop=True)


def normalize_events(
    events: pd.DataFrame,
    *,
    trial: str | None = None,
    view: str | None = None,
    fps: float | None = None,
    source: str = "detected",
    side_views: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Bring an events table (e.g. from ``detect_events``) to :data:`EVENT_COLUMNS`.

    Parameters
    ----------
    events
        At least ``side``, ``event``, ``frame``; other columns are filled in.
    trial, view
        Values for missing ``trial``/``view`` columns.
    fps
        Frame rate (frames/s) to compute a missing ``time_s``.
    source
        Value for a missing ``source`` column.
    side_views
        ``{side: view}`` used when ``view`` is missing and not given (e.g. left -> C1).

    Examples
    --------
    >>> ev = pd.DataFrame({"side": ["left"], "event": ["heel_strike"], "frame": [12.4]})
    >>> normalize_events(ev, trial="T01", view="C1", fps=25.0).iloc[0].to_dict()["time_s"]
    0.496
    """
    df = events.copy()
    missing = {"side", "event", "frame"} - set(df.columns)
    if missing:
        raise ValueError(f"events table lacks column(s) {sorted(missing)}")
    if "trial" not in df:
        df["trial"] = trial or ""
    if "view" not in df:
        if view is not None:
            df["view"] = view
        elif side_views:
            df["view"] = [side_views.get(s, "") for s in df["side"]]
        else:
            df["view"] = ""
    if "time_s" not in df:
        df["time_s"] = df["frame"].astype(float) / fps if fps else np.nan
    if "source" not in df:
        df["source"] = source
    out = _typed(df)
    bad = set(out["event"]) - set(EVENT_TYPES)
    if bad:
        raise ValueError(f"unknown event name(s) {sorted(bad)}; expected {list(EVENT_TYPES)}")
    return sort_events(out)


def _time(frame: float, fps: float | None) -> float:
    return float(frame) / float(fps) if fps else float("nan")


def add_event(
    events: pd.DataFrame,
    *,
    side: str,
    event: str,
    frame: float,
    fps: float | None = None,
    trial: str = "",
    view: str = "",
) -> pd.DataFrame:
    """Add a manual event; an identical event (same trial, side, event, frame) is not duplicated.

    Examples
    --------
    >>> ev = add_event(empty_events(), side="left", event="heel_strike", frame=10, fps=25.0)
    >>> ev[["side", "event", "frame", "source"]].values.tolist()
    [['left', 'heel_strike', 10.0, 'manual']]
    """
    if event not in EVENT_TYPES:
        raise ValueError(f"event must be one of {EVENT_TYPES}, not {event!r}")
    if side not in SIDES:
        raise ValueError(f"side must be one of {SIDES}, not {side!r}")
    same = (
        (events["trial"] == trial)
        & (events["side"] == side)
        & (events["event"] == event)
        & np.isclose(events["frame"].to_numpy(float), float(frame))
    )
    if bool(np.any(same)):
        return sort_events(events.copy())
    row = pd.DataFrame(
        [
            {
                "trial": trial,
                "view": view,
                "side": side,
                "event": event,
                "frame": float(frame),
                "time_s": _time(frame, fps),
                "source": "manual",
            }
        ]
    )
    return sort_events(pd.concat([_typed(events), _typed(row)], ignore_index=True))


def nearest_event(
    events: pd.DataFrame,
    frame: float,
    *,
    side: str | None = None,
    event: str | None = None,
    trial: str | None = None,
    max_distance_frames: float | None = None,
) -> int | None:
    """Row position (``iloc``) of the event nearest to ``frame``; ``None`` if none qualifies.

    Ties go to the earlier event. ``side``/``event``/``trial`` restrict the candidates.
    """
    mask = np.ones(len(events), bool)
    for col, val in (("side", side), ("event", event), ("trial", trial)):
        if val is not None:
            mask &= events[col].to_numpy() == val
    if not mask.any():
        return None
    frames = events["frame"].to_numpy(float)
    dist = np.where(mask, np.abs(frames - float(frame)), np.inf)
    pos = int(np.argmin(dist))
    if max_distance_frames is not None and dist[pos] > max_distance_frames:
        return None
    return pos


def _reject(rejected: pd.DataFrame | None, row: pd.DataFrame) -> pd.DataFrame:
    rejected = empty_events() if rejected is None else _typed(rejected)
    if row["source"].iloc[0] != "detected":
        return rejected
    return sort_events(pd.concat([rejected, _typed(row)], ignore_index=True))


def delete_nearest_event(
    events: pd.DataFrame,
    frame: float,
    *,
    side: str | None = None,
    trial: str | None = None,
    max_distance_frames: float | None = None,
    rejected: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series | None]:
    """Delete the event nearest to ``frame``.

    Returns
    -------
    events
        The table without it.
    rejected
        ``rejected`` plus the deleted row if it was a detected event (so re-detection
        does not bring it back).
    removed
        The deleted row, or ``None`` when no event qualified (tables unchanged).
    """
    rejected = empty_events() if rejected is None else _typed(rejected)
    pos = nearest_event(events, frame, side=side, trial=trial, max_distance_frames=max_distance_frames)
    if pos is None:
        return sort_events(events.copy()), rejected, None
    row = events.iloc[[pos]]
    out = events.drop(index=events.index[pos])
    return sort_events(out), _reject(rejected, row), row.iloc[0].copy()


def nudge_event(
    events: pd.DataFrame,
    position: int,
    delta_frames: float,
    *,
    fps: float | None = None,
    rejected: pd.DataFrame | None = None,
    n_frames: int | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Move the event at row ``position`` by ``delta_frames``; it becomes ``manual``.

    The new frame is rounded to a whole frame (a person places events on frames) and kept in
    ``0 .. n_frames-1`` when ``n_frames`` is given.

    Returns
    -------
    events, rejected, new_position
        The new table (sorted), the rejected detections (plus the original if it was
        detected) and the row position of the moved event in the new table.
    """
    rejected = empty_events() if rejected is None else _typed(rejected)
    row = events.iloc[[position]].copy()
    old = float(row["frame"].iloc[0])
    new = float(np.rint(old + delta_frames)) if delta_frames else old
    if n_frames is not None:
        new = float(np.clip(new, 0, n_frames - 1))
    rejected = _reject(rejected, row)
    moved = row.copy()
    moved["frame"] = new
    moved["time_s"] = _time(new, fps) if fps else (
        row["time_s"].iloc[0] * new / old if old else np.nan
    )
    moved["source"] = "manual"
    rest = events.drop(index=events.index[position])
    out = pd.concat([_typed(rest), _typed(moved)], ignore_index=True)
    out["_new"] = False
    out.loc[out.index[-1], "_new"] = True
    m = out.iloc[-1]  # moved onto an identical event (as add_event would not duplicate): merge
    twin = ((out["trial"] == m["trial"]) & (out["side"] == m["side"]) & (out["event"] == m["event"])
            & np.isclose(out["frame"].to_numpy(float), new) & ~out["_new"])
    out = out[~twin.to_numpy()]
    out = out.sort_values(["trial", "side", "frame", "event"], kind="stable").reset_index(drop=True)
    pos = int(np.flatnonzero(out["_new"].to_numpy())[0])
    return _typed(out.drop(columns="_new")), rejected, pos


def next_event_frame(
    events: pd.DataFrame, frame: float, *, side: str | None = None, backwards: bool = False
) -> float | None:
    """Frame of the first event strictly after (``backwards``: before) ``frame``; ``None`` at the end."""
    frames = events["frame"].to_numpy(float)
    if side is not None:
        frames = frames[events["side"].to_numpy() == side]
    rounded = np.rint(frames)
    if backwards:
        cand = frames[rounded < np.rint(frame)]
        return float(cand.max()) if cand.size else None
    cand = frames[rounded > np.rint(frame)]
    return float(cand.min()) if cand.size else None


def previous_event_frame(events: pd.DataFrame, frame: float, *, side: str | None = None) -> float | None:
    """Frame of the last event strictly before ``frame`` (see :func:`next_event_frame`)."""
    return next_event_frame(events, frame, side=side, backwards=True)


# An events table under edit: windows, duplicates, undo
#: Events of the same trial, side and kind closer than this (frames) are one event: adding one
#: there merges with it instead of making a duplicate (a side's strides are >= ~15 frames apart).
DUPLICATE_WINDOW_FRAMES = 2.0


#: Delete and nudge act on the selected side's event nearest to the current frame, within this
#: many frames; farther away they do nothing and say so.
NEAR_WINDOW_FRAMES = 3.0


_ABBREV = {"heel_strike": "HS", "toe_off": "TO"}


def _name(row) -> str:
    return f"{_ABBREV.get(row['event'], row['event'])} {str(row['side'])[:1].upper()}"


@dataclasses.dataclass(frozen=True)
class EditResult:
    """What an :class:`EventEditor` edit did.

    Attributes
    ----------
    message
        One line for the user ("deleted HS L at frame 40", "no left event within 3 frames ...").
    frame
        The frame the edit concerns (the annotator shows it), ``None`` if none.
    changed
        Whether the table changed (an undoable action was recorded).
    """

    message: str
    frame: float | None = None
    changed: bool = False


class EventEditor(EditHistory):
    """An events table under manual edit, with undo/redo.

    Every edit records the previous ``(events, rejected)`` tables as one undo step; edits
    go through the pure functions of this module (:func:`add_event`,
    :func:`delete_nearest_event`, :func:`nudge_event`), so a detected event that is deleted or
    moved lands in :attr:`rejected` and re-detection does not bring it back.

    Parameters
    ----------
    events, rejected
        Starting tables (empty when ``None``).
    trial
        Trial of the events added.
    fps
        Frame rate (frames/s) for ``time_s``.
    n_frames
        Number of frames (nudges stay inside).

    Examples
    --------
    >>> ed = EventEditor(trial="T01", fps=25.0)
    >>> ed.add(side="left", event="heel_strike", frame=40).message
    'added HS L at frame 40'
    >>> ed.add(side="left", event="heel_strike", frame=41).message  # one frame away: the same event
    'HS L at frame 40 moved to frame 41 (one event, not two)'
    >>> ed.delete_near(60, side="left").message
    'no left event within 3 frames of frame 60 (nearest: HS L at frame 41)'
    >>> ed.undo().message, ed.events["frame"].tolist()
    ('undid: HS L at frame 40 moved to frame 41 (one event, not two)', [40.0])
    """

    def __init__(self, events: pd.DataFrame | None = None, rejected: pd.DataFrame | None = None, *,
                 trial: str = "", fps: float | None = None, n_frames: int | None = None):
        super().__init__()
        self.events = sort_events(events) if events is not None else empty_events()
        self.rejected = sort_events(rejected) if rejected is not None else empty_events()
        self.trial = trial
        self.fps = fps
        self.n_frames = n_frames

    def _commit(self, events: pd.DataFrame, rejected: pd.DataFrame, result: EditResult) -> EditResult:
        # an entry: the tables before and after, and what the edit was
        self._record(((self.events, self.rejected), (events, rejected), result))
        self.events, self.rejected = events, rejected
        return result

    def replace(self, events: pd.DataFrame, rejected: pd.DataFrame | None = None, *, message: str = "") -> EditResult:
        """Replace the tables as one undoable action (e.g. a re-detection)."""
        rejected = self.rejected if rejected is None else sort_events(rejected)
        return self._commit(sort_events(events), rejected, EditResult(message, None, True))

    def _mask(self, side: str | None, event: str | None = None) -> np.ndarray:
        ev = self.events
        m = (ev["trial"] == self.trial).to_numpy() | (ev["trial"] == "").to_numpy()
        if side is not None:
            m &= ev["side"].to_numpy() == side
        if event is not None:
            m &= ev["event"].to_numpy() == event
        return m

    def _nearest(self, frame: float, side: str | None, event: str | None = None,
                 window: float | None = None) -> int | None:
        m = self._mask(side, event)
        if not m.any():
            return None
        dist = np.where(m, np.abs(self.events["frame"].to_numpy(float) - float(frame)), np.inf)
        pos = int(np.argmin(dist))
        return None if window is not None and dist[pos] > window else pos

    def _none_near(self, frame: float, side: str, window: float) -> EditResult:
        pos = self._nearest(frame, side)
        nearest = "" if pos is None else (
            f" (nearest: {_name(self.events.iloc[pos])} at frame {self.events['frame'].iloc[pos]:g})")
        return EditResult(f"no {side} event within {window:g} frames of frame {frame:g}{nearest}", None, False)

    def add(self, *, side: str, event: str, frame: float, view: str = "",
            window_frames: float = DUPLICATE_WINDOW_FRAMES) -> EditResult:
        """Add a manual event at ``frame``; next to one of the same side and kind (within
        ``window_frames``) it moves that one there instead (one event, not two)."""
        frame = float(frame)
        pos = self._nearest(frame, side, event, window_frames)
        if pos is not None:
            row = self.events.iloc[pos]
            if np.isclose(float(row["frame"]), frame) and row["source"] == "manual":
                return EditResult(f"{_name(row)} is already at frame {frame:g}", frame, False)
            old = float(row["frame"])
            events, rejected, _new = nudge_event(self.events, pos, frame - old, fps=self.fps,
                                                 rejected=self.rejected, n_frames=self.n_frames)
            if float(events.iloc[_new]["frame"]) != frame:  # nudge_event rounds to whole frames
                events.loc[events.index[_new], ["frame", "time_s"]] = [frame, _time(frame, self.fps)]
            msg = f"{_name(row)} at frame {old:g} moved to frame {frame:g} (one event, not two)"
            return self._commit(sort_events(events), rejected, EditResult(msg, frame, True))
        events = add_event(self.events, side=side, event=event, frame=frame, fps=self.fps,
                           trial=self.trial, view=view)
        msg = f"added {_ABBREV.get(event, event)} {side[:1].upper()} at frame {frame:g}"
        return self._commit(events, self.rejected, EditResult(msg, frame, True))

    def delete_near(self, frame: float, *, side: str, window_frames: float = NEAR_WINDOW_FRAMES) -> EditResult:
        """Delete the ``side`` event nearest to ``frame`` if it is within ``window_frames``."""
        pos = self._nearest(frame, side, window=window_frames)
        if pos is None:
            return self._none_near(frame, side, window_frames)
        return self.remove_rows([pos])

    def nudge_near(self, frame: float, delta_frames: float, *, side: str,
                   window_frames: float = NEAR_WINDOW_FRAMES) -> EditResult:
        """Move the ``side`` event nearest to ``frame`` (within ``window_frames``) by ``delta_frames``."""
        pos = self._nearest(frame, side, window=window_frames)
        if pos is None:
            return self._none_near(frame, side, window_frames)
        row = self.events.iloc[pos]
        events, rejected, new = nudge_event(self.events, pos, delta_frames, fps=self.fps,
                                            rejected=self.rejected, n_frames=self.n_frames)
        to = float(events.iloc[new]["frame"])
        msg = f"moved {_name(row)} to frame {to:g}"
        return self._commit(events, rejected, EditResult(msg, to, True))

    def remove_rows(self, positions) -> EditResult:
        """Delete the events at row ``positions`` (e.g. markers deleted in the viewer)."""
        positions = sorted({int(p) for p in positions if 0 <= int(p) < len(self.events)})
        if not positions:
            return EditResult("no event to delete", None, False)
        rows = self.events.iloc[positions]
        rejected = self.rejected
        for i in range(len(rows)):
            rejected = _reject(rejected, rows.iloc[[i]])
        events = sort_events(self.events.drop(index=self.events.index[positions]))
        names = ", ".join(f"{_name(r)} at frame {r['frame']:g}" for _, r in rows.iterrows())
        return self._commit(events, rejected, EditResult(f"deleted {names}", float(rows["frame"].iloc[0]), True))

    def undo(self) -> EditResult | None:
        """Go back one edit; returns what was undone (its frame), ``None`` if nothing is left."""
        return self._go(forward=False)

    def redo(self) -> EditResult | None:
        """Apply the last undone edit again."""
        return self._go(forward=True)

    def _go(self, *, forward: bool) -> EditResult | None:
        entry = self._step(forward)
        if entry is None:
            return None
        before, after, result = entry
        self.events, self.rejected = after if forward else before
        return EditResult(f"{'redid' if forward else 'undid'}: {result.message}", result.frame, True)


def merge_duplicate_events(events: pd.DataFrame, *, window_frames: float = DUPLICATE_WINDOW_FRAMES
                           ) -> tuple[pd.DataFrame, int]:
    """Merge events of the same trial, side and kind closer than ``window_frames``.

    Of each group the manual event is kept (the first manual one), else the first detected
    one. Returns the table (sorted) and the number of events merged away.

    Examples
    --------
    >>> ev = normalize_events(pd.DataFrame({"side": ["left"] * 3, "event": ["heel_strike"] * 3,
    ...                                     "frame": [39.85, 40.0, 70.0]}), trial="T01")
    >>> ev.loc[1, "source"] = "manual"
    >>> out, n = merge_duplicate_events(ev)
    >>> out["frame"].tolist(), out["source"].tolist(), n
    ([40.0, 70.0], ['manual', 'detected'], 1)
    """
    ev = sort_events(events)
    if len(ev) < 2:
        return ev, 0
    drop = np.zeros(len(ev), bool)
    for _, g in ev.groupby(["trial", "side", "event"], sort=False):
        idx = g.index.to_numpy()
        frames = g["frame"].to_numpy(float)
        start = 0
        for k in range(1, len(idx) + 1):
            if k == len(idx) or frames[k] - frames[k - 1] > window_frames:
                group = idx[start:k]
                if len(group) > 1:
                    manual = [i for i in group if ev.at[i, "source"] == "manual"]
                    keep = manual[0] if manual else group[0]
                    drop[[i for i in group if i != keep]] = True
                start = k
    return sort_events(ev[~drop]), int(drop.sum())


@dataclasses.dataclass
class MergeResult:
    """Outcome of :func:`merge_detected_events`.

    Attributes
    ----------
    events
        The merged table.
    n_manual_kept
        Manual events kept (all of them unless ``keep_manual=False``).
    n_manual_dropped
        Manual events dropped (only with ``keep_manual=False``).
    n_detected_suppressed
        New detections left out because a manual or rejected event sits within the tolerance.
    n_detected
        Detections in the merged table.
    """

    events: pd.DataFrame
    n_manual_kept: int
    n_manual_dropped: int
    n_detected_suppressed: int
    n_detected: int


def merge_detected_events(
    current: pd.DataFrame,
    detected: pd.DataFrame,
    *,
    rejected: pd.DataFrame | None = None,
    keep_manual: bool = True,
    tolerance_frames: float = 2.0,
) -> MergeResult:
    """Replace the detected events by a new detection without losing manual edits.

    Manual events of ``current`` are kept; a new detection of the same trial, side and event
    within ``tolerance_frames`` of a manual event (the user's correction of it) or of a
    rejected detection (the user deleted or moved it) is left out. Old detections are
    replaced by the new ones. ``keep_manual=False`` discards the manual events, and is
    counted in :attr:`MergeResult.n_manual_dropped` so callers can say so.
    """
    current = _typed(current)
    detected = _typed(detected.assign(source="detected"))
    manual = current[current["source"] == "manual"] if keep_manual else current.iloc[:0]
    n_dropped = 0 if keep_manual else int((current["source"] == "manual").sum())
    blockers = [manual]
    if rejected is not None and keep_manual:
        blockers.append(_typed(rejected))
    block = pd.concat(blockers, ignore_index=True)
    keep = np.ones(len(detected), bool)
    if len(block):
        for i, row in enumerate(detected.itertuples(index=False)):
            near = (
                (block["trial"] == row.trial)
                & (block["side"] == row.side)
                & (block["event"] == row.event)
                & (np.abs(block["frame"].to_numpy(float) - row.frame) <= tolerance_frames)
            )
            keep[i] = not bool(near.any())
    merged = sort_events(pd.concat([manual, detected[keep]], ignore_index=True))
    return MergeResult(
        events=merged,
        n_manual_kept=len(manual),
        n_manual_dropped=n_dropped,
        n_detected_suppressed=int((~keep).sum()),
        n_detected=int(keep.sum()),
    )


def _row_keys(events: pd.DataFrame) -> list[tuple]:
    """Hashable identity of each row: every column, the frame to 1e-6 frame."""
    t = _typed(events)
    return list(zip(t["trial"], t["view"], t["side"], t["event"], np.round(t["frame"].to_numpy(float), 6),
                    t["source"], strict=True))


def merge_saved_events(
    base: pd.DataFrame, ours: pd.DataFrame, theirs: pd.DataFrame
) -> tuple[pd.DataFrame, int, int]:
    """Three-way merge of an events table saved meanwhile by someone else.

    ``base`` is the table as this session read it, ``ours`` as edited here, ``theirs`` as
    it is in the file now. Events the other side added are added, events it deleted (and
    we kept unchanged) are deleted; our own additions and deletions stay.

    Returns
    -------
    events, n_added, n_removed
        The merged table (sorted) and how many of the other side's additions and deletions
        were applied.

    Examples
    --------
    >>> b = add_event(empty_events(), side="left", event="heel_strike", frame=10)
    >>> o = add_event(b, side="left", event="toe_off", frame=20)
    >>> t = add_event(empty_events(), side="right", event="heel_strike", frame=30)  # deleted 10, added 30
    >>> m, added, removed = merge_saved_events(b, o, t)
    >>> m["frame"].tolist(), added, removed
    ([20.0, 30.0], 1, 1)
    """
    base_k, our_k, their_k = (set(_row_keys(t)) for t in (base, ours, theirs))
    gone = (base_k - their_k) & our_k
    new = their_k - base_k - our_k
    keep = [k not in gone for k in _row_keys(ours)]
    take = [k in new for k in _row_keys(theirs)]
    merged = pd.concat([_typed(ours)[keep], _typed(theirs)[take]], ignore_index=True)
    return sort_events(merged), len(new), len(gone)


def rejected_path(path: str | Path) -> Path:
    """Sidecar file of rejected detections next to an ``events.csv``."""
    path = Path(path)
    return path.with_name(f"{path.stem}.rejected.csv")


def load_events(path: str | Path) -> pd.DataFrame:
    """Read an ``events.csv`` (columns :data:`EVENT_COLUMNS`; ``source`` defaults to detected).

    Raises
    ------
    InputFileError
        Missing file, or missing ``side``/``event``/``frame`` columns.
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, "events file not found")
    try:
        df = pd.read_csv(
            path,
            dtype={"trial": str, "view": str, "side": str, "event": str, "source": str},
            keep_default_na=False,
            na_values={"frame": [""], "time_s": ["", "nan", "NaN"]},
            **EXACT_FLOATS,
        )
    except Exception as err:
        raise InputFileError(path, f"cannot read as csv ({type(err).__name__}: {err})") from err
    try:
        return normalize_events(df, source="detected")
    except ValueError as err:
        raise InputFileError(path, f"{err}; expected columns {', '.join(EVENT_COLUMNS)}") from err


def load_rejected(path: str | Path) -> pd.DataFrame:
    """The rejected detections saved next to ``path`` (empty table if none)."""
    rp = rejected_path(path)
    return load_events(rp) if rp.is_file() else empty_events()


def _format_events(events: pd.DataFrame) -> str:
    # repr-precision floats: frames survive a save/load round trip exactly.
    return sort_events(_typed(events)).to_csv(index=False, float_format=None)


def save_events(
    events: pd.DataFrame,
    path: str | Path,
    *,
    rejected: pd.DataFrame | None = None,
    overwrite: bool = False,
) -> Path:
    """Write ``events.csv`` atomically (and the rejected detections' sidecar when non-empty).

    ``overwrite`` must be True to replace an existing file (the widgets pass it when the file
    was opened from there). Frames are written with full precision.
    """
    path = Path(path)
    write_text_atomic(path, _format_events(events), overwrite=overwrite)
    rp = rejected_path(path)
    if rejected is not None and len(rejected):
        write_text_atomic(rp, _format_events(rejected), overwrite=True)
    elif rp.exists() and overwrite:
        rp.unlink()
    return path


def events_to_records(events: pd.DataFrame) -> list[dict]:
    """JSON-ready rows of an events table (NaN kept as NaN; numbers of other columns stay numbers)."""
    def cell(c, v):
        if c in ("frame", "time_s") or (c not in EVENT_COLUMNS and isinstance(v, int | float | np.number)):
            return float(v)
        return str(v)

    return [{c: cell(c, v) for c, v in row.items()} for row in _typed(events).to_dict(orient="records")]


def events_from_records(records: list[dict]) -> pd.DataFrame:
    """Inverse of :func:`events_to_records`."""
    if not records:
        return empty_events()
    return sort_events(_typed(pd.DataFrame.from_records(records)))


def autosave_events(target: str | Path, events: pd.DataFrame, *, rejected: pd.DataFrame | None = None) -> Path:
    """Autosave an unsaved events table of ``target`` (see :func:`recover_events`)."""
    return write_autosave(
        target,
        {
            "kind": "events",
            "events": events_to_records(events),
            "rejected": events_to_records(rejected if rejected is not None else empty_events()),
        },
    )


def recover_events(target: str | Path) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """``(events, rejected)`` from the autosave of ``target``; ``None`` if there is none."""
    data = read_autosave(target)
    if not data or data.get("kind") != "events":
        return None
    return events_from_records(data.get("events", [])), events_from_records(data.get("rejected", []))
