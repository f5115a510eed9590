"""Where derived predictions go: DeepLabCut's file name in a folder of their own, with DLC's
metadata file beside them (DeepLabCut's own tools on them: tests/dlc, docs/deeplabcut.md)."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import pandas as pd
import pytest

from napari_gaitint.core.corrections import PoseEditor, save_refined
from napari_gaitint.core.io import dlc_metadata_path, load_pose, write_dlc_metadata
from napari_gaitint.workflow.cohort import _cleaned_names, _cleaned_paths

PRED = "T01_C1DLC_resnet50_gaitJan1shuffle1_1000.h5"


@pytest.fixture
def video_folder(data_dir, tmp_path):
    """A folder as DeepLabCut leaves it: predictions named after the video."""
    shutil.copy(data_dir / "pred_single.h5", tmp_path / PRED)
    return tmp_path


def test_refined_keeps_the_name_in_refined(video_folder):
    src = video_folder / PRED
    own_meta = dlc_metadata_path(src)
    own_meta.write_bytes(pickle.dumps({"data": {"cropping": False, "from": "DeepLabCut"}}))
    editor = PoseEditor(load_pose(src))
    editor.move(1, editor.pose.bodyparts[0], x=3.0, y=4.0)
    paths = save_refined(editor)
    assert paths[0] == video_folder / "refined" / PRED
    # DeepLabCut's own metadata of the source goes along, unchanged
    assert dlc_metadata_path(paths[0]).read_bytes() == own_meta.read_bytes()
    assert sorted(p.name for p in video_folder.glob("*.h5")) == [PRED]


def test_metadata_is_never_replaced_unless_asked(tmp_path):
    h5 = tmp_path / "x.h5"
    write_dlc_metadata(h5)
    with pytest.raises(FileExistsError):
        write_dlc_metadata(h5)
    assert write_dlc_metadata(h5, overwrite=True) == tmp_path / "x_meta.pickle"


def test_analyze_names_cleaned_files_after_their_predictions():
    table = pd.DataFrame({
        "trial": ["T01", "T01", "T02", "T02"], "view": ["C1", "C3", "C1", "C3"],
        "predictions": ["/a/T01_C1DLC_x.h5", "/a/T01_C3DLC_x.csv", "/b/C1DLC_x.h5", "/c/C1DLC_x.h5"],
    })
    assert _cleaned_names(table) == {
        ("T01", "C1"): "T01_C1DLC_x.h5",
        ("T01", "C3"): "T01_C3DLC_x.h5",  # a .csv source gives an .h5 too
        # the same file name twice: each in its own folder, none replaces the other
        ("T02", "C1"): "T02_C1/C1DLC_x.h5",
        ("T02", "C3"): "T02_C3/C1DLC_x.h5",
    }
    assert Path(_cleaned_paths({"trial": "T02", "view": "C1"}, Path("out"),
                                        _cleaned_names(table))[1]).as_posix() == \
        "out/T02_C1/C1DLC_x_flags.csv"
