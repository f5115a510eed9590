"""``gaitint clean ... --out X.nc``: cleaned poses as a movement poses dataset that round-trips
through xarray and that movement itself opens (save_movement_dataset alone:
tests/core/test_movement_io.py)."""

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
from napari_gaitint.core.clean import load_flags
from napari_gaitint.core.clean_flags import flag_names
from napari_gaitint.core.io import load_pose
from napari_gaitint.core.movement_io import movement_dims

xr = pytest.importorskip("xarray", reason="the [movement] extra (xarray, netCDF) is not installed")
#: Writing .nc needs netCDF4 or h5netcdf ([movement]); xarray alone comes with pingouin.
needs_netcdf = pytest.mark.skipif(
    all(find_spec(m) is None for m in ("netCDF4", "h5netcdf")),
    reason="writing netCDF needs netCDF4 or h5netcdf (the [movement] extra), not installed")


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


@needs_netcdf
def test_clean_to_netcdf_round_trips_values_confidence_flags_fps_and_names(trial, tmp_path):
    c1, c3 = trial
    printed = _clean(c1, "--other-view", c3, "--fps", "25", "--out", tmp_path / "T01_C1.nc")
    assert "movement poses dataset" in printed
    assert not (tmp_path / "T01_C1_flags.csv").exists()  # the flags are inside the dataset
    _clean(c1, "--other-view", c3, "--fps", "25", "--out", tmp_path / "T01_C1.h5")
    cleaned = load_pose(tmp_path / "T01_C1.h5")
    flags = load_flags(tmp_path / "T01_C1_flags.csv", cleaned)
    assert flags.any() and (flags & 4).any()  # wrong-limb labels were repaired

    dims = movement_dims()  # movement 0.17 names them keypoint / individual, 0.15 plural
    _, _, keypoints, individuals = dims
    with xr.open_dataset(tmp_path / "T01_C1.nc") as ds:
        assert ds.position.dims == dims
        assert ds.confidence.dims == ds.flags.dims == ("time", keypoints, individuals)
        assert list(ds[keypoints].values) == list(cleaned.bodyparts)
        assert list(ds[individuals].values) == ["individual_0"]
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
    keypoints = movement_dims()[2]
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
        assert list(theirs.columns.get_level_values("bodyparts").unique()) == list(ds[{keypoints!r}].values)
        kept = filter_by_confidence(ds.position, ds.confidence, threshold=0.6)
        assert kept.shape == ds.position.shape
        points, boxes, props = ds_to_napari_layers(ds)
        assert points.shape == (ds.sizes["time"] * ds.sizes[{keypoints!r}], 4)
        print("movement", __import__("movement").__version__, "ok")
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                         cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().endswith("ok")


def test_without_xarray_the_cli_says_what_to_install(trial, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "xarray", None)  # `import xarray` raises ImportError
    c1, _ = trial
    assert cli.main(["clean", str(c1), "--fps", "25", "--out", str(tmp_path / "x.nc")]) == 2
    err = capsys.readouterr().err
    assert "needs xarray" in err and "pip install 'napari-gaitint[movement]'" in err
    assert not (tmp_path / "x.nc").exists()
