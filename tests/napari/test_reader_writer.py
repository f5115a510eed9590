"""DLC reader / writer and the video reader, on real DeepLabCut files (no viewer)."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from napari_gaitint._napari._reader import napari_get_reader, napari_get_video_reader
from napari_gaitint._napari._writer import write_points
from napari_gaitint.core._files import file_sha256
from napari_gaitint.core.errors import OutputExistsError
from napari_gaitint.core.io import read_dlc_table

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
    (pdata, pkw, ptype), (tdata, tkw, ttype) = layers
    assert (ptype, ttype) == ("points", "tracks")
    df = read_dlc_table(path)
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


def test_long_recordings_get_no_tracks_layer_by_default(monkeypatch):
    """A Tracks layer of a very long recording makes every frame change slow: left out."""
    import napari_gaitint._napari._reader as reader
    from napari_gaitint.core.io import ROLES, Pose, pose_to_dlc_table

    values = np.random.default_rng(0).uniform(0, 500, (40, len(ROLES), 3))
    table = pose_to_dlc_table(Pose(values, ROLES))
    kinds = [t[2] for t in reader.dlc_table_to_layers(table)]
    assert kinds == ["points", "tracks"]
    tdata = reader.dlc_table_to_layers(table)[1][0]
    assert sorted(np.unique(tdata[:, 0]).astype(int)) == list(range(len(ROLES)))
    monkeypatch.setattr(reader, "MAX_TRACK_POINTS", 40 * len(ROLES) - 1)
    assert [t[2] for t in reader.dlc_table_to_layers(table)] == ["points"]
    assert [t[2] for t in reader.dlc_table_to_layers(table, tracks=True)] == ["points", "tracks"]
