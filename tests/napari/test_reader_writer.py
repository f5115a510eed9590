"""DLC reader / writer and the video reader, on real DeepLabCut files (a viewer only for the
track window)."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from napari_gaitint._napari._reader import napari_get_reader, napari_get_video_reader
from napari_gaitint._napari._writer import write_points
from napari_gaitint.core._files import file_sha256
from napari_gaitint.core.errors import OutputExistsError
from napari_gaitint.core.io import read_dlc_table, sort_image_rows

DLC_FILES = [
    "single/reachingvideo1shortDLC_resnet50_TESTNov4shuffle1_10.h5",
    "single/reachingvideo1shortDLC_resnet50_TESTNov4shuffle1_10.csv",
    "multi/m3v1mp4shortDLC_effnet_b0_multi_mouseApr12shuffle1_5_el.h5",
    "multi/m3v1mp4shortDLC_effnet_b0_multi_mouseApr12shuffle1_5_el_filtered.csv",
    "labels/CollectedData_Mackenzie.h5",
    "labels/CollectedData_Mackenzie.csv",
]


@pytest.mark.parametrize("name", DLC_FILES)
def test_reader_gives_points_and_tracks(dlc_fixtures, name):
    path = dlc_fixtures / name
    reader = napari_get_reader(str(path))
    assert reader is not None
    layers = reader(str(path))
    labels = "CollectedData" in name
    if labels:  # labelled images, not a time series: no tracks
        ((pdata, pkw, ptype),) = layers
        assert ptype == "points"
    else:
        (pdata, pkw, ptype), (tdata, tkw, ttype) = layers
        assert (ptype, ttype) == ("points", "tracks")
    df = sort_image_rows(read_dlc_table(path))
    feats = pkw["features"]
    assert {"label", "id", "likelihood", "valid"} <= set(feats.columns)
    # every finite (x, y) of the file is one point, at (frame, y, x)
    xs = df.xs("x", axis=1, level="coords").to_numpy(float)
    ys = df.xs("y", axis=1, level="coords").to_numpy(float)
    assert len(pdata) == int((np.isfinite(xs) & np.isfinite(ys)).sum())
    i = 0
    first = next(j for j in range(xs.shape[1]) if np.isfinite(xs[:, j]).any())
    f = int(np.flatnonzero(np.isfinite(xs[:, first]))[0])
    row = np.flatnonzero((pdata[:, 0] == f) & np.isclose(pdata[:, 2], xs[f, first]))[i]
    assert_allclose(pdata[row, 1], ys[f, first])
    if not labels:
        assert tdata.shape[1] == 4 and len(tdata) == len(pdata)
    assert len(np.unique(pkw["face_color"], axis=0)) > 1  # coloured by body part


def test_multi_animal_ids(dlc_fixtures):
    path = dlc_fixtures / DLC_FILES[2]
    (_, kw, _), _ = napari_get_reader(str(path))(str(path))
    assert set(kw["features"]["id"]) >= {"individual1", "individual2"}


@pytest.mark.parametrize("path", ["nothing.h5", "x.txt", ["a.h5", "b.h5"], 3])
def test_reader_declines_quietly(tmp_path, path):
    assert napari_get_reader(path if not isinstance(path, str) else str(tmp_path / path)) is None


def test_reader_declines_non_dlc_files(tmp_path):
    bad_csv = tmp_path / "table.csv"
    bad_csv.write_text("a,b\n1,2\n")
    bad_h5 = tmp_path / "broken.h5"
    bad_h5.write_bytes(b"not hdf5 at all")
    assert napari_get_reader(str(bad_csv)) is None
    assert napari_get_reader(str(bad_h5)) is None
    bad_video = tmp_path / "broken.mp4"
    bad_video.write_bytes(b"\x00" * 1000)
    assert napari_get_video_reader(str(bad_video)) is None
    assert napari_get_video_reader(str(bad_csv)) is None


@pytest.mark.parametrize("name", DLC_FILES)
@pytest.mark.parametrize("suffix", [".h5", ".csv"])
def test_writer_roundtrip_same_table(dlc_fixtures, tmp_path, name, suffix):
    src = dlc_fixtures / name
    data, kw, _ = napari_get_reader(str(src))(str(src))[0]
    out = tmp_path / f"out{suffix}"
    assert write_points(str(out), data, {"features": kw["features"], "metadata": kw["metadata"]}) == [str(out)]
    a, b = read_dlc_table(src), read_dlc_table(out)
    assert list(a.columns) == list(b.columns)
    assert list(a.index) == list(b.index)
    x, y = a.to_numpy(float), b.to_numpy(float)
    # points with only one of x/y are not points; everything else comes back
    xy_ok = np.isfinite(x) == np.isfinite(y)
    assert xy_ok.mean() > 0.99
    assert_allclose(y[xy_ok], x[xy_ok], rtol=1e-6, equal_nan=True)


def test_writer_never_replaces_the_source(dlc_fixtures, tmp_path):
    import shutil

    src = tmp_path / "pred.h5"
    shutil.copy(dlc_fixtures / DLC_FILES[0], src)
    before = file_sha256(src)
    data, kw, _ = napari_get_reader(str(src))(str(src))[0]
    data = data.copy()
    data[0, 1] += 5
    with pytest.raises(OutputExistsError):
        write_points(str(src), data, {"features": kw["features"], "metadata": kw["metadata"]})
    assert file_sha256(src) == before
    kw["metadata"]["gaitint"]["overwrite_source"] = True  # explicitly asked
    write_points(str(src), data, {"features": kw["features"], "metadata": kw["metadata"]})
    assert file_sha256(src) != before


def test_video_reader_layer(numbered_video):
    from napari_gaitint._napari._video import VideoArray

    layers = napari_get_video_reader(str(numbered_video))(str(numbered_video))
    data, kw, kind = layers[0]
    assert kind == "image" and kw["rgb"] is True
    assert isinstance(data, VideoArray)
    assert data.shape == (120, 192, 320, 3) and data.dtype == np.uint8
    assert kw["metadata"]["fps"] == 25.0


def test_video_reader_takes_camcorder_files(tmp_path, video_writer, make_numbered_frames, frame_number):
    """An AVCHD camcorder file (.MTS: H.264 in MPEG-TS, upper-case suffix as cameras write it)."""
    from napari_gaitint._napari._video import VideoArray

    path = video_writer(tmp_path / "C0001.MTS", make_numbered_frames(n_frames=40), options={"g": "12", "bf": "2"})
    import av

    with av.open(str(path)) as c:
        assert c.format.name == "mpegts"
    reader = napari_get_video_reader(str(path))
    assert reader is not None
    data, kw, kind = reader(str(path))[0]
    assert isinstance(data, VideoArray) and data.shape == (40, 192, 320, 3)
    assert [frame_number(data[i]) for i in (30, 5, 39, 13)] == [30, 5, 39, 13]


def _roles_table(n_frames: int, seed: int = 0):
    from napari_gaitint.core.config import ROLES
    from napari_gaitint.core.io import pose_to_dlc_table
    from napari_gaitint.core.pose import Pose

    values = np.random.default_rng(seed).uniform(0, 500, (n_frames, len(ROLES), 3))
    values[5, 2, :2] = np.nan  # a missing keypoint
    return pose_to_dlc_table(Pose(values, ROLES))


def test_long_recordings_get_a_windowed_tracks_layer(monkeypatch):
    """A full Tracks layer of a very long recording makes every frame change slow: above
    MAX_TRACK_POINTS the layer holds only the frames napari would draw (tail..head)."""
    import napari_gaitint._napari._reader as reader
    from napari_gaitint.core.config import ROLES

    table = _roles_table(40)
    layers = reader.dlc_table_to_layers(table)
    assert [t[2] for t in layers] == ["points", "tracks"]
    tdata, tkw, _ = layers[1]
    assert "track_window" not in tkw["metadata"]["gaitint"]
    assert sorted(np.unique(tdata[:, 0]).astype(int)) == list(range(len(ROLES)))
    full = tdata

    monkeypatch.setattr(reader, "MAX_TRACK_POINTS", 40 * len(ROLES) - 1)
    (_, _, kind), (wdata, wkw, wkind) = reader.dlc_table_to_layers(table)
    assert (kind, wkind) == ("points", "tracks")
    win = wkw["metadata"]["gaitint"]["track_window"]
    assert isinstance(win, reader.TrackWindow)
    assert_allclose(win.data, full)  # the whole recording is kept for the window
    last = wkw["head_length"] + win.margin  # frames 0 .. head + margin at frame 0
    assert_allclose(wdata, full[full[:, 1] <= last])
    assert len(wkw["features"]) == len(wdata)
    assert [t[2] for t in reader.dlc_table_to_layers(table, tracks=False)] == ["points"]
    (_, fkw, _) = reader.dlc_table_to_layers(table, tracks=True)[1]
    assert "track_window" not in fkw["metadata"]["gaitint"]


@pytest.mark.parametrize(("frame", "tail", "head"), [(0, 12, 0), (20, 12, 0), (20, 0, 0), (20, 3, 4),
                                                     (-30, 5, 5), (39, 12, 3), (80, 12, 0)])
def test_track_window_rows_are_the_frames_in_the_window(frame, tail, head):
    from napari_gaitint._napari._reader import TrackWindow, dlc_table_to_layers

    tdata, tkw, _ = dlc_table_to_layers(_roles_table(40), tracks=True)[1]
    win = TrackWindow(tdata, tkw["features"])
    expected = np.flatnonzero((tdata[:, 1] >= frame - tail) & (tdata[:, 1] <= frame + head))
    assert_array_equal(win.rows(frame, tail, head), expected)


def test_tracks_are_coloured_by_body_part():
    from napari.layers import Tracks

    from napari_gaitint._napari._convert import bodypart_colors
    from napari_gaitint._napari._reader import dlc_table_to_layers
    from napari_gaitint.core.config import ROLES

    tdata, tkw, _ = dlc_table_to_layers(_roles_table(40), tracks=True)[1]
    layer = Tracks(tdata, **tkw)
    colors = bodypart_colors(ROLES)
    ids = tdata[:, 0].astype(int)
    for j, bp in enumerate(ROLES):
        assert_allclose(layer.track_colors[ids == j], np.tile(colors[bp], ((ids == j).sum(), 1)))


def test_points_data_are_column_major():
    """napari takes min/max per column of the points on every frame change: column-major
    data make that ~20x cheaper for long recordings."""
    from napari_gaitint._napari._reader import dlc_table_to_layers

    data = dlc_table_to_layers(_roles_table(40))[0][0]
    assert data.flags.f_contiguous


def test_windowed_tracks_follow_the_frame_slider(make_napari_viewer, monkeypatch, tmp_path):
    import napari_gaitint._napari._reader as reader
    from napari_gaitint._napari._convert import bodypart_colors
    from napari_gaitint.core.config import ROLES
    from napari_gaitint.core.io import pose_from_dlc_table, save_pose

    viewer = make_napari_viewer()
    path = tmp_path / "longDLC_resnet50_testshuffle1_100.h5"
    save_pose(pose_from_dlc_table(_roles_table(200)), path)
    monkeypatch.setattr(reader, "MAX_TRACK_POINTS", 10)
    for data, kw, kind in reader.napari_get_reader(str(path))(str(path)):  # connects the viewer
        getattr(viewer, f"add_{kind}")(data, **kw)
    n_callbacks = len(viewer.dims.events.current_step.callbacks)
    reader.connect_track_windows(viewer)  # idempotent
    assert len(viewer.dims.events.current_step.callbacks) == n_callbacks
    tracks = viewer.layers[-1]
    full = reader.track_window_of(tracks).data
    colors = bodypart_colors(ROLES)
    win = reader.track_window_of(tracks)
    for frame in (30, 31, 199, 0):
        viewer.dims.set_current_step(0, frame)
        # holds all frames napari draws, and at most the margin more on each side
        shown = set(tracks.data[:, 1])
        assert set(range(max(frame - tracks.tail_length, 0), frame + tracks.head_length + 1)) <= shown
        assert len(shown) <= tracks.tail_length + tracks.head_length + 2 * win.margin + 1
        first, last = min(shown), max(shown)
        assert_allclose(tracks.data, full[(full[:, 1] >= first) & (full[:, 1] <= last)])
        assert tracks.color_by == reader.TRACK_COLOR_FEATURE
        ids = tracks.data[:, 0].astype(int)
        assert_allclose(tracks.track_colors, np.array([colors[ROLES[i]] for i in ids]))
    win.margin = 0  # the window is then exactly the frames napari draws
    for frame in (150, 151, 120, 7):  # 150: outside the rows held for frame 0
        viewer.dims.set_current_step(0, frame)
        assert set(tracks.data[:, 1]) == set(range(max(frame - tracks.tail_length, 0), frame + 1))
    viewer.dims.set_current_step(0, 40)
    tracks.tail_length = 3
    assert set(tracks.data[:, 1]) == {37.0, 38.0, 39.0, 40.0}
    tracks.head_length = 1
    assert set(tracks.data[:, 1]) == {37.0, 38.0, 39.0, 40.0, 41.0}


def test_trial_pair_loader_windows_long_tracks(make_napari_viewer, monkeypatch, tmp_path):
    """The loader dock and the Clean dock use the same windowed tracks as the reader."""
    import napari_gaitint._napari._reader as reader
    from napari_gaitint._napari._clean import clean_widget
    from napari_gaitint._napari._layers import pair_rows
    from napari_gaitint._napari._load import LoadTrialPairWidget
    from napari_gaitint.core.io import pose_from_dlc_table, save_pose

    monkeypatch.setattr(reader, "MAX_TRACK_POINTS", 10)
    paths = []
    for view, seed in (("C1", 1), ("C3", 2)):
        pose = pose_from_dlc_table(_roles_table(200, seed=seed))
        pose.frame_size, pose.fps = (500, 500), 25.0
        paths.append(save_pose(pose, tmp_path / f"T01_{view}DLC_resnet50_xshuffle1_1.h5"))
    viewer = make_napari_viewer()
    loader = LoadTrialPairWidget(viewer)
    rows = pair_rows(trial="T01", predictions=paths, fps=25.0)
    rows["width"], rows["height"] = 500, 500
    added = loader.add_rows(rows)
    tracks = [lay for lay in added if lay._type_string == "tracks"]
    assert len(tracks) == 2 and all(reader.track_window_of(t) is not None for t in tracks)
    viewer.dims.set_current_step(0, 150)
    for t in tracks:
        assert 150 in set(t.data[:, 1]) and 0 not in set(t.data[:, 1])
    # the Clean dock's tracks of a long recording are windowed and follow the slider too
    widget = clean_widget()
    widget.layer.value = viewer.layers["T01 C1 keypoints"]
    widget.filter.value = "none"
    widget()
    cleaned = viewer.layers["T01 C1 keypoints cleaned tracks"]
    assert reader.track_window_of(cleaned) is not None
    viewer.dims.set_current_step(0, 60)
    assert 60 in set(cleaned.data[:, 1]) and 199 not in set(cleaned.data[:, 1])
