"""``gaitint clean``: DeepLabCut files in, cleaned files and their flags beside them; the
inputs never touched."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from numpy.testing import assert_allclose

#: MediaPipe Pose keypoints of a public video (validation/data/real_video, see
#: tests/core/test_real_video.py)
REAL_VIDEO_DATA = Path(__file__).resolve().parents[2] / "validation" / "data" / "real_video"
#: A prediction file named as DeepLabCut names it after the video.
PRED = "T01_C1DLC_resnet50_gaitJan1shuffle1_1000.h5"


def _write_pair(tmp_path, trial, suffix=".h5"):
    from napari_gaitint.core.io import save_pose

    paths = {}
    for name, view in trial.views.items():
        paths[name] = save_pose(view.pose, tmp_path / f"T01_{name}DLC_resnet50{suffix}")
    return paths


def test_cli_clean_writes_dlc_and_flags_never_touches_input(tmp_path, trials, capsys):
    from napari_gaitint.cli import main
    from napari_gaitint.core._files import file_sha256
    from napari_gaitint.core.io import load_pose

    paths = _write_pair(tmp_path, trials[0])
    before = {k: file_sha256(p) for k, p in paths.items()}
    rc = main(["clean", str(paths["C1"]), "--other-view", str(paths["C3"]), "--fps", "25"])
    assert rc == 0
    # cleaned/<input name>: DeepLabCut's name, one folder down
    out = paths["C1"].parent / "cleaned" / (paths["C1"].stem + ".h5")
    flags_csv = out.with_name(out.stem + "_flags.csv")
    assert out.exists() and flags_csv.exists()
    assert {k: file_sha256(p) for k, p in paths.items()} == before
    raw, cleaned = load_pose(paths["C1"]), load_pose(out)
    assert cleaned.bodyparts == raw.bodyparts and (cleaned.index == raw.index).all()
    assert_allclose(cleaned.likelihood, raw.likelihood)
    # image coordinates: the cleaned points overlay the true near leg
    truth = trials[0].views["C1"].true_pose.xy
    err = np.linalg.norm(cleaned.xy - truth, axis=-1)
    assert np.nanmedian(err) < 2.5
    table = pd.read_csv(flags_csv)
    assert list(table.columns) == ["frame", "bodypart", "flags", "names", "reason"]
    assert table["names"].str.contains("wrong_limb").any()
    assert "wrong_limb" in capsys.readouterr().out
    # a second run refuses to overwrite; --overwrite and a csv output work
    assert main(["clean", str(paths["C1"]), "--fps", "25"]) == 2
    csv_out = tmp_path / "sub" / "c1.csv"
    assert main(["clean", str(paths["C1"]), "--fps", "25", "--method", "baseline",
                 "--out", str(csv_out)]) == 0
    assert load_pose(csv_out).n_frames == raw.n_frames
    assert (tmp_path / "sub" / "c1_flags.csv").exists()
    assert {k: file_sha256(p) for k, p in paths.items()} == before


def test_cli_clean_needs_fps_for_filter_and_maps_names(tmp_path, trials, capsys):
    from napari_gaitint.cli import main
    from napari_gaitint.core.io import load_pose, save_pose

    view = trials[1].views["C3"]
    src_a = save_pose(view.pose, tmp_path / "a.h5")
    assert main(["clean", str(src_a)]) == 2
    assert "--fps" in capsys.readouterr().err
    assert main(["clean", str(src_a), "--fps", "25", "--width", "400"]) == 2
    assert "beyond --width" in capsys.readouterr().err
    assert not (tmp_path / "cleaned").exists()
    names = {"neck": "Neck", "hip": "RHip", "knee": "RKnee", "ankle": "RAnkle",
             "heel": "RHeel", "toe": "RToe"}
    renamed = view.pose.replace(bodyparts=tuple(names[b] for b in view.pose.bodyparts))
    other = trials[1].views["C1"].pose
    other = other.replace(bodyparts=tuple(names[b] for b in other.bodyparts))
    src = save_pose(renamed, tmp_path / "b.csv")
    oth = save_pose(other, tmp_path / "c.csv")
    mapping = ",".join(f"{k}={v}" for k, v in names.items())
    rc = main(["clean", str(src), "--other-view", str(oth), "--fps", "25", "--bodyparts", mapping,
               "--out", str(tmp_path / "b_clean.h5")])
    assert rc == 0
    out = load_pose(tmp_path / "b_clean.h5")
    assert out.bodyparts == renamed.bodyparts  # the file's own names are kept
    table = pd.read_csv(tmp_path / "b_clean_flags.csv")
    inj = set(zip(view.wrong_limb["frame"], view.wrong_limb["bodypart"].map(names), strict=True))
    hit = set(zip(table["frame"], table["bodypart"], strict=True)) & inj
    assert len(hit) >= 0.8 * len(inj)


def test_cli_clean_matches_side_named_parts_without_a_mapping(tmp_path, trials):
    """C1 says LHeel, C3 says RHeel: the roles are matched per camera (its side from the
    file name) and the other view's leg is found under its own names."""
    from napari_gaitint.cli import main
    from napari_gaitint.core.io import save_pose

    def named(pose, side):
        return pose.replace(bodyparts=tuple("Neck" if b == "neck" else side + b.capitalize()
                                            for b in pose.bodyparts))

    view = trials[1].views["C1"]
    src = save_pose(named(view.pose, "L"), tmp_path / "T02_C1DLC.csv")
    oth = save_pose(named(trials[1].views["C3"].pose, "R"), tmp_path / "T02_C3DLC.csv")
    assert main(["clean", str(src), "--other-view", str(oth), "--fps", "25"]) == 0
    table = pd.read_csv(tmp_path / "cleaned" / "T02_C1DLC_flags.csv")
    wrong = table[table["names"].str.contains("wrong_limb")]
    inj = set(zip(view.wrong_limb["frame"], "L" + view.wrong_limb["bodypart"].str.capitalize(), strict=True))
    hit = set(zip(wrong["frame"], wrong["bodypart"], strict=True)) & inj
    assert inj and len(hit) >= 0.8 * len(inj)


def test_cli_clean_of_a_both_legs_file_checks_both_legs(tmp_path, capsys):
    """`gaitint clean` on a pose estimator's file (LHeel/RHeel, no C1/C3 in the name, no other
    view): before, no role matched the leg chain and no wrong-limb check ran at all."""
    from napari_gaitint.cli import main

    src = REAL_VIDEO_DATA / "sports2d_demo.h5"
    out = tmp_path / "cleaned.h5"
    assert main(["clean", str(src), "--fps", "30", "--out", str(out)]) == 0
    said = capsys.readouterr()
    assert "not in" not in said.err and "swapped" in said.out
    table = pd.read_csv(tmp_path / "cleaned_flags.csv")
    swapped = table[table["names"].str.contains("swapped")]
    assert set(swapped["frame"]) == {106, 158}
    assert set(swapped["bodypart"]) >= {"left_heel", "right_heel", "left_toe", "right_toe"}


def test_clean_writes_dlc_name_one_folder_down(data_dir, tmp_path):
    """As DeepLabCut leaves a folder (predictions named after the video): the cleaned file
    keeps the name, one folder down, with its flags and DeepLabCut's metadata."""
    import pickle
    import shutil

    from napari_gaitint.cli import main
    from napari_gaitint.core.io import load_pose

    video_folder = tmp_path
    pred = shutil.copy(data_dir / "pred_single.h5", video_folder / PRED)
    assert main(["clean", str(pred), "--fps", "25", "--method", "baseline"]) == 0
    out = video_folder / "cleaned"
    assert sorted(p.name for p in out.iterdir()) == [
        PRED, PRED.replace(".h5", "_flags.csv"), PRED.replace(".h5", "_meta.pickle")]
    # beside the video only the original: DLC looks there one folder deep, by name
    assert sorted(p.name for p in video_folder.glob("*.h5")) == [PRED]
    meta = pickle.loads((out / PRED.replace(".h5", "_meta.pickle")).read_bytes())
    assert meta["data"]["cropping"] is False and meta["data"]["nframes"] == load_pose(pred).n_frames
