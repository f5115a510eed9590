"""``gaitint events`` and ``gaitint angles`` on one DeepLabCut file: the tables they write
match the core functions and the synthetic walker's true events."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from napari_gaitint.core.angles import JOINTS, compute_angles
from napari_gaitint.core.events import detect_events, match_events
from napari_gaitint.core.orient import orient_pose


def test_cli_events_writes_csv(tmp_path, capsys):
    from napari_gaitint.cli import main
    from napari_gaitint.core.io import load_pose, save_pose
    from napari_gaitint.synthetic.files import prediction_filename
    from napari_gaitint.synthetic.trial import generate_trial

    trial = generate_trial(5, trial="T07")
    view = trial.views["C3"]
    pred = save_pose(view.pose, tmp_path / prediction_filename("T07", "C3"))
    out = tmp_path / "events.csv"
    assert main(["events", str(pred), "--fps", "25", "--out", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    df = pd.read_csv(out)
    assert list(df.columns) == ["trial", "view", "side", "event", "frame", "time_s", "confidence", "why"]
    assert set(df["trial"]) == {"T07"} and set(df["view"]) == {"C3"} and set(df["side"]) == {"right"}
    expected = detect_events(orient_pose(load_pose(pred, fps=25), frame_size=(2000, 1000)), side="right")
    assert_allclose(df["frame"], expected["frame"], atol=1e-9)  # frame size does not matter
    m = match_events(df, view.events, tolerance_frames=3)
    _assert_walker_events_close(m)
    # never overwrite; an explicit frame size and method work too
    assert main(["events", str(pred), "--out", str(out)]) == 2
    assert "exists already" in capsys.readouterr().err
    assert main(["events", str(pred), "--out", str(out), "--overwrite", "--method", "seed",
                 "--width", "960", "--height", "540"]) == 0
    # a file whose name does not say C1/C3: the side from the walking direction (a camera on
    # the subject's right sees them walk left-to-right), said in the output
    other = save_pose(view.pose, tmp_path / "walk.h5")
    assert main(["events", str(other)]) == 0
    assert "right side (from the walking direction, left-to-right" in capsys.readouterr().out
    assert set(pd.read_csv(tmp_path / "walk_events.csv")["side"]) == {"right"}
    left = save_pose(trial.views["C1"].pose, tmp_path / "walk_other_camera.h5")
    assert main(["events", str(left)]) == 0
    assert set(pd.read_csv(tmp_path / "walk_other_camera_events.csv")["side"]) == {"left"}
    assert main(["events", str(other), "--side", "left", "--trial", "X", "--overwrite"]) == 0
    written = pd.read_csv(tmp_path / "walk_events.csv")
    assert written["trial"].unique().tolist() == ["X"] and set(written["side"]) == {"left"}
    # a name that contradicts the walking direction is pointed out (events still written)
    wrong = save_pose(view.pose, tmp_path / prediction_filename("T07", "C1"))  # walks as C3
    assert main(["events", str(wrong)]) == 0
    assert "the name says view C1 (the left leg) but the subject walks left-to-right" in (
        capsys.readouterr().err)
    # on a treadmill the subject does not travel: an unnamed file needs --side (8 s: on a
    # clip of ~4 strides the whole body's mean x, feet included, moves 20-30 px between the
    # first and last third in about a quarter of the walker's views, read as travel)
    tread = generate_trial(5, trial="T08", treadmill=True, duration_s=8.0).views["C3"].pose
    unnamed = save_pose(tread, tmp_path / "belt.h5")
    assert main(["events", str(unnamed)]) == 2
    assert "give --side" in capsys.readouterr().err


def _assert_walker_events_close(m: pd.DataFrame) -> None:
    """Matched events (``match_events``) of the default detector on a raw walker view: median
    within half a frame, each within 1.5 (seed 5's C3 has a 3-frame wrong-limb run of the
    toe right after its first toe off, which lands 1.0 frame early on the raw track)."""
    err = np.abs(m["error_frames"].dropna())
    assert set(m.loc[err.index, "event"]) == {"heel_strike", "toe_off"}
    assert np.median(err) <= 0.5
    assert err.max() < 1.5


def test_cli_events_levels_a_rolled_camera_unless_asked_not_to(tmp_path, capsys):
    from napari_gaitint.cli import main
    from napari_gaitint.core.io import save_pose
    from napari_gaitint.synthetic.files import prediction_filename
    from napari_gaitint.synthetic.trial import generate_trial

    trial = generate_trial(5, trial="T07", roll_deg=3.0)
    pred = save_pose(trial.views["C3"].pose, tmp_path / prediction_filename("T07", "C3"))
    assert main(["events", str(pred), "--out", str(tmp_path / "a.csv")]) == 0
    # (3 degrees of roll, fitted within 0.15 degree)
    assert re.search(r"floor was tilted \+(2\.[89]|3\.[01])", capsys.readouterr().out)
    assert main(["events", str(pred), "--out", str(tmp_path / "b.csv"), "--no-level"]) == 0
    assert "tilted" not in capsys.readouterr().out
    m = match_events(pd.read_csv(tmp_path / "a.csv"), trial.views["C3"].events, tolerance_frames=3)
    assert np.abs(m["error_frames"].dropna()).max() < 1.0


def test_cli_angles_writes_the_per_frame_table(tmp_path, capsys):
    from napari_gaitint import cli
    from napari_gaitint.core.io import load_pose, save_pose
    from napari_gaitint.synthetic.trial import generate_trial

    view = generate_trial(2).views["C3"]
    pred = save_pose(view.pose, tmp_path / "T02_C3DLC_resnet50_x.h5")
    out = tmp_path / "angles.csv"
    assert cli.main(["angles", str(pred), "--fps", "25", "--out", str(out)]) == 0
    assert "right leg" in capsys.readouterr().out
    table = pd.read_csv(out)
    assert list(table.columns) == ["frame", "time_s", "hip", "knee", "ankle", "trunk"]
    pose = load_pose(pred, fps=25.0)
    expected = compute_angles(orient_pose(pose, frame_size=(960, 540)))
    assert_allclose(table["time_s"], expected["time_s"])
    assert_allclose(table[list(JOINTS)], expected[list(JOINTS)], atol=1e-9)
    assert table["knee"].notna().mean() > 0.5  # (the walker enters and leaves the image)
    # an existing output is kept; a file that does not say its leg takes it from the walking
    # direction (C3 walks left-to-right: the right leg), as `gaitint events` does
    assert cli.main(["angles", str(pred), "--fps", "25", "--out", str(out)]) == 2
    assert "exists already" in capsys.readouterr().err
    anonymous = save_pose(view.pose, tmp_path / "walk.h5")
    assert cli.main(["angles", str(anonymous), "--fps", "25"]) == 0
    assert "from the walking direction" in capsys.readouterr().out
    assert_allclose(pd.read_csv(tmp_path / "walk_angles.csv")[list(JOINTS)], table[list(JOINTS)], atol=1e-9)
    # a standing subject (no travel) cannot tell: --side is asked for
    first = np.nanmean(view.pose.values, axis=0, keepdims=True)  # every frame the same pose
    still = view.pose.replace(values=np.broadcast_to(first, view.pose.values.shape).copy())
    assert cli.main(["angles", str(save_pose(still, tmp_path / "still.h5")), "--fps", "25"]) == 2
    assert "give --side" in capsys.readouterr().err
    assert not (tmp_path / "still_angles.csv").exists()


def test_cli_events_on_a_cleaned_file_passes_its_flags_and_the_cleaned_cut_off(tmp_path, trials):
    """A file ``gaitint clean`` wrote: its flag table beside it is read and passed with the
    cleaned likelihood cut-off, so the events (and their confidence) are the chain's."""
    from napari_gaitint.cli import main
    from napari_gaitint.core.chain import analyze_view
    from napari_gaitint.core.clean import flags_path, load_flags
    from napari_gaitint.core.clean_flags import FLAG_INTERPOLATED
    from napari_gaitint.core.io import load_pose, save_pose

    views = trials[0].views
    pred = {v: save_pose(views[v].pose, tmp_path / f"T01_{v}DLC_resnet50.h5") for v in ("C1", "C3")}
    assert main(["clean", str(pred["C1"]), "--other-view", str(pred["C3"]), "--fps", "25"]) == 0
    cleaned = pred["C1"].parent / "cleaned" / pred["C1"].name
    out = tmp_path / "events.csv"
    assert main(["events", str(cleaned), "--fps", "25", "--out", str(out)]) == 0
    written = pd.read_csv(out, keep_default_na=False)
    pose = load_pose(cleaned, fps=25, bodyparts={}, side="left")
    flags = load_flags(flags_path(cleaned), pose, names=pose.meta["bodypart_names"])
    assert flags.any()
    size = tuple(int(np.ceil(np.nanmax(pose.xy[..., a]))) + 1 for a in (0, 1))
    chain = analyze_view(pose, side="left", fps=25, frame_size=size, flags=flags, cleaned=True).events
    assert_allclose(written["frame"], chain["frame"], atol=1e-9)
    assert written["confidence"].tolist() == chain["confidence"].tolist()
    assert written["why"].tolist() == chain["why"].tolist()
    raw_cut = analyze_view(pose, side="left", fps=25, frame_size=size, flags=flags).events
    assert not raw_cut["frame"].equals(chain["frame"])  # the cut-off 0 counted
    # the flags counted: a table saying every heel and toe point was filled lowers them all
    table = pd.read_csv(flags_path(cleaned))
    name = {r: n for r, n in pose.meta["bodypart_names"].items() if r in ("heel", "toe")}
    filled = pd.DataFrame([(f, n, FLAG_INTERPOLATED) for f in range(pose.n_frames) for n in name.values()],
                          columns=["frame", "bodypart", "flags"])
    pd.concat([table[["frame", "bodypart", "flags"]], filled]).drop_duplicates(
        ["frame", "bodypart"], keep="last").to_csv(flags_path(cleaned), index=False)
    assert main(["events", str(cleaned), "--fps", "25", "--out", str(out), "--overwrite"]) == 0
    refilled = pd.read_csv(out, keep_default_na=False)
    assert (refilled["confidence"] < 1).all() and refilled["why"].str.contains("flagged frames").all()


def test_event_options_come_from_the_settings_and_reach_the_detector(tmp_path, capsys):
    """``gaitint events`` options: one per EVENT_OPTIONS field, defaults shown from
    EventConfig, the values given passed to the chain."""
    import dataclasses

    from napari_gaitint.cli import build_parser, main
    from napari_gaitint.core.chain import analyze_view
    from napari_gaitint.core.config import EVENT_OPTIONS, EventConfig
    from napari_gaitint.core.io import load_pose, save_pose
    from napari_gaitint.synthetic.files import prediction_filename
    from napari_gaitint.synthetic.trial import generate_trial

    assert set(EVENT_OPTIONS) <= {f.name for f in dataclasses.fields(EventConfig)}
    args = build_parser().parse_args(["events", "x.h5"])
    assert all(getattr(args, f"event_{name}") is None for name in EVENT_OPTIONS)  # only what is given
    with pytest.raises(SystemExit):
        main(["events", "--help"])
    helptext = " ".join(capsys.readouterr().out.split())
    assert f"(default {EventConfig().max_gap_s:g})" in helptext and "(default 0.5 3)" in helptext
    view = generate_trial(5, trial="T07").views["C3"]
    pred = save_pose(view.pose, tmp_path / prediction_filename("T07", "C3"))
    out = tmp_path / "events.csv"
    assert main(["events", str(pred), "--out", str(out), "--method", "zeni", "--max-gap-s", "0.05",
                 "--stride-range-s", "0.8", "1.6", "--min-likelihood", "0.9", "--reference", "neck"]) == 0
    written = pd.read_csv(out)
    pose = load_pose(pred, fps=25, bodyparts={}, side="right")
    size = tuple(int(np.ceil(np.nanmax(pose.xy[..., a]))) + 1 for a in (0, 1))
    settings = EventConfig(method="zeni", max_gap_s=0.05, stride_range_s=(0.8, 1.6), min_likelihood=0.9,
                           reference="neck")
    chain = analyze_view(pose, side="right", settings=settings, fps=25, frame_size=size).events
    assert_allclose(written["frame"], chain["frame"], atol=1e-9)
    default = analyze_view(pose, side="right", settings=EventConfig(method="zeni"), fps=25, frame_size=size).events
    assert not default["frame"].equals(chain["frame"])  # the options changed something
    assert main(["events", str(pred), "--out", str(out), "--overwrite", "--min-likelihood", "2"]) == 2
    assert "min_likelihood must be in [0, 1]" in capsys.readouterr().err


def test_analyze_event_options_go_into_the_config_and_its_events_table(tmp_path, monkeypatch):
    from napari_gaitint import cli
    from napari_gaitint.workflow import cohort
    from napari_gaitint.workflow.config import config_to_toml

    seen = {}

    def fake(table, out, *, config, **kw):
        seen["config"] = config
        raise SystemExit(0)

    monkeypatch.setattr(cohort, "analyze_cohort", fake)
    monkeypatch.setattr("napari_gaitint.workflow.manifest.load_manifest", lambda path: pd.DataFrame())
    settings = tmp_path / "config.toml"
    settings.write_text('events_method = "zeni"\n[events]\nmax_gap_s = 0.3\nfit_stride = 0.1\n')
    with pytest.raises(SystemExit):
        cli.main(["analyze", "trials.csv", "--out", str(tmp_path / "out"), "--config", str(settings),
                  "--reference", "neck", "--stride-range-s", "0.6", "2.5", "--max-gap-s", "0.25"])
    config = seen["config"]
    assert config.events_method == "zeni" and config.events_reference == "neck"
    assert dict(config.events) == {"max_gap_s": 0.25, "fit_stride": 0.1, "stride_range_s": (0.6, 2.5)}
    event = config.event_config()
    assert (event.max_gap_s, event.stride_range_s, event.fit_stride) == (0.25, (0.6, 2.5), 0.1)
    toml = config_to_toml(config.resolved())
    assert "[events]" in toml and "max_gap_s = 0.25" in toml and "stride_range_s = [0.6, 2.5]" in toml
    with pytest.raises(SystemExit):  # nothing given: the config as it was
        cli.main(["analyze", "trials.csv", "--out", str(tmp_path / "out"), "--config", str(settings)])
    assert dict(seen["config"].events) == {"max_gap_s": 0.3, "fit_stride": 0.1}
