"""Cleaned poses as a movement poses dataset: save_movement_dataset and real DeepLabCut files
(``gaitint clean ... --out X.nc`` and movement opening the file: tests/cli/test_cli_movement.py)."""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from napari_gaitint.core.clean import clean_pose
from napari_gaitint.core.errors import GaitintError
from napari_gaitint.core.io import load_pose
from napari_gaitint.core.movement_io import (
    movement_dims,
    save_movement_dataset,
    to_movement_dataset,
)

xr = pytest.importorskip("xarray", reason="the [movement] extra (xarray, netCDF) is not installed")
#: Writing .nc needs netCDF4 or h5netcdf ([movement]); xarray alone comes with pingouin.
needs_netcdf = pytest.mark.skipif(
    all(find_spec(m) is None for m in ("netCDF4", "h5netcdf")),
    reason="writing netCDF needs netCDF4 or h5netcdf (the [movement] extra), not installed")

MULTI = "multi/m3v1mp4shortDLC_effnet_b0_multi_mouseApr12shuffle1_5_el.h5"
SINGLE = "single/reachingvideo1shortDLC_resnet50_TESTNov4shuffle1_10.h5"


@needs_netcdf
def test_real_multi_animal_file_keeps_the_individual_used(dlc_fixtures_dir, tmp_path):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # which individual is used is a warning
        pose = load_pose(dlc_fixtures_dir / MULTI, fps=30.0, individual="individual2")
        result = clean_pose(pose, config=None)
    path = save_movement_dataset(result, tmp_path / "mice.nc")
    _, _, keypoints, individuals = movement_dims()  # as the installed movement names them
    with xr.open_dataset(path) as ds:
        assert list(ds[individuals].values) == ["individual2"]
        assert list(ds[keypoints].values) == list(pose.bodyparts)
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


@needs_netcdf
def test_refusals(tmp_path):
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


