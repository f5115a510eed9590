"""The orient → detect chain (core.chain) and the event settings (EventConfig)."""

from __future__ import annotations

import dataclasses
import inspect

import numpy as np
import pandas as pd
import pytest
from test_events import _to_image, sine_walker, true_extrema

from napari_gaitint.core.chain import analyze_pair, analyze_view
from napari_gaitint.core.config import DEFAULT_METHOD, EventConfig
from napari_gaitint.core.errors import InputFileError
from napari_gaitint.core.events import detect_events
from napari_gaitint.workflow.config import AnalysisConfig, config_to_toml, load_config


def test_event_config_holds_every_default_of_detect_events():
    params = inspect.signature(detect_events).parameters
    for f in dataclasses.fields(EventConfig):
        assert params[f.name].default == getattr(EventConfig(), f.name), f.name
    assert EventConfig().method == DEFAULT_METHOD


def test_event_config_refuses_bad_values():
    with pytest.raises(ValueError, match="unknown event method 'heel'"):
        EventConfig(method="heel")
    with pytest.raises(ValueError, match="min_likelihood"):
        EventConfig(min_likelihood=1.5)
    with pytest.raises(ValueError, match="stride_range_s"):
        EventConfig(stride_range_s=(3.0, 0.5))


@pytest.mark.parametrize("direction", [1, -1])
def test_analyze_view_orients_and_finds_the_true_events(direction):
    gait = sine_walker(n=70, speed_px=11.0)
    image = _to_image(gait, direction)
    result = analyze_view(image, side="left", settings=EventConfig(method="zeni"))
    assert result.side == "left"
    assert result.oriented.meta["orientation"]["direction"] == direction
    hs_true, to_true = true_extrema(70)
    hs = result.events.loc[result.events["event"] == "heel_strike", "frame"].to_numpy()
    to = result.events.loc[result.events["event"] == "toe_off", "frame"].to_numpy()
    assert len(hs) >= 2 and len(to) >= 2
    assert np.abs(hs[:, None] - hs_true[None]).min(axis=1).max() < 0.5
    assert np.abs(to[:, None] - to_true[None]).min(axis=1).max() < 0.5


def test_analyze_view_uses_its_settings():
    image = _to_image(sine_walker(n=70, speed_px=11.0), 1)
    zeni = analyze_view(image, side="left", settings=EventConfig(method="zeni")).events
    velocity = analyze_view(image, side="left", settings=EventConfig(method="velocity", reference="neck")).events
    assert zeni.attrs["method"] == "zeni" and velocity.attrs["method"] == "velocity"
    assert zeni.attrs["reference"] == "hip" and velocity.attrs["reference"] == "neck"
    # the sinusoid has no stance rest: the velocity refinement moves its heel strikes
    assert not zeni["frame"].equals(velocity["frame"])


def test_analyze_pair_checks_the_two_legs():
    left = _to_image(sine_walker(n=70, speed_px=11.0), -1)
    right = _to_image(sine_walker(n=70, speed_px=11.0, phase=0.3 + 27.5 / 2), 1)
    views = analyze_pair((left, right), sides=("left", "right"), lag_frames=0)
    assert [v.side for v in views] == ["left", "right"]
    for v in views:
        assert v.events.attrs["leg_phase"]["checked"]
        assert (v.events["side"] == v.side).all()


def test_analysis_config_events_table(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('events_method = "zeni"\n\n[events]\nmax_gap_s = 0.3\nstride_range_s = [0.6, 2.5]\n')
    cfg = load_config(path)
    assert cfg.event_config() == EventConfig(method="zeni", max_gap_s=0.3, stride_range_s=(0.6, 2.5))
    again = tmp_path / "again.toml"
    again.write_text(config_to_toml(cfg))
    assert load_config(again).event_config() == cfg.event_config()
    # without an [events] table nothing is written for it (config.toml as before)
    assert "[events]" not in config_to_toml(AnalysisConfig())
    assert AnalysisConfig().event_config() == EventConfig()


@pytest.mark.parametrize(("text", "match"), [
    ("[events]\nmax_gap = 0.3\n", "max_gap"),
    ("[events]\nmethod = 'zeni'\n", "events_method"),
    ("events_method = 'heel'\n", "unknown event method"),
])
def test_analysis_config_bad_events_setting_names_the_file(tmp_path, text, match):
    path = tmp_path / "my config.toml"
    path.write_text(text)
    with pytest.raises(InputFileError, match=rf"my config\.toml.*{match}"):
        load_config(path)


def test_pair_and_single_view_agree_with_detect_events():
    image = _to_image(sine_walker(n=70, speed_px=11.0), 1)
    from napari_gaitint.core.orient import orient_pose

    direct = detect_events(orient_pose(image), side="right")
    pd.testing.assert_frame_equal(analyze_view(image, side="right").events, direct)


def test_cleaned_pose_cut_off_is_stated_not_read_from_meta():
    from napari_gaitint.core.clean import clean_pose
    from napari_gaitint.synthetic.trial import generate_trial

    views = generate_trial(4).views
    c1, c3 = views["C1"], views["C3"]
    res = clean_pose(c1.pose, other=c3.pose)
    stated = res.pose.replace()
    stated.meta.pop("cleaning")  # nothing hidden: the caller says the pose was cleaned
    assert "cleaning" in res.pose.meta
    with_meta = analyze_view(res.pose, side=c1.side, cleaned=True)
    without_meta = analyze_view(stated, side=c1.side, cleaned=True)
    pd.testing.assert_frame_equal(with_meta.events, without_meta.events)
    # the cleaned cut-off keeps the points the cleaning filled (raw likelihood < 0.6)
    low = np.isfinite(stated.likelihood) & (stated.likelihood < 0.6)
    assert low.any()
    raw_cut = analyze_view(stated, side=c1.side, settings=EventConfig(min_likelihood=0.6)).events
    assert not raw_cut["frame"].equals(without_meta.events["frame"])



def test_a_cleaned_pose_without_a_stated_cut_off_gets_the_raw_default_not_its_meta():
    """``min_likelihood=None`` is 0.6 (the documented default) for any pose: the steps never
    read ``pose.meta["cleaning"]``; a cleaned pose's cut-off and flags are passed."""
    from napari_gaitint.core.clean import clean_pose
    from napari_gaitint.core.config import LIKELIHOOD_THRESHOLD, likelihood_cutoff
    from napari_gaitint.core.cycles import compute_cycles
    from napari_gaitint.core.orient import orient_pose
    from napari_gaitint.synthetic.trial import generate_trial

    views = generate_trial(4).views
    c1, c3 = views["C1"], views["C3"]
    res = clean_pose(c1.pose, other=c3.pose)
    assert "cleaning" in res.pose.meta  # the settings are recorded (for the sidecar) ...
    oriented = orient_pose(res.events_pose)
    bare = oriented.replace(meta={"orientation": oriented.meta["orientation"]})
    default = detect_events(oriented, side=c1.side)
    # ... but not read: with or without them, None is the raw predictions' cut-off
    pd.testing.assert_frame_equal(default, detect_events(bare, side=c1.side))
    pd.testing.assert_frame_equal(default, detect_events(oriented, side=c1.side,
                                                         min_likelihood=LIKELIHOOD_THRESHOLD))
    stated = detect_events(oriented, side=c1.side, min_likelihood=likelihood_cutoff(cleaned=True))
    assert not stated["frame"].equals(default["frame"])  # the filled points count when stated
    cycles = compute_cycles(oriented, stated, side=c1.side)
    pd.testing.assert_frame_equal(cycles, compute_cycles(bare, stated, side=c1.side))
    assert not cycles["value"].equals(
        compute_cycles(oriented, stated, side=c1.side, min_likelihood=0.0)["value"])
    # the confidence: the flags passed lower it near changed frames; nothing from meta
    flagged = detect_events(oriented, side=c1.side, min_likelihood=0.0, flags=res.flags)
    pd.testing.assert_frame_equal(flagged, detect_events(bare, side=c1.side, min_likelihood=0.0,
                                                         flags=res.flags))
    pd.testing.assert_frame_equal(flagged[["event", "frame"]], stated[["event", "frame"]])
    assert (flagged["confidence"] <= stated["confidence"]).all()
    assert (flagged["confidence"] < stated["confidence"]).any()
    assert flagged["why"].str.contains("flagged frames").any()


def test_analyze_pair_takes_the_cut_off_of_each_view():
    from napari_gaitint.core.clean import clean_pose
    from napari_gaitint.synthetic.trial import generate_trial

    views = generate_trial(4).views
    c1, c3 = views["C1"], views["C3"]
    cleaned = clean_pose(c1.pose, other=c3.pose)
    mixed = analyze_pair((cleaned.pose, c3.pose), sides=(c1.side, c3.side), cleaned=(True, False),
                         flags=(cleaned.flags, None))
    alone = [analyze_view(cleaned.pose, side=c1.side, cleaned=True, flags=cleaned.flags),
             analyze_view(c3.pose, side=c3.side)]
    for pair, one in zip(mixed, alone, strict=True):  # the legs agree: the pair check keeps all
        pd.testing.assert_frame_equal(pair.events[["event", "frame", "confidence"]].reset_index(drop=True),
                                      one.events[["event", "frame", "confidence"]].reset_index(drop=True))


def test_stats_settings_are_the_defaults_of_rm_anova_and_the_config(tmp_path):
    from napari_gaitint.core.config import CORRECTIONS, STATS_ENGINES, StatsConfig
    from napari_gaitint.core.stats import rm_anova

    assert inspect.signature(rm_anova).parameters["engine"].default == StatsConfig().engine
    assert AnalysisConfig().stats_config() == StatsConfig()
    assert set(CORRECTIONS) >= {"holm", "fdr_bh"} and set(STATS_ENGINES) == {"numpy", "pingouin"}
    with pytest.raises(ValueError, match="engine must be one of numpy, pingouin"):
        StatsConfig(engine="R")
    path = tmp_path / "stats config.toml"
    path.write_text('correction = "bonferroni"\n')
    with pytest.raises(InputFileError, match=r"stats config\.toml.*correction must be one of holm"):
        load_config(path)


def test_cycle_settings_are_the_defaults_of_the_cycle_steps():
    from napari_gaitint.core.angles import compute_angle_cycles
    from napari_gaitint.core.config import CycleConfig
    from napari_gaitint.core.cycles import compute_cycles, split_cycles

    defaults = CycleConfig()
    for func in (compute_cycles, split_cycles, compute_angle_cycles):
        params = inspect.signature(func).parameters
        for f in dataclasses.fields(CycleConfig):
            if f.name in params:
                assert params[f.name].default == getattr(defaults, f.name), (func.__name__, f.name)
    assert AnalysisConfig().n_points == defaults.n_points
    assert AnalysisConfig().resolved().cycles_reference == defaults.reference
