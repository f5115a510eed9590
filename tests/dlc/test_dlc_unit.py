"""DeepLabCut integration pieces that need no DeepLabCut: mirroring, manifest, label export.

These run in the normal suite. The end-to-end test with a real trained network is
``test_dlc_end_to_end.py`` (marked ``dlc``; run by ``scripts/dlc_test.sh``).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from napari_gaitint import dlc
from napari_gaitint.core.config import ROLES
from napari_gaitint.core.errors import GaitintError, InputFileError
from napari_gaitint.core.io import read_dlc_table
from napari_gaitint.core.pose import Pose
from napari_gaitint.core.video import probe_video
from napari_gaitint.dlc.analyze import _mirror_table_x
from napari_gaitint.dlc.labels import _read_video_frames
from napari_gaitint.workflow.manifest import (
    _PAIR_COLUMNS,
    find_trial_pairs,
    trial_name_from_videos,
    update_manifest,
)

W, H, N = 64, 48, 12


def _decode(path):
    import av

    with av.open(str(path)) as c:
        return np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)])


def _bar_frames():
    """Frames with a white 2-px bar at column 5 + i (i = frame) on a left-to-right gradient."""
    frames = []
    for i in range(N):
        img = np.zeros((H, W, 3), np.uint8)
        img[:] = np.linspace(20, 120, W, dtype=np.uint8)[None, :, None]
        img[:, 5 + i: 7 + i] = 250
        frames.append(img)
    return frames


@pytest.fixture
def bar_video(tmp_path, video_writer):
    return video_writer(tmp_path / "T01_C3.mp4", _bar_frames(), fps=Fraction(25), options={"crf": "10"})


def test_mirror_video_flips_frames_and_keeps_stream_settings(bar_video, tmp_path):
    out = dlc.mirror_video(bar_video, tmp_path / "m.mp4")
    a, b = probe_video(bar_video), probe_video(out)
    assert (b.width, b.height, b.n_frames) == (a.width, a.height, a.n_frames) == (W, H, N)
    assert b.fps == pytest.approx(a.fps, abs=1e-9)
    src, mir = _decode(bar_video).astype(float), _decode(out).astype(float)
    # same content, flipped left-right (only the re-encoding differs, by a few grey levels)
    assert np.abs(mir - src[:, :, ::-1]).mean() < 2.0
    assert np.abs(mir - src).mean() > 20  # and really flipped
    # the bar at columns c, c+1 lands at W-1-c-1, W-1-c: the map x -> W-1-x
    for i in range(N):
        cols = np.flatnonzero(mir[i, H // 2, :, 0] > 200)
        assert_array_equal(cols, [W - 1 - (6 + i), W - 1 - (5 + i)])


@pytest.mark.parametrize("stored", [-90, 90, 180])
def test_phone_rotated_video_is_read_and_mirrored_upright(tmp_path, video_writer, stored):
    """A video with a display rotation (portrait phone recordings store landscape frames
    and how to turn them): its size is the upright one, frames for label export come out
    upright, and the mirrored copy for DLC is the upright picture flipped, stored without a
    rotation, as OpenCV (hence DeepLabCut) shows the source (checked against OpenCV 5.1:
    -90 turns the stored frame clockwise)."""
    from napari_gaitint.core.video import upright

    src = tmp_path / "T01_C3.mp4"
    video_writer(src, _bar_frames(), options={"crf": "10"}, rotation_deg=stored)
    info = probe_video(src)
    assert info.rotation_deg == stored % 360
    assert (info.width, info.height) == ((H, W) if stored % 180 else (W, H))
    want = np.stack([upright(f, stored % 360) for f in _bar_frames()]).astype(float)
    if stored == -90:  # clockwise: the stored top-left corner ends top-right
        assert_array_equal(want[0, 0, -1], _bar_frames()[0][0, 0])
    got = _read_video_frames(src, {0, 7})
    assert np.abs(got[7] - want[7]).mean() < 2.0 and got[7].shape == want[7].shape
    out = dlc.mirror_video(src, tmp_path / "T01_C3_mirrored.mp4")
    m = probe_video(out)
    assert (m.width, m.height, m.rotation_deg) == (info.width, info.height, 0)
    mir = _decode(out).astype(float)
    assert np.abs(mir - want[:, :, ::-1]).mean() < 2.0


def test_mirror_video_refuses_to_clobber(bar_video, tmp_path):
    out = dlc.mirror_video(bar_video, tmp_path / "m.mp4")
    with pytest.raises(GaitintError, match="exists already"):
        dlc.mirror_video(bar_video, out)
    with pytest.raises(InputFileError):
        dlc.mirror_video(bar_video, bar_video, overwrite=True)
    with pytest.raises(InputFileError, match="not found"):
        dlc.mirror_video(tmp_path / "missing.mp4", tmp_path / "x.mp4")


def test_mirror_pose_x_is_an_involution_and_keeps_nan():
    rng = np.random.default_rng(3)
    values = np.concatenate([rng.uniform(0, 959, (20, 6, 2)), rng.uniform(0, 1, (20, 6, 1))], axis=2)
    values[3, 2] = np.nan
    pose = Pose(values, ROLES)
    m = dlc.mirror_pose_x(pose, 960)
    assert_allclose(m.values[..., 0], 959.0 - values[..., 0], atol=0)
    assert_array_equal(m.values[..., 1:], values[..., 1:])
    assert np.isnan(m.values[3, 2]).all()
    back = dlc.mirror_pose_x(m, 960)
    assert_allclose(back.values, values, atol=1e-12)
    assert m.meta["mirrored_x"] and not back.meta["mirrored_x"]


def test_mirror_table_x_changes_only_x():
    cols = pd.MultiIndex.from_product([["net"], ["neck", "toe"], ["x", "y", "likelihood"]])
    df = pd.DataFrame((np.arange(12.0).reshape(2, 6) + 0.1).astype(np.float32), columns=cols)
    out = _mirror_table_x(df, 100)
    # exact both ways although DeepLabCut writes float32
    assert_array_equal(_mirror_table_x(out, 100).to_numpy(), df.to_numpy(dtype=float))
    assert_allclose(out.xs("x", axis=1, level=2).to_numpy(), 99.0 - df.xs("x", axis=1, level=2).to_numpy())
    for c in ("y", "likelihood"):
        assert_array_equal(out.xs(c, axis=1, level=2).to_numpy(), df.xs(c, axis=1, level=2).to_numpy())


@pytest.mark.parametrize(
    ("c1", "c3", "trial"),
    [("T01_C1.mp4", "T01_C3.mp4", "T01"), ("rat5-C1-run2.avi", "rat5-C3-run2.avi", "rat5-run2"),
     ("C1_walk3.mp4", "C3_walk3.mp4", "walk3"), ("a.mp4", "b.mp4", "a")],
)
def test_trial_name_from_videos(c1, c3, trial):
    assert trial_name_from_videos(c1, c3) == trial


def test_find_trial_pairs(tmp_path):
    for name in ("T01_C1.mp4", "T01_C3.mp4", "T02_C1.mp4", "T02_C3.mp4", "T03_C1.mp4",
                 "T01_C3_mirrored.mp4", "notes.txt", "T10_C11.mp4"):
        (tmp_path / name).write_bytes(b"x")
    pairs = find_trial_pairs(tmp_path)
    assert [(t, a.name, b.name) for t, a, b in pairs] == [
        ("T01", "T01_C1.mp4", "T01_C3.mp4"), ("T02", "T02_C1.mp4", "T02_C3.mp4")]
    with pytest.raises(InputFileError, match="not a folder"):
        find_trial_pairs(tmp_path / "T01_C1.mp4")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputFileError, match="no trial pairs"):
        find_trial_pairs(empty)


def test_update_manifest_replaces_rows_of_the_trial_and_keeps_others(tmp_path):
    path = tmp_path / "trials.csv"
    pd.DataFrame({"trial": ["T01", "T01", "T02"], "view": ["C1", "C3", "C1"], "side": ["left", "right", "left"],
                  "predictions": ["a.h5", "b.h5", "c.h5"], "note": ["x", "y", "z"]}).to_csv(path, index=False)
    update_manifest(path, [{"trial": "T01", "view": "C3", "side": "right", "predictions": "new.h5",
                                "video": "T01_C3.mp4", "fps": 25.0, "width": 960, "height": 540,
                                "mirrored": True}])
    df = pd.read_csv(path, dtype={"trial": str})
    assert list(df.columns[:9]) == list(_PAIR_COLUMNS) and "note" in df.columns
    assert df[["trial", "view", "predictions"]].values.tolist() == [
        ["T01", "C1", "a.h5"], ["T01", "C3", "new.h5"], ["T02", "C1", "c.h5"]]
    assert str(df.loc[df.view.eq("C3"), "mirrored"].item()) == "True"


def test_analyze_without_deeplabcut_says_how_to_install(monkeypatch, bar_video, tmp_path):
    import builtins

    real_import = builtins.__import__

    def no_dlc(name, *args, **kwargs):
        if name == "deeplabcut" or name.startswith("deeplabcut."):
            raise ImportError("No module named 'deeplabcut'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_dlc)
    cfg = tmp_path / "config.yaml"
    cfg.write_text("bodyparts: [neck]\nscorer: me\n")
    with pytest.raises(dlc.DLCNotInstalledError, match=r"pip install 'napari-gaitint\[dlc\]'"):
        dlc.analyze_trial_pair(cfg, bar_video, bar_video)
    from napari_gaitint.cli import main

    assert main(["dlc", "analyze", str(cfg), str(bar_video), str(bar_video)]) == 2


def test_cli_dlc_mirror(bar_video, tmp_path, capsys):
    from napari_gaitint.cli import main

    assert main(["dlc", "mirror", str(bar_video), str(tmp_path / "m.mp4")]) == 0
    assert probe_video(tmp_path / "m.mp4").n_frames == N
    assert main(["dlc", "mirror", str(bar_video), str(tmp_path / "m.mp4")]) == 2
    assert "exists already" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------
# label export
# ---------------------------------------------------------------------------------------
BPS = ["neck", "hip", "knee", "ankle", "heel", "toe"]


@pytest.fixture
def project(tmp_path, bar_video):
    root = tmp_path / "proj"
    (root / "videos").mkdir(parents=True)
    video = root / "videos" / "T01_C1.mp4"
    video.write_bytes(bar_video.read_bytes())
    (root / "config.yaml").write_text(
        "Task: gait\nscorer: alice\nmultianimalproject: false\n"
        f"video_sets:\n  {video}:\n    crop: 0, {W}, 0, {H}\n"
        "bodyparts:\n" + "".join(f"- {b}\n" for b in BPS)
    )
    return root


def _labels(frames, seed=0):
    rng = np.random.default_rng(seed)
    values = np.full((N, len(BPS), 3), np.nan)
    values[frames, :, :2] = rng.uniform(0, 40, (len(frames), len(BPS), 2))
    return Pose(values, tuple(BPS), scorer="corrected", has_likelihood=False)


def test_export_labels_writes_dlc_layout_and_images(project):
    cfg = project / "config.yaml"
    labels = _labels([2, 7])
    res = dlc.export_labels_to_project(cfg, "T01_C1", labels)
    assert res.h5 == project / "labeled-data" / "T01_C1" / "CollectedData_alice.h5"
    assert not res.video_registered and res.backup is None
    assert (res.n_new, res.n_updated, res.n_total) == (2, 0, 2)
    for table in (pd.read_hdf(res.h5, "df_with_missing"), read_dlc_table(res.csv)):
        assert table.index.tolist() == [("labeled-data", "T01_C1", "img02.png"),
                                        ("labeled-data", "T01_C1", "img07.png")]
        assert table.columns.tolist() == [("alice", b, c) for b in BPS for c in ("x", "y")]
        assert_allclose(table.to_numpy().reshape(2, 6, 2), labels.xy[[2, 7]], atol=1e-9)
    # the PNGs are the video's frames
    from PIL import Image

    frames = _decode(project / "videos" / "T01_C1.mp4")
    img = np.asarray(Image.open(res.folder / "img07.png"))
    assert_array_equal(img, frames[7])


def test_export_labels_merges_without_losing_any(project):
    cfg = project / "config.yaml"
    first = _labels([1, 2, 3], seed=1)
    dlc.export_labels_to_project(cfg, "T01_C1", first)
    second = _labels([3, 9], seed=2)
    second.values[3, 4, :2] = np.nan  # heel of frame 3 not corrected: keeps the old label
    res = dlc.export_labels_to_project(cfg, "T01_C1", second)
    assert (res.n_new, res.n_updated, res.n_total) == (1, 1, 4)
    assert res.backup is not None and res.backup.exists()
    merged = pd.read_hdf(res.h5, "df_with_missing")
    names = [i[2] for i in merged.index]
    assert names == ["img01.png", "img02.png", "img03.png", "img09.png"]
    xy = merged.to_numpy().reshape(4, 6, 2)
    assert_allclose(xy[0], first.xy[1])
    assert_allclose(xy[1], first.xy[2])
    expect3 = second.xy[3].copy()
    expect3[4] = first.xy[3, 4]
    assert_allclose(xy[2], expect3)
    assert_allclose(xy[3], second.xy[9])


def test_export_labels_rejects_unknown_bodyparts(project):
    pose = Pose(np.ones((N, 1, 3)), ("tail",), has_likelihood=False)
    with pytest.raises(InputFileError, match="tail"):
        dlc.export_labels_to_project(project / "config.yaml", "T01_C1", pose)


def test_export_labels_mirrored_maps_onto_the_mirrored_copy(project):
    cfg = project / "config.yaml"
    video = project / "videos" / "T01_C1.mp4"
    labels = _labels([4, 5], seed=4)
    res = dlc.export_labels_mirrored(cfg, video, labels, register_video=False)
    assert res.folder == project / "labeled-data" / "T01_C1_mirrored"
    assert (project / "videos" / "T01_C1_mirrored.mp4").is_file()
    table = pd.read_hdf(res.h5, "df_with_missing").to_numpy().reshape(2, 6, 2)
    assert_allclose(table[..., 0], (W - 1) - labels.xy[[4, 5], :, 0], atol=1e-9)
    assert_allclose(table[..., 1], labels.xy[[4, 5], :, 1], atol=1e-9)
    from PIL import Image

    img = np.asarray(Image.open(res.folder / "img04.png")).astype(float)
    original = _decode(video)[4].astype(float)
    assert np.abs(img - original[:, ::-1]).mean() < 2.0


def test_cli_export_labels(project, tmp_path, capsys):
    from napari_gaitint.cli import main
    from napari_gaitint.core.io import save_pose

    labels = save_pose(_labels([1, 3, 4, 5, 8]), tmp_path / "corrected.h5")
    assert main(["dlc", "export-labels", str(project / "config.yaml"),
                 str(project / "videos" / "T01_C1.mp4"), str(labels), "--frames", "1,3-4"]) == 0
    assert "3 new and 0 changed frame(s)" in capsys.readouterr().out
    table = pd.read_hdf(project / "labeled-data" / "T01_C1" / "CollectedData_alice.h5", "df_with_missing")
    assert [i[2] for i in table.index] == ["img01.png", "img03.png", "img04.png"]
    assert main(["dlc", "export-labels", str(project / "config.yaml"),
                 str(project / "videos" / "T01_C1.mp4"), str(labels), "--frames", "x"]) == 2


def test_export_labels_maps_bodypart_names_to_the_project(project):
    pose = _labels([2, 5], seed=5)
    theirs = {b: b.upper() for b in BPS}  # the project names them NECK, HIP, ...
    cfg = project / "config.yaml"
    cfg.write_text(cfg.read_text().replace("bodyparts:\n" + "".join(f"- {b}\n" for b in BPS),
                                           "bodyparts:\n" + "".join(f"- {theirs[b]}\n" for b in BPS)))
    with pytest.raises(InputFileError, match="map them"):
        dlc.export_labels_to_project(cfg, "T01_C1", pose)
    res = dlc.export_labels_to_project(cfg, "T01_C1", pose, bodyparts=theirs)
    table = pd.read_hdf(res.h5, "df_with_missing")
    assert table.columns.tolist() == [("alice", theirs[b], c) for b in BPS for c in ("x", "y")]
    assert_allclose(table.to_numpy().reshape(2, 6, 2), pose.xy[[2, 5]])
    with pytest.raises(GaitintError, match="tail"):
        dlc.export_labels_to_project(cfg, "T01_C1", pose, bodyparts={"tail": "TAIL"})
    with pytest.raises(GaitintError, match="two body parts"):
        dlc.export_labels_to_project(cfg, "T01_C1", pose, bodyparts={**theirs, "hip": "NECK"})


@pytest.fixture
def ma_project(project):
    """The same project as a multi-animal one: two subjects and a unique body part."""
    cfg = project / "config.yaml"
    text = cfg.read_text().replace("multianimalproject: false", "multianimalproject: true")
    text += ("individuals:\n- subject1\n- subject2\nuniquebodyparts:\n- marker\n"
             "multianimalbodyparts:\n" + "".join(f"- {b}\n" for b in BPS))
    cfg.write_text(text)
    return project


def test_export_labels_into_a_multi_animal_project(ma_project, data_dir):
    cfg = ma_project / "config.yaml"
    first = _labels([1, 4], seed=6)
    res = dlc.export_labels_to_project(cfg, "T01_C1", first)  # default: the first individual
    table = pd.read_hdf(res.h5, "df_with_missing")
    # DeepLabCut's multi-animal label layout (as in a real maDLC CollectedData file)
    real = read_dlc_table(data_dir / "labels_multi_dlc3.h5")
    assert table.columns.names == real.columns.names == ["scorer", "individuals", "bodyparts", "coords"]
    expected_cols = ([("alice", i, b, c) for i in ("subject1", "subject2") for b in BPS for c in ("x", "y")]
                     + [("alice", "single", "marker", c) for c in ("x", "y")])
    assert table.columns.tolist() == expected_cols
    xy = table.to_numpy().reshape(2, -1, 2)
    assert_allclose(xy[:, :6], first.xy[[1, 4]])
    assert np.isnan(xy[:, 6:]).all()
    # the second subject's corrections merge in without touching the first one's labels
    second = _labels([4, 9], seed=7)
    res = dlc.export_labels_to_project(cfg, "T01_C1", second, individual="subject2")
    assert (res.n_new, res.n_updated, res.n_total) == (1, 1, 3)
    table = read_dlc_table(res.csv)
    xy = table.to_numpy().reshape(3, -1, 2)
    assert_allclose(xy[:2, :6], first.xy[[1, 4]])
    assert_allclose(xy[1:, 6:12], second.xy[[4, 9]])
    # a unique body part goes under DeepLabCut's "single" individual
    marker = Pose(np.full((N, 1, 3), 7.0), ("marker",), has_likelihood=False)
    res = dlc.export_labels_to_project(cfg, "T01_C1", marker, frames=[1])
    table = pd.read_hdf(res.h5, "df_with_missing").sort_index().sort_index(axis=1)  # (sorted: fast .loc)
    assert_allclose(table.loc[("labeled-data", "T01_C1", "img01.png"), ("alice", "single", "marker")], 7.0)
    with pytest.raises(GaitintError, match="subject3"):
        dlc.export_labels_to_project(cfg, "T01_C1", first, individual="subject3")


def test_export_refuses_to_mix_single_and_multi_animal_labels(ma_project):
    cfg = ma_project / "config.yaml"
    folder = ma_project / "labeled-data" / "T01_C1"
    folder.mkdir(parents=True)
    old = _labels([1], seed=8)
    from napari_gaitint.core.io import pose_to_dlc_table, write_dlc_table

    write_dlc_table(pose_to_dlc_table(old), folder / "CollectedData_alice.h5")
    before = (folder / "CollectedData_alice.h5").read_bytes()
    with pytest.raises(InputFileError, match="single-animal labels"):
        dlc.export_labels_to_project(cfg, "T01_C1", _labels([2], seed=9))
    assert (folder / "CollectedData_alice.h5").read_bytes() == before


def test_cli_export_labels_with_mapping_and_individual(ma_project, tmp_path, capsys):
    from napari_gaitint.cli import main
    from napari_gaitint.core.io import save_pose

    pose = _labels([2, 3])
    pose.bodyparts = tuple(b.upper() for b in BPS)  # the labels use other names than the project
    labels = save_pose(pose, tmp_path / "corrected.h5")
    argv = ["dlc", "export-labels", str(ma_project / "config.yaml"),
            str(ma_project / "videos" / "T01_C1.mp4"), str(labels), "--individual", "subject2",
            "--bodyparts", ",".join(f"{b.upper()}={b}" for b in BPS)]
    assert main(argv) == 0
    table = pd.read_hdf(ma_project / "labeled-data" / "T01_C1" / "CollectedData_alice.h5", "df_with_missing")
    assert_allclose(table.xs("subject2", axis=1, level="individuals").to_numpy().reshape(2, 6, 2),
                    pose.xy[[2, 3]])
    assert np.isnan(table.xs("subject1", axis=1, level="individuals").to_numpy()).all()
    assert main(argv[:-1] + ["NECK"]) == 2
    assert "ours=theirs" in capsys.readouterr().err


def test_export_registers_a_new_video_and_keeps_the_rest_of_the_config(project, bar_video):
    import yaml

    cfg = project / "config.yaml"
    cfg.write_text("# my project\n" + cfg.read_text() + "numframes2pick: 20  # keep me\n")
    before_text = cfg.read_text()
    before = yaml.safe_load(before_text)
    other = project / "videos" / "T02 C1 (take: 2).mp4"  # a name YAML must quote
    other.write_bytes(bar_video.read_bytes())
    res = dlc.export_labels_to_project(cfg, other.stem, _labels([1, 2]), video=other)
    assert res.video_registered
    after_text = cfg.read_text()
    after = yaml.safe_load(after_text)
    assert after["video_sets"][str(other.resolve())] == {"crop": f"0, {W}, 0, {H}"}
    assert {k: v for k, v in after.items() if k != "video_sets"} == {
        k: v for k, v in before.items() if k != "video_sets"}
    assert set(after["video_sets"]) == set(before["video_sets"]) | {str(other.resolve())}
    assert "# my project" in after_text and "# keep me" in after_text
    assert (project / "config.yaml.bak").read_text() == before_text
    # listed now: a second export leaves the config alone
    res = dlc.export_labels_to_project(cfg, other.stem, _labels([3]), video=other)
    assert not res.video_registered and cfg.read_text() == after_text


@pytest.mark.parametrize("line", ["video_sets: {}\n", "video_sets:\n", ""])
def test_register_video_into_an_empty_or_missing_video_sets(project, line):
    import yaml

    cfg = project / "config.yaml"
    text = cfg.read_text()
    head, tail = text.split("video_sets:\n", 1)
    tail = tail.split("bodyparts:", 1)[1]
    cfg.write_text(head + line + "bodyparts:" + tail)
    video = project / "videos" / "T01_C1.mp4"
    res = dlc.export_labels_to_project(cfg, "T01_C1", _labels([4]), video=video)
    assert res.video_registered
    assert list(yaml.safe_load(cfg.read_text())["video_sets"]) == [str(video.resolve())]
    assert yaml.safe_load(cfg.read_text())["bodyparts"] == BPS
