"""Label files (CollectedData_*: rows are separate labelled images) are not a time series:
cleaning, event detection and the cohort analysis refuse them with a message saying what to
give instead, and write nothing."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from napari_gaitint import cli
from napari_gaitint.core.errors import InputFileError
from napari_gaitint.core.io import image_path_key, load_pose, sort_image_rows
from napari_gaitint.core.pose import is_image_index, validate_time_series

# which animal of the multi-animal file is taken is not the point here
pytestmark = pytest.mark.filterwarnings("ignore::napari_gaitint.core.errors.GaitintWarning")

LABEL_FILES = ["labels_dlc2.h5", "labels_dlc3.h5", "labels_dlc3.csv", "labels_multi_dlc3.h5"]


@pytest.fixture(params=LABEL_FILES)
def label_file(request, data_dir, tmp_path):
    src = tmp_path / f"CollectedData_{request.param}"
    shutil.copy(data_dir / request.param, src)
    return src


def _files(folder):
    return sorted(p.name for p in folder.rglob("*") if p.is_file())


def test_core_refuses_a_label_file(label_file):
    pose = load_pose(label_file)
    assert is_image_index(pose.index)
    with pytest.raises(InputFileError, match=r"is a DeepLabCut label file: its \d+ rows are separate "
                       r"labelled images \(labeled-data/.*\).*<video>DLC_<scorer>\.h5"):
        validate_time_series(pose, task="cleaning")


def test_predictions_are_a_time_series(data_dir):
    pose = load_pose(data_dir / "pred_single.h5")
    assert not is_image_index(pose.index)
    assert validate_time_series(pose) is pose


def test_gaitint_clean_refuses_a_label_file(label_file, capsys):
    before = _files(label_file.parent)
    assert cli.main(["clean", str(label_file), "--fps", "30"]) == cli.EXIT_USER_ERROR
    err = capsys.readouterr().err
    assert f"{label_file}: is a DeepLabCut label file" in err
    assert "cleaning (gap filling, filtering, swap repair) would mix unrelated images" in err
    assert _files(label_file.parent) == before  # no _cleaned.h5, no flags


def test_gaitint_events_refuses_a_label_file(label_file, capsys):
    args = ["events", str(label_file), "--fps", "30", "--side", "left"]
    assert cli.main(args) == cli.EXIT_USER_ERROR
    err = capsys.readouterr().err
    assert "is a DeepLabCut label file" in err and "event detection would mix" in err


def test_gaitint_analyze_refuses_label_files(data_dir, tmp_path, capsys):
    rows = []
    for trial in ("T01", "T02"):
        for view in ("C1", "C3"):
            dst = tmp_path / f"{trial}_{view}_CollectedData.h5"
            shutil.copy(data_dir / "labels_dlc3.h5", dst)
            rows.append({"trial": trial, "view": view, "predictions": dst.name, "fps": 25})
    pd.DataFrame(rows).to_csv(tmp_path / "trials.csv", index=False)
    out = tmp_path / "out"
    code = cli.main(["analyze", str(tmp_path / "trials.csv"), "--out", str(out), "--strict",
                     "--no-report"])
    assert code == cli.EXIT_USER_ERROR
    err = capsys.readouterr().err
    assert "is a DeepLabCut label file" in err and "gait analysis" in err


def test_real_label_file_is_refused(dlc_fixtures_dir, tmp_path, capsys):
    src = tmp_path / "CollectedData_Mackenzie.h5"
    shutil.copy(dlc_fixtures_dir / "labels" / src.name, src)
    assert cli.main(["clean", str(src), "--fps", "30"]) == cli.EXIT_USER_ERROR
    assert "its 55 rows are separate labelled images" in capsys.readouterr().err
    assert _files(tmp_path) == [src.name]


def test_image_rows_in_napari_deeplabcut_order():
    """Natural order of the last three path parts, whatever the index form."""
    paths = ["labeled-data/v/img10.png", "labeled-data/v/img9.png", "labeled-data/v/img100.png",
             "labeled-data/a/img1.png"]
    flat = pd.DataFrame({"x": np.arange(4.0)}, index=paths)
    assert [image_path_key(r) for r in sort_image_rows(flat).index] == [
        "labeled-data/a/img1.png", "labeled-data/v/img9.png", "labeled-data/v/img10.png",
        "labeled-data/v/img100.png"]
    multi = flat.set_axis(pd.MultiIndex.from_tuples([tuple(p.split("/")) for p in paths]))
    assert sort_image_rows(multi)["x"].tolist() == [3.0, 1.0, 0.0, 2.0]
    windows = flat.set_axis([r"C:\proj\labeled-data\v\img10.png", r"labeled-data\v\img9.png",
                             "labeled-data/v/img100.png", "labeled-data/a/img1.png"])
    assert sort_image_rows(windows)["x"].tolist() == [3.0, 1.0, 0.0, 2.0]
    frames = pd.DataFrame({"x": [1.0, 0.0]}, index=[1, 0])
    assert sort_image_rows(frames) is frames  # video frames keep their order
