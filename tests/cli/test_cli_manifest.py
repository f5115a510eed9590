"""``gaitint analyze`` on a manifest as a spreadsheet saved it: the same results as ours (the
readers themselves: tests/core/test_manifest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from manifest_sheets import _spreadsheet, _windows, write_sheet_cohort  # tests/manifest_sheets.py
from napari_gaitint import cli


@pytest.fixture(scope="module")
def cohort(tmp_path_factory) -> Path:
    return write_sheet_cohort(tmp_path_factory.mktemp("cohort"))


def test_spreadsheet_manifest_analyses_as_ours(cohort, tmp_path, capsys):
    """The command a user runs: the same results from the spreadsheet's file, byte for byte."""
    sheet = _spreadsheet(cohort, "trials excel.csv", path=_windows,
                         header=lambda c: c.capitalize() + " ")
    assert cli.main(["analyze", str(cohort), "--out", str(tmp_path / "ours"), "--no-report"]) == 0
    assert cli.main(["analyze", str(sheet), "--out", str(tmp_path / "sheet"), "--no-report"]) == 0
    for name in ("events.csv", "cycles.csv", "cycles_all.csv", "parameters.csv", "anova.csv"):
        assert (tmp_path / "sheet" / name).read_bytes() == (tmp_path / "ours" / name).read_bytes(), name
