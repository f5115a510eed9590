"""trials.csv as spreadsheets and editors save it: read the same as ours, or refused naming the
file, row and column; written back in the way it was written; one reader for every entry point."""

from __future__ import annotations

import codecs
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from manifest_sheets import (  # tests/manifest_sheets.py
    _spreadsheet,
    _windows,
    write_sheet_cohort,
)
from napari_gaitint.core.errors import InputFileError
from napari_gaitint.workflow.cohort import analyze_cohort
from napari_gaitint.workflow.manifest import (
    _PAIR_COLUMNS,
    CsvDialect,
    find_trial_pairs,
    find_trials,
    load_manifest,
    read_manifest_cells,
    trial_name_from_videos,
    trial_view_from_name,
    update_manifest,
)


@pytest.fixture(scope="module")
def cohort(tmp_path_factory) -> Path:
    return write_sheet_cohort(tmp_path_factory.mktemp("cohort"))


SPREADSHEETS = {
    # a spreadsheet in a comma-decimal locale (German, French... Excel, LibreOffice)
    "excel-comma-decimal": dict(header=lambda c: c.capitalize() + (" " if c == "trial" else "")),
    "windows-paths": dict(path=_windows, header=str.upper),
    "tab-separated": dict(sep="\t", decimal=".", encoding="utf-8", newline="\n"),
    # Excel's "Unicode text": UTF-16 with a byte-order mark, tab-separated
    "excel-unicode-text": dict(sep="\t", decimal=".", encoding="utf-16"),
    "windows-1252": dict(encoding="cp1252", path=_windows),
    "excel-sep-line": dict(sep_line=True, newline="\n", encoding="utf-8"),
    # Windows' "Copy as path" pasted into the cell keeps its quotes
    "copy-as-path": dict(path=lambda t: '"' + _windows(t) + '"'),
    "empty-rows-and-columns": dict(extra_rows=3, extra_cols=2),
    "old-mac-line-ends": dict(newline="\r", sep=",", decimal="."),
    "spaced-headers": dict(sep=",", decimal=".", encoding="utf-8", newline="\n",
                           header=lambda c: f"  {c.title()}  "),
}


@pytest.mark.parametrize("kind", SPREADSHEETS)
def test_spreadsheet_manifest_reads_as_ours(cohort, kind):
    sheet = _spreadsheet(cohort, f"trials {kind}.csv", **SPREADSHEETS[kind])
    ours = load_manifest(cohort)
    theirs = load_manifest(sheet)
    pd.testing.assert_frame_equal(theirs, ours)
    assert theirs["predictions"].map(lambda p: Path(p).is_file()).all()
    assert theirs["fps"].tolist() == [25.0] * 6 and theirs["width"].tolist() == [960] * 6


def test_dialect_is_recorded(cohort):
    sheet = _spreadsheet(cohort, "dialect.csv")
    assert read_manifest_cells(sheet).attrs["dialect"] == CsvDialect(";", ",", "utf-8-sig", "\r\n")
    assert read_manifest_cells(cohort).attrs["dialect"].is_default


# ---------------------------------------------------------------------------------------
# what cannot be read names the file, the row and the column
# ---------------------------------------------------------------------------------------
HEADER = "trial;view;side;predictions;fps;width;height"


def _row(pred="{pred}", fps="25,0", width="960", trial="T01", view="C1"):
    return f"{trial};{view};left;{pred};{fps};{width};540"


BAD = {
    "missing-file": ([HEADER, _row(pred=".\\nope\\T01_C1.h5")],
                     r"row 2, column predictions: '\.\\nope\\T01_C1\.h5' not found \(looked for "
                     r".*/nope/T01_C1\.h5\) \(its backslashes read as folder separators\)"),
    "windows-drive": ([HEADER, _row(pred="C:\\Users\\lab\\T01_C1.h5")],
                      r"row 2, column predictions: .* it is a Windows path: write the path as it is "
                      r"on this computer, or relative to the manifest's folder"),
    "fps-text": ([HEADER, _row(), _row(fps="25 Hz", view="C3")],
                 r"row 3, column fps: '25 Hz' is not a number of frames per second"),
    "width-thousands": ([HEADER, _row(width="1.920")],
                        r"row 2, column width: '1\.920' is not a whole number of pixels"),
    "empty-trial": ([HEADER, _row(), _row(trial="", view="C3")],
                    r"row 3, column trial: empty; every row needs a trial"),
    "twice": ([HEADER, _row(), _row(), _row(view="C3")],
              r"rows 2 and 3 list the same trial 'T01' and view 'C1'"),
    "no-header": (["T01;C1;left;x.h5;25;960;540"],
                  r"manifest lacks column\(s\) \['trial', 'view', 'predictions'\].*Its first row "
                  r"reads 'T01;C1;left;x\.h5;25;960;540' \(semicolon-separated\)"),
    "translated-header": (["Essai;Vue;Côté;Prédictions", "T01;C1;gauche;x.h5"],
                          r"lacks column\(s\) \['trial', 'view', 'predictions'\]"),
    "extra-cell": ([HEADER, _row() + ";oops"],
                   r"row 2 has 8 cells but the header \(row 1\) names 7 columns; the extra cell\(s\) "
                   r"\['oops'\] have no column name"),
    "two-trial-columns": (["trial;Trial ;view;predictions", "T01;T01;C1;x.h5"],
                          r"columns 1 \('trial'\) and 2 \('Trial'\) are both read as 'trial'"),
    "no-rows": ([HEADER, ";;;;;;"], r"manifest lists no trials"),
    "scale-text": ([HEADER + ";px_per_m", _row() + ";5 px"],
                   r"row 2, column px_per_m: '5 px' is not a number of pixels per metre"),
    "scale-negative": ([HEADER + ";px_per_m", _row() + ";0", _row(view="C3") + ";-412,5"],
                       r"rows 2 and 3, column px_per_m: '0' is not a positive number of pixels per metre"),
    "subject-some-rows": ([HEADER + ";Subject", _row() + ";S1", _row(view="C3") + ";"],
                          r"row 3, column subject: empty while other rows name a subject; give every "
                          r"trial its subject \(or leave the column empty everywhere"),
    "subject-two-per-trial": ([HEADER + ";subject", _row() + ";S1", _row(view="C3") + ";S2"],
                              r"rows 2 and 3, column subject: the views of trial 'T01' name different "
                              r"subjects \('S1', 'S2'\)"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_manifest_names_file_row_and_column(cohort, case, tmp_path):
    lines, pattern = BAD[case]
    pred = pd.read_csv(cohort)["predictions"][0]
    path = tmp_path / "mes essais.csv"
    path.write_bytes(("\r\n".join(lines).replace("{pred}", str(cohort.parent / pred)) + "\r\n")
                     .encode("utf-8-sig"))
    with pytest.raises(InputFileError) as info:
        load_manifest(path)
    message = str(info.value)
    assert message.startswith(f"{path}: "), message
    assert re.search(pattern, message), message


def test_workbook_and_binary_files_are_named_for_what_they_are(tmp_path):
    xlsx = tmp_path / "trials.csv"
    xlsx.write_bytes(b"PK\x03\x04" + bytes(100))
    with pytest.raises(InputFileError, match=r"spreadsheet workbook .*save it as CSV"):
        load_manifest(xlsx)
    xlsx.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(100))
    with pytest.raises(InputFileError, match=r"is not a text file"):
        load_manifest(xlsx)


def test_a_backslash_in_a_linux_file_name_is_kept_when_that_file_exists(cohort, tmp_path):
    """On Linux a backslash may be part of a name: a file of that very name wins."""
    pred = cohort.parent / pd.read_csv(cohort)["predictions"][0]
    odd = tmp_path / "odd\\name.h5"
    shutil.copy(pred, odd)
    path = tmp_path / "trials.csv"
    path.write_text("trial,view,side,predictions,fps,width,height\nT01,C1,left,odd\\name.h5,25,960,540\n")
    assert load_manifest(path)["predictions"][0] == str(odd)


def test_subject_and_scale_columns_are_read(cohort, tmp_path):
    """subject as text (a number stays the text written), px_per_m as a number (decimal
    comma too); a subject column left empty everywhere means no subjects."""
    pred = cohort.parent / pd.read_csv(cohort)["predictions"][0]
    path = tmp_path / "trials.csv"
    path.write_bytes((f"{HEADER};Subject;px_per_m\r\n{_row(pred=pred)};007;812,5\r\n"
                      f"{_row(pred=pred, view='C3')};007;\r\n").encode())
    table = load_manifest(path)
    assert table["subject"].tolist() == ["007", "007"]
    assert table["px_per_m"].tolist()[0] == 812.5 and np.isnan(table["px_per_m"].tolist()[1])
    path.write_text(f"trial,view,predictions,subject\nT01,C1,{pred},\nT01,C3,{pred},\n")
    assert load_manifest(path)["subject"].isna().all()


@pytest.mark.parametrize(
    ("name", "expected"),
    [("c3dorg_mac_type2a_left_view.mp4", (None, None)),  # "c3" inside a word is no view token
     ("c3dorg_mac_type2a_C1DLC_resnet50_x.h5", ("c3dorg_mac_type2a", "C1")),
     ("T01_C1DLC_resnet50_gaitJan1shuffle1_1000.h5", ("T01", "C1")),
     ("rat5-c3-run2.mp4", ("rat5-run2", "C3")), ("walk.C3.h5", ("walk", "C3")),
     ("C1 walk3.csv", ("walk3", "C1")), ("T01_C1x.mp4", (None, None)), ("T01C1.mp4", (None, None)),
     ("T10_C11.mp4", ("T10", "C11"))],
)
def test_the_view_token_is_a_whole_token(name, expected):
    assert trial_view_from_name(name)[:2] == expected


def test_a_view_inside_a_word_makes_no_trial(tmp_path):
    for name in ("c3dorg_mac_type2a_left_viewDLC_resnet50_x.h5", "T01_C1DLC_resnet50_x.h5"):
        (tmp_path / name).write_bytes(b"x")
    table = find_trials(tmp_path)
    assert list(zip(table["trial"], table["view"], strict=True)) == [("T01", "C1")]
    for name in ("c1dorg_a.mp4", "c3dorg_a.mp4", "c3dorg_C1.mp4", "c3dorg_C3.mp4"):
        (tmp_path / name).write_bytes(b"x")
    assert [(t, a.name, b.name) for t, a, b in find_trial_pairs(tmp_path)] == [
        ("c3dorg", "c3dorg_C1.mp4", "c3dorg_C3.mp4")]
    assert trial_name_from_videos("c3dorg_C1.mp4", "c3dorg_C3.mp4") == "c3dorg"


def test_save_manifest_values_keeps_the_other_cells_and_the_dialect(tmp_path):
    from napari_gaitint.workflow.manifest import save_manifest_values

    path = tmp_path / "trials.csv"
    text = ("Trial ;View;Predictions;fps;Notes\r\n"
            "T01;C1;.\\a.h5;25,0;für später\r\n"
            "T01;C3;.\\b.h5;25,0;\r\n"
            "T02;C1;.\\c.h5;25,0;redo\r\n")
    path.write_bytes(text.encode("utf-8-sig"))
    save_manifest_values(path, "px_per_m", {("T01", "C1"): 812.5, ("T02", "C1"): 812.5})
    lines = path.read_bytes().decode("utf-8-sig").split("\r\n")
    assert lines[:4] == ["trial;view;predictions;fps;Notes;px_per_m", "T01;C1;.\\a.h5;25,0;für später;812,5",
                         "T01;C3;.\\b.h5;25,0;;", "T02;C1;.\\c.h5;25,0;redo;812,5"]
    save_manifest_values(path, "px_per_m", {("T01", "C3"): 400.0})
    assert read_manifest_cells(path)["px_per_m"].tolist() == ["812,5", "400,0", "812,5"]
    with pytest.raises(InputFileError, match="no row for trial 'T09' view 'C1'; cannot save its px_per_m"):
        save_manifest_values(path, "px_per_m", {("T09", "C1"): 1.0})


# ---------------------------------------------------------------------------------------
# writing back: gaitint dlc updates a user's manifest in the way it was written
# ---------------------------------------------------------------------------------------
NEW_ROW = {"trial": "T02", "view": "C3", "side": "right", "predictions": "T02_C3DLC.h5",
           "video": "T02_C3.mp4", "fps": 29.97, "width": 960, "height": 540, "mirrored": True}


def test_update_manifest_keeps_the_spreadsheet_dialect_and_cells(tmp_path):
    path = tmp_path / "trials.csv"
    text = ("Trial ;View;Side;Predictions;fps;width;height;Notes\r\n"
            "T01;C1;left;.\\a.h5;25,0;960;540;für später\r\n"
            "T02;C3;right;.\\old.h5;25,0;960;540;redo\r\n")
    path.write_bytes(text.encode("utf-8-sig"))
    update_manifest(path, [NEW_ROW])
    raw = path.read_bytes()
    assert raw.startswith(codecs.BOM_UTF8) and b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0] == "trial;view;side;predictions;video;fps;width;height;mirrored;Notes"
    assert lines[1] == "T01;C1;left;.\\a.h5;;25,0;960;540;;für später"  # kept cell for cell
    assert lines[2] == "T02;C3;right;T02_C3DLC.h5;T02_C3.mp4;29,97;960;540;True;"
    assert len(lines) == 3


def test_update_manifest_of_our_own_file_is_unchanged_in_form(tmp_path):
    """A manifest in our own dialect is written exactly as pandas writes the merged table."""
    path = tmp_path / "trials.csv"
    old = pd.DataFrame({"trial": ["T01", "T02"], "view": ["C1", "C3"], "side": ["left", "right"],
                        "predictions": ["a.h5", "b.h5"], "video": ["a.mp4", np.nan],
                        "fps": [25.0, 30.0], "width": [960, 960], "height": [540, 540]})
    old.to_csv(path, index=False)
    update_manifest(path, [NEW_ROW])
    expected = pd.concat([old.iloc[:1], pd.DataFrame([NEW_ROW])], ignore_index=True)
    cols = [c for c in _PAIR_COLUMNS if c in expected.columns]
    assert path.read_text() == expected[cols].to_csv(index=False)


def test_update_manifest_falls_back_to_utf8_for_characters_the_file_cannot_hold(tmp_path):
    path = tmp_path / "trials.csv"
    path.write_bytes("trial;view;predictions\r\nT01;C1;café.h5\r\n".encode("cp1252"))
    assert read_manifest_cells(path).attrs["dialect"].encoding == "cp1252"
    update_manifest(path, [{"trial": "T02", "view": "C1", "predictions": "漢字.h5"}])
    cells = read_manifest_cells(path, required=("trial", "view"))
    assert cells["predictions"].tolist() == ["café.h5", "漢字.h5"]
    assert cells.attrs["dialect"].encoding == "utf-8-sig"


# ---------------------------------------------------------------------------------------
# real recordings (../shared/realgait) under a spreadsheet's manifest
# ---------------------------------------------------------------------------------------
REAL_TRIALS = ("zoo_hc002d06", "zoo_hc030a05", "zoo_hc032a03")


def test_real_walking_under_a_spreadsheet_manifest(tmp_path):
    real = Path(__file__).resolve().parents[3] / "shared" / "realgait" / "gait"
    if not real.is_dir():
        pytest.skip(f"real recordings not found at {real} (outside the repo)")
    folder = tmp_path / "Gangstudie 2024"
    (folder / "DLC Ergebnisse").mkdir(parents=True)
    rows = []
    for trial in REAL_TRIALS:
        for view, side in (("left_view", "left"), ("right_view", "right")):
            name = f"{trial}_{view}_25hz.csv"
            shutil.copy(real / trial / "dlc" / name, folder / "DLC Ergebnisse" / name)
            rows.append((trial, view, side, f"DLC Ergebnisse/{name}"))
    plain = folder / "trials.csv"
    pd.DataFrame(rows, columns=["trial", "view", "side", "predictions"]).assign(
        fps=25.0, width=960, height=540).to_csv(plain, index=False)
    sheet = _spreadsheet(plain, "Versuche.csv", path=_windows,
                         header=lambda c: c.capitalize() + ("  " if c == "view" else ""))
    assert b";25,0;960;540\r\n" in sheet.read_bytes()
    ours = analyze_cohort(plain, None, stats=False)
    theirs = analyze_cohort(sheet, None, stats=False)
    assert ours.problems.empty and ours.cycles["trial"].nunique() == len(REAL_TRIALS)
    pd.testing.assert_frame_equal(theirs.events, ours.events)
    pd.testing.assert_frame_equal(theirs.cycles_all, ours.cycles_all)
