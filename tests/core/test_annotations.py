"""Events-table editing, merging with re-detection, atomic save/load and autosave recovery."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from napari_gaitint.core import annotations as ann
from napari_gaitint.core.edits import autosave_path, discard_autosave, read_autosave
from napari_gaitint.core.errors import InputFileError, OutputExistsError

FPS = 25.0


def _detected() -> pd.DataFrame:
    ev = pd.DataFrame(
        {
            "side": ["left", "left", "left", "right", "right"],
            "event": ["heel_strike", "toe_off", "heel_strike", "heel_strike", "toe_off"],
            "frame": [10.4, 25.7, 38.2, 23.9, 39.1],
        }
    )
    return ann.normalize_events(ev, trial="T01", fps=FPS, side_views={"left": "C1", "right": "C3"})


def test_normalize_fills_columns_and_time():
    ev = _detected()
    assert tuple(ev.columns) == ann.EVENT_COLUMNS
    assert set(ev["source"]) == {"detected"}
    assert list(ev.loc[ev["side"] == "left", "view"]) == ["C1"] * 3
    assert_allclose(ev["time_s"], ev["frame"] / FPS, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="unknown event"):
        ann.normalize_events(pd.DataFrame({"side": ["left"], "event": ["jump"], "frame": [1.0]}))


def test_add_delete_nudge_and_navigation():
    ev = _detected()
    ev2 = ann.add_event(ev, side="left", event="toe_off", frame=50, fps=FPS, trial="T01", view="C1")
    assert len(ev2) == len(ev) + 1 and len(ev) == 5  # input unchanged
    new = ev2[(ev2["frame"] == 50.0)].iloc[0]
    assert (new["source"], new["side"], new["time_s"]) == ("manual", "left", 2.0)
    # adding the same event twice does not duplicate it
    assert len(ann.add_event(ev2, side="left", event="toe_off", frame=50, fps=FPS, trial="T01")) == 6

    # delete nearest to 24: the right heel strike at 23.9 (nearer than 25.7)
    ev3, rejected, removed = ann.delete_nearest_event(ev2, 24.0)
    assert removed["frame"] == 23.9 and removed["side"] == "right"
    assert len(ev3) == 5 and list(rejected["frame"]) == [23.9]
    # restricted to a side
    _, _, removed_left = ann.delete_nearest_event(ev2, 24.0, side="left")
    assert removed_left["frame"] == 25.7
    # nothing within the distance: unchanged
    same, rej_same, none = ann.delete_nearest_event(ev2, 100.0, max_distance_frames=5)
    assert none is None and len(same) == len(ev2) and rej_same.empty

    # nudge the detected left heel strike at 10.4 by +1 -> 11 (whole frame), manual
    pos = ann.nearest_event(ev3, 10.0)
    ev4, rejected, newpos = ann.nudge_event(ev3, pos, +1, fps=FPS, rejected=rejected)
    assert ev4.iloc[newpos]["frame"] == 11.0 and ev4.iloc[newpos]["source"] == "manual"
    assert_allclose(ev4.iloc[newpos]["time_s"], 11.0 / FPS)
    assert sorted(rejected["frame"]) == [10.4, 23.9]
    ev5, _, p5 = ann.nudge_event(ev4, newpos, -1, fps=FPS, rejected=rejected)
    assert ev5.iloc[p5]["frame"] == 10.0
    # clipped to the trial
    ev6, _, p6 = ann.nudge_event(ev5, p5, -50, fps=FPS, n_frames=100)
    assert ev6.iloc[p6]["frame"] == 0.0

    # next / previous event (both sides, or one side)
    assert ann.next_event_frame(ev, 10) == 23.9
    assert ann.next_event_frame(ev, 10, side="left") == 25.7
    assert ann.previous_event_frame(ev, 38) == 25.7
    assert ann.previous_event_frame(ev, 10) is None
    assert ann.next_event_frame(ev, 39) is None


def test_merge_keeps_manual_and_respects_rejections():
    ev = _detected()
    # the user moved the left HS at 10.4 to 12 and deleted the right TO at 39.1, added a left TO at 52
    pos = ann.nearest_event(ev, 10.4)
    ev, rejected, _ = ann.nudge_event(ev, pos, +1.6, fps=FPS)
    ev, rejected, _ = ann.delete_nearest_event(ev, 39.1, side="right", rejected=rejected)
    ev = ann.add_event(ev, side="left", event="toe_off", frame=52, fps=FPS, trial="T01", view="C1")
    manual_before = ev[ev["source"] == "manual"].reset_index(drop=True)
    assert len(manual_before) == 2

    # re-detection finds the same events again (slightly different frames) plus a new one
    redetected = _detected()
    redetected.loc[redetected["frame"] == 38.2, "frame"] = 38.5
    redetected = pd.concat(
        [redetected, ann.normalize_events(pd.DataFrame({"side": ["right"], "event": ["heel_strike"], "frame": [49.0]}), trial="T01", fps=FPS)],
        ignore_index=True,
    )
    res = ann.merge_detected_events(ev, redetected, rejected=rejected)
    merged = res.events
    man = merged[merged["source"] == "manual"].reset_index(drop=True)
    pd.testing.assert_frame_equal(man, manual_before)
    det = merged[merged["source"] == "detected"]
    # the moved HS (10.4) and deleted TO (39.1) are not brought back; 38.5 replaces 38.2; 49 is new
    assert sorted(det["frame"]) == [23.9, 25.7, 38.5, 49.0]
    assert (res.n_manual_kept, res.n_manual_dropped, res.n_detected_suppressed) == (2, 0, 2)

    res2 = ann.merge_detected_events(ev, redetected, rejected=rejected, keep_manual=False)
    assert res2.n_manual_dropped == 2 and (res2.events["source"] == "detected").all()
    assert len(res2.events) == len(redetected)


def test_save_load_roundtrip_exact_and_atomic(tmp_path):
    ev = _detected()
    ev = ann.add_event(ev, side="right", event="toe_off", frame=61, fps=FPS, trial="T01", view="C3")
    ev.loc[0, "frame"] = 1.0 / 3.0  # a float that needs full precision
    ev.loc[0, "time_s"] = ev.loc[0, "frame"] / FPS
    rejected = ev.iloc[[1]].copy()
    path = tmp_path / "events.csv"
    ann.save_events(ev, path, rejected=rejected)
    back = ann.load_events(path)
    pd.testing.assert_frame_equal(back, ann.sort_events(ev))
    assert_array_equal(back["frame"].to_numpy(), ann.sort_events(ev)["frame"].to_numpy())  # bit-exact
    pd.testing.assert_frame_equal(ann.load_rejected(path), ann.sort_events(rejected))
    assert list(pd.read_csv(path).columns) == list(ann.EVENT_COLUMNS)

    # never overwrite unless asked; the file is unchanged after the refusal
    before = path.read_bytes()
    with pytest.raises(OutputExistsError):
        ann.save_events(ev.iloc[:2], path)
    assert path.read_bytes() == before
    # a failing write leaves the old file intact and no temporary file behind
    bad = ev.copy()
    bad["frame"] = ["x"] * len(bad)
    with pytest.raises(ValueError):
        ann.save_events(bad, path, overwrite=True)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["events.csv", "events.rejected.csv"]
    # overwrite=True replaces; empty rejected removes the sidecar
    ann.save_events(ev.iloc[:2], path, overwrite=True)
    assert len(ann.load_events(path)) == 2 and not ann.rejected_path(path).exists()


def test_load_errors(tmp_path):
    with pytest.raises(InputFileError, match="not found"):
        ann.load_events(tmp_path / "nope.csv")
    p = tmp_path / "bad.csv"
    p.write_text("a,b\n1,2\n")
    with pytest.raises(InputFileError, match="lacks column"):
        ann.load_events(p)


def test_autosave_and_recover(tmp_path):
    target = tmp_path / "events.csv"
    ev = ann.add_event(_detected(), side="left", event="heel_strike", frame=70, fps=FPS, trial="T01")
    rejected = ev.iloc[[0]]
    assert ann.recover_events(target) is None
    side = ann.autosave_events(target, ev, rejected=rejected)
    assert side == autosave_path(target) and side.name == "events.gaitint-autosave.json"
    got, got_rej = ann.recover_events(target)
    pd.testing.assert_frame_equal(got, ann.sort_events(ev))
    pd.testing.assert_frame_equal(got_rej, ann.sort_events(rejected))
    discard_autosave(target)
    assert ann.recover_events(target) is None
    # a corrupt sidecar is ignored, not a crash
    autosave_path(target).write_text("{not json")
    assert read_autosave(target) is None


def test_synthetic_events_roundtrip(tmp_path):
    synthetic = pytest.importorskip("napari_gaitint.synthetic")
    trial = synthetic.generate_trial(3)
    parts = [
        ann.normalize_events(v.events[["side", "event", "frame"]], trial="T01", view=name, fps=trial.fps)
        for name, v in trial.views.items()
    ]
    ev = ann.sort_events(pd.concat(parts, ignore_index=True))
    ann.save_events(ev, tmp_path / "events.csv")
    back = ann.load_events(tmp_path / "events.csv")
    assert_array_equal(back["frame"].to_numpy(), ev["frame"].to_numpy())
    assert np.isfinite(back["time_s"]).all()


def test_event_editor_windows_duplicates_and_undo():
    """The annotator's edits: delete/nudge only near the frame, a second heel strike 0.15 frame
    from a detected one is the same event, every edit undoes and redoes exactly."""
    det = ann.normalize_events(pd.DataFrame({
        "side": ["left", "left", "left", "right"],
        "event": ["heel_strike", "toe_off", "heel_strike", "heel_strike"],
        "frame": [20.4, 36.0, 55.15, 30.0],
    }), trial="T01", fps=25.0)
    ed = ann.EventEditor(det, trial="T01", fps=25.0, n_frames=100)
    # delete: the nearest left event is 19 frames away: nothing happens, and it says so
    res = ed.delete_near(74, side="left")
    assert not res.changed and "nearest: HS L at frame 55.15" in res.message and not ed.can_undo
    pd.testing.assert_frame_equal(ed.events, det)
    # near enough: deleted, remembered as a rejected detection; undo brings both tables back
    res = ed.delete_near(35, side="left")
    assert res.changed and res.frame == 36.0 and 36.0 not in set(ed.events["frame"])
    assert list(ed.rejected["frame"]) == [36.0]
    assert ed.undo().frame == 36.0
    pd.testing.assert_frame_equal(ed.events, det)
    assert ed.rejected.empty and ed.can_redo
    ed.redo()
    assert 36.0 not in set(ed.events["frame"])
    # a manual heel strike 0.15 frame from the detected one: one event (manual), not two
    res = ed.add(side="left", event="heel_strike", frame=55)
    hs = ed.events[(ed.events["side"] == "left") & (ed.events["event"] == "heel_strike")]
    assert list(hs["frame"]) == [20.4, 55.0] and list(hs["source"]) == ["detected", "manual"]
    assert "one event" in res.message and 55.15 in set(ed.rejected["frame"])
    assert not ed.add(side="left", event="heel_strike", frame=55).changed  # already there
    # the other side and the other kind are other events
    ed.add(side="right", event="heel_strike", frame=55)
    ed.add(side="left", event="toe_off", frame=56)
    assert len(ed.events) == 5
    # nudge only near; the event becomes manual on a whole frame
    assert not ed.nudge_near(40, +1, side="right").changed
    res = ed.nudge_near(31, +1, side="right")
    assert res.frame == 31.0 and 30.0 not in set(ed.events.loc[ed.events["side"] == "right", "frame"])
    # markers deleted in the viewer: one action for all of them
    before = ed.events.copy()
    ed.remove_rows([0, 1])
    assert len(ed.events) == len(before) - 2
    ed.undo()
    pd.testing.assert_frame_equal(ed.events, before)


def test_merge_duplicate_events_keeps_the_manual_one():
    ev = ann.normalize_events(pd.DataFrame({
        "side": ["left"] * 4 + ["right"],
        "event": ["heel_strike"] * 4 + ["heel_strike"],
        "frame": [10.0, 11.5, 40.0, 40.15, 40.0],
        "source": ["detected", "manual", "detected", "detected", "detected"],
    }), trial="T01")
    out, n = ann.merge_duplicate_events(ev)
    assert n == 2
    assert out[["side", "frame", "source"]].values.tolist() == [
        ["left", 11.5, "manual"], ["left", 40.0, "detected"], ["right", 40.0, "detected"]]


def test_other_columns_of_an_events_file_survive_edits_and_saves(tmp_path):
    """The detector's confidence and why (or any column someone added) are kept by load, edit,
    autosave and save; an event added by hand has them empty."""
    ev = _detected().assign(confidence=[1.0, 0.5, 0.9, 1.0, 0.25], why=["", "gap", "", "", "wrong limb"])
    path = tmp_path / "events.csv"
    ann.save_events(ev, path)
    back = ann.load_events(path)
    assert list(back.columns) == [*ann.EVENT_COLUMNS, "confidence", "why"]
    ed = ann.EventEditor(back, trial="T01", fps=FPS)
    ed.add(side="left", event="toe_off", frame=50)
    ed.delete_near(39, side="right")
    ann.save_events(ed.events, path, overwrite=True)
    saved = pd.read_csv(path, keep_default_na=False)
    assert list(saved.columns) == [*ann.EVENT_COLUMNS, "confidence", "why"]
    kept = saved[saved["frame"] == 25.7].iloc[0]
    assert float(kept["confidence"]) == 0.5 and kept["why"] == "gap"
    assert saved.loc[saved["frame"] == 50.0, "confidence"].iloc[0] == ""  # added by hand
    ann.autosave_events(path, ed.events)
    recovered, _ = ann.recover_events(path)
    assert_allclose(recovered["confidence"].to_numpy(float), ed.events["confidence"].to_numpy(float))
