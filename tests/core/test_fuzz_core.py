"""Property tests (hypothesis) of DLC I/O and orientation: random NaN patterns, lengths
0/1/2/long, extreme values, damaged files. Exact round trips, invertible transforms, and
never an exception other than a GaitintError for bad data."""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_array_equal

from napari_gaitint.core import io
from napari_gaitint.core.config import ROLES
from napari_gaitint.core.errors import (
    AnalysisError,
    ConfigError,
    GaitintError,
    GaitintWarning,
    InputFileError,
)
from napari_gaitint.core.orient import (
    deorient_pose,
    detect_walking_direction,
    gait_to_image,
    image_to_gait,
    mirror_x,
    orient_pose,
)
from napari_gaitint.core.pose import Pose, align_view_lengths, parse_bodypart_mapping

DATA = Path(__file__).resolve().parents[1] / "data"
FAST = settings(max_examples=25, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
#: file round trips cost ~0.1 s each (HDF5); fewer examples keep the file under ~20 s
FILES = settings(FAST, max_examples=12)

# coordinates as DLC could write them, plus the extremes a broken pipeline could produce
finite = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False,
                   allow_subnormal=True)
any_float = st.one_of(finite, st.just(np.nan), st.just(np.inf), st.just(-np.inf),
                      st.sampled_from([0.0, -0.0, 5e-324, 1.7976931348623157e308, 1e-300]))
lengths = st.one_of(st.sampled_from([0, 1, 2]), st.integers(3, 40), st.just(3000))
name_chars = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp"))
bodypart_names = st.lists(
    st.text(name_chars, min_size=1, max_size=8).map(str.strip).filter(bool),
    min_size=1, max_size=5, unique=True,
)


@st.composite
def poses(draw, *, individual=None, likelihood=True):
    n = draw(lengths)
    names = draw(bodypart_names)
    shape = (n, len(names), 3)
    if n > 50:  # long: random NaN pattern on top of a cheap deterministic fill
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        values = rng.normal(500, 300, shape)
        values[rng.random(shape) < draw(st.floats(0, 1))] = np.nan
    else:
        values = draw(arrays(np.float64, shape, elements=any_float))
    if not likelihood:
        values[..., 2] = np.nan
    return Pose(values, tuple(names), scorer=draw(st.sampled_from(
        ["DLC_resnet50_gaitNov24shuffle1_1000", "Ünïcode scorer", "a,b"])),
        individual=individual, has_likelihood=likelihood)


def _roundtrip(pose_list, suffix):
    with tempfile.TemporaryDirectory() as d:
        path = io.save_pose(pose_list, Path(d) / f"essai ü{suffix}")
        table = io.read_dlc_table(path)
        back = io.load_poses(path)
    return table, back


@FILES
@given(pose=poses(), suffix=st.sampled_from([".h5", ".csv"]))
def test_single_animal_round_trip_is_exact(pose, suffix):
    table, back = _roundtrip([pose], suffix)
    assert list(back) == [""]
    got = back[""]
    assert got.bodyparts == pose.bodyparts and got.scorer == pose.scorer
    assert got.values.shape == pose.values.shape
    assert_array_equal(got.values, pose.values)  # NaN where NaN, bit-equal elsewhere
    assert_array_equal(np.signbit(got.values), np.signbit(pose.values))
    assert_array_equal(got.frames, np.arange(pose.n_frames))
    pd.testing.assert_frame_equal(table, io.pose_to_dlc_table(pose), check_exact=True,
                                  check_index_type=False)


@FILES
@given(a=poses(individual="mouse 1"), data=st.data(), suffix=st.sampled_from([".h5", ".csv"]))
def test_multi_animal_round_trip_is_exact(a, data, suffix):
    b_values = data.draw(arrays(np.float64, a.values.shape, elements=any_float)) \
        if a.n_frames <= 50 else a.values[::-1].copy()
    b = a.replace(values=b_values, individual="single")
    _, back = _roundtrip([a, b], suffix)
    assert list(back) == ["mouse 1", "single"]
    assert_array_equal(back["mouse 1"].values, a.values)
    assert_array_equal(back["single"].values, b.values)


@FILES
@given(pose=poses(likelihood=False), three=st.booleans(), suffix=st.sampled_from([".h5", ".csv"]))
def test_labels_round_trip_keeps_image_index(pose, three, suffix):
    n = pose.n_frames
    assume(n > 0)
    images = [f"img{i:04d}.png" for i in range(n)]
    if three:
        index = pd.MultiIndex.from_tuples([("labeled-data", "vid 1", im) for im in images])
    else:
        index = pd.Index([f"labeled-data/vid 1/{im}" for im in images])
    pose = pose.replace(index=index)
    table, back = _roundtrip([pose], suffix)
    got = back[""]
    assert not got.has_likelihood
    assert_array_equal(got.xy, pose.xy)
    assert list(map(tuple if three else str, got.index)) == list(
        map(tuple if three else str, index))
    assert list(table.columns.get_level_values("coords").unique()) == ["x", "y"]


# ---------------------------------------------------------------------------------------
# damaged files: a DataFrame or an InputFileError, nothing else
# ---------------------------------------------------------------------------------------
_GOOD_CSV = (DATA / "pred_single.csv").read_text()
_GOOD_H5 = (DATA / "pred_single.h5").read_bytes()


def _read_or_input_error(path: Path):
    try:
        return io.read_dlc_table(path)
    except InputFileError as err:
        assert str(path.name) in str(err) and "\n" not in str(err)
        return None


@settings(max_examples=60, deadline=None)
@given(pos=st.integers(0, len(_GOOD_CSV) - 1), cut=st.integers(0, 30),
       insert=st.text(st.sampled_from(list(',;"\n\r x1.e-Ünan')), max_size=6))
def test_mutated_csv_never_crashes(pos, cut, insert):
    text = _GOOD_CSV[:pos] + insert + _GOOD_CSV[pos + cut:]
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "m.csv"
        path.write_text(text, encoding="utf-8")
        df = _read_or_input_error(path)
        if df is not None:
            assert df.columns.nlevels in (3, 4)
            assert all(pd.api.types.is_float_dtype(t) for t in df.dtypes)
            io.pose_from_dlc_table(df)  # and a Pose can be made of it


@settings(max_examples=30, deadline=None)
@given(how=st.sampled_from(["truncate", "append", "head"]), pos=st.integers(0, len(_GOOD_H5) - 1),
       junk=st.binary(min_size=1, max_size=64))
def test_damaged_h5_never_crashes(how, pos, junk):
    """Truncated files, junk appended, a damaged signature/superblock start. (Bytes overwritten
    deep inside the file are tested in a subprocess below: HDF5 itself can crash on those.)"""
    if how == "truncate":
        raw = _GOOD_H5[:pos]
    elif how == "append":
        raw = _GOOD_H5 + junk
    else:
        raw = (junk + _GOOD_H5[len(junk):])[: len(_GOOD_H5)]
        raw = raw[:8] + _GOOD_H5[8:] if raw[:8] == _GOOD_H5[:8] else raw
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "m.h5"
        path.write_bytes(raw)
        df = _read_or_input_error(path)
        if df is not None:
            io.pose_from_dlc_table(df)


_H5_CORRUPTION_SCRIPT = """
import sys, tempfile, numpy as np
from pathlib import Path
from napari_gaitint.core import io
from napari_gaitint.core.errors import InputFileError
good = Path(sys.argv[1]).read_bytes()
d = Path(tempfile.mkdtemp())
for seed in range(int(sys.argv[2])):
    rng = np.random.default_rng(seed)
    pos, k = int(rng.integers(0, len(good))), int(rng.integers(1, 64))
    p = d / f"m{seed}.h5"
    p.write_bytes(good[:pos] + rng.bytes(k) + good[pos + k:])
    print(seed, end=" ", flush=True)
    try:
        io.pose_from_dlc_table(io.read_dlc_table(p))
        print("ok", flush=True)
    except InputFileError as err:
        assert "\\n" not in str(err)
        print("error", flush=True)
"""


def test_h5_overwritten_inside_gives_input_error_or_data():
    """60 fixed random overwrites (1-64 bytes) anywhere in a predictions .h5, read in a child
    process. Known limit, not asserted here: about 1 in 900 such overwrites makes the HDF5
    library itself crash (segfault) rather than fail cleanly (docs/errors.md)."""
    import subprocess
    import sys

    res = subprocess.run([sys.executable, "-c", _H5_CORRUPTION_SCRIPT, str(DATA / "pred_single.h5"),
                          "60"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, (res.returncode, res.stdout[-300:], res.stderr[-2000:])
    outcomes = [ln.split()[-1] for ln in res.stdout.splitlines()]
    assert len(outcomes) == 60 and set(outcomes) <= {"ok", "error"}
    assert "error" in outcomes


@settings(max_examples=40, deadline=None)
@given(raw=st.binary(max_size=300), suffix=st.sampled_from([".h5", ".csv"]))
def test_random_bytes_never_crash(raw, suffix):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"r{suffix}"
        path.write_bytes(raw)
        _read_or_input_error(path)


@settings(max_examples=80, deadline=None)
@given(text=st.text(st.sampled_from(list("neckhiptoe=,: NH")), max_size=40))
def test_parse_bodypart_mapping_fuzz(text):
    try:
        out = parse_bodypart_mapping(text)
    except ConfigError:
        return
    assert out is None or (set(out) <= set(ROLES) and all(out.values()))


# ---------------------------------------------------------------------------------------
# transforms
# ---------------------------------------------------------------------------------------
sizes = st.tuples(st.integers(1, 8000), st.integers(1, 8000))
coords = st.one_of(st.floats(min_value=-1e6, max_value=1e6), st.just(np.nan))


@FAST
@given(xy=arrays(np.float64, st.tuples(st.integers(0, 30), st.integers(1, 4), st.just(2)),
                 elements=coords),
       size=sizes, direction=st.sampled_from([1, -1]))
def test_image_gait_transforms_are_inverse(xy, size, direction):
    w, h = size
    g = image_to_gait(xy, width_px=w, height_px=h, direction=direction)
    assert g.shape == xy.shape
    back = gait_to_image(g, width_px=w, height_px=h, direction=direction)
    assert_array_equal(np.isnan(back), np.isnan(xy))
    # exact up to one rounding of (size - value)
    tol = 4 * np.spacing(np.maximum(np.abs(xy), max(w, h)))
    ok = ~np.isnan(xy)
    assert np.all(np.abs(back - xy)[ok] <= tol[ok])
    assert_array_equal(mirror_x(mirror_x(np.round(xy[..., 0]), w), w), np.round(xy[..., 0]))


@FAST
@given(x=arrays(np.float64, st.integers(0, 200),
                elements=st.one_of(coords, st.just(np.inf), st.just(-np.inf))))
def test_detect_direction_returns_sign_or_analysis_error(x):
    try:
        d = detect_walking_direction(x)
    except AnalysisError:
        return
    assert d in (1, -1)
    assert detect_walking_direction(x.copy()) == d  # deterministic
    finite = x[np.isfinite(x)]
    # mirroring the image reverses the detected direction (away from the threshold)
    w = 1000.0
    third = max(1, finite.size // 3)
    travel = np.median(finite[-third:]) - np.median(finite[:third])
    if abs(travel) > 21 and np.all(np.abs(finite) < 1e5):
        assert detect_walking_direction(mirror_x(x, w)) == -d


@FAST
@given(n=lengths, start=st.floats(0, 960), travel=st.floats(30, 900),
       direction=st.sampled_from([1, -1]), nan_frac=st.floats(0, 0.8), seed=st.integers(0, 99))
def test_detect_direction_is_right_for_walks(n, start, travel, direction, nan_frac, seed):
    assume(n >= 6)
    rng = np.random.default_rng(seed)
    x = start + direction * np.linspace(0, travel, n) + rng.normal(0, 1, n)
    drop = rng.random(n) < nan_frac
    drop[[0, -1]] = False  # keep both ends visible so the travel is really there
    x[drop] = np.nan
    valid = np.flatnonzero(~drop)
    third = max(1, valid.size // 3)
    assume(abs(np.median(x[valid[-third:]]) - np.median(x[valid[:third]])) > 25)
    assert detect_walking_direction(x) == direction


@FAST
@given(pose=poses(), size=sizes, direction=st.sampled_from([1, -1]))
def test_orient_deorient_round_trip(pose, size, direction):
    pose = pose.replace(values=np.clip(pose.values, -1e9, 1e9))
    g = orient_pose(pose, frame_size=size, direction=direction)
    assert g.values.shape == pose.values.shape
    assert_array_equal(g.likelihood, pose.likelihood)
    back = deorient_pose(g)
    assert_array_equal(np.isnan(back.values), np.isnan(pose.values))
    ok = np.isfinite(pose.values)
    tol = 4 * np.spacing(np.maximum(np.abs(pose.values), max(size)))
    assert np.all(np.abs(back.values - pose.values)[ok] <= tol[ok])


@FAST
@given(na=lengths, nb=lengths, trim=st.booleans())
def test_align_view_lengths_properties(na, nb, trim):
    a = Pose(np.arange(na * 3, dtype=float).reshape(na, 1, 3), ("neck",))
    b = Pose(-np.arange(nb * 3, dtype=float).reshape(nb, 1, 3), ("neck",))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            a2, b2 = align_view_lengths(a, b, trim=trim)
        except AnalysisError as err:
            assert na != nb and (not trim or min(na, nb) == 0)
            assert f"differ by {abs(na - nb)} frame" in str(err)
            return
    assert [issubclass(w.category, GaitintWarning) for w in caught] == ([True] if na != nb else [])
    assert a2.n_frames == b2.n_frames == min(na, nb)
    assert_array_equal(a2.values, a.values[: a2.n_frames])
    assert_array_equal(b2.values, b.values[: b2.n_frames])


def test_only_gaitint_errors_escape():
    """The exception types the properties above accept are all GaitintErrors."""
    assert all(issubclass(e, GaitintError) for e in (AnalysisError, ConfigError, InputFileError))
