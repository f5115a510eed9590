"""The default event detector on real walking (../shared/realgait), a few trials.

The full tables come from ``validation/validate_real_events.py`` (docs/methods/events.md);
this runs the same code on four trials of four labs so that a change that breaks real-data
accuracy fails here. Skipped where ../shared/realgait is absent (it is not shipped).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from napari_gaitint.core.config import DEFAULT_METHOD

REPO_ROOT = Path(__file__).resolve().parents[2]
REALGAIT = REPO_ROOT.parent / "shared" / "realgait"
TRIALS = ("zoo_hc036a10", "gaitalytics_overground", "qualisys_walk", "osim_walking5")


@pytest.fixture(scope="module")
def validation():
    if not (REALGAIT / "gait").is_dir():
        pytest.skip(f"the real walking set is not at {REALGAIT} (outside the repository)")
    spec = importlib.util.spec_from_file_location(
        "validate_real_events", REPO_ROOT / "validation" / "validate_real_events.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass needs the module registered
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def views(validation):
    return validation.load_realgait(REALGAIT, trials=TRIALS)


@pytest.fixture(scope="module")
def matches(validation, views):
    return validation.evaluate(views, (DEFAULT_METHOD,), ("plain", "noisy", "noisy_cleaned"))


@pytest.fixture(scope="module")
def summary(validation, matches):
    return validation.summarise(matches[matches["method"] == DEFAULT_METHOD]).set_index(
        ["input", "rate", "event"])


@pytest.mark.parametrize("rate", ["native", "50hz", "25hz"])
@pytest.mark.parametrize("event", ["heel_strike", "toe_off"])
def test_default_on_real_views(summary, rate, event):
    """Ideal projections of real walking: every labelled event found, none invented, and
    the timing within the targets (25 Hz: MAE <= 15 ms; a bias of 8 ms on the whole set,
    10 ms allowed on these 13 events per kind)."""
    row = summary.loc[("plain", rate, event)]
    assert row["n"] >= 12
    assert row["found_pct"] == 100.0 and row["spurious"] == 0
    assert row["mae_ms"] <= 15.0
    assert abs(row["bias_ms"]) <= 10.0


@pytest.mark.parametrize("event", ["heel_strike", "toe_off"])
def test_default_on_noisy_cleaned_real_views(summary, event):
    """DLC-like noise, dropouts and wrong-limb labels, then two-view cleaning (the chain of
    gaitint analyze), at 25 Hz: every event found, none invented, timing within 20 ms."""
    row = summary.loc[("noisy_cleaned", "25hz", event)]
    assert row["found_pct"] == 100.0 and row["spurious"] == 0
    assert row["mae_ms"] <= 20.0


@pytest.mark.parametrize("inp", ["plain", "noisy", "noisy_cleaned"])
def test_both_legs_find_every_event_and_invent_none(validation, matches, inp):
    """The default on both legs of each trial together (as gaitint analyze does for a trial
    pair), also on the raw noisy views: every event found, none invented, at every rate."""
    both = matches[matches["method"] == validation.both_legs(DEFAULT_METHOD)]
    s = validation.summarise(both[both["input"] == inp])
    assert (s["found_pct"] == 100.0).all() and (s["spurious"] == 0).all(), s


def test_a_toe_off_lost_in_one_view_is_recovered_from_the_other_leg(validation):
    """The bad input: btk_mac_gait's right view at 100 Hz with DLC-like noise (the reported
    seed). A wrong-limb run in the last frames makes a higher extremum within half a stride
    of the toe off at 1.32 s, which the spacing rule then drops: the view alone misses it.
    The left leg's heel strike before it says where it must be; the tolerant pass finds it."""
    views = {v.view: v for v in validation.load_realgait(REALGAIT, trials=("btk_mac_gait",),
                                                          rates=("native",))}
    left, right = views["left_view"], views["right_view"]
    poses = (validation.perturb_view(left, right), validation.perturb_view(right, left))
    alone = validation.detect_view(right, poses[1], DEFAULT_METHOD)
    _, both = validation.detect_pair((left, right), poses, DEFAULT_METHOD)
    near = lambda ev: ev[(ev["event"] == "toe_off") & ((ev["time_s"] - 1.32).abs() < 0.05)]  # noqa: E731
    assert near(alone).empty
    got = near(both)
    assert len(got) == 1 and "recovered from the other leg" in got["why"].iat[0]
    assert got["confidence"].iat[0] < 0.5  # offered first for review


def test_perturbation_is_what_it_says(validation, views):
    """The noisy views: 1-3 px noise, some low-likelihood dropouts and some wrong-limb runs
    (the leg's points moved to the other leg), seeded: the same every run."""
    by = {v.key: v for v in views}
    view = by[("gaitalytics_overground", "left_view", "native")]
    other = by[("gaitalytics_overground", "right_view", "native")]
    a = validation.perturb_view(view, other)
    b = validation.perturb_view(view, other)
    np.testing.assert_array_equal(a.values, b.values)
    d = np.linalg.norm(a.xy - view.pose.xy, axis=-1)
    low = a.likelihood < 0.6
    assert 0.01 < low.mean() < 0.08
    neck = list(view.pose.bodyparts).index("neck")
    assert 1.0 < np.median(d[:, neck]) < 4.0  # noise only on the neck (never swapped)
    heel = list(view.pose.bodyparts).index("heel")
    assert (d[:, heel] > 20).any()  # wrong-limb runs on the leg


def test_cross_validation_reports_held_out_figures(validation, views):
    """The CV table: for each fold the best detector on the other folds is scored on the
    left-out one; the bias correction is the training median."""
    few = [v for v in views if v.rate == "25hz"]
    matches = validation.evaluate(few, ("zeni", DEFAULT_METHOD), ("plain",))
    cv = validation.cross_validate(matches, folds="trial")
    assert set(cv["event"]) == {"HS", "TO"} and len(cv) == 2
    hs = cv[cv["event"] == "HS"].iloc[0]
    assert hs["chosen (in-sample)"] == DEFAULT_METHOD  # zeni's HS is ~40 ms early
    assert np.isfinite(hs["chosen MAE CV"]) and np.isfinite(hs["bias-corrected MAE CV"])
