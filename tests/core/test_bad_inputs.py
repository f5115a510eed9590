"""Every bad input we know of gives a GaitintError naming the file, the problem and what to do.

The cases below are also the source of the generated table in docs/errors.md; when a message
changes, regenerate it with::

    GAITINT_WRITE_ERRORS_DOC=1 .venv/bin/python -m pytest tests/core/test_bad_inputs.py -k doc
"""

from __future__ import annotations

import dataclasses
import os
import re
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bad_files import DATA, _copy, _lines, _renamed_parts, _write  # tests/bad_files.py
from napari_gaitint.core import io
from napari_gaitint.core._files import file_sha256
from napari_gaitint.core.errors import (
    AnalysisError,
    ConfigError,
    GaitintError,
    GaitintWarning,
    InputFileError,
    OutputExistsError,
)
from napari_gaitint.core.orient import detect_walking_direction, orient_pose
from napari_gaitint.core.pose import Pose, align_view_lengths, parse_bodypart_mapping, validate_fps

DOC = Path(__file__).resolve().parents[2] / "docs" / "errors.md"
BEGIN = "<!-- BEGIN GENERATED core-io (tests/core/test_bad_inputs.py) -->"
END = "<!-- END GENERATED core-io -->"


# ---------------------------------------------------------------------------------------
# helpers that make bad files from our good fixtures
# ---------------------------------------------------------------------------------------
def _no_frames(folder: Path) -> Path:
    return _write(folder, "header_only.csv", "".join(_lines()[:3]))


def _replace_cell(folder: Path) -> Path:
    lines = _lines()
    cells = lines[5].split(",")
    cells[3] = "abc"
    lines[5] = ",".join(cells)
    return _write(folder, "non_numeric.csv", "".join(lines))


def _duplicate_column(folder: Path) -> Path:
    lines = [ln.rstrip("\n") for ln in _lines()]
    lines = [ln + "," + ln.split(",")[1] for ln in lines]  # repeat the first data column
    return _write(folder, "duplicated.csv", "\n".join(lines) + "\n")


def _flat_h5(folder: Path) -> Path:
    path = folder / "flat.h5"
    pd.DataFrame({"a": [1.0, 2.0]}).to_hdf(path, key="df")
    return path


def _series_h5(folder: Path) -> Path:
    path = folder / "series.h5"
    pd.Series([1.0, 2.0]).to_hdf(path, key="s")
    return path


def _pose(n: int, name: str) -> Pose:
    return Pose(np.zeros((n, 1, 3)), ("neck",), source=Path("/data") / name)


@dataclasses.dataclass(frozen=True)
class Case:
    id: str
    what: str  # the bad input, as the user would describe it
    make: Callable[[Path], Path | None]  # builds the input in a folder, returns the path
    call: Callable[[Path, Path], object]  # (path, folder) -> raises
    error: type
    pattern: str  # regex the message must match
    names_file: bool = True


def _read(p, _folder):
    return io.read_dlc_table(p)


def _load(p, _folder):
    return io.load_pose(p)


CASES = [
    Case("missing", "file does not exist", lambda d: d / "T01_C1.h5", _load, InputFileError,
         r"T01_C1\.h5: file not found; check the path"),
    Case("missing-near", "file does not exist, similar names do",
         lambda d: (_copy(d, "pred_single.h5", "T01_C1DLC_resnet50.h5"), d / "T01_C1DLC.h5")[1],
         _load, InputFileError, r"file not found \(files with a similar name there: "
         r"T01_C1DLC_resnet50\.h5\)"),
    Case("missing-folder", "folder does not exist", lambda d: d / "nope" / "T01_C1.h5", _load,
         InputFileError, r"file not found \(its folder .*nope does not exist either\)"),
    Case("folder", "a folder given as file", lambda d: (d / "x.h5").mkdir() or d / "x.h5", _load,
         InputFileError, r"x\.h5: is a folder"),
    Case("suffix", "not .h5/.csv (e.g. .txt, .pickle)", lambda d: _write(d, "p.pickle", "x"),
         _load, InputFileError, r"p\.pickle: not a DeepLabCut file \(expected one of .h5"),
    Case("empty-csv", "empty .csv (0 bytes)", lambda d: _write(d, "e.csv", ""), _load,
         InputFileError, r"e\.csv: file is empty \(0 bytes\)"),
    Case("empty-h5", "empty .h5 (0 bytes)", lambda d: _write(d, "e.h5", b""), _load,
         InputFileError, r"e\.h5: file is empty \(0 bytes\)"),
    Case("blank-csv", ".csv with only blank lines", lambda d: _write(d, "b.csv", "\n \n"), _load,
         InputFileError, r"b\.csv: file holds only blank lines"),
    Case("no-frames", ".csv with the header but no frames", _no_frames, _load, InputFileError,
         r"header_only\.csv: has a header but no frames"),
    Case("truncated-h5", "truncated .h5 (half of a real file)",
         lambda d: _write(d, "t.h5", (DATA / "pred_single.h5").read_bytes()[:40000]), _load,
         InputFileError, r"t\.h5: the HDF5 file is truncated \(40000 of \d+ bytes present\)"),
    Case("corrupt-h5", "corrupt .h5 (not HDF5 bytes)",
         lambda d: _write(d, "c.h5", bytes(range(256)) * 4), _load, InputFileError,
         r"c\.h5: not an HDF5 file \(no HDF5 signature"),
    Case("corrupt-inside-h5", "valid HDF5 signature, garbage after it",
         lambda d: _write(d, "g.h5", (DATA / "pred_single.h5").read_bytes()[:8]
                          + bytes(84000)), _load, InputFileError,
         r"g\.h5: cannot read as HDF5 \(.*\); the file may be corrupt or truncated"),
    Case("csv-as-h5", ".csv file renamed to .h5",
         lambda d: _write(d, "r.h5", (DATA / "pred_single.csv").read_text()), _load,
         InputFileError, r"r\.h5: is a csv file with an \.h5 name; rename it to \.csv"),
    Case("h5-no-dlc", ".h5 holding a table that is not DLC's", _flat_h5, _load, InputFileError,
         r"flat\.h5: not a DeepLabCut table: expected column header rows scorer/bodyparts"),
    Case("h5-series", ".h5 holding a Series", _series_h5, _load, InputFileError,
         r"series\.h5: HDF5 key 's' holds a Series, not a DeepLabCut table"),
    Case("header-2", ".csv with 2 header rows (bodyparts row missing)",
         lambda d: _write(d, "h2.csv", "".join(_lines()[:1] + _lines()[2:])), _load,
         InputFileError, r"h2\.csv: unexpected csv header rows scorer, coords; DeepLabCut csv "
         r"files start with"),
    Case("header-4", ".csv with 4 header rows (an extra row)",
         lambda d: _write(d, "h4.csv", "".join(
             _lines()[:2] + [_lines()[1].replace("bodyparts", "extra")] + _lines()[2:])),
         _load, InputFileError, r"h4\.csv: unexpected csv header rows scorer, bodyparts "
         r"followed by 'extra'"),
    Case("coords-names", ".csv with wrong coords names (p instead of likelihood)",
         lambda d: _write(d, "co.csv", "".join(
             _lines()[:2] + [_lines()[2].replace("likelihood", "p")] + _lines()[3:])),
         _load, InputFileError, r"co\.csv: the coords header row must hold x, y \(and "
         r"likelihood\); found \['p', 'x', 'y'\]"),
    Case("coords-row", ".csv whose third header row is not called coords",
         lambda d: _write(d, "cr.csv", "".join(
             _lines()[:2] + [_lines()[2].replace("coords", "coord")] + _lines()[3:])),
         _load, InputFileError, r"cr\.csv: unexpected csv header rows scorer, bodyparts "
         r"followed by 'coord'"),
    Case("not-dlc-csv", ".csv that is not from DLC",
         lambda d: _write(d, "o.csv", "time,x,y\n0,1,2\n"), _load, InputFileError,
         r"o\.csv: not a DeepLabCut csv: the first row starts with 'time,x,y'"),
    Case("semicolons", ".csv re-saved with semicolons (spreadsheet)",
         lambda d: _write(d, "s.csv", (DATA / "pred_single.csv").read_text().replace(",", ";")),
         _load, InputFileError, r"s\.csv: the csv uses semicolons instead of commas"),
    Case("cut-csv", ".csv cut in the middle of a row",
         lambda d: _write(d, "cut.csv", (DATA / "pred_single.csv").read_text()[:-40]), _load,
         InputFileError, r"cut\.csv: line 11 has \d+ values but the header has 19 columns; "
         r"the file looks truncated"),
    Case("short-row", ".csv with a row of too few values in the middle",
         lambda d: _write(d, "short.csv", "".join(_lines()[:6] + ["5,1.0,2.0\n"] + _lines()[6:])),
         _load, InputFileError, r"short\.csv: line 7 has 3 values but the header has 19 columns"),
    Case("short-row-quoted", ".csv with quoted cells and a row of too few values",
         lambda d: _write(d, "shortq.csv", "".join(_lines()[:6] + ['"5",1.0\n'] + _lines()[6:])),
         _load, InputFileError, r"shortq\.csv: line 7 has 2 values but the header has 19 columns"),
    Case("huge-cell-header", ".csv whose first row has a cell longer than csv's field limit",
         lambda d: _write(d, "huge1.csv", "".join(
             [_lines()[0].replace("DLC", "D" * 140_000, 1)] + _lines()[1:])),
         _load, InputFileError, r"huge1\.csv: cannot parse csv line 1 \(field larger than field limit"),
    Case("huge-cell-data", ".csv with a data cell longer than csv's field limit",
         lambda d: _write(d, "huge4.csv", "".join(
             _lines()[:3] + [_lines()[3].replace(",", "," + " " * 140_000, 1)] + _lines()[4:])),
         _load, InputFileError, r"huge4\.csv: cannot parse csv line 4 \(field larger than field limit"),
    Case("non-numeric", ".csv with a non-numeric cell", _replace_cell, _load, InputFileError,
         r"non_numeric\.csv: non-numeric value 'abc' in column neck/likelihood at row 2"),
    Case("duplicate", ".csv with a body part column twice", _duplicate_column, _load,
         InputFileError, r"duplicated\.csv: column neck/x appears more than once"),
    Case("names", "body parts named in a way not recognised (Nck, Hp, ...; Neck, LHip, "
         "lateral_malleolus... are)", _renamed_parts,
         lambda p, d: io.load_pose(p, bodyparts={}), InputFileError,
         r"T01_C1 renamed\.csv: missing body part\(s\) neck, hip, knee, ankle, heel, toe; the "
         r"file has \['Nck', .*--bodyparts neck=Nck,hip=Hp,knee=Kne,ankle=Ankl,heel=Hel,"
         r"toe=To"),
    Case("mapping-missing", "body-part mapping names a part the file lacks",
         lambda d: _copy(d, "pred_single.h5"),
         lambda p, d: io.load_pose(p, bodyparts={"toe": "BigToe"}), InputFileError,
         r"missing body part\(s\) toe \(as 'BigToe'\); .* --bodyparts toe=toe"),
    Case("mapping-text", "malformed --bodyparts text", lambda d: None,
         lambda p, d: parse_bodypart_mapping("neck:Neck"), ConfigError,
         r"body-part mapping item 'neck:Neck' must look like role=name", names_file=False),
    Case("mapping-dup", "two roles mapped to one body part", lambda d: _copy(d, "pred_single.h5"),
         lambda p, d: io.load_pose(p, bodyparts={"heel": "toe"}), ConfigError,
         r"roles 'heel' and 'toe' both map to body part 'toe'", names_file=False),
    Case("individual", "multi-animal file without the chosen individual",
         lambda d: _copy(d, "pred_multi.h5"),
         lambda p, d: io.load_pose(p, individual="mouse1"), InputFileError,
         r"pred_multi\.h5: no individual 'mouse1' in this multi-animal file; it has "
         r"\['subject1', 'subject2', 'single'\]\. Choose one"),
    Case("individual-single", "individual asked of a single-animal file",
         lambda d: _copy(d, "pred_single.h5"),
         lambda p, d: io.load_pose(p, individual="subject1"), InputFileError,
         r"pred_single\.h5: single-animal file has no individuals"),
    Case("fps-0", "fps 0", lambda d: _copy(d, "pred_single.h5"),
         lambda p, d: io.load_pose(p, fps=0), InputFileError,
         r"pred_single\.h5: the frame rate \(fps\) must be a positive number of frames per "
         r"second, got 0"),
    Case("fps-missing", "fps missing (no fps in the manifest)", lambda d: d / "trials.csv",
         lambda p, d: validate_fps(float("nan"), source=p), InputFileError,
         r"trials\.csv: the frame rate \(fps\) is missing; give it"),
    Case("fps-none", "fps not given at all", lambda d: None,
         lambda p, d: validate_fps(None), ConfigError,
         r"the frame rate \(fps\) is missing; give it", names_file=False),
    Case("out-exists", "output file exists", lambda d: _copy(d, "pred_single.csv", "out.csv"),
         lambda p, d: io.save_pose(io.load_pose(DATA / "pred_single.h5"), p), OutputExistsError,
         r"out\.csv: exists already; choose another output name or pass overwrite=True "
         r"\(--overwrite"),
    Case("out-source", "output is the input file (even with overwrite)",
         lambda d: _copy(d, "pred_single.h5"),
         lambda p, d: io.save_pose(io.load_pose(p), p, overwrite=True), InputFileError,
         r"pred_single\.h5: is the file these keypoints were read from; source files are never "
         r"overwritten"),
    Case("out-under-file", "output folder not writable (a file where a folder should be)",
         lambda d: _write(d, "notes.txt", "x") and d / "notes.txt" / "out.h5",
         lambda p, d: io.save_pose(io.load_pose(DATA / "pred_single.h5"), p), InputFileError,
         r"notes\.txt: is a file, not a folder, so 'out\.h5' cannot be written inside it"),
    Case("out-is-folder", "output path is a folder",
         lambda d: (d / "res.h5").mkdir() or d / "res.h5",
         lambda p, d: io.save_pose(io.load_pose(DATA / "pred_single.h5"), p, overwrite=True),
         InputFileError, r"res\.h5: is a folder; give a file name"),
    Case("out-suffix", "output with an unknown extension", lambda d: d / "out.xlsx",
         lambda p, d: io.save_pose(io.load_pose(DATA / "pred_single.h5"), p), InputFileError,
         r"out\.xlsx: output must end in \.h5 or \.csv"),
    Case("lengths", "views with different frame counts (trimming off)", lambda d: None,
         lambda p, d: align_view_lengths(_pose(250, "T01_C1.h5"), _pose(247, "T01_C3.h5"),
                                            trim=False),
         AnalysisError, r"the two views have different frame counts: T01_C1\.h5 has 250, "
         r"T01_C3\.h5 has 247 \(they differ by 3 frames\); the cameras must be synchronised",
         names_file=False),
    Case("stationary", "subject does not walk across the image (direction unknown)",
         lambda d: None,
         lambda p, d: detect_walking_direction(np.full(100, 480.0), source="T01_C1.h5"),
         AnalysisError, r"T01_C1\.h5: the body reference moves only \+0\.0 px across the "
         r"recording \(less than 20 px\)", names_file=False),
    Case("reference-nan", "all-NaN body reference (neck never detected)", lambda d: None,
         lambda p, d: detect_walking_direction(np.full(100, np.nan), source="T01_C1.h5"),
         AnalysisError, r"T01_C1\.h5: only 0 valid point\(s\) of the body reference",
         names_file=False),
    Case("frame-size", "video frame size unknown when orienting",
         lambda d: _copy(d, "pred_single.h5"), lambda p, d: orient_pose(io.load_pose(p)),
         InputFileError, r"pred_single\.h5: the video frame size is unknown; give it"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_gives_clear_error(case, tmp_path):
    folder = tmp_path / "in put ü"  # spaces and unicode everywhere
    folder.mkdir()
    path = case.make(folder)
    before = {p: file_sha256(p) for p in folder.rglob("*") if p.is_file()}
    before_data = {p: file_sha256(p) for p in DATA.iterdir() if p.is_file()}
    with pytest.raises(case.error) as err:
        case.call(path, folder)
    assert isinstance(err.value, GaitintError)
    msg = str(err.value)
    assert re.search(case.pattern, msg), msg
    assert "\n" not in msg and "Traceback" not in msg
    if case.names_file:
        assert str(path.name) in msg or str(path.parent.name) in msg
    # nothing lost: no input changed, no stray temporary file left
    after = {p: file_sha256(p) for p in folder.rglob("*") if p.is_file()}
    assert after == before
    assert {p: file_sha256(p) for p in DATA.iterdir() if p.is_file()} == before_data
    assert not [p for p in folder.rglob("*.part*")]


def test_view_lengths_trim_warns():
    with pytest.warns(GaitintWarning, match="differ by 3 frames"):
        a, b = align_view_lengths(_pose(250, "T01_C1.h5"), _pose(247, "T01_C3.h5"))
    assert a.n_frames == b.n_frames == 247


# Inputs that look odd but are read correctly (no error): documented too.
ACCEPTED = [
    ("utf8-bom", ".csv saved with a UTF-8 BOM (Excel)",
     lambda d: _write(d, "bom.csv", "\ufeff" + (DATA / "pred_single.csv").read_text())),
    ("crlf", ".csv with Windows line ends",
     lambda d: _write(d, "crlf.csv", (DATA / "pred_single.csv").read_bytes().replace(b"\n", b"\r\n"))),
    ("cr", ".csv with old Mac line ends (\\r only), no line end after the last row",
     lambda d: _write(d, "cr.csv", (DATA / "pred_single.csv").read_bytes().rstrip()
                      .replace(b"\n", b"\r"))),
    ("blank-lines", ".csv with blank lines between and after the rows",
     lambda d: _write(d, "blank.csv", "".join(_lines()[:6] + ["\n"] + _lines()[6:] + ["\n\n"]))),
    ("quoted", ".csv with quoted cells (re-saved by a tool that quotes; read by csv's parser)",
     lambda d: _write(d, "quoted.csv", "".join(
         _lines()[:4] + ['"' + _lines()[4].split(",", 1)[0] + '",' + _lines()[4].split(",", 1)[1]]
         + _lines()[5:]))),
    ("latin1", ".csv in Latin-1 with accented body-part names",
     lambda d: _write(d, "latin.csv", (DATA / "pred_single.csv").read_text()
                      .replace("neck", "nück").encode("latin-1"))),
    ("first-frame-nan", ".csv whose first frame has no values at all",
     lambda d: _write(d, "nan0.csv", "".join(_lines()[:3]) + "0" + "," * 18 + "\n"
                      + "".join(_lines()[4:]))),
    ("unicode-path", "unicode and spaces in folder and file names",
     lambda d: _copy(d, "pred_single.h5", "essai n°1 – gång 漢字.h5")),
]


@pytest.mark.parametrize(("cid", "what", "make"), ACCEPTED, ids=[a[0] for a in ACCEPTED])
def test_odd_but_valid_inputs_are_read(cid, what, make, tmp_path):
    folder = tmp_path / "dossier à espaces"
    folder.mkdir()
    path = make(folder)
    pose = io.load_pose(path)
    ref = io.load_pose(DATA / "pred_single.csv")
    assert pose.n_frames == ref.n_frames == 8
    if cid == "first-frame-nan":
        assert np.isnan(pose.values[0]).all()
        np.testing.assert_array_equal(pose.values[1:], ref.values[1:])
    else:
        np.testing.assert_array_equal(pose.values, ref.values)
    if cid == "latin1":
        assert pose.bodyparts[0] == "nück"


# ---------------------------------------------------------------------------------------
# docs/errors.md stays in step with the messages
# ---------------------------------------------------------------------------------------
def _doc_table(tmp_root: Path) -> str:
    rows = ["| bad input | error | message the user gets |", "|---|---|---|"]
    for case in CASES:
        folder = tmp_root / case.id
        folder.mkdir(parents=True)
        path = case.make(folder)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                case.call(path, folder)
        except GaitintError as err:
            msg = str(err).replace(str(folder) + os.sep, "").replace(str(folder), ".")
            msg = re.sub(r"\d+ of \d+ bytes", "N of M bytes", msg)
            msg = re.sub(r"\(HDF5ExtError: .*?\)", "(HDF5ExtError: …)", msg)
            rows.append(f"| {case.what} | `{type(err).__name__}` | {msg.replace('|', '/')} |")
        else:  # pragma: no cover - the parametrized test reports this
            rows.append(f"| {case.what} | (no error!) | |")
    rows += ["", "Read correctly (no error):", ""]
    rows += [f"- {what}" for _cid, what, _make in ACCEPTED]
    rows += [
        "",
        "Views with different frame counts and trimming on (the default of "
        "`align_view_lengths`): a `GaitintWarning` such as *the two views have different frame "
        "counts: T01_C1.h5 has 250, T01_C3.h5 has 247 (they differ by 3 frames); trimming the "
        "last 3 frames of the longer view so both have 247*.",
    ]
    return "\n".join(rows)


def test_errors_doc_is_current(tmp_path):
    table = _doc_table(tmp_path)
    block = f"{BEGIN}\n{table}\n{END}"
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    if os.environ.get("GAITINT_WRITE_ERRORS_DOC"):
        if BEGIN in text:
            text = text[: text.index(BEGIN)] + block + text[text.index(END) + len(END):]
        else:
            text = text + ("\n" if text else "") + block + "\n"
        DOC.parent.mkdir(exist_ok=True)
        DOC.write_text(text, encoding="utf-8")
    assert block in text, (
        "docs/errors.md is out of date; regenerate with GAITINT_WRITE_ERRORS_DOC=1 "
        ".venv/bin/python -m pytest tests/core/test_bad_inputs.py -k doc"
    )


def test_errors_survive_a_worker_process():
    """Errors raised in a process pool (cohorts, the synthetic sample, dask) come back as
    themselves, with the same message."""
    import pickle

    from napari_gaitint.core.errors import (
        AnalysisError,
        ConfigError,
        GaitintError,
        OutputExistsError,
    )
    from napari_gaitint.dlc.project import DLCNotInstalledError

    for err in (InputFileError("/data/T01_C1.csv", "line 7 has 3 values"), InputFileError(None, "x"),
                OutputExistsError("/out/events.csv"), AnalysisError("no cycles"), ConfigError("fps"),
                GaitintError("g"), DLCNotInstalledError("No module named 'deeplabcut'")):
        back = pickle.loads(pickle.dumps(err))
        assert type(back) is type(err) and str(back) == str(err)
        assert getattr(back, "path", None) == getattr(err, "path", None)
