"""DeepLabCut file I/O: exact round trips on real DLC outputs and on our own DLC-layout fixtures.

"Identical" means ``assert_frame_equal`` with ``check_exact=True``: same values (NaN in the
same places), dtypes, index (values and levels) and column order.
"""

from __future__ import annotations

import json
import os
import subprocess
import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal
from pandas.testing import assert_frame_equal

from napari_gaitint.core import io, io_read
from napari_gaitint.core._frames import EXACT_FLOATS
from napari_gaitint.core.config import ROLES
from napari_gaitint.core.errors import (
    AnalysisError,
    ConfigError,
    GaitintWarning,
    InputFileError,
    OutputExistsError,
)
from napari_gaitint.core.pose import (
    Pose,
    align_view_lengths,
    match_roles,
    parse_bodypart_mapping,
    rename_bodyparts,
    validate_fps,
    with_role_names,
)

# (relative path, number of column levels, number of index levels, has likelihood)
REAL_FILES = [
    ("single/reachingvideo1shortDLC_resnet50_TESTNov4shuffle1_10.h5", 3, 1, True),
    ("single/reachingvideo1shortDLC_resnet50_TESTNov4shuffle1_10.csv", 3, 1, True),
    ("single/reachingvideo1shortDLC_resnet50_TESTNov4shuffle1_10filtered.h5", 3, 1, True),
    ("multi/m3v1mp4shortDLC_effnet_b0_multi_mouseApr12shuffle1_5_el.h5", 4, 1, True),
    ("multi/m3v1mp4shortDLC_effnet_b0_multi_mouseApr12shuffle1_5_el_filtered.csv", 4, 1, True),
    ("labels/CollectedData_Mackenzie.h5", 3, 1, False),
    ("labels/CollectedData_Mackenzie.csv", 3, 1, False),
]
OWN_FILES = [
    ("pred_single.h5", 3, 1, True),
    ("pred_single.csv", 3, 1, True),
    ("pred_single_dlc3.h5", 3, 1, True),
    ("pred_single_dlc3.csv", 3, 1, True),
    ("pred_multi.h5", 4, 1, True),
    ("pred_multi.csv", 4, 1, True),
    ("labels_dlc2.h5", 3, 1, False),
    ("labels_dlc2.csv", 3, 1, False),
    ("labels_dlc3.h5", 3, 3, False),
    ("labels_dlc3.csv", 3, 3, False),
    ("labels_multi_dlc3.h5", 4, 3, False),
    ("labels_multi_dlc3.csv", 4, 3, False),
]
ALL_FILES = [pytest.param("real", *f, id=f"real:{f[0].split('/')[-1]}") for f in REAL_FILES] + [
    pytest.param("own", *f, id=f"own:{f[0]}") for f in OWN_FILES
]


def _resolve(kind, rel, request, data_dir):
    base = request.getfixturevalue("dlc_fixtures_dir") if kind == "real" else data_dir
    return base / rel


def _plain_pandas_read(path, n_col_levels, n_index_levels):
    """How DeepLabCut and napari-deeplabcut read these files (no key, default options; under
    pandas 2 with its exact float parser, which pandas 3 uses by default: pandas 2's default
    one can be off in the last digits, and our reader is exact under both)."""
    if path.suffix == ".h5":
        return pd.read_hdf(path)
    return pd.read_csv(
        path, header=list(range(n_col_levels)), index_col=list(range(n_index_levels)), **EXACT_FLOATS
    )


def _assert_identical(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert_frame_equal(got, want, check_exact=True, check_index_type="equiv")
    assert list(got.columns) == list(want.columns)  # column order
    assert got.columns.names == want.columns.names
    assert_array_equal(got.isna().to_numpy(), want.isna().to_numpy())


# ---------------------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("kind", "rel", "ncol", "nidx", "lik"), ALL_FILES)
def test_read_matches_plain_pandas(kind, rel, ncol, nidx, lik, request, data_dir):
    path = _resolve(kind, rel, request, data_dir)
    df = io.read_dlc_table(path)
    assert df.columns.nlevels == ncol
    assert df.index.nlevels == nidx
    assert list(df.columns.names) == (
        ["scorer", "individuals", "bodyparts", "coords"] if ncol == 4
        else ["scorer", "bodyparts", "coords"]
    )
    assert all(pd.api.types.is_float_dtype(t) for t in df.dtypes)
    ref = _plain_pandas_read(path, ncol, nidx)
    ref.columns = ref.columns.set_names(df.columns.names)
    _assert_identical(df, ref)
    assert ("likelihood" in set(df.columns.get_level_values("coords"))) is lik


@pytest.mark.parametrize(
    ("kind", "rel"),
    [("real", "single/reachingvideo1shortDLC_resnet50_TESTNov4shuffle1_10.h5"),
     ("real", "single/reachingvideo1shortDLC_resnet50_TESTNov4shuffle1_10filtered.h5"),
     ("own", "pred_single.h5"), ("own", "pred_single_dlc3.h5")],
)
def test_dlc_prediction_tables_are_read_straight_from_pytables(kind, rel, request, data_dir):
    """The common layout skips pandas' HDFStore; the DataFrame is pandas' own, to the bit."""
    path = _resolve(kind, rel, request, data_dir)
    direct = io_read._read_frame_table(path, None)
    assert direct is not None and direct[1] == "df_with_missing"
    _assert_identical(direct[0], pd.read_hdf(path))


@pytest.mark.parametrize(
    "how",
    [dict(format="fixed"), dict(format="table", index="strings"), dict(format="table", dtype="float32"),
     dict(format="table", dtype="two_blocks"), dict(format="table", key="keypoints")],
    ids=["fixed", "string_index", "float32", "two_blocks", "other_key"],
)
def test_other_hdf5_layouts_are_read_through_pandas(how, data_dir, tmp_path):
    df = pd.read_hdf(data_dir / "pred_single.h5")
    how = dict(how)
    if how.pop("index", None) == "strings":
        df.index = [f"img{i:03d}.png" for i in range(len(df))]
    dtype = how.pop("dtype", None)
    if dtype == "two_blocks":  # an integer column next to the floats: a second value block
        df[df.columns[0]] = np.arange(len(df))
    elif dtype is not None:
        df = df.astype(dtype)
    key = how.pop("key", "df_with_missing")
    path = tmp_path / "other_layout.h5"
    df.to_hdf(path, key=key, mode="w", **how)
    assert io_read._read_frame_table(path, None) is None
    got = io.read_dlc_table(path)
    want = pd.read_hdf(path)
    want.columns = want.columns.set_names(got.columns.names)
    _assert_identical(got, want)


@pytest.mark.parametrize(("kind", "rel", "ncol", "nidx", "lik"), ALL_FILES)
def test_poses_to_table_is_lossless(kind, rel, ncol, nidx, lik, request, data_dir):
    path = _resolve(kind, rel, request, data_dir)
    df = io.read_dlc_table(path)
    poses = io.load_poses(path)
    assert all(p.has_likelihood is lik for p in poses.values())
    if not lik:
        assert all(np.isnan(p.likelihood).all() for p in poses.values())
    back = io.poses_to_dlc_table(list(poses.values()))
    _assert_identical(back, df)


@pytest.mark.parametrize("suffix", [".h5", ".csv"])
@pytest.mark.parametrize(("kind", "rel", "ncol", "nidx", "lik"), ALL_FILES)
def test_file_round_trip_our_reader_and_plain_pandas(
    kind, rel, ncol, nidx, lik, suffix, request, data_dir, tmp_path
):
    """read -> Poses -> table -> write (h5/csv) -> read: identical, with our reader and with
    the plain ``pd.read_hdf`` / ``pd.read_csv(header=[0,1,2], index_col=0)`` DLC uses."""
    path = _resolve(kind, rel, request, data_dir)
    original = io.read_dlc_table(path)
    poses = list(io.load_poses(path).values())
    out = tmp_path / f"out{suffix}"
    assert io.save_pose(poses, out) == out
    _assert_identical(io.read_dlc_table(out), original)
    plain = _plain_pandas_read(out, ncol, nidx)
    plain.columns = plain.columns.set_names(original.columns.names)
    _assert_identical(plain, original)
    again = list(io.load_poses(out).values())
    for a, b in zip(poses, again, strict=True):
        assert_array_equal(a.values, b.values)  # NaN == NaN here
        assert a.bodyparts == b.bodyparts and a.individual == b.individual
        assert a.scorer == b.scorer and a.has_likelihood == b.has_likelihood


@pytest.mark.parametrize(("kind", "rel", "ncol", "nidx", "lik"), ALL_FILES)
def test_written_h5_layout_is_what_deeplabcut_writes(
    kind, rel, ncol, nidx, lik, request, data_dir, tmp_path
):
    path = _resolve(kind, rel, request, data_dir)
    out = io.write_dlc_table(io.read_dlc_table(path), tmp_path / "o.h5")
    with pd.HDFStore(out, mode="r") as store:
        keys = store.keys()
        assert keys == ["/df_with_missing"]  # DeepLabCut's key, labels too; one key: read_hdf(path)
        storer = store.get_storer(keys[0])
        # predictions: PyTables table (as analyze_videos); labels: fixed (as CollectedData)
        assert storer.is_table is (nidx == 1 and lik)
        # pandas 2 needs this attribute to read table files; pandas 3 stopped writing it
        assert storer.group._v_attrs.pandas_version == "0.15.2"


def test_h5_pytables_index_only_when_asked(data_dir, tmp_path):
    """Our own files skip PyTables' search index on the frame column (it only speeds up
    ``where=`` queries, and PyTables loads it on every open); ``pytables_index=True`` writes
    it as DeepLabCut does. Either file reads the same, a ``where=`` query included."""
    import tables

    src = data_dir / "pred_single.h5"
    df = io.read_dlc_table(src)
    plain = io.write_dlc_table(df, tmp_path / "plain.h5")
    indexed = io.write_dlc_table(df, tmp_path / "indexed.h5", pytables_index=True)
    mid = int(df.index[len(df) // 2])
    for path, has_index in ((src, True), (indexed, True), (plain, False)):
        with tables.open_file(path, mode="r") as h5:
            assert ("/df_with_missing/_i_table/index" in h5) is has_index, path
            assert h5.get_node("/df_with_missing/table").indexed is has_index, path
        _assert_identical(io.read_dlc_table(path), df)
        _assert_identical(pd.read_hdf(path), df)
        _assert_identical(pd.read_hdf(path, where=f"index >= {mid}"), df.loc[mid:])


def test_synthetic_predictions_are_written_like_deeplabcut_s(tmp_path):
    """The sample and benchmark predictions imitate DLC's files, index included, so reading
    them costs what reading a DLC output costs."""
    import tables

    from napari_gaitint.synthetic.files import write_trial_files
    from napari_gaitint.synthetic.trial import generate_trial

    rows = write_trial_files(generate_trial(3), tmp_path, video=False)
    for row in rows:
        with tables.open_file(tmp_path / row["predictions"], mode="r") as h5:
            assert "/df_with_missing/_i_table/index" in h5


def test_csv_header_layout_matches_deeplabcut(data_dir, tmp_path):
    lines = (data_dir / "labels_dlc3.csv").read_text().splitlines()
    out = io.write_dlc_table(io.read_dlc_table(data_dir / "labels_dlc3.csv"), tmp_path / "l.csv")
    assert out.read_text().splitlines() == lines
    assert lines[0].startswith("scorer,,,gaitint")
    assert lines[3].startswith("labeled-data,trial01_C1,img003.png,")
    pred = io.write_dlc_table(io.read_dlc_table(data_dir / "pred_single.h5"), tmp_path / "p.csv")
    assert pred.read_text() == (data_dir / "pred_single.csv").read_text()


def test_read_h5_by_key_and_bad_key(data_dir):
    df = io.read_dlc_table(data_dir / "pred_multi.h5", key="tracks")
    assert io.is_multianimal(df)
    with pytest.raises(InputFileError, match="key 'nope' not found; keys are \\['tracks'\\]"):
        io.read_dlc_table(data_dir / "pred_multi.h5", key="nope")


_COMPAT_PY = os.environ.get("GAITINT_PANDAS2_PYTHON")


@pytest.mark.skipif(not _COMPAT_PY, reason="set GAITINT_PANDAS2_PYTHON to a python with pandas<3 "
                    "and tables (as in DeepLabCut environments) to run this check")
def test_files_we_write_open_in_pandas2(data_dir, tmp_path):
    """DeepLabCut environments run pandas 2: our h5/csv files must open there unchanged."""
    sums = {}
    for name, ncol, nidx, _lik in OWN_FILES:
        df = io.read_dlc_table(data_dir / name)
        for suffix in (".h5", ".csv"):
            out = io.write_dlc_table(df, tmp_path / f"{name}{suffix}")
            sums[str(out)] = [ncol, nidx, float(np.nansum(df.to_numpy())),
                              int(df.isna().sum().sum()), list(map(str, df.index[:2]))]
    script = (
        "import json,sys,numpy as np,pandas as pd\n"
        "want=json.loads(sys.argv[1]);got={}\n"
        "for p,(nc,ni,_,_,_) in want.items():\n"
        "    df=pd.read_hdf(p) if p.endswith('.h5') else pd.read_csv(p,header=list(range(nc)),"
        "index_col=list(range(ni)))\n"
        "    got[p]=[nc,ni,float(np.nansum(df.to_numpy())),int(df.isna().sum().sum()),"
        "list(map(str,df.index[:2]))]\n"
        "print(json.dumps(got))\n"
    )
    res = subprocess.run([_COMPAT_PY, "-c", script, json.dumps(sums)], capture_output=True,
                         text=True, check=True)
    got = json.loads(res.stdout)
    for p, want in sums.items():
        assert got[p][:2] == want[:2] and got[p][3:] == want[3:], p
        assert got[p][2] == pytest.approx(want[2], rel=1e-12), p


# ---------------------------------------------------------------------------------------
# Pose conversion details
# ---------------------------------------------------------------------------------------
def test_single_animal_pose(data_dir):
    pose = io.load_pose(data_dir / "pred_single.h5", fps=25)
    assert pose.bodyparts == ROLES
    assert pose.individual is None and pose.has_likelihood
    assert pose.scorer == "DLC_resnet50_gaitintNov24shuffle1_1000"
    assert pose.fps == 25.0 and pose.n_frames == 8
    assert_array_equal(pose.frames, np.arange(8))
    df = pd.read_hdf(data_dir / "pred_single.h5")
    assert_array_equal(pose.bodypart("knee")[:, 0], df[(pose.scorer, "knee", "x")].to_numpy())
    assert_array_equal(pose.likelihood[:, 1], df[(pose.scorer, "hip", "likelihood")].to_numpy())
    assert np.isnan(pose.bodypart("heel")[3]).all()  # the dropout stays NaN
    assert pose.source == data_dir / "pred_single.h5"


def test_multi_animal_individuals_and_single(data_dir):
    poses = io.load_poses(data_dir / "pred_multi.h5")
    assert list(poses) == ["subject1", "subject2", "single"]
    assert poses["single"].bodyparts == ("walkway_start",)
    assert poses["subject1"].bodyparts == ROLES
    # default: the individual with the most data, never the pseudo-individual, and a warning
    # that names the others
    with pytest.warns(GaitintWarning, match=r"2 individuals have data at the same time "
                      r"\(subject1 8 frames, subject2 6 frames\); using subject1"):
        assert io.load_pose(data_dir / "pred_multi.csv").individual == "subject1"
    s2 = io.load_pose(data_dir / "pred_multi.h5", individual="subject2")
    assert np.isnan(s2.values[:2]).all() and np.isfinite(s2.values[2:]).all()
    single = io.load_pose(data_dir / "pred_multi.h5", individual="single")
    assert_array_equal(single.values[:, 0, 0], np.full(8, 12.5))


def test_multi_animal_default_skips_empty_individuals(data_dir):
    df = io.read_dlc_table(data_dir / "pred_multi.h5")
    df.loc[:, df.columns.get_level_values("individuals") == "subject1"] = np.nan
    assert io.pose_from_dlc_table(df).individual == "subject2"


def test_labels_keep_image_paths(data_dir):
    p2 = io.load_pose(data_dir / "labels_dlc2.h5")
    p3 = io.load_pose(data_dir / "labels_dlc3.csv")
    assert not p2.has_likelihood and not p3.has_likelihood
    assert p2.index[0] == "labeled-data/trial01_C1/img003.png"
    assert p3.index[0] == ("labeled-data", "trial01_C1", "img003.png")
    assert_array_equal(p2.xy, p3.xy)
    assert_array_equal(p2.frames, np.arange(4))  # no frame numbers: positions
    multi = io.load_poses(data_dir / "labels_multi_dlc3.h5")
    assert list(multi) == ["subject1", "subject2"]
    dx = multi["subject1"].xy[..., 0] - multi["subject2"].xy[..., 0]
    dx = dx[np.isfinite(dx)]  # subject2 was placed 300 px further left (plus noise)
    assert dx.size == 22 and np.all((dx > 290) & (dx < 310))


def test_real_collected_data_index_and_nan(dlc_fixtures_dir):
    pose = io.load_pose(dlc_fixtures_dir / "labels/CollectedData_Mackenzie.h5")
    assert pose.n_frames == 55 and pose.bodyparts[0] == "Hand"
    assert str(pose.index[0]).endswith("img005.png")
    assert np.isnan(pose.values[0, pose.bodypart_index("Tongue"), :2]).all()


def test_real_multi_animal_single_pseudo_individual(dlc_fixtures_dir):
    path = dlc_fixtures_dir / "multi/m3v1mp4shortDLC_effnet_b0_multi_mouseApr12shuffle1_5_el.h5"
    poses = io.load_poses(path)
    assert list(poses) == ["individual1", "individual2", "individual3", "single"]
    assert poses["single"].bodyparts == ("corner1", "corner2")
    with pytest.warns(GaitintWarning, match=r"3 individuals have data at the same time .*; "
                      r"using individual1"):
        assert io.load_pose(path).individual == "individual1"


def test_pose_api():
    values = np.arange(4 * 2 * 3, dtype=float).reshape(4, 2, 3)
    pose = Pose(values, ("hip", "knee"), index=pd.Index([10, 11, 12, 13]), fps=25)
    assert_array_equal(pose.frames, [10, 11, 12, 13])
    assert pose.xy.shape == (4, 2, 2) and pose.likelihood.shape == (4, 2)
    sel = pose.select(["knee"])
    assert sel.bodyparts == ("knee",)
    assert_array_equal(sel.values[:, 0], pose.values[:, 1])
    sel.values[:] = -1
    assert pose.values.min() == 0  # select copies
    cp = pose.copy()
    cp.values[0, 0, 0] = 99
    cp.meta["x"] = 1
    assert pose.values[0, 0, 0] == 0 and "x" not in pose.meta
    with pytest.raises(InputFileError, match="no body part 'toe'.*--bodyparts"):
        pose.bodypart("toe")
    with pytest.raises(ValueError, match="shape"):
        Pose(np.zeros((3, 2)), ("a", "b"))
    with pytest.raises(ValueError, match="repeat"):
        Pose(np.zeros((3, 2, 3)), ("a", "a"))
    with pytest.raises(ValueError, match="index has 2 rows for 3 frames"):
        Pose(np.zeros((3, 1, 3)), ("a",), index=[0, 1])


# ---------------------------------------------------------------------------------------
# body-part mapping
# ---------------------------------------------------------------------------------------
def test_parse_bodypart_mapping():
    assert parse_bodypart_mapping(None) is None
    assert parse_bodypart_mapping("  ") is None
    assert parse_bodypart_mapping("neck=Nose, toe = Big Toe,") == {
        "neck": "Nose", "toe": "Big Toe"}
    with pytest.raises(ConfigError, match="must look like role=name"):
        parse_bodypart_mapping("neck")
    with pytest.raises(ConfigError, match="unknown role 'elbow'"):
        parse_bodypart_mapping("elbow=Elbow")
    with pytest.raises(ConfigError, match="no file name for role 'hip'"):
        parse_bodypart_mapping("hip=")
    with pytest.raises(ConfigError, match="twice"):
        parse_bodypart_mapping("hip=A,hip=B")


def _custom_names_pose(rng):
    names = ("Nose", "Neck", "Hip", "Knee", "Ankle", "Heel", "Toe", "Tail")
    return Pose(rng.normal(size=(5, len(names), 3)), names, source="/data/t01.h5")


def test_rename_bodyparts_selects_and_orders_roles(rng):
    pose = _custom_names_pose(rng)
    mapping = parse_bodypart_mapping("neck=Neck,hip=Hip,knee=Knee,ankle=Ankle,heel=Heel,toe=Toe")
    out = rename_bodyparts(pose, mapping)
    assert out.bodyparts == ROLES
    for role in ROLES:
        assert_array_equal(out.bodypart(role), pose.bodypart(mapping[role]))
    assert out.meta["bodypart_names"]["toe"] == "Toe"
    assert pose.bodyparts[0] == "Nose"  # input untouched


def test_rename_bodyparts_missing_gives_mapping_hint(rng):
    assert rename_bodyparts(_custom_names_pose(rng), {}).bodyparts == ROLES  # Neck, Hip...: matched
    names = ("Nose", "Nck", "Hp", "Kne", "Ankl", "Hel", "To", "Tail")  # abbreviations: not guessed
    pose = Pose(rng.normal(size=(5, len(names), 3)), names, source="/data/t01.h5")
    with pytest.raises(InputFileError) as err:
        rename_bodyparts(pose, {})
    msg = str(err.value)
    assert msg.startswith(str(pose.source))
    assert "missing body part(s) neck, hip, knee, ankle, heel, toe" in msg
    assert "--bodyparts neck=Nck,hip=Hp,knee=Kne,ankle=Ankl,heel=Hel,toe=To" in msg
    pose = _custom_names_pose(rng)
    with pytest.raises(InputFileError, match=r"toe \(as 'BigToe'\).*toe=Toe"):
        rename_bodyparts(pose, {"neck": "Neck", "hip": "Hip", "knee": "Knee",
                                   "ankle": "Ankle", "heel": "Heel", "toe": "BigToe"})


def test_load_pose_with_mapping_on_real_file(dlc_fixtures_dir):
    path = dlc_fixtures_dir / "single/reachingvideo1shortDLC_resnet50_TESTNov4shuffle1_10.h5"
    raw = io.load_pose(path)
    mapping = dict(zip(["neck", "hip", "knee", "ankle"],
                       ["bodypart1", "bodypart2", "bodypart3", "objectA"], strict=True))
    roles = ("neck", "hip", "knee", "ankle")
    pose = rename_bodyparts(raw, mapping, roles=roles)
    assert pose.bodyparts == roles
    assert_array_equal(pose.bodypart("ankle"), raw.bodypart("objectA"))
    with pytest.raises(InputFileError, match=r"missing body part\(s\) heel, toe; the file has "
                       r"\['bodypart1', 'bodypart2', 'bodypart3', 'objectA'\]"):
        io.load_pose(path, bodyparts=mapping)
    dup = {**mapping, "heel": "bodypart1", "toe": "bodypart2"}
    with pytest.raises(ConfigError, match="'neck' and 'heel' both map to body part 'bodypart1'"):
        io.load_pose(path, bodyparts=dup)


# ---------------------------------------------------------------------------------------
# fps and view lengths
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("good", [25, 25.0, "29.97", np.float32(50)])
def test_validate_fps_accepts(good):
    assert validate_fps(good) == pytest.approx(float(good))


@pytest.mark.parametrize("bad", [None, "", 0, -25, float("nan"), float("inf"), "abc", [25]])
def test_validate_fps_refuses(bad):
    with pytest.raises(ConfigError, match="frame rate"):
        validate_fps(bad)
    with pytest.raises(InputFileError, match=r"^/x/trials\.csv: the frame rate \(fps\) "):
        validate_fps(bad, source="/x/trials.csv")


def test_load_pose_checks_fps(data_dir):
    with pytest.raises(InputFileError, match="pred_single.h5: the frame rate .* got 0"):
        io.load_pose(data_dir / "pred_single.h5", fps=0)


def _pose(n, source=None, index=None):
    return Pose(np.arange(n * 3, dtype=float).reshape(n, 1, 3), ("neck",), source=source,
                index=index)


def test_align_view_lengths_equal_is_identity():
    a, b = _pose(5), _pose(5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = align_view_lengths(a, b)
    assert out[0] is a and out[1] is b


def test_align_view_lengths_trims_end_with_warning():
    a = _pose(10, "/d/T01_C1.h5", index=pd.RangeIndex(10))
    b = _pose(7, "/d/T01_C3.h5")
    with pytest.warns(GaitintWarning, match=r"T01_C1.h5 has 10, T01_C3.h5 has 7 \(they differ "
                      r"by 3 frames\); trimming the last 3 frames"):
        a2, b2 = align_view_lengths(a, b)
    assert a2.n_frames == b2.n_frames == 7
    assert_array_equal(a2.values, a.values[:7])
    assert list(a2.index) == list(range(7))
    assert a2.meta["trimmed_frames"] == 3 and b2 is b
    assert a.n_frames == 10  # input untouched


def test_align_view_lengths_refuses():
    a, b = _pose(10, "/d/a.h5"), _pose(9, "/d/b.h5")
    with pytest.raises(AnalysisError, match="differ by 1 frame\\b.*synchronised"):
        align_view_lengths(a, b, trim=False)
    with pytest.raises(AnalysisError, match="more than the 0 allowed"):
        align_view_lengths(a, b, max_diff_frames=0)


# ---------------------------------------------------------------------------------------
# writing safely
# ---------------------------------------------------------------------------------------
def test_save_refuses_existing_unless_overwrite(data_dir, tmp_path):
    pose = io.load_pose(data_dir / "pred_single.h5")
    out = io.save_pose(pose, tmp_path / "p.csv")
    before = out.read_bytes()
    with pytest.raises(OutputExistsError, match="p.csv: exists already.*--overwrite"):
        io.save_pose(pose.replace(values=pose.values * 2), out)
    assert out.read_bytes() == before
    io.save_pose(pose.replace(values=pose.values * 2), out, overwrite=True)
    assert_array_equal(io.load_pose(out).values, pose.values * 2)


def test_save_never_overwrites_the_source(data_dir, tmp_path):
    src = tmp_path / "pred.h5"
    src.write_bytes((data_dir / "pred_single.h5").read_bytes())
    pose = io.load_pose(src)
    with pytest.raises(InputFileError, match="read from; source files are never overwritten"):
        io.save_pose(pose, src, overwrite=True)
    assert src.read_bytes() == (data_dir / "pred_single.h5").read_bytes()


def test_unicode_and_spaces_in_paths(data_dir, tmp_path):
    folder = tmp_path / "Müller lab" / "gång 漢字 é"
    pose = io.load_pose(data_dir / "pred_multi.h5", individual="subject2")
    for suffix in (".h5", ".csv"):
        out = io.save_pose(pose, folder / f"essai n°1 ü{suffix}")
        back = io.load_pose(out)
        assert_array_equal(back.values, pose.values)
        assert back.source == out and back.individual == "subject2"


def test_zero_frames_round_trip_and_load_refusal(data_dir, tmp_path):
    pose = io.load_pose(data_dir / "pred_single.h5")
    empty = pose.replace(values=pose.values[:0], index=pose.index[:0])
    for suffix in (".h5", ".csv"):
        out = io.save_pose(empty, tmp_path / f"e{suffix}")
        with pytest.raises(InputFileError, match="has a header but no frames"):
            io.load_pose(out)
        back = io.load_pose(out, allow_empty=True)
        assert back.values.shape == (0, 6, 3) and back.bodyparts == ROLES


def test_first_frame_without_values_survives_csv(data_dir, tmp_path):
    """pandas' multi-row csv header parsing takes an all-empty first data row for an
    index-names row and drops it; our reader must not, and our writer must write a csv that
    plain ``pd.read_csv(header=[0,1,2], index_col=0)`` (DLC, napari-deeplabcut) reads whole."""
    df = io.read_dlc_table(data_dir / "pred_single.h5")
    df.iloc[0] = np.nan
    dlc_style = tmp_path / "dlc_wrote.csv"
    df.to_csv(dlc_style)  # what DeepLabCut itself would write
    assert len(pd.read_csv(dlc_style, header=[0, 1, 2], index_col=0)) == 7  # the pandas pitfall
    _assert_identical(io.read_dlc_table(dlc_style), df)
    ours = io.write_dlc_table(df, tmp_path / "ours.csv")
    plain = pd.read_csv(ours, header=[0, 1, 2], index_col=0)
    plain.columns = plain.columns.set_names(df.columns.names)
    _assert_identical(plain, df)
    _assert_identical(io.read_dlc_table(ours), df)


# --- our roles under the names DLC projects give them ---------------------------------------
@pytest.mark.parametrize(("names", "side", "expected"), [
    (["Neck", "Hip", "Knee", "Ankle", "Heel", "Toe"], None,
     {"neck": "Neck", "hip": "Hip", "knee": "Knee", "ankle": "Ankle", "heel": "Heel", "toe": "Toe"}),
    (["neck", "LHip", "RHip", "LKnee", "RKnee", "LAnkle", "RAnkle", "LHeel", "RHeel", "LBigToe", "RBigToe"],
     "right", {"neck": "neck", "hip": "RHip", "knee": "RKnee", "ankle": "RAnkle", "heel": "RHeel", "toe": "RBigToe"}),
    (["C7", "greater_trochanter", "lateral_epicondyle", "Lateral Malleolus", "calcaneus", "MTP5"], "left",
     {"neck": "C7", "hip": "greater_trochanter", "knee": "lateral_epicondyle", "ankle": "Lateral Malleolus",
      "heel": "calcaneus", "toe": "MTP5"}),
    (["hip_left", "knee_left", "ankle_left", "heel_left", "toe_left"], "left",
     {"hip": "hip_left", "knee": "knee_left", "ankle": "ankle_left", "heel": "heel_left", "toe": "toe_left"}),
    # only the other side's names: used (they are just names); both sides and no side: left out
    (["RHeel"], "left", {"heel": "RHeel"}),
    (["LHeel", "RHeel", "snout"], None, {}),
    # the exact role name wins over a synonym; a name serves one role
    (["ankle", "malleolus", "toe", "foot"], None, {"ankle": "ankle", "toe": "toe"}),
])
def test_match_roles_common_dlc_names(names, side, expected):
    assert match_roles(names, side=side) == expected


def test_match_roles_mapping_first_and_rename_uses_side(tmp_path):
    assert match_roles(["Neck", "Nose"], {"neck": "Nose"}) == {"neck": "Nose"}
    names = ("Neck", "LHip", "RHip", "LKnee", "LAnkle", "LHeel", "LToe", "RToe")
    pose = Pose(np.random.default_rng(0).random((4, len(names), 3)), names)
    out = rename_bodyparts(pose, {}, side="left")
    assert out.bodyparts == ROLES
    assert_array_equal(out.bodypart("toe"), pose.bodypart("LToe"))
    assert out.meta["bodypart_names"]["hip"] == "LHip"
    with pytest.raises(InputFileError, match="missing body part.*hip"):
        rename_bodyparts(pose, {})  # no side: LHip or RHip?
    path = io.save_pose(pose, tmp_path / "T01_C1.h5")
    assert io.load_pose(path, bodyparts={}, side="left").bodyparts == ROLES
    kept = with_role_names(pose, side="right")
    assert kept.bodyparts[:3] == ("neck", "LHip", "hip") and "toe" in kept.bodyparts


# --- multi-animal files of one subject ---------------------------------------------------------
def _two_tracks(rng, first_frames, second_frames, n=100):
    """A multi-animal table: one subject's track split between two individuals."""
    names = ("neck", "hip", "ankle")
    truth = rng.normal(300, 50, (n, len(names), 3))
    truth[..., 2] = rng.uniform(0.7, 1.0, (n, len(names)))
    parts = []
    for ind, frames in (("individual1", first_frames), ("individual2", second_frames)):
        v = np.full_like(truth, np.nan)
        v[frames] = truth[frames]
        parts.append(Pose(v, names, individual=ind, scorer="DLC_x"))
    return io.poses_to_dlc_table(parts), truth


def test_fragments_of_one_track_are_merged(rng, tmp_path):
    """A tracker that split the walker's track at an identity switch: both pieces are kept."""
    df, truth = _two_tracks(rng, np.arange(0, 55), np.arange(50, 100))  # 5 frames overlap
    path = tmp_path / "T01_C1DLC_x_el.h5"
    io.write_dlc_table(df, path)
    with warnings.catch_warnings():
        warnings.simplefilter("error", GaitintWarning)
        pose = io.load_pose(path)
    assert pose.meta["merged_individuals"] == ["individual1", "individual2"]
    assert_array_equal(pose.values, truth)
    assert np.isnan(io.load_pose(path, individual="individual2").values[:50, :, :2]).all()  # as asked


def test_overlapping_individuals_pick_the_longest_and_say_so(rng, tmp_path):
    df, truth = _two_tracks(rng, np.arange(0, 40), np.arange(10, 100))  # two animals at once
    path = tmp_path / "two.h5"
    io.write_dlc_table(df, path)
    with pytest.warns(GaitintWarning, match=r"2 individuals have data at the same time.*using individual2"):
        pose = io.load_pose(path)
    assert pose.individual == "individual2" and "merged_individuals" not in pose.meta
    assert_array_equal(pose.values[10:], truth[10:])


def test_side_of_view_one_rule_for_every_caller():
    """An explicit side wins; C1/C3 by the walkway's convention, any case; else unknown."""
    from napari_gaitint.core.pose import side_of_view

    assert side_of_view("C1") == "left" and side_of_view(" c3 ") == "right"
    assert side_of_view("C1", "RIGHT") == "right"
    assert side_of_view("cam2") is None and side_of_view("cam2", float("nan")) is None
    assert side_of_view("cam2", "left") == "left" and side_of_view(None) is None
