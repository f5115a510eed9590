"""Cleaned poses as a movement poses dataset: `gaitint clean ... --out X.nc` and
save_movement_dataset round-trip through xarray, and movement itself opens the file."""

from __future__ import annotations

import contextlib
import io as _io
import json
import subprocess
import sys
import textwrap
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal

from napari_gaitint import cli
from napari_gaitint.core.clean import clean_pose
from napari_gaitint.core.clean_flags import flag_names
from napari_gaitint.core.errors import GaitintError
from napari_gaitint.core.io import load_pose
from napari_gaitint.core.movement_io import (
    movement_dims,
    save_movement_dataset,
    to_movement_dataset,
)

xr = pytest.importorskip("xarray", reason="the [movement] extra (xarray, netCDF) is not installed")

MULTI = "multi/m3v1mp4shortDLC_effnet_b0_multi_mouseApr12shuffle1_5_el.h5"
SINGLE = "single/reachingvideo1shortDLC_resnet50_TESTNov4shuffle1_10.h5"


@pytest.fixture(scope="module")
def trial(tmp_path_factory) -> tuple[Path, Path]:
    from napari_gaitint.synthetic.files import write_synthetic_cohort

    folder = tmp_path_factory.mktemp("walk")
    manifest = write_synthetic_cohort(folder, n_trials=1, seed=4, fps=25.0, video=False, bias_px=0.0)
    c1, c3 = pd.read_csv(manifest)["predictions"]
    return folder / c1, folder / c3


def _clean(*argv) -> str:
    out = _io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli.main(["clean", *map(str, argv)]) == 0
    return out.getvalue()


def _dense_flags(table: pd.DataFrame, pose) -> np.ndarray:
    flags = np.zeros((pose.n_frames, len(pose.bodyparts)), dtype=int)
    rows = pd.Index(pose.frames).get_indexer(table["frame"])
    cols = [pose.bodyparts.index(b) for b in table["bodypart"]]
    flags[rows, cols] = table["flags"]
    return flags


def test_clean_to_netcdf_round_trips_values_confidence_flags_fps_and_names(trial, tmp_path):
    c1, c3 = trial
    printed = _clean(c1, "--other-view", c3, "--fps", "25", "--out", tmp_path / "T01_C1.nc")
    assert "movement poses dataset" in printed
    assert not (tmp_path / "T01_C1_flags.csv").exists()  # the flags are inside the dataset
    _clean(c1, "--other-view", c3, "--fps", "25", "--out", tmp_path / "T01_C1.h5")
    cleaned = load_pose(tmp_path / "T01_C1.h5")
    flags = _dense_flags(pd.read_csv(tmp_path / "T01_C1_flags.csv"), cleaned)
    assert flags.any() and (flags & 4).any()  # wrong-limb labels were repaired

    with xr.open_dataset(tmp_path / "T01_C1.nc") as ds:
        assert ds.position.dims == ("time", "space", "keypoints", "individuals")
        assert ds.confidence.dims == ds.flags.dims == ("time", "keypoints", "individuals")
        assert list(ds.keypoints.values) == list(cleaned.bodyparts)
        assert list(ds.individuals.values) == ["individual_0"]
        assert list(ds.space.values) == ["x", "y"]
        assert ds.attrs["fps"] == 25.0 and ds.attrs["time_unit"] == "seconds"
        assert ds.attrs["ds_type"] == "poses" and ds.attrs["source_software"] == "DeepLabCut"
        assert ds.attrs["scorer"] == cleaned.scorer
        assert json.loads(ds.attrs["clean_config"])["method"] == "twoview"
        assert_array_equal(ds.time.values, np.arange(cleaned.n_frames) / 25.0)
        assert_array_equal(ds.position.values[:, 0, :, 0], cleaned.xy[..., 0])
        assert_array_equal(ds.position.values[:, 1, :, 0], cleaned.xy[..., 1])
        assert_array_equal(ds.confidence.values[..., 0], cleaned.values[..., 2])
        assert_array_equal(ds.flags.values[..., 0], flags)
        masks, meanings = ds.flags.attrs["flag_masks"], ds.flags.attrs["flag_meanings"].split()
        assert [flag_names(int(m)) for m in masks] == [[m] for m in meanings]
        assert "wrong_limb" in meanings


@pytest.mark.skipif(find_spec("movement") is None, reason="movement (the [movement] extra) is not installed")
def test_movement_opens_and_uses_the_dataset(trial, tmp_path):
    """movement's own validator, its napari conversion and its DLC export accept the file;
    run in a subprocess (importing movement reconfigures warnings and logging)."""
    c1, c3 = trial
    _clean(c1, "--other-view", c3, "--fps", "25", "--out", tmp_path / "c.nc")
    _clean(c1, "--other-view", c3, "--fps", "25", "--out", tmp_path / "c.h5")
    script = textwrap.dedent(f"""
        import numpy as np, pandas as pd, xarray as xr
        from movement.validators.datasets import ValidPosesInputs
        from movement.io import save_poses
        from movement.filtering import filter_by_confidence
        from movement.napari.convert import ds_to_napari_layers
        ds = xr.open_dataset({str(tmp_path / "c.nc")!r})
        ValidPosesInputs.validate(ds)  # what movement's napari widget checks, with ds_type
        assert ds.attrs["ds_type"] == "poses"
        theirs = save_poses.to_dlc_style_df(ds)
        ours = pd.read_hdf({str(tmp_path / "c.h5")!r})
        np.testing.assert_array_equal(theirs.to_numpy(), ours.to_numpy())
        assert list(theirs.columns.get_level_values("bodyparts").unique()) == list(ds.keypoints.values)
        kept = filter_by_confidence(ds.position, ds.confidence, threshold=0.6)
        assert kept.shape == ds.position.shape
        points, boxes, props = ds_to_napari_layers(ds)
        assert points.shape == (ds.sizes["time"] * ds.sizes["keypoints"], 4)
        print("movement", __import__("movement").__version__, "ok")
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                         cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().endswith("ok")


def test_real_multi_animal_file_keeps_the_individual_used(dlc_fixtures_dir, tmp_path):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # which individual is used is a warning
        pose = load_pose(dlc_fixtures_dir / MULTI, fps=30.0, individual="individual2")
        result = clean_pose(pose, config=None)
    path = save_movement_dataset(result, tmp_path / "mice.nc")
    with xr.open_dataset(path) as ds:
        assert list(ds.individuals.values) == ["individual2"]
        assert list(ds.keypoints.values) == list(pose.bodyparts)
        assert ds.attrs["fps"] == 30.0
        assert_array_equal(ds.confidence.values[..., 0], pose.values[..., 2])  # likelihood kept
        assert_array_equal(ds.position.values[:, 0, :, 0], result.pose.xy[..., 0])
        assert_array_equal(ds.flags.values[..., 0], result.flags)
        assert ds.attrs["source_file"].endswith(Path(MULTI).name)


def test_real_single_file_without_frame_rate_counts_frames(dlc_fixtures_dir):
    pose = load_pose(dlc_fixtures_dir / SINGLE)
    ds = to_movement_dataset(pose)
    assert ds.attrs["time_unit"] == "frames" and "fps" not in ds.attrs and "flags" not in ds
    assert_array_equal(ds.time.values, np.arange(pose.n_frames))
    assert ds.time.dtype == np.int64


def test_dimension_names_follow_the_installed_movement():
    assert movement_dims("0.15.0")[2:] == ("keypoints", "individuals")
    assert movement_dims("0.17.0")[2:] == ("keypoint", "individual")
    from napari_gaitint.core.pose import Pose

    ds = to_movement_dataset(Pose(np.zeros((3, 2, 3)), ("hip", "knee"), fps=10), movement_version="0.17.0")
    assert ds.position.dims == ("time", "space", "keypoint", "individual")


def test_refusals(tmp_path, trial):
    from napari_gaitint.core.errors import OutputExistsError
    from napari_gaitint.core.pose import Pose

    pose = Pose(np.zeros((3, 2, 3)), ("hip", "knee"), fps=10)
    with pytest.raises(ValueError, match=r"flags have shape \(3,\), expected"):
        to_movement_dataset(pose, flags=np.zeros(3))
    with pytest.raises(GaitintError, match=r"ending in \.nc"):
        save_movement_dataset(pose, tmp_path / "x.h5")
    save_movement_dataset(pose, tmp_path / "x.nc")
    with pytest.raises(OutputExistsError):
        save_movement_dataset(pose, tmp_path / "x.nc")


def test_without_xarray_the_cli_says_what_to_install(trial, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "xarray", None)  # `import xarray` raises ImportError
    c1, _ = trial
    assert cli.main(["clean", str(c1), "--fps", "25", "--out", str(tmp_path / "x.nc")]) == 2
    err = capsys.readouterr().err
    assert "needs xarray" in err and "pip install 'napari-gaitint[movement]'" in err
    assert not (tmp_path / "x.nc").exists()
