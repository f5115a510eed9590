"""`gaitint` prints warnings as one readable line, not with Python's source file and code line."""

from __future__ import annotations

import subprocess
import sys


def _gaitint(*argv, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "napari_gaitint.cli", *map(str, argv)],
                          capture_output=True, text=True, cwd=cwd, timeout=300)


def test_warning_is_one_line_naming_the_command(data_dir, tmp_path):
    # a multi-animal file whose two individuals overlap in time: which one is used is a warning
    run = _gaitint("clean", data_dir / "pred_multi.h5", "--fps", "30", "--out", tmp_path / "c.h5",
                   cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    lines = [ln for ln in run.stderr.splitlines() if ln.strip()]
    assert lines == [
        "gaitint clean: warning: pred_multi.h5: 2 individuals have data at the same time "
        "(subject1 8 frames, subject2 6 frames); using subject1, the one with the most. Choose "
        "another with individual=... (--individual, or an individual column in trials.csv)"
    ], run.stderr
    assert ".py:" not in run.stderr and "GaitintWarning" not in run.stderr


def test_debug_keeps_pythons_warning_format(data_dir, tmp_path):
    run = _gaitint("--debug", "clean", data_dir / "pred_multi.h5", "--fps", "30", "--out",
                   tmp_path / "c.h5", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "GaitintWarning: pred_multi.h5: 2 individuals" in run.stderr and ".py:" in run.stderr


def test_other_warnings_name_their_category(capsys, tmp_path):
    import warnings

    from napari_gaitint import cli

    before = warnings.showwarning
    assert cli.main(["events", str(tmp_path / "missing.h5")]) == 2
    assert warnings.showwarning is before  # main() puts the caller's printer back
    capsys.readouterr()
    show = cli._warning_printer("analyze")
    show(RuntimeWarning("Mean of\n  empty slice"), RuntimeWarning, "x.py", 3)
    show(UserWarning("plain"), UserWarning, "x.py", 3)
    assert capsys.readouterr().err.splitlines() == [
        "gaitint analyze: warning: RuntimeWarning: Mean of empty slice",
        "gaitint analyze: warning: plain",
    ]
