"""Both legs' events checked against each other (core/phase.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from napari_gaitint.core.events import detect_events
from napari_gaitint.core.orient import orient_pose
from napari_gaitint.core.phase import RECOVERED_CONFIDENCE, check_leg_phase, detect_events_both_legs

STRIDE = 100.0


def _leg(side: str, hs: list[float], to: list[float], why: dict | None = None) -> pd.DataFrame:
    """An events table as detect_events writes it (fps 100, stride 100 frames)."""
    rows = [(side, "heel_strike", f) for f in hs] + [(side, "toe_off", f) for f in to]
    ev = pd.DataFrame(rows, columns=["side", "event", "frame"]).sort_values("frame", kind="stable")
    ev = ev.reset_index(drop=True)
    ev["time_s"] = ev["frame"] / 100.0
    ev["confidence"] = 1.0
    ev["why"] = ""
    for frame, reason in (why or {}).items():
        r = ev.index[ev["frame"] == frame][0]
        ev.loc[r, "why"] = reason
        ev.loc[r, "confidence"] = 0.5
    ev.attrs.update(stride_frames=STRIDE, fps=100.0, method="foot")
    return ev


# walking: left HS at 0, 100, 200, ...; right TO 10 frames after each left HS, right HS
# half a stride later, left TO 10 frames after it (double support a tenth of a stride)
LEFT_HS, LEFT_TO = [0.0, 100, 200, 300], [60.0, 160, 260]
RIGHT_HS, RIGHT_TO = [50.0, 150, 250], [10.0, 110, 210, 310]


def test_legs_that_agree_are_left_as_they_are():
    a, b = _leg("left", LEFT_HS, LEFT_TO), _leg("right", RIGHT_HS, RIGHT_TO)
    ca, cb = check_leg_phase((a, b))
    pd.testing.assert_frame_equal(ca, a)
    pd.testing.assert_frame_equal(cb, b)
    report = ca.attrs["leg_phase"]
    assert report["checked"] and (report["recovered"], report["dropped"], report["flagged"]) == (0, 0, 0)
    # heel strike -> the other toe off a tenth of a stride later; toe off after the other HS
    assert report["offset_stride"] == {"heel_strike": 0.1, "toe_off": -0.1}


def test_a_lag_between_the_views_is_taken_into_account():
    a, b = _leg("left", LEFT_HS, LEFT_TO), _leg("right", RIGHT_HS, RIGHT_TO)
    late = b.assign(frame=b["frame"] + 7)  # the second camera's numbering runs 7 frames ahead
    ca, cb = check_leg_phase((a, late), lag_frames=7)
    assert ca.attrs["leg_phase"]["offset_stride"] == {"heel_strike": 0.1, "toe_off": -0.1}
    pd.testing.assert_frame_equal(cb, late)


def test_an_artefact_without_partner_is_dropped_a_lonely_event_flagged():
    # left: an invented heel strike at 130 (its own leg already calls it a phase conflict)
    a = _leg("left", LEFT_HS + [130.0], LEFT_TO, why={130.0: "phase conflict"})
    # right: a heel strike at 175 instead of 150 (no left toe off 10 frames after it)
    b = _leg("right", [50.0, 175, 250], RIGHT_TO)
    ca, cb = check_leg_phase((a, b))
    assert 130.0 not in ca["frame"].to_numpy()
    bad = cb[cb["frame"] == 175.0].iloc[0]
    assert bad["confidence"] == 0.5 and "other leg's phase" in bad["why"]
    # the left toe off that expected it is flagged too: which of the two is off, no one knows
    assert "other leg's phase" in ca.loc[ca["frame"] == 160.0, "why"].iat[0]
    assert ca.attrs["leg_phase"]["dropped"] == 1 and ca.attrs["leg_phase"]["flagged"] == 2


def test_a_missing_event_is_recovered_from_the_tolerant_pass_only_where_the_other_leg_expects_it():
    # right TO at 110 lost: its neighbours are two heel strikes in a row -> phase conflicts
    b = _leg("right", RIGHT_HS, [10.0, 210, 310], why={50.0: "phase conflict", 150.0: "phase conflict"})
    a = _leg("left", LEFT_HS, LEFT_TO)
    tolerant = _leg("right", RIGHT_HS + [380.0], [10.0, 111.5, 210, 310, 420])  # + noise extrema

    def redetect(i):
        assert i == 1
        return tolerant

    ca, cb = check_leg_phase((a, b), redetect=redetect)
    new = cb[cb["why"].str.contains("recovered")]
    assert new["frame"].tolist() == [111.5] and new["confidence"].iat[0] == RECOVERED_CONFIDENCE
    # the right leg alternates again: its heel strikes are no longer phase conflicts
    assert not cb["why"].str.contains("phase conflict").any()
    assert cb.loc[cb["frame"] == 150.0, "confidence"].iat[0] == 1.0
    assert 380.0 not in cb["frame"].to_numpy() and ca.attrs["leg_phase"]["recovered"] == 1


def test_too_few_events_to_know_the_phases_change_nothing():
    a, b = _leg("left", [0.0], []), _leg("right", [], [40.0])
    ca, cb = check_leg_phase((a, b))
    assert ca.attrs["leg_phase"]["offset_stride"] == {} and len(ca) == 1 and len(cb) == 1


@pytest.fixture(scope="module")
def walker_pair():
    from napari_gaitint.synthetic.trial import generate_trial

    trial = generate_trial(3)
    return tuple(orient_pose(trial.views[v].pose) for v in ("C1", "C3"))


def test_both_legs_of_the_synthetic_walker_equal_each_leg_alone(walker_pair):
    c1, c3 = walker_pair
    a, b = detect_events_both_legs((c1, c3), sides=("left", "right"), lag_frames=None)
    pd.testing.assert_frame_equal(a, detect_events(c1, side="left"), check_like=True)
    pd.testing.assert_frame_equal(b, detect_events(c3, side="right"), check_like=True)
    report = a.attrs["leg_phase"]
    assert report["checked"] and 0.02 < report["offset_stride"]["heel_strike"] < 0.25


def test_legs_that_cannot_be_compared_are_detected_alone(walker_pair):
    c1, c3 = walker_pair
    a, b = detect_events_both_legs((c1, c3), sides=("left", "left"))
    assert a.attrs["leg_phase"] == {"checked": False, "why": "both poses show the left leg"}
    slow = c3.replace(fps=c3.fps / 2)
    a, _ = detect_events_both_legs((c1, slow), sides=("left", "right"))
    assert not a.attrs["leg_phase"]["checked"]
    assert np.array_equal(a["frame"].to_numpy(), detect_events(c1, side="left")["frame"].to_numpy())
