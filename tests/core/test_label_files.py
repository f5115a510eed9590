"""Label files (CollectedData_*: rows are separate labelled images) are not a time series:
cleaning, event detection and the cohort analysis refuse them with a message saying what to
give instead, and write nothing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from napari_gaitint.core.errors import InputFileError
from napari_gaitint.core.io import image_path_key, load_pose, sort_image_rows
from napari_gaitint.core.pose import is_image_index, validate_time_series

# which animal of the multi-animal file is taken is not the point here
pytestmark = pytest.mark.filterwarnings("ignore::napari_gaitint.core.errors.GaitintWarning")


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
