"""The command line on bad input: exit 2 with one line naming the file and the problem, no
traceback, the inputs untouched; ``--debug`` re-raises; unicode and spaces in paths work."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from bad_files import DATA, _copy, _lines, _renamed_parts, _write  # tests/bad_files.py
from napari_gaitint import cli
from napari_gaitint.core import io
from napari_gaitint.core._files import file_sha256
from napari_gaitint.core.errors import AnalysisError, InputFileError


# ---------------------------------------------------------------------------------------
# CLI: exit 2, one line, no traceback; --debug re-raises
# ---------------------------------------------------------------------------------------
def _run(capsys, *argv):
    rc = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


CLI_CASES = [
    ("missing", lambda d: ["events", d / "T01_C1.h5"], r"T01_C1\.h5: file not found"),
    ("truncated", lambda d: ["events", _write(d, "T01_C1.h5", (DATA / "pred_single.h5")
                                              .read_bytes()[:30000])], r"is truncated"),
    ("header", lambda d: ["events", _write(d, "T01_C1.csv", "".join(_lines()[:1] + _lines()[2:]))],
     r"unexpected csv header rows"),
    ("bodyparts-option", lambda d: ["events", _copy(d, "pred_single.h5", "T01_C1.h5"),
                                    "--bodyparts", "elbow=Elbow"], r"unknown role 'elbow'"),
    ("names", lambda d: ["events", _renamed_parts(d), "--side", "left"],
     r"(missing body part\(s\)|no body part 'neck').*--bodyparts neck=Nck"),
    ("fps-0", lambda d: ["events", _copy(d, "pred_single.h5", "T01_C1.h5"), "--fps", "0"],
     r"frame rate \(fps\) must be a positive number"),
    ("clean-fps-0", lambda d: ["clean", _copy(d, "pred_single.h5", "T01_C1.h5"), "--fps", "0"],
     r"frame rate \(fps\) must be a positive number"),
    ("clean-out-exists", lambda d: ["clean", _copy(d, "pred_single.h5", "T01_C1.h5"), "--fps",
                                    "25", "--out", _copy(d, "pred_single.csv", "done.csv")],
     r"done\.csv: exists already.*--overwrite"),
    ("clean-out-is-input", lambda d: ["clean", _copy(d, "pred_single.h5", "T01_C1.h5"),
                                      "--fps", "25", "--out", d / "T01_C1.h5", "--overwrite"],
     r"would replace an input file"),
    ("synth-out-under-file", lambda d: ["synth", _write(d, "notes.txt", "x") / "cohort",
                                        "--trials", "1", "--no-video"],
     r"notes\.txt: (is a file, not a folder|exists and is not a folder)"),
]


@pytest.mark.parametrize(("cid", "argv", "pattern"), CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_cli_user_errors_exit_2_with_one_line(cid, argv, pattern, tmp_path, capsys):
    folder = tmp_path / "données 1"
    folder.mkdir()
    args = argv(folder)
    before = {p: file_sha256(p) for p in folder.rglob("*") if p.is_file()}
    rc, out, err = _run(capsys, *args)
    assert rc == 2, (out, err)
    lines = [ln for ln in err.splitlines() if ln.strip() and "%|" not in ln]  # skip progress bars
    assert len(lines) == 1, err
    assert lines[0].startswith(f"gaitint {args[0]}: error: "), err
    assert re.search(pattern, lines[0]), lines[0]
    assert "Traceback" not in err + out
    assert {p: file_sha256(p) for p in folder.rglob("*") if p.is_file()} == before


def test_cli_prints_multiline_messages_on_one_line(monkeypatch, capsys):
    def boom(args):
        raise AnalysisError("first line\n  second line")

    monkeypatch.setitem(cli._COMMANDS, "events", boom)
    rc, _out, err = _run(capsys, "events", "x_C1.h5")
    assert rc == 2
    assert err == "gaitint events: error: first line second line\n"


def test_cli_debug_reraises(tmp_path):
    with pytest.raises(InputFileError, match="file not found"):
        cli.main(["--debug", "events", str(tmp_path / "T01_C1.h5")])


def test_cli_works_with_unicode_and_spaces(tmp_path, capsys):
    synthetic = pytest.importorskip("napari_gaitint.synthetic")
    trial = synthetic.generate_trial(0)
    folder = tmp_path / "Müller lab" / "essai n°1 漢字"
    pred = io.save_pose(trial.views["C1"].pose, folder / "T01_C1 DLC.h5")
    src_hash = file_sha256(pred)
    rc, out, err = _run(capsys, "events", pred, "--fps", trial.fps)
    assert rc == 0, err
    events = pd.read_csv(folder / "T01_C1 DLC_events.csv")
    assert {"heel_strike", "toe_off"} <= set(events["event"])
    assert file_sha256(pred) == src_hash
