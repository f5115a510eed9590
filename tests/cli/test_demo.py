"""`gaitint demo`: the README's main job, end to end on the embedded sample (no Qt).

Checked against the sample's ground truth, not against a snapshot: every true heel strike
and toe off in view is found, the ANOVA covers every body part and axis, and the report
holds its figures. Re-running never replaces results unless asked, and reuses the sample.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from napari_gaitint import cli
from napari_gaitint.core._files import file_sha256
from napari_gaitint.core.io import load_pose
from napari_gaitint.core.video import probe_video
from napari_gaitint.synthetic.demo import DEMO_TRIALS


def test_demo_runs_the_whole_job_and_finds_the_true_events(tmp_path, capsys):
    out = tmp_path / "demo"
    assert cli.main(["demo", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"analysed {DEMO_TRIALS} trial(s)" in printed
    assert f"RM-ANOVA on {DEMO_TRIALS} trials" in printed

    # the sample: a trial pair per trial, each with a video showing its predictions' frames
    sample = out / "sample"
    trials = pd.read_csv(sample / "trials.csv")
    assert len(trials) == 2 * DEMO_TRIALS and set(trials["view"]) == {"C1", "C3"}
    for _, row in trials.iterrows():
        info = probe_video(sample / row["video"])
        assert info.n_frames == load_pose(sample / row["predictions"]).n_frames
        assert (info.width, info.height) == (row["width"], row["height"])

    results = out / "results"
    assert pd.read_csv(results / "problems.csv").empty
    anova = pd.read_csv(results / "anova.csv")
    # (body parts x axes + the 4 joint angles) x (time, perspective, interaction)
    assert len(anova) == (6 * 2 + 4) * 3
    angles = anova[anova["axis"] == "angle"]
    assert list(pd.unique(angles["bodypart"])) == ["hip", "knee", "ankle", "trunk"]
    agreement = pd.read_csv(results / "agreement.csv")
    assert set(agreement.loc[agreement["axis"] == "angle", "bodypart"]) == {"hip", "knee", "ankle", "trunk"}
    assert anova["n"].eq(DEMO_TRIALS).all() and np.isfinite(anova["F"]).all()
    assert (anova.loc[anova["effect"] == "time", "p_unc"] < 1e-3).all()  # a gait cycle moves

    # every detection is a true event, and every true event in view is found, within a
    # frame and a half (those within 0.5 s of a recording's ends are not required: the
    # subject enters or leaves the picture there, see validation/validate_events.py)
    found = pd.read_csv(results / "events.csv")
    truth = pd.read_csv(sample / "truth" / "events.csv")
    n_required = 0
    for (trial, view), ours in found.groupby(["trial", "view"]):
        row = trials[(trials["trial"] == trial) & (trials["view"] == view)].iloc[0]
        n_frames = load_pose(sample / row["predictions"]).n_frames
        true = truth[(truth["trial"] == trial) & (truth["view"] == view)]
        for event in ("heel_strike", "toe_off"):
            t = true.loc[true["event"] == event, "frame"].to_numpy()
            o = ours.loc[ours["event"] == event, "frame"].to_numpy()
            assert len(o) and np.abs(o[:, None] - t[None, :]).min(axis=1).max() <= 1.5, (trial, view, event)
            inner = true[(true["event"] == event) & true["in_view"]
                         & true["frame"].between(12, n_frames - 1 - 12)]["frame"].to_numpy()
            n_required += len(inner)
            if len(inner):
                assert np.abs(inner[:, None] - o[None, :]).min(axis=1).max() <= 1.5, (trial, view, event)
    assert found.groupby(["trial", "view"]).ngroups == 2 * DEMO_TRIALS
    assert n_required >= 4 * 2 * DEMO_TRIALS

    report = (results / "report.html").read_text(encoding="utf-8")
    # mean cycles, differences, Bland-Altman: of the positions and of the angles
    assert report.count("data:image/png;base64,") == 6 and "Sagittal joint angles (degrees" in report
    assert len(list((results / "figures").glob("*.png"))) == 6

    # again: refused, nothing touched; with --overwrite: the same sample, new results
    videos = {p: (p.stat().st_mtime_ns, file_sha256(p)) for p in sorted(sample.glob("*.mp4"))}
    anova_sha = file_sha256(results / "anova.csv")
    assert cli.main(["demo", str(out)]) == 2
    assert "exists already" in capsys.readouterr().err
    assert file_sha256(results / "anova.csv") == anova_sha
    assert cli.main(["demo", str(out), "--overwrite"]) == 0
    assert {p: (p.stat().st_mtime_ns, file_sha256(p)) for p in sorted(sample.glob("*.mp4"))} == videos
    pd.testing.assert_frame_equal(pd.read_csv(results / "anova.csv"), anova)
