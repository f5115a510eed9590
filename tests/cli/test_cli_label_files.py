"""Label files (CollectedData_*: separate labelled images, not a time series): gaitint clean,
events and analyze refuse them naming the file, and write nothing (the core's refusal:
tests/core/test_label_files.py)."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from napari_gaitint import cli

# which animal of the multi-animal file is taken is not the point here
pytestmark = pytest.mark.filterwarnings("ignore::napari_gaitint.core.errors.GaitintWarning")


def _files(folder):
    return sorted(p.name for p in folder.rglob("*") if p.is_file())


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
