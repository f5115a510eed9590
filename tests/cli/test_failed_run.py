"""A `gaitint analyze` in which no trial could be analysed leaves nothing that blocks the corrected
re-run, and never removes or replaces a file the user made."""

from __future__ import annotations

import contextlib
import io as _io
import shutil
from pathlib import Path

import pandas as pd
import pytest

from napari_gaitint import cli
from napari_gaitint.core.errors import OutputExistsError
from napari_gaitint.workflow.cohort import analyze_cohort


@pytest.fixture(scope="module")
def cohort(tmp_path_factory) -> Path:
    from napari_gaitint.synthetic.files import write_synthetic_cohort

    folder = tmp_path_factory.mktemp("cohort")
    return write_synthetic_cohort(folder, n_trials=2, seed=7, fps=25.0, video=False, bias_px=0.0)


def _run(*argv) -> tuple[int, str, str]:
    out, err = _io.StringIO(), _io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = cli.main([str(a) for a in argv])
    return rc, out.getvalue(), err.getvalue()


def _copy(cohort: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(cohort.parent, folder)
    return folder / "trials.csv"


def test_failed_run_then_corrected_run_needs_no_overwrite(cohort, tmp_path):
    manifest = _copy(cohort, tmp_path)
    good = manifest.read_text()
    manifest.write_text(good.replace(",25.0,", ",0,"))  # fps 0 on every row: no trial can run
    out = tmp_path / "results"
    out.mkdir()
    (out / "my notes.txt").write_text("mine")
    rc, stdout, stderr = _run("analyze", manifest, "--out", out, "--no-report")
    assert rc == 2
    assert "no trial could be analysed" in stderr and "no --overwrite needed" in stderr
    # the reasons and the settings, no empty tables that look like results
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "config.toml", "my notes.txt", "problems.csv"]
    problems = pd.read_csv(out / "problems.csv")
    assert problems["problem"].str.contains("frame rate").sum() == 2
    manifest.write_text(good)  # corrected
    rc, stdout, stderr = _run("analyze", manifest, "--out", out, "--no-report")
    assert rc == 0, stderr
    assert pd.read_csv(out / "cycles.csv")["trial"].nunique() == 2
    assert pd.read_csv(out / "problems.csv").empty
    assert (out / "my notes.txt").read_text() == "mine"
    assert not (out / ".gaitint-partial").exists()
    # a finished run is not replaced without --overwrite
    rc, _, stderr = _run("analyze", manifest, "--out", out, "--no-report")
    assert rc == 2 and "exists already" in stderr


def test_a_failed_run_does_not_take_a_users_file(cohort, tmp_path):
    """Only what the failed run wrote is replaced: a result file put there afterwards is not."""
    manifest = _copy(cohort, tmp_path)
    good = manifest.read_text()
    manifest.write_text(good.replace(",25.0,", ",0,"))
    out = tmp_path / "results"
    assert analyze_cohort(manifest, out, report=False).failed
    (out / "events.csv").write_text("my own events\n")
    manifest.write_text(good)
    with pytest.raises(OutputExistsError, match="events.csv"):
        analyze_cohort(manifest, out, report=False)
    assert (out / "events.csv").read_text() == "my own events\n"
