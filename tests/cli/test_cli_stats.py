"""``gaitint stats`` on a cycles table (the end-to-end run is in tests/core/test_report.py,
beside the synthetic cohort and report checks it shares)."""

from __future__ import annotations

import pandas as pd

from napari_gaitint.cli import main


def test_cli_stats_names_missing_columns(tmp_path, capsys):
    csv = tmp_path / "bad.csv"
    pd.DataFrame({"trial": ["T1"], "view": ["C1"], "value": [1.0]}).to_csv(csv, index=False)
    assert main(["stats", str(csv), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "'bodypart', 'axis', 'pct'" in err and "bad.csv" in err
    assert not (tmp_path / "o").exists()
