"""napari-gaitint next to napari-deeplabcut: napari's plain save of each other's layers.

napari gives a points layer saved to ``.h5`` to the first writer it lists (ours, when both
plugins are installed), whichever plugin made the layer; napari-deeplabcut's writer is
chosen by name (the save dialog's file type). Every written table is compared cell by cell
with the source file, on the real DeepLabCut files in ../shared/fixtures/dlc.
"""

from __future__ import annotations

import logging
import shutil

import numpy as np
import pandas as pd
import pytest

from napari_gaitint.core.errors import UnsafeWriteError
from napari_gaitint.core.io import read_dlc_table

pytest.importorskip("napari_deeplabcut", reason="napari-deeplabcut is in the testing extra")
pytestmark = pytest.mark.napari

SINGLE = "single/reachingvideo1shortDLC_resnet50_TESTNov4shuffle1_10.h5"
MULTI = "multi/m3v1mp4shortDLC_effnet_b0_multi_mouseApr12shuffle1_5_el.h5"
LABELS = "labels/CollectedData_Mackenzie.h5"


@pytest.fixture(autouse=True)
def _quiet_napari_deeplabcut(monkeypatch):
    # napari-deeplabcut logs a warning for every file without a DLC project around it
    logging.getLogger("napari_deeplabcut").setLevel(logging.ERROR)
    # and docks its Keypoint controls on each viewer that gets a DLC layer (a setting kept
    # in the user's Qt settings, so switched off here rather than there); these tests save
    # layers through napari only
    from napari_deeplabcut.config import _autostart

    monkeypatch.setattr(_autostart, "get_auto_open_keypoint_controls", lambda: False)


def _copy(dlc_fixtures, tmp_path, rel):
    src = tmp_path / "src" / rel.split("/")[-1]
    src.parent.mkdir(exist_ok=True)
    shutil.copy(dlc_fixtures / rel, src)
    return src


def _read_raw(path) -> pd.DataFrame:
    return pd.read_hdf(path) if path.suffix == ".h5" else read_dlc_table(path)


def _assert_same_table(written: pd.DataFrame, source: pd.DataFrame) -> None:
    """Same columns (scorer, individuals, body parts, coords), same rows, same cells."""
    assert list(written.columns) == list(source.columns)
    assert list(written.index) == list(source.index)
    assert written.shape == source.shape
    np.testing.assert_array_equal(written.to_numpy(float), source.to_numpy(float))


@pytest.mark.parametrize("rel", [SINGLE, MULTI, LABELS])
@pytest.mark.parametrize("suffix", [".h5", ".csv"])
def test_plain_save_of_a_napari_deeplabcut_layer_keeps_the_table(
    make_napari_viewer, dlc_fixtures, tmp_path, rel, suffix
):
    import napari

    src = _copy(dlc_fixtures, tmp_path, rel)
    viewer = make_napari_viewer()
    (layer,) = viewer.open(str(src), plugin="napari-deeplabcut")
    assert "header" in layer.metadata and "gaitint" not in layer.metadata
    out = tmp_path / f"saved{suffix}"
    # .h5: napari picks the writer (ours is listed first); .csv: napari's own csv writer is
    # listed first, so DLC csv is asked for by plugin, as the save dialog's file type does
    plugin = None if suffix == ".h5" else "napari-gaitint"
    written = napari.save_layers(str(out), [layer], plugin=plugin)
    assert written == [str(out)]
    if suffix == ".h5":
        import tables

        with tables.open_file(out) as f:
            assert "/df_with_missing" in f  # DeepLabCut's key
    _assert_same_table(_read_raw(out), pd.read_hdf(src))


def test_plain_save_h5_goes_to_our_writer(make_napari_viewer, dlc_fixtures, tmp_path):
    """The premise of the tests above: with both plugins installed, napari hands a points
    layer saved as .h5 to napari-gaitint's writer."""
    import npe2

    pm = npe2.PluginManager.instance()
    pm.discover()
    writer, _ = pm.get_writer(str(tmp_path / "x.h5"), ["points"])
    assert writer.command == "napari-gaitint.write_points"


def test_edits_in_a_napari_deeplabcut_layer_are_written(make_napari_viewer, dlc_fixtures, tmp_path):
    """Moved and deleted keypoints reach the file; every other cell stays as it was."""
    import napari

    src = _copy(dlc_fixtures, tmp_path, MULTI)
    viewer = make_napari_viewer()
    (layer,) = viewer.open(str(src), plugin="napari-deeplabcut")
    feats = layer.features
    data = layer.data.copy()
    moved = 0
    data[moved, 1:] += (3.0, -2.0)  # y, x
    frame, ind, bp = int(data[moved, 0]), feats["id"][moved], feats["label"][moved]
    gone = 5
    g_frame, g_ind, g_bp = int(layer.data[gone, 0]), feats["id"][gone], feats["label"][gone]
    layer.data = data
    layer.selected_data = {gone}
    layer.remove_selected()
    out = tmp_path / "edited.h5"
    napari.save_layers(str(out), [layer])
    got, before = pd.read_hdf(out), pd.read_hdf(src)
    scorer = before.columns.get_level_values("scorer")[0]
    assert got.loc[frame, (scorer, ind, bp, "x")] == pytest.approx(before.loc[frame, (scorer, ind, bp, "x")] - 2)
    assert got.loc[frame, (scorer, ind, bp, "y")] == pytest.approx(before.loc[frame, (scorer, ind, bp, "y")] + 3)
    assert got.loc[g_frame, (scorer, g_ind, g_bp)].isna().all()
    same = before.copy()
    same.loc[frame, (scorer, ind, bp, "x")] -= 2
    same.loc[frame, (scorer, ind, bp, "y")] += 3
    same.loc[g_frame, (scorer, g_ind, g_bp)] = np.nan
    _assert_same_table(got, same)


def test_a_layer_without_header_is_refused(make_napari_viewer, tmp_path):
    import napari

    viewer = make_napari_viewer()
    layer = viewer.add_points([[0, 10, 20]], features={"label": ["hip"]}, name="drawn")
    out = tmp_path / "drawn.h5"
    with pytest.raises(UnsafeWriteError, match="no DeepLabCut header"):
        napari.save_layers(str(out), [layer])
    assert not out.exists()


def test_a_point_outside_the_header_is_refused(make_napari_viewer, dlc_fixtures, tmp_path):
    import napari

    src = _copy(dlc_fixtures, tmp_path, SINGLE)
    viewer = make_napari_viewer()
    (layer,) = viewer.open(str(src), plugin="napari-deeplabcut")
    layer.features.loc[0, "label"] = "tail"
    out = tmp_path / "bad.h5"
    with pytest.raises(UnsafeWriteError, match=r"\['tail'\] are not in the layer's DeepLabCut header"):
        napari.save_layers(str(out), [layer])
    assert not out.exists()


def test_our_writer_never_replaces_a_napari_deeplabcut_source(make_napari_viewer, dlc_fixtures, tmp_path):
    import napari

    src = _copy(dlc_fixtures, tmp_path, LABELS)
    before = src.read_bytes()
    viewer = make_napari_viewer()
    (layer,) = viewer.open(str(src), plugin="napari-deeplabcut")
    with pytest.raises(UnsafeWriteError, match="never replaces a source file"):
        napari.save_layers(str(src), [layer])
    assert src.read_bytes() == before


# --- the other direction: our layers through napari-deeplabcut's writer ------------------
def test_napari_deeplabcut_saves_our_label_layer(make_napari_viewer, dlc_fixtures, tmp_path):
    """napari-deeplabcut's writer takes our label layer (it needs the DLC header, the image
    paths and the provenance we put in the metadata) and merges it into the label file."""
    import napari

    src = _copy(dlc_fixtures, tmp_path, LABELS)
    before = pd.read_hdf(src)
    viewer = make_napari_viewer()
    layers = viewer.open(str(src), plugin="napari-gaitint")
    points = [lay for lay in layers if lay._type_string == "points"]
    assert len(points) == 1
    written = napari.save_layers(str(tmp_path / "ignored.h5"), points, plugin="napari-deeplabcut")
    # napari-deeplabcut writes where the layer came from (and a .csv beside it), with the
    # image paths as DeepLabCut 3's three-level row index
    assert written == [str(src), str(src.with_suffix(".csv"))]
    for got in (pd.read_hdf(src, "df_with_missing"), read_dlc_table(src.with_suffix(".csv"))):
        assert got.index.nlevels == 3
        got.index = ["/".join(row) for row in got.index]
        _assert_same_table(got, before)


@pytest.mark.parametrize("rel", [SINGLE, MULTI])
def test_napari_deeplabcut_refuses_to_write_over_our_predictions(make_napari_viewer, dlc_fixtures, tmp_path, rel):
    """Predictions are machine output for napari-deeplabcut: its writer never writes back
    onto them (its controls offer to save them as labels instead); the file is unchanged."""
    import napari

    src = _copy(dlc_fixtures, tmp_path, rel)
    before = src.read_bytes()
    viewer = make_napari_viewer()
    layers = viewer.open(str(src), plugin="napari-gaitint")
    points = [lay for lay in layers if lay._type_string == "points"]
    with pytest.raises(Exception, match="MACHINE source"):
        napari.save_layers(str(tmp_path / "x.h5"), points, plugin="napari-deeplabcut")
    assert src.read_bytes() == before
    assert sorted(p.name for p in src.parent.iterdir()) == [src.name]


@pytest.mark.parametrize("rel", [SINGLE, MULTI, LABELS])
def test_our_layers_carry_napari_deeplabcut_metadata(dlc_fixtures, rel):
    from napari_deeplabcut.core.metadata import parse_points_metadata

    from napari_gaitint._napari._reader import napari_get_reader

    src = dlc_fixtures / rel
    _, kw, _ = napari_get_reader(str(src))(str(src))[0]
    meta = parse_points_metadata(kw["metadata"])
    assert list(meta.header.columns) == [tuple(c) for c in read_dlc_table(src).columns]
    assert meta.io.source_relpath_posix == src.name


# --- label files and colours look and step the same in both plugins ----------------------
def _shuffled_labels(dlc_fixtures, tmp_path):
    """The label file with its rows in a scrambled order (DLC writes them in any order)."""
    df = pd.read_hdf(dlc_fixtures / LABELS)
    rng = np.random.default_rng(3)
    path = tmp_path / "shuffled" / "CollectedData_Mackenzie.h5"
    path.parent.mkdir()
    df.iloc[rng.permutation(len(df))].to_hdf(path, key="df_with_missing")
    return path


def _ndlc_layer(path):
    from napari_deeplabcut.core.io import read_hdf_single

    ((data, kw, _),) = read_hdf_single(path)
    return data, kw


def _points_by_key(data, labels, ids):
    return {(int(f), str(i), str(b)): (y, x) for (f, y, x), b, i in zip(data, labels, ids, strict=True)}


@pytest.mark.parametrize("which", ["labels", "shuffled labels", "single", "multi"])
def test_same_frames_and_colours_as_napari_deeplabcut(dlc_fixtures, tmp_path, which):
    from napari_gaitint._napari._reader import napari_get_reader

    path = {"labels": dlc_fixtures / LABELS, "single": dlc_fixtures / SINGLE,
            "multi": dlc_fixtures / MULTI}.get(which) or _shuffled_labels(dlc_fixtures, tmp_path)
    ndata, nkw = _ndlc_layer(path)
    layers = napari_get_reader(str(path))(str(path))
    data, kw, _ = layers[0]
    if "labels" in which:
        assert [t for _, _, t in layers] == ["points"]  # no tracks through unrelated images
        assert kw["metadata"]["paths"] == nkw["metadata"]["paths"]
    # every keypoint on the same frame, at the same place
    props, feats = nkw["properties"], kw["features"]
    theirs = _points_by_key(ndata, props["label"], props["id"])
    ours = _points_by_key(data, feats["label"], feats["id"])
    assert ours.keys() == theirs.keys()
    np.testing.assert_array_equal([ours[k] for k in theirs], list(theirs.values()))
    # in the same colour: the body part's (single animal) or the individual's (multi-animal)
    assert nkw["face_color"] == ("id" if which == "multi" else "label")
    cycle = nkw["face_color_cycle"]
    part = 1 if which == "multi" else 2
    expected = np.array([cycle[k[part]] for k in ours])
    np.testing.assert_allclose(kw["face_color"], expected, atol=1e-6)



def test_save_points_layer_from_code_takes_napari_deeplabcut_layers(make_napari_viewer, dlc_fixtures, tmp_path):
    from napari_gaitint._napari._writer import save_points_layer

    src = _copy(dlc_fixtures, tmp_path, MULTI)
    viewer = make_napari_viewer()
    (layer,) = viewer.open(str(src), plugin="napari-deeplabcut")
    out = save_points_layer(layer, tmp_path / "code.h5")
    _assert_same_table(pd.read_hdf(out), pd.read_hdf(src))
