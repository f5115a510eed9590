"""``gaitint analyze`` and ``gaitint manifest`` on a synthetic cohort: a folder of DeepLabCut
outputs without a manifest, and an interrupted run that the same command resumes (the cohort
run itself: tests/core/test_pipeline.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from napari_gaitint.workflow import cohort as cohort_module
from napari_gaitint.workflow.cohort import _run_stats, analyze_cohort
from napari_gaitint.workflow.manifest import find_trials, load_manifest
from napari_gaitint.workflow.resume import _CACHE_DIR


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    from napari_gaitint.synthetic.files import write_synthetic_cohort

    out = tmp_path_factory.mktemp("cohort")
    return write_synthetic_cohort(out, n_trials=4, seed=11, fps=25.0, video=False, bias_px=0.0)


def _blank_video(path, n_frames, size=(960, 540), fps=25):
    import av

    with av.open(str(path), "w") as c:
        st = c.add_stream("libx264", rate=fps, options={"preset": "ultrafast"})
        st.width, st.height, st.pix_fmt = size[0], size[1], "yuv420p"
        frame = av.VideoFrame.from_ndarray(np.zeros((size[1], size[0], 3), np.uint8), format="rgb24")
        for _ in range(n_frames):
            for packet in st.encode(frame):
                c.mux(packet)
        for packet in st.encode():
            c.mux(packet)
    return path


def test_folder_of_dlc_outputs_is_analysed_without_a_manifest(cohort, tmp_path):
    """A folder as DeepLabCut leaves it: videos, <video>DLC_<scorer>.h5, filtered and .csv
    copies, a front camera and a labels file. The trials are found by name (unfiltered
    .h5 first), frame rate and size come from the videos, and the results equal those of
    the hand-written manifest."""
    import shutil

    from napari_gaitint.cli import main
    from napari_gaitint.core.io import load_pose

    table = load_manifest(cohort).iloc[:2]  # trial T01, both views
    folder = tmp_path / "dlc outputs"
    folder.mkdir()
    for _, row in table.iterrows():
        src = Path(row["predictions"])
        stem = f"{row['trial']}_{row['view']}"
        shutil.copy(src, folder / src.name)
        shutil.copy(src, folder / (src.stem + "_filtered.h5"))  # decoys
        shutil.copy(src, folder / (src.stem + ".csv"))
        _blank_video(folder / f"{stem}.mp4", load_pose(src).n_frames)
    shutil.copy(src, folder / "T01_C2DLC_resnet50_frontshuffle1_1000.h5")
    shutil.copy(src, folder / "CollectedData_me.h5")
    found = find_trials(folder)
    assert found[["trial", "view"]].values.tolist() == [["T01", "C1"], ["T01", "C3"]]
    assert [Path(p).name for p in found["predictions"]] == [Path(p).name for p in table["predictions"]]
    assert [Path(p).name for p in found["video"]] == ["T01_C1.mp4", "T01_C3.mp4"]
    assert any("C2" in n for n in found.attrs["notes"])
    ours = analyze_cohort(table, None, stats=False)
    by_name = analyze_cohort(folder, None, stats=False)
    pd.testing.assert_frame_equal(by_name.events, ours.events)
    # the command line: gaitint manifest writes an editable trials.csv (relative paths)
    assert main(["analyze", str(folder), "--out", str(tmp_path / "res"), "--no-report"]) == 0
    assert (tmp_path / "res" / "trials_found.csv").is_file()
    assert main(["manifest", str(folder)]) == 0
    written = pd.read_csv(folder / "trials.csv")
    assert written["video"].tolist() == ["T01_C1.mp4", "T01_C3.mp4"]
    assert main(["manifest", str(folder)]) == 2  # never replaced without --overwrite


def test_interrupted_command_says_it_resumes(cohort, tmp_path, monkeypatch, capsys):
    from napari_gaitint.cli import main

    real = _run_stats

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cohort_module, "_run_stats", killed)
    command = ["analyze", str(cohort), "--out", str(tmp_path / "res"), "--no-report"]
    assert main(command) == 130
    assert "interrupted; the same command resumes it" in capsys.readouterr().err
    monkeypatch.setattr(cohort_module, "_run_stats", real)
    assert main(command) == 0
    assert (tmp_path / "res" / "anova.csv").is_file()
    assert not (tmp_path / "res" / _CACHE_DIR).exists()


def test_subject_column_makes_subjects_the_repeated_measures_unit(tmp_path):
    """10 subjects x 3 trials through gaitint analyze: the trials of a subject are averaged
    per view, the perspective test has (1, 9) degrees of freedom (not (1, 29)), and its
    numbers are those of the ANOVA of the subject means computed by hand."""
    from napari_gaitint.cli import main
    from napari_gaitint.core.stats import rm_anova
    from napari_gaitint.synthetic.files import write_synthetic_cohort

    manifest = write_synthetic_cohort(tmp_path / "study", n_trials=30, seed=5, video=False, n_jobs=0)
    table = pd.read_csv(manifest)
    table["subject"] = [f"S{(int(t[1:]) - 1) // 3:02d}" for t in table["trial"]]
    table.to_csv(manifest, index=False)
    assert main(["analyze", str(manifest), "--out", str(tmp_path / "out"), "--no-report", "--jobs", "2"]) == 0
    anova = pd.read_csv(tmp_path / "out" / "anova.csv")
    persp = anova[anova["effect"] == "perspective"]
    assert (persp["ddof1"] == 1).all() and (persp["ddof2"] == 9).all()
    assert (anova["n_subjects"] == 10).all() and (anova["n_trials"] == 30).all()
    cycles = pd.read_csv(tmp_path / "out" / "cycles.csv")
    assert list(cycles.columns[-2:]) == ["unit", "subject"]
    by_hand = cycles.groupby(["subject", "view", "bodypart", "axis", "pct"], as_index=False, sort=False)["value"].mean()
    ref = rm_anova(by_hand.rename(columns={"subject": "trial"}))
    np.testing.assert_allclose(anova["F"], ref["F"], rtol=1e-9)
    agreement = pd.read_csv(tmp_path / "out" / "agreement.csv")
    assert (agreement["n_subjects"] == 10).all() and (agreement["n_trials"] == 30).all()
    for name in ("events", "parameters"):
        table = pd.read_csv(tmp_path / "out" / f"{name}.csv")
        assert (table["subject"] == table["trial"].map(lambda t: f"S{(int(t[1:]) - 1) // 3:02d}")).all()
